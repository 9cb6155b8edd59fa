"""An IMAP mailbox session over imap-tools: UIDs since a cursor, raw messages, moves to folders.

The connector never deletes a message on its own: the only ``\\Deleted`` flag it sets is the second
half of a move on a server without the MOVE extension (COPY, then STORE ``\\Deleted`` and EXPUNGE of
that UID alone where UIDPLUS allows).
"""

from __future__ import annotations

import imaplib
import logging
import re
import ssl
from dataclasses import dataclass
from types import TracebackType

from imap_tools import BaseMailBox, MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import MailboxLoginError
from imap_tools.imap_utf7 import utf7_encode

from canonical.errors import ConfigurationError, RetriableError
from connectors.imap._config import ImapConfig
from connectors.imap._oauth import AccessTokenSource, xoauth2_token_source

_log = logging.getLogger(__name__)
_UID = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")
# A refused login: imap-tools raises its own error for LOGIN, imaplib its own for AUTHENTICATE (XOAUTH2).
_REFUSED = (MailboxLoginError, imaplib.IMAP4.error)


@dataclass(frozen=True)
class MailboxState:
    """The selected mailbox's UIDVALIDITY (UIDs are only comparable under the same one) and next UID."""

    uidvalidity: int
    uidnext: int


class ImapError(RetriableError):
    """The server refused or dropped a command; the next run tries again."""


