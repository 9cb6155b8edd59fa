"""Dagster concurrency pools per external system instance: ``sftp_<partner>`` per partner, one per target.

An op's ``pool=`` is fixed when the op is defined, but one intake asset (and one ack asset) serves
every partner: which partner a run works for is known only from its receipts. So those steps take
their partner's pool slot themselves, through the same instance machinery Dagster's executor uses
for ``pool=`` (``InstanceConcurrencyContext``): the limits are the instance's
(``dagster instance concurrency set sftp_acme 2``, ``concurrency.pools.default_limit`` in
``dagster.yaml``), the UI's Concurrency page shows who holds a slot, and run monitoring frees the
slots of a run that died (``free_slots_after_run_end_seconds``). Different partners run side by side,
one partner's runs one at a time (with the default limit 1).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

import dagster as dg
from dagster._core.execution.plan.instance_concurrency_context import InstanceConcurrencyContext

from mappings.profiles import PartnerProfile

# How often a step waiting for a slot says so in its log.
_WAIT_LOG_EVERY_S = 60.0


def sftp_pool(profile: PartnerProfile) -> str:
    """The pool of the partner's SFTP work: its profile's ``sftp.pool`` if set, else ``sftp_<partner>``."""
    folders = profile.sftp
    return (folders.pool if folders is not None and folders.pool else None) or f"sftp_{profile.id}"


@contextmanager
def pool_slot(instance: dg.DagsterInstance, run: dg.DagsterRun, step_key: str, pool: str,
              log=None, *, poll_s: float = 0.25) -> Iterator[None]:
    """Hold one slot of Dagster pool ``pool`` for this step inside the block; wait for one first.

    The claim is made under ``<step>[<pool>]`` so it never mixes with a slot the executor holds for
    the step itself. With ``concurrency.pools.granularity: run`` (or a storage without pools) it
    returns at once, as Dagster does for ``pool=``.
    """
    claim_key = f"{step_key}[{pool}]"
    with InstanceConcurrencyContext(instance, run) as claims:
        started = last_log = time.monotonic()
        while not claims.claim(pool, claim_key):
            if log is not None and time.monotonic() - last_log >= _WAIT_LOG_EVERY_S:
                log.info(f"waiting for a slot of pool {pool} ({time.monotonic() - started:.0f} s so far)")
                last_log = time.monotonic()
            time.sleep(poll_s)
        try:
            yield
        finally:
            claims.free_step(claim_key)


def step_pool_slot(context: dg.AssetExecutionContext, pool: str) -> AbstractContextManager[None]:
    """``pool_slot`` for the step ``context`` runs."""
    step = context.get_step_execution_context().step.key
    return pool_slot(context.instance, context.run, step, pool, context.log)
