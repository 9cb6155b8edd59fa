"""Partner profiles: one YAML file per trading partner in ``mappings/partners/``.

A profile says who the partner is on the wire (ISA/GS ids), how its documents are read (which
product-id qualifier is our SKU, UOM codes), how we answer (997 or 999, our own ids) and where its
files live on SFTP. Adding a partner is adding one file.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from canonical.errors import ConfigurationError
from canonical.model import AmountLimits, deployment_amount_limits, is_currency


class _Profile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class X12Identity(_Profile):
    """An X12 party's interchange and group ids."""

    isa_qualifier: str = Field(min_length=2, max_length=2)
    isa_id: str = Field(min_length=1, max_length=15)
    gs_id: str = Field(min_length=2, max_length=15)


PriceMeaning = Literal[
    "unit",
    "ten",
    "dozen",
    "hundred",
    "thousand",
    "ten_thousand",
    "hundred_thousand",
    "pack",
    "pound",
    "ounce",
    "kilogram",
    "gram",
    "ton",
    "no_charge",
    "not_a_cost",
    "unpriced",
]
"""What a PO104 price is per: one line unit, a count of them, an outer pack, a weight, or nothing payable."""


class X12Conventions(_Profile):
    """Where a retailer's 850s differ from the plain reading of the standard."""

    price_basis_default: str = Field(
        default="PE", max_length=2, description="The PO105 code assumed when a line sends none."
    )
    price_basis: dict[str, PriceMeaning] = Field(
        default_factory=dict,
        description="PO105 codes this partner uses in its own sense, e.g. {CA: pack} for 'per case'.",
    )
    sac_amount_sign: Literal["absolute", "positive"] = Field(
        default="absolute",
        description="absolute: a negative SAC05 is read by its size (SAC01 says allowance or charge); "
        "positive: a negative SAC05 is an error, as the standard says.",
    )
    line_numbers: Literal["as_sent", "position"] = Field(
        default="as_sent", description="as_sent: PO101 is the line id; position: lines are numbered 1, 2, 3..."
    )
    case_uoms: list[str] = Field(
        default_factory=lambda: ["CA", "CS", "BX", "CT", "PK"],
        description="Order units that are an outer pack holding PO401 inner units.",
    )
    distribution_mismatch: Literal["warn", "reject"] = Field(
        default="warn", description="When the SDQ store quantities do not add up to PO102."
    )
    release_number_required: bool = Field(default=True, description="A release order (BEG02 RL) must carry BEG04.")


class X12Profile(_Profile):
    """How a partner's X12 is read and answered."""

    partner: X12Identity
    us: X12Identity = Field(description="Our ids as this partner knows them (receiver of their 850s).")
    versions: list[str] = Field(default_factory=lambda: ["004010", "005010"])
    ack: Literal["997", "999"] = "997"
    sku_qualifiers: list[str] = Field(
        default_factory=lambda: ["VN", "VP"], description="PO1 product-id qualifiers that carry our SKU."
    )
    gtin_qualifiers: list[str] = Field(default_factory=lambda: ["UP", "UK", "EN", "UA"])
    buyer_part_qualifiers: list[str] = Field(default_factory=lambda: ["IN", "BP"])
    uom_map: dict[str, str] = Field(default_factory=dict, description="Partner UOM code -> ours.")
    accept_test_interchanges: bool = Field(
        default=True, description="Process ISA15=T interchanges as test orders (never pushed to production)."
    )
    send_ta1: Literal["always", "on_error", "when_requested"] = "on_error"
    first_control_number: int = Field(
        default=1,
        ge=1,
        le=999_999_999,
        description="Our first ISA13/GS06/ST02 for this partner (e.g. to continue a previous system's numbers); "
        "numbers then run on gap-free from the store.",
    )
    ack_gs_id: str | None = Field(
        default=None,
        min_length=2,
        max_length=15,
        description="GS03 of our acknowledgments when the partner receives them on another application id.",
    )
    conventions: X12Conventions = Field(default_factory=X12Conventions)


