"""Orders and acknowledgments the 855 tests share."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from canonical.model import Order, OrderLine, Party, PartyRole, Source
from mappings.x12._855 import AckAddress, Envelope855

NOW = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)


def order(partner_id: str = "acme", po: str = "PO-855-1") -> Order:
    """A two-line X12 order with a ship-to and a buyer."""
    return Order(
        source=Source.X12, source_ref=po, partner_id=partner_id, order_date=dt.date(2026, 12, 1),
        parties=[
            Party(role=PartyRole.SHIP_TO, name="ACME DC 7", id="0007", id_qualifier="92", entity_code="ST"),
            Party(role=PartyRole.BUYER, name="ACME Retail", entity_code="BY"),
        ],
        lines=[
            OrderLine(line_no="1", sku="SKU-1", gtin="012345678905", quantity=Decimal("10"), uom="EA",
                      unit_price=Decimal("4.50")),
            OrderLine(line_no="2", sku="SKU-2", quantity=Decimal("3"), uom="CA", unit_price=Decimal("12.00")),
        ],
        total=Decimal("81.00"),
    )


def envelope(version: str = "004010", control: int = 7) -> Envelope855:
    """Our ids to ACME's, numbered ``control`` / 3 / 5."""
    return Envelope855(ours=AckAddress("ZZ", "ORDERHUB", "ORDERHUB"),
                       theirs=AckAddress("ZZ", "ACMERETAIL", "ACMERETAIL"), version=version,
                       interchange_control=control, group_control=3, set_control=5)
