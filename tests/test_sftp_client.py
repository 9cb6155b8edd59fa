"""SftpClient against a real OpenSSH server; the contract here is reused for the sandbox server.

A "site" is what a test needs from a server: ``sftp_config(**overrides)``, ``put_file(relative, data,
mtime=)``, ``make_folder(relative)``, ``root`` (the local folder SFTP relative paths start in),
``host`` and ``port``.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import paramiko
import pytest

from canonical.errors import ConfigurationError, DuplicateDocument, RejectedDocument
from connectors.sftp import (
    FileStillChanging,
    RemoteFile,
    RemoteFileMissing,
    SftpClient,
    SymlinkRefused,
    UnsafeFileName,
)

TRAVERSAL_NAMES = ["../x", "..", ".", "a/b", "/etc/passwd", "a\\b", "x\x00y", "", "../../secret.txt"]


class SftpClientContract:
    """Behaviour SftpClient must show against every server we support; subclasses provide ``site``."""

    @pytest.fixture
    def partner(self, site) -> str:
        """A fresh partner folder with inbox/ and archive/, so tests sharing a server never collide."""
        partner = f"p{uuid.uuid4().hex[:10]}"
        site.make_folder(f"{partner}/inbox")
        site.make_folder(f"{partner}/archive")
        return partner

    @pytest.fixture
    def sftp(self, site):
        with SftpClient(site.sftp_config()) as client:
            yield client

    # -- listing -------------------------------------------------------------------------------

    def test_lists_finished_regular_files_oldest_first(self, site, partner, sftp):
        site.put_file(f"{partner}/inbox/b.edi", b"bb", mtime=1_700_000_100)
        site.put_file(f"{partner}/inbox/a.edi", b"a", mtime=1_700_000_100)
        site.put_file(f"{partner}/inbox/old.edi", b"old!", mtime=1_600_000_000)
        site.make_folder(f"{partner}/inbox/subfolder")

        assert sftp.list_files(f"{partner}/inbox") == [
            RemoteFile(name="old.edi", size=4, mtime=1_600_000_000),
            RemoteFile(name="a.edi", size=1, mtime=1_700_000_100),
            RemoteFile(name="b.edi", size=2, mtime=1_700_000_100),
        ]

    def test_listing_skips_uploads_in_progress_and_unsafe_names(self, site, partner, sftp, caplog):
        for name in [".hidden.edi", ".order.edi.part", "order.edi.part", "x.TMP", "y.filepart",
                     "-rf.edi", "new\nline.edi", "rtl\u202efdp.edi", " padded.edi"]:
            site.put_file(f"{partner}/inbox/{name}", b"x")
        site.put_file(f"{partner}/inbox/ok.edi", b"x")

        assert [remote.name for remote in sftp.list_files(f"{partner}/inbox")] == ["ok.edi"]
        assert "unsafe name" in caplog.text

    def test_a_name_that_is_not_utf8_is_skipped_without_blocking_the_inbox(self, site, partner, sftp, caplog):
        site.put_file(f"{partner}/inbox/" + os.fsdecode(b"bestellung-m\xfcller.edi"), b"latin-1 name")
        site.put_file(f"{partner}/inbox/ok.edi", b"x")

        assert [remote.name for remote in sftp.list_files(f"{partner}/inbox")] == ["ok.edi"]
        assert "unsafe name" in caplog.text

    def test_listing_skips_symlinks(self, site, partner, sftp):
        site.put_file(f"{partner}/inbox/real.edi", b"x")
        os.symlink("real.edi", site.root / partner / "inbox" / "link.edi")

        assert [remote.name for remote in sftp.list_files(f"{partner}/inbox")] == ["real.edi"]

    def test_scanning_reports_links_and_unsafe_names_escaped_and_reads_none_of_them(self, site, partner, sftp):
        site.put_file(f"{partner}/inbox/real.edi", b"x", mtime=1_700_000_000)
        site.put_file(f"{partner}/inbox/order.tmp", b"y", mtime=1_700_000_001)
        site.put_file(f"{partner}/inbox/new\nline.edi", b"z")
        os.symlink("real.edi", site.root / partner / "inbox" / "link.edi")
        site.make_folder(f"{partner}/inbox/subfolder")

        listing = sftp.scan_folder(f"{partner}/inbox")

        assert [(f.name, f.size) for f in listing.files] == [("real.edi", 1), ("order.tmp", 1)]
        refused = {entry.shown: entry.reason for entry in listing.refused}
        assert set(refused) == {"link.edi", "new\\nline.edi"}
        assert "symbolic link" in refused["link.edi"]
        assert "control" in refused["new\\nline.edi"]

    def test_a_symlinked_folder_is_never_followed(self, site, partner, sftp):
        other = f"{partner}x"
        site.put_file(f"{other}/inbox/theirs.edi", b"another partner's order")
        (site.root / partner / "inbox").rmdir()
        os.symlink(f"../{other}/inbox", site.root / partner / "inbox")
        os.symlink(f"{other}", site.root / f"{partner}-link")

        for call in (lambda: sftp.scan_folder(f"{partner}/inbox"), lambda: sftp.list_files(f"{partner}/inbox"),
                     lambda: sftp.read_file(f"{partner}/inbox", "theirs.edi"),
                     lambda: sftp.list_files(f"{partner}-link/inbox"),
                     lambda: sftp.write_file_atomic(f"{partner}/inbox", "ack.997", b"ISA"),
                     lambda: sftp.move_file(f"{other}/inbox", "theirs.edi", f"{partner}/inbox")):
            with pytest.raises(SymlinkRefused, match="symbolic link"):
                call()
        assert sorted(os.listdir(site.root / other / "inbox")) == ["theirs.edi"]

    def test_a_file_that_changed_since_it_was_listed_is_neither_read_nor_moved(self, site, partner, sftp):
        site.put_file(f"{partner}/inbox/po.edi", b"half", mtime=1_700_000_000)
        (listed,) = sftp.list_files(f"{partner}/inbox")
        site.put_file(f"{partner}/inbox/po.edi", b"half and more", mtime=1_700_000_002)

        with pytest.raises(FileStillChanging):
            sftp.read_file(f"{partner}/inbox", "po.edi", expected=(listed.size, listed.mtime))
        with pytest.raises(FileStillChanging):
            sftp.move_file(f"{partner}/inbox", "po.edi", f"{partner}/archive", expected=(listed.size, listed.mtime))
        assert os.listdir(site.root / partner / "archive") == []
        assert sftp.read_file(f"{partner}/inbox", "po.edi", expected=(13, 1_700_000_002)) == b"half and more"
        assert sftp.move_file(f"{partner}/inbox", "po.edi", f"{partner}/archive", expected=(13, 1_700_000_002))

    def test_listing_a_missing_folder_is_a_configuration_error(self, partner, sftp):
        with pytest.raises(ConfigurationError, match="does not exist"):
            sftp.list_files(f"{partner}/nowhere")

    def test_folders_with_parent_references_are_refused(self, partner, sftp):
        for folder in ["../etc", f"{partner}/../../x", ".."]:
            with pytest.raises(ConfigurationError, match=r"\.\."):
                sftp.list_files(folder)

    # -- reading ---------------------------------------------------------------------------------

    def test_reads_a_file_in_chunks(self, site, partner, sftp):
        data = os.urandom(300_000)  # several SFTP read requests
        site.put_file(f"{partner}/inbox/big.edi", data)

        assert sftp.read_file(f"{partner}/inbox", "big.edi") == data

    def test_a_file_that_grows_while_it_is_read_is_refused(self, site, partner, sftp, monkeypatch):
        site.put_file(f"{partner}/inbox/po.edi", b"x" * 100_000, mtime=1_700_000_000)
        local = site.root / partner / "inbox" / "po.edi"
        read = paramiko.SFTPFile.read

        def read_while_the_partner_writes(remote, size=None):
            with local.open("ab") as upload:  # the partner keeps writing while we read
                    upload.write(b"more")
            os.utime(local, (1_700_000_001, 1_700_000_001))
            return read(remote, size)

        monkeypatch.setattr(paramiko.SFTPFile, "read", read_while_the_partner_writes)
        with pytest.raises(FileStillChanging, match="changed while it was read"):
            sftp.read_file(f"{partner}/inbox", "po.edi", expected=(100_000, 1_700_000_000))

    def test_reads_an_empty_file(self, site, partner, sftp):
        site.put_file(f"{partner}/inbox/empty.edi", b"")

        assert sftp.read_file(f"{partner}/inbox", "empty.edi") == b""

    def test_refuses_a_file_over_the_size_limit(self, site, partner):
        site.put_file(f"{partner}/inbox/big.edi", b"x" * 1000)
        with SftpClient(site.sftp_config(max_file_bytes=999)) as sftp:
            with pytest.raises(RejectedDocument, match="1000 bytes") as refused:
                sftp.read_file(f"{partner}/inbox", "big.edi")
            assert refused.value.location == f"{partner}/inbox/big.edi"
            # An explicit limit wins over the configured one, both ways.
            assert sftp.read_file(f"{partner}/inbox", "big.edi", max_bytes=1000) == b"x" * 1000
            with pytest.raises(RejectedDocument):
                sftp.read_file(f"{partner}/inbox", "big.edi", max_bytes=10)

    @pytest.mark.parametrize("name", TRAVERSAL_NAMES)
    def test_read_refuses_names_that_leave_the_folder(self, site, partner, sftp, name):
        site.put_file(f"{partner}/secret.txt", b"secret")
        site.put_file("secret.txt", b"secret")

        with pytest.raises(UnsafeFileName):
            sftp.read_file(f"{partner}/inbox", name)

    def test_reading_a_missing_file_says_so(self, partner, sftp):
        with pytest.raises(RemoteFileMissing):
            sftp.read_file(f"{partner}/inbox", "gone.edi")

    def test_reading_a_folder_is_refused(self, site, partner, sftp):
        site.make_folder(f"{partner}/inbox/folder.edi")
        with pytest.raises(RejectedDocument, match="not a regular file"):
            sftp.read_file(f"{partner}/inbox", "folder.edi")

    # -- writing ---------------------------------------------------------------------------------

    def test_writes_atomically_and_leaves_no_temporary_file(self, site, partner, sftp):
        site.make_folder(f"{partner}/outbound")
        site.put_file(f"{partner}/outbound/.ack.997.part", b"stale leftover of a crashed upload")

        path = sftp.write_file_atomic(f"{partner}/outbound", "ack.997", b"ISA*...~")

        assert path == f"{partner}/outbound/ack.997"
        assert (site.root / partner / "outbound" / "ack.997").read_bytes() == b"ISA*...~"
        assert sorted(os.listdir(site.root / partner / "outbound")) == ["ack.997"]

    def test_rewriting_identical_bytes_is_idempotent(self, site, partner, sftp):
        sftp.write_file_atomic(f"{partner}/inbox", "ack.997", b"same")

        assert sftp.write_file_atomic(f"{partner}/inbox", "ack.997", b"same") == f"{partner}/inbox/ack.997"

    def test_never_overwrites_a_different_file(self, site, partner, sftp):
        site.put_file(f"{partner}/inbox/ack.997", b"first")

        with pytest.raises(DuplicateDocument, match="never overwritten"):
            sftp.write_file_atomic(f"{partner}/inbox", "ack.997", b"second")
        assert (site.root / partner / "inbox" / "ack.997").read_bytes() == b"first"
        assert sorted(os.listdir(site.root / partner / "inbox")) == ["ack.997"]

    @pytest.mark.parametrize("name", TRAVERSAL_NAMES)
    def test_write_refuses_names_that_leave_the_folder(self, site, partner, sftp, name):
        with pytest.raises(UnsafeFileName):
            sftp.write_file_atomic(f"{partner}/inbox", name, b"x")
        assert os.listdir(site.root / partner / "inbox") == []
        assert not (site.root / partner / "x").exists()

    # -- moving ----------------------------------------------------------------------------------

    def test_moves_a_file_to_the_archive(self, site, partner, sftp):
        site.put_file(f"{partner}/inbox/po.edi", b"po")

        path = sftp.move_file(f"{partner}/inbox", "po.edi", f"{partner}/archive")

        assert path == f"{partner}/archive/po.edi"
        assert (site.root / partner / "archive" / "po.edi").read_bytes() == b"po"
        assert sftp.list_files(f"{partner}/inbox") == []

    def test_a_name_clash_in_the_archive_gets_a_timestamp(self, site, partner, sftp):
        site.put_file(f"{partner}/archive/po.edi", b"first")
        site.put_file(f"{partner}/inbox/po.edi", b"second")

        path = sftp.move_file(f"{partner}/inbox", "po.edi", f"{partner}/archive")

        new_name = Path(path).name
        assert new_name != "po.edi" and new_name.startswith("po.") and new_name.endswith(".edi")
        assert (site.root / partner / "archive" / "po.edi").read_bytes() == b"first"
        assert (site.root / partner / "archive" / new_name).read_bytes() == b"second"

    def test_moving_a_missing_file_says_so(self, partner, sftp):
        with pytest.raises(RemoteFileMissing):
            sftp.move_file(f"{partner}/inbox", "gone.edi", f"{partner}/archive")

    def test_moving_into_a_missing_folder_is_a_configuration_error(self, site, partner, sftp):
        site.put_file(f"{partner}/inbox/po.edi", b"po")

        with pytest.raises(ConfigurationError, match="does not exist"):
            sftp.move_file(f"{partner}/inbox", "po.edi", f"{partner}/nowhere")
        assert (site.root / partner / "inbox" / "po.edi").exists()

    @pytest.mark.parametrize("name", ["../po.edi", "a/b", ".."])
    def test_move_refuses_names_that_leave_the_folder(self, site, partner, sftp, name):
        site.put_file(f"{partner}/po.edi", b"po")
        with pytest.raises(UnsafeFileName):
            sftp.move_file(f"{partner}/inbox", name, f"{partner}/archive")
        assert (site.root / partner / "po.edi").exists()

    # -- folders ---------------------------------------------------------------------------------

    def test_ensure_folder_creates_parents_and_is_idempotent(self, site, partner, sftp):
        sftp.ensure_folder(f"{partner}/outbound/2025/09")
        sftp.ensure_folder(f"{partner}/outbound/2025/09")

        assert (site.root / partner / "outbound" / "2025" / "09").is_dir()

    def test_ensure_folder_refuses_a_file_in_the_way(self, site, partner, sftp):
        site.put_file(f"{partner}/outbound", b"not a folder")
        with pytest.raises(ConfigurationError, match="not a folder"):
            sftp.ensure_folder(f"{partner}/outbound/x")

    # -- host keys and credentials ---------------------------------------------------------------

    def test_unknown_host_key_is_refused(self, site, tmp_path):
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text("")

        with pytest.raises(ConfigurationError, match=rf"host key for {site.host}:{site.port} .*is not in known_hosts"):
            SftpClient(site.sftp_config(known_hosts_path=known_hosts)).connect()

    def test_known_hosts_entry_for_another_port_does_not_count(self, site, tmp_path):
        real = site.sftp_config().known_hosts_path.read_text().split()
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(f"{site.host} {real[1]} {real[2]}\n")  # port 22 entry only

        with pytest.raises(ConfigurationError, match="is not in known_hosts"):
            SftpClient(site.sftp_config(known_hosts_path=known_hosts)).connect()

    @pytest.mark.parametrize("other_key", [paramiko.ECDSAKey.generate, lambda: paramiko.RSAKey.generate(1024)])
    def test_changed_host_key_is_refused(self, site, tmp_path, other_key):
        impostor = other_key()
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(f"[{site.host}]:{site.port} {impostor.get_name()} {impostor.get_base64()}\n")

        with pytest.raises(ConfigurationError, match=rf"host key CHANGED for {site.host}:{site.port}"):
            SftpClient(site.sftp_config(known_hosts_path=known_hosts)).connect()

    def test_missing_known_hosts_file_is_a_configuration_error(self, site, tmp_path):
        with pytest.raises(ConfigurationError, match=r"known_hosts file .* does not exist"):
            SftpClient(site.sftp_config(known_hosts_path=tmp_path / "absent")).connect()

    def test_wrong_key_is_an_authentication_error(self, site, tmp_path):
        wrong = tmp_path / "wrong_key"
        paramiko.ECDSAKey.generate().write_private_key_file(str(wrong))

        with pytest.raises(ConfigurationError, match="authentication failed"):
            SftpClient(site.sftp_config(private_key_path=wrong, password=None)).connect()

    def test_sequential_sessions(self, site, partner):
        for number in range(3):
            with SftpClient(site.sftp_config()) as sftp:
                sftp.write_file_atomic(f"{partner}/inbox", f"{number}.edi", b"x")
        with SftpClient(site.sftp_config()) as sftp:
            assert [remote.name for remote in sftp.list_files(f"{partner}/inbox")] == ["0.edi", "1.edi", "2.edi"]


@pytest.mark.integration
class TestAgainstOpenSsh(SftpClientContract):
    """The contract against a real OpenSSH sshd (chrooted, SFTP only)."""

    @pytest.fixture
    def site(self, openssh_server):
        return openssh_server

    def test_the_documented_ssh_keyscan_procedure_pins_the_key(self, openssh_server, tmp_path):
        scanned = subprocess.run(
            ["ssh-keyscan", "-p", str(openssh_server.port), openssh_server.host],
            capture_output=True, text=True, check=True, timeout=30,
        ).stdout
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(scanned)

        with SftpClient(openssh_server.sftp_config(known_hosts_path=known_hosts)) as sftp:
            sftp.ensure_folder("keyscan")
        assert (openssh_server.root / "keyscan").is_dir()

    def test_hashed_known_hosts_entries_work(self, openssh_server, tmp_path):
        known_hosts = tmp_path / "known_hosts"
        known_hosts.write_text(openssh_server.known_hosts_path.read_text())
        subprocess.run(["ssh-keygen", "-H", "-f", str(known_hosts)], capture_output=True, check=True)
        assert known_hosts.read_text().startswith("|1|")

        with SftpClient(openssh_server.sftp_config(known_hosts_path=known_hosts)) as sftp:
            sftp.ensure_folder("hashed")
        assert (openssh_server.root / "hashed").is_dir()

    def test_the_chroot_cannot_be_left_with_parent_references(self, openssh_server, sftp):
        # Raw paramiko, bypassing our path checks: the server itself must hold the line too.
        raw = sftp._session
        assert raw.normalize("../../..") == "/"
        assert "etc" not in raw.listdir("/")
