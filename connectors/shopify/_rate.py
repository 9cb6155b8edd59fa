"""Shopify's REST call limit: a leaky bucket per app and store, reported on every answer."""

from __future__ import annotations

import time
from collections.abc import Callable

import httpx

from connectors._http import LeakyBucketLimiter

CALL_LIMIT_HEADER = "X-Shopify-Shop-Api-Call-Limit"


def parse_call_limit(value: str | None) -> tuple[int, int] | None:
    """``"32/40"`` -> (32, 40); None when absent or malformed."""
    if not value:
        return None
    used, sep, size = value.strip().partition("/")
    if not sep:
        return None
    try:
        used_n, size_n = int(used), int(size)
    except ValueError:
        return None
    return (used_n, size_n) if size_n > 0 and used_n >= 0 else None


class ShopifyCallLimiter(LeakyBucketLimiter):
    """Paces calls so the shop's bucket never overflows, trusting ``X-Shopify-Shop-Api-Call-Limit``.

    The header counts every call of this app on this shop (other workers included), so after each
    answer the estimate becomes the server's count. Shopify drains a bucket of size S at S/20 per
    second (40 -> 2/s standard, 80 -> 4/s Advanced, 400 -> 20/s Plus); a configured rate wins.
    """

    def __init__(self, size: int = 40, leak_rate: float | None = None, *, headroom: float = 1,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._fixed_rate = leak_rate is not None
        super().__init__(size, leak_rate or size / 20, headroom=headroom, clock=clock)

    def after_response(self, response: httpx.Response) -> None:
        """Take the server's count as the level now."""
        limit = parse_call_limit(response.headers.get(CALL_LIMIT_HEADER))
        if limit is None:
            return
        used, size = limit
        if not self._fixed_rate and size != self.capacity:
            self.leak_rate = size / 20
        self.observe(used, size)
