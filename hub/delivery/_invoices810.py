"""810 Invoices to partners that ask for them (``send_810``): one per posted invoice, and its 997 followed.

An 810 is queued for every invoice and credit note the accounting target posted (``hub.accounting``) for a
partner whose x12_sftp channel has ``send_810: true``. Only posted ones: an invoice held by the three-way
match (``hub.accounting._gate``) is neither posted nor sent until a person releases it or a re-match finds
it within tolerance, and its 810 follows the posting.

Once per invoice (``invoices_810`` is unique on it, and our reference ``810/<invoice reference>`` too): a
re-run finds the row and queues nothing. The 810 is built (``mappings.x12._810.build_810``) and
checked against our 810 map and the envelope rules before it is queued, in the transaction that takes its
control numbers from the partner's series (gap-free, the acks' and 855s' series): one that fails rolls back,
gives the numbers back and opens ``outbound_invalid``. The queued document is written to the partner's
outbound folder by the ack sender (``send_pending_acks``), which checks it against the maps again.

The partner's 997/999 for it (AK101 IN, AK102 our GS06) is matched by the intake as it arrives
(``hub.store._ack_sla.apply_outbound_functional_ack``); an 810 written and not answered within the
partner's ``ack_sla_hours`` opens ``ack_overdue``, closed when the 997 comes; a rejection opens
``outbound_rejected``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy.exc import IntegrityError

from hub import store as st
from hub.delivery._acks855 import _control, open_overdue_outbound
from hub.store._invoices810 import (
    invoices_without_810,
    is_first_invoice,
    record_invoice_810,
)
from hub.targets import InvoiceKind
from mappings.profiles import PartnerDirectory, PartnerProfile, X12SftpChannel
from mappings.x12._810 import Envelope810, Invoice810, InvoicedLine, PartnerCodes, build_810, file_name_810
from mappings.x12.outbound import AckAddress, outbound_problems

log = logging.getLogger(__name__)

KIND = "810"


@dataclass
class InvoiceSummary:
    """What one pass did (Dagster metadata)."""

    queued: list[str] = field(default_factory=list)
    """References of the 810s queued, e.g. ``810/orderhub:acme:PO-1/1``."""
    invalid: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)


def _channel(profile: PartnerProfile) -> X12SftpChannel | None:
    channel = profile.channel("x12_sftp")
    if isinstance(channel, X12SftpChannel) and channel.send_810 and profile.sftp is not None:
        return channel
    return None


def partners_sending_810(partners: PartnerDirectory) -> list[PartnerProfile]:
    """Partners whose profile asks for 810s (and has the folders to send them to)."""
    return [p for p in partners if _channel(p) is not None]


def reference_of(invoice: st.StoredInvoice) -> str:
    """Our own reference for the 810 of one accounting invoice."""
    return f"810/{invoice.reference}"[:220]


def partner_codes(profile: PartnerProfile) -> PartnerCodes:
    """The product-id qualifiers and units the partner's 850s use (its first of each; units mapped back)."""
    x12 = profile.x12
    assert x12 is not None  # noqa: S101 - a partner with an x12_sftp channel has X12 settings
    return PartnerCodes(sku=(x12.sku_qualifiers or ["VN"])[0], buyer_part=(x12.buyer_part_qualifiers or ["BP"])[0],
                        gtin=tuple(x12.gtin_qualifiers), uom={ours: theirs for theirs, ours in x12.uom_map.items()})


def _document(invoice: st.StoredInvoice, first: bool) -> Invoice810:
    lines = tuple(InvoicedLine(str(row["line_no"]), Decimal(row["quantity"]), Decimal(row["unit_price"]))
                  for row in invoice.lines)
    credit = invoice.kind == InvoiceKind.CREDIT_NOTE
    return Invoice810(number=invoice.record or invoice.reference, date=invoice.updated_at.date(), lines=lines,
                      credit=credit, order_charges=first and not credit)


def queue_invoices_810(
    store: st.HubStore, partners: PartnerDirectory, *, now: dt.datetime | None = None,
    summary: InvoiceSummary | None = None,
) -> InvoiceSummary:
    """Queue an 810 for every posted invoice of the partners that ask for them and have none (idempotent)."""
    summary = summary or InvoiceSummary()
    now = now or st.utcnow()
    for profile in partners_sending_810(partners):
        with store.transaction() as conn:
            todo = invoices_without_810(conn, partner_ids=[profile.id])
        for invoice in todo:
            _queue_one(store, profile, invoice, now, summary)
    return summary


