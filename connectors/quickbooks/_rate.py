"""Pacing to Intuit's budget: at most 500 requests in any 60 seconds per realm, shared by every client of it."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

import httpx

WINDOW_SECONDS = 60.0


class SlidingWindowLimiter:
    """At most ``limit`` requests in any ``window`` seconds: a request waits until the one ``limit`` sends
    earlier is ``window`` old. Reservations may lie in the future (a waiting caller), so threads sharing it
    never exceed the budget between them. Thread-safe."""

    def __init__(self, limit: int, *, window: float = WINDOW_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1 or window <= 0:
            raise ValueError("limit and window must be positive")
        self.limit, self.window, self._clock = limit, window, clock
        self._sent: deque[float] = deque(maxlen=limit)
        self._lock = threading.Lock()

    def before_request(self) -> float:
        """Reserve a send time within the budget; the seconds to wait for it (0 = now)."""
        with self._lock:
            now = self._clock()
            # The deque keeps the last ``limit`` send times: the next may go once the oldest is ``window`` old.
            send_at = now if len(self._sent) < self.limit else max(now, self._sent[0] + self.window)
            self._sent.append(send_at)
            return send_at - now

    def after_response(self, response: httpx.Response) -> None:
        """Intuit sends no budget headers: nothing to learn (a 429's Retry-After is the connector's)."""


_REALMS: dict[tuple[str, int], SlidingWindowLimiter] = {}
_REALMS_LOCK = threading.Lock()


def realm_limiter(realm_id: str, limit: int) -> SlidingWindowLimiter:
    """The one limiter of ``realm_id`` in this process (Intuit counts per app and realm, not per client)."""
    with _REALMS_LOCK:
        return _REALMS.setdefault((realm_id, limit), SlidingWindowLimiter(limit))
