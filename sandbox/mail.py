"""The sandbox mailbox of the first partner profile with an email channel: a local Dovecot when installed,
else the in-process IMAP server (``sandbox.imap_server``).

Both are new and empty at each start (a new UIDVALIDITY: the hub reads such a mailbox again and finds
messages it has seen as duplicates by content). The profile names the port's and the password's
environment variables (``port_env``, ``password_env``); :meth:`SandboxMail.environment` fills them.
``HUB_SANDBOX_IMAP=inprocess`` forces the in-process server even where Dovecot is installed.
"""

from __future__ import annotations

import contextlib
import imaplib
import os

from mappings.email import EmailChannelSettings
from mappings.profiles import PartnerDirectory, PartnerProfile
from sandbox.imap_server import SandboxImapServer

INPROCESS = "inprocess"
_PASSWORD = "sandbox-imap-password"  # the in-process server's; Dovecot's is its fixture's PASSWORD


class SandboxMail:
    """Starts a sandbox IMAP server for the first ``email_imap`` channel with a ``port_env`` (none: nothing)."""

    def __init__(self, partners: PartnerDirectory) -> None:
        found = next(((p, c) for p in partners if isinstance(c := p.channel("email_imap"), EmailChannelSettings)
                      and c.port_env and c.password_env), None)
        self.profile: PartnerProfile | None = found[0] if found else None
        self.settings: EmailChannelSettings | None = found[1] if found else None
        self.kind = ""
        """``Dovecot`` or ``in-process IMAP sandbox`` once started."""
        self.port = 0
        self.password = ""
        self._stack = contextlib.ExitStack()
        self._inprocess: SandboxImapServer | None = None

    def start(self) -> None:
        """Start Dovecot if installed (and not ruled out), else the in-process server."""
        if self.settings is None:
            return
        from sandbox.dovecot_server import DOVECOT, PASSWORD, DovecotUnavailable, running_dovecot

        if DOVECOT.exists() and os.environ.get("HUB_SANDBOX_IMAP") != INPROCESS:
            try:
                dovecot = self._stack.enter_context(running_dovecot(users=[self.settings.username]))
                self.kind, self.port, self.password = "Dovecot", dovecot.port, PASSWORD
                return
            except DovecotUnavailable:
                pass  # installed but not startable here: the in-process server does the same job
        self._inprocess = SandboxImapServer(self.settings.username, _PASSWORD).start()
        self.kind, self.port, self.password = "in-process IMAP sandbox", self._inprocess.port, _PASSWORD

    def stop(self) -> None:
        """Stop the server (its mail is gone)."""
        if self._inprocess is not None:
            self._inprocess.stop()
            self._inprocess = None
        self._stack.close()

    def environment(self) -> dict[str, str]:
        """The port and password variables the profile names, once started."""
        if self.settings is None or not self.port:
            return {}
        assert self.settings.port_env and self.settings.password_env
        return {self.settings.port_env: str(self.port), self.settings.password_env: self.password}

    def deliver(self, raw: bytes) -> None:
        """Put a message into the mailbox (IMAP APPEND, as a mail server delivers it)."""
        assert self.settings is not None
        session = self._session()
        try:
            typ, _ = session.append(self.settings.mailbox, "", None, raw)
            assert typ == "OK", typ
        finally:
            session.logout()

    def count(self, folder: str) -> int:
        """How many messages ``folder`` holds (0 when it does not exist)."""
        session = self._session()
        try:
            typ, data = session.select(f'"{folder}"', readonly=True)
            return int(data[0] or 0) if typ == "OK" else 0
        finally:
            session.logout()

    def _session(self) -> imaplib.IMAP4:
        assert self.settings is not None and self.port
        session = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        session.login(self.settings.username, self.password)
        return session
