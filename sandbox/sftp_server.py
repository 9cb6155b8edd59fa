"""An in-process SFTP server for the demo and tests: one user, one root folder, its own host key.

It speaks real SFTP (paramiko's server side) on 127.0.0.1, so the hub's SFTP connector talks to it
exactly as to a partner's server, host-key pinning included::

    with SandboxSftpServer(root, username="acme", password="demo") as server:
        server.write_known_hosts(known_hosts_path)
        ...  # SftpConfig(host=server.host, port=server.port, ...)

Every client path is resolved under ``root`` like a chroot: ``..`` stops at the root, and symlinks
that lead outside it are refused.
"""

from __future__ import annotations

import hmac
import logging
import os
import posixpath
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Self

import paramiko
from paramiko.common import AUTH_FAILED, AUTH_SUCCESSFUL, OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED, OPEN_SUCCEEDED
from paramiko.sftp import SFTP_FAILURE, SFTP_OK, SFTP_OP_UNSUPPORTED, SFTP_PERMISSION_DENIED

from sandbox._server import Served

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"


class _OutsideRoot(Exception):
    """A path that would resolve outside the sandbox root."""


class _SandboxAccount(paramiko.ServerInterface):
    """Authenticates the one configured user (password and/or public key) and allows SFTP sessions only."""

    def __init__(self, username: str, password: str | None, authorized_key: paramiko.PKey | None) -> None:
        self._username = username
        self._password = password
        self._authorized_key = authorized_key

    def _is_user(self, username: str) -> bool:
        return hmac.compare_digest(username.encode(), self._username.encode())

    def get_allowed_auths(self, username: str) -> str:
        methods = []
        if self._authorized_key is not None:
            methods.append("publickey")
        if self._password is not None:
            methods.append("password")
        return ",".join(methods)

    def check_auth_password(self, username: str, password: str) -> int:
        if (
            self._password is not None
            and self._is_user(username)
            and hmac.compare_digest(password.encode(), self._password.encode())
        ):
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_auth_publickey(self, username: str, key: paramiko.PKey) -> int:
        # paramiko has verified the signature (when there is one) before asking us.
        wanted = self._authorized_key
        if (
            wanted is not None
            and self._is_user(username)
            and key.get_name() == wanted.get_name()
            and hmac.compare_digest(key.asbytes(), wanted.asbytes())
        ):
            return AUTH_SUCCESSFUL
        return AUTH_FAILED

    def check_channel_request(self, kind: str, chanid: int) -> int:
        if kind == "session":
            return OPEN_SUCCEEDED
        return OPEN_FAILED_ADMINISTRATIVELY_PROHIBITED


def _status(exc: OSError) -> int:
    """The SFTP status for a failed file operation (an OSError without errno is a plain failure)."""
    return paramiko.SFTPServer.convert_errno(exc.errno if exc.errno is not None else 0)


def _then_ok(action: Callable[..., object]) -> Callable[..., int]:
    """``action`` (an ``os`` call that returns nothing), answering SFTP_OK when it does not raise."""

    def run(*paths: str) -> int:
        action(*paths)
        return SFTP_OK

    return run


class _LocalFileHandle(paramiko.SFTPHandle):
    """An open local file served over SFTP."""

    # paramiko's SFTPHandle reads and writes through these when they are set (see `open` below).
    filename: str
    readfile: IO[bytes]
    writefile: IO[bytes]

    def stat(self):
        try:
            return paramiko.SFTPAttributes.from_stat(os.fstat(self.readfile.fileno()))
        except OSError as exc:
            return _status(exc)

    def chattr(self, attr):
        try:
            paramiko.SFTPServer.set_file_attr(self.filename, attr)
            return SFTP_OK
        except OSError as exc:
            return _status(exc)


def _virtual(path: str) -> str:
    """The client's path as an absolute path inside the sandbox: ``..`` cannot climb above ``/``."""
    return "/" + posixpath.normpath("/" + path).lstrip("/")


