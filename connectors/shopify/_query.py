"""The GraphQL documents the client sends: the ``orders`` query and its search filter."""

from __future__ import annotations

import datetime as dt

# Every field the canonical mapping reads (mappings/shopify/_graphql.py), nothing more: each
# object costs a point of the query's requested cost, and a connection costs 2 + first x its node.
# ``shop.ianaTimezone`` comes along so the mapping can give timestamps the shop's own offset,
# exactly as webhooks carry them (GraphQL sends UTC).
_MONEY = "shopMoney { amount currencyCode }"
_MONEY_BOTH = f"{_MONEY} presentmentMoney {{ amount currencyCode }}"
_ADDRESS = "name firstName lastName company address1 address2 city province provinceCode zip country countryCodeV2"

ORDER_FIELDS = f"""
      id
      legacyResourceId
      name
      number
      createdAt
      updatedAt
      processedAt
      cancelledAt
      cancelReason
      test
      taxesIncluded
      currencyCode
      presentmentCurrencyCode
      displayFinancialStatus
      displayFulfillmentStatus
      sourceName
      customer {{ id firstName lastName }}
      billingAddress {{ {_ADDRESS} }}
      shippingAddress {{ {_ADDRESS} }}
      currentTotalPriceSet {{ {_MONEY_BOTH} }}
      totalPriceSet {{ {_MONEY_BOTH} }}
      currentTotalTaxSet {{ {_MONEY} }}
      totalTaxSet {{ {_MONEY} }}
      currentTotalDutiesSet {{ {_MONEY} }}
      currentTotalAdditionalFeesSet {{ {_MONEY} }}
      refunds {{ id }}
      lineItems(first: $lineItems) {{
        nodes {{
          id sku name title variantTitle quantity currentQuantity isGiftCard
          originalUnitPriceSet {{ {_MONEY} }}
          discountAllocations {{ allocatedAmountSet {{ {_MONEY} }} }}
          taxLines {{ priceSet {{ {_MONEY} }} }}
        }}
        pageInfo {{ hasNextPage }}
      }}
      shippingLines(first: $shippingLines) {{
        nodes {{
          title code
          originalPriceSet {{ {_MONEY} }}
          discountAllocations {{ allocatedAmountSet {{ {_MONEY} }} }}
        }}
        pageInfo {{ hasNextPage }}
      }}"""

ORDERS_QUERY = f"""query Orders($first: Int!, $after: String, $query: String, $lineItems: Int!, $shippingLines: Int!) {{
  shop {{ ianaTimezone }}
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {{
    nodes {{{ORDER_FIELDS}
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}
"""

ORDER_QUERY = f"""query Order($id: ID!, $lineItems: Int!, $shippingLines: Int!) {{
  shop {{ ianaTimezone }}
  order(id: $id) {{{ORDER_FIELDS}
  }}
}}
"""


def search_timestamp(value: dt.datetime, name: str) -> str:
    """A timezone-aware moment as Shopify's search takes it: ISO 8601 UTC, quoted (unquoted, only the date counts)."""
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")
    return "'" + value.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z") + "'"


def updated_between(since: dt.datetime, until: dt.datetime | None) -> str:
    """``updated_at:>='...' AND updated_at:<='...'``: both ends inclusive, as the REST filters were."""
    terms = [f"updated_at:>={search_timestamp(since, 'updated_at_min')}"]
    if until is not None:
        terms.append(f"updated_at:<={search_timestamp(until, 'updated_at_max')}")
    return " AND ".join(terms)
