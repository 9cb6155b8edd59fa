"""Email messages as customers send them, built with the stdlib (tests only)."""

from __future__ import annotations

import datetime as dt
from email.message import EmailMessage
from email.utils import format_datetime

DATE = dt.datetime(2026, 12, 3, 9, 30, tzinfo=dt.UTC)


def message(body: str = "", *, subject: str = "PO 4500012345", sender: str = "Buyer <buyer@acme-retail.test>",
            message_id: str = "<po-4500012345@acme-retail.test>", headers: dict[str, str] | None = None,
            attachments: tuple[tuple[str, bytes, str], ...] = (), charset: str = "utf-8", cte: str | None = None,
            date: dt.datetime = DATE) -> bytes:
    """A message with a text body and (filename, data, mime type) attachments."""
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "orders@example.test"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date)
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(body, charset=charset, cte=cte)
    for filename, data, mime in attachments:
        maintype, _, subtype = mime.partition("/")
        params = {}
        if ";" in subtype:
            subtype, _, param = subtype.partition(";")
            key, _, value = param.strip().partition("=")
            params[key] = value
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename, params=params)
    return msg.as_bytes()
