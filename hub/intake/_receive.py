"""Receiving: raw bytes are archived and a receipt is recorded before anything parses them."""

from __future__ import annotations

import datetime as dt

from canonical.errors import RejectedDocument
from hub import store as st


def receive_document(
    store: st.HubStore, *, channel: str, partner_id: str, source_name: str, data: bytes, max_bytes: int,
    now: dt.datetime | None = None,
) -> st.Receipt:
    """Archive ``data`` (content addressed, immutable) and record its arrival; idempotent."""
    if len(data) > max_bytes:
        raise RejectedDocument(f"document is {len(data)} bytes, over the {max_bytes} byte limit", location=source_name)
    now = now or st.utcnow()
    with store.transaction() as conn:
        sha = st.archive_raw(conn, data, now=now)
        return st.record_receipt(conn, channel=channel, partner_id=partner_id, source_name=source_name,
                                 raw_sha256=sha, now=now)
