"""The SFTP client: list a partner's inbox, read files safely, write atomically, archive."""

from __future__ import annotations

import io
import logging
import posixpath
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

import paramiko
from paramiko.sftp import CMD_CLOSE, CMD_HANDLE, CMD_NAME, CMD_OPENDIR, CMD_READDIR

from canonical.errors import (
    ConfigurationError,
    DuplicateDocument,
    FatalError,
    HubError,
    RejectedDocument,
    RetriableError,
)
from connectors.sftp._config import SftpConfig
from connectors.sftp._errors import (
    FileStillChanging,
    RemoteFileMissing,
    SymlinkRefused,
    UnknownHostKey,
    UnsafeFileName,
    translate_connect_error,
    translate_io_error,
)
from connectors.sftp._paths import (
    MAX_NAME_BYTES,
    display_name,
    is_temporary_file_name,
    normalize_folder,
    path_in_folder,
    unsafe_name_reason,
)

logger = logging.getLogger(__name__)

_READ_CHUNK = 32 * 1024  # paramiko's SFTP request size; larger reads are split anyway
_MOVE_ATTEMPTS = 5


@dataclass(frozen=True)
class RemoteFile:
    """A regular file in a remote folder: its plain name, size in bytes and modification time (epoch seconds)."""

    name: str
    size: int
    mtime: int


@dataclass(frozen=True)
class RefusedEntry:
    """A folder entry that is not read: a symlink, a special file, or a name that is not safe.

    ``name`` is the name as listed (it may hold control characters: show ``shown``, never ``name``).
    """

    name: str
    reason: str
    size: int
    mtime: int

    @property
    def shown(self) -> str:
        """The name escaped for logs, messages and the UI."""
        return display_name(self.name)


@dataclass(frozen=True)
class FolderListing:
    """What a folder holds: regular files with safe names (oldest first), and the entries refused."""

    files: list[RemoteFile]
    refused: list[RefusedEntry]


class _PinnedHostKeyPolicy(paramiko.RejectPolicy):
    """Reject unknown host keys (never trust on first use), with an error that names the key."""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> NoReturn:
        raise UnknownHostKey(hostname, key)


class _PartnerFolderSftp(paramiko.SFTPClient):
    """paramiko's SFTP client with a listing that survives file names that are not UTF-8.

    paramiko decodes names strictly, so one partner file named in Latin-1 would make the whole inbox
    unlistable. Here undecodable bytes become surrogates, which ``safe_file_name`` refuses: that file
    is skipped with a warning and every other file keeps flowing. (Mirrors paramiko 5.1's own
    ``listdir_attr``; paramiko is pinned.)
    """

    if TYPE_CHECKING:  # paramiko's private helpers used below: types-paramiko leaves them out

        def _adjust_cwd(self, path: str) -> str: ...

        def _request(self, t: int, *args: Any) -> tuple[int, paramiko.Message]: ...

    def listdir_attr(self, path: str = ".") -> list[paramiko.SFTPAttributes]:
        path = self._adjust_cwd(path)
        kind, msg = self._request(CMD_OPENDIR, path)
        if kind != CMD_HANDLE:
            raise paramiko.SFTPError("Expected handle")
        handle = msg.get_binary()
        entries = []
        try:
            while True:
                try:
                    kind, msg = self._request(CMD_READDIR, handle)
                except EOFError:
                    break  # end of the folder
                if kind != CMD_NAME:
                    raise paramiko.SFTPError("Expected name response")
                for _ in range(msg.get_int()):
                    filename = msg.get_string().decode("utf-8", errors="surrogateescape")
                    longname = msg.get_string().decode("utf-8", errors="replace")
                    # private, not in types-paramiko; the pinned paramiko's listdir_attr calls it the same way
                    attrs = paramiko.SFTPAttributes._from_msg(msg, filename, longname)  # type: ignore[attr-defined]
                    if filename not in (".", ".."):
                        entries.append(attrs)
        finally:
            self._request(CMD_CLOSE, handle)
        return entries


