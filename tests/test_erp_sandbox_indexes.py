"""The sandbox ERP behaves like Odoo with indexes and limits: indexed lookups, per-call undo, body and batch caps."""

from __future__ import annotations

import pytest

from connectors.erp import ErpRejected, OdooConfig, OdooJson2Client
from sandbox import _erp_domain
from sandbox.erp_server import MAX_RECORDS_PER_CALL, SandboxErp
from tests.fixtures.erp import ERP_API_KEY


@pytest.fixture
def client(erp: SandboxErp):
    config = OdooConfig(database=erp.database, api_key=ERP_API_KEY,
                        http={"base_url": erp.base_url, "timeout_seconds": 10})
    with OdooJson2Client(config) as client:
        yield client


def _partner(client: OdooJson2Client, ref: str) -> int:
    [partner_id] = client.call("res.partner", "create", vals_list=[{"name": ref, "ref": ref}])
    return int(partner_id)


def _sale_orders(client: OdooJson2Client, partner_id: int, refs: list[str]) -> list[int]:
    vals = [{"partner_id": partner_id, "client_order_ref": ref, "origin": "orderhub:acme"} for ref in refs]
    return [int(i) for i in client.call("sale.order", "create", vals_list=vals)]


def test_a_lookup_by_reference_reads_only_the_matching_rows(erp, client, monkeypatch):
    partner_id = _partner(client, "acme:BY:1")
    _sale_orders(client, partner_id, [f"PO-{n}" for n in range(300)])
    evaluated = []
    compile_domain = _erp_domain.compile_domain

    def counting(model, domain):
        predicate = compile_domain(model, domain)

        def counted(row, db):
            evaluated.append(row["id"])
            return predicate(row, db)

        return counted

    monkeypatch.setattr("sandbox._erp_database.compile_domain", counting)
    rows = client.call("sale.order", "search_read", domain=[["client_order_ref", "in", ["PO-7", "PO-250"]],
                                                            ["origin", "=", "orderhub:acme"]], fields=["name"])
    assert len(rows) == 2 and len(evaluated) == 2  # a scan would have evaluated 300 rows
    evaluated.clear()
    assert client.call("sale.order", "search_count", domain=["|", ["client_order_ref", "=", "PO-7"],
                                                             ["client_order_ref", "=", "PO-8"]]) == 2
    assert len(evaluated) == 300  # an OR is not narrowed by the index: still right, just a scan


def test_the_index_follows_writes_and_undone_calls(erp, client):
    partner_id = _partner(client, "acme:BY:1")
    [first, _] = _sale_orders(client, partner_id, ["PO-A", "PO-B"])
    client.call("sale.order", "write", ids=[first], vals={"client_order_ref": "PO-A2"})
    with pytest.raises(ErpRejected):  # the second record refers to a partner that does not exist: all undone
        client.call("sale.order", "create", vals_list=[
            {"partner_id": partner_id, "client_order_ref": "PO-C"},
            {"partner_id": 999_999, "client_order_ref": "PO-D"}])

    def count(ref: str) -> int:
        return client.call("sale.order", "search_count", domain=[["client_order_ref", "=", ref]])

    assert (count("PO-A"), count("PO-A2"), count("PO-B"), count("PO-C")) == (0, 1, 1, 0)
    assert [o["client_order_ref"] for o in erp.sale_orders()] == ["PO-A2", "PO-B"]
    assert erp.sale_orders()[-1]["name"] == "S00002"  # the refused call gave its sequence numbers back
    assert _sale_orders(client, partner_id, ["PO-E"]) == [3]


def test_more_records_in_one_call_than_the_ceiling_are_refused(erp, client):
    partner_id = _partner(client, "acme:BY:1")
    with pytest.raises(ErpRejected, match=f"at most {MAX_RECORDS_PER_CALL}"):
        _sale_orders(client, partner_id, [f"PO-{n}" for n in range(MAX_RECORDS_PER_CALL + 1)])
    assert erp.sale_orders() == []
    assert len(_sale_orders(client, partner_id, [f"PO-{n}" for n in range(MAX_RECORDS_PER_CALL)])) == 500


def test_a_body_over_the_limit_is_refused_with_413():
    with SandboxErp(api_key=ERP_API_KEY, max_body_bytes=2_000) as erp:
        config = OdooConfig(api_key=ERP_API_KEY, http={"base_url": erp.base_url})
        with OdooJson2Client(config) as client:
            with pytest.raises(ErpRejected) as refused:
                client.call("res.partner", "create", vals_list=[{"name": "x" * 3_000}])
            assert refused.value.status_code == 413
            assert client.call("res.partner", "search_count", domain=[]) == 0
