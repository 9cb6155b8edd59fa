"""Per-operation usage plans: one token bucket per SP-API operation, chosen by the request's path."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator

import httpx

from connectors._http import LeakyBucketLimiter

RATE_LIMIT_HEADER = "x-amzn-RateLimit-Limit"


class OperationBucket(LeakyBucketLimiter):
    """One operation's token bucket (a leaky bucket's mirror: level = burst - tokens left).

    Follows ``x-amzn-RateLimit-Limit`` (the restore rate the API applied) when present, and treats
    a 429 as proof the bucket is empty now.
    """

    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(capacity=burst, leak_rate=rate, headroom=0, clock=clock)

    def after_response(self, response: httpx.Response) -> None:
        """Learn the applied rate from the header; a 429 empties the bucket."""
        header = response.headers.get(RATE_LIMIT_HEADER)
        if header:
            try:
                rate = float(header)
            except ValueError:
                rate = 0.0
            if rate > 0 and rate == rate:  # noqa: PLR0124 - NaN check
                with self._lock:
                    self.leak_rate = rate
        if response.status_code == 429:
            self.observe(self.capacity)


class OperationRateLimiter:
    """Dispatches the connector's pacing calls to the bucket of the operation being called.

    The connector calls ``before_request``/``after_response`` without saying which operation it is;
    :meth:`using` names it for the current thread around one call.
    """

    def __init__(self, buckets: dict[str, OperationBucket]) -> None:
        self.buckets = buckets
        self._current = threading.local()

    @contextlib.contextmanager
    def using(self, operation: str) -> Iterator[OperationBucket]:
        """Route pacing to ``operation``'s bucket in this thread until the block ends."""
        previous = getattr(self._current, "operation", None)
        self._current.operation = operation
        try:
            yield self.buckets[operation]
        finally:
            self._current.operation = previous

    def before_request(self) -> float:
        """Seconds to wait before the current operation's next request."""
        bucket = self._bucket()
        return bucket.before_request() if bucket is not None else 0.0

    def after_response(self, response: httpx.Response) -> None:
        """Let the current operation's bucket learn from the answer."""
        bucket = self._bucket()
        if bucket is not None:
            bucket.after_response(response)

    def _bucket(self) -> OperationBucket | None:
        operation = getattr(self._current, "operation", None)
        return self.buckets.get(operation) if operation else None
