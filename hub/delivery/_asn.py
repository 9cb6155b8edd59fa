"""856 ship notices: one per done ERP delivery of an order, to partners whose profile has an ``asn`` section.

When the warehouse validates a delivery in the ERP (Odoo ``stock.picking`` done), the next pass
reads it (its move lines: products, quantities, packages; its tracking reference and weight) and
queues an 856 for it: one carton per package with a new SSCC-18 from our GS1 prefix, the lines
matched to the order by SKU (else GTIN). Where our carrier target bought the order's label, its
tracking code and carrier (as a SCAC through the routing's ``scac_carriers``) win over the ERP's.

Once per delivery: ``asn_notices`` is unique on (partner, picking), so a re-run queues nothing
twice. Gap-free numbers: ISA13/GS06/ST02 (the partner's series, shared with its acks and 855s)
and the SSCC serials (one series per extension digit and company prefix, in ``control_numbers``)
are taken inside the transaction that queues the document, after it passed our maps and pyx12's
envelope reader; a build that fails rolls back, gives them back and opens ``outbound_invalid``.
The document is written to the partner's outbound folder by the same sender as the acks and 855s.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from canonical.errors import FatalError
from canonical.model import Order
from connectors.erp._pickings import PickedQuantity, Picking
from hub import store as st
from hub.delivery._acks855 import _control
from hub.store._asns import orders_awaiting_asn, pickings_with_asn, record_asn, reserve_serials
from hub.store._po_acks import open_exceptions_of_kind
from hub.store._shipments import ShipmentState, shipment_by_reference
from hub.targets.carrier import label_reference
from mappings.asn_settings import AsnSettings
from mappings.profiles import PartnerDirectory, PartnerProfile, X12SftpChannel
from mappings.x12._856 import Carton, CartonItem, Envelope856, ShipNotice, build_856, file_name_856
from mappings.x12._856_check import asn_problems
from mappings.x12._acks import AckAddress
from mappings.x12._sscc import serial_capacity, sscc

log = logging.getLogger(__name__)

KIND = "856"
OUTBOUND_INVALID = st.ExceptionKind.OUTBOUND_INVALID
_LOOSE = ""  # the carton of a delivery's quantities not put in any package
CHUNK = 100
"""Deliveries queued per transaction."""
PAGE = 500
"""Orders read from the store, and their deliveries from the ERP, at a time."""


class DoneDeliveries(Protocol):
    """What the ASN pass needs of the ERP (``connectors.erp._pickings.OdooPickings`` provides it)."""

    def done_deliveries(self, sale_order_ids: Sequence[int]) -> dict[int, list[Picking]]: ...


@dataclass
class AsnSummary:
    """What one pass did (Dagster metadata)."""

    queued: list[str] = field(default_factory=list)
    """References of the 856s queued, e.g. ``856/acme/PO-1/WH/OUT/00012``."""
    invalid: list[str] = field(default_factory=list)


def asn_settings(profile: PartnerProfile) -> AsnSettings | None:
    """The partner's 856 settings, when it wants 856s and has folders to receive them."""
    channel = profile.channel("x12_sftp")
    if isinstance(channel, X12SftpChannel) and channel.asn is not None and profile.sftp is not None:
        return channel.asn
    return None


def partners_sending_856(partners: PartnerDirectory) -> list[PartnerProfile]:
    """Partners whose profile asks for 856s."""
    return [p for p in partners if asn_settings(p) is not None]


def erp_target(profile: PartnerProfile) -> str | None:
    """The name of the partner's ERP target (the first of kind ``odoo``): where its deliveries are read."""
    return next((t.name for t in profile.targets if t.kind == "odoo"), None)


def reference_of(partner_id: str, po_number: str, picking_name: str) -> str:
    """Our own reference for the 856 of one delivery."""
    return f"856/{partner_id}/{po_number}/{picking_name}"[:200]


_Unsent = tuple[int, Picking, list[Picking]]
"""An order id, one of its done deliveries that has no 856, and all its done deliveries."""


def _unsent_deliveries(store: st.HubStore, profile: PartnerProfile, erp: DoneDeliveries) -> Iterator[list[_Unsent]]:
    """Done ERP deliveries without an 856, one list per page of orders awaiting them (every page, oldest first:
    orders that never ship, or wait long, cannot starve newer ones)."""
    target = erp_target(profile)
    after = 0
    while target is not None:
        with store.transaction() as conn:
            page = orders_awaiting_asn(conn, partner_id=profile.id, target=target, after_id=after, limit=PAGE)
        if not page:
            return
        after = page[-1].order_id
        found = erp.done_deliveries([item.sale_order_id for item in page if item.sale_order_id is not None])
        todo = [(item.order_id, picking, found[item.sale_order_id])
                for item in page if item.sale_order_id in found for picking in found[item.sale_order_id]]
        with store.transaction() as conn:
            sent = pickings_with_asn(conn, partner_id=profile.id, picking_ids=[picking.id for _, picking, _ in todo])
        yield [entry for entry in todo if entry[1].id not in sent]
        if len(page) < PAGE:
            return