class _RootedSftp(paramiko.SFTPServerInterface):
    """Serves one local folder as the whole SFTP file system."""

    def __init__(self, server: paramiko.ServerInterface, *args, root: Path, **kwargs) -> None:
        super().__init__(server, *args, **kwargs)
        self._root = os.path.realpath(root)

    def _local(self, path: str) -> str:
        relative = _virtual(path).lstrip("/")
        local = os.path.join(self._root, relative) if relative else self._root
        # Symlinks planted inside the root must not lead out of it.
        real = os.path.realpath(local)
        if real != self._root and not real.startswith(self._root + os.sep):
            raise _OutsideRoot(path)
        return local

    def _run(self, action, path: str, *more: str):
        try:
            return action(self._local(path), *(self._local(other) for other in more))
        except _OutsideRoot:
            return SFTP_PERMISSION_DENIED
        except OSError as exc:
            return _status(exc)

    def canonicalize(self, path: str) -> str:
        return _virtual(path)

    def list_folder(self, path: str):
        def listing(local: str):
            entries = []
            for name in os.listdir(local):
                attrs = paramiko.SFTPAttributes.from_stat(os.lstat(os.path.join(local, name)))
                raw = os.fsencode(name)
                try:
                    raw.decode("utf-8")
                    attrs.filename = name
                except UnicodeDecodeError:
                    # Sent as the bytes on disk, as OpenSSH does: paramiko passes bytes on; its stub says str.
                    attrs.filename = raw  # type: ignore[assignment]

                entries.append(attrs)
            return entries

        return self._run(listing, path)

    def stat(self, path: str):
        return self._run(lambda local: paramiko.SFTPAttributes.from_stat(os.stat(local)), path)

    def lstat(self, path: str):
        return self._run(lambda local: paramiko.SFTPAttributes.from_stat(os.lstat(local)), path)

    def open(self, path: str, flags: int, attr):
        def opening(local: str):
            mode = getattr(attr, "st_mode", None) or 0o666
            fd = os.open(local, flags | getattr(os, "O_BINARY", 0), mode & 0o777)
            if flags & os.O_WRONLY:
                fmode = "ab" if flags & os.O_APPEND else "wb"
            elif flags & os.O_RDWR:
                fmode = "a+b" if flags & os.O_APPEND else "r+b"
            else:
                fmode = "rb"
            handle = _LocalFileHandle(flags)
            handle.filename = local
            handle.readfile = handle.writefile = os.fdopen(fd, fmode)
            return handle

        return self._run(opening, path)

    def remove(self, path: str) -> int:
        return self._run(_then_ok(os.remove), path)

    def rename(self, oldpath: str, newpath: str) -> int:
        # SFTP v3 rename must fail when the target exists (OpenSSH does link + unlink); clients rely on it.
        def renaming(old: str, new: str) -> int:
            if os.path.isdir(old):
                if os.path.lexists(new):
                    return SFTP_FAILURE
                os.rename(old, new)
                return SFTP_OK
            try:
                os.link(old, new)
            except FileExistsError:
                return SFTP_FAILURE
            os.unlink(old)
            return SFTP_OK

        return self._run(renaming, oldpath, newpath)

    def posix_rename(self, oldpath: str, newpath: str) -> int:
        return self._run(_then_ok(os.rename), oldpath, newpath)

    def mkdir(self, path: str, attr) -> int:
        return self._run(_then_ok(os.mkdir), path)

    def rmdir(self, path: str) -> int:
        return self._run(_then_ok(os.rmdir), path)

    def chattr(self, path: str, attr) -> int:
        return self._run(lambda local: paramiko.SFTPServer.set_file_attr(local, attr) or SFTP_OK, path)

    def readlink(self, path: str) -> int:
        return SFTP_OP_UNSUPPORTED

    def symlink(self, target_path: str, path: str) -> int:
        return SFTP_OP_UNSUPPORTED


