"""The outbox sensor of a target: the next push starts as soon as work is left, not on the next 10-minute cron.

A push drains the outbox until nothing is due or its time budget is spent (``_drain.py``). When
deliveries are still waiting (the budget ran out on a 10,000-order file, an order was queued after
the last pass), this sensor asks for a run of the target's push job, one at a time: never while a
run of that job is queued or running.
"""

import dagster as dg

from hub import store as st
from hub.defs.erp.assets import CHECK_SCOPE_TAG, RUN_SCOPE
from hub.defs.resources import HubStoreResource

# A run of the push job in any of these states is on the work already.
_ACTIVE = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
           dg.DagsterRunStatus.STARTED]


def outbox_sensor(target: str, job_name: str, *, interval_seconds: int = 15) -> dg.SensorDefinition:
    """``<target>_outbox``: asks for a ``job_name`` run while deliveries to ``target`` are pending and none runs.

    Its cursor counts the runs it asked for; the run key is ``<target>:outbox:<count>``. The run checks
    only the orders it delivered (``hub/check_scope=run``). Deliveries waiting for a retry after a
    failure are due later (backoff): the push job's schedule and later pushes take them.
    """

    @dg.sensor(name=f"{target}_outbox", job_name=job_name, minimum_interval_seconds=interval_seconds,
               default_status=dg.DefaultSensorStatus.RUNNING,
               description=f"Starts {job_name} while deliveries to {target} are pending and no push of it runs.")
    def _sensor(context: dg.SensorEvaluationContext, hub_store: HubStoreResource):
        with hub_store.store().transaction() as conn:
            pending = st.deliveries_by_state(conn, target).get(st.PENDING, 0)
        if not pending:
            return dg.SkipReason(f"nothing pending for {target}")
        if context.instance.get_run_records(dg.RunsFilter(job_name=job_name, statuses=_ACTIVE), limit=1):
            return dg.SkipReason(f"{pending} deliveries pending; a {job_name} run is on them")
        count = int(context.cursor or 0) + 1
        context.update_cursor(str(count))
        return dg.RunRequest(run_key=f"{target}:outbox:{count}",
                             tags={CHECK_SCOPE_TAG: RUN_SCOPE, "hub/trigger": "outbox"})

    return _sensor
