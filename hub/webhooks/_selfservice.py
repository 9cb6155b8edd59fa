"""Partner self-service: a partner uploads an X12 file and sees what the hub would make of it.

``GET /selfservice/{partner_id}`` shows an upload form; ``POST`` to the same address checks the file
with ``hub edi validate``'s own code (:func:`hub.edi_validate.report_stream`, scoped to this partner's
profile as its SFTP inbox is) and shows the report and the 997/999/TA1 we would send, downloadable.

- Off unless the operator sets ``HUB_SELFSERVICE_ENABLED=1``: every address is then 404, as it is for
  an unknown partner or one without an X12 channel (nothing tells a visitor which partners exist).
- ``HUB_SELFSERVICE_TOKEN_<PARTNER>`` set (the partner id upper-cased, ``-`` as ``_``): the form asks
  for that token, compared in constant time; wrong or missing -> 403. Unset: anyone who reaches the
  page can use it (the operator keeps it behind a VPN or the reverse proxy's login).
- The body is read as it arrives and refused (413) once past ``HUB_SELFSERVICE_MAX_BYTES`` (default
  5 MiB) plus a little room for the form itself.
- CSRF: a random token in a ``SameSite=Strict`` cookie and in the form, which must match; requests
  the browser marks cross-site are refused.
- Nothing is stored: no receipt, no archive, no control number used (the acks show dry-run
  numbers). The upload lives for the request (Starlette spools a part over 1 MiB to an unnamed
  temporary file, removed when the request ends). Logs carry the partner id, the size and the
  outcome, never the file's name or content.
"""

from __future__ import annotations

import datetime as dt
import hmac
import io
import logging
import os
import re
import secrets
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO

import anyio
import anyio.to_thread
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive

from canonical.errors import ConfigurationError
from canonical.outcomes import ReceiptOutcome
from hub.edi_validate import ACCEPTED_FILE_OUTCOMES, report_stream
from hub.webhooks._selfservice_page import AckView, ReportView, render_page
from mappings.profiles import PartnerDirectory, PartnerProfile
from mappings.x12 import OutboundAck

_log = logging.getLogger(__name__)

ENABLED_ENV = "HUB_SELFSERVICE_ENABLED"
MAX_BYTES_ENV = "HUB_SELFSERVICE_MAX_BYTES"
TOKEN_ENV_PREFIX = "HUB_SELFSERVICE_TOKEN_"
DEFAULT_MAX_BYTES = 5 * 1024 * 1024
FORM_ROOM = 64 * 1024  # multipart boundaries, part headers and the small fields around the file
FIELD_MAX_BYTES = 4 * 1024  # the csrf and token fields
REPORT_MAX_CHARS = 1_000_000  # a file full of errors could otherwise make a page many times its size
CONCURRENT_CHECKS = 2  # checks running at once (a 5 MiB file takes a few seconds of one core)
CSRF_COOKIE = "hub_selfservice_csrf"
_CSRF_SHAPE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
_TRUE = frozenset({"1", "true", "yes", "on"})
_HEADERS = {
    # No script, no frames, no external anything; inline styles only; forms post to this page only.
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",  # a report describes the partner's orders
}


def token_env(partner_id: str) -> str:
    """The environment variable holding ``partner_id``'s self-service token."""
    return TOKEN_ENV_PREFIX + partner_id.upper().replace("-", "_")


@dataclass(frozen=True)
class SelfServiceSettings:
    """Whether the page is on, and the largest file it takes."""

    enabled: bool = False
    max_bytes: int = DEFAULT_MAX_BYTES

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> SelfServiceSettings:
        """Read ``HUB_SELFSERVICE_ENABLED`` and ``HUB_SELFSERVICE_MAX_BYTES``; a bad size is a configuration error."""
        enabled = env.get(ENABLED_ENV, "").strip().lower() in _TRUE
        raw = env.get(MAX_BYTES_ENV, "").strip()
        if not raw:
            return cls(enabled=enabled)
        if not raw.isdigit() or int(raw) <= 0:
            raise ConfigurationError(f"{MAX_BYTES_ENV} must be a positive number of bytes, not {raw!r}")
        return cls(enabled=enabled, max_bytes=int(raw))