def queue_ship_notices(store: st.HubStore, partners: PartnerDirectory, erp: DoneDeliveries, *,
                       now: dt.datetime | None = None, summary: AsnSummary | None = None) -> AsnSummary:
    """Queue an 856 for every done delivery of a partner's order that has none (idempotent).

    Deliveries are queued ``CHUNK`` to a transaction, each in its own savepoint: one that fails
    rolls back alone (its numbers given back) and the commit is paid once per chunk, not per 856.
    """
    summary = summary or AsnSummary()
    now = now or st.utcnow()
    for profile in partners_sending_856(partners):
        for todo in _unsent_deliveries(store, profile, erp):
            for start in range(0, len(todo), CHUNK):
                with store.transaction() as conn:
                    # Exceptions of earlier passes that cannot be told, closed when their 856 goes out now.
                    failed = {e.document_ref: e.id for e in open_exceptions_of_kind(
                        conn, OUTBOUND_INVALID, partner_ids=[profile.id], limit=100_000) if e.document_ref}
                    for order_id, picking, pickings in todo[start : start + CHUNK]:
                        _queue_one(conn, profile, order_id, picking, pickings, now, summary, failed)
    return summary


def deliveries_without_asn(store: st.HubStore, partners: PartnerDirectory, erp: DoneDeliveries
                           ) -> list[dict[str, object]]:
    """Done ERP deliveries of partners that want 856s that have no 856 (the reconciliation check)."""
    return [{"partner": profile.id, "order_id": order_id, "delivery": picking.name}
            for profile in partners_sending_856(partners)
            for todo in _unsent_deliveries(store, profile, erp) for order_id, picking, _ in todo]


class _Invalid(Exception):
    pass


class _Lines:
    """The order's lines a delivered product is counted against: by SKU (``default_code``), else GTIN (``barcode``).

    Two lines of one product are filled in line order up to what each ordered (earlier deliveries
    counted first); whatever is left goes to the last of them.
    """

    def __init__(self, order: Order) -> None:
        self.left = {line.line_no: line.quantity for line in order.lines}
        self.by_sku: dict[str, list[str]] = {}
        self.by_gtin: dict[str, list[str]] = {}
        for line in order.lines:
            if line.sku:
                self.by_sku.setdefault(line.sku, []).append(line.line_no)
            if line.gtin:
                self.by_gtin.setdefault(line.gtin, []).append(line.line_no)

    def take(self, content: PickedQuantity) -> list[tuple[str, Decimal]]:
        """(line number, quantity) of the lines ``content`` ships; empty when no line has the product."""
        candidates = self.by_sku.get(content.default_code) or self.by_gtin.get(content.barcode) or []
        taken, quantity = [], content.quantity
        for position, line_no in enumerate(candidates):
            part = quantity if position == len(candidates) - 1 else min(quantity, max(self.left[line_no], Decimal(0)))
            if part > 0:
                taken.append((line_no, part))
                self.left[line_no] -= part
                quantity -= part
        return taken

    def counted(self, pickings: list[Picking]) -> _Lines:
        """These deliveries taken (oldest first), e.g. those before the one being told."""
        for picking in sorted(pickings, key=lambda p: p.id):
            for content in picking.contents:
                self.take(content)
        return self


def _cartons(order: Order, picking: Picking, pickings: list[Picking], serials: list[str]) -> tuple[Carton, ...]:
    """One carton per package of the delivery, its quantities counted against the order's lines."""
    lines = _Lines(order).counted([p for p in pickings if p.id < picking.id])
    packages: dict[str, dict[str, Decimal]] = {}
    for content in picking.contents:
        taken = lines.take(content)
        if not taken:
            raise _Invalid(f"delivery {picking.name} holds product {content.default_code or content.product_id} "
                           "that is on no line of the order")
        items = packages.setdefault(content.package or _LOOSE, {})
        for line_no, quantity in taken:
            items[line_no] = items.get(line_no, Decimal(0)) + quantity
    if not packages:
        raise _Invalid(f"delivery {picking.name} is done with nothing in it")
    return tuple(Carton(serial, tuple(CartonItem(no, qty) for no, qty in items.items()))
                 for serial, items in zip(serials, packages.values(), strict=True))


def _package_count(picking: Picking) -> int:
    return len({content.package or _LOOSE for content in picking.contents})


