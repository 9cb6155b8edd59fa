"""Canonical models (pydantic v2): the one shape every channel's orders are normalized into."""

from __future__ import annotations

import json
from typing import Any

from canonical.model._money import ISO_4217_CODES, AmountBreach, AmountLimits, deployment_amount_limits, is_currency
from canonical.model._order import (
    Carrier,
    Charge,
    ChargeKind,
    Contact,
    Distribution,
    Order,
    OrderLine,
    Party,
    PartyRole,
    PaymentTerms,
    Purpose,
    ShippingTerms,
    Source,
    order_total,
)

__all__ = [
    "ISO_4217_CODES",
    "AmountBreach",
    "AmountLimits",
    "Carrier",
    "Charge",
    "ChargeKind",
    "Contact",
    "Distribution",
    "Order",
    "OrderLine",
    "Party",
    "PartyRole",
    "PaymentTerms",
    "Purpose",
    "ShippingTerms",
    "Source",
    "deployment_amount_limits",
    "is_currency",
    "order_json_schema",
    "order_total",
]


def order_json_schema() -> dict[str, Any]:
    """The JSON Schema of a canonical order, as published to integrators (`hub schema`)."""
    schema = Order.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://orderhub.dev/schema/order.json"
    return schema


def dumps_schema() -> str:
    """The order schema as pretty JSON text."""
    return json.dumps(order_json_schema(), indent=2, sort_keys=True)
