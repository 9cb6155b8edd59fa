"""The demo's outbound half without the demo: its profile overlay, the sandbox carrier's memory, stock, 855 lines."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors.easypost import Address, EasyPostClient, EasyPostConfig, Parcel
from mappings.profiles import PartnerDirectory, X12SftpChannel
from sandbox import demo_fulfil
from sandbox._erp_stock import with_quantities
from sandbox._fulfil_sandboxes import CARRIER_API_KEY, PersistentEasyPost, carrier_environment, seed_stock
from sandbox.erp_server import SandboxErp

REPO = Path(__file__).resolve().parents[1]
SHIPS = {"bluebird", "trailhead", "marketplace_us"}


@pytest.fixture
def demo_profiles(tmp_path, monkeypatch) -> PartnerDirectory:
    # setenv first so monkeypatch records the variable and restores its absence afterwards: use_demo_profiles
    # sets it in os.environ, which would otherwise leak the demo's overlay (carrier targets) into later tests.
    monkeypatch.setenv("HUB_PARTNERS_DIR", "")
    monkeypatch.delenv("HUB_PARTNERS_DIR")
    folder = demo_fulfil.use_demo_profiles(tmp_path)
    assert folder == tmp_path / "partners"
    assert os.environ["HUB_PARTNERS_DIR"] == str(folder)
    return PartnerDirectory.load(folder)


def test_the_overlay_asks_northwind_for_855s_and_ships_three_accounts_through_the_carrier(demo_profiles):
    assert not demo_profiles.problems
    samples = PartnerDirectory.load(REPO / "mappings" / "partners")
    assert {p.id for p in demo_profiles} == {p.id for p in samples}
    northwind = demo_profiles.get("northwind").channel("x12_sftp")
    assert isinstance(northwind, X12SftpChannel) and northwind.send_855
    assert northwind.x12 == samples.get("northwind").channel("x12_sftp").x12, "the rest of the channel is kept"
    shipping = {p.id for p in demo_profiles if any(t.kind == "easypost" for t in p.targets)}
    assert shipping == SHIPS
    bluebird = demo_profiles.get("bluebird").channel("x12_sftp")
    assert isinstance(bluebird, X12SftpChannel) and bluebird.asn is not None, "Bluebird wants 856s"
    for partner_id in SHIPS:
        assert [t.name for t in demo_profiles.get(partner_id).targets] == ["erp", "carrier"]
    # The samples the tests load are untouched: no 855, no carrier.
    assert not any(isinstance(c, X12SftpChannel) and c.send_855 for p in samples for c in p.channels)
    assert all([t.name for t in p.targets] == ["erp"] for p in samples)


def test_a_partners_folder_named_by_hand_is_used_as_it_is(tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_PARTNERS_DIR", str(tmp_path / "mine"))
    assert demo_fulfil.use_demo_profiles(tmp_path) == tmp_path / "mine"
    assert not (tmp_path / "partners").exists()


def test_overlay_merges_channels_by_kind_and_replaces_other_keys():
    profile = {"id": "p", "name": "P", "channels": [{"kind": "x12_sftp", "a": 1}, {"kind": "shopify", "b": 2}],
               "targets": [{"kind": "odoo", "name": "erp"}]}
    merged = demo_fulfil.overlay_profile(profile, {"channels": [{"kind": "x12_sftp", "c": 3}], "targets": []})
    assert merged["channels"] == [{"kind": "x12_sftp", "a": 1, "c": 3}, {"kind": "shopify", "b": 2}]
    assert merged["targets"] == []
    assert profile["channels"][0] == {"kind": "x12_sftp", "a": 1}, "the sample's dict is not changed"


def test_the_sandbox_carrier_remembers_its_labels_across_restarts(tmp_path, demo_profiles):
    state = tmp_path / "carrier_state.json"
    address = Address(street1="1 Dock Rd", city="Reno", state="NV", zip="89501")

    def client(carrier):
        env = carrier_environment(carrier, demo_profiles)
        assert env["HUB_CARRIER_API_KEY"] == CARRIER_API_KEY and env["HUB_CARRIER_MODE"] == "test"
        return EasyPostClient(EasyPostConfig(api_key=SecretStr(env["HUB_CARRIER_API_KEY"]), mode="test",
                                             http={"base_url": env["HUB_CARRIER_URL"]}))

    with PersistentEasyPost(state, test_keys={CARRIER_API_KEY}) as carrier, client(carrier) as easypost:
        shipment = easypost.create_shipment(from_address=address, to_address=address, parcel=Parcel(weight=16),
                                            reference="demo:1")
        easypost.buy(shipment.id, shipment.rates[0].id)
    with PersistentEasyPost(state, test_keys={CARRIER_API_KEY}) as carrier, client(carrier) as easypost:
        assert carrier.sold_before == 1 and len(carrier.buys) == 1
        assert easypost.retrieve_shipment(shipment.id).tracking_code == carrier.state.shipments[shipment.id][
            "tracking_code"]


def test_stock_is_seeded_in_two_warehouses_with_one_sku_short_and_a_second_seed_changes_nothing(tmp_path):
    erp = SandboxErp(api_key="k", database="d", state_path=tmp_path / "erp.json")
    erp.seed_products([("GAD-320", "Gadget", 27.5, None), ("WID-100", "Widget", 4.1, None)])
    for _ in range(2):
        seed_stock(erp, ["GAD-320", "WID-100"])
    db = erp._db
    assert sorted(w["code"] for w in db.records["stock.warehouse"].values()) == ["EAST", "WEST"]
    rows = with_quantities(db, "product.product", [{"id": pid, "default_code": row["default_code"],
                                                    "qty_available": 0.0}
                                                   for pid, row in db.records["product.product"].items()], {})
    assert {row["default_code"]: row["qty_available"] for row in rows} == {"GAD-320": 2.0, "WID-100": 1000.0}


def test_describe_855_names_each_line_with_its_ack_code():
    text = ("ISA*00*          *00*          *ZZ*ORDERHUB       *01*123456789      *261204*1200*U*00401*000000002*0*P*>~"
            "GS*PR*ORDERHUB*123456789*20261204*1200*2*X*004010~ST*855*0001~BAK*00*AC*NW-77001*20261119~"
            "PO1*10*48*EA*4.1**VP*WID-100~ACK*IA*48*EA~PO1*20*6*EA*27.5**VP*GAD-320~ACK*IB*6*EA*068*20261218~"
            "CTT*2~SE*8*0001~GE*1*2~IEA*1*000000002~")
    assert demo_fulfil.describe_855(text) == "BAK02 AC; line 10 IA 48, line 20 IB 6 ship 20261218"


def test_the_warehouse_ships_a_sale_order_once(tmp_path):
    from sandbox._fulfil_sandboxes import ship_once

    erp = SandboxErp(api_key="k", database="d", state_path=tmp_path / "erp.json")
    erp.seed_products([("WID-100", "Widget", 4.1, None)])
    db = erp._db
    with db.lock:
        partner = db.create("res.partner", {"name": "Bluebird"})
        product = db.search("product.product", [["default_code", "=", "WID-100"]])[0]
        order = db.create("sale.order", {"partner_id": partner, "client_order_ref": "BB-1"})
        db.create("sale.order.line", {"order_id": order, "product_id": product, "product_uom_qty": 2.0})
    assert ship_once(erp, "BB-1", tracking_ref="EZ1", carrier="USPS") is not None
    assert ship_once(erp, "BB-1", tracking_ref="EZ1", carrier="USPS") is None, "shipped already"
    assert ship_once(erp, "NO-SUCH-PO", tracking_ref=None, carrier=None) is None
    assert len(db.records["stock.picking"]) == 1


def test_describe_856_names_the_shipment_its_levels_and_cartons():
    text = ("ISA*00*          *00*          *ZZ*ORDERHUB       *ZZ*BLUEBIRD       *261204*1200*U*00401*000000002*0*P*>~"
            "GS*SH*ORDERHUB*BLUEBIRD*20261204*1200*2*X*004010~ST*856*0001~BSN*00*WH/OUT/00001*20261204*1200*0001~"
            "HL*1**S~HL*2*1*O~HL*3*2*P~MAN*GM*006141410000000012~HL*4*3*I~HL*5*3*I~CTT*5~SE*10*0001~GE*1*2~"
            "IEA*1*000000002~")
    assert demo_fulfil.describe_856(text) == "BSN02 WH/OUT/00001; HL SOPII; SSCC 006141410000000012"
