"""Carrier tracking: signed EasyPost webhooks (valid, forged, replayed) and polling of quiet trackers."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from pydantic import SecretStr

from connectors.easypost import EasyPostClient, EasyPostConfig
from hub import store as st
from hub.targets.carrier import CarrierTarget, poll_stale_trackers
from hub.webhooks import create_webhook_app
from hub.webhooks._easypost import easypost_signature_valid
from mappings.profiles import PartnerDirectory, PartnerProfile
from sandbox._server import BackgroundServer
from sandbox.easypost_server import SandboxEasyPost, sign_webhook
from tests.test_carrier_target import KEY, ROUTING, order

SECRET = "whsec_carrier_0123"
ENV = {"HUB_CARRIER_WEBHOOK_SECRET": SECRET}
ACME = PartnerProfile.model_validate({"id": "acme", "name": "Acme", "targets": [
    {"kind": "odoo", "name": "erp"},
    {"kind": "easypost", "name": "carrier", "carrier": ROUTING.model_dump(mode="json")}]})
PARTNERS = PartnerDirectory([ACME])


@contextmanager
def served(app) -> Iterator[httpx.Client]:
    with BackgroundServer(app, name="webhook receiver") as server, httpx.Client(base_url=server.base_url) as client:
        yield client


@pytest.fixture
def carrier():
    with SandboxEasyPost(test_keys={KEY}) as server:
        yield server


@pytest.fixture
def client(carrier):
    config = EasyPostConfig(api_key=SecretStr(KEY), http={"base_url": carrier.base_url})
    with EasyPostClient(config) as client:
        yield client


@pytest.fixture
def bought(client, sqlite_store):
    """One order's label bought through the carrier target; its row."""
    target = CarrierTarget(client, sqlite_store, name="carrier", routing_of=lambda p: ROUTING,
                           write_settle=dt.timedelta(seconds=90))
    target.push(order("PO-W1"))
    with sqlite_store.transaction() as conn:
        return st.shipment_by_reference(conn, "carrier", "acme:PO-W1")


@pytest.fixture
def hooks(sqlite_store):
    with served(create_webhook_app(lambda: sqlite_store, PARTNERS, env=ENV)) as http:
        yield http


def status_of(store, reference="acme:PO-W1"):
    with store.transaction() as conn:
        return st.shipment_by_reference(conn, "carrier", reference).tracking_status


def post(http, body: bytes, signature: str | None, target="carrier") -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hmac-Signature"] = signature
    return http.post(f"/webhooks/easypost/{target}", content=body, headers=headers)


def test_signature_is_easypost_hex_hmac_with_prefix_compared_whole():
    body = b'{"id": "evt_1"}'
    good = sign_webhook(body, SECRET)
    assert easypost_signature_valid(body, good, SECRET)
    assert not easypost_signature_valid(body, good.removeprefix("hmac-sha256-hex="), SECRET)
    assert not easypost_signature_valid(body + b" ", good, SECRET)
    assert not easypost_signature_valid(body, good.upper(), SECRET)
    assert not easypost_signature_valid(body, None, SECRET) and not easypost_signature_valid(body, good, "")


def test_a_signed_event_sets_the_status_once_and_a_replay_changes_nothing(carrier, bought, hooks, sqlite_store):
    assert bought.tracking_status == "pre_transit"
    body = carrier.tracker_event(bought.tracker_id, "in_transit")
    answer = post(hooks, body, sign_webhook(body, SECRET))
    assert answer.status_code == 200 and answer.json() == {"status": "applied", "updated": 1}
    assert status_of(sqlite_store) == "in_transit"
    # A later event moves it on; then the first one delivered again (EasyPost retries) is a no-op.
    later = carrier.tracker_event(bought.tracker_id, "delivered")
    assert post(hooks, later, sign_webhook(later, SECRET)).json()["status"] == "applied"
    replay = post(hooks, body, sign_webhook(body, SECRET))
    assert replay.status_code == 200 and replay.json()["status"] == "duplicate"
    assert status_of(sqlite_store) == "delivered"


def test_the_sandbox_posts_signed_events_to_the_endpoint_over_a_socket(carrier, bought, sqlite_store):
    with BackgroundServer(create_webhook_app(lambda: sqlite_store, PARTNERS, env=ENV)) as server:
        answer = carrier.send_tracker_event(f"{server.base_url}/webhooks/easypost/carrier", bought.tracker_id,
                                            "out_for_delivery", secret=SECRET)
    assert answer.status_code == 200 and status_of(sqlite_store) == "out_for_delivery"


