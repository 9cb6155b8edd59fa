"""Offering again the receipts whose runs ended without processing them (issue 8: nothing stuck).

A sensor moves its cursor as soon as it has asked for a run. If that run is killed, lost, or fails
after Dagster's own retries, the receipt stays ``received`` and no tick asks again. Every sensor
that turns receipts into runs calls :func:`receipts_to_offer_again` on each tick: it looks at the
channel's receipts still ``received`` and at the Dagster runs tagged for each, and says which to
ask a run for again, under a run key of its own per attempt. It never doubles a run queued or
running, nor Dagster's own pending retry, and after the last attempt it queues an
``intake_not_finished`` exception instead (a replay processes the archived body).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import dagster as dg

from hub import store as st
from hub.intake import give_up_on_receipt, unfinished_receipts

# Only these statuses mean a run is over; any other (queued, starting, started, canceling, ...) is on it.
_ENDED = frozenset({dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.CANCELED})


def receipt_tag(receipt_id: int) -> str:
    """The run tag key ``hub.receipt/<id>`` a run carries for each receipt it was given (value ``1``).

    One key per receipt, because a run carries several: Dagster finds runs by tag key and value.
    """
    return f"hub.receipt/{receipt_id}"


@dataclass(frozen=True)
class ReofferPolicy:
    """When a receipt is offered again, and how often."""

    grace: dt.timedelta = dt.timedelta(minutes=10)
    """Since its last run ended (or, with no run at all, since it was received): Dagster's run
    retries and run monitoring get their chance first, and the daemon time to launch a request."""
    max_runs: int = 5
    """Runs (the sensor's and Dagster's retries) after which it goes to the exception queue instead."""
    limit: int = 100
    """Receipts looked at per tick, oldest first (a backlog is worked through over several ticks)."""


@dataclass(frozen=True)
class Reoffer:
    """A receipt to ask a run for again."""

    receipt: st.Receipt
    runs: int
    """Runs tagged for it so far, all ended without processing it."""
    run_key: str
    """``<key_prefix>:<receipt id>:retry-<runs>``: the same on every tick until a run for it exists."""


def receipts_to_offer_again(
    instance: dg.DagsterInstance,
    store: st.HubStore,
    *,
    channel: str,
    key_prefix: str,
    run_tags: Callable[[st.Receipt], Mapping[str, str] | Sequence[Mapping[str, str]]],
    describe: Callable[[st.Receipt], str],
    document_ref: Callable[[st.Receipt], str] | None = None,
    partner_id: str | None = None,
    job_name: str | None = None,
    skip: Collection[int] = (),
    policy: ReofferPolicy = ReofferPolicy(),
    now: dt.datetime | None = None,
) -> list[Reoffer]:
    """The channel's (or one partner's) unprocessed receipts to offer again; gives up on those out of attempts.

    ``run_tags(receipt)`` are the tags the sensor puts on that receipt's runs (Dagster's retries keep
    them), or a list of such sets (a run carrying any of them counts): the runs carrying them, of
    ``job_name`` if given, are its attempts. ``skip``: receipts
    the caller asks a first run for on this tick. ``describe(receipt)`` names it in the exception's
    reason, ``document_ref(receipt)`` in its document column (default: the same); no personal data.
    """
    now = now or st.utcnow()
    offers = []
    for receipt in unfinished_receipts(store, channel=channel, partner_id=partner_id,
                                       received_before=now - policy.grace, skip=skip, limit=policy.limit):
        records = _runs_tagged(instance, job_name, run_tags(receipt))
        if any(r.dagster_run.status not in _ENDED or r.dagster_run.is_complete_and_waiting_to_retry
               for r in records):
            continue  # a run (or Dagster's retry of one) is on it: never double it
        last = max((_ended_at(r) for r in records), default=_as_utc(receipt.received_at))
        if now - last < policy.grace:
            continue
        if len(records) >= policy.max_runs:
            give_up_on_receipt(store, receipt, what=describe(receipt), ref=(document_ref or describe)(receipt),
                               runs=len(records), now=now)
            continue
        offers.append(Reoffer(receipt, len(records), f"{key_prefix}:{receipt.id}:retry-{len(records)}"))
    return offers


def _runs_tagged(instance: dg.DagsterInstance, job_name: str | None,
                 tags: Mapping[str, str] | Sequence[Mapping[str, str]]) -> list:
    """Run records carrying every tag of ``tags`` (or of any one set of a list), each run once."""
    filters = [tags] if isinstance(tags, Mapping) else list(tags)
    found = {}
    for wanted in filters:
        for record in instance.get_run_records(dg.RunsFilter(job_name=job_name, tags=dict(wanted))):
            found[record.dagster_run.run_id] = record
    return list(found.values())


def _ended_at(record) -> dt.datetime:
    if record.end_time is not None:
        return dt.datetime.fromtimestamp(record.end_time, tz=dt.UTC)
    return _as_utc(record.update_timestamp)


def _as_utc(moment: dt.datetime) -> dt.datetime:
    # SQLite hands timestamps back naive (they were written in UTC).
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)
