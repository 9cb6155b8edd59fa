"""Messages that are no order from a person: newsletters, mailing lists, auto-replies, bounces."""

from __future__ import annotations

import email.parser
import email.utils
from email import policy

from mappings.email._mime import ParsedEmail

_BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
_HEADER_BYTES = 256 * 1024  # headers past this are no reason to ignore a message


def ignore_reason(message: ParsedEmail) -> str | None:
    """Why the message is ignored (recorded as such), or None when it may hold an order.

    List-Id (RFC 2919), Precedence bulk/list/junk, Auto-Submitted other than ``no`` (RFC 3834), the
    auto-reply headers Exchange and others set, and delivery reports (bounces).
    """
    return _reason(message.headers)


def _reason(headers: dict[str, str]) -> str | None:
    if headers.get("list-id"):
        return "a mailing-list message (List-Id)"
    precedence = headers.get("precedence", "").strip().lower()
    if precedence in _BULK_PRECEDENCE:
        return f"a bulk message (Precedence: {precedence})"
    auto = headers.get("auto-submitted", "").strip().lower()
    if auto and auto.split(";")[0].strip() != "no":
        return f"an automatic message (Auto-Submitted: {auto.split(';')[0].strip()})"
    if headers.get("x-autoreply") or headers.get("x-autorespond") or \
            headers.get("x-auto-response-suppress", "").lower() in ("all", "oof"):
        return "an auto-reply"
    if headers.get("content-type", "").lower().startswith("multipart/report"):
        return "a delivery report (bounce)"
    return None


def ignore_reason_of_raw(raw: bytes) -> str | None:
    """:func:`ignore_reason` from the headers alone (the body is not parsed: the intake asks before mapping)."""
    parsed = email.parser.BytesHeaderParser(policy=policy.compat32).parsebytes(raw[:_HEADER_BYTES])
    headers = {name.lower(): str(value) for name, value in reversed(parsed.items())}
    return _reason(headers)


def sender_of_raw(raw: bytes) -> str:
    """The From address, lower case, from the headers alone ("" when there is none or it cannot be read)."""
    try:
        parsed = email.parser.BytesHeaderParser(policy=policy.default).parsebytes(raw[:_HEADER_BYTES])
        _, address = email.utils.parseaddr(str(parsed.get("From", "")))
    except Exception:  # noqa: BLE001 - a From header the stdlib cannot parse: no sender, no customer's
        return ""
    return address.strip().lower()
