"""An in-process IMAP4rev1 server on 127.0.0.1 for the demo and tests where no Dovecot is installed.

It speaks exactly the subset the hub's IMAP client (``connectors.imap`` over imap-tools/imaplib)
uses, plus APPEND to deliver mail: CAPABILITY, NOOP, LOGOUT, LOGIN, AUTHENTICATE XOAUTH2, LIST,
CREATE, STATUS, SELECT/EXAMINE (UIDVALIDITY, UIDNEXT), CLOSE/UNSELECT, APPEND, EXPUNGE and UID
SEARCH/FETCH/STORE/COPY/MOVE/EXPUNGE. One account, folders and messages in memory; UIDs strictly
ascending per folder, never reused; each folder's UIDVALIDITY taken from the clock when it is made,
as real servers do (a new server is a rebuilt mailbox, and the hub reads it again, deduplicating by
content). ``move=False`` drops the MOVE capability, so a client's COPY + STORE + EXPUNGE fallback
can be exercised. Anything else is answered ``BAD``: this is a test double, not a mail server.
"""

from __future__ import annotations

import base64
import itertools
import re
import socketserver
import threading
import time
from dataclasses import dataclass, field
from typing import Self

from sandbox._server import Served

LOOPBACK = "127.0.0.1"
MAX_LITERAL = 50 * 1024 * 1024  # a client literal larger than this is refused (memory, not a real limit)
_TOKEN = re.compile(rb'\s*(?:"((?:[^"\\]|\\.)*)"|(\()|(\))|\{(\d+)\}$|([^\s()"]+))')
_validity = itertools.count(int(time.time()))  # distinct per folder, rising per process, like a real server's


@dataclass
class _Message:
    uid: int
    data: bytes
    flags: set[str] = field(default_factory=set)


@dataclass
class _Folder:
    uidvalidity: int = field(default_factory=lambda: next(_validity))
    uidnext: int = 1
    messages: list[_Message] = field(default_factory=list)

    def add(self, data: bytes, flags: set[str] | None = None) -> int:
        uid = self.uidnext
        self.uidnext += 1
        self.messages.append(_Message(uid, data, set(flags or ())))
        return uid