def _ssccs(conn: Connection, settings: AsnSettings, count: int) -> list[str]:
    """``count`` new SSCC-18s from the series of our prefix (gap-free, inside the caller's transaction)."""
    serials = reserve_serials(conn, f"gs1:{settings.sscc_extension_digit}{settings.gs1_company_prefix}", count)
    if serials.stop > serial_capacity(settings.gs1_company_prefix):
        raise FatalError(f"SSCC serial references of prefix {settings.gs1_company_prefix} are exhausted")
    return [sscc(settings.sscc_extension_digit, settings.gs1_company_prefix, serial) for serial in serials]


def _label(conn: Connection, profile: PartnerProfile, order: Order) -> tuple[str | None, str | None]:
    """(tracking code, SCAC) of the label our carrier target bought for the order, if it bought one."""
    for target in profile.targets:
        if target.kind != "easypost":
            continue
        row = shipment_by_reference(conn, target.name, label_reference(order))
        if row is not None and row.state is ShipmentState.BOUGHT:
            routing = target.carrier.scac_carriers if target.carrier else {}
            scacs = {carrier: scac for scac, carrier in routing.items()}
            return row.tracking_code, scacs.get(row.carrier or "")
    return None, None


def _complete(order: Order, pickings: list[Picking]) -> bool:
    """Every line of the order shipped in full by these deliveries."""
    return all(left <= 0 for left in _Lines(order).counted(pickings).left.values())


def _queue_one(conn: Connection, profile: PartnerProfile, order_id: int, picking: Picking,
               pickings: list[Picking], now: dt.datetime, summary: AsnSummary, failed: dict[str, int]) -> None:
    settings = asn_settings(profile)
    x12 = profile.x12
    assert settings is not None and x12 is not None
    reference = f"856/{profile.id}/order {order_id}/{picking.name}"
    try:
        with conn.begin_nested():  # a failure rolls back to here: control numbers and SSCC serials given back
            order = st.load_stored_order(conn, order_id).order
            reference = reference_of(profile.id, order.source_ref, picking.name)
            cartons = _cartons(order, picking, pickings, _ssccs(conn, settings, _package_count(picking)))
            tracking, scac = _label(conn, profile, order)
            notice = ShipNotice(
                shipment_id=picking.name, shipped_at=picking.date_done or now, cartons=cartons,
                bill_of_lading=picking.name, scac=scac or settings.scac,
                tracking_number=tracking or picking.tracking_ref or None,
                transport_method=settings.transport_method, weight=picking.weight,
                weight_unit=settings.weight_unit, packaging_code=settings.packaging_code,
                ship_from_name=settings.ship_from_name)
            numbers = [_control(conn, profile, kind) for kind in ("interchange", "group", "transaction")]
            version = x12.versions[0]
            envelope = Envelope856(ours=AckAddress(x12.us.isa_qualifier, x12.us.isa_id, x12.us.gs_id),
                                   theirs=AckAddress(x12.partner.isa_qualifier, x12.partner.isa_id, x12.partner.gs_id),
                                   version=version, interchange_control=numbers[0], group_control=numbers[1],
                                   set_control=numbers[2])
            text = build_856(order, notice, envelope, now=now, hierarchy=settings.hierarchy,
                             sscc_with_ai=settings.sscc_with_ai)
            problems = asn_problems(text, version)
            if problems:
                raise _Invalid("; ".join(problems[:3]))
            outbound_id = st.queue_outbound(
                conn, partner_id=profile.id, kind=KIND, receipt_id=None, control_number=f"{numbers[0]:09d}",
                file_name=file_name_856(x12.partner.isa_id, numbers[0]), content=text, now=now)
            ssccs = [carton.sscc for carton in cartons]
            record_asn(conn, partner_id=profile.id, order_id=order_id, picking_id=picking.id, picking_name=picking.name,
                       reference=reference, outbound_id=outbound_id, group_control=str(numbers[1]),
                       set_control=f"{numbers[2]:04d}", ssccs=ssccs, complete=_complete(order, pickings), now=now)
            st.add_event(conn, order_id, "ship_notice", {"document": KIND, "reference": reference,
                                                         "delivery": picking.name, "cartons": len(ssccs)}, now=now)
            if reference in failed:
                st.close_exception(conn, failed.pop(reference), state=st.REPLAYED, now=now)
        summary.queued.append(reference)
    except (_Invalid, ValueError) as exc:  # ValueError: the builder refused what it was given
        st.open_exception(conn, channel="sftp", kind=OUTBOUND_INVALID, partner_id=profile.id, order_id=order_id,
                          document_ref=reference, now=now,
                          reason=f"the 856 for delivery {picking.name} cannot be sent: {exc}")
        summary.invalid.append(reference)
    except IntegrityError:
        log.info("856 for delivery %s was queued by another run", picking.id)