class SftpPickup(_Profile):
    """When a file in the partner's inbox counts as completely uploaded (and may be read and archived)."""

    uploads_renamed: bool = Field(
        default=False,
        description="The partner uploads under a temporary name and renames when done: a file with a final "
        "name is complete when first seen. False (default): a file is taken only once its size and mtime "
        "are unchanged across two polls.",
    )
    temporary_suffixes: list[str] = Field(
        default_factory=lambda: [".part", ".tmp", ".filepart"],
        description="Names ending so (any case) are uploads in progress: ignored until renamed.",
    )
    temporary_prefixes: list[str] = Field(default_factory=lambda: ["."], description="Likewise for prefixes.")
    settle_seconds: int = Field(
        default=0, ge=0, le=86_400,
        description="Minimum time a file must stay unchanged across polls before it is taken (on top of two "
        "polls; with uploads_renamed, the time since first seen).",
    )
    abandoned_upload_minutes: int = Field(
        default=60, ge=1,
        description="A file under a temporary name unchanged this long is reported (quarantined_file): an upload "
        "that was never finished or renamed.",
    )

    @field_validator("temporary_suffixes", "temporary_prefixes")
    @classmethod
    def _no_empty_patterns(cls, value: list[str]) -> list[str]:
        if any(not pattern for pattern in value):
            raise ValueError("an empty pattern would make every file temporary")
        return value


class SftpFolders(_Profile):
    """The partner's folders on our SFTP server (paths relative to the SFTP root)."""

    inbox: str
    archive: str
    outbound: str
    pickup: SftpPickup = Field(default_factory=SftpPickup)

    @field_validator("inbox", "archive", "outbound")
    @classmethod
    def _no_parent_refs(cls, value: str) -> str:
        if ".." in Path(value).parts:
            raise ValueError("folder must not contain '..'")
        return value

    @field_validator("outbound")
    @classmethod
    def _three_folders(cls, value: str, info) -> str:
        others = [info.data[name] for name in ("inbox", "archive") if name in info.data]
        if len({Path(folder).as_posix() for folder in [*others, value]}) != 3:
            raise ValueError("inbox, archive and outbound must be three different folders")
        return value

    def folders(self) -> list[str]:
        """The three folders, normalized (``a//b/`` reads ``a/b``)."""
        return [Path(folder).as_posix() for folder in (self.inbox, self.archive, self.outbound)]


class ShopifyProfile(_Profile):
    """A Shopify store we pull orders from (Admin REST API) and take webhooks for."""

    shop_domain: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
    api_version: str = Field(default="2024-10", pattern=r"^\d{4}-\d{2}$")
    access_token_env: str = Field(description="Environment variable holding the Admin API access token.")
    webhook_secret_env: str = Field(description="Environment variable holding the app's webhook signing secret.")
    base_url_env: str | None = Field(
        default=None, description="Optional environment variable overriding https://<shop_domain> (sandbox)."
    )
    lookback_minutes: int = Field(default=10, ge=0, description="Overlap re-read before the cursor each sync.")
    push_test_orders: bool = False


class AmazonProfile(_Profile):
    """A marketplace seller account we pull orders from (SP-API style Orders API v0)."""

    seller_id: str
    marketplace_ids: list[str] = Field(min_length=1)
    region_base_url: str = "https://sellingpartnerapi-na.amazon.com"
    base_url_env: str | None = Field(default=None, description="Optional override of the API base URL (sandbox).")
    token_url_env: str | None = Field(default=None, description="Optional override of the LWA token URL (sandbox).")
    lwa_client_id_env: str
    lwa_client_secret_env: str
    refresh_token_env: str
    lookback_minutes: int = Field(default=10, ge=0)
    restricted_data: list[Literal["shippingAddress", "buyerInfo", "buyerTaxInformation"]] = Field(
        default_factory=list,
        description="getOrders data elements fetched with a Restricted Data Token (buyer name, street, phone); "
                    "empty: the LWA token only, addresses without name or street.",
    )


class AmountLimitOverrides(_Profile):
    """This partner's own amount limits; unset ones are the deployment's (HUB_MAX_ORDER_TOTAL, HUB_MAX_AMOUNT)."""

    max_order_total: Decimal | None = Field(default=None, gt=0)
    max_amount: Decimal | None = Field(default=None, gt=0)