@pytest.mark.parametrize("signature", [None, "hmac-sha256-hex=00", "forged"])
def test_forged_or_unsigned_events_are_refused_and_change_nothing(carrier, bought, hooks, sqlite_store, signature):
    body = carrier.tracker_event(bought.tracker_id, "delivered")
    assert post(hooks, body, signature).status_code == 401
    assert post(hooks, body, sign_webhook(body, "another-secret")).status_code == 401
    assert status_of(sqlite_store) == "pre_transit"
    # The real event later is still applied: a refused forgery did not burn its id.
    assert post(hooks, body, sign_webhook(body, SECRET)).json()["status"] == "applied"


def test_unknown_target_missing_secret_oversize_and_non_events(carrier, bought, sqlite_store):
    body = carrier.tracker_event(bought.tracker_id, "in_transit")
    with served(create_webhook_app(lambda: sqlite_store, PARTNERS, env={})) as http:
        assert post(http, body, sign_webhook(body, SECRET)).status_code == 503
    with served(create_webhook_app(lambda: sqlite_store, PARTNERS, env=ENV)) as http:
        assert post(http, body, sign_webhook(body, SECRET), target="erp").status_code == 404
        assert post(http, body, sign_webhook(body, SECRET), target="nowhere").status_code == 404
        big = b"{" + b" " * 300_000 + b"}"
        assert post(http, big, sign_webhook(big, SECRET)).status_code == 413
        for junk in (b"[1]", b"not json", json.dumps({"description": "tracker.updated"}).encode()):
            assert post(http, junk, sign_webhook(junk, SECRET)).status_code == 400
        other = json.dumps({"id": "evt_batch", "description": "batch.updated", "result": {}}).encode()
        assert post(http, other, sign_webhook(other, SECRET)).json()["status"] == "ignored"
    assert status_of(sqlite_store) == "pre_transit"


def test_polling_retrieves_only_quiet_unfinished_trackers(carrier, client, bought, sqlite_store):
    carrier.advance_tracker(bought.tracker_id, "in_transit")
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert poll_stale_trackers(sqlite_store, client, "carrier", quiet_for=dt.timedelta(hours=6), now=soon).polled == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=7)
    result = poll_stale_trackers(sqlite_store, client, "carrier", quiet_for=dt.timedelta(hours=6), now=later)
    assert (result.polled, result.updated, result.failed) == (1, 1, 0)
    assert status_of(sqlite_store) == "in_transit"
    carrier.advance_tracker(bought.tracker_id, "delivered")
    much_later = later + dt.timedelta(hours=7)
    poll_stale_trackers(sqlite_store, client, "carrier", quiet_for=dt.timedelta(hours=6), now=much_later)
    assert status_of(sqlite_store) == "delivered"
    # Delivered is final: never polled again.
    assert poll_stale_trackers(sqlite_store, client, "carrier", quiet_for=dt.timedelta(hours=6),
                               now=much_later + dt.timedelta(days=3)).polled == 0


def test_the_code_location_has_a_tracking_poll_per_carrier_target(tmp_path, carrier, client, bought, sqlite_store,
                                                                    monkeypatch):
    import dagster as dg
    import yaml

    from hub.defs import build_definitions
    from hub.defs.carrier.component import tracking_defs
    from hub.defs.resources import HubStoreResource
    from hub.targets.carrier._resource import CarrierResource

    (tmp_path / "acme.yaml").write_text(yaml.safe_dump(ACME.model_dump(mode="json", exclude_defaults=True)))
    defs = build_definitions(tmp_path)
    assert {"carrier_labels", "carrier_tracking"} <= {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    assert defs.resolve_job_def("carrier_tracking_job") is not None
    assert defs.resolve_schedule_def("carrier_tracking_hourly").cron_schedule == "17 * * * *"

    carrier.advance_tracker(bought.tracker_id, "in_transit")
    built = list(tracking_defs("carrier").assets or ())  # the same factory, with this test's resources
    asset = built[0]
    assert isinstance(asset, dg.AssetsDefinition)
    result = dg.materialize([asset], run_config={"ops": {"carrier_tracking": {"config": {"quiet_hours": 0}}}},
                            resources={"hub_store": HubStoreResource(database_url=str(sqlite_store.engine.url),
                                                                     partners_dir=str(tmp_path)),
                                       "carrier": CarrierResource(base_url=carrier.base_url, api_key=KEY,
                                                                  partners_dir=str(tmp_path))})
    assert result.success
    (materialization,) = result.asset_materializations_for_node("carrier_tracking")
    assert materialization.metadata["updated"].value == 1
    assert status_of(sqlite_store) == "in_transit"
