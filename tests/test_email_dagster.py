"""The email channel through Dagster against a real Dovecot: the mailbox's sensor asks for a run, the account's
sync job stores the orders and pushes them to the sandbox ERP, the messages end up in Processed."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import pytest
from sqlalchemy import select

from hub import store as st
from hub.defs import build_definitions
from sandbox.environment import CATALOG, ERP_API_KEY, ERP_DATABASE
from sandbox.erp_server import SandboxErp
from tests.email_messages import message
from tests.fixtures.dovecot import PASSWORD

PROFILE = """\
id: acme_mail
name: Acme Retail
channels:
  - kind: email_imap
    host: 127.0.0.1
    port: {port}
    security: plain
    username: {user}
    password_env: HUB_ACME_IMAP_PASSWORD
    sender_domains: [acme-retail.test]
"""


@pytest.fixture
def erp() -> Iterator[SandboxErp]:
    server = SandboxErp(api_key=ERP_API_KEY, database=ERP_DATABASE).start()
    server.seed_products(CATALOG)
    yield server
    server.stop()


@pytest.fixture
def hub_env(tmp_path, monkeypatch, erp, dovecot_server) -> Iterator[tuple[st.HubStore, str]]:
    user = dovecot_server.new_mailbox()
    partners = tmp_path / "partners"
    partners.mkdir()
    (partners / "acme_mail.yaml").write_text(PROFILE.format(port=dovecot_server.port, user=user))
    url = f"sqlite:///{tmp_path / 'hub.sqlite3'}"
    for key, value in {"HUB_DATABASE_URL": url, "HUB_ERP_URL": erp.base_url, "HUB_ERP_DATABASE": ERP_DATABASE,
                       "HUB_ERP_API_KEY": ERP_API_KEY, "HUB_PARTNERS_DIR": str(partners),
                       "HUB_ACME_IMAP_PASSWORD": PASSWORD}.items():
        monkeypatch.setenv(key, value)
    store = st.HubStore(url).migrate()
    yield store, user
    store.dispose()


def test_the_mailbox_sensor_asks_for_a_sync_that_delivers_to_the_erp(hub_env, erp, dovecot_server):
    store, user = hub_env
    sku_a, sku_b = CATALOG[0][0], CATALOG[1][0]
    defs = build_definitions()
    repository = defs.get_repository_def()
    sensor = repository.get_sensor_def("email_inbox_acme_mail")
    assert sensor.job_name == "email_acme_mail_sync"
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert "email_acme_mail_every_5_minutes" in {s.name for s in repository.schedule_defs}
    job = defs.resolve_job_def("email_acme_mail_sync")
    assert {k.to_user_string() for k in job.asset_layer.executable_asset_keys} == {
        "email_orders_acme_mail", "erp_sales_orders", "exception_queue"}

    instance = dg.DagsterInstance.ephemeral()
    resources = {"email_acme_mail": repository.get_top_level_resources()["email_acme_mail"]}
    def tick():
        with dg.build_sensor_context(instance=instance, resources=resources) as context:
            return sensor.evaluate_tick(context)

    assert tick().run_requests == [], "an empty mailbox asks for nothing"
    dovecot_server.append(user, message(f"3 x {sku_a} @ 19.99\n1 x {sku_b} @ 5.00\n", subject="PO 31000"))
    (request,) = tick().run_requests
    assert request.run_key and request.run_key.startswith("email:acme_mail:")

    result = job.execute_in_process(instance=instance, raise_on_error=False)
    assert result.success
    meta = result.asset_materializations_for_node("email_orders_acme_mail")[0].metadata
    assert (meta["pages"].value, meta["orders_new"].value) == (1, 1)
    assert [o["client_order_ref"] for o in erp.sale_orders()] == ["31000"]
    assert (dovecot_server.count(user, "INBOX"), dovecot_server.count(user, "Processed")) == (0, 1)
    assert tick().run_requests == [], "nothing waits once the run moved it"

    again = job.execute_in_process(instance=instance)
    assert again.asset_materializations_for_node("email_orders_acme_mail")[0].metadata["pages"].value == 0
    assert len(erp.sale_orders()) == 1
    with store.transaction() as conn:
        outcomes = conn.execute(select(st.tables.receipts.c.outcome)).scalars().all()
    assert outcomes == ["accepted"]


def test_a_mailbox_without_its_password_starts_stopped(hub_env, monkeypatch):
    monkeypatch.delenv("HUB_ACME_IMAP_PASSWORD")
    repository = build_definitions().get_repository_def()
    sensor = repository.get_sensor_def("email_inbox_acme_mail")
    assert sensor.default_status == dg.DefaultSensorStatus.STOPPED
    assert "HUB_ACME_IMAP_PASSWORD not set" in (sensor.description or "")
    schedule = repository.get_schedule_def("email_acme_mail_every_5_minutes")
    assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
