"""The 846 Inventory Inquiry/Advice we send: what each SKU has available for sale -> X12 text.

One LIN per item (``LIN**VN*<sku>``, the partner's qualifier for our SKU) with ``QTY*33*<quantity>*EA``
(33: quantity available for sale); BIA01 ``00`` (original), BIA02 ``MM`` (the report type most retail
guides ask for in an inventory advice), BIA03 our reference, BIA04/05 when it was computed; CTT01 the
number of LIN loops. The envelope is the 855's (our ids, the partner's, numbers from the caller).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from mappings.x12._855 import Envelope855
from mappings.x12._acks import _isa, ack_file_name, safe, segment

Envelope846 = Envelope855
"""Who sends to whom, and our numbers (ISA13, GS06, ST02): the same shape as the 855's."""

AVAILABLE_FOR_SALE = "33"


@dataclass(frozen=True)
class StockItem:
    """One item of an 846: our SKU, the whole units available, and the unit."""

    sku: str
    quantity: int
    uom: str = "EA"

    def __post_init__(self) -> None:
        if self.quantity < 0:
            raise ValueError(f"{self.sku}: an 846 quantity is never negative")


def transaction_set_846(items: list[StockItem], *, reference: str, at: dt.datetime, st_control: int,
                        sku_qualifier: str = "VN") -> list[str]:
    """ST..SE of the 846 for ``items``, one segment per item (each ends with our terminator)."""
    if not items:
        raise ValueError("an 846 needs at least one item")
    st02 = f"{st_control:04d}"
    body = [segment("ST", "846", st02),
            segment("BIA", "00", "MM", safe(reference, 50), at.strftime("%Y%m%d"), at.strftime("%H%M"))]
    for item in items:
        body.append(segment("LIN", "", safe(sku_qualifier, 2), safe(item.sku, 48)))
        body.append(segment("QTY", AVAILABLE_FOR_SALE, str(item.quantity), safe(item.uom, 2)))
    body.append(segment("CTT", str(len(items))))
    body.append(segment("SE", str(len(body) + 1), st02))
    return body


def build_846(items: list[StockItem], envelope: Envelope846, *, reference: str, now: dt.datetime,
              sku_qualifier: str = "VN") -> str:
    """A complete interchange carrying one 846 (GS01 IB) for ``items``."""
    isa12 = "00501" if envelope.version.startswith("005") else "00401"
    gs = segment("GS", "IB", safe(envelope.ours.gs_id, 15), safe(envelope.theirs.gs_id, 15), now.strftime("%Y%m%d"),
                 now.strftime("%H%M"), str(envelope.group_control), "X", envelope.version)
    body = transaction_set_846(items, reference=reference, at=now, st_control=envelope.set_control,
                               sku_qualifier=sku_qualifier)
    return "".join([
        _isa(envelope.ours, envelope.theirs, envelope.interchange_control, now, isa12, envelope.test),
        gs, *body, segment("GE", "1", str(envelope.group_control)),
        segment("IEA", "1", f"{envelope.interchange_control:09d}"),
    ])


def file_name_846(partner_isa_id: str, control: int) -> str:
    """``846_<partner>_<ISA13>.x12``, the acks' naming."""
    return ack_file_name("846", partner_isa_id, control)
