"""855 Purchase Order Acknowledgments: queued once per PO version, and the partner's 997 for each followed.

An 855 says what the hub knows about an order: rejected (a target refused it: RJ, every line IR),
or accepted (every target took it), each line as its allocation against ATP decided
(``hub.inventory.line_decisions``: IA in stock, IB backordered with its ship date, IQ reduced, IR
rejected, by the partner's shortage policy; BAK02 AD, or AC where the partner's guide asks, when
every line is in stock or no stock was ever synced, AC otherwise). Price and date changes (IP/DR)
are built by ``mappings.x12.outbound`` from an explicit decision, but nothing decides them yet.

Gap-free control numbers: the 855's ISA13/GS06/ST02 come from the partner's series (the same as
its acks) inside the transaction that queues the document, after it passed validation against our
maps; a build that fails rolls back and gives its numbers back, and opens an ``outbound_invalid``
exception instead.

The partner's 997/999 for an 855 arrives as any file does; the intake matches its AK1 (GS01 PR and
our GS06) to the 855 and records the status (``hub.store._po_acks.apply_functional_ack``) instead of
filing it as an ``unsupported_transaction_set``; :func:`record_partner_functional_acks` does the
same for those filed before their 855 was recorded, and resolves the exception. A rejection (R or
P) opens ``outbound_rejected``. An 855 written and not answered within the partner's
``ack_sla_hours`` opens ``ack_overdue``, closed when the 997 comes.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from canonical.errors import FatalError
from hub import store as st
from hub.inventory import line_decisions
from hub.store._po_acks import (
    ErpVerdict,
    OrderToAcknowledge,
    apply_functional_ack,
    open_exceptions_of_kind,
    orders_to_acknowledge,
    po_acks_of,
    record_po_ack,
    unanswered_po_acks,
)
from hub.targets import delivery_targets
from mappings.profiles import PartnerDirectory, PartnerProfile, X12SftpChannel
from mappings.x12._855_fa import read_functional_ack
from mappings.x12._envelope import EnvelopeWalker
from mappings.x12.outbound import AckAddress, Acknowledgment, Envelope855, build_855, file_name_855, outbound_problems

log = logging.getLogger(__name__)

OUTBOUND_INVALID = st.ExceptionKind.OUTBOUND_INVALID
ACK_OVERDUE = st.ExceptionKind.ACK_OVERDUE
OUTBOUND_REJECTED = st.ExceptionKind.OUTBOUND_REJECTED
KIND = "855"
_MAX_CONTROL = 999_999_999


@dataclass
class AcknowledgmentSummary:
    """What one pass did (Dagster metadata)."""

    queued: list[str] = field(default_factory=list)
    """References of the 855s queued, e.g. ``855/acme/PO-1/r1``."""
    invalid: list[str] = field(default_factory=list)
    functional_acks: list[str] = field(default_factory=list)
    overdue: list[str] = field(default_factory=list)


def _channel(profile: PartnerProfile) -> X12SftpChannel | None:
    channel = profile.channel("x12_sftp")
    if isinstance(channel, X12SftpChannel) and channel.send_855 and profile.sftp is not None:
        return channel
    return None


def partners_sending_855(partners: PartnerDirectory) -> list[PartnerProfile]:
    """Partners whose profile asks for 855s (and has the folders to send them to)."""
    return [p for p in partners if _channel(p) is not None]


def reference_of(partner_id: str, po_number: str, revision: int) -> str:
    """Our own reference for the 855 of one PO version."""
    return f"855/{partner_id}/{po_number}/r{revision}"[:120]


def queue_po_acknowledgments(
    store: st.HubStore, partners: PartnerDirectory, *, now: dt.datetime | None = None,
    summary: AcknowledgmentSummary | None = None,
) -> AcknowledgmentSummary:
    """Queue an 855 for every PO version the partner's targets are done with and that has none (idempotent)."""
    summary = summary or AcknowledgmentSummary()
    now = now or st.utcnow()
    for profile in partners_sending_855(partners):
        with store.transaction() as conn:
            todo = orders_to_acknowledge(conn, partner_id=profile.id, targets=delivery_targets(profile))
        for item in todo:
            _queue_one(store, profile, item, now, summary)
    return summary


