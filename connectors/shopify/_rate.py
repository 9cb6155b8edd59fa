"""Shopify's GraphQL Admin API rate limit: a leaky bucket of query cost points per app and store.

Every answer reports it in ``extensions.cost``::

    {"requestedQueryCost": 101, "actualQueryCost": 46,
     "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1954, "restoreRate": 100.0}}

A query needs its *requested* cost available to run; the difference to its actual cost is refunded.
An empty bucket answers HTTP 200 with ``errors[].extensions.code == "THROTTLED"`` (and no data).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from connectors._http import LeakyBucketLimiter

THROTTLED = "THROTTLED"


@dataclass(frozen=True)
class QueryCost:
    """One answer's ``extensions.cost``."""

    requested: float | None
    actual: float | None
    maximum_available: float
    currently_available: float
    restore_rate: float

    def wait_for(self, cost: float) -> float:
        """Seconds until ``cost`` points are available (0 when they are now)."""
        missing = min(cost, self.maximum_available) - self.currently_available
        return max(0.0, missing / self.restore_rate) if missing > 0 else 0.0


def query_cost(body: Any) -> QueryCost | None:
    """The cost report of a parsed GraphQL answer, or None when it has none (or a malformed one)."""
    extensions = body.get("extensions") if isinstance(body, dict) else None
    cost = extensions.get("cost") if isinstance(extensions, dict) else None
    if not isinstance(cost, dict) or not isinstance(cost.get("throttleStatus"), dict):
        return None
    status = cost["throttleStatus"]
    try:
        maximum = _number(status["maximumAvailable"])
        available = _number(status["currentlyAvailable"])
        rate = _number(status["restoreRate"])
    except (KeyError, TypeError, ValueError):
        return None
    if maximum is None or available is None or rate is None or maximum <= 0 or rate <= 0 or available < 0:
        return None
    return QueryCost(_number(cost.get("requestedQueryCost")), _number(cost.get("actualQueryCost")),
                     maximum, available, rate)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    number = float(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


class ShopifyCostLimiter(LeakyBucketLimiter):
    """Paces queries so the shop's cost bucket never runs dry, trusting ``extensions.cost``.

    The bucket's level is ``maximumAvailable - currentlyAvailable`` points; a query reserves the
    cost the last one requested (Shopify charges the requested cost up front) and waits until
    that many points, plus ``headroom`` for other work of this app on the shop, are available.
    Every answer's ``throttleStatus`` replaces the estimate (other workers included); the plan's
    ``restoreRate`` (100/s standard, 200 Advanced, 1000 Plus) replaces the configured one.
    """

    def __init__(self, size: float = 2000, restore_rate: float = 100, *, expected_cost: float = 100,
                 headroom: float = 0, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(size, restore_rate, headroom=headroom, clock=clock)
        self.expected_cost = float(expected_cost)
        self.last_cost: QueryCost | None = None

    def before_request(self) -> float:
        """Reserve the expected cost; return the wait until the bucket holds it (never more than it can)."""
        with self._lock:
            now = self._clock()
            at = max(now, self._at)  # a reservation of another thread may lie in the future
            level = self._level_at(at)
            cost = min(self.expected_cost, self.capacity)
            limit = max(cost, self.capacity - self.headroom)
            wait_from_at = max(0.0, (level + cost - limit) / self.leak_rate)
            send_at = at + wait_from_at
            self._level = level - wait_from_at * self.leak_rate + cost
            self._at = send_at
            return max(0.0, send_at - now)

    def after_response(self, response: httpx.Response) -> None:
        """Nothing: the cost report is in the body, which the client parses once and hands to :meth:`observe_cost`."""

    def observe_cost(self, cost: QueryCost | None) -> None:
        """Take the report's throttle status as the truth now, and its requested cost as the next query's."""
        if cost is None:
            return
        self.last_cost = cost
        self.leak_rate = cost.restore_rate
        if cost.requested is not None and cost.requested > 0:
            self.expected_cost = cost.requested
        self.observe(cost.maximum_available - cost.currently_available, cost.maximum_available)