class _TooLarge(Exception):
    pass


class _CappedText(io.StringIO):
    """A text buffer keeping the first ``limit`` characters written and counting the rest."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.kept = 0
        self.total = 0

    def write(self, text: str) -> int:
        self.total += len(text)
        piece = text[: max(0, self.limit - self.kept)]
        if piece:
            super().write(piece)
            self.kept += len(piece)
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:  # type: ignore[override]
        for line in lines:
            self.write(line)


def _limited(receive: Receive, limit: int) -> Receive:
    """``receive`` that raises :class:`_TooLarge` as soon as the body passes ``limit`` bytes."""
    size = 0

    async def limited_receive() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise _TooLarge
        return message

    return limited_receive


def _label(file_name: str | None) -> str:
    """What the page calls the upload: the last part of its name, printable, short (never used as a path)."""
    name = re.split(r"[\\/]", file_name or "")[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()[:80]
    return name or "your file"


def _size_words(size: int) -> str:
    if size % (1024 * 1024) == 0:
        return f"{size // (1024 * 1024)} MiB"
    if size % 1024 == 0:
        return f"{size // 1024} KiB"
    return f"{size} bytes"


class _SelfService:
    def __init__(self, partners: PartnerDirectory, settings: SelfServiceSettings, env: Mapping[str, str] | None,
                 now: Callable[[], dt.datetime]) -> None:
        self.partners = partners
        self.settings = settings
        self.env = env
        self.now = now
        self._limiter = anyio.CapacityLimiter(CONCURRENT_CHECKS)  # bound to an event loop on first use

    def _profile(self, partner_id: str) -> PartnerProfile | None:
        if not self.settings.enabled:
            return None
        try:
            profile = self.partners.get(partner_id)
        except ConfigurationError:
            return None
        return profile if profile.x12 is not None else None

    def _token(self, profile: PartnerProfile) -> str:
        env = os.environ if self.env is None else self.env
        return (env.get(token_env(profile.id)) or "").strip()

    def _page(self, request: Request, profile: PartnerProfile, *, status: int = 200, report: ReportView | None = None,
              error: str | None = None) -> Response:
        csrf = request.cookies.get(CSRF_COOKIE, "")
        if not _CSRF_SHAPE.match(csrf):
            csrf = secrets.token_urlsafe(32)
        body = render_page(partner_id=profile.id, csrf=csrf, limit=_size_words(self.settings.max_bytes),
                           token_required=bool(self._token(profile)), report=report, error=error)
        response = HTMLResponse(body, status_code=status, headers=_HEADERS)
        response.set_cookie(CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/selfservice/",
                            secure=request.url.scheme == "https")
        return response

    async def show(self, request: Request) -> Response:
        profile = self._profile(request.path_params["partner_id"])
        if profile is None:
            return _not_found()
        return self._page(request, profile)

    async def check(self, request: Request) -> Response:
        profile = self._profile(request.path_params["partner_id"])
        if profile is None:
            return _not_found()
        cookie = request.cookies.get(CSRF_COOKIE, "")
        if request.headers.get("sec-fetch-site") == "cross-site" or not _CSRF_SHAPE.match(cookie):
            _log.warning("self-service upload for %s refused: cross-site or no CSRF cookie", profile.id)
            return self._page(request, profile, status=403,
                              error="This page has expired or was not opened from our site: reload it and try again.")
        if not request.headers.get("content-type", "").startswith("multipart/form-data"):
            return self._page(request, profile, status=400, error="Send the file with the form on this page.")
        limit = self.settings.max_bytes + FORM_ROOM
        declared = request.headers.get("content-length", "")
        try:
            if declared.isdigit() and int(declared) > limit:
                raise _TooLarge
            limited = Request(request.scope, _limited(request.receive, limit))
            async with limited.form(max_files=1, max_fields=3, max_part_size=FIELD_MAX_BYTES) as form:
                return await self._check_form(request, profile, form.get("csrf"), form.get("token"),
                                              form.get("file"), cookie)
        except _TooLarge:
            _log.warning("self-service upload for %s refused: over %d bytes", profile.id, self.settings.max_bytes)
            return self._too_large(request, profile)
        except (MultiPartException, HTTPException) as exc:  # Starlette turns the first into the second in an app
            message = exc.message if isinstance(exc, MultiPartException) else exc.detail
            _log.warning("self-service upload for %s refused: %s", profile.id, message)
            return self._page(request, profile, status=400, error=f"The upload could not be read: {message}")

    async def _check_form(self, request: Request, profile: PartnerProfile, csrf: object, token: object,
                          upload: object, cookie: str) -> Response:
        if not isinstance(csrf, str) or not hmac.compare_digest(csrf.encode(), cookie.encode()):
            _log.warning("self-service upload for %s refused: CSRF token does not match", profile.id)
            return self._page(request, profile, status=403,
                              error="This page has expired: reload it and try again.")
        expected = self._token(profile)
        if expected and not (isinstance(token, str) and hmac.compare_digest(token.strip().encode(), expected.encode())):
            _log.warning("self-service upload for %s refused: wrong or missing token", profile.id)
            return self._page(request, profile, status=403, error="The access token is missing or wrong.")
        if not isinstance(upload, UploadFile):
            return self._page(request, profile, status=400, error="Choose a file to check.")
        size = upload.size or 0
        if size > self.settings.max_bytes:
            _log.warning("self-service upload for %s refused: %d bytes, over %d", profile.id, size,
                         self.settings.max_bytes)
            return self._too_large(request, profile)
        await upload.seek(0)
        report = await anyio.to_thread.run_sync(
            partial(self._report, profile, _label(upload.filename), upload.file, size), limiter=self._limiter)
        return self._page(request, profile, report=report)

    def _report(self, profile: PartnerProfile, label: str, data: BinaryIO, size: int) -> ReportView:
        """The CLI's streamed report of ``data`` as the partner's inbox would read it (acks numbered for it)."""
        out = _CappedText(REPORT_MAX_CHARS)
        acks: list[AckView] = []

        def keep(batch: list[OutboundAck]) -> None:
            acks.extend(AckView(kind=a.kind, file_name=a.file_name, text=a.text) for a in batch)

        result, sets_accepted = report_stream(label, data, PartnerDirectory([profile]), out=out,
                                              now=self.now(), acks_for=profile.id, on_acks=keep,
                                              show_acks=False)  # shown in their own blocks below
        accepted = result.outcome in ACCEPTED_FILE_OUTCOMES and sets_accepted
        words = result.outcome.replace("_", " ")
        headline = words.capitalize() if accepted else f"Not accepted: {words}"
        if result.reason:
            headline += f" ({result.reason})"
        if result.fault:
            headline += f"; reading stopped early: {result.fault}"
        _log.info("self-service check for %s: %d bytes, %s, %d ack(s)", profile.id, size, result.outcome, len(acks))
        return ReportView(file_label=label, accepted=accepted, headline=headline, text=out.getvalue(),
                          not_x12=result.outcome == ReceiptOutcome.NOT_X12, acks=acks,
                          truncated=out.total > out.kept, shown_chars=out.kept, total_chars=out.total)

    def _too_large(self, request: Request, profile: PartnerProfile) -> Response:
        limit = _size_words(self.settings.max_bytes)
        return self._page(request, profile, status=413,
                          error=f"The file is too large: this page takes files up to {limit}. Send bigger files "
                                "through your usual SFTP connection, or ask us to check them.")


def _not_found() -> Response:
    return PlainTextResponse("Not Found", status_code=404, headers={"Cache-Control": "no-store"})


def selfservice_routes(
    partners: PartnerDirectory,
    *,
    env: Mapping[str, str] | None = None,
    now: Callable[[], dt.datetime] | None = None,
) -> list[Route]:
    """The self-service page's routes (answering 404 unless ``HUB_SELFSERVICE_ENABLED`` is set in ``env``)."""
    settings = SelfServiceSettings.from_env(os.environ if env is None else env)
    service = _SelfService(partners, settings, env, now or (lambda: dt.datetime.now(dt.UTC)))
    return [
        Route("/selfservice/{partner_id:str}", service.show, methods=["GET"]),
        Route("/selfservice/{partner_id:str}", service.check, methods=["POST"]),
    ]
