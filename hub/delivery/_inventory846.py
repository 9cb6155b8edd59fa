"""846 Inventory Inquiry/Advice to X12 partners that ask for it (``send_846`` in their x12_sftp channel).

Each pass compares every SKU's ``max(0, floor(ATP) - safety_stock)`` (``hub.inventory.atp_by_sku``, the
channel's ``safety_stock``) with what the partner was last told (``published_stock``, channel ``x12``)
and queues one 846 with the SKUs whose quantity changed (each LIN's QTY is the absolute quantity), or
nothing when none did. The 846 is built (``mappings.x12._846``) and checked against our 846 map and the
envelope rules in the transaction that takes its control numbers from the partner's series (gap-free,
the acks' series) and records what it says: a document that fails rolls everything back (the numbers
are given back) and the pass raises. The ack sender writes it to the partner's outbound folder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hub import store as st
from hub.delivery._acks855 import _control
from hub.delivery._invoices810 import partner_codes
from hub.inventory import atp_by_sku
from hub.inventory._allocate import ZERO
from hub.inventory._publish import due_quantities
from hub.store._published_stock import PublishedStock, published_stock_of, record_published_stock
from mappings.profiles import PartnerDirectory, PartnerProfile, X12SftpChannel
from mappings.x12._846 import Envelope846, StockItem, build_846, file_name_846
from mappings.x12.outbound import AckAddress, outbound_problems

KIND = "846"
CHANNEL = "x12"  # published_stock's channel for what 846s said


@dataclass
class AdviceSummary:
    """What one pass did (Dagster metadata)."""

    queued: dict[str, int] = field(default_factory=dict)  # partner -> SKUs in its 846
    unchanged: list[str] = field(default_factory=list)  # partners with nothing to tell
    no_snapshot: bool = False


def _channel(profile: PartnerProfile) -> X12SftpChannel | None:
    channel = profile.channel("x12_sftp")
    if isinstance(channel, X12SftpChannel) and channel.send_846 and channel.sftp is not None:
        return channel
    return None


def partners_sending_846(partners: PartnerDirectory) -> list[PartnerProfile]:
    """Partners whose profile asks for 846s (and has the folders to send them to)."""
    return [p for p in partners if _channel(p) is not None]


def safety_stock_846(profile: PartnerProfile) -> int:
    """The units per SKU held back from the partner's 846s."""
    channel = _channel(profile)
    return channel.safety_stock if channel is not None else 0


def queue_inventory_846(store: st.HubStore, partners: PartnerDirectory, *,
                        now: dt.datetime | None = None) -> AdviceSummary:
    """Queue an 846 for each partner asking for one whose SKUs' quantities changed since its last (idempotent)."""
    summary = AdviceSummary()
    sending = partners_sending_846(partners)
    if not sending:
        return summary
    atp = atp_by_sku(store)
    if not atp:  # no stock snapshot: an 846 would zero every SKU the partner was told about
        summary.no_snapshot = True
        return summary
    now = now or st.utcnow()
    for profile in sending:
        count = _queue_one(store, profile, atp, now)
        if count:
            summary.queued[profile.id] = count
        else:
            summary.unchanged.append(profile.id)
    return summary


def _queue_one(store: st.HubStore, profile: PartnerProfile, atp: dict, now: dt.datetime) -> int:
    channel = _channel(profile)
    assert channel is not None  # noqa: S101 - only partners with the channel are listed
    x12 = channel.x12
    with store.transaction() as conn:  # numbers, document and record together, or none of them
        due = due_quantities(atp, published_stock_of(conn, CHANNEL, profile.id), channel.safety_stock)
        if not due:
            return 0
        numbers = [_control(conn, profile, kind) for kind in ("interchange", "group", "transaction")]
        envelope = Envelope846(
            ours=AckAddress(x12.us.isa_qualifier, x12.us.isa_id, x12.us.gs_id),
            theirs=AckAddress(x12.partner.isa_qualifier, x12.partner.isa_id, x12.partner.gs_id),
            version=x12.versions[0], interchange_control=numbers[0], group_control=numbers[1],
            set_control=numbers[2])
        reference = f"846/{profile.id}/{numbers[0]}"
        text = build_846([StockItem(sku, quantity) for sku, quantity in due.items()], envelope, reference=reference,
                         now=now, sku_qualifier=partner_codes(profile).sku)
        errors = outbound_problems(text)
        if errors:  # raising rolls back: the numbers are given back, nothing is queued or recorded
            raise ValueError(f"the 846 for {profile.id} fails validation against our maps: "
                             + "; ".join(f"{p.location}: {p.message}" for p in errors[:3]))
        st.queue_outbound(conn, partner_id=profile.id, kind=KIND, receipt_id=None, control_number=f"{numbers[0]:09d}",
                          file_name=file_name_846(x12.partner.isa_id, numbers[0]), content=text, now=now)
        record_published_stock(conn, CHANNEL, profile.id, [
            PublishedStock(sku, quantity, atp.get(sku, ZERO), channel.safety_stock, "set", now)
            for sku, quantity in due.items()])
    return len(due)


def quantities_told(store: st.HubStore, profile: PartnerProfile) -> dict[str, int]:
    """What the partner's 846s say now per SKU (for tests and people)."""
    with store.transaction() as conn:
        return {sku: row.quantity for sku, row in published_stock_of(conn, CHANNEL, profile.id).items()}