def load_or_create_host_key(path: Path | None) -> paramiko.PKey:
    """The host key stored at ``path``, or a new ECDSA key (saved to ``path`` when given, mode 0600)."""
    if path is not None and path.exists():
        return paramiko.PKey.from_path(path)
    key = paramiko.ECDSAKey.generate()  # ECDSA: generated in milliseconds, unlike RSA
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        key.write_private_key_file(str(path))
    return key


class SandboxSftpServer(Served):
    """An SFTP server on 127.0.0.1 serving ``root`` to one user; a context manager (or ``start()``/``stop()``)."""

    def __init__(
        self,
        root: Path,
        *,
        username: str,
        password: str | None = None,
        authorized_key: paramiko.PKey | None = None,
        host_key_path: Path | None = None,
        port: int = 0,
    ) -> None:
        if password is None and authorized_key is None:
            raise ValueError("the sandbox SFTP user needs a password or an authorized key")
        self.root = Path(root)
        self.host = LOOPBACK
        self.port = port
        self.host_key = load_or_create_host_key(host_key_path)
        self._account = _SandboxAccount(username, password, authorized_key)
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._transports: list[paramiko.Transport] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()

    def start(self) -> Self:
        """Listen on 127.0.0.1 (a free port unless one was given) and serve connections in background threads."""
        if self._listener is not None:
            return self
        self.root.mkdir(parents=True, exist_ok=True)
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(16)
        # A timeout lets the accept loop notice stop() even where closing a socket does not wake accept().
        listener.settimeout(0.5)
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._stopping.clear()
        self._accepting = threading.Thread(
            target=self._accept_loop, name=f"sandbox-sftp-{self.port}", daemon=True
        )
        self._accepting.start()
        logger.info("sandbox SFTP server listening on %s:%d, serving %s", self.host, self.port, self.root)
        return self

    def stop(self) -> None:
        """Stop accepting, close every session and wait for the threads to end."""
        self._stopping.set()
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # not connected: normal for a listening socket on some systems
            listener.close()
        if self._accepting is not None:
            self._accepting.join(timeout=5)
            self._accepting = None
        with self._lock:
            transports, self._transports = self._transports, []
        for transport in transports:
            transport.close()
        for transport in transports:
            transport.join(timeout=5)

    def known_hosts_line(self) -> str:
        """This server's known_hosts entry (``[127.0.0.1]:PORT keytype base64``)."""
        if not self.port:
            raise RuntimeError("start the sandbox SFTP server before asking for its known_hosts entry")
        return f"{self._host_entry()} {self.host_key.get_name()} {self.host_key.get_base64()}"

    def write_known_hosts(self, path: Path) -> None:
        """Pin this server's host key in ``path``, replacing an older entry for the same address."""
        entry = self._host_entry()
        kept = []
        if path.exists():
            kept = [line for line in path.read_text().splitlines() if line.split(" ", 1)[0] != entry]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join([*kept, self.known_hosts_line()]) + "\n")

    def _host_entry(self) -> str:
        return self.host if self.port == 22 else f"[{self.host}]:{self.port}"

    def _accept_loop(self) -> None:
        while not self._stopping.is_set():
            listener = self._listener
            if listener is None:
                return
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return  # the listener was closed by stop()
            try:
                self._serve(connection)
            except Exception:  # one bad connection must not stop the server
                logger.exception("sandbox SFTP server could not start a session")
                connection.close()

    def _serve(self, connection: socket.socket) -> None:
        transport = paramiko.Transport(connection)
        transport.add_server_key(self.host_key)
        transport.set_subsystem_handler("sftp", paramiko.SFTPServer, _RootedSftp, root=self.root)
        # With an event, start_server returns at once: a slow handshake must not block other clients.
        transport.start_server(event=threading.Event(), server=self._account)
        with self._lock:
            self._transports = [t for t in self._transports if t.is_active()]
            self._transports.append(transport)
