"""The carrier as an order target: an order becomes one bought label, exactly once.

Why ``OrderTarget`` fits a carrier: the delivery loop's promises are the ones a label needs (one per
order and target, looked up before a retry, a write in doubt holding further writes, refusals to
the exception queue), and ``push`` / ``cancel`` / ``look_up`` / ``reconcile`` each have a carrier
meaning (buy the label, refuse to void a bought one, the labels we hold, one label per order). So
no separate ``Carrier`` protocol: the carrier-specific part is the small ``LabelService`` below.

Buy-once, step by step (the outbox row is ``carrier_shipments``, keyed by our reference):

1. No row: create the shipment at the carrier with our ``reference``, and commit its id in a row
   (``created``) before anything is bought. EasyPost cannot be searched by reference, so this id is
   how a retry finds the shipment again.
2. Choose the rate, commit ``buying``, send the buy once (never retried by the client).
3. A row in ``created`` or ``buying``: retrieve the shipment first. Bought (the answer was lost):
   record it, buy nothing. Not bought: buy.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

from canonical.errors import ConfigurationError, RejectedDocument, RetriableError
from canonical.model import Order, PartyRole
from connectors.easypost import Address, Parcel, Shipment, Tracker
from hub import store as st
from hub.targets._protocol import Action, Delivered, Expected, Found, Reconciliation, reconcile_by_look_up
from hub.targets.carrier._routing import choose_rate
from mappings.profiles import CarrierRouting

_log = logging.getLogger(__name__)


class LabelService(Protocol):
    """What the carrier target needs of a carrier API (``connectors.easypost.EasyPostClient`` provides it)."""

    @property
    def is_test(self) -> bool: ...
    def create_shipment(self, *, from_address: Address, to_address: Address, parcel: Parcel,
                        reference: str) -> Shipment: ...
    def buy(self, shipment_id: str, rate_id: str) -> Shipment: ...
    def retrieve_shipment(self, shipment_id: str) -> Shipment: ...
    def create_tracker(self, tracking_code: str, carrier: str | None = None) -> Tracker: ...
    def iter_shipments(self, *, purchased: bool | None = None,
                       start_datetime: dt.datetime | None = None) -> Iterator[Shipment]: ...


def label_reference(order: Order) -> str:
    """Our reference of an order's label: partner and PO number (sent as the shipment's ``reference``)."""
    return f"{order.partner_id}:{order.source_ref}"


def to_address(order: Order) -> Address:
    """The order's ship-to party as the carrier's address (refused when it cannot be shipped to)."""
    party = order.party(PartyRole.SHIP_TO)
    if party is None or not party.address_lines or not party.city or not party.postal_code:
        raise RejectedDocument("the order has no complete ship-to address (street, city, postal code)",
                               location="parties.ship_to")
    return Address(name=party.name, street1=party.address_lines[0],
                   street2=party.address_lines[1] if len(party.address_lines) > 1 else None,
                   city=party.city, state=party.region, zip=party.postal_code, country=party.country or "US")


def parcel_of(routing: CarrierRouting) -> Parcel:
    """The partner's parcel (one per order today)."""
    dims = routing.parcel_inches
    return Parcel(weight=routing.parcel_weight_oz, length=dims[0] if dims else None,
                  width=dims[1] if dims else None, height=dims[2] if dims else None)


