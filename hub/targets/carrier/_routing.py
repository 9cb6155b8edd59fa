"""Which rate to buy for an order: the partner's routing rules (TD5 first, else cheapest in time).

The 850's TD5 lands in ``Order.carrier`` (``scac``, ``service_level``); the dates an order must
arrive by in ``Order.dates`` (``requested_delivery`` from DTM 002, ``do_not_deliver_after`` from
DTM 063). A rate's ``delivery_days`` are counted in business days (EasyPost's carriers quote them
so), from today or the order's ``ship_not_before`` date (DTM 037) when later.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from canonical.errors import RejectedDocument
from canonical.model import Order
from connectors.easypost import Rate
from mappings.profiles import CarrierRouting

ARRIVE_BY = ("requested_delivery", "do_not_deliver_after")
"""Order dates a parcel must arrive by (the earliest one given counts)."""


def add_business_days(start: dt.date, days: int) -> dt.date:
    """``start`` plus ``days`` weekdays (Saturdays and Sundays skipped; holidays are not known here)."""
    day, left = start, days
    while left > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            left -= 1
    return day


def _cheapest(rates: Sequence[Rate]) -> Rate:
    # Ties: the faster one, then a stable order by carrier and service.
    return min(rates, key=lambda r: (r.rate, r.delivery_days if r.delivery_days is not None else 999,
                                     r.carrier, r.service))


def _same(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


def requested_carrier(order: Order, routing: CarrierRouting) -> tuple[str, str | None] | None:
    """(carrier, service or None) the 850's TD5 asks for, through the partner's tables; None without TD5.

    A TD5 whose SCAC the tables do not know is refused: buying another carrier than the buyer's
    routing guide names is a chargeback, so a person adds the SCAC to ``scac_carriers`` first.
    """
    td5 = order.carrier
    if td5 is None or not (td5.scac or td5.service_level):
        return None
    carrier = None
    if td5.scac:
        carrier = routing.scac_carriers.get(td5.scac) or next(
            (c for c in routing.carriers if _same(c, td5.scac)), None)
        if carrier is None:
            raise RejectedDocument(f"the order's TD5 asks for carrier SCAC {td5.scac!r}, which the partner's "
                                   "routing rules do not map (add it to scac_carriers)", location="TD5")
    service = routing.service_levels.get(td5.service_level) if td5.service_level else None
    if td5.service_level and service is None:
        raise RejectedDocument(f"the order's TD5 asks for service level {td5.service_level!r}, which the partner's "
                               "routing rules do not map (add it to service_levels)", location="TD5")
    if carrier is None:
        return None if service is None else ("", service)
    return carrier, service


def choose_rate(order: Order, rates: Sequence[Rate], routing: CarrierRouting, *, today: dt.date) -> Rate:
    """The rate to buy for ``order`` among the shipment's ``rates``, or ``RejectedDocument`` saying why none fits."""
    allowed = [r for r in rates if not routing.carriers or any(_same(r.carrier, c) for c in routing.carriers)]
    wanted = requested_carrier(order, routing)
    if wanted is not None:
        carrier, service = wanted
        fitting = [r for r in rates if (not carrier or _same(r.carrier, carrier))
                   and (service is None or _same(r.service, service))]
        if not fitting:
            asked = " ".join(filter(None, [carrier, service]))
            raise RejectedDocument(f"no rate for {asked}, which the order's TD5 asks for "
                                   f"(rated: {_offered(rates)})", location="TD5")
        return _cheapest(fitting)
    if not allowed:
        raise RejectedDocument(f"no rate from the partner's carriers {routing.carriers} (rated: {_offered(rates)})")
    ship_on = max(today, order.dates.get("ship_not_before", today))
    deadlines = [order.dates[key] for key in ARRIVE_BY if key in order.dates]
    arrive_by = min(deadlines) if deadlines else None
    in_time = [r for r in allowed if _arrives_in_time(r, ship_on, arrive_by, routing.max_delivery_days)]
    if not in_time:
        by = f"by {arrive_by.isoformat()}" if arrive_by else f"within {routing.max_delivery_days} days"
        raise RejectedDocument(f"no rate arrives {by} (rated: {_offered(allowed)})")
    return _cheapest(in_time)


def _arrives_in_time(rate: Rate, ship_on: dt.date, arrive_by: dt.date | None, max_days: int | None) -> bool:
    if arrive_by is None and max_days is None:
        return True
    if rate.delivery_days is None:
        return False  # no promise: it cannot be shown to meet a date
    if max_days is not None and rate.delivery_days > max_days:
        return False
    return arrive_by is None or add_business_days(ship_on, rate.delivery_days) <= arrive_by


def _offered(rates: Sequence[Rate]) -> str:
    return ", ".join(sorted({f"{r.carrier} {r.service}" for r in rates})) or "none"
