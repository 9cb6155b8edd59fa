"""The local sandbox systems the demo and the UI run against: partner SFTP, a store, a marketplace, an ERP, a carrier.

Both speak the real protocols (SFTP with a pinned host key; Odoo's JSON-2 API) on 127.0.0.1, and
their state lives under one folder so a second run sees what the first one left.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from types import TracebackType

from hub.settings import resolve_database_url
from hub.store import HubStore
from hub.webhooks import create_webhook_app
from mappings.profiles import PartnerDirectory
from sandbox._fulfil_sandboxes import carrier_environment, carrier_for, seed_stock
from sandbox._server import BackgroundServer
from sandbox.amazon_server import SandboxAmazon
from sandbox.erp_server import DEMO_PRODUCTS, SandboxErp
from sandbox.mail import SandboxMail
from sandbox.quickbooks_server import quickbooks_environment, quickbooks_for
from sandbox.sftp_server import SandboxSftpServer
from sandbox.shopify_server import SandboxShopify

SFTP_USER = "orderhub"
SHOP_ORDERS = 12
# Sandbox-only credentials: real deployments set HUB_SFTP_* and HUB_ERP_API_KEY in their environment.
SFTP_PASSWORD = "sandbox-sftp-password"
ERP_API_KEY = "sandbox-erp-api-key"
ERP_DATABASE = "sandbox"
SHOPIFY_TOKEN = "shpat_sandbox_token"
SHOPIFY_WEBHOOK_SECRET = "sandbox-webhook-secret"
AMAZON_CLIENT_ID = "amzn1.application-oa2-client.sandbox"
AMAZON_CLIENT_SECRET = "sandbox-lwa-secret"
AMAZON_REFRESH_TOKEN = "Atzr|sandbox-refresh-token"

# The ERP's product catalog in the sandbox: (SKU, name, list price, GTIN). The sandbox store and
# marketplace sell DEMO_PRODUCTS; the partners' sample 850s order the rest too.
CATALOG: list[tuple[str, str, float, str | None]] = [
    *DEMO_PRODUCTS,
    ("GAD-310", "Gadget 310", 19.99, "00012345678943"),
    ("GAD-320", "Gadget 320 deluxe", 27.50, "00012345678950"),
    ("BOLT-M8", "Bolt M8 x 40, box of 100", 8.40, "00012345678967"),
    ("NUT-M8", "Nut M8, box of 100", 3.15, "00012345678974"),
    ("TENT-2P", "Tent, two person", 149.00, "00098765432109"),
    ("LAMP-LED", "Camping lamp, LED", 24.95, "00098765432116"),
]


class SandboxEnvironment:
    """Starts the sandbox systems (state under ``folder``) and exports the ``HUB_*`` settings pointing at them."""

    def __init__(self, folder: Path, partners: PartnerDirectory) -> None:
        self.folder = Path(folder)
        self.partners = partners
        self.sftp_root = self.folder / "sftp"
        self.known_hosts = self.folder / "known_hosts"
        self.sftp = SandboxSftpServer(
            self.sftp_root, username=SFTP_USER, password=SFTP_PASSWORD, host_key_path=self.folder / "sftp_host_key"
        )
        self.erp = SandboxErp(api_key=ERP_API_KEY, database=ERP_DATABASE, state_path=self.folder / "erp_state.json")
        # The first Shopify store and seller account among the profiles get a sandbox each.
        self.shop_profile = next((p for p in partners if p.shopify), None)
        self.seller_profile = next((p for p in partners if p.amazon), None)
        self.shop_settings = self.shop_profile.shopify if self.shop_profile else None
        self.seller_settings = self.seller_profile.amazon if self.seller_profile else None
        self.shop: SandboxShopify | None = None
        self.marketplace: SandboxAmazon | None = None
        self.webhooks: BackgroundServer | None = None
        self.mail = SandboxMail(partners)  # the first email customer's mailbox (Dovecot, else in-process)
        self.qbo = quickbooks_for(partners, [sku for sku, *_ in CATALOG])  # when a profile invoices in QuickBooks
        self.carrier = carrier_for(partners, self.folder)  # when a profile ships through a carrier target
        if self.shop_settings is not None:
            self.shop = SandboxShopify(access_token=SHOPIFY_TOKEN, webhook_secret=SHOPIFY_WEBHOOK_SECRET,
                                       shop_domain=self.shop_settings.shop_domain)
        if self.seller_settings is not None:
            self.marketplace = SandboxAmazon(client_id=AMAZON_CLIENT_ID, client_secret=AMAZON_CLIENT_SECRET,
                                             refresh_token=AMAZON_REFRESH_TOKEN,
                                             marketplace_id=self.seller_settings.marketplace_ids[0])

    def __enter__(self) -> SandboxEnvironment:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
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
        seed_stock(self.erp, [sku for sku, *_ in CATALOG])  # two warehouses, one SKU short
        self.mail.start()
        if self.qbo is not None:
            self.qbo.start()
        if self.carrier is not None:
            self.carrier.start()
        # Channel orders are seeded at fixed times of the day, so a second run the same day finds
        # the same order versions (and stores nothing new).
        day = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        if self.shop is not None:
            self.shop.start()
            self.shop.seed_orders(SHOP_ORDERS, start=day - dt.timedelta(hours=3))
        if self.marketplace is not None:
            self.marketplace.start()
            self.marketplace.seed_demo_orders(at=day - dt.timedelta(hours=2))
        if self.shop_settings is not None:
            self.webhooks = BackgroundServer(
                create_webhook_app(lambda: HubStore(resolve_database_url()), self.partners,
                                   env={self.shop_settings.webhook_secret_env: SHOPIFY_WEBHOOK_SECRET}),
                name="webhook endpoint",
            ).start()

    def stop(self) -> None:
        """Stop every system (the ERP's and the SFTP server's state stays on disk)."""
        for server in (self.webhooks, self.marketplace, self.shop, self.erp, self.qbo, self.carrier):
            if server is not None:
                server.stop()
        self.sftp.stop()
        self.mail.stop()

    def webhook_url(self) -> str:
        """Where the sandbox shop delivers its webhooks."""
        assert self.webhooks is not None and self.shop_profile is not None
        return f"{self.webhooks.base_url}/webhooks/shopify/{self.shop_profile.id}"

    def environment(self) -> dict[str, str]:
        """The ``HUB_*`` variables that point the hub's resources at this sandbox."""
        env = {
            "HUB_SFTP_HOST": self.sftp.host,
            "HUB_SFTP_PORT": str(self.sftp.port),
            "HUB_SFTP_USERNAME": SFTP_USER,
            "HUB_SFTP_PASSWORD": SFTP_PASSWORD,
            "HUB_SFTP_PRIVATE_KEY_PATH": "",
            "HUB_SFTP_KNOWN_HOSTS_PATH": str(self.known_hosts),
            "HUB_ERP_URL": self.erp.base_url,
            "HUB_ERP_DATABASE": ERP_DATABASE,
            "HUB_ERP_API_KEY": ERP_API_KEY,
            **self.mail.environment(),
        }
        if self.shop is not None and self.shop_settings is not None:
            shop = self.shop_settings
            env[shop.access_token_env] = SHOPIFY_TOKEN
            env[shop.webhook_secret_env] = SHOPIFY_WEBHOOK_SECRET
            if shop.base_url_env:
                env[shop.base_url_env] = self.shop.base_url
        if self.marketplace is not None and self.seller_settings is not None:
            seller = self.seller_settings
            env.update({seller.lwa_client_id_env: AMAZON_CLIENT_ID, seller.lwa_client_secret_env: AMAZON_CLIENT_SECRET,
                        seller.refresh_token_env: AMAZON_REFRESH_TOKEN})
            if seller.base_url_env:
                env[seller.base_url_env] = self.marketplace.base_url
            if seller.token_url_env:
                env[seller.token_url_env] = self.marketplace.token_url
        if self.qbo is not None:
            env.update(quickbooks_environment(self.qbo))
        if self.carrier is not None:
            env.update(carrier_environment(self.carrier, self.partners))
        return env

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
