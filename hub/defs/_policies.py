"""What every hub asset declares the same way: who owns it, how fresh a sync must be, which failures are retried.

Owners: the team that works the exception queue and answers the alerts (``team:ops``); one owner for
the whole hub because one team runs it (a partner's contact is in its profile, not in Dagster).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

from canonical.errors import RetriableError

OWNERS = ["team:ops"]

# Every hub job runs its steps in the run worker's own process. The multiprocess executor (Dagster's
# default) starts a Python process and loads the code location again for every step: a daemon-launched
# run for one partner file took 17-30 s that way, for about 1 s of work (benchmarks/latency.py measures
# it now). The steps of a run are sequential anyway
# (each waits for the one before), and a killed run is noticed and retried the same way
# (tests/faults/test_kill_dagster_run.py covers both executors).
EXECUTOR = dg.in_process_executor

# A sync runs every few minutes (its source's cron): a quarter of an hour without one is worth a look,
# an hour means orders are not coming in.
SYNC_FRESHNESS = dg.FreshnessPolicy.time_window(fail_window=dt.timedelta(hours=1),
                                                warn_window=dt.timedelta(minutes=15))

# Step retries for transient failures only (``RetriableError``: a server down or busy, a receipt
# claimed by another run), with exponential backoff or the server's Retry-After. A FatalError (bad
# configuration, a refused secret) is not retried here: it fails the step at once. Dagster's run
# retries (dagster_home/dagster.yaml) still catch what is left after these.
STEP_RETRIES = 3
BACKOFF_BASE_S = 5.0
BACKOFF_MAX_S = 120.0


def backoff_seconds(retry_number: int, retry_after: float | None = None) -> float:
    """Seconds before retry ``retry_number + 1``: the server's hint if it gave one, else 5 s, 10 s, 20 s... capped."""
    if retry_after is not None:
        return min(max(retry_after, 0.0), BACKOFF_MAX_S)
    return min(BACKOFF_BASE_S * 2 ** retry_number, BACKOFF_MAX_S)


@contextmanager
def retry_when_retriable(context: dg.AssetExecutionContext) -> Iterator[None]:
    """Turn a ``RetriableError`` raised inside into a step retry (``dg.RetryRequested``) with backoff."""
    try:
        yield
    except RetriableError as exc:
        wait = backoff_seconds(context.retry_number, exc.retry_after)
        context.log.warning(f"retriable failure, retry {context.retry_number + 1}/{STEP_RETRIES} in {wait:.0f} s: "
                            f"{exc}")
        raise dg.RetryRequested(max_retries=STEP_RETRIES, seconds_to_wait=wait) from exc
