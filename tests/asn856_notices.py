"""Ship notices the 856 tests share (the orders are the 855 tests')."""

from __future__ import annotations

from decimal import Decimal

from mappings.x12._856 import Carton, CartonItem, Envelope856, ShipNotice
from mappings.x12._acks import AckAddress
from mappings.x12._sscc import sscc
from tests.edi855_orders import NOW


def notice(tracking: str | None = "1Z999AA10123456784") -> ShipNotice:
    """Two cartons for the 855 tests' order: line 1 split over both, line 2 in the second."""
    return ShipNotice(
        shipment_id="WH/OUT/00012", shipped_at=NOW, bill_of_lading="WH/OUT/00012", scac="UPSN",
        tracking_number=tracking, weight=Decimal("12.5"),
        cartons=(Carton(sscc(0, "0614141", 1), (CartonItem("1", Decimal(6)),)),
                 Carton(sscc(0, "0614141", 2), (CartonItem("1", Decimal(4)), CartonItem("2", Decimal(3))))),
    )


def envelope(version: str = "004010", control: int = 7) -> Envelope856:
    """Our ids to ACME's, numbered ``control`` / 8 / 9."""
    return Envelope856(ours=AckAddress("ZZ", "ORDERHUB", "ORDERHUB"),
                       theirs=AckAddress("ZZ", "ACMERETAIL", "ACMERETAIL"), version=version,
                       interchange_control=control, group_control=8, set_control=9)
