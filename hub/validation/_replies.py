"""The channel's answer to a rejected order: a reply email for email orders, an 855 RJ for EDI partners.

Nothing here claims to have sent what it did not: the returned text says what happened and is
recorded with the approval (``approvals.reply``).
"""

from __future__ import annotations

import datetime as dt
import smtplib
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from canonical.model import Order
from hub import store as st
from hub.alerts import AlertSettings, SmtpSecurity
from mappings.email import sender_of_raw
from mappings.profiles import PartnerDirectory


@dataclass(frozen=True)
class Rejection:
    """What a rejection sender gets: the order as stored, its raw document, the reviewer's note, where it lives."""

    order: Order
    order_id: int
    raw: bytes | None
    note: str
    store: st.HubStore
    now: dt.datetime
    partners: PartnerDirectory | None = None
    """The profiles (None: those ``HUB_PARTNERS_DIR`` names, read when a sender needs them)."""

    def profiles(self) -> PartnerDirectory:
        """The partner profiles to answer with."""
        if self.partners is not None:
            return self.partners
        from hub.settings import get_settings

        return PartnerDirectory.load(get_settings().partners_dir)


RejectionSender = Callable[[Rejection], str]
"""A rejected order -> what became of the channel's rejection message."""


def _x12_rejection(rejected: Rejection) -> str:
    """The 855 with BAK02 RJ, every line IR, queued now (written by the next edi_po_acknowledgments run)."""
    from hub.delivery._acks855 import queue_rejection_855  # the delivery layer builds and validates 855s

    return queue_rejection_855(rejected.store, rejected.profiles(), rejected.order_id, now=rejected.now)


def _email_rejection(rejected: Rejection) -> str:
    order, raw, note = rejected.order, rejected.raw, rejected.note
    settings = AlertSettings()
    if not settings.smtp_host or not settings.smtp_from:
        return "not sent: no SMTP server configured (HUB_ALERT_SMTP_HOST, HUB_ALERT_SMTP_FROM)"
    to = sender_of_raw(raw) if raw else ""
    if not to:
        return "not sent: the order's email has no sender address to reply to"
    message = EmailMessage()
    message["Subject"] = f"Your purchase order {order.source_ref} was not accepted"
    message["From"] = settings.smtp_from
    message["To"] = to
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=settings.smtp_from.rpartition("@")[2] or None)
    message.set_content(f"Your purchase order {order.source_ref} was not accepted.\n\nReason: {note}\n")
    try:
        context = ssl.create_default_context(cafile=settings.smtp_ca_file or None)
        if settings.smtp_tls == SmtpSecurity.SSL:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port,
                                                 timeout=settings.smtp_timeout, context=context)
        else:
            smtp = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout)
        with smtp:
            if settings.smtp_tls == SmtpSecurity.STARTTLS:
                smtp.starttls(context=context)
            if settings.smtp_username:
                password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
                smtp.login(settings.smtp_username, password)
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        return f"not sent: {type(exc).__name__} from {settings.smtp_host}:{settings.smtp_port}"
    return f"sent: reply email to the sender (Message-ID {message['Message-ID']})"


_SENDERS: dict[str, RejectionSender] = {"x12": _x12_rejection, "email": _email_rejection}


def register_rejection_sender(source: str, sender: RejectionSender) -> None:
    """Say how orders of ``source`` are answered when rejected (e.g. the 855 sender, for ``x12``)."""
    _SENDERS[source] = sender


def send_rejection(rejected: Rejection) -> str:
    """Send the channel's rejection of the order if it has one; what happened, for the audit."""
    sender = _SENDERS.get(rejected.order.source.value)
    if sender is None:
        return f"not sent: the {rejected.order.source.value} channel has no rejection message"
    return sender(rejected)
