"""The real X12 intake path for fault scenarios: archive -> process_x12_receipt -> acks over a real SFTP server."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from connectors.sftp import SftpClient, SftpConfig
from hub import store as st
from hub.delivery import send_pending_acks
from hub.intake import IntakeSummary, process_x12_receipt, receive_document
from mappings.profiles import PartnerDirectory
from sandbox.sftp_server import SandboxSftpServer

REPO = Path(__file__).resolve().parents[2]
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")
MAX_BYTES = 4_000_000


@dataclass
class X12Path:
    """A store, the partner profiles and an SFTP session on a sandbox server whose files live under ``root``."""

    store: st.HubStore
    partners: PartnerDirectory
    client: SftpClient
    root: Path

    def receive(self, data: bytes, name: str, partner_id: str = "acme") -> int:
        """Archive a file as if the inbox sensor had downloaded it; the receipt id."""
        return receive_document(self.store, channel="sftp", partner_id=partner_id, source_name=name, data=data,
                                max_bytes=MAX_BYTES).id

    def process(self, receipt_id: int) -> IntakeSummary:
        """What the intake asset does with one receipt."""
        return process_x12_receipt(self.store, self.partners, receipt_id)

    def send_acks(self) -> list[str]:
        """What the ack asset does."""
        return send_pending_acks(self.store, self.partners, self.client)

    def outbound_files(self) -> dict[str, bytes]:
        """Every file in every partner's outbound folder, by ``partner/name``."""
        files = {}
        for profile in self.partners:
            if profile.sftp is None:
                continue
            folder = self.root / profile.sftp.outbound
            for path in sorted(folder.iterdir()) if folder.exists() else []:
                if not path.name.startswith("."):
                    files[f"{profile.id}/{path.name}"] = path.read_bytes()
        return files


@contextmanager
def x12_path(store: st.HubStore, tmp_path: Path, partners: PartnerDirectory = PARTNERS) -> Iterator[X12Path]:
    """The intake path with a sandbox SFTP server holding every partner's folders."""
    root = tmp_path / "sftp"
    for profile in partners:
        if profile.sftp is not None:
            for folder in (profile.sftp.inbox, profile.sftp.archive, profile.sftp.outbound):
                (root / folder).mkdir(parents=True, exist_ok=True)
    with SandboxSftpServer(root, username="hub", password="pw") as server:
        known_hosts = tmp_path / "known_hosts"
        server.write_known_hosts(known_hosts)
        config = SftpConfig(host=server.host, port=server.port, username="hub", password="pw",
                            known_hosts_path=known_hosts, timeout_seconds=10)
        with SftpClient(config) as client:
            yield X12Path(store, partners, client, root)


def is_x12_text(data: bytes) -> bool:
    """Printable ASCII and line breaks only: the X12 extended character set our acks are written in."""
    return all(32 <= b < 127 or b in (10, 13) for b in data)
