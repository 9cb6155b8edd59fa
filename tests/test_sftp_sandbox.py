"""The in-process sandbox SFTP server: the client contract, plus its own chroot and lifecycle guarantees."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import paramiko
import pytest

from canonical.errors import ConfigurationError, RejectedDocument, RetriableError
from connectors.sftp import SftpClient, SftpConfig
from sandbox.sftp_server import SandboxSftpServer
from tests.test_sftp_client import SftpClientContract

USERNAME = "acme"
PASSWORD = "sandbox-password"


@dataclass
class SandboxSite:
    """A sandbox server seen the way the client contract expects a site."""

    server: SandboxSftpServer
    root: Path
    private_key_path: Path
    known_hosts_path: Path

    @property
    def host(self) -> str:
        return self.server.host

    @property
    def port(self) -> int:
        return self.server.port

    def sftp_config(self, **overrides) -> SftpConfig:
        fields = {
            "host": self.host,
            "port": self.port,
            "username": USERNAME,
            "private_key_path": self.private_key_path,
            "known_hosts_path": self.known_hosts_path,
            "timeout_seconds": 10.0,
        }
        fields.update(overrides)
        return SftpConfig(**fields)

    def make_folder(self, relative: str) -> Path:
        path = self.root / relative
        path.mkdir(parents=True, exist_ok=True)
        return path

    def put_file(self, relative: str, data: bytes, *, mtime: int | None = None) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))
        return path


@pytest.fixture(scope="module")
def sandbox_site(tmp_path_factory) -> Iterator[SandboxSite]:
    base = tmp_path_factory.mktemp("sandbox-sftp")
    client_key = paramiko.ECDSAKey.generate()
    client_key.write_private_key_file(str(base / "client_key"))
    server = SandboxSftpServer(
        base / "root", username=USERNAME, password=PASSWORD, authorized_key=client_key,
        host_key_path=base / "host_key",
    )
    with server:
        server.write_known_hosts(base / "known_hosts")
        yield SandboxSite(server, base / "root", base / "client_key", base / "known_hosts")


class TestAgainstSandbox(SftpClientContract):
    """The same contract the real OpenSSH server meets."""

    @pytest.fixture
    def site(self, sandbox_site):
        return sandbox_site


@pytest.fixture
def raw_sftp(sandbox_site):
    """A plain paramiko session, bypassing the client's own path checks: the server must hold the line."""
    transport = paramiko.Transport((sandbox_site.host, sandbox_site.port))
    transport.connect(username=USERNAME, password=PASSWORD)
    sftp = paramiko.SFTPClient.from_transport(transport)
    yield sftp
    sftp.close()
    transport.close()


def test_parent_references_stop_at_the_sandbox_root(sandbox_site, raw_sftp):
    (sandbox_site.root.parent / "outside.txt").write_bytes(b"outside the sandbox")
    (sandbox_site.root / "inside.txt").write_bytes(b"inside")

    assert raw_sftp.normalize("../../..") == "/"
    assert sorted(raw_sftp.listdir("../..")) == sorted(raw_sftp.listdir("/"))
    with raw_sftp.open("../inside.txt") as f:  # '..' from the root is the root
        assert f.read() == b"inside"
    with pytest.raises(FileNotFoundError):
        raw_sftp.open("../outside.txt")
    raw_sftp.rename("/inside.txt", "../../moved.txt")
    assert (sandbox_site.root / "moved.txt").exists()
    assert not (sandbox_site.root.parent / "moved.txt").exists()


def test_symlinks_out_of_the_root_are_refused(sandbox_site, raw_sftp):
    (sandbox_site.root.parent / "secret.txt").write_bytes(b"secret")
    (sandbox_site.root / "escape.txt").symlink_to(sandbox_site.root.parent / "secret.txt")
    (sandbox_site.root / "escape_dir").symlink_to(sandbox_site.root.parent)

    with pytest.raises(PermissionError):
        raw_sftp.open("escape.txt")
    with pytest.raises(PermissionError):
        raw_sftp.listdir("escape_dir")
    with pytest.raises(PermissionError):
        raw_sftp.open("escape_dir/secret.txt")
    with pytest.raises(OSError):
        raw_sftp.symlink("/", "another_escape")


def test_plain_rename_refuses_an_existing_target_but_posix_rename_replaces_it(sandbox_site, raw_sftp):
    (sandbox_site.root / "r1.txt").write_bytes(b"one")
    (sandbox_site.root / "r2.txt").write_bytes(b"two")

    with pytest.raises(OSError):
        raw_sftp.rename("r1.txt", "r2.txt")
    assert (sandbox_site.root / "r2.txt").read_bytes() == b"two"
    raw_sftp.posix_rename("r1.txt", "r2.txt")
    assert (sandbox_site.root / "r2.txt").read_bytes() == b"one"
    assert not (sandbox_site.root / "r1.txt").exists()