class TargetRef(_Profile):
    """A system this partner's orders are delivered to: a registered target ``kind`` (``hub.targets``) and
    the ``name`` its deliveries carry in the outbox (also its exceptions' channel and its asset's prefix)."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,15}$")


class PartnerProfile(_Profile):
    """One trading partner."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    amount_limits: AmountLimitOverrides = Field(
        default_factory=AmountLimitOverrides, description="Overrides of the deployment's amount limits."
    )
    _deployment_limits: AmountLimits = PrivateAttr(default_factory=deployment_amount_limits)
    _limits: AmountLimits | None = PrivateAttr(default=None)

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if not is_currency(value):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value

    @property
    def limits(self) -> AmountLimits:
        """The amount limits intake applies to this partner's orders: the deployment's, with this profile's overrides."""
        if self._limits is None:
            overrides = {k: v for k, v in self.amount_limits.model_dump().items() if v is not None}
            self._limits = self._deployment_limits.model_copy(update=overrides)
        return self._limits
    x12: X12Profile | None = None
    sftp: SftpFolders | None = None
    shopify: ShopifyProfile | None = None
    amazon: AmazonProfile | None = None
    targets: list[TargetRef] = Field(
        default_factory=lambda: [TargetRef(kind="odoo", name="erp")],
        description="Where each order is delivered, once per target; default: the Odoo ERP (outbox name erp).",
    )

    @field_validator("targets")
    @classmethod
    def _one_delivery_per_target(cls, value: list[TargetRef]) -> list[TargetRef]:
        names = [target.name for target in value]
        if len(set(names)) != len(names):
            raise ValueError(f"target names must be unique, got {names}")
        return value


def _own_sftp_folders(profile: PartnerProfile, others) -> None:
    """A partner's SFTP folders must not be, contain or lie inside another partner's: each reads only its own tree."""
    if profile.sftp is None:
        return
    for other in others:
        if other.id == profile.id or other.sftp is None:
            continue
        for mine in profile.sftp.folders():
            for theirs in other.sftp.folders():
                if mine == theirs or mine.startswith(theirs + "/") or theirs.startswith(mine + "/"):
                    raise ConfigurationError(
                        f"partners {other.id!r} and {profile.id!r} share SFTP folders ({theirs} / {mine}): "
                        "each partner needs its own")


class PartnerDirectory:
    """All partner profiles, looked up by id or by X12 sender identity."""

    def __init__(self, profiles: list[PartnerProfile]) -> None:
        self._by_id: dict[str, PartnerProfile] = {}
        self._by_isa: dict[tuple[str, str], PartnerProfile] = {}
        for profile in profiles:
            if profile.id in self._by_id:
                raise ConfigurationError(f"two partner profiles have the id {profile.id!r}")
            self._by_id[profile.id] = profile
            _own_sftp_folders(profile, self._by_id.values())
            if profile.x12:
                key = (profile.x12.partner.isa_qualifier, profile.x12.partner.isa_id.strip())
                if key in self._by_isa:
                    raise ConfigurationError(f"two partner profiles use the ISA sender {key[0]}/{key[1]}")
                self._by_isa[key] = profile

    @classmethod
    def load(cls, folder: Path) -> PartnerDirectory:
        """Read every ``*.yaml`` profile in ``folder``; a broken file is a configuration error."""
        profiles = []
        for path in sorted(folder.glob("*.yaml")):
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
                profiles.append(PartnerProfile.model_validate(data))
            except Exception as exc:  # noqa: BLE001 - re-raised with the file name
                raise ConfigurationError(f"partner profile {path.name}: {exc}") from exc
        return cls(profiles)

    def __iter__(self):
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, partner_id: str) -> PartnerProfile:
        """The profile with this id, or a configuration error."""
        try:
            return self._by_id[partner_id]
        except KeyError:
            raise ConfigurationError(f"no partner profile {partner_id!r}") from None

    def by_x12_sender(self, qualifier: str, sender_id: str) -> PartnerProfile | None:
        """The profile whose ISA05/ISA06 match, or None for an unknown sender."""
        return self._by_isa.get((qualifier, sender_id.strip()))
