"""SFTP connector: list, read, atomically write and archive partner files over SFTP with a pinned host key.

    from connectors.sftp import SftpClient, SftpConfig

    with SftpClient(config) as sftp:
        for remote in sftp.list_files("acme/inbox"):
            data = sftp.read_file("acme/inbox", remote.name)
            ...
            sftp.move_file("acme/inbox", remote.name, "acme/archive")

Host keys are never trusted on first use: add the server's key to ``known_hosts_path`` after
checking its fingerprint (``ssh-keyscan -p PORT HOST >> known_hosts``; the entry reads
``[HOST]:PORT`` for ports other than 22).
"""

from connectors.sftp._client import FolderListing, RefusedEntry, RemoteFile, SftpClient
from connectors.sftp._config import SftpConfig
from connectors.sftp._errors import FileStillChanging, RemoteFileMissing, SymlinkRefused, UnsafeFileName
from connectors.sftp._paths import (
    display_name,
    is_safe_file_name,
    is_temporary_file_name,
    normalize_folder,
    path_in_folder,
    safe_file_name,
)

__all__ = [
    "FileStillChanging",
    "FolderListing",
    "RefusedEntry",
    "RemoteFile",
    "RemoteFileMissing",
    "SftpClient",
    "SftpConfig",
    "SymlinkRefused",
    "UnsafeFileName",
    "display_name",
    "is_safe_file_name",
    "is_temporary_file_name",
    "normalize_folder",
    "path_in_folder",
    "safe_file_name",
]
