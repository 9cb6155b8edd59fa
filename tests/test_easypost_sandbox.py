"""The real EasyPost client against the sandbox carrier over a socket: the contract both keep."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from canonical.errors import ConfigurationError, RejectedDocument, RetriableError
from connectors.easypost import Address, EasyPostClient, EasyPostConfig, NotFound, Parcel
from sandbox.easypost_server import SandboxEasyPost, sign_webhook

TEST_KEY, LIVE_KEY = "EZTKsandboxtest", "EZAKsandboxlive"
FROM = Address(company="Hub Warehouse", street1="1 Dock Rd", city="Reno", state="NV", zip="89501")
TO = Address(name="Jane Q. Customer", street1="17 Privacy Lane", city="Austin", state="TX", zip="78701")


@pytest.fixture(scope="module")
def carrier():
    with SandboxEasyPost(test_keys={TEST_KEY}, production_keys={LIVE_KEY}) as server:
        yield server


def client_for(carrier, key=TEST_KEY, mode="test", **http):
    config = EasyPostConfig(api_key=SecretStr(key), mode=mode, http={"base_url": carrier.base_url, **http})
    return EasyPostClient(config, sleep=lambda s: None)


def test_rates_buy_retrieve_and_track(carrier):
    with client_for(carrier) as client:
        shipment = client.create_shipment(from_address=FROM, to_address=TO, parcel=Parcel(weight=20),
                                          reference="acme:PO-1")
        assert shipment.reference == "acme:PO-1" and not shipment.bought
        assert {r.carrier for r in shipment.rates} == {"USPS", "UPS", "FedEx"}
        assert all(r.delivery_days for r in shipment.rates)
        cheapest = min(shipment.rates, key=lambda r: r.rate)
        bought = client.buy(shipment.id, cheapest.id)
        assert bought.bought and bought.tracking_code and bought.postage_label.label_url
        assert bought.selected_rate.id == cheapest.id
        again = client.retrieve_shipment(shipment.id)
        assert again.bought and again.tracking_code == bought.tracking_code
        assert client.retrieve_tracker(bought.tracker.id).tracking_code == bought.tracking_code
        assert client.create_tracker(bought.tracking_code).id == bought.tracker.id  # the same tracker back
        page = client.list_shipments(purchased=True)
        assert shipment.id in [s.id for s in page.shipments]


def test_buying_a_bought_shipment_is_refused_and_sells_nothing(carrier):
    with client_for(carrier) as client:
        shipment = client.create_shipment(from_address=FROM, to_address=TO, parcel=Parcel(weight=8),
                                          reference="acme:PO-2")
        client.buy(shipment.id, shipment.rates[0].id)
        sold = len(carrier.buys)
        with pytest.raises(RejectedDocument, match="SHIPMENT"):
            client.buy(shipment.id, shipment.rates[1].id)
        assert len(carrier.buys) == sold


def test_test_and_production_data_are_apart_and_keys_are_checked(carrier):
    with client_for(carrier) as test, client_for(carrier, LIVE_KEY, "production") as live:
        shipment = test.create_shipment(from_address=FROM, to_address=TO, parcel=Parcel(weight=8),
                                        reference="acme:PO-3")
        assert shipment.mode == "test"
        with pytest.raises(NotFound):
            live.retrieve_shipment(shipment.id)
        assert shipment.id not in [s.id for s in live.list_shipments().shipments]
    with client_for(carrier, "EZTKunknown") as stranger, pytest.raises(ConfigurationError, match="APIKEY"):
        stranger.retrieve_shipment(shipment.id)


def test_invalid_shipment_is_rejected_with_fields(carrier):
    with client_for(carrier) as client, pytest.raises(RejectedDocument) as raised:
        client.create_shipment(from_address=FROM, to_address=TO.model_copy(update={"zip": ""}),
                               parcel=Parcel(weight=1), reference="acme:PO-4")
    assert "shipment.to_address.zip" in str(raised.value)


def test_throttled_reads_wait_and_succeed_and_writes_are_handed_back(carrier):
    with client_for(carrier, max_retries=2) as client:
        shipment = client.create_shipment(from_address=FROM, to_address=TO, parcel=Parcel(weight=8),
                                          reference="acme:PO-5")
        carrier.throttle(1, retry_after=1)
        assert client.retrieve_shipment(shipment.id).id == shipment.id
        assert client.stats.responses_429 == 1
        carrier.throttle(1, retry_after=1)
        with pytest.raises(RetriableError) as raised:
            client.buy(shipment.id, shipment.rates[0].id)
        assert raised.value.retry_after == 1 and not raised.value.write_in_doubt
        assert shipment.id not in [s for s, _ in carrier.buys]


def test_a_late_buy_answer_times_out_but_the_label_is_bought(carrier):
    with client_for(carrier, timeout_seconds=0.3) as client:
        shipment = client.create_shipment(from_address=FROM, to_address=TO, parcel=Parcel(weight=8),
                                          reference="acme:PO-6")
        carrier.buy_delay_seconds = 1.0
        try:
            with pytest.raises(RetriableError) as raised:
                client.buy(shipment.id, shipment.rates[0].id)
        finally:
            carrier.buy_delay_seconds = 0
        assert raised.value.write_in_doubt
        assert client.retrieve_shipment(shipment.id).bought


def test_tracker_event_is_signed_as_easypost_signs():
    body = b'{"id": "evt_1"}'
    # The hex HMAC-SHA256 of the body with the secret, behind EasyPost's prefix.
    assert sign_webhook(body, "s3cret") == (
        "hmac-sha256-hex=" + __import__("hmac").new(b"s3cret", body, "sha256").hexdigest())
    # The secret is NFKD-normalized first: a composed and a decomposed accent sign alike.
    assert sign_webhook(body, "caf\u00e9") == sign_webhook(body, "cafe\u0301")
