"""The carrier target: rate choice by the partner's routing rules, and one label per order, whatever fails."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import httpx
import pytest
from pydantic import SecretStr

from canonical.errors import ConfigurationError, RejectedDocument, RetriableError
from canonical.model import Carrier, Order, OrderLine, Party, PartyRole, Source
from connectors.easypost import EasyPostClient, EasyPostConfig, Rate
from hub import store as st
from hub.targets import Action, OrderTarget, target_kind
from hub.targets.carrier import CarrierTarget, add_business_days, choose_rate
from mappings.profiles import CarrierRouting, PartnerProfile
from sandbox.easypost_server import SandboxEasyPost

KEY = "EZTKcarriertest"
MONDAY = dt.date(2026, 12, 7)
ROUTING = CarrierRouting.model_validate({
    "ship_from": {"company": "Hub Warehouse", "street1": "1 Dock Rd", "city": "Reno", "state": "NV", "zip": "89501"},
    "scac_carriers": {"UPSN": "UPS", "FDEG": "FedEx"},
    "service_levels": {"ND": "NextDayAir", "SG": "Ground"},
})


def order(po: str = "PO-1", *, carrier: Carrier | None = None, dates: dict | None = None, is_test: bool = False,
          ship_to: bool = True) -> Order:
    parties = [Party(role=PartyRole.SHIP_TO, name="Jane Q. Customer", address_lines=["17 Privacy Lane"],
                     city="Austin", region="TX", postal_code="78701", country="US")] if ship_to else []
    return Order(source=Source.X12, source_ref=po, partner_id="acme", order_date=MONDAY, parties=parties,
                 lines=[OrderLine(line_no="1", sku="SKU-1", quantity=Decimal(2), unit_price=Decimal(5),
                                  amount=Decimal(10))],
                 total=Decimal(10), carrier=carrier, dates=dates or {}, is_test=is_test)


def rate(carrier: str, service: str, price: str, days: int | None) -> Rate:
    return Rate(id=f"rate_{carrier}_{service}", carrier=carrier, service=service, rate=Decimal(price),
                delivery_days=days)


RATES = [rate("USPS", "GroundAdvantage", "5.10", 5), rate("USPS", "Priority", "8.20", 2),
         rate("UPS", "Ground", "9.50", 4), rate("UPS", "NextDayAir", "32.00", 1),
         rate("FedEx", "FEDEX_2_DAY", "7.90", 2),
         rate("LocalCo", "Whenever", "3.00", None)]


# -- rate choice ------------------------------------------------------------------------------------

def test_without_td5_or_dates_the_cheapest_rate_wins():
    assert choose_rate(order(), RATES, ROUTING, today=MONDAY).service == "Whenever"


def test_the_cheapest_rate_that_arrives_by_the_requested_delivery_date():
    # Monday + 2 business days = Wednesday: the 4- and 5-day rates and the one without a promise are out.
    chosen = choose_rate(order(dates={"requested_delivery": dt.date(2026, 12, 9)}), RATES, ROUTING, today=MONDAY)
    assert (chosen.carrier, chosen.service) == ("FedEx", "FEDEX_2_DAY")
    # The earliest of the arrive-by dates counts; weekends are not delivery days.
    chosen = choose_rate(order(dates={"requested_delivery": dt.date(2026, 12, 20),
                                      "do_not_deliver_after": dt.date(2026, 12, 8)}), RATES, ROUTING, today=MONDAY)
    assert chosen.service == "NextDayAir"
    assert add_business_days(dt.date(2026, 12, 11), 1) == dt.date(2026, 12, 14)


def test_no_rate_in_time_is_a_refusal_naming_the_date():
    with pytest.raises(RejectedDocument, match="2026-12-07"):
        choose_rate(order(dates={"requested_delivery": MONDAY}), RATES, ROUTING, today=MONDAY)


def test_td5_carrier_and_service_win_over_price():
    chosen = choose_rate(order(carrier=Carrier(scac="UPSN", service_level="ND")), RATES, ROUTING, today=MONDAY)
    assert (chosen.carrier, chosen.service) == ("UPS", "NextDayAir")
    chosen = choose_rate(order(carrier=Carrier(scac="UPSN")), RATES, ROUTING, today=MONDAY)
    assert (chosen.carrier, chosen.service) == ("UPS", "Ground")  # the carrier's cheapest


def test_td5_that_the_rules_do_not_map_or_no_rate_offers_is_refused():
    with pytest.raises(RejectedDocument, match="'XXXX'"):
        choose_rate(order(carrier=Carrier(scac="XXXX")), RATES, ROUTING, today=MONDAY)
    with pytest.raises(RejectedDocument, match="FedEx"):
        choose_rate(order(carrier=Carrier(scac="FDEG", service_level="ND")), RATES, ROUTING, today=MONDAY)
    with pytest.raises(RejectedDocument, match="'ZZ'"):
        choose_rate(order(carrier=Carrier(scac="UPSN", service_level="ZZ")), RATES, ROUTING, today=MONDAY)


def test_allowed_carriers_and_max_delivery_days():
    routing = ROUTING.model_copy(update={"carriers": ["UPS", "USPS"], "max_delivery_days": 4})
    chosen = choose_rate(order(), RATES, routing, today=MONDAY)
    assert (chosen.carrier, chosen.service) == ("USPS", "Priority")


def test_a_profile_lists_the_carrier_with_its_rules():
    profile = PartnerProfile.model_validate({"id": "acme", "name": "Acme", "targets": [
        {"kind": "odoo", "name": "erp"},
        {"kind": "easypost", "name": "carrier", "carrier": ROUTING.model_dump(mode="json")}]})
    assert profile.targets[1].carrier == ROUTING
    assert target_kind("easypost").asset_name("carrier") == "carrier_labels"


# -- one label per order ----------------------------------------------------------------------------

@pytest.fixture
def carrier_server():  # one per test: each store backend's run counts its own labels
    with SandboxEasyPost(test_keys={KEY}, production_keys={"EZAKcarrierlive"}) as server:
        yield server


class Flaky:
    """The real client, with the answers of chosen calls lost after they reached the carrier."""

    def __init__(self, client: EasyPostClient) -> None:
        self.client = client
        self.lose: set[str] = set()
        self.calls: list[str] = []

    @property
    def is_test(self) -> bool:
        return self.client.is_test

    def __getattr__(self, name):
        method = getattr(self.client, name)

        def call(*args, **kw):
            self.calls.append(name)
            answer = method(*args, **kw)
            if name in self.lose:
                self.lose.discard(name)
                error = RetriableError(f"{name}: timed out (answer lost)")
                error.write_in_doubt = True
                raise error
            return answer

        return call


@pytest.fixture
def make_target(carrier_server, store):
    clients = []

    def make(key: str = KEY, mode: str = "test", routing=ROUTING, timeout: float = 5) -> CarrierTarget:
        config = EasyPostConfig(api_key=SecretStr(key), mode=mode,
                                http={"base_url": carrier_server.base_url, "timeout_seconds": timeout})
        client = EasyPostClient(config)
        clients.append(client)
        return CarrierTarget(Flaky(client), store, name="carrier", routing_of=lambda partner: routing,
                             write_settle=dt.timedelta(seconds=90), today=lambda: MONDAY)

    yield make
    for client in clients:
        client.close()


def bought_for(server: SandboxEasyPost, reference: str) -> list[str]:
    return [sid for sid, _ in server.buys if server.state.shipments[sid]["reference"] == reference]


def test_a_label_is_bought_once_and_a_second_push_buys_nothing(make_target, carrier_server, store):
    target = make_target()
    assert isinstance(target, OrderTarget)
    first = target.push(order("PO-A1"))
    assert first.action is Action.CREATED and first.record.startswith("EZ") and first.record_id.startswith("shp_")
    assert target.push(order("PO-A1")).action is Action.UNCHANGED
    assert len(bought_for(carrier_server, "acme:PO-A1")) == 1
    with store.transaction() as conn:
        row = st.shipment_by_reference(conn, "carrier", "acme:PO-A1")
    assert row.state is st.ShipmentState.BOUGHT and row.tracker_id.startswith("trk_") and row.carrier
    assert target.look_up("acme", ["PO-A1", "PO-none"]) == {
        "PO-A1": [target.look_up("acme", ["PO-A1"])["PO-A1"][0]], "PO-none": []}
    assert target.reconcile({"acme": {"PO-A1": True}}).passed


def test_a_lost_buy_answer_is_looked_up_and_never_bought_twice(make_target, carrier_server, store):
    target = make_target()
    target.service.lose.add("buy")
    with pytest.raises(RetriableError) as raised:
        target.push(order("PO-B1"))
    assert raised.value.write_in_doubt and raised.value.retry_after == 90  # not looked at before it settles
    with store.transaction() as conn:  # the row knew the shipment before the buy was sent
        assert st.shipment_by_reference(conn, "carrier", "acme:PO-B1").state is st.ShipmentState.BUYING
    again = target.push(order("PO-B1"))
    assert again.action is Action.CREATED
    assert target.service.calls.count("buy") == 1 and "retrieve_shipment" in target.service.calls
    assert len(bought_for(carrier_server, "acme:PO-B1")) == 1
    with store.transaction() as conn:
        assert st.shipment_by_reference(conn, "carrier", "acme:PO-B1").state is st.ShipmentState.BOUGHT


def test_a_real_timeout_after_the_buy_still_leaves_one_label(make_target, carrier_server):
    target = make_target(timeout=0.3)
    carrier_server.buy_delay_seconds = 1.0
    try:
        with pytest.raises(RetriableError) as raised:
            target.push(order("PO-T1"))
    finally:
        carrier_server.buy_delay_seconds = 0
    assert raised.value.write_in_doubt
    assert target.push(order("PO-T1")).action is Action.CREATED
    assert target.push(order("PO-T1")).action is Action.UNCHANGED
    assert len(bought_for(carrier_server, "acme:PO-T1")) == 1


def test_a_lost_create_answer_leaves_an_unbought_shipment_only(make_target, carrier_server):
    target = make_target()
    target.service.lose.add("create_shipment")
    with pytest.raises(RetriableError):
        target.push(order("PO-C1"))
    target.push(order("PO-C1"))
    created = [s for s in carrier_server.state.shipments.values() if s["reference"] == "acme:PO-C1"]
    assert len(created) == 2 and len(bought_for(carrier_server, "acme:PO-C1")) == 1


def test_a_buy_refused_because_already_bought_is_recorded_not_raised(make_target, carrier_server, store):
    target = make_target()
    target.service.lose.add("buy")
    with pytest.raises(RetriableError):
        target.push(order("PO-D1"))
    with store.transaction() as conn:  # as if the retrieve had not shown it bought: a second buy is refused
        row = st.shipment_by_reference(conn, "carrier", "acme:PO-D1")
    real_retrieve = target.service.client.retrieve_shipment
    answers = iter([real_retrieve(row.shipment_id).model_copy(update={"selected_rate": None, "postage_label": None,
                                                                       "tracking_code": None})])
    target.service.client.retrieve_shipment = lambda sid: next(answers, None) or real_retrieve(sid)
    assert target.push(order("PO-D1")).action is Action.CREATED
    assert len(bought_for(carrier_server, "acme:PO-D1")) == 1


def test_refusals_and_cancellations(make_target, carrier_server):
    target = make_target()
    with pytest.raises(RejectedDocument, match="ship-to"):
        target.push(order("PO-E1", ship_to=False))
    with pytest.raises(RejectedDocument, match="TD5"):
        target.push(order("PO-E2", carrier=Carrier(scac="XXXX")))
    assert not bought_for(carrier_server, "acme:PO-E2")
    assert target.cancel(order("PO-E3")).action is Action.NOT_THERE
    target.push(order("PO-E3"))
    refused = target.cancel(order("PO-E3"))
    assert refused.action is Action.REFUSED and "refund" in refused.reason
    with pytest.raises(ConfigurationError, match="routing"):
        make_target(routing=None).push(order("PO-E4"))


def test_test_orders_are_never_bought_with_a_production_key(make_target, carrier_server):
    live = make_target(key="EZAKcarrierlive", mode="production")
    with pytest.raises(RejectedDocument, match="test order"):
        live.push(order("PO-F1", is_test=True))
    assert live.push(order("PO-F2")).action is Action.CREATED
    assert carrier_server.state.shipments[bought_for(carrier_server, "acme:PO-F2")[0]]["mode"] == "production"


def test_the_resource_checks_the_key_against_the_mode(carrier_server, sqlite_store, tmp_path):
    from hub.targets.carrier._resource import CarrierResource

    resource = CarrierResource(base_url=carrier_server.base_url, api_key="EZAKcarrierlive", mode="test",
                               partners_dir=str(tmp_path))
    with pytest.raises(ConfigurationError, match="EZTK"), resource.target("carrier"):
        pass
    assert httpx.URL(CarrierResource(base_url=carrier_server.base_url, api_key=KEY).config().base_url).port


def test_shipment_states_are_the_strings_stored():
    assert [state.value for state in st.ShipmentState] == ["created", "buying", "bought"]


def test_a_label_bought_twice_at_the_carrier_shows_as_doubled(make_target, carrier_server):
    from connectors.easypost import Address, Parcel

    target = make_target()
    target.push(order("PO-G1"))
    assert target.reconcile({"acme": {"PO-G1": True, "PO-G2": True}}).missing == ["PO-G2"]
    # Someone buys a second label under our reference (the dashboard, a second hub): the check sees it.
    client = target.service.client
    extra = client.create_shipment(from_address=Address(**ROUTING.ship_from.model_dump()),
                                   to_address=Address(street1="1 Main St", city="Austin", zip="78701"),
                                   parcel=Parcel(weight=1), reference="acme:PO-G1")
    client.buy(extra.id, extra.rates[0].id)
    result = target.reconcile({"acme": {"PO-G1": True}})
    assert not result.passed and result.doubled == {"PO-G1": 2}
