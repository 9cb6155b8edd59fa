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


# -- queued to the partners that ask for it ----------------------------------------------------------

def acme_846(**settings):
    """ACME asking for 846s (its shipped profile does not)."""
    from tests.test_855_sending import acme_855
    return acme_855(send_855=False, send_846=True, **settings)


def documents(store) -> list:
    from hub import store as st
    with store.transaction() as conn:
        return [d for d in st.pending_outbound(conn) if d.kind == "846"]


def test_an_846_goes_to_a_partner_that_asks_then_only_when_a_quantity_changed(store):
    from hub.delivery._inventory846 import quantities_told, queue_inventory_846
    from tests.test_inventory import stock

    partners = acme_846(safety_stock=2)
    stock(store, {("WID-100", "EAST"): ("12", "0"), ("WID-100", "WEST"): ("8", "0"), ("GAD-300", "EAST"): ("1", "0")})
    first = queue_inventory_846(store, partners, now=NOW)
    assert first.queued == {"acme": 2}
    [document] = documents(store)
    assert document.file_name == "846_ACMERETAIL_000000001.x12" and document.control_number == "000000001"
    assert segments(document.content, "LIN") == ["LIN**VN*GAD-300~", "LIN**VN*WID-100~"]
    assert segments(document.content, "QTY") == ["QTY*33*0*EA~", "QTY*33*18*EA~"]  # safety stock held, never < 0
    assert outbound_problems(document.content) == []
    assert quantities_told(store, partners.get("acme")) == {"GAD-300": 0, "WID-100": 18}

    again = queue_inventory_846(store, partners, now=NOW)
    assert again.queued == {} and again.unchanged == ["acme"] and len(documents(store)) == 1

    stock(store, {("WID-100", "EAST"): ("12", "0"), ("WID-100", "WEST"): ("8", "0"), ("GAD-300", "EAST"): ("6", "0")})
    queue_inventory_846(store, partners, now=NOW)
    second = documents(store)[-1]
    assert second.control_number == "000000002"  # the next number of the partner's series: no gap
    assert segments(second.content, "LIN") == ["LIN**VN*GAD-300~"] and segments(second.content, "QTY") == [
        "QTY*33*4*EA~"]


def test_a_partner_that_does_not_ask_gets_none_and_no_snapshot_sends_nothing(sqlite_store):
    from hub.delivery._inventory846 import queue_inventory_846
    from tests.test_855_sending import acme_855
    from tests.test_inventory import stock

    assert queue_inventory_846(sqlite_store, acme_846(), now=NOW).no_snapshot
    stock(sqlite_store, {("WID-100", "EAST"): ("12", "0")})
    assert queue_inventory_846(sqlite_store, acme_855(), now=NOW).queued == {}
    assert documents(sqlite_store) == []


def test_an_846_that_fails_our_maps_is_not_queued_and_uses_no_control_number(sqlite_store, monkeypatch):
    import hub.delivery._inventory846 as module
    from hub.delivery._inventory846 import quantities_told, queue_inventory_846
    from tests.test_inventory import stock

    real = module.build_846
    monkeypatch.setattr(module, "build_846", lambda *a, **k: real(*a, **k).replace("QTY*33*", "QTY**"))
    stock(sqlite_store, {("WID-100", "EAST"): ("12", "0")})
    partners = acme_846()
    with pytest.raises(ValueError, match="fails validation against our maps"):
        queue_inventory_846(sqlite_store, partners, now=NOW)
    assert documents(sqlite_store) == [] and quantities_told(sqlite_store, partners.get("acme")) == {}
    monkeypatch.setattr(module, "build_846", real)  # fixed: the next pass builds it, numbered 1
    assert queue_inventory_846(sqlite_store, partners, now=NOW).queued == {"acme": 1}
    assert documents(sqlite_store)[0].control_number == "000000001"