def test_password_login(sandbox_site):
    config = sandbox_site.sftp_config(private_key_path=None, password=PASSWORD)
    with SftpClient(config) as sftp:
        sftp.ensure_folder("password-login")
    assert (sandbox_site.root / "password-login").is_dir()


def test_wrong_password_is_a_configuration_error(sandbox_site):
    config = sandbox_site.sftp_config(private_key_path=None, password="wrong")
    with pytest.raises(ConfigurationError, match="authentication failed"):
        SftpClient(config).connect()


def test_wrong_username_is_refused(sandbox_site):
    config = sandbox_site.sftp_config(username="someone-else", private_key_path=None, password=PASSWORD)
    with pytest.raises(ConfigurationError, match="authentication failed"):
        SftpClient(config).connect()


def test_concurrent_sessions(sandbox_site):
    sandbox_site.make_folder("concurrent")

    def upload_and_read(number: int) -> bytes:
        with SftpClient(sandbox_site.sftp_config()) as sftp:
            sftp.write_file_atomic("concurrent", f"{number}.edi", str(number).encode() * 10_000)
            return sftp.read_file("concurrent", f"{number}.edi")

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(upload_and_read, range(12)))

    assert results == [str(number).encode() * 10_000 for number in range(12)]
    with SftpClient(sandbox_site.sftp_config()) as sftp:
        assert len(sftp.list_files("concurrent")) == 12


def test_stop_ends_every_thread_it_started(tmp_path):
    before = set(threading.enumerate())
    server = SandboxSftpServer(tmp_path / "root", username=USERNAME, password=PASSWORD)
    with server:
        server.write_known_hosts(tmp_path / "known_hosts")
        config = SftpConfig(host=server.host, port=server.port, username=USERNAME, password=PASSWORD,
                            known_hosts_path=tmp_path / "known_hosts")
        with SftpClient(config) as sftp:
            sftp.ensure_folder("x")
        lingering_session = SftpClient(config)
        lingering_session.connect()  # still open when the server stops
    lingering_session.close()

    deadline = time.monotonic() + 10  # a bound for a hang, not a speed requirement
    while [t for t in threading.enumerate() if t not in before and t.is_alive()] and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [t for t in threading.enumerate() if t not in before and t.is_alive()] == []
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((server.host, server.port), timeout=5)


def test_a_stopped_server_is_a_retriable_error_for_the_client(tmp_path):
    server = SandboxSftpServer(tmp_path / "root", username=USERNAME, password=PASSWORD)
    with server:
        server.write_known_hosts(tmp_path / "known_hosts")
    config = SftpConfig(host=server.host, port=server.port, username=USERNAME, password=PASSWORD,
                        known_hosts_path=tmp_path / "known_hosts", timeout_seconds=5)
    with pytest.raises(RetriableError, match="cannot reach"):
        SftpClient(config).connect()


def test_host_key_is_kept_across_restarts(tmp_path):
    key_path = tmp_path / "host_key"
    first = SandboxSftpServer(tmp_path / "root", username=USERNAME, password=PASSWORD, host_key_path=key_path)
    second = SandboxSftpServer(tmp_path / "root", username=USERNAME, password=PASSWORD, host_key_path=key_path)

    assert key_path.exists() and oct(key_path.stat().st_mode & 0o777) == "0o600"
    assert first.host_key.get_base64() == second.host_key.get_base64()


def test_write_known_hosts_replaces_only_this_servers_entry(tmp_path):
    known_hosts = tmp_path / "known_hosts"
    with SandboxSftpServer(tmp_path / "root", username=USERNAME, password=PASSWORD) as server:
        entry = f"[{server.host}]:{server.port}"
        known_hosts.write_text(f"other.example ssh-ed25519 AAAAother\n{entry} ssh-ed25519 AAAAstale\n")

        server.write_known_hosts(known_hosts)

        expected = ["other.example ssh-ed25519 AAAAother", server.known_hosts_line()]
        assert known_hosts.read_text().splitlines() == expected


def test_needs_a_credential(tmp_path):
    with pytest.raises(ValueError):
        SandboxSftpServer(tmp_path, username=USERNAME)


def test_a_file_that_grows_past_the_limit_while_read_is_refused(sandbox_site, monkeypatch):
    sandbox_site.put_file("growing/po.edi", b"x" * 5000)
    with SftpClient(sandbox_site.sftp_config()) as sftp:
        real_lstat = sftp._lstat_or_none

        def lstat_from_before_it_grew(path):
            attrs = real_lstat(path)
            attrs.st_size = 10
            return attrs

        monkeypatch.setattr(sftp, "_lstat_or_none", lstat_from_before_it_grew)
        with pytest.raises(RejectedDocument, match="grew beyond the limit of 1000 bytes"):
            sftp.read_file("growing", "po.edi", max_bytes=1000)