def invoices_waiting_for_810(store: st.HubStore, partners: PartnerDirectory) -> list[dict[str, object]]:
    """Posted invoices with no 810 yet, for the partners that ask for them (an asset check reads it)."""
    ids = [p.id for p in partners_sending_810(partners)]
    with store.transaction() as conn:
        return [{"partner": i.partner_id, "po_number": i.po_number, "invoice": i.reference}
                for i in invoices_without_810(conn, partner_ids=ids)]


class _Invalid(Exception):
    pass


def _queue_one(store: st.HubStore, profile: PartnerProfile, invoice: st.StoredInvoice, now: dt.datetime,
               summary: InvoiceSummary) -> None:
    channel = _channel(profile)
    assert channel is not None  # noqa: S101 - only partners with the channel are listed
    reference = reference_of(invoice)
    try:
        with store.transaction() as conn:
            assert invoice.order_id is not None  # noqa: S101 - invoices_without_810 lists only those with an order
            order = st.load_stored_order(conn, invoice.order_id).order
            x12 = channel.x12
            numbers = [_control(conn, profile, kind) for kind in ("interchange", "group", "transaction")]
            envelope = Envelope810(
                ours=AckAddress(x12.us.isa_qualifier, x12.us.isa_id, x12.us.gs_id),
                theirs=AckAddress(x12.partner.isa_qualifier, x12.partner.isa_id, x12.partner.gs_id),
                version=x12.versions[0], interchange_control=numbers[0], group_control=numbers[1],
                set_control=numbers[2])
            document = _document(invoice, is_first_invoice(conn, invoice))
            try:
                text = build_810(order, document, envelope, now=now, codes=partner_codes(profile))
            except ValueError as exc:  # an invoiced line the order does not have
                raise _Invalid(str(exc)) from exc
            errors = outbound_problems(text)
            if errors:  # rolls back: the numbers are given back, nothing is queued
                raise _Invalid("; ".join(f"{p.location}: {p.message}" for p in errors[:3]))
            outbound_id = st.queue_outbound(
                conn, partner_id=profile.id, kind=KIND, receipt_id=None, control_number=f"{numbers[0]:09d}",
                file_name=file_name_810(x12.partner.isa_id, numbers[0]), content=text, now=now)
            record_invoice_810(conn, invoice_id=invoice.id, partner_id=profile.id, reference=reference,
                               outbound_id=outbound_id, invoice_number=document.number,
                               group_control=str(numbers[1]), set_control=f"{numbers[2]:04d}",
                               ack_due_hours=channel.ack_sla_hours, now=now)
            st.add_event(conn, invoice.order_id, "invoice_810_queued",
                         {"document": KIND, "reference": reference, "invoice": document.number}, now=now)
            earlier = st.open_invoice_exception(conn, kind=st.ExceptionKind.OUTBOUND_INVALID, reference=reference)
            if earlier is not None:
                st.close_exception(conn, earlier, state=st.REPLAYED, now=now)
        summary.queued.append(reference)
    except _Invalid as exc:
        with store.transaction() as conn:
            st.open_exception(conn, channel="sftp", kind=st.ExceptionKind.OUTBOUND_INVALID, partner_id=profile.id,
                              order_id=invoice.order_id, document_ref=reference, now=now,
                              reason=f"the 810 built for invoice {invoice.record or invoice.reference} fails "
                                     f"validation against our maps: {exc}")
        summary.invalid.append(reference)
    except IntegrityError:
        log.info("810 for invoice %s was queued by another run", invoice.id)


def open_overdue_invoice_acks(
    store: st.HubStore, *, now: dt.datetime | None = None, summary: InvoiceSummary | None = None,
) -> InvoiceSummary:
    """An ``ack_overdue`` exception for every 810 written and not answered within its partner's SLA (idempotent)."""
    summary = summary or InvoiceSummary()
    summary.overdue += open_overdue_outbound(store, ("810",), now=now)
    return summary
