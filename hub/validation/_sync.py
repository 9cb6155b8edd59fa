"""The ERP's catalogue, pricelists and customers' credit, read over JSON-2 and stored for the rules.

Odoo models read: ``product.product`` (``default_code``, ``list_price``, ``active``, archived ones
too), ``product.packaging`` (``qty``: the smallest pack over one is the multiple), the first
``product.pricelist`` per currency by sequence (the one the Odoo target pushes orders with) and
its fixed per-variant ``product.pricelist.item`` prices, and ``res.partner`` (``credit_limit``,
``credit``) of the company whose ``ref`` is the partner profile's id. An ERP without the packaging
or pricelist-item models (a 404) still syncs its products; the summary says what was left out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from canonical.errors import ConfigurationError
from connectors.erp import OdooJson2Client
from hub import store as st

PAGE = 1000  # records per search_read: JSON-2 bodies stay small, a big catalogue takes a few calls


@dataclass
class CatalogueSync:
    """What one sync read."""

    products: int = 0
    packagings: int = 0
    prices: int = 0
    customers: int = 0
    customers_not_found: list[str] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def _pages(client: OdooJson2Client, model: str, domain: list[Any], fields: list[str]) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        rows = client.call(model, "search_read", domain=domain, fields=fields, order="id asc", limit=PAGE,
                           offset=offset)
        yield from rows
        if len(rows) < PAGE:
            return
        offset += PAGE


def _many2one(value: Any) -> int | None:
    return int(value[0]) if isinstance(value, list) and value else None


def _decimal(value: Any) -> Decimal | None:
    return None if value is False or value is None else Decimal(str(value))


def sync_catalogue(store: st.HubStore, client: OdooJson2Client, *, partner_ids: Sequence[str],
                   company_currency: str = "USD", now: dt.datetime | None = None) -> CatalogueSync:
    """Read the ERP's catalogue and the credit of ``partner_ids`` and replace the store's copy, in one transaction."""
    now = now or st.utcnow()
    summary = CatalogueSync()
    products = {int(row["id"]): row for row in _pages(
        client, "product.product", [["active", "in", [True, False]]], ["id", "default_code", "name", "list_price",
                                                                        "active"]) if row.get("default_code")}
    packs: dict[int, Decimal] = {}
    try:
        for row in _pages(client, "product.packaging", [], ["product_id", "qty"]):
            product, qty = _many2one(row.get("product_id")), _decimal(row.get("qty"))
            if product is not None and qty is not None and qty > 1:
                packs[product] = min(qty, packs.get(product, qty))
                summary.packagings += 1
    except ConfigurationError:
        summary.left_out.append("product.packaging (not in this ERP): no pack multiples")
    prices = _pricelist_prices(client, products, summary)
    catalogue = [st.CatalogueProduct(str(row["default_code"]), row.get("name") or None, _decimal(row.get("list_price")),
                                     company_currency, packs.get(pid), bool(row.get("active", True)))
                 for pid, row in products.items()]
    credits = []
    wanted = sorted(set(partner_ids))
    found: dict[str, dict[str, Any]] = {}
    if wanted:
        for row in _pages(client, "res.partner", [["ref", "in", wanted]], ["ref", "credit_limit", "credit"]):
            found.setdefault(str(row["ref"]), row)
    for partner_id in wanted:
        credit_row = found.get(partner_id)
        if credit_row is None:
            summary.customers_not_found.append(partner_id)
            continue
        limit = _decimal(credit_row.get("credit_limit"))
        # Odoo: a credit limit of 0 means none is set.
        owed = _decimal(credit_row.get("credit")) or Decimal(0)
        credits.append(st.CustomerCredit(partner_id, limit if limit else None, owed, company_currency))
    with store.transaction() as conn:
        summary.products = st.replace_catalogue(conn, catalogue, prices, now=now)
        summary.customers = st.set_customer_credit(conn, credits, now=now)
    summary.prices = len(prices)
    return summary


def _pricelist_prices(client: OdooJson2Client, products: dict[int, dict[str, Any]],
                      summary: CatalogueSync) -> list[st.PricelistPrice]:
    """Fixed per-product prices of the first pricelist per currency (by sequence, as the Odoo target picks it)."""
    first: dict[str, tuple[int, str]] = {}
    for row in client.call("product.pricelist", "search_read", domain=[], fields=["id", "name", "currency_id"],
                           order="sequence asc, id asc"):
        currency = row.get("currency_id")
        if isinstance(currency, list) and len(currency) > 1 and currency[1] not in first:
            first[str(currency[1])] = (int(row["id"]), str(row["name"]))
    by_id = {pid: (currency, name) for currency, (pid, name) in first.items()}
    prices: dict[tuple[str, str], st.PricelistPrice] = {}
    try:
        rows = list(_pages(client, "product.pricelist.item",
                           [["compute_price", "=", "fixed"], ["applied_on", "=", "0_product_variant"]],
                           ["pricelist_id", "product_id", "fixed_price"]))
    except ConfigurationError:
        summary.left_out.append("product.pricelist.item (not in this ERP): list prices only")
        return []
    for row in rows:
        pricelist, product = _many2one(row.get("pricelist_id")), _many2one(row.get("product_id"))
        if pricelist not in by_id or product not in products:
            continue
        currency, name = by_id[pricelist]
        sku = str(products[product]["default_code"])
        prices[(name, sku)] = st.PricelistPrice(name, sku, currency, _decimal(row.get("fixed_price")))
    return list(prices.values())