class CarrierTarget:
    """A carrier account as the order target ``name``: one bought label per order."""

    label = "the carrier"

    def __init__(self, service: LabelService, store: st.HubStore, *, name: str,
                 routing_of: Callable[[str], CarrierRouting | None], write_settle: dt.timedelta,
                 today: Callable[[], dt.date] = lambda: dt.datetime.now(dt.UTC).date(),
                 look_back: dt.timedelta = dt.timedelta(days=120)) -> None:
        self.service = service
        self.store = store
        self.name = name
        self.write_settle = write_settle
        self._routing_of = routing_of
        self._today = today
        self.look_back = look_back
        self._bought_by_reference: dict[str, dict[str, Shipment]] | None = None  # reference -> id -> shipment

    @property
    def mode(self) -> str:
        """``test`` or ``production``: which kind of key buys the labels."""
        return "test" if self.service.is_test else "production"

    def _routing(self, partner_id: str) -> CarrierRouting:
        routing = self._routing_of(partner_id)
        if routing is None:
            raise ConfigurationError(f"partner {partner_id!r} lists target {self.name!r} without its `carrier` "
                                     "routing rules (ship_from, parcel, carriers)")
        return routing

    def push(self, order: Order) -> Delivered:
        """Make sure the order has exactly one bought label (bought now, or found bought)."""
        try:
            return self._push(order)
        except RetriableError as exc:
            if exc.write_in_doubt:
                # The buy (or create) may still complete at the carrier: the next look must come after it can.
                exc.retry_after = max(exc.retry_after or 0.0, self.write_settle.total_seconds())
            raise

    def _push(self, order: Order) -> Delivered:
        if order.is_test and not self.service.is_test:
            raise RejectedDocument("a test order is never bought with a production carrier key")
        reference = label_reference(order)
        with self.store.transaction() as conn:
            row = st.shipment_by_reference(conn, self.name, reference)
        if row is not None and row.state is st.ShipmentState.BOUGHT:
            return self._delivered(Action.UNCHANGED, row.tracking_code, row.shipment_id)
        routing = self._routing(order.partner_id)
        if row is None or row.shipment_id is None:
            shipment = self.service.create_shipment(
                from_address=Address(**routing.ship_from.model_dump()), to_address=to_address(order),
                parcel=parcel_of(routing), reference=reference)
            with self.store.transaction() as conn:  # committed before any buy: a retry finds this shipment
                row = st.record_shipment_created(conn, target=self.name, reference=reference,
                                                 partner_id=order.partner_id, po_number=order.source_ref,
                                                 mode=self.mode, shipment_id=shipment.id)
            if row.shipment_id != shipment.id:  # a concurrent push recorded another shipment first
                shipment = self.service.retrieve_shipment(str(row.shipment_id))
        else:
            # A previous push got this far: maybe the buy went through and its answer was lost.
            shipment = self.service.retrieve_shipment(row.shipment_id)
        assert row is not None
        if shipment.bought:
            _log.info("%s: label of %s was already bought (shipment %s); not buying again",
                      self.name, reference, shipment.id)
            return self._record_bought(row.id, shipment, Action.CREATED)
        rate = choose_rate(order, shipment.rates, routing, today=self._today())
        with self.store.transaction() as conn:
            st.mark_shipment_buying(conn, row.id, rate_id=rate.id, carrier=rate.carrier, service=rate.service,
                                    rate=rate.rate)
        try:
            bought = self.service.buy(shipment.id, rate.id)
        except RejectedDocument:
            # EasyPost refuses buying a bought shipment: a concurrent or lost buy won; look before failing.
            again = self.service.retrieve_shipment(shipment.id)
            if not again.bought:
                raise
            bought = again
        return self._record_bought(row.id, bought, Action.CREATED)

    def _record_bought(self, row_id: int, shipment: Shipment, action: Action) -> Delivered:
        rate = shipment.selected_rate
        tracker = shipment.tracker
        if tracker is None and shipment.tracking_code:
            tracker = self.service.create_tracker(shipment.tracking_code, rate.carrier if rate else None)
        with self.store.transaction() as conn:
            st.mark_shipment_bought(
                conn, row_id, rate_id=rate.id if rate else None, carrier=rate.carrier if rate else None,
                service=rate.service if rate else None, rate=rate.rate if rate else None,
                tracking_code=shipment.tracking_code,
                label_url=shipment.postage_label.label_url if shipment.postage_label else None,
                tracker_id=tracker.id if tracker else None, tracking_status=tracker.status if tracker else None)
        changes = (f"{rate.carrier} {rate.service} {rate.rate} {rate.currency}",) if rate else ()
        return self._delivered(action, shipment.tracking_code, shipment.id, changes)

    def _delivered(self, action: Action, tracking_code: str | None, shipment_id: str | None,
                   changes: tuple[str, ...] = ()) -> Delivered:
        return Delivered(action, record=tracking_code or shipment_id or "", record_id=shipment_id, changes=changes)

    def cancel(self, order: Order) -> Delivered:
        """No label: nothing to cancel (an unbought shipment costs nothing). A bought label is left to a person."""
        with self.store.transaction() as conn:
            row = st.shipment_by_reference(conn, self.name, label_reference(order))
        if row is None or row.state is not st.ShipmentState.BOUGHT:
            return Delivered(Action.NOT_THERE)
        return Delivered(Action.REFUSED, record=row.tracking_code or "", record_id=row.shipment_id,
                         reason="the label is bought: void or refund it at the carrier if the parcel will not ship")

    def look_up(self, partner_id: str, po_numbers: Sequence[str]) -> dict[str, list[Found]]:
        """The labels the carrier holds bought per PO number: every bought shipment under our reference.

        EasyPost cannot filter by reference, so the account's bought shipments of the last
        ``look_back`` are listed (once per target pass) and matched by reference; the shipments our
        rows name are retrieved too, however old. A label bought twice shows as two records.
        """
        if self._bought_by_reference is None:
            since = dt.datetime.now(dt.UTC) - self.look_back
            listed: dict[str, dict[str, Shipment]] = {}
            for shipment in self.service.iter_shipments(purchased=True, start_datetime=since):
                if shipment.reference and shipment.bought:
                    listed.setdefault(shipment.reference, {})[shipment.id] = shipment
            self._bought_by_reference = listed
        with self.store.transaction() as conn:
            rows = st.shipments_of(conn, self.name, partner_id, po_numbers)
        found: dict[str, list[Found]] = {}
        for po in po_numbers:
            reference = f"{partner_id}:{po}"
            bought = dict(self._bought_by_reference.get(reference, {}))
            for row in rows:
                if row.po_number == po and row.shipment_id and row.shipment_id not in bought:
                    shipment = self.service.retrieve_shipment(row.shipment_id)
                    if shipment.bought:
                        bought[shipment.id] = shipment
            found[po] = [Found(record=s.tracking_code or s.id, live=True) for s in bought.values()]
        return found

    def reconcile(self, expected: Expected) -> Reconciliation:
        """One bought label per open order, none twice (cancelled orders: a bought label counts as still live)."""
        self._bought_by_reference = None  # list the carrier afresh for each check
        return reconcile_by_look_up(self, expected)