def queue_rejection_855(store: st.HubStore, partners: PartnerDirectory, order_id: int, *,
                        now: dt.datetime | None = None) -> str:
    """Queue the 855 RJ (every line IR) of an order a person rejected on approval, now; what happened, for the audit.

    The same pass as the scheduled one (``queue_po_acknowledgments`` for this partner), so the 855 is
    built, validated against our maps and numbered the same way, and queued once per PO version;
    the next ``edi_po_acknowledgments`` run writes it to the partner's outbound folder.
    """
    with store.transaction() as conn:
        stored = st.load_stored_order(conn, order_id)
    partner_id, reference = stored.order.partner_id, reference_of(stored.order.partner_id, stored.order.source_ref,
                                                                   stored.revision)
    profile = next((p for p in partners_sending_855(partners) if p.id == partner_id), None)
    if profile is None:
        return (f"not sent: {partner_id}'s profile does not ask for 855s (send_855); tell the partner another way")
    summary = queue_po_acknowledgments(store, PartnerDirectory([profile]), now=now)
    if reference in summary.invalid:
        return f"not sent: the 855 RJ {reference} fails validation against our maps (outbound_invalid exception)"
    with store.transaction() as conn:
        acks = [a for a in po_acks_of(conn, order_id=order_id) if a.revision == stored.revision]
    if not acks or acks[0].ack_type != "RJ":
        return f"not sent: no 855 RJ could be queued for {reference}"
    return (f"queued: 855 {reference} (BAK02 RJ, every line IR) for {partner_id}'s outbound folder, "
            "written by the next edi_po_acknowledgments run")


def orders_waiting_for_855(store: st.HubStore, partners: PartnerDirectory) -> list[dict[str, object]]:
    """Order revisions the targets are done with that have no 855 yet, for the partners that ask for them."""
    waiting: list[dict[str, object]] = []
    with store.transaction() as conn:
        for profile in partners_sending_855(partners):
            for item in orders_to_acknowledge(conn, partner_id=profile.id, targets=delivery_targets(profile)):
                waiting.append({"partner": profile.id, "order_id": item.order_id, "revision": item.revision,
                                "verdict": str(item.verdict)})
    return waiting


class _Invalid(Exception):
    def __init__(self, reason: str, reference: str, order_id: int) -> None:
        super().__init__(reason)
        self.reason, self.reference, self.order_id = reason, reference, order_id


def _queue_one(store: st.HubStore, profile: PartnerProfile, item: OrderToAcknowledge, now: dt.datetime,
               summary: AcknowledgmentSummary) -> None:
    channel = _channel(profile)
    assert channel is not None
    try:
        with store.transaction() as conn:
            stored = st.load_stored_order(conn, item.order_id)
            if stored.revision != item.revision:
                return  # changed since it was listed: the next pass acknowledges the new version
            order = stored.order
            reference = reference_of(profile.id, order.source_ref, item.revision)
            # Accepted: each line as its allocation decided (backordered, reduced, rejected...; hub.inventory).
            ack = (Acknowledgment.refused() if item.verdict is ErpVerdict.REFUSED
                   else Acknowledgment(lines=line_decisions(conn, item.order_id, profile.inventory, now=now),
                                       our_reference=item.our_reference))
            x12 = channel.x12
            numbers = [_control(conn, profile, kind) for kind in ("interchange", "group", "transaction")]
            envelope = Envelope855(
                ours=AckAddress(x12.us.isa_qualifier, x12.us.isa_id, x12.us.gs_id),
                theirs=AckAddress(x12.partner.isa_qualifier, x12.partner.isa_id, x12.partner.gs_id),
                version=x12.versions[0], interchange_control=numbers[0], group_control=numbers[1],
                set_control=numbers[2],
            )
            text = build_855(order, ack, envelope, now=now, accepted_code=channel.accepted_855_code)
            errors = outbound_problems(text)
            if errors:  # rolls back: the numbers are given back, nothing is queued
                raise _Invalid("; ".join(f"{p.location}: {p.message}" for p in errors[:3]), reference, item.order_id)
            outbound_id = st.queue_outbound(
                conn, partner_id=profile.id, kind=KIND, receipt_id=None, control_number=f"{numbers[0]:09d}",
                file_name=file_name_855(x12.partner.isa_id, numbers[0]), content=text, now=now)
            ack_type = text.split("BAK*", 1)[1].split("*", 2)[1]
            record_po_ack(conn, order_id=item.order_id, revision=item.revision, partner_id=profile.id,
                          reference=reference, outbound_id=outbound_id, ack_type=ack_type,
                          group_control=str(numbers[1]), set_control=f"{numbers[2]:04d}",
                          ack_due_hours=channel.ack_sla_hours, now=now)
            st.add_event(conn, item.order_id, "acknowledged",
                         {"document": KIND, "reference": reference, "bak02": ack_type, "revision": item.revision},
                         now=now)
            for earlier in open_exceptions_of_kind(conn, OUTBOUND_INVALID, partner_ids=[profile.id],
                                                   document_ref=reference):
                st.close_exception(conn, earlier.id, state=st.REPLAYED, now=now)
        summary.queued.append(reference)
    except _Invalid as exc:
        with store.transaction() as conn:
            st.open_exception(conn, channel="sftp", kind=OUTBOUND_INVALID, partner_id=profile.id,
                              order_id=exc.order_id, document_ref=exc.reference, now=now,
                              reason=f"the 855 built for it fails validation against our maps: {exc.reason}")
        summary.invalid.append(exc.reference)
    except IntegrityError:
        log.info("855 for order %s revision %s was queued by another run", item.order_id, item.revision)


