"""The base every HTTP connector builds on: one place for timeouts, retries, pacing, paging and errors."""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any, Self

import httpx

from canonical.errors import FatalError, HubError, RetriableError
from connectors._http._auth import Auth
from connectors._http._config import HttpConnectorConfig
from connectors._http._errors import default_error, retry_after_seconds
from connectors._http._pagination import PageRequest, Paginator
from connectors._http._rate import RateLimiter

_log = logging.getLogger(__name__)

# A request that never left (connect failures) is safe to resend whatever its method; a timeout
# after sending is only safe to repeat when the method is idempotent.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class RequestStats:
    """What a connector did on the wire; shown as run metadata."""

    requests: int = 0
    retries: int = 0
    throttle_waits: int = 0
    throttle_wait_seconds: float = 0.0
    responses_429: int = 0
    backoff_wait_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        """The counters as a plain dict (for Dagster metadata)."""
        return asdict(self)


class HttpConnector:
    """An httpx client with the hub's retry, pacing, pagination, error and logging rules.

    Subclasses (one per external API) set ``name`` and may override :meth:`classify_error` and
    :meth:`retry_after`. ``transport`` is the test seam (``httpx.MockTransport``; respx patches
    the default one); ``sleep`` and ``clock`` are injected so tests never really wait.
    ``http_client`` sends through a client the caller owns instead (e.g. Starlette's
    ``TestClient``): its timeouts are the caller's and :meth:`close` leaves it open.

    Retries: 429, 5xx, connection failures and timeouts are retried up to ``max_retries`` times
    with exponential backoff and full jitter, or after exactly the server's ``Retry-After``. A
    ``Retry-After`` longer than ``backoff_cap_seconds`` is not slept through: the call fails at
    once with a :class:`~canonical.errors.RetriableError` carrying it, so a scheduler can come back later.
    A timeout or a 5xx after a non-idempotent request (POST, PATCH) was sent is not retried: it may
    have taken effect, so the error is marked ``write_in_doubt``; a 429 is (it was refused unprocessed).
    One call can narrow this: ``max_retries=0`` for a call that changes data when
    someone else (an outbox) retries it, ``idempotent=True`` for a POST that only reads.
    """

    name = "http"

    def __init__(
        self,
        config: HttpConnectorConfig,
        *,
        auth: Auth,
        rate_limiter: RateLimiter | None = None,
        transport: httpx.BaseTransport | None = None,
        http_client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.auth = auth
        self.rate_limiter = rate_limiter
        self.stats = RequestStats()
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self._base = httpx.URL(config.base_url)
        self._default_headers = {"User-Agent": config.user_agent, "Accept": "application/json"}
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(
            base_url=config.base_url,
            timeout=httpx.Timeout(config.timeout_seconds, connect=config.connect_timeout_seconds),
            transport=transport,
            # A redirect means a wrong base URL; following it could send credentials elsewhere.
            follow_redirects=False,
            headers=self._default_headers,
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool (not a caller's ``http_client``)."""
        if self._owns_http:
            self._http.close()

    # -- hooks ----------------------------------------------------------------------------------

    def classify_error(self, response: httpx.Response) -> HubError | None:
        """The hub error for a non-2xx answer, or None to hand the answer back to the caller as it is."""
        return default_error(response, what=self._what(response.request), retry_after=self.retry_after(response))

    def needs_fresh_token(self, response: httpx.Response) -> bool:
        """Whether this refusal means the access token expired (then it is refreshed once and retried)."""
        return response.status_code == 401

    def retry_after(self, response: httpx.Response) -> float | None:
        """Seconds the server asks us to wait before retrying (``Retry-After``), or None."""
        return retry_after_seconds(response.headers.get("Retry-After"))

    # -- requests -------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        content: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        max_retries: int | None = None,
        idempotent: bool | None = None,
    ) -> httpx.Response:
        """Send one call (retrying as the class docstring says) and return its 2xx answer, or raise a hub error.

        ``content`` is a body already encoded by the caller (then set its ``Content-Type`` in
        ``headers``); ``max_retries`` replaces the config's for this call; ``idempotent`` says
        whether a request that may have reached the server can be sent again (default: by method).
        """
        method = method.upper()
        url = self._url(path)
        retries = self.config.max_retries if max_retries is None else max_retries
        repeatable = method in _IDEMPOTENT if idempotent is None else idempotent
        # A caller's http_client lacks our default headers; on our own client they are already there.
        headers = {**self._default_headers, **(headers or {})} if not self._owns_http else headers
        attempt = 0
        refreshed = False
        while True:
            self._pace()
            request = self._http.build_request(method, url, params=params, json=json, content=content,
                                               headers=headers)
            self.auth.apply(request)
            what = self._what(request)
            started = self._clock()
            self.stats.requests += 1
            try:
                # Never follow a redirect, on a caller's client too: it could carry our credentials elsewhere.
                response = self._http.send(request, follow_redirects=False)
            except httpx.TransportError as exc:
                failure = RetriableError(f"{what}: {self._transport_failure(exc)}")
                retriable = isinstance(exc, _NOT_SENT) or repeatable
                failure.write_in_doubt = not isinstance(exc, _NOT_SENT) and not repeatable
                _log.info("%s %s%s -> %s (attempt %d)", self.name, what, _query_names(request), type(exc).__name__,
                          attempt + 1)
                if not retriable or attempt >= retries:
                    raise failure from exc
                attempt += 1
                self._back_off(self._backoff_delay(attempt), throttled=False)
                continue

            elapsed_ms = (self._clock() - started) * 1000
            if self.rate_limiter is not None:
                self.rate_limiter.after_response(response)
            # Method, path, query parameter names and status only: values and bodies can hold secrets or PII.
            _log.debug("%s %s%s -> HTTP %s in %.0f ms", self.name, what, _query_names(request),
                       response.status_code, elapsed_ms)
            if response.status_code == 429:
                self.stats.responses_429 += 1
            if response.is_success:
                return response
            if not refreshed and callable(getattr(self.auth, "refresh", None)) and self.needs_fresh_token(response):
                # An access token can expire early or be revoked: one fresh token, one more try.
                refreshed = True
                self.auth.refresh()  # type: ignore[attr-defined]
                continue
            error = self.classify_error(response)
            if error is None:
                return response
            # A 5xx after a write may follow its commit (a gateway timing out on a slow create): only a
            # repeatable request is sent again; a 429 was refused before it ran, so it is waited out.
            executed = response.status_code != 429
            if isinstance(error, RetriableError) and executed and not repeatable:
                error.write_in_doubt = True  # the caller looks the record up before writing again
            if isinstance(error, RetriableError) and attempt < retries and (repeatable or not executed):
                hint = self.retry_after(response)
                if hint is not None and hint > self.config.backoff_cap_seconds:
                    _log.warning("%s %s -> HTTP %s, Retry-After %.0fs is too long to wait here",
                                 self.name, what, response.status_code, hint)
                    error.retry_after = hint
                    raise error
                attempt += 1
                delay = hint if hint is not None else self._backoff_delay(attempt)
                _log.info("%s %s -> HTTP %s, retry %d in %.2fs", self.name, what, response.status_code, attempt, delay)
                self._back_off(delay, throttled=response.status_code == 429)
                continue
            _log.warning("%s %s%s failed: HTTP %s (%s)", self.name, what, _query_names(request),
                         response.status_code, type(error).__name__)
            raise error

    def paginate(
        self,
        paginator: Paginator,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        **kw: Any,
    ) -> Iterator[httpx.Response]:
        """Every page's answer, first to last, as the paginator leads from one to the next."""
        page: PageRequest | None = paginator.first(path, params)
        while page is not None:
            response = self.request(method, page.path, params=page.params, **kw)
            yield response
            following = paginator.next(response, page)
            if following is not None and following == page:
                raise FatalError(f"{self.name} {self._what(response.request)}: the next page is this page again")
            page = following

    # -- internals ------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        """``path`` relative to the base URL; an absolute URL (a pagination link) only on the same origin."""
        if not path.startswith(("http://", "https://")):
            return path  # httpx joins it to the base URL (keeping a base path such as /api)
        url = httpx.URL(path)
        if (url.scheme, url.host, url.port) != (self._base.scheme, self._base.host, self._base.port):
            # Never send our credentials to a host a response named.
            raise FatalError(f"{self.name}: refusing to follow a link to another origin ({url.host})")
        return path

    def _pace(self) -> None:
        if self.rate_limiter is None:
            return
        wait = self.rate_limiter.before_request()
        if wait > 0:
            self.stats.throttle_waits += 1
            self.stats.throttle_wait_seconds += wait
            self._sleep(wait)

    def _backoff_delay(self, attempt: int) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2^(attempt-1))]."""
        ceiling = min(self.config.backoff_cap_seconds, self.config.backoff_base_seconds * 2 ** (attempt - 1))
        return self._rng.uniform(0, ceiling)

    def _back_off(self, delay: float, *, throttled: bool) -> None:
        self.stats.retries += 1
        if throttled:
            self.stats.throttle_waits += 1
            self.stats.throttle_wait_seconds += delay
        else:
            self.stats.backoff_wait_seconds += delay
        if delay > 0:
            self._sleep(delay)

    def _what(self, request: httpx.Request) -> str:
        return f"{request.method} {request.url.path}"

    def _transport_failure(self, exc: httpx.TransportError) -> str:
        if isinstance(exc, httpx.TimeoutException):
            return f"timed out talking to {self._base.host} ({type(exc).__name__})"
        return f"cannot reach {self._base.host} ({type(exc).__name__})"


def _query_names(request: httpx.Request) -> str:
    names = list(dict.fromkeys(key for key, _ in request.url.params.multi_items()))
    return "?" + "&".join(names) if names else ""
