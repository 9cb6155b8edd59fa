"""What the API sources share: an archived body mapped again through the intake, in one place."""

from __future__ import annotations

import datetime as dt

from canonical.outcomes import ReceiptOutcome
from hub import store as st
from hub.intake import ChannelSummary, process_queued_receipt
from hub.sources._protocol import MapArchived
from mappings.profiles import PartnerDirectory

CLEAN_OUTCOMES = frozenset({ReceiptOutcome.ACCEPTED})
"""An API body's receipt outcomes that need nobody (partially_accepted, rejected, failed come with an exception)."""



def map_receipt_again(store: st.HubStore, partners: PartnerDirectory, receipt_id: int, map_orders: MapArchived, *,
                      now: dt.datetime) -> str:
    """Map an archived API body again and store what changed; what it did, in words."""
    summary = ChannelSummary()
    process_queued_receipt(store, receipt_id, map_orders, summary, now=now, replay=True, partners=partners)
    return f"mapped again: {summary.orders_new} new, {summary.orders_updated} updated"
