"""The ERP's catalogue, pricelists and customers' credit as last synced (read by hub.validation)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Connection, delete, select

from hub.store._tables import catalogue_prices, catalogue_products, customer_credit


@dataclass(frozen=True)
class CatalogueProduct:
    """One product row: ``default_code`` as SKU, list price, packaging quantity, still sold."""

    sku: str
    name: str | None
    list_price: Decimal | None
    currency: str | None
    pack_qty: Decimal | None
    active: bool


@dataclass(frozen=True)
class PricelistPrice:
    """A pricelist's price for one product."""

    pricelist: str
    sku: str
    currency: str
    price: Decimal | None


@dataclass(frozen=True)
class CustomerCredit:
    """A customer's credit limit and open amount in the ERP."""

    partner_id: str
    credit_limit: Decimal | None
    open_amount: Decimal | None
    currency: str | None


def replace_catalogue(conn: Connection, products: Iterable[CatalogueProduct], prices: Iterable[PricelistPrice],
                      *, now: dt.datetime) -> int:
    """Make the stored catalogue and prices exactly the ERP's (a product gone from the ERP is gone here)."""
    rows = [dict(vars(p), synced_at=now) for p in products]
    conn.execute(delete(catalogue_products))
    if rows:
        conn.execute(catalogue_products.insert(), rows)
    price_rows = [dict(vars(p), synced_at=now) for p in prices]
    conn.execute(delete(catalogue_prices))
    if price_rows:
        conn.execute(catalogue_prices.insert(), price_rows)
    return len(rows)


def catalogue(conn: Connection) -> list[CatalogueProduct]:
    """Every synced product (empty: the catalogue was never synced)."""
    cols = catalogue_products.c
    rows = conn.execute(select(cols.sku, cols.name, cols.list_price, cols.currency, cols.pack_qty, cols.active)
                        .order_by(cols.sku)).all()
    return [CatalogueProduct(*row) for row in rows]


def pricelist_prices(conn: Connection) -> list[PricelistPrice]:
    """Every synced pricelist price."""
    cols = catalogue_prices.c
    rows = conn.execute(select(cols.pricelist, cols.sku, cols.currency, cols.price)
                        .order_by(cols.pricelist, cols.sku)).all()
    return [PricelistPrice(*row) for row in rows]


def set_customer_credit(conn: Connection, credits: Iterable[CustomerCredit], *, now: dt.datetime) -> int:
    """Store each customer's credit as the ERP has it now (customers not listed keep their last value)."""
    count = 0
    for credit in credits:
        conn.execute(delete(customer_credit).where(customer_credit.c.partner_id == credit.partner_id))
        conn.execute(customer_credit.insert().values(**vars(credit), synced_at=now))
        count += 1
    return count


def credit_of(conn: Connection, partner_id: str) -> CustomerCredit | None:
    """A customer's synced credit, or None if never synced."""
    cols = customer_credit.c
    row = conn.execute(select(cols.partner_id, cols.credit_limit, cols.open_amount, cols.currency)
                       .where(cols.partner_id == partner_id)).first()
    return None if row is None else CustomerCredit(*row)
