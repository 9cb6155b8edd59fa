"""QuickBooks Online end to end against the sandbox company: exactly one invoice when the create's reply is lost
after it committed, the rotated refresh token kept in the hub store, pacing under the per-realm budget, credit
memos, Intuit's Fault bodies surfaced, and ``hub.accounting.invoice_order`` with the QuickBooks target."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

import pytest
from pydantic import SecretStr

from canonical.errors import ConfigurationError, RejectedDocument, RetriableError
from canonical.model import Order
from connectors.quickbooks import (
    MemoryTokenStore,
    QuickBooksClient,
    QuickBooksConfig,
    QuickBooksFault,
    SlidingWindowLimiter,
)
from hub import store as st
from hub.accounting import invoice_order
from hub.targets import AccountingTarget, BillableLine, InvoiceDraft, InvoiceKind, InvoiceLine
from hub.targets.quickbooks import QuickBooksAccountingTarget, StoreTokens, doc_number, request_id
from sandbox.quickbooks_server import SandboxQuickBooks
from tests.test_erp_sandbox import make_order

PO = "4500012345"
CUSTOMER = "Acme Corporation"


class Deliveries:
    """What the ERP says was delivered, per line: the QuickBooks target bills from it."""

    def __init__(self) -> None:
        self.quantities = {"1": Decimal(3), "2": Decimal(2)}

    def billable(self, order: Order) -> list[BillableLine]:
        return [BillableLine("1", "WID-100", self.quantities["1"], Decimal("4.40"), "11"),
                BillableLine("2", "GAD-300", self.quantities["2"], Decimal("19.90"), "12")]


@pytest.fixture
def qbo():
    with SandboxQuickBooks(requests_per_minute=500) as server:
        server.seed(customers=[CUSTOMER], items=["WID-100", "GAD-300"])
        yield server


def connect(qbo: SandboxQuickBooks, store: st.HubStore, *, seed: str | None = None, timeout: float = 5,
            retries: int = 0, limiter: SlidingWindowLimiter | None = None) -> QuickBooksClient:
    config = QuickBooksConfig(realm_id=qbo.realm_id, client_id=qbo.client_id,
                              client_secret=SecretStr(qbo.client_secret), token_url=qbo.token_url,
                              http={"base_url": qbo.base_url, "timeout_seconds": timeout, "max_retries": retries})
    tokens = StoreTokens(store, qbo.realm_id, seed=seed if seed is not None else qbo.refresh_token)
    return QuickBooksClient(config, tokens, rate_limiter=limiter or SlidingWindowLimiter(500))


def target_of(client: QuickBooksClient, deliveries: Deliveries | None = None) -> QuickBooksAccountingTarget:
    return QuickBooksAccountingTarget(client, deliveries or Deliveries(), name="erp",
                                      customer_of=lambda partner: CUSTOMER, item_of=lambda partner, sku: sku)


def draft(reference: str = f"orderhub:acme:{PO}/1", kind: InvoiceKind = InvoiceKind.INVOICE,
          refund_of: str | None = None, quantities=(3, 2)) -> InvoiceDraft:
    lines = (InvoiceLine("1", "WID-100", Decimal(quantities[0]), Decimal("4.40")),
             InvoiceLine("2", "GAD-300", Decimal(quantities[1]), Decimal("19.90")))
    return InvoiceDraft(reference, kind, tuple(line for line in lines if line.quantity), refund_of=refund_of)


def creates(qbo: SandboxQuickBooks) -> list[dict[str, str]]:
    return [query for method, path, query in qbo.state.requests if method == "POST"]


def test_it_is_an_accounting_target(qbo, store):
    with connect(qbo, store) as client:
        assert isinstance(target_of(client), AccountingTarget)


def test_an_invoice_lands_once_with_our_doc_number_memo_and_lines(qbo, store):
    with connect(qbo, store) as client:
        booked = target_of(client).create(make_order(PO), draft())
        again = target_of(client).create(make_order(PO), draft())  # a retry finds it, creates nothing
    (invoice,) = qbo.invoices
    assert again == booked
    assert booked.record == invoice["DocNumber"] == doc_number(f"orderhub:acme:{PO}/1")
    assert len(booked.record) <= 21 and booked.state == "posted" and booked.reference == f"orderhub:acme:{PO}/1"
    assert invoice["CustomerMemo"] == {"value": f"PO {PO}"} and invoice["TotalAmt"] == pytest.approx(53.00)
    assert [(line.line_no, line.sku, line.quantity, line.unit_price) for line in booked.lines] == [
        ("1", "WID-100", Decimal("3"), Decimal("4.4")), ("2", "GAD-300", Decimal("2"), Decimal("19.9"))]
    assert [query["requestid"] for query in creates(qbo)] == [request_id(f"orderhub:acme:{PO}/1")]
    assert {query["minorversion"] for _, _, query in qbo.state.requests} == {"75"}


def test_a_create_whose_reply_is_lost_after_commit_is_found_on_the_retry_not_doubled(qbo, store):
    """The done-when point: the first create commits in QuickBooks but its answer never arrives."""
    qbo.reply_delay_seconds = 1.5
    with connect(qbo, store, timeout=0.5) as client:
        with pytest.raises(RetriableError) as caught:
            target_of(client).create(make_order(PO), draft())
        assert caught.value.write_in_doubt
        assert len(qbo.invoices) == 1  # committed although we never heard
        booked = target_of(client).create(make_order(PO), draft())  # the next pass: looked up by DocNumber
    assert [invoice["Id"] for invoice in qbo.invoices] == [booked.record_id]
    assert len(creates(qbo)) == 1


def test_a_create_resent_after_a_timeout_is_deduplicated_by_its_requestid(qbo, store):
    qbo.reply_delay_seconds = 1.5
    with connect(qbo, store, timeout=0.5, retries=2) as client:
        booked = target_of(client).create(make_order(PO), draft())
    (invoice,) = qbo.invoices
    assert booked.record_id == invoice["Id"]
    sent = creates(qbo)
    assert len(sent) == 2 and sent[0]["requestid"] == sent[1]["requestid"]  # Intuit answered the replay


def test_the_rotated_refresh_token_is_kept_in_the_store_and_the_next_run_uses_it(qbo, store):
    seed = qbo.refresh_token
    with connect(qbo, store) as client:
        client.query("Invoice")
    rotated = qbo.refresh_token
    assert rotated != seed
    assert StoreTokens(store, qbo.realm_id, seed=seed).load() == rotated
    qbo.expire_access_tokens()
    with connect(qbo, store, seed=seed) as client:  # a new run: the environment still has the old seed
        client.query("Invoice")
    assert StoreTokens(store, qbo.realm_id, seed=seed).load() == qbo.refresh_token != rotated
    assert len(qbo.state.refresh_tokens_issued) == 2


def test_a_401_mid_run_renews_once_and_keeps_that_token_too(qbo, store):
    seed = qbo.refresh_token
    with connect(qbo, store) as client:
        client.query("Invoice")
        qbo.expire_access_tokens()
        client.query("Invoice")
        assert client.oauth.fetches == 2
    assert len(qbo.state.refresh_tokens_issued) == 2
    assert StoreTokens(store, qbo.realm_id, seed=seed).load() == qbo.refresh_token == qbo.state.refresh_tokens_issued[1]


def test_a_dead_refresh_token_fails_clearly(qbo, store):
    with connect(qbo, store, seed="AB11-revoked") as client, pytest.raises(ConfigurationError,
                                                                           match=r"invalid_grant.*reconnect"):
        client.query("Invoice")


def test_a_new_seed_in_the_environment_wins_over_the_stored_token(qbo, store):
    tokens = StoreTokens(store, qbo.realm_id, seed="AB11-old-seed")
    tokens.save("AB11-rotated-from-old", 100)
    assert tokens.load() == "AB11-rotated-from-old"
    assert StoreTokens(store, qbo.realm_id, seed="AB11-reconnected").load() == "AB11-reconnected"


def test_pacing_keeps_under_the_realm_budget_and_a_429_is_waited_out():
    with SandboxQuickBooks(requests_per_minute=3, window_seconds=1.0) as qbo:
        config = QuickBooksConfig(realm_id=qbo.realm_id, client_id=qbo.client_id,
                                  client_secret=SecretStr(qbo.client_secret), token_url=qbo.token_url,
                                  http={"base_url": qbo.base_url, "max_retries": 2})
        started = time.monotonic()
        with QuickBooksClient(config, MemoryTokenStore(qbo.refresh_token),
                              rate_limiter=SlidingWindowLimiter(3, window=1.25)) as client:
            # A little more than the sandbox's second: its clock starts when a request arrives, ours when it leaves.
            for _ in range(6):
                client.query("Invoice")
            assert client.stats.responses_429 == 0 and client.stats.throttle_waits >= 1
            assert time.monotonic() - started >= 1.2  # six requests, three per window
            time.sleep(1.3)
            qbo.throttle(1, retry_after=0)
            client.query("Invoice")
            assert client.stats.responses_429 == 1


def test_the_sandbox_throttles_a_client_that_does_not_pace():
    with SandboxQuickBooks(requests_per_minute=2, window_seconds=30) as qbo:
        config = QuickBooksConfig(realm_id=qbo.realm_id, client_id=qbo.client_id,
                                  client_secret=SecretStr(qbo.client_secret), token_url=qbo.token_url,
                                  http={"base_url": qbo.base_url, "max_retries": 0})
        with QuickBooksClient(config, MemoryTokenStore(qbo.refresh_token),
                              rate_limiter=SlidingWindowLimiter(500)) as client:
            client.query("Invoice")
            client.query("Invoice")
            with pytest.raises(RetriableError, match="HTTP 429: ThrottleExceeded 3001"):
                client.query("Invoice")


def test_a_credit_memo_against_the_invoice_and_invoices_of_the_po(qbo, store):
    with connect(qbo, store) as client:
        target = target_of(client)
        invoice = target.create(make_order(PO), draft())
        memo = target.create(make_order(PO), draft(f"orderhub:acme:{PO}/C1", InvoiceKind.CREDIT_NOTE,
                                                   refund_of=invoice.record_id, quantities=(1, 0)))
        booked = target.invoices_of(make_order(PO))
        assert target.invoices_of(make_order("OTHER-PO")) == []
    (credit,) = qbo.credit_memos
    assert memo.kind is InvoiceKind.CREDIT_NOTE and memo.refund_of == invoice.record_id
    assert credit["DocNumber"] == doc_number(f"orderhub:acme:{PO}/C1") and credit["TotalAmt"] == pytest.approx(4.4)
    assert [(b.kind, b.record_id, b.refund_of) for b in booked] == [
        (InvoiceKind.INVOICE, invoice.record_id, None), (InvoiceKind.CREDIT_NOTE, memo.record_id, invoice.record_id)]


def test_an_unknown_item_or_customer_is_refused_before_anything_is_written(qbo, store):
    with connect(qbo, store) as client:
        unknown_item = QuickBooksAccountingTarget(client, Deliveries(), name="erp", customer_of=lambda p: CUSTOMER,
                                                  item_of=lambda p, sku: f"no-such-{sku}")
        with pytest.raises(RejectedDocument, match="no QuickBooks item named 'no-such-WID-100'"):
            unknown_item.create(make_order(PO), draft())
        unknown_customer = QuickBooksAccountingTarget(client, Deliveries(), name="erp", customer_of=lambda p: "Nobody",
                                                      item_of=lambda p, sku: sku)
        with pytest.raises(RejectedDocument, match="no QuickBooks customer with DisplayName 'Nobody'"):
            unknown_customer.create(make_order(PO), draft())
    assert qbo.invoices == [] and creates(qbo) == []


def test_intuits_fault_body_is_surfaced_as_a_clear_rejection(qbo, store):
    with connect(qbo, store) as client, pytest.raises(QuickBooksFault) as caught:
        client.create("Invoice", {"CustomerRef": {"value": "999"}, "Line": []}, request_id="orderhub-fault")
    assert caught.value.codes == ("2500",) and caught.value.fault_type == "ValidationFault"
    assert "HTTP 400: ValidationFault 2500: Invalid Reference Id: Invalid Reference Id : Customer '999' does not " \
           "exist (element CustomerRef)" in str(caught.value)


def test_invoice_order_bills_deliveries_once_and_credits_a_return(qbo, store):
    deliveries = Deliveries()
    order = make_order(PO)
    with connect(qbo, store) as client:
        target = target_of(client, deliveries)
        (first,) = invoice_order(store, target, order)
        assert invoice_order(store, target, order) == []  # a second pass bills nothing twice
        deliveries.quantities["1"] = Decimal(2)  # one WID-100 came back
        (credit,) = invoice_order(store, target, order)
    assert first.action == "posted" and first.record == doc_number(f"orderhub:acme:{PO}/1")
    assert credit.kind == InvoiceKind.CREDIT_NOTE and credit.action == "posted"
    assert len(qbo.invoices) == 1 and len(qbo.credit_memos) == 1
    with store.transaction() as conn:
        assert sorted((i.reference, i.state) for i in st.list_invoices(conn)) == [
            (f"orderhub:acme:{PO}/1", st.InvoiceState.POSTED), (f"orderhub:acme:{PO}/C1", st.InvoiceState.POSTED)]


def test_the_sandbox_environment_runs_a_company_only_for_profiles_that_invoice_in_quickbooks(tmp_path):
    from mappings.profiles import PartnerDirectory
    from sandbox.quickbooks_server import quickbooks_environment, quickbooks_for
    from tests.test_quickbooks_dagster import partners_with

    assert quickbooks_for(PartnerDirectory.load(Path("mappings/partners")), ["WID-100"]) is None
    server = quickbooks_for(PartnerDirectory.load(partners_with(tmp_path / "partners")), ["WID-100"])
    assert server is not None
    with server:
        env = quickbooks_environment(server)
        assert env["HUB_QBO_BASE_URL"] == server.base_url and env["HUB_QBO_REALM_ID"] == server.realm_id
        with QuickBooksClient(QuickBooksConfig(realm_id=env["HUB_QBO_REALM_ID"], client_id=env["HUB_QBO_CLIENT_ID"],
                                               client_secret=SecretStr(env["HUB_QBO_CLIENT_SECRET"]),
                                               token_url=env["HUB_QBO_TOKEN_URL"],
                                               http={"base_url": env["HUB_QBO_BASE_URL"]}),
                              MemoryTokenStore(env["HUB_QBO_REFRESH_TOKEN"])) as client:
            assert [c["DisplayName"] for c in client.query("Customer")] == ["Acme Corporation"]
            assert {i["Name"] for i in client.query("Item")} == {"WID-100", "GAD-300"}


def test_nothing_is_created_while_the_company_numbers_invoices_itself(qbo, store):
    qbo.custom_txn_numbers = False
    with connect(qbo, store) as client, pytest.raises(ConfigurationError, match="turn on Custom transaction numbers"):
        target_of(client).create(make_order(PO), draft())
    assert qbo.invoices == [] and creates(qbo) == []


def test_an_invoice_typed_by_hand_with_the_po_in_its_memo_counts_for_the_po(qbo, store):
    customer = qbo.state.records["Customer"][0]["Id"]
    item = next(i["Id"] for i in qbo.state.records["Item"] if i["Name"] == "GAD-300")
    with connect(qbo, store) as client:
        client.create("Invoice", {"CustomerRef": {"value": customer}, "CustomerMemo": {"value": f"PO {PO}"},
                                  "Line": [{"DetailType": "SalesItemLineDetail", "Amount": 39.8,
                                            "SalesItemLineDetail": {"ItemRef": {"value": item, "name": "GAD-300"},
                                                                    "Qty": 2, "UnitPrice": 19.9}}]},
                      request_id="typed-by-hand")
        (booked,) = target_of(client).invoices_of(make_order(PO))
    assert booked.reference == "" and [(line.line_no, line.sku) for line in booked.lines] == [("2", "GAD-300")]


def test_invoice_order_under_a_timeout_after_commit_posts_exactly_one_invoice(qbo, store):
    """Issue 13's done-when, through the hub's invoicing: the reply is lost, the invoice stays ``sending``, the
    next pass finds it by DocNumber and posts it; QuickBooks holds exactly one."""
    order = make_order(PO)
    qbo.reply_delay_seconds = 1.5
    with connect(qbo, store, timeout=0.5) as client:
        (first,) = invoice_order(store, target_of(client), order)
        assert first.action == "in_doubt" and len(qbo.invoices) == 1
        with store.transaction() as conn:
            assert [i.state for i in st.list_invoices(conn)] == [st.InvoiceState.SENDING]
        (second,) = invoice_order(store, target_of(client), order)
        assert invoice_order(store, target_of(client), order) == []
    assert second.action == "posted" and second.reference == first.reference
    assert len(qbo.invoices) == 1 and len(creates(qbo)) == 1