def _control(conn, profile: PartnerProfile, kind: str) -> int:
    """The partner's next number of ``kind``, in the same series (and from the same start) as its acks."""
    x12 = profile.x12
    assert x12 is not None
    number = st.next_control_number(conn, profile.id, kind) + x12.first_control_number - 1
    if not 1 <= number <= _MAX_CONTROL:
        raise FatalError(f"control numbers for {profile.id}/{kind} are exhausted")
    return number


def _functional_acks_in(raw: bytes, document_ref: str) -> list[tuple[str, str, str]]:
    """(AK101, AK102, status) of the 997/999 at ``document_ref`` in an archived file."""
    found = []
    for ic in EnvelopeWalker(raw):
        for group in ic.groups:
            for tset in group.sets:
                if tset.locator.ref == document_ref and tset.id.strip() in ("997", "999"):
                    summary = read_functional_ack(tset.segments)
                    if summary is not None:
                        found.append((summary.functional_id, summary.group_control, summary.status))
    return found


def record_partner_functional_acks(
    store: st.HubStore, partners: PartnerDirectory, *, now: dt.datetime | None = None,
    summary: AcknowledgmentSummary | None = None,
) -> AcknowledgmentSummary:
    """Match 997/999s filed as unsupported sets to our 855s (the intake matches them as they arrive; this
    catches those it filed before the 855 they answer was recorded, e.g. received before an upgrade).

    A functional ack naming one of our 855 groups (AK101 PR, AK102 our GS06) records its status on
    the 855 and resolves the exception (``apply_functional_ack``). One that names nothing of ours
    stays in the queue for a person.
    """
    summary = summary or AcknowledgmentSummary()
    now = now or st.utcnow()
    partner_ids = [p.id for p in partners_sending_855(partners)]
    if not partner_ids:
        return summary
    with store.transaction() as conn:
        candidates = [e for e in open_exceptions_of_kind(conn, st.ExceptionKind.UNSUPPORTED_TRANSACTION_SET,
                                                         partner_ids=partner_ids)
                      if e.raw_sha256 and e.document_ref and e.partner_id
                      and ("set 997 " in e.reason or "set 999 " in e.reason)]
    for candidate in candidates:
        assert candidate.raw_sha256 and candidate.document_ref and candidate.partner_id
        with store.transaction() as conn:
            raw = st.raw_content(conn, candidate.raw_sha256)
            matched = [po_ack for fa in _functional_acks_in(raw, candidate.document_ref)
                       if (po_ack := apply_functional_ack(conn, partner_id=candidate.partner_id, functional_ack=fa,
                                                          document_ref=candidate.document_ref,
                                                          raw_sha256=candidate.raw_sha256, now=now)) is not None]
            if not matched:
                continue
            summary.functional_acks += [po_ack.reference for po_ack in matched]
            st.close_exception(conn, candidate.id, state=st.RESOLVED, now=now,
                               note="functional ack of our 855 " + ", ".join(a.reference for a in matched)
                               + ": recorded")
    return summary


def open_overdue_acks(
    store: st.HubStore, *, now: dt.datetime | None = None, summary: AcknowledgmentSummary | None = None,
) -> AcknowledgmentSummary:
    """An ``ack_overdue`` exception for every 855 written and not answered within its partner's SLA (idempotent)."""
    summary = summary or AcknowledgmentSummary()
    now = now or st.utcnow()
    with store.transaction() as conn:
        for po_ack, sent_at in unanswered_po_acks(conn):
            if sent_at is None or sent_at + dt.timedelta(hours=po_ack.ack_due_hours) > now:
                continue
            st.open_exception(
                conn, channel="sftp", kind=ACK_OVERDUE, partner_id=po_ack.partner_id, order_id=po_ack.order_id,
                document_ref=po_ack.reference, now=now,
                reason=f"no 997/999 from {po_ack.partner_id} for our 855 (GS06 {po_ack.group_control}) written "
                       f"{sent_at:%Y-%m-%d %H:%M} UTC: its ack SLA is {po_ack.ack_due_hours} h")
            summary.overdue.append(po_ack.reference)
    return summary