class SandboxImapServer(Served):
    """One IMAP account (``username``/``password``, or an XOAUTH2 ``access_token``) served on a free loopback port."""

    def __init__(self, username: str, password: str, *, access_token: str | None = None, move: bool = True,
                 port: int = 0) -> None:
        self.host = LOOPBACK
        self.port = port
        self.username, self.password, self.access_token = username, password, access_token
        self.capabilities = "IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 UIDPLUS" + (" MOVE" if move else "")
        self.folders: dict[str, _Folder] = {"INBOX": _Folder()}
        self.lock = threading.RLock()  # one lock for all state: sessions are few and short
        self._server: _TcpServer | None = None

    # -- the mail server's side: deliver and look -----------------------------------------------------------

    def deliver(self, raw: bytes, folder: str = "INBOX") -> int:
        """Put a message into ``folder`` (as a mail server delivers it); its UID."""
        with self.lock:
            return self.folders.setdefault(folder, _Folder()).add(raw)

    def count(self, folder: str) -> int:
        """How many messages ``folder`` holds (0 when it does not exist)."""
        with self.lock:
            return len(self.folders[folder].messages) if folder in self.folders else 0

    def messages(self, folder: str) -> list[bytes]:
        """The messages of ``folder``, in UID order."""
        with self.lock:
            return [m.data for m in self.folders[folder].messages] if folder in self.folders else []

    def rebuild(self, folder: str = "INBOX") -> None:
        """A new UIDVALIDITY for ``folder``, its messages renumbered from 1 (a restored mailbox)."""
        with self.lock:
            old = self.folders[folder]
            new = self.folders[folder] = _Folder()
            for message in old.messages:
                new.add(message.data, message.flags)

    # -- serving ------------------------------------------------------------------------------------------

    def start(self) -> Self:
        """Listen on 127.0.0.1 (a free port unless one was given); serve each connection in a thread."""
        if self._server is not None:
            return self
        server = _TcpServer((self.host, self.port), _Session)
        server.state = self
        self.port = server.server_address[1]
        threading.Thread(target=server.serve_forever, name="sandbox-imap", daemon=True).start()
        self._server = server
        return self

    def stop(self) -> None:
        """Stop listening (the messages stay in memory)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _TcpServer(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True
    state: SandboxImapServer


class _Bad(Exception):
    """A command this server does not understand: answered BAD."""


class _Session(socketserver.StreamRequestHandler):
    """One client connection: tagged commands in, untagged data and a tagged status out."""

    timeout = 60

    def setup(self) -> None:
        super().setup()
        assert isinstance(self.server, _TcpServer)
        self.server_state = self.server.state
        self.user: str | None = None
        self.selected: str | None = None
        self.readonly = False

    def handle(self) -> None:
        self.send(f"* OK [CAPABILITY {self.server_state.capabilities}] orderhub sandbox IMAP ready")
        while True:
            try:
                line = self.read_command()
            except (OSError, _Bad):
                return
            if line is None:
                return
            tag, args = line
            if not args:
                self.send(f"{tag} BAD no command")
                continue
            name = str(args[0]).upper()
            try:
                with self.server_state.lock:
                    status = self.dispatch(name, args[1:], tag)
            except _Bad as exc:
                status = f"BAD {exc}"
            except (ValueError, IndexError, KeyError) as exc:
                status = f"BAD {name}: {type(exc).__name__}"
            self.send(f"{tag} {status}")
            if name == "LOGOUT":
                return

    # -- wire ---------------------------------------------------------------------------------------------

    def send(self, text: str | bytes) -> None:
        self.wfile.write((text.encode() if isinstance(text, str) else text) + b"\r\n")

    def read_command(self) -> tuple[str, list] | None:
        """One tagged command, literals read in (after a ``+`` continuation), parsed into tokens."""
        raw = b""
        while True:
            line = self.rfile.readline(64 * 1024)
            if not line:
                return None
            raw += line.rstrip(b"\r\n")
            found = re.search(rb"\{(\d+)\}$", raw)
            if not found:
                break
            size = int(found.group(1))
            if size > MAX_LITERAL:
                raise _Bad("literal too large")
            self.send("+ Ready for literal data")
            raw = raw[:found.start()] + b"{" + str(size).encode() + b"}\x00" + self.rfile.read(size)
        tag, _, rest = raw.partition(b" ")
        return tag.decode("ascii", "replace"), _tokens(rest)

    def authenticated(self) -> None:
        if self.user is None:
            raise _Bad("log in first")

    def folder(self) -> _Folder:
        if self.selected is None:
            raise _Bad("select a mailbox first")
        return self.server_state.folders[self.selected]

    # -- commands -----------------------------------------------------------------------------------------

    def dispatch(self, name: str, args: list, tag: str) -> str:
        state = self.server_state
        if name == "CAPABILITY":
            self.send(f"* CAPABILITY {state.capabilities}")
        elif name == "NOOP":
            pass
        elif name == "LOGOUT":
            self.send("* BYE logging out")
        elif name == "LOGIN":
            if (_text(args[0]), _text(args[1])) != (state.username, state.password):
                return "NO [AUTHENTICATIONFAILED] invalid credentials"
            self.user = state.username
        elif name == "AUTHENTICATE":
            return self.xoauth2(args)
        else:
            self.authenticated()
            return self.mailbox_command(name, args)
        return f"OK {name} completed"

    def xoauth2(self, args: list) -> str:
        if _text(args[0]).upper() != "XOAUTH2":
            return "NO unsupported mechanism"
        self.send("+ ")
        response = base64.b64decode(self.rfile.readline(64 * 1024).strip() or b"=")
        fields = dict(part.split("=", 1) for part in response.decode("utf-8", "replace").split("\x01") if "=" in part)
        token = self.server_state.access_token
        if token is None or fields.get("user") != self.server_state.username or fields.get("auth") != f"Bearer {token}":
            return "NO [AUTHENTICATIONFAILED] invalid token"
        self.user = self.server_state.username
        return "OK AUTHENTICATE completed"

    def mailbox_command(self, name: str, args: list) -> str:
        folders = self.server_state.folders
        if name == "LIST":
            pattern = re.escape(_text(args[0]) + _text(args[1])).replace(r"\*", ".*").replace("%", "[^/]*")
            for folder_name in sorted(folders):
                if re.fullmatch(pattern, folder_name):
                    self.send(f'* LIST (\\HasNoChildren) "/" {_quote(folder_name)}')
        elif name == "CREATE":
            if _text(args[0]) in folders:
                return "NO [ALREADYEXISTS] mailbox exists"
            folders[_text(args[0])] = _Folder()
        elif name == "STATUS":
            folder = folders.get(_text(args[0]))
            if folder is None:
                return "NO [NONEXISTENT] no such mailbox"
            values = {"MESSAGES": len(folder.messages), "RECENT": 0, "UIDNEXT": folder.uidnext,
                      "UIDVALIDITY": folder.uidvalidity,
                      "UNSEEN": sum("\\Seen" not in m.flags for m in folder.messages)}
            items = " ".join(f"{item} {values[item.upper()]}" for item in args[1])
            self.send(f"* STATUS {_quote(_text(args[0]))} ({items})")
        elif name in ("SELECT", "EXAMINE"):
            return self.select(_text(args[0]), readonly=name == "EXAMINE")
        elif name in ("CLOSE", "UNSELECT"):
            if name == "CLOSE" and self.selected and not self.readonly:
                self.expunge(None, quiet=True)
            self.selected = None
        elif name == "APPEND":
            target = folders.get(_text(args[0]))
            if target is None:
                return "NO [TRYCREATE] no such mailbox"
            flags = next((set(map(_text, a)) for a in args[1:-1] if isinstance(a, list)), set())
            uid = target.add(bytes(args[-1]), flags)
            return f"OK [APPENDUID {target.uidvalidity} {uid}] APPEND completed"
        elif name == "EXPUNGE":
            self.expunge(None)
        elif name == "UID":
            return self.uid_command(_text(args[0]).upper(), args[1:])
        else:
            raise _Bad(f"{name} is not supported by the sandbox")
        return f"OK {name} completed"

    def select(self, name: str, *, readonly: bool) -> str:
        folder = self.server_state.folders.get(name)
        if folder is None:
            self.selected = None
            return "NO [NONEXISTENT] no such mailbox"
        self.selected, self.readonly = name, readonly
        self.send("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
        self.send(f"* {len(folder.messages)} EXISTS")
        self.send("* 0 RECENT")
        self.send(f"* OK [UIDVALIDITY {folder.uidvalidity}] UIDs valid")
        self.send(f"* OK [UIDNEXT {folder.uidnext}] predicted next UID")
        return f"OK [{'READ-ONLY' if readonly else 'READ-WRITE'}] {'EXAMINE' if readonly else 'SELECT'} completed"

    def uid_command(self, name: str, args: list) -> str:
        folder = self.folder()
        if name == "SEARCH":
            criteria = [_text(a).upper() for a in args]
            wanted = _uid_set(criteria[criteria.index("UID") + 1], folder) if "UID" in criteria else None
            uids = [m.uid for m in folder.messages if wanted is None or m.uid in wanted]
            self.send("* SEARCH" + "".join(f" {uid}" for uid in uids))
            return "OK UID SEARCH completed"
        chosen = _uid_set(_text(args[0]), folder)
        numbered = [(n, m) for n, m in enumerate(folder.messages, start=1) if m.uid in chosen]
        if name == "FETCH":
            items = [_text(item).upper() for item in (args[1] if isinstance(args[1], list) else args[1:])]
            for seq, message in numbered:
                self.fetch(seq, message, items)
        elif name == "STORE":
            self.store(numbered, _text(args[1]).upper(), {_text(f) for f in _as_list(args[2:])})
        elif name in ("COPY", "MOVE"):
            target = self.server_state.folders.get(_text(args[1]))
            if target is None:
                return "NO [TRYCREATE] no such mailbox"
            pairs = [(message.uid, target.add(message.data, message.flags - {"\\Deleted"}))
                     for _, message in numbered]
            code = (f"COPYUID {target.uidvalidity} {','.join(str(s) for s, _ in pairs)} "
                    f"{','.join(str(d) for _, d in pairs)}") if pairs else ""
            if name == "MOVE":
                self.send(f"* OK [{code}] moved" if code else "* OK nothing moved")
                self.remove({uid for uid, _ in pairs})
                return "OK UID MOVE completed"
            return f"OK [{code}] UID COPY completed" if code else "OK UID COPY completed"
        elif name == "EXPUNGE":
            self.expunge(chosen)
        else:
            raise _Bad(f"UID {name} is not supported by the sandbox")
        return f"OK UID {name} completed"

    def fetch(self, seq: int, message: _Message, items: list[str]) -> None:
        parts = [f"UID {message.uid}"]
        body = None
        for item in items:
            if item == "RFC822.SIZE":
                parts.append(f"RFC822.SIZE {len(message.data)}")
            elif item == "FLAGS":
                parts.append(f"FLAGS ({' '.join(sorted(message.flags))})")
            elif item == "INTERNALDATE":
                parts.append('INTERNALDATE "01-Jan-2026 00:00:00 +0000"')
            elif item in ("BODY.PEEK[]", "BODY[]", "RFC822"):
                body = "RFC822" if item == "RFC822" else "BODY[]"
                if item != "BODY.PEEK[]" and not self.readonly:
                    message.flags.add("\\Seen")
            elif item != "UID":
                raise _Bad(f"FETCH item {item} is not supported by the sandbox")
        head = f"* {seq} FETCH ({' '.join(parts)}"
        if body is None:
            self.send(head + ")")
        else:
            self.wfile.write(f"{head} {body} {{{len(message.data)}}}\r\n".encode() + message.data + b")\r\n")

    def store(self, numbered: list[tuple[int, _Message]], mode: str, flags: set[str]) -> None:
        if self.readonly:
            raise _Bad("the mailbox is read-only")
        for seq, message in numbered:
            if mode.startswith("+FLAGS"):
                message.flags |= flags
            elif mode.startswith("-FLAGS"):
                message.flags -= flags
            elif mode.startswith("FLAGS"):
                message.flags = set(flags)
            else:
                raise _Bad(f"STORE {mode}")
            if not mode.endswith(".SILENT"):
                self.send(f"* {seq} FETCH (UID {message.uid} FLAGS ({' '.join(sorted(message.flags))}))")

    def expunge(self, among: set[int] | None, *, quiet: bool = False) -> None:
        doomed = {m.uid for m in self.folder().messages
                  if "\\Deleted" in m.flags and (among is None or m.uid in among)}
        self.remove(doomed, quiet=quiet)

    def remove(self, uids: set[int], *, quiet: bool = False) -> None:
        folder = self.folder()
        # Highest sequence number first: each EXPUNGE renumbers the messages after it.
        for seq in range(len(folder.messages), 0, -1):
            if folder.messages[seq - 1].uid in uids:
                del folder.messages[seq - 1]
                if not quiet:
                    self.send(f"* {seq} EXPUNGE")


def _tokens(data: bytes) -> list:
    """A command's arguments: atoms and quoted strings as str, literals as bytes, parentheses as lists."""
    stack: list[list] = [[]]
    pos = 0
    while pos < len(data):
        literal = re.match(rb"\s*\{(\d+)\}\x00", data[pos:])
        if literal:
            size = int(literal.group(1))
            start = pos + literal.end()
            stack[-1].append(data[start:start + size])
            pos = start + size
            continue
        found = _TOKEN.match(data, pos)
        if not found or found.end() == pos:
            if data[pos:].strip():
                raise _Bad("cannot parse the command")
            break
        quoted, opening, closing, _, atom = found.groups()
        if quoted is not None:
            stack[-1].append(re.sub(rb"\\(.)", rb"\1", quoted).decode("utf-8", "replace"))
        elif opening:
            stack.append([])
        elif closing:
            if len(stack) == 1:
                raise _Bad("unbalanced parentheses")
            inner = stack.pop()
            stack[-1].append(inner)
        elif atom is not None:
            stack[-1].append(atom.decode("utf-8", "replace"))
        pos = found.end()
    if len(stack) != 1:
        raise _Bad("unbalanced parentheses")
    return stack[0]


def _text(token: object) -> str:
    if isinstance(token, list):
        raise _Bad("a list where a string was expected")
    return token.decode("utf-8", "replace") if isinstance(token, bytes) else str(token)


def _as_list(args: list) -> list:
    return [item for arg in args for item in (arg if isinstance(arg, list) else [arg])]


def _quote(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uid_set(spec: str, folder: _Folder) -> set[int]:
    """The UIDs a sequence set names (``*`` is the highest UID present; ``n:m`` in either order)."""
    highest = folder.messages[-1].uid if folder.messages else 0
    present = {m.uid for m in folder.messages}
    chosen: set[int] = set()
    for part in spec.split(","):
        low, _, high = part.partition(":")
        first = highest if low == "*" else int(low)
        last = first if not high else (highest if high == "*" else int(high))
        lo, hi = min(first, last), max(first, last)
        chosen |= {uid for uid in present if lo <= uid <= hi}
    return chosen


__all__ = ["SandboxImapServer"]
