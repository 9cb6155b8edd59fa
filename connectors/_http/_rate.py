"""Client-side rate limiting: wait before a request rather than be refused with a 429."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

import httpx


class RateLimiter(Protocol):
    """Paces requests to one API budget.

    ``before_request`` reserves a slot and returns how many seconds the caller must wait before
    sending (the connector does the sleeping, so tests inject a fake clock and never wait);
    ``after_response`` learns from the server's answer (e.g. a call-limit header).
    """

    def before_request(self) -> float:
        """Seconds to wait before the next request may go out (0 = now)."""

    def after_response(self, response: httpx.Response) -> None:
        """Update the estimate from the server's answer."""


class LeakyBucketLimiter:
    """A leaky bucket of ``capacity`` requests draining ``leak_rate`` per second (also a token bucket's mirror).

    Each request adds one unit; a request that would lift the level above ``capacity - headroom``
    waits until enough has leaked. ``observe(level, capacity)`` replaces the estimate with the
    server's own count when the API reports it (Shopify's ``X-Shopify-Shop-Api-Call-Limit``), so
    other clients of the same account are taken into account. Thread-safe.
    """

    def __init__(
        self,
        capacity: float,
        leak_rate: float,
        *,
        headroom: float = 1,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity <= 0 or leak_rate <= 0:
            raise ValueError("capacity and leak_rate must be positive")
        self.capacity = float(capacity)
        self.leak_rate = float(leak_rate)
        self.headroom = float(headroom)
        self._clock = clock
        self._lock = threading.Lock()
        self._level = 0.0
        self._at = clock()

    @property
    def level(self) -> float:
        """The estimated level now."""
        with self._lock:
            return self._level_at(self._clock())

    def before_request(self) -> float:
        """Reserve one unit; return the wait that keeps the bucket at or below ``capacity - headroom``."""
        with self._lock:
            now = self._clock()
            # Reservations may lie in the future (a waiting caller): never move the reference time back.
            at = max(now, self._at)
            level = self._level_at(at)
            limit = max(1.0, self.capacity - self.headroom)
            wait_from_at = max(0.0, (level + 1 - limit) / self.leak_rate)
            send_at = at + wait_from_at
            self._level = level - wait_from_at * self.leak_rate + 1
            self._at = send_at
            return max(0.0, send_at - now)

    def after_response(self, response: httpx.Response) -> None:
        """Nothing to learn by default; subclasses read the API's headers and call :meth:`observe`."""

    def observe(self, level: float, capacity: float | None = None) -> None:
        """Take the server's count (``level`` used of ``capacity``) as the truth as of now."""
        with self._lock:
            if capacity:
                self.capacity = float(capacity)
            now = self._clock()
            if self._at > now:
                # Another thread holds a reservation in the future: keep whichever estimate is higher.
                self._level = max(self._level, float(level) - (self._at - now) * self.leak_rate)
                return
            self._level = float(level)
            self._at = now

    def _level_at(self, when: float) -> float:
        return max(0.0, self._level - (when - self._at) * self.leak_rate)
