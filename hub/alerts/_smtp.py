"""Alerts by email (stdlib smtplib): STARTTLS, implicit TLS or plain, optional login, a timeout."""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from enum import StrEnum

from hub.alerts._alert import Alert
from hub.alerts._channel import AlertDeliveryError, scrub


class SmtpSecurity(StrEnum):
    """How the connection to the SMTP server is protected (``HUB_ALERT_SMTP_TLS``)."""

    STARTTLS = "starttls"
    """Plain connect, then STARTTLS before anything else (port 587); refused if the server does not offer it."""
    SSL = "ssl"
    """TLS from the first byte (port 465)."""
    NONE = "none"
    """No TLS: only for a relay on localhost or a trusted network (and tests)."""


@dataclass(frozen=True)
class SmtpChannel:
    """Sends each alert as one plain-text email to every recipient."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    security: SmtpSecurity = SmtpSecurity.STARTTLS
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 10.0
    ca_file: str | None = None
    """Trust this CA bundle instead of the system's (a private relay's certificate)."""
    name: str = "email"

    def message(self, alert: Alert) -> EmailMessage:
        """The email for ``alert``."""
        message = EmailMessage()
        message["Subject"] = alert.subject()
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message["X-Orderhub-Alert"] = str(alert.kind)
        message.set_content(alert.text())
        return message

    def send(self, alert: Alert) -> None:
        """Deliver ``alert`` to the SMTP server, or raise ``AlertDeliveryError`` (never with the password)."""
        try:
            with self._connect() as smtp:
                if self.security == SmtpSecurity.STARTTLS:
                    smtp.starttls(context=self._tls())
                if self.username:
                    smtp.login(self.username, self.password or "")
                refused = smtp.send_message(self.message(alert))
        except (smtplib.SMTPException, OSError) as exc:
            detail = scrub(f"{type(exc).__name__}: {exc}", self.password)
            raise AlertDeliveryError(f"{self.host}:{self.port}: {detail}") from None
        if refused:  # some recipients took it: the others are named, not retried
            raise AlertDeliveryError(f"{self.host}:{self.port}: refused recipients {sorted(refused)}")

    def _connect(self) -> smtplib.SMTP:
        if self.security == SmtpSecurity.SSL:
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self._tls())
        return smtplib.SMTP(self.host, self.port, timeout=self.timeout)

    def _tls(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.ca_file)