class SftpClient:
    """One SFTP session with a pinned host key; use as ``with SftpClient(config) as sftp: ...``."""

    def __init__(self, config: SftpConfig) -> None:
        self._config = config
        self._ssh: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None

    # -- session ---------------------------------------------------------------------------------

    def __enter__(self) -> SftpClient:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def connect(self) -> None:
        """Open the SSH connection and the SFTP channel; host key, auth and network errors become hub errors."""
        if self._sftp is not None:
            return
        config = self._config
        known_hosts = config.known_hosts_path
        if not known_hosts.is_file():
            raise ConfigurationError(
                f"known_hosts file {known_hosts} does not exist: the host key of {config.address} must be pinned"
            )
        private_key = _load_private_key(config)
        ssh = paramiko.SSHClient()
        try:
            # Only this file: the machine's and the user's known_hosts must not widen what we trust.
            ssh.load_host_keys(str(known_hosts))
        except Exception as exc:  # paramiko raises several kinds for a broken file
            raise ConfigurationError(f"known_hosts file {known_hosts} cannot be read: {exc!r}") from exc
        ssh.set_missing_host_key_policy(_PinnedHostKeyPolicy())
        try:
            ssh.connect(
                hostname=config.host,
                port=config.port,
                username=config.username,
                password=config.password.get_secret_value() if config.password else None,
                pkey=private_key,
                timeout=config.timeout_seconds,
                banner_timeout=config.timeout_seconds,
                auth_timeout=config.timeout_seconds,
                channel_timeout=config.timeout_seconds,
                allow_agent=False,
                look_for_keys=False,
            )
            transport = ssh.get_transport()
            if transport is None:  # connect() returned, so it is there unless the server hung up since
                raise paramiko.SSHException("the server closed the connection before SFTP started")
            sftp = _PartnerFolderSftp.from_transport(transport)
            channel = sftp.get_channel() if sftp is not None else None
            if sftp is None or channel is None:
                raise paramiko.SSHException("the server refused to open an SFTP channel")
            # Without a channel timeout a stalled server would hang a read forever.
            channel.settimeout(config.timeout_seconds)
        except Exception as exc:
            ssh.close()
            error = translate_connect_error(exc, where=config.address, known_hosts=str(known_hosts))
            raise error from exc
        self._ssh, self._sftp = ssh, sftp
        logger.debug("SFTP session open with %s", config.address)

    def close(self) -> None:
        """Close the session (idempotent; a server that already went away is not an error here)."""
        sftp, ssh, self._sftp, self._ssh = self._sftp, self._ssh, None, None
        if sftp is not None:
            try:
                sftp.close()
            except (EOFError, OSError, paramiko.SSHException):
                logger.debug("SFTP channel already closed by the server")
        if ssh is not None:
            ssh.close()

    @property
    def _session(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            raise FatalError("SftpClient is not connected: use it as a context manager")
        return self._sftp

    @contextmanager
    def _errors(self, action: str, path: str) -> Iterator[None]:
        try:
            yield
        except HubError:
            raise
        except (OSError, EOFError, paramiko.SSHException) as exc:
            raise translate_io_error(exc, action=action, path=path) from exc

    def _lstat_or_none(self, path: str) -> paramiko.SFTPAttributes | None:
        with self._errors("look up", path):
            try:
                return self._session.lstat(path)
            except FileNotFoundError:
                return None

    # -- operations --------------------------------------------------------------------------------

    def scan_folder(self, folder: str) -> FolderListing:
        """Everything in ``folder``: regular files with safe names, oldest first, and what was refused.

        Refused (never read): symbolic links, special files, and names that are not safe (control or
        format characters, separators, not UTF-8...). Subfolders are neither. Temporary names
        (``*.part``, dotfiles...) are listed as files: what counts as an upload in progress is the
        caller's convention. A symlinked ``folder`` (or parent) raises SymlinkRefused.
        """
        base = self._real_folder(folder)
        with self._errors("list", base):
            entries = self._session.listdir_attr(base)
        files, refused = [], []
        for entry in entries:
            name, mode = entry.filename, entry.st_mode or 0
            size, mtime = entry.st_size or 0, int(entry.st_mtime or 0)
            if stat.S_ISDIR(mode):
                continue
            if stat.S_ISLNK(mode):
                refused.append(RefusedEntry(name, "it is a symbolic link (links are never followed)", size, mtime))
            elif not stat.S_ISREG(mode):
                refused.append(RefusedEntry(name, "it is not a regular file", size, mtime))
            elif (problem := unsafe_name_reason(name)) is not None:
                refused.append(RefusedEntry(name, problem, size, mtime))
            else:
                files.append(RemoteFile(name=name, size=size, mtime=mtime))
        files.sort(key=lambda remote: (remote.mtime, remote.name))
        return FolderListing(files, refused)

    def list_files(self, folder: str) -> list[RemoteFile]:
        """Finished regular files in ``folder``, oldest first (by mtime, then name).

        Skipped: folders, symlinks and other non-regular entries; dotfiles and ``*.part``/``*.tmp``/
        ``*.filepart`` (uploads in progress); names that are not safe (logged as a warning, escaped).
        """
        listing = self.scan_folder(folder)
        for refused in listing.refused:
            logger.warning("skipping an entry with an unsafe name or type in %s: %s (%s)",
                           normalize_folder(folder), refused.shown, refused.reason)
        return [remote for remote in listing.files if not is_temporary_file_name(remote.name)]

    def read_file(
        self, folder: str, name: str, *, max_bytes: int | None = None, expected: tuple[int, int] | None = None
    ) -> bytes:
        """The bytes of one regular file; larger than ``max_bytes`` (default: the config's) is a RejectedDocument.

        ``expected``: see :meth:`download_file`.
        """
        buffer = io.BytesIO()
        self.download_file(folder, name, buffer, max_bytes=max_bytes, expected=expected)
        return buffer.getvalue()

    def download_file(
        self, folder: str, name: str, target: BinaryIO, *, max_bytes: int | None = None,
        expected: tuple[int, int] | None = None,
    ) -> int:
        """Stream one regular file into ``target`` (e.g. a temporary file) a chunk at a time; returns its size.

        Larger than ``max_bytes`` (default: the config's) is a RejectedDocument, checked before and
        while reading, so memory stays flat whatever the partner uploads. ``expected`` (size, mtime)
        as listed: a file that differs before the read, or whose size or mtime moved while it was
        read, raises FileStillChanging (the bytes in ``target`` are then not the file).
        """
        self._real_folder(folder)
        path = path_in_folder(folder, name)
        limit = self._config.max_file_bytes if max_bytes is None else max_bytes
        attrs = self._regular_file(path, "read")
        size = attrs.st_size or 0
        if expected is not None and (size, int(attrs.st_mtime or 0)) != tuple(expected):
            raise FileStillChanging(f"{path} changed since it was listed: still being written")
        if size > limit:
            raise RejectedDocument(f"file is {size} bytes, more than the limit of {limit} bytes", location=path)
        total = 0
        with self._errors("read", path), self._session.open(path, "rb") as remote:
            if size:
                remote.prefetch(size)  # pipelined reads: one round trip instead of one per 32 KiB
            while chunk := remote.read(_READ_CHUNK):
                total += len(chunk)
                if total > limit:
                    # It grew after the size check: still not finished, or hostile. Stop reading now.
                    raise RejectedDocument(f"file grew beyond the limit of {limit} bytes while reading", location=path)
                if total > size:
                    # Still being written: stop now rather than follow a growing file to the size limit.
                    raise FileStillChanging(f"{path} changed while it was read: still being written")
                target.write(chunk)
        after = self._regular_file(path, "read")
        if total != size or (after.st_size, after.st_mtime) != (attrs.st_size, attrs.st_mtime):
            raise FileStillChanging(f"{path} changed while it was read: still being written")
        return total

    def write_file_atomic(self, folder: str, name: str, data: bytes) -> str:
        """Upload ``data`` as ``folder/name`` so that readers never see a partial file; returns the final path.

        The bytes go to ``.name.part`` first and are renamed into place with the plain SFTP rename,
        which must fail when the target exists (so nothing is ever overwritten). If ``name`` already
        exists with identical bytes the call succeeds (a retry after a crash); with different bytes it
        raises DuplicateDocument.
        """
        self._real_folder(folder)
        final = path_in_folder(folder, name)
        part_name = f".{name}.part"
        if len(part_name.encode("utf-8")) > MAX_NAME_BYTES:
            raise UnsafeFileName(f"file name {name!r} is too long to upload under a temporary name")
        part = path_in_folder(folder, part_name)
        if self._lstat_or_none(final) is not None:
            return self._existing_or_duplicate(final, data)
        renamed = False
        try:
            with self._errors("upload", part):
                with self._session.open(part, "wb") as remote:
                    remote.set_pipelined(True)
                    remote.write(data)
                written = self._session.stat(part).st_size
            if written != len(data):
                raise RetriableError(f"upload of {final} incomplete: {written} of {len(data)} bytes arrived")
            with self._errors("rename into place", final):
                try:
                    self._session.rename(part, final)
                    renamed = True
                except OSError:
                    if self._lstat_or_none(final) is None:
                        raise
                    # Somebody else wrote the same name between our check and the rename.
                    return self._existing_or_duplicate(final, data)
        finally:
            if not renamed:
                self._remove_quietly(part)
        return final

    def move_file(self, folder: str, name: str, to_folder: str, *, expected: tuple[int, int] | None = None) -> str:
        """Move a (processed) file to ``to_folder``; on a name clash add a UTC timestamp. Returns the new path.

        ``expected`` (size, mtime) as read: a file that differs now (growing, or replaced by a new
        upload under the same name) raises FileStillChanging and stays where it is.
        """
        self._real_folder(folder)
        self._real_folder(to_folder)
        source = path_in_folder(folder, name)
        attrs = self._regular_file(source, "move")
        if expected is not None and (attrs.st_size or 0, int(attrs.st_mtime or 0)) != tuple(expected):
            raise FileStillChanging(f"{source} changed since it was read: not moved")
        target = path_in_folder(to_folder, name)
        for attempt in range(_MOVE_ATTEMPTS):
            if self._lstat_or_none(target) is None:
                with self._errors("move", source):
                    try:
                        # Plain rename refuses an existing target, so a race cannot clobber an archived file.
                        self._session.rename(source, target)
                        return target
                    except OSError:
                        if self._lstat_or_none(source) is None:
                            raise RemoteFileMissing(f"cannot move {source}: it disappeared") from None
                        if self._lstat_or_none(target) is None:
                            self._require_folder(to_folder)
                            raise
            target = path_in_folder(to_folder, _timestamped_name(name, attempt))
        raise RetriableError(f"cannot move {source}: {_MOVE_ATTEMPTS} target names in {to_folder} were taken")

    def ensure_folder(self, folder: str) -> None:
        """Create ``folder`` and its missing parents (like ``mkdir -p``)."""
        base = normalize_folder(folder)
        if base in (".", "/"):
            return
        current = "/" if base.startswith("/") else ""
        for part in base.strip("/").split("/"):
            current = posixpath.join(current, part)
            with self._errors("create folder", current):
                try:
                    attrs = self._session.stat(current)
                except FileNotFoundError:
                    try:
                        self._session.mkdir(current)
                        continue
                    except OSError:
                        attrs = self._session.stat(current)  # created concurrently? else this raises
                if not stat.S_ISDIR(attrs.st_mode or 0):
                    raise ConfigurationError(f"{current} on {self._config.address} exists but is not a folder")

    # -- helpers -----------------------------------------------------------------------------------

    def _existing_or_duplicate(self, path: str, data: bytes) -> str:
        existing = self._lstat_or_none(path)
        if existing is not None and stat.S_ISREG(existing.st_mode or 0) and existing.st_size == len(data):
            folder, name = posixpath.split(path)
            if self.read_file(folder or ".", name, max_bytes=len(data)) == data:
                return path
        raise DuplicateDocument(f"{path} already exists with different content; it is never overwritten")

    def _regular_file(self, path: str, action: str) -> paramiko.SFTPAttributes:
        attrs = self._lstat_or_none(path)
        if attrs is None:
            raise RemoteFileMissing(f"cannot {action} {path}: no such file")
        if stat.S_ISLNK(attrs.st_mode or 0):
            raise SymlinkRefused("a symbolic link, never followed", location=path)
        if not stat.S_ISREG(attrs.st_mode or 0):
            raise RejectedDocument("not a regular file", location=path)
        return attrs

    def _real_folder(self, folder: str) -> str:
        """``folder`` normalized, after checking (lstat) that neither it nor a parent is a symbolic link.

        A partner folder symlinked to another partner's would otherwise read (or archive into, or
        write acks to) that partner's files. Missing: ConfigurationError. Returns the normalized path.
        """
        base = normalize_folder(folder)
        if base in (".", "/"):
            return base
        current = "/" if base.startswith("/") else ""
        for part in base.strip("/").split("/"):
            current = posixpath.join(current, part)
            attrs = self._lstat_or_none(current)
            if attrs is None:
                raise ConfigurationError(f"SFTP folder {current} does not exist on {self._config.address}")
            if stat.S_ISLNK(attrs.st_mode or 0):
                raise SymlinkRefused(f"folder {current} is a symbolic link; links are never followed", location=current)
            if not stat.S_ISDIR(attrs.st_mode or 0):
                raise ConfigurationError(f"{current} on {self._config.address} exists but is not a folder")
        return base

    def _require_folder(self, folder: str) -> None:
        base = normalize_folder(folder)
        attrs = self._lstat_or_none(base)
        if attrs is None:
            raise ConfigurationError(f"SFTP folder {base} does not exist on {self._config.address}")

    def _remove_quietly(self, path: str) -> None:
        try:
            self._session.remove(path)
        except (OSError, EOFError, paramiko.SSHException):
            pass  # usually already renamed away; a leftover .part is skipped by list_files anyway


def _load_private_key(config: SftpConfig) -> paramiko.PKey | None:
    """The configured private key, loaded up front so a bad key file reads as what it is."""
    path = config.private_key_path
    if path is None:
        return None
    if not path.is_file():
        raise ConfigurationError(f"private key file {path} does not exist")
    passphrase = config.private_key_passphrase.get_secret_value() if config.private_key_passphrase else None
    try:
        return paramiko.PKey.from_path(path, password=passphrase)
    except paramiko.PasswordRequiredException:
        raise ConfigurationError(f"private key {path} is encrypted and no passphrase is configured") from None
    except (paramiko.SSHException, ValueError, OSError) as exc:
        raise ConfigurationError(f"cannot load private key {path}: {exc}") from None


def _timestamped_name(name: str, attempt: int) -> str:
    """``order.edi`` -> ``order.20250101T120000123456Z.edi`` (plus ``-N`` on later attempts)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + (f"-{attempt}" if attempt else "")
    stem, ext = posixpath.splitext(name)
    if not stem:  # a name like ".edi" cannot occur (dotfiles are refused) but keep the stamp at the end
        stem, ext = name, ""
    room = MAX_NAME_BYTES - len(f".{stamp}{ext}".encode())
    stem = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return f"{stem}.{stamp}{ext}"
