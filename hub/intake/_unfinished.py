"""Receipts whose intake never finished: found for the sensors to offer again, or given up on into the queue."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from hub import store as st

INTAKE_NOT_FINISHED = st.ExceptionKind.INTAKE_NOT_FINISHED
_DOCUMENT_REF_MAX = 120  # exceptions.document_ref


def unfinished_receipts(
    store: st.HubStore, *, channel: str, received_before: dt.datetime, partner_id: str | None = None,
    skip: Collection[int] = (), limit: int = 100,
) -> list[st.Receipt]:
    """Receipts still not processed, received before ``received_before`` and not given up on; oldest first."""
    with store.transaction() as conn:
        return st.unfinished_receipts(conn, channel=channel, partner_id=partner_id, received_before=received_before,
                                      skip_kind=INTAKE_NOT_FINISHED, skip_ids=frozenset(skip), limit=limit)


def give_up_on_receipt(store: st.HubStore, receipt: st.Receipt, *, what: str, ref: str, runs: int,
                       now: dt.datetime) -> int:
    """Queue the ``intake_not_finished`` exception for a receipt whose runs kept ending unprocessed."""
    reason = (f"{what} was received but {runs} intake runs ended without processing it; it is not offered again "
              f"automatically: look at those runs (tag receipt={receipt.id}), fix the cause, then replay this "
              "exception")
    with store.transaction() as conn:
        return st.open_exception(conn, channel=receipt.channel, kind=INTAKE_NOT_FINISHED, reason=reason,
                                 partner_id=receipt.partner_id, receipt_id=receipt.id, raw_sha256=receipt.raw_sha256,
                                 document_ref=ref[:_DOCUMENT_REF_MAX], now=now)
