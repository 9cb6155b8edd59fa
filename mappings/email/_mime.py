"""A raw email read with the stdlib (``policy.default``): decoded headers, text and HTML bodies, attachments.

RFC 2047 encoded words in headers, quoted-printable and base64 parts, and 8-bit bodies in a declared
charset (or none: then UTF-8, else windows-1252) are all decoded here, so the readers after it see text.
A forwarded message (``message/rfc822``) is read as one more message inside this one.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import email
import email.utils
import quopri
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage, Message

# Nested forwards are read this deep; deeper ones are ignored (a loop of forwards is no order).
MAX_DEPTH = 3


@dataclass
class Attachment:
    """A part that is a file: its name, type and decoded bytes; ``charset`` as the part declared it."""

    filename: str
    content_type: str
    data: bytes
    charset: str | None = None


@dataclass
class ParsedEmail:
    """What the readers need of one message."""

    headers: dict[str, str]
    """Decoded headers, lower-case names (the first of each)."""
    from_address: str
    from_name: str
    subject: str
    message_id: str | None
    date: dt.datetime | None
    text: str
    """The plain-text body (HTML converted when it is the only body)."""
    html: str | None
    attachments: list[Attachment] = field(default_factory=list)
    forwarded: list[ParsedEmail] = field(default_factory=list)


def parse_email(raw: bytes, *, depth: int = 0) -> ParsedEmail:
    """Read a raw message (never raises on malformed input: what cannot be decoded is replaced)."""
    message = email.message_from_bytes(raw, policy=policy.default)
    return _read(message, depth)


def _read(message: EmailMessage, depth: int) -> ParsedEmail:
    headers = {name.lower(): _header(message, name) for name in dict.fromkeys(message.keys())}
    name, address = email.utils.parseaddr(headers.get("from", ""))
    text_parts, html_parts, attachments = _own_parts(message)
    forwarded: list[ParsedEmail] = []
    if depth < MAX_DEPTH:  # a forwarded message is read on its own: its headers and history stay apart
        for part in message.walk():
            if part.get_content_type() == "message/rfc822":
                inner = part.get_payload()
                if not (isinstance(inner, list) and inner and isinstance(inner[0], Message)):
                    continue
                cte = str(part.get("content-transfer-encoding", "")).strip().lower()
                if cte in ("base64", "quoted-printable"):
                    # Not allowed for message/rfc822 (RFC 2046), sent all the same: the parser took the
                    # encoded text for a message without headers; decode it and read that.
                    encoded = inner[0].as_bytes()
                    try:
                        data = base64.b64decode(encoded) if cte == "base64" else quopri.decodestring(encoded)
                    except (binascii.Error, ValueError):
                        continue  # not decodable: the forward is not read (its note says nothing was found)
                    forwarded.append(parse_email(data, depth=depth + 1))
                else:
                    forwarded.append(_read(inner[0], depth + 1))  # type: ignore[arg-type]
    html = "\n".join(html_parts) or None
    text = "\n".join(text_parts)
    if not text.strip() and html:
        from mappings.email._html import html_to_text

        text = html_to_text(html)
    return ParsedEmail(headers=headers, from_address=address.lower(), from_name=name,
                       subject=headers.get("subject", ""), message_id=_message_id(headers.get("message-id")),
                       date=_date(headers.get("date")), text=text, html=html,
                       attachments=attachments, forwarded=forwarded)


def _own_parts(message: EmailMessage) -> tuple[list[str], list[str], list[Attachment]]:
    """The text, HTML and attachments of this message, not of messages forwarded inside it."""
    text: list[str] = []
    html: list[str] = []
    attachments: list[Attachment] = []

    def visit(part: Message) -> None:
        try:
            read_part(part)
        except Exception:  # noqa: BLE001 - a part with headers the stdlib cannot parse is skipped, not fatal
            return

    def read_part(part: Message) -> None:
        if part.get_content_type() == "message/rfc822":
            return
        if part.is_multipart():
            for sub in part.get_payload():
                if isinstance(sub, Message):
                    visit(sub)
            return
        ctype, filename = part.get_content_type(), part.get_filename()
        if part.get_content_disposition() == "attachment" or filename:
            attachments.append(Attachment(filename or "attachment", ctype, _payload(part), part.get_content_charset()))
        elif ctype == "text/plain":
            text.append(decode_text(_payload(part), part.get_content_charset()))
        elif ctype == "text/html":
            html.append(decode_text(_payload(part), part.get_content_charset()))

    visit(message)
    return text, html, attachments


def _payload(part: Message) -> bytes:
    """The part's bytes after its transfer encoding (quoted-printable, base64, 8bit) is undone."""
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def decode_text(data: bytes, charset: str | None) -> str:
    """Bytes in a declared charset; undeclared or unknown: UTF-8 if it is valid, else windows-1252."""
    if charset:
        try:
            return data.decode(charset, errors="replace")
        except LookupError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("windows-1252", errors="replace")


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
        return str(value) if value is not None else ""
    except Exception:  # noqa: BLE001 - HeaderParseError, IndexError...: the stdlib's parser on a broken header
        # Its raw text, undecoded, is still better than nothing.
        raw = next((value for key, value in message.raw_items() if key.lower() == name.lower()), "")
        return str(raw)


def _message_id(value: str | None) -> str | None:
    if not value:
        return None
    value = value.strip()
    return value if value else None


def _date(value: str | None) -> dt.datetime | None:
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)
