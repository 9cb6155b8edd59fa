"""Valid 850 interchanges built in code, for the demo, tests and the intake benchmark."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mappings.profiles import PartnerProfile


@dataclass(frozen=True)
class SampleLine:
    """One PO1 line of a sample 850."""

    sku: str
    quantity: str = "1"
    unit_price: str = "10.00"
    uom: str = "EA"
    description: str | None = None


def _isa_field(value: str, width: int) -> str:
    return value[:width].ljust(width)


def build_850(
    partner: PartnerProfile,
    *,
    po_number: str = "PO-1001",
    lines: Sequence[SampleLine] | int = 2,
    purchase_orders: int = 1,
    control_number: int = 1,
    purpose: str = "00",
    order_date: str = "20240105",
    version: str | None = None,
    test: bool = False,
    element: str = "*",
    component: str = ">",
    terminator: str = "~",
    line_break: str = "\n",
) -> bytes:
    """One interchange from ``partner`` to us: one group of ``purchase_orders`` 850s.

    With several purchase orders, their numbers get a ``-n`` suffix. ``lines`` is a list of
    lines or a count of generated ones.
    """
    assert partner.x12 is not None, "the partner needs an x12 profile"
    x12 = partner.x12
    version = version or x12.versions[0]
    five = version.startswith("005")
    if isinstance(lines, int):
        lines = [
            SampleLine(f"SKU-{n:04d}", str(n % 7 + 1), f"{(n % 50) + 1}.25", description=f"Sample item {n}")
            for n in range(1, lines + 1)
        ]
    end = terminator + line_break

    def seg(*elements: str) -> str:
        return element.join(elements) + end

    out = [
        seg(
            "ISA",
            "00",
            " " * 10,
            "00",
            " " * 10,
            _isa_field(x12.partner.isa_qualifier, 2),
            _isa_field(x12.partner.isa_id, 15),
            _isa_field(x12.us.isa_qualifier, 2),
            _isa_field(x12.us.isa_id, 15),
            "240105",
            "1200",
            "^" if five else "U",
            "00501" if five else "00401",
            f"{control_number:09d}",
            "0",
            "T" if test else "P",
            component,
        ),
        seg("GS", "PO", x12.partner.gs_id, x12.us.gs_id, "20240105", "1200", str(control_number), "X", version),
    ]
    sku_qualifier = x12.sku_qualifiers[0]
    for n in range(1, purchase_orders + 1):
        st02 = f"{n:04d}"
        number = po_number if purchase_orders == 1 else f"{po_number}-{n}"
        body = [
            seg("ST", "850", st02),
            seg("BEG", purpose, "SA", number, "", order_date),
            seg("REF", "DP", "042"),
            seg("DTM", "002", "20240115"),
            seg("N1", "ST", "Sample Store 12", "92", "0012"),
            seg("N3", "100 Main Street"),
            seg("N4", "Springfield", "IL", "62701", "US"),
        ]
        for i, line in enumerate(lines, start=1):
            body.append(seg("PO1", str(i), line.quantity, line.uom, line.unit_price, "PE", sku_qualifier, line.sku))
            if line.description:
                body.append(seg("PID", "F", "", "", "", line.description))
        body.append(seg("CTT", str(len(lines))))
        body.append(seg("SE", str(len(body) + 1), st02))
        out.extend(body)
    out.append(seg("GE", str(purchase_orders), str(control_number)))
    out.append(seg("IEA", "1", f"{control_number:09d}"))
    return "".join(out).encode("latin-1")