def _partner_997_for_846(group_control: str, status: str = "A") -> bytes:
    """ACME's 997 for our 846 group ``group_control`` (AK101 IB)."""
    from mappings.x12._acks import AckAddress, GroupAck, SetAck, build_functional_ack

    group = GroupAck("IB", group_control, "004010", 1, [SetAck("846", "0001", status)])
    return build_functional_ack("997", ours=AckAddress("ZZ", "ACMERETAIL", "ACMERETAIL"),
                                theirs=AckAddress("ZZ", "ORDERHUB", "ORDERHUB"), interchange_control=902,
                                groups=[(group, 79, 1)], isa12="00401", test=False, now=NOW).encode()


@pytest.mark.parametrize(("group", "status", "kinds"), [
    ("1", "A", []),  # answers our 846: nothing to fix
    ("1", "R", ["outbound_rejected"]),  # refused: a person looks
    ("9", "A", ["unsupported_transaction_set"]),  # names no 846 of ours: as any stray 997
])
def test_the_partners_997_for_an_846_is_matched_by_its_group(sqlite_store, group, status, kinds):
    from hub import store as st
    from hub.delivery import send_pending_acks
    from hub.delivery._inventory846 import queue_inventory_846
    from tests.test_855_sending import Folders, _receive
    from tests.test_inventory import stock

    partners = acme_846()
    stock(sqlite_store, {("WID-100", "EAST"): ("12", "0")})
    queue_inventory_846(sqlite_store, partners, now=NOW)
    send_pending_acks(sqlite_store, partners, Folders(), now=NOW)
    _receive(sqlite_store, partners, _partner_997_for_846(group, status), "997_for_846.x12")
    with sqlite_store.transaction() as conn:
        exceptions = st.list_exceptions(conn)
        assert [e.kind for e in exceptions] == kinds
        assert [d.kind for d in st.pending_outbound(conn)] == []  # a functional ack is never acknowledged
    if status == "R":
        assert exceptions[0].document_ref == "846_ACMERETAIL_000000001.x12" and "status R" in exceptions[0].reason


@pytest.mark.integration
def test_the_dagster_asset_writes_an_846_over_sftp_then_none_while_nothing_changes(tmp_path, openssh_server):
    import dagster as dg

    from hub import store as st
    from hub.defs.inventory.publish import EDI_846, edi_inventory_846
    from hub.defs.resources import HubStoreResource, SftpResource
    from hub.settings import sqlite_url
    from tests.fixtures.partners import REPO
    from tests.test_inventory import stock

    partners_dir = tmp_path / "partners"
    partners_dir.mkdir()
    profile = (REPO / "mappings" / "partners" / "acme.yaml").read_text()
    assert "    sftp:\n" in profile
    (partners_dir / "acme.yaml").write_text(profile.replace("    sftp:\n", "    send_846: true\n    sftp:\n"))
    url = sqlite_url(tmp_path / "hub.sqlite3")
    store = st.HubStore(url).migrate()
    stock(store, {("WID-100", "EAST"): ("12", "0")})
    outbound_dir = openssh_server.make_folder("acme/outbound")
    server = openssh_server
    resources = {
        "hub_store": HubStoreResource(database_url=url, partners_dir=str(partners_dir), max_document_bytes=1 << 20),
        "sftp": SftpResource(host=server.host, port=server.port, username=server.username,
                             private_key_path=str(server.private_key_path),
                             known_hosts_path=str(server.known_hosts_path)),
    }
    first = dg.materialize([edi_inventory_846], resources=resources)
    second = dg.materialize([edi_inventory_846], resources=resources)
    metadata = [r.asset_materializations_for_node(EDI_846)[0].metadata for r in (first, second)]
    assert metadata[0]["queued_846"].value == {"acme": 1} and metadata[1]["queued_846"].value == {}
    written = [p.name for p in outbound_dir.iterdir() if p.name.startswith("846_")]
    assert len(written) == 1
    text = (outbound_dir / written[0]).read_text()
    assert "LIN**VN*WID-100~" in text and "QTY*33*12*EA~" in text and outbound_problems(text) == []
    store.dispose()
