"""The local sandbox systems the demo and the UI run against: a partner SFTP server and an ERP.

Both speak the real protocols (SFTP with a pinned host key; Odoo's JSON-2 API) on 127.0.0.1, and
their state lives under one folder so a second run sees what the first one left.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType

from hub.sandbox.erp_server import DEMO_PRODUCTS, SandboxErp
from hub.sandbox.sftp_server import SandboxSftpServer
from mappings.profiles import PartnerDirectory

SFTP_USER = "orderhub"
# Sandbox-only credentials: real deployments set HUB_SFTP_* and HUB_ERP_API_KEY in their environment.
SFTP_PASSWORD = "sandbox-sftp-password"
ERP_API_KEY = "sandbox-erp-api-key"
ERP_DATABASE = "sandbox"

# The ERP's product catalog in the sandbox: (SKU, name, list price, GTIN). The sandbox store and
# marketplace sell DEMO_PRODUCTS; the partners' sample 850s order the rest too.
CATALOG = [
    *DEMO_PRODUCTS,
    ("GAD-310", "Gadget 310", "19.99", "00012345678943"),
    ("GAD-320", "Gadget 320 deluxe", "27.50", "00012345678950"),
    ("BOLT-M8", "Bolt M8 x 40, box of 100", "8.40", "00012345678967"),
    ("NUT-M8", "Nut M8, box of 100", "3.15", "00012345678974"),
    ("TENT-2P", "Tent, two person", "149.00", "00098765432109"),
    ("LAMP-LED", "Camping lamp, LED", "24.95", "00098765432116"),
]


class SandboxEnvironment:
    """Starts the sandbox SFTP server and ERP under ``folder`` and exports the ``HUB_*`` settings for them."""

    def __init__(self, folder: Path, partners: PartnerDirectory) -> None:
        self.folder = Path(folder)
        self.partners = partners
        self.sftp_root = self.folder / "sftp"
        self.known_hosts = self.folder / "known_hosts"
        self.sftp = SandboxSftpServer(
            self.sftp_root, username=SFTP_USER, password=SFTP_PASSWORD, host_key_path=self.folder / "sftp_host_key"
        )
        self.erp = SandboxErp(api_key=ERP_API_KEY, database=ERP_DATABASE, state_path=self.folder / "erp_state.json")

    def __enter__(self) -> SandboxEnvironment:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        """Start both systems, create every partner's folders, seed the catalog."""
        for profile in self.partners:
            if profile.sftp:
                for folder in (profile.sftp.inbox, profile.sftp.archive, profile.sftp.outbound):
                    (self.sftp_root / folder).mkdir(parents=True, exist_ok=True)
        self.sftp.start()
        self.sftp.write_known_hosts(self.known_hosts)
        self.erp.start()
        self.erp.seed_products(CATALOG)

    def stop(self) -> None:
        """Stop both systems (their state stays on disk)."""
        self.erp.stop()
        self.sftp.stop()

    def environment(self) -> dict[str, str]:
        """The ``HUB_*`` variables that point the hub's resources at this sandbox."""
        return {
            "HUB_SFTP_HOST": self.sftp.host,
            "HUB_SFTP_PORT": str(self.sftp.port),
            "HUB_SFTP_USERNAME": SFTP_USER,
            "HUB_SFTP_PASSWORD": SFTP_PASSWORD,
            "HUB_SFTP_PRIVATE_KEY_PATH": "",
            "HUB_SFTP_KNOWN_HOSTS_PATH": str(self.known_hosts),
            "HUB_ERP_URL": self.erp.base_url,
            "HUB_ERP_DATABASE": ERP_DATABASE,
            "HUB_ERP_API_KEY": ERP_API_KEY,
        }

    def export(self) -> None:
        """Put :meth:`environment` into ``os.environ`` (for Dagster's ``EnvVar`` resolution)."""
        os.environ.update(self.environment())

    def inbox(self, partner_id: str) -> Path:
        """The local folder behind a partner's SFTP inbox."""
        profile = self.partners.get(partner_id)
        assert profile.sftp is not None
        return self.sftp_root / profile.sftp.inbox

    def outbound(self, partner_id: str) -> Path:
        """The local folder behind a partner's SFTP outbound folder (where acks land)."""
        profile = self.partners.get(partner_id)
        assert profile.sftp is not None
        return self.sftp_root / profile.sftp.outbound
