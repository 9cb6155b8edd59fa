"""A real Dovecot IMAP server on 127.0.0.1, with a throwaway config in a temporary folder (tests and the demo).

``running_dovecot()`` starts ``/usr/sbin/dovecot -F -c CONFIG`` on a free loopback port:
plain IMAP with STARTTLS offered, and implicit TLS on ``tls_port`` (a self-signed certificate made
for the session, ``ca_file``), users in a
passwd-file (password ``PASSWORD``) or logged in with XOAUTH2 (an oauth2 passdb asking a token
introspection endpoint the fixture serves; ``access_token(user)`` is the token it accepts),
Maildirs under the temporary folder owned by one static user (the current user, or
``nobody`` when the tests run as root: Dovecot refuses mail access as UID 0). No system user is
created and no system file touched. ``new_mailbox()`` gives each test its own user, so tests never
see each other's messages. Messages are put in with IMAP APPEND, as a mail server would deliver them.

``scripts/install-system-deps.sh`` installs ``dovecot-imapd``; without it ``running_dovecot()`` raises
``DovecotUnavailable`` (the pytest fixture in ``tests/fixtures/dovecot.py`` then fails, or skips
with ``HUB_ALLOW_SKIP_INTEGRATION=1``; the demo uses the in-process ``sandbox.imap_server`` instead).
"""

from __future__ import annotations

import grp
import imaplib
import itertools
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

DOVECOT = Path("/usr/sbin/dovecot")
READY_TIMEOUT_SECONDS = 10.0
PASSWORD = "secret-pw"
USERS = 500


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _user(n: int) -> str:
    return f"orders{n}@example.test"

_CONFIG = """\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <{root}/cert.pem
ssl_key = <{root}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
auth_failure_delay = 0
default_internal_user = {user}
default_internal_group = {group}
default_login_user = {user}
first_valid_uid = 1
first_valid_gid = 1
mail_location = maildir:~/Maildir
mail_plugins =
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {root}/oauth2.conf.ext
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""


_OAUTH2 = """\
introspection_mode = post
introspection_url = http://127.0.0.1:{port}/introspect
username_attribute = username
active_attribute = active
active_value = true
"""


def access_token(user: str) -> str:
    """The one XOAUTH2 access token the fixture's introspection endpoint accepts for ``user``."""
    return f"valid-token-for-{user}"


class _Introspection(BaseHTTPRequestHandler):
    """RFC 7662 token introspection, as an identity provider answers Dovecot's oauth2 passdb."""

    protocol_version = "HTTP/1.1"  # Dovecot's HTTP client keeps the connection; HTTP/1.0 costs it seconds

    def do_POST(self) -> None:  # the http.server hook's name
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        token = (form.get("token") or [""])[0]
        prefix = access_token("")
        body = {"active": "true", "username": token[len(prefix):]} if token.startswith(prefix) else {"active": "false"}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # the base class's signature
        return


@dataclass
class DovecotServer:
    """A running Dovecot: where to connect, and a way to get a fresh mailbox user."""

    host: str
    port: int
    """Plain IMAP, STARTTLS offered."""
    tls_port: int
    """Implicit TLS (imaps)."""
    root: Path
    log_path: Path
    ca_file: Path
    """The server's self-signed certificate (for ``host``, 127.0.0.1): what a client must trust."""
    _users: itertools.count = field(default_factory=lambda: itertools.count(1))

    def new_mailbox(self) -> str:
        """A new IMAP user (password ``PASSWORD``) with an empty INBOX."""
        n = next(self._users)
        assert n <= USERS, "raise USERS"
        return _user(n)

    def imap(self, user: str) -> imaplib.IMAP4:
        """A logged-in stdlib IMAP session (the tests' mail server side: APPEND, inspect folders)."""
        session = imaplib.IMAP4(self.host, self.port, timeout=10)
        session.login(user, PASSWORD)
        return session

    def append(self, user: str, message: bytes, folder: str = "INBOX") -> None:
        """Deliver ``message`` into ``folder`` with IMAP APPEND."""
        session = self.imap(user)
        try:
            status, _ = session.append(folder, "", None, message)
            assert status == "OK", status
        finally:
            session.logout()

    def count(self, user: str, folder: str) -> int:
        """How many messages ``folder`` holds (0 when it does not exist)."""
        session = self.imap(user)
        try:
            status, data = session.select(f'"{folder}"', readonly=True)
            return int(data[0] or 0) if status == "OK" else 0
        finally:
            session.logout()

    def maildir(self, user: str) -> Path:
        """The user's Maildir on disk (a test may change its UIDVALIDITY the way a restore does)."""
        return self.root / "home" / user / "Maildir"


def _mail_owner() -> tuple[str, str, int, int]:
    uid = os.getuid()
    if uid == 0:
        entry = pwd.getpwnam("nobody")
    else:
        entry = pwd.getpwuid(uid)
    return entry.pw_name, grp.getgrgid(entry.pw_gid).gr_name, entry.pw_uid, entry.pw_gid


def _wait_listening(port: int, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"dovecot exited ({process.returncode}): {log.read_text() if log.exists() else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2) as probe:
                if probe.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("dovecot did not answer in time")


class DovecotUnavailable(RuntimeError):
    """Dovecot is not installed or did not start."""


@contextmanager
def running_dovecot(users: Sequence[str] = ()) -> Iterator[DovecotServer]:
    """A real Dovecot on free loopback ports in a new temporary folder, stopped and removed afterwards.

    ``users`` are extra accounts (password ``PASSWORD``) beside ``new_mailbox()``'s numbered ones.
    """
    if not DOVECOT.exists():
        raise DovecotUnavailable("Dovecot is not installed (/usr/sbin/dovecot)")
    root = Path(tempfile.mkdtemp(prefix="orderhub-dovecot-"))
    user, group, uid, gid = _mail_owner()
    for sub in ("run", "state", "home"):
        (root / sub).mkdir()
    # Every user is written before the start: Dovecot re-reads a changed passwd-file by its mtime,
    # which misses a change within the same second.
    names = [*(_user(n) for n in range(1, USERS + 1)), *users]
    (root / "passwd").write_text("".join(f"{name}:{{PLAIN}}{PASSWORD}\n" for name in names))
    os.chmod(root, 0o755)  # the mail user (nobody when we are root) must reach home/
    if os.getuid() == 0:
        for path in (root / "home", root / "state"):
            os.chown(path, uid, gid)
    introspection = ThreadingHTTPServer(("127.0.0.1", 0), _Introspection)
    threading.Thread(target=introspection.serve_forever, daemon=True).start()
    process = None
    try:
        (root / "oauth2.conf.ext").write_text(_OAUTH2.format(port=introspection.server_address[1]))
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                        "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                        "-keyout", str(root / "key.pem"), "-out", str(root / "cert.pem")], check=True,
                       capture_output=True)
        port, tls_port = free_port(), free_port()
        config = root / "dovecot.conf"
        config.write_text(_CONFIG.format(root=root, user=user, group=group, uid=uid, gid=gid, port=port,
                                         tls_port=tls_port))
        log = root / "dovecot.log"
        process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(config)], stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, start_new_session=True)
        try:
            _wait_listening(port, process, log)
        except RuntimeError as exc:
            errors = process.stderr.read().decode() if process.stderr and process.poll() is not None else ""
            raise DovecotUnavailable(f"Dovecot did not start: {exc} {errors}") from exc
        yield DovecotServer("127.0.0.1", port, tls_port, root, log, root / "cert.pem")
    finally:
        if process is not None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        introspection.shutdown()
        shutil.rmtree(root, ignore_errors=True)
