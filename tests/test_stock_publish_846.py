"""The 846 Inventory Inquiry/Advice: built from stock, checked by our maps and by pyx12's."""

from __future__ import annotations

import pytest

from mappings.x12._846 import StockItem, build_846
from mappings.x12._maps import MAPS_DIR, map_for
from mappings.x12._outbound_check import outbound_problems
from mappings.x12.maps import build_maps
from tests.edi855_orders import NOW, envelope
from tests.test_855_maps import pyx12_errors

VERSIONS = ["004010", "005010"]
ITEMS = [StockItem("WID-100", 18), StockItem("GAD-300", 0)]


def segments(text: str, sid: str) -> list[str]:
    return [s for s in text.splitlines() if s.startswith(sid + "*")]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_checked_in_846_maps_are_what_build_maps_writes(version):
    assert (MAPS_DIR / version / f"846.{version[2:]}.xml").read_text() == build_maps.build_map(version, "846")
    assert map_for("846", version, "IB") is not None  # maps.xml routes GS01 IB to it


@pytest.mark.parametrize("version", VERSIONS)
def test_an_846_passes_our_maps_and_pyx12s(version, tmp_path):
    text = build_846(ITEMS, envelope(version), reference="846/acme/7", now=NOW)
    assert f"GS*IB*ORDERHUB*ACMERETAIL*20261204*0930*3*X*{version}~" in text
    assert segments(text, "BIA") == ["BIA*00*MM*846/acme/7*20261204*0930~"]
    assert segments(text, "LIN") == ["LIN**VN*WID-100~", "LIN**VN*GAD-300~"]
    assert segments(text, "QTY") == ["QTY*33*18*EA~", "QTY*33*0*EA~"]
    assert segments(text, "CTT") == ["CTT*2~"] and segments(text, "SE") == ["SE*8*0005~"]
    assert outbound_problems(text) == []
    assert pyx12_errors(text, version, tmp_path) == []


BROKEN = {
    "no BIA": lambda t: t.replace(next(s for s in t.splitlines(keepends=True) if s.startswith("BIA")), ""),
    "BIA02 not a code": lambda t: t.replace("BIA*00*MM*", "BIA*00*XX*"),
    "QTY without a qualifier": lambda t: t.replace("QTY*33*18", "QTY**18"),
    "LIN without its product id": lambda t: t.replace("LIN**VN*WID-100~", "LIN**VN~"),
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("fault", sorted(BROKEN))
def test_a_broken_846_is_rejected_by_our_maps_and_pyx12s(version, fault, tmp_path):
    text = BROKEN[fault](build_846(ITEMS, envelope(version), reference="846/acme/7", now=NOW))
    assert outbound_problems(text), fault
    assert pyx12_errors(text, version, tmp_path), fault


def test_an_846_has_items_and_no_negative_quantity():
    with pytest.raises(ValueError, match="at least one item"):
        build_846([], envelope(), reference="r", now=NOW)
    with pytest.raises(ValueError, match="never negative"):
        StockItem("WID-100", -1)
