"""SFTP failures translated into the hub's error tree (``canonical.errors``).

    ConfigurationError   wrong credentials, unknown or CHANGED host key, unreadable key or
                         known_hosts file, missing folder, permission denied
    RetriableError       network trouble: refused or dropped connections, timeouts, SSH protocol errors
    ├── RemoteFileMissing   a listed file is gone (moved by a concurrent run, or not visible yet)
    └── FileStillChanging   its size or mtime moved since it was listed: an upload still in progress
    RejectedDocument     the partner's file itself is unacceptable
    ├── UnsafeFileName      a name that could escape its folder, or is otherwise refused
    └── SymlinkRefused      a folder (or file) on the path is a symbolic link: never followed
    DuplicateDocument    writing a file that already exists with different content
"""

from __future__ import annotations

import errno
import socket

import paramiko

from canonical.errors import ConfigurationError, HubError, RejectedDocument, RetriableError


class UnsafeFileName(RejectedDocument):
    """A file name that is not one plain name inside its folder (``..``, ``a/b``, NUL, control characters)."""


class RemoteFileMissing(RetriableError):
    """The file is not (or no longer) on the server; listing the folder again tells what happened."""


class FileStillChanging(RetriableError):
    """The file's size or mtime is not what the caller saw: it is still being written (or was replaced)."""


class SymlinkRefused(RejectedDocument):
    """A symbolic link where a folder or file was expected: following it could read another partner's tree."""


class UnknownHostKey(paramiko.SSHException):
    """Raised by the pinning policy when the server's host key is not in known_hosts."""

    def __init__(self, hostname: str, key: paramiko.PKey) -> None:
        super().__init__(hostname, key)
        self.hostname = hostname
        self.key = key


def translate_connect_error(exc: BaseException, *, where: str, known_hosts: str) -> HubError:
    """The hub error for a failure while connecting to ``where`` (``host:port``)."""
    if isinstance(exc, HubError):
        return exc
    if isinstance(exc, UnknownHostKey):
        return ConfigurationError(
            f"host key for {where} ({exc.key.get_name()} {exc.key.fingerprint}) is not in known_hosts "
            f"{known_hosts}; verify it with the server's owner, then add it "
            f"(e.g. `ssh-keyscan -p PORT HOST >> {known_hosts}` after checking the fingerprint)"
        )
    if isinstance(exc, paramiko.BadHostKeyException):
        return ConfigurationError(
            f"host key CHANGED for {where}: the server presented {exc.key.get_name()} {exc.key.fingerprint} "
            f"but known_hosts {known_hosts} pins {exc.expected_key.fingerprint}; refusing to connect "
            "(possible man-in-the-middle, or the server was reinstalled: confirm with its owner)"
        )
    if isinstance(exc, paramiko.PasswordRequiredException):
        return ConfigurationError(f"the private key for {where} is encrypted and no passphrase is configured")
    if isinstance(exc, paramiko.AuthenticationException):
        return ConfigurationError(f"authentication failed for {where}: check the username, key or password")
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return RetriableError(f"timed out connecting to {where}")
    if isinstance(exc, paramiko.SSHException):
        # Banner or key-exchange failures: usually an overloaded or restarting server.
        return RetriableError(f"SSH session with {where} failed: {exc}")
    if isinstance(exc, (FileNotFoundError, IsADirectoryError)):
        return ConfigurationError(f"cannot read {getattr(exc, 'filename', None) or 'a key file'}: {exc.strerror}")
    if isinstance(exc, OSError):
        return RetriableError(f"cannot reach {where}: {exc.strerror or exc}")
    if isinstance(exc, ValueError):
        # paramiko raises ValueError for key files it cannot parse.
        return ConfigurationError(f"unusable key file for {where}: {exc}")
    raise exc


def translate_io_error(exc: BaseException, *, action: str, path: str) -> HubError:
    """The hub error for a failed SFTP operation on ``path`` (``action`` says what we were doing)."""
    if isinstance(exc, HubError):
        return exc
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return RetriableError(f"timed out while trying to {action} {path}")
    if isinstance(exc, (EOFError, paramiko.SSHException)):
        return RetriableError(f"SFTP session dropped while trying to {action} {path}: {exc}")
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOENT:
            return RemoteFileMissing(f"cannot {action} {path}: no such file or folder")
        if exc.errno == errno.EACCES:
            return ConfigurationError(f"cannot {action} {path}: permission denied for the SFTP account")
        return RetriableError(f"cannot {action} {path}: {exc.strerror or exc}")
    raise exc
