"""Path safety and configuration of the SFTP connector, without a server."""

from __future__ import annotations

import socket

import pytest
from pydantic import ValidationError

from canonical.errors import ConfigurationError, RejectedDocument, RetriableError
from connectors.sftp import (
    SftpClient,
    SftpConfig,
    UnsafeFileName,
    is_temporary_file_name,
    normalize_folder,
    path_in_folder,
    safe_file_name,
)
from connectors.sftp._client import _timestamped_name


@pytest.mark.parametrize(
    "name",
    ["PO-0001.edi", "order 17.x12", "a..b.edi", "ÄÖÜ-bestellung.csv", "x" * 255, "...edi", "_", "e\u0301.edi"],
)
def test_plain_names_are_accepted_unchanged(name):
    assert safe_file_name(name) == name
    assert path_in_folder("acme/inbox", name) == f"acme/inbox/{name}"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("", "empty"),
        (".", "directory reference"),
        ("..", "directory reference"),
        ("../x", "separator"),
        ("a/b", "separator"),
        ("/etc/passwd", "separator"),
        ("..\\..\\x", "separator"),
        ("x\x00y", "NUL"),
        ("new\nline", "control"),
        ("tab\there", "control"),
        ("bell\x07", "control"),
        ("del\x7f", "control"),
        ("rtl\u202efdp.edi", "format character"),
        ("-rf", "starts with '-'"),
        (" lead", "whitespace"),
        ("trail ", "whitespace"),
        ("x" * 256, "255 bytes"),
        ("é" * 128, "255 bytes"),  # 256 bytes in UTF-8
    ],
)
def test_unsafe_names_are_refused_with_a_reason(name, reason):
    with pytest.raises(UnsafeFileName, match=reason) as refused:
        path_in_folder("acme/inbox", name)
    assert isinstance(refused.value, RejectedDocument)


@pytest.mark.parametrize(
    ("folder", "normalized"),
    [("acme/inbox", "acme/inbox"), ("acme//inbox/", "acme/inbox"), ("./acme/./inbox", "acme/inbox"),
     ("/upload/acme", "/upload/acme"), ("", "."), (".", "."), ("/", "/")],
)
def test_folders_are_normalized(folder, normalized):
    assert normalize_folder(folder) == normalized


@pytest.mark.parametrize("folder", ["../acme", "acme/../../etc", "..", "acme\\inbox", "acme\x00", "acme\ninbox"])
def test_unsafe_folders_are_configuration_errors(folder):
    with pytest.raises(ConfigurationError):
        normalize_folder(folder)


def test_joins_stay_directly_in_the_folder():
    assert path_in_folder(".", "x.edi") == "x.edi"
    assert path_in_folder("/", "x.edi") == "/x.edi"
    assert path_in_folder("/upload/acme/", "x.edi") == "/upload/acme/x.edi"


@pytest.mark.parametrize(
    ("name", "temporary"),
    [(".hidden", True), ("a.part", True), ("a.PART", True), ("a.tmp", True), ("a.filepart", True),
     ("a.edi", False), ("part", False), ("a.partial", False)],
)
def test_uploads_in_progress_are_recognized(name, temporary):
    assert is_temporary_file_name(name) is temporary


def test_timestamped_names_keep_the_extension_and_fit_the_limit():
    assert _timestamped_name("po.edi", 0).startswith("po.")
    assert _timestamped_name("po.edi", 0).endswith(".edi")
    assert _timestamped_name("po.edi", 2).endswith("-2.edi")
    assert _timestamped_name("README", 0).startswith("README.")
    long_name = "é" * 120 + ".edi"
    stamped = _timestamped_name(long_name, 0)
    assert len(stamped.encode()) <= 255 and stamped.endswith(".edi")
    assert safe_file_name(stamped) == stamped


def test_config_needs_a_credential(tmp_path):
    with pytest.raises(ValidationError, match="password or a private_key_path"):
        SftpConfig(host="h", username="u", known_hosts_path=tmp_path / "kh")


def test_config_requires_known_hosts():
    with pytest.raises(ValidationError, match="known_hosts_path"):
        SftpConfig(host="h", username="u", password="p")  # type: ignore[call-arg]  # what the test checks


def test_config_treats_empty_environment_values_as_unset(tmp_path):
    config = SftpConfig(host="h", username="u", password="p", private_key_path="", known_hosts_path=tmp_path / "kh")
    assert config.private_key_path is None


def test_config_hides_the_password(tmp_path):
    config = SftpConfig(host="h", username="u", password="hunter2", known_hosts_path=tmp_path / "kh")
    assert "hunter2" not in repr(config)


def test_a_closed_port_is_retriable(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connections are refused
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text("")
        config = SftpConfig(host="127.0.0.1", port=port, username="u", password="p", known_hosts_path=known_hosts)
        with pytest.raises(RetriableError, match=f"cannot reach 127.0.0.1:{port}"):
            SftpClient(config).connect()


def test_a_missing_private_key_file_is_a_configuration_error(tmp_path):
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    config = SftpConfig(host="127.0.0.1", username="u", private_key_path=tmp_path / "nope",
                        known_hosts_path=known_hosts)
    with pytest.raises(ConfigurationError, match=r"private key file .* does not exist"):
        SftpClient(config).connect()


def test_a_garbage_private_key_is_a_configuration_error(tmp_path):
    (tmp_path / "key").write_text("not a key")
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("")
    config = SftpConfig(host="127.0.0.1", username="u", private_key_path=tmp_path / "key", known_hosts_path=known_hosts)
    with pytest.raises(ConfigurationError, match="cannot load private key"):
        SftpClient(config).connect()


def test_using_the_client_without_connecting_is_a_bug(tmp_path):
    from canonical.errors import FatalError

    config = SftpConfig(host="h", username="u", password="p", known_hosts_path=tmp_path / "kh")
    with pytest.raises(FatalError, match="context manager"):
        SftpClient(config).list_files("x")


def test_a_broken_known_hosts_file_is_a_configuration_error(tmp_path):
    known_hosts = tmp_path / "known_hosts"
    known_hosts.write_text("[127.0.0.1]:2222 ssh-ed25519 !!!not-base64!!!\n")
    config = SftpConfig(host="127.0.0.1", port=2222, username="u", password="p", known_hosts_path=known_hosts)
    with pytest.raises(ConfigurationError, match="cannot be read"):
        SftpClient(config).connect()