class ImapMailbox:
    """One logged-in session on one mailbox (``with ImapMailbox(config) as box: ...``)."""

    def __init__(self, config: ImapConfig, *, oauth: AccessTokenSource | None = None) -> None:
        self.config = config
        if oauth is None and config.oauth2 is not None:
            oauth = xoauth2_token_source(config.oauth2, account=config.username,
                                         timeout_seconds=config.timeout_seconds)
        self._oauth = oauth
        self._box: BaseMailBox | None = None
        self._folders: set[str] = set()  # folders known to exist in this session

    # -- session ------------------------------------------------------------------------------------------

    def __enter__(self) -> ImapMailbox:
        self.open()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def open(self) -> None:
        """Connect, secure the transport, log in and select the mailbox."""
        try:
            box = self._connect()
            self._login(box)
        except ssl.SSLCertVerificationError as exc:
            # Not worth retrying: a person must trust the server's CA (ca_file) or fix the host name.
            raise ConfigurationError(f"IMAP {self.config.host}:{self.config.port}: the server's certificate is not "
                                     f"trusted ({exc.verify_message})") from exc
        except (OSError, imaplib.IMAP4.abort) as exc:
            raise ImapError(f"IMAP {self.config.host}:{self.config.port}: cannot connect ({type(exc).__name__})") \
                from exc
        self._box = box
        self._select()

    def close(self) -> None:
        """Log out (a session already gone is fine)."""
        if self._box is not None:
            try:
                self._box.logout()
            except (OSError, imaplib.IMAP4.error):
                pass
            self._box = None

    @property
    def capabilities(self) -> tuple[str, ...]:
        """The server's capabilities after login."""
        return tuple(self._client.capabilities)

    # -- reading ------------------------------------------------------------------------------------------

    def state(self) -> MailboxState:
        """The mailbox's UIDVALIDITY and UIDNEXT (re-read: another client may have changed them)."""
        status = self._require().folder.status(self.config.mailbox, ("UIDVALIDITY", "UIDNEXT"))
        return MailboxState(int(status["UIDVALIDITY"]), int(status["UIDNEXT"]))

    def uids_after(self, last_uid: int) -> list[int]:
        """UIDs above ``last_uid``, ascending (``UID SEARCH UID n+1:*`` also answers the last one: filtered)."""
        typ, data = self._client.uid("SEARCH", f"UID {last_uid + 1}:*")
        self._ok(typ, "UID SEARCH")
        return sorted(uid for uid in (int(part) for part in b" ".join(d for d in data if d).split()) if uid > last_uid)

    def size(self, uid: int) -> int | None:
        """The message's size in bytes (``RFC822.SIZE``), or None when it is gone."""
        typ, data = self._client.uid("FETCH", str(uid), "(RFC822.SIZE)")
        self._ok(typ, "UID FETCH RFC822.SIZE")
        for item in data:
            head = item[0] if isinstance(item, tuple) else item
            if isinstance(head, bytes) and (found := _SIZE.search(head)) and _uid_of(head) == uid:
                return int(found.group(1))
        return None

    def fetch_raw(self, uid: int) -> bytes | None:
        """The message exactly as stored (``BODY.PEEK[]``: not marked seen), or None when it is gone."""
        typ, data = self._client.uid("FETCH", str(uid), "(BODY.PEEK[])")
        self._ok(typ, "UID FETCH BODY.PEEK[]")
        for item in data:
            if isinstance(item, tuple) and _uid_of(item[0]) == uid:
                return bytes(item[1])
        return None

    # -- moving -------------------------------------------------------------------------------------------

    def move(self, uid: int, folder: str) -> None:
        """Move one message to ``folder`` (created if missing): MOVE, else COPY + ``\\Deleted`` + EXPUNGE."""
        self.ensure_folder(folder)
        target = utf7_encode(folder)
        if "MOVE" in self.capabilities:
            typ, _ = self._client.uid("MOVE", str(uid), _quoted(target))
            self._ok(typ, "UID MOVE")
            return
        typ, _ = self._client.uid("COPY", str(uid), _quoted(target))
        self._ok(typ, "UID COPY")
        typ, _ = self._client.uid("STORE", str(uid), "+FLAGS.SILENT", r"(\Deleted)")
        self._ok(typ, "UID STORE")
        if "UIDPLUS" in self.capabilities:
            typ, _ = self._client.uid("EXPUNGE", str(uid))  # only this message, never others marked by people
        else:
            typ, _ = self._client.expunge()
        self._ok(typ, "EXPUNGE")

    def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` unless it exists."""
        if folder in self._folders:
            return
        box = self._require()
        if not box.folder.exists(folder):
            box.folder.create(folder)
        self._folders.add(folder)

    # -- internals ----------------------------------------------------------------------------------------

    def _connect(self) -> BaseMailBox:
        cfg = self.config
        if cfg.security in ("tls", "starttls"):
            # Certificate and host name checked: the system's trust store, or the CA file the profile names.
            context = ssl.create_default_context(cafile=cfg.ca_file)
            box_type = MailBox if cfg.security == "tls" else MailBoxStartTls
            return box_type(cfg.host, cfg.port, timeout=cfg.timeout_seconds, ssl_context=context)
        return MailBoxUnencrypted(cfg.host, cfg.port, timeout=cfg.timeout_seconds)  # loopback only (config checks)

    def _login(self, box: BaseMailBox) -> None:
        cfg = self.config
        try:
            if cfg.password is not None:
                box.login(cfg.username, cfg.password.get_secret_value(), initial_folder=None)
                return
            if self._oauth is None:
                raise ConfigurationError(f"IMAP {cfg.host}: OAuth2 settings without a token source")
            try:
                box.xoauth2(cfg.username, self._oauth.access_token(), initial_folder=None)
            except imaplib.IMAP4.abort:
                raise
            except _REFUSED:
                # The cached token may have been revoked early: one fresh token, then give up.
                self._oauth.refresh()
                box.xoauth2(cfg.username, self._oauth.access_token(), initial_folder=None)
        except imaplib.IMAP4.abort:
            raise  # the connection dropped: retriable (open() says so), not a refusal
        except _REFUSED as exc:
            # Never the credentials in the message.
            raise ConfigurationError(f"IMAP {cfg.host}: login refused for the configured account") from exc

    def _select(self) -> None:
        typ, _ = self._client.select(_quoted(utf7_encode(self.config.mailbox)))
        self._ok(typ, f"SELECT {self.config.mailbox}")

    def _require(self) -> BaseMailBox:
        if self._box is None:
            raise RuntimeError("the IMAP session is not open")
        return self._box

    @property
    def _client(self) -> imaplib.IMAP4:
        return self._require().client

    def _ok(self, typ: str, what: str) -> None:
        if typ != "OK":
            raise ImapError(f"IMAP {self.config.host}: {what} answered {typ}")


def _uid_of(head: bytes) -> int | None:
    found = _UID.search(head)
    return int(found.group(1)) if found else None


def _quoted(name: bytes | str) -> str:
    text = name.decode("ascii") if isinstance(name, bytes) else name
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


__all__ = ["ImapError", "ImapMailbox", "MailboxState"]
