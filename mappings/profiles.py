"""Partner profiles: one YAML file per trading partner in ``mappings/partners/``.

A profile says who the partner is and lists its channels, each tagged by its ``kind``: X12 over
SFTP (who the partner is on the wire, how its documents are read, how we answer, where its files
live), a Shopify store, a marketplace seller account. Adding a partner is adding one file; a new
kind of channel registers its settings model with :func:`register_channel_kind`.

One broken file never hides the others: :meth:`PartnerDirectory.load` keeps the good profiles and
reports each bad file by name and field (:class:`ProfileProblem`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SerializeAsAny,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from canonical.errors import ConfigurationError
from canonical.model import AmountLimits, deployment_amount_limits, is_currency
from mappings.asn_settings import AsnSettings
from mappings.validation_rules import ValidationRules

_log = logging.getLogger(__name__)


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
    pool: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,63}$",
                             description="Dagster concurrency pool of this partner's SFTP work; default sftp_<id>.")

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


class ChannelSettings(_Profile):
    """One channel of a partner: where its orders come from. Each kind of channel is a subclass."""

    kind: str
    safety_stock: int = Field(default=0, ge=0, description="Units per SKU held back from the stock published to "
                              "this channel (hub.targets.channel_fulfilment.publish_inventory).")


class X12SftpChannel(ChannelSettings):
    """X12 documents the partner drops into its folders on our SFTP server; acks written back there."""

    kind: Literal["x12_sftp"] = "x12_sftp"
    x12: X12Profile
    sftp: SftpFolders | None = Field(
        default=None, description="Its folders on our SFTP server; without them nothing is polled or answered.")
    send_855: bool = Field(default=False, description="Send an 855 once each PO version is in the ERP (or refused).")
    send_810: bool = Field(default=False, description="Send an 810 for each invoice and credit note posted in "
                           "accounting (not while held by the three-way match); its 997 is due within `ack_sla_hours`.")
    send_846: bool = Field(default=False, description="Send an 846 (inventory advice: ATP less safety_stock, the "
                           "SKUs whose quantity changed) every 15 minutes (docs/inventory.md).")
    ack_sla_hours: int = Field(default=24, ge=1, le=720,
                               description="Hours the partner has to answer our 855 with a 997/999 before it is an "
                               "`ack_overdue` exception.")
    accepted_855_code: Literal["AD", "AC"] = Field(
        default="AD", description="BAK02 when every line is accepted as ordered: AD (the standard's 'no change') or "
        "AC, as some partners' guides ask.")
    asn: AsnSettings | None = Field(default=None, description="Send an 856 for each done ERP delivery (asn_settings).")


class ShopifyProfile(ChannelSettings):
    """A Shopify store we pull orders from (GraphQL Admin API) and take webhooks for."""

    kind: Literal["shopify"] = "shopify"
    shop_domain: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*\.myshopify\.com$")
    api_version: str = Field(default="2026-10", pattern=r"^\d{4}-\d{2}$")
    access_token_env: str = Field(description="Environment variable holding the Admin API access token.")
    webhook_secret_env: str = Field(description="Environment variable holding the app's webhook signing secret.")
    base_url_env: str | None = Field(
        default=None, description="Optional environment variable overriding https://<shop_domain> (sandbox)."
    )
    lookback_minutes: int = Field(default=10, ge=0, description="Overlap re-read before the cursor each sync.")
    push_test_orders: bool = False
    publish_stock: bool = Field(default=False, description="Publish ATP less safety_stock to this store's "
                                "stock_location_id (asset shopify_stock_<partner>, docs/inventory.md).")
    stock_location_id: str | None = Field(default=None, pattern=r"^(gid://shopify/Location/)?\d{1,20}$",
                                          description="The location whose `available` quantity is published.")

    @model_validator(mode="after")
    def _stock_has_a_location(self) -> ShopifyProfile:
        if self.publish_stock and not self.stock_location_id:
            raise ValueError("publish_stock needs stock_location_id (the location whose quantities are set)")
        return self


class AmazonProfile(ChannelSettings):
    """A marketplace seller account we pull orders from (SP-API style Orders API v0)."""

    kind: Literal["amazon"] = "amazon"
    seller_id: str
    marketplace_ids: list[str] = Field(min_length=1)
    region_base_url: str = "https://sellingpartnerapi-na.amazon.com"
    base_url_env: str | None = Field(default=None, description="Optional override of the API base URL (sandbox).")
    token_url_env: str | None = Field(default=None, description="Optional override of the LWA token URL (sandbox).")
    lwa_client_id_env: str
    lwa_client_secret_env: str
    refresh_token_env: str
    lookback_minutes: int = Field(default=10, ge=0)
    publish_stock: bool = Field(default=False, description="Publish ATP less safety_stock to this account's listings "
                                "(asset amazon_stock_<partner>, docs/inventory.md).")
    restricted_data: list[Literal["shippingAddress", "buyerInfo", "buyerTaxInformation"]] = Field(
        default_factory=list,
        description="getOrders data elements fetched with a Restricted Data Token (buyer name, street, phone); "
                    "empty: the LWA token only, addresses without name or street.",
    )


CHANNEL_KINDS: dict[str, type[ChannelSettings]] = {}
"""Every channel kind a profile may list, by its ``kind`` tag."""

C = TypeVar("C", bound=ChannelSettings)


def register_channel_kind(model: type[C]) -> type[C]:
    """Let profiles list channels of ``model``'s kind (its ``kind`` field's default); returns the model."""
    kind = model.model_fields["kind"].default
    if not isinstance(kind, str) or not kind:
        raise TypeError(f"{model.__name__} needs a default for its kind field, e.g. kind: Literal['mine'] = 'mine'")
    known = CHANNEL_KINDS.get(kind)
    if known is not None and known is not model:
        raise ConfigurationError(f"channel kind {kind!r} is registered already ({known.__name__})")
    CHANNEL_KINDS[kind] = model
    return model


for _builtin in (X12SftpChannel, ShopifyProfile, AmazonProfile):
    register_channel_kind(_builtin)


def _channel(value: Any, handler: ValidatorFunctionWrapHandler) -> ChannelSettings:
    """A channel entry: its ``kind`` is checked first, then the entry against that kind's registered model."""
    if isinstance(value, ChannelSettings):
        value = value.model_dump()
    if not isinstance(value, dict):
        raise PydanticCustomError("channel", "a channel is a mapping with a kind, e.g. {kind: x12_sftp, ...}")
    kind = value.get("kind")
    model = CHANNEL_KINDS.get(kind) if isinstance(kind, str) else None
    if model is None:
        known = ", ".join(sorted(CHANNEL_KINDS))
        error = PydanticCustomError("channel_kind", "unknown channel kind {kind}; known kinds: {known}",
                                    {"kind": repr(kind), "known": known})
        raise ValidationError.from_exception_data(
            "channel", [InitErrorDetails(type=error, loc=("kind",), input=kind)])
    return model.model_validate(value)


Channel = Annotated[SerializeAsAny[ChannelSettings], WrapValidator(_channel)]


class AmountLimitOverrides(_Profile):
    """This partner's own amount limits; unset ones are the deployment's (HUB_MAX_ORDER_TOTAL, HUB_MAX_AMOUNT)."""

    max_order_total: Decimal | None = Field(default=None, gt=0)
    max_amount: Decimal | None = Field(default=None, gt=0)


class CarrierAddress(_Profile):
    """Where parcels leave from (our warehouse), as the carrier wants it."""

    company: str = Field(min_length=1, max_length=100)
    street1: str = Field(min_length=1, max_length=100)
    street2: str | None = Field(default=None, max_length=100)
    city: str = Field(min_length=1, max_length=60)
    state: str | None = Field(default=None, max_length=30)
    zip: str = Field(min_length=1, max_length=20)
    country: str = Field(default="US", pattern=r"^[A-Z]{2}$")
    phone: str | None = Field(default=None, max_length=30)


class CarrierRouting(_Profile):
    """A carrier target's routing rules for this partner (``hub.targets.carrier`` reads them).

    The 850's TD5 wins when present: its SCAC through ``scac_carriers`` names the carrier, its service
    level through ``service_levels`` the service. Without TD5 the cheapest rate that arrives by the
    order's requested delivery date (within ``max_delivery_days``) among ``carriers`` is bought.
    """

    ship_from: CarrierAddress
    parcel_weight_oz: Decimal = Field(default=Decimal(16), gt=0, le=2400, description="Weight of one parcel.")
    parcel_inches: tuple[Decimal, Decimal, Decimal] | None = Field(default=None, description="Length, width, height.")
    carriers: list[str] = Field(default_factory=list, description="Carriers we may buy from; empty: any rated.")
    scac_carriers: dict[str, str] = Field(default_factory=dict, description="TD5 SCAC -> carrier, e.g. UPSN: UPS.")
    service_levels: dict[str, str] = Field(
        default_factory=dict, description="TD5 service level code -> the carrier's service, e.g. ND: NextDayAir.")
    max_delivery_days: int | None = Field(default=None, ge=1, le=60)


class AccountingRef(_Profile):
    """Where the orders delivered to a target are invoiced when not in the target itself: a registered accounting
    ``kind`` (``hub.targets``, e.g. ``quickbooks``), this partner's ``customer`` there (its display name; default
    the profile's ``name``) and the ``items`` its SKUs are billed as (default: the SKU)."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    customer: str | None = Field(default=None, min_length=1, max_length=100)
    items: dict[str, str] = Field(default_factory=dict, description="SKU -> the accounting system's item name.")


class TargetRef(_Profile):
    """A system this partner's orders are delivered to: a registered target ``kind`` (``hub.targets``) and
    the ``name`` its deliveries carry in the outbox (also its exceptions' channel and its asset's prefix)."""

    kind: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,15}$")
    pool: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.-]{1,63}$",
                             description="Dagster concurrency pool of the pushes to this target; default its name.")
    # Delivery tuning for a kind that takes batches (hub.targets.BatchOrderTarget); unset: the kind's defaults.
    batch_size: int | None = Field(default=None, ge=1, le=500,  # 500: hub.targets.MAX_BATCH_SIZE
                                   description="Orders per call to the target (default 100; 1: one at a time).")
    in_flight: int | None = Field(default=None, ge=1, le=8, description="Batches sent at once (default 1).")
    confirm_orders: bool | None = Field(default=None, description="Confirm the sale orders a batch creates.")
    carrier: CarrierRouting | None = Field(default=None, description="Routing rules of a carrier target.")
    accounting: AccountingRef | None = Field(
        default=None, description="Invoice this target's orders elsewhere (e.g. QuickBooks); default: in the target.")


class InventoryPolicy(_Profile):
    """How this partner's order lines are allocated to warehouses and what a shortage does (docs/inventory.md)."""

    shortage: Literal["backorder", "ship_partial", "reduce", "reject_line"] = Field(
        default="backorder", description="A line short of stock: backorder it whole, ship what there is and "
                                         "backorder the rest, reduce it to what there is, or reject it.")
    preferred_warehouse: str | None = Field(
        default=None, max_length=40, description="The ERP warehouse code to ship from when several have the stock.")
    backorder_days: int = Field(
        default=14, ge=1, le=365, description="Days until a backordered line ships when no receipt is expected.")


class PartnerProfile(_Profile):
    """One trading partner."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    name: str
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    amount_limits: AmountLimitOverrides = Field(
        default_factory=AmountLimitOverrides, description="Overrides of the deployment's amount limits."
    )
    validation: ValidationRules | None = Field(
        default=None, description="This customer's order validation rules over the global ones (hub.validation).")
    inventory: InventoryPolicy = Field(
        default_factory=InventoryPolicy, description="Warehouse preference and shortage policy (hub.inventory).")
    _deployment_limits: AmountLimits = PrivateAttr(default_factory=deployment_amount_limits)
    _limits: AmountLimits | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _channels_not_sections(cls, data: Any) -> Any:
        """A profile written before channels were a list names the section to move, not just "extra input"."""
        if isinstance(data, dict):
            old = [key for key in ("x12", "sftp", "shopify", "amazon") if key in data]
            if old:
                kind = {"x12": "x12_sftp", "sftp": "x12_sftp"}.get(old[0], old[0])
                error = PydanticCustomError("channel_section", "move it into the channels list: {example}",
                                            {"example": f"channels: [{{kind: {kind}, ...}}]"})
                raise ValidationError.from_exception_data(
                    cls.__name__, [InitErrorDetails(type=error, loc=(key,), input=data[key]) for key in old])
        return data

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if not is_currency(value):
            raise ValueError(f"{value!r} is not an ISO 4217 currency code")
        return value

    @property
    def limits(self) -> AmountLimits:
        """The amount limits intake applies to this partner's orders: the deployment's, with this profile's
        overrides."""
        if self._limits is None:
            overrides = {k: v for k, v in self.amount_limits.model_dump().items() if v is not None}
            self._limits = self._deployment_limits.model_copy(update=overrides)
        return self._limits

    channels: list[Channel] = Field(
        default_factory=list, description="Where this partner's orders come from, each tagged by its kind.")

    @field_validator("channels")
    @classmethod
    def _one_channel_per_kind(cls, value: list[ChannelSettings]) -> list[ChannelSettings]:
        kinds = [channel.kind for channel in value]
        doubled = sorted({kind for kind in kinds if kinds.count(kind) > 1})
        if doubled:
            raise ValueError(f"one channel of each kind per profile; {', '.join(doubled)} is listed twice "
                             "(a second store or account is a profile of its own)")
        return value

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

    def channel(self, kind: str) -> ChannelSettings | None:
        """This partner's channel of ``kind``, or None."""
        return next((channel for channel in self.channels if channel.kind == kind), None)

    def with_channel(self, channel: ChannelSettings) -> PartnerProfile:
        """A copy with ``channel`` in place of the one of its kind (or added)."""
        others = [c for c in self.channels if c.kind != channel.kind]
        return self.model_copy(update={"channels": [*others, channel]})

    def without_channel(self, kind: str) -> PartnerProfile:
        """A copy without its channel of ``kind``."""
        return self.model_copy(update={"channels": [c for c in self.channels if c.kind != kind]})

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> PartnerProfile:
        """A copy with ``update`` applied; ``x12``, ``sftp``, ``shopify`` or ``amazon`` there replace those
        settings inside their channel (None removes the channel, or the x12_sftp channel's folders)."""
        update = dict(update or {})
        shortcuts = {key: update.pop(key) for key in ("x12", "sftp", "shopify", "amazon") if key in update}
        copy = super().model_copy(update=update, deep=deep)
        for key, value in shortcuts.items():
            if key in ("shopify", "amazon"):
                copy = copy.with_channel(value) if value is not None else copy.without_channel(key)
                continue
            channel = copy.channel("x12_sftp")
            if key == "x12" and value is None:
                copy = copy.without_channel("x12_sftp")
            elif channel is None:
                copy = copy.with_channel(X12SftpChannel.model_validate({key: value}))
            else:
                copy = copy.with_channel(channel.model_copy(update={key: value}))
        return copy

    # The built-in channels' settings, as the X12, Shopify and marketplace code reads them.
    @property
    def x12(self) -> X12Profile | None:
        """How this partner's X12 is read and answered (its x12_sftp channel), or None."""
        channel = self.channel("x12_sftp")
        return channel.x12 if isinstance(channel, X12SftpChannel) else None

    @property
    def sftp(self) -> SftpFolders | None:
        """This partner's folders on our SFTP server (its x12_sftp channel), or None."""
        channel = self.channel("x12_sftp")
        return channel.sftp if isinstance(channel, X12SftpChannel) else None

    @property
    def shopify(self) -> ShopifyProfile | None:
        """This partner's Shopify store, or None."""
        channel = self.channel("shopify")
        return channel if isinstance(channel, ShopifyProfile) else None

    @property
    def amazon(self) -> AmazonProfile | None:
        """This partner's marketplace seller account, or None."""
        channel = self.channel("amazon")
        return channel if isinstance(channel, AmazonProfile) else None


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


@dataclass(frozen=True)
class ProfileProblem:
    """Why one profile file was not loaded: the file, the field (``channels[0].shop_domain``) and what is wrong."""

    file: str
    field: str | None
    message: str
    partner_id: str | None = None
    """The id the file gives, when it can be read; its other commands say why this partner is missing."""

    def __str__(self) -> str:
        where = f", field {self.field}" if self.field else ""
        return f"partner profile {self.file}{where}: {self.message}"


def _problems(file: str, exc: Exception, partner_id: str | None) -> list[ProfileProblem]:
    """The problems of one file, one per wrong field (a YAML syntax error or a clash with another file: one)."""
    if isinstance(exc, ValidationError):
        return [ProfileProblem(file, _field_path(error["loc"]), error["msg"], partner_id)
                for error in exc.errors(include_url=False, include_input=False, include_context=False)]
    return [ProfileProblem(file, None, " ".join(str(exc).split()), partner_id)]  # a YAML error's lines as one


def _field_path(loc: tuple[int | str, ...]) -> str | None:
    """``('channels', 0, 'shop_domain')`` as ``channels[0].shop_domain``."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or None


class PartnerDirectory:
    """All partner profiles, looked up by id or by X12 sender identity."""

    def __init__(self, profiles: list[PartnerProfile], problems: list[ProfileProblem] | None = None) -> None:
        self._by_id: dict[str, PartnerProfile] = {}
        self._by_isa: dict[tuple[str, str], PartnerProfile] = {}
        self.problems: list[ProfileProblem] = list(problems or [])
        """Profile files that were not loaded, each naming the file and the field (see :meth:`load`)."""
        for profile in profiles:
            self._add(profile)

    def _add(self, profile: PartnerProfile) -> None:
        if profile.id in self._by_id:
            raise ConfigurationError(f"two partner profiles have the id {profile.id!r}")
        _own_sftp_folders(profile, self._by_id.values())
        key = None
        if profile.x12:
            key = (profile.x12.partner.isa_qualifier, profile.x12.partner.isa_id.strip())
            if key in self._by_isa:
                raise ConfigurationError(f"two partner profiles use the ISA sender {key[0]}/{key[1]}")
        self._by_id[profile.id] = profile
        if key is not None:
            self._by_isa[key] = profile

    @classmethod
    def load(cls, folder: Path) -> PartnerDirectory:
        """Read every ``*.yaml`` profile in ``folder``.

        A file that cannot be read, is not a valid profile, or clashes with one read before it (same
        id, same ISA sender, shared SFTP folders) is left out and reported in :attr:`problems` (and
        logged), naming the file and the field: the other partners work on.
        """
        directory = cls([])
        for path in sorted(Path(folder).glob("*.yaml")):
            data: object = None
            try:
                data = yaml.safe_load(path.read_text(encoding="utf-8"))
                if not isinstance(data, dict):
                    raise ConfigurationError("a profile is a YAML mapping of fields (id, name, channels...)")
                directory._add(PartnerProfile.model_validate(data))
            except (OSError, yaml.YAMLError, ValidationError, ConfigurationError) as exc:
                partner_id = data.get("id") if isinstance(data, dict) else None
                for problem in _problems(path.name, exc, partner_id if isinstance(partner_id, str) else None):
                    _log.error("%s", problem)
                    directory.problems.append(problem)
        return directory

    def check(self) -> PartnerDirectory:
        """This directory, or a configuration error listing every profile file that was not loaded."""
        if self.problems:
            raise ConfigurationError("; ".join(map(str, self.problems)))
        return self

    def __iter__(self) -> Iterator[PartnerProfile]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, partner_id: str) -> PartnerProfile:
        """The profile with this id, or a configuration error (naming its file and field when it was not loaded)."""
        try:
            return self._by_id[partner_id]
        except KeyError:
            broken = [str(p) for p in self.problems if p.partner_id == partner_id]
            if broken:
                raise ConfigurationError(f"partner {partner_id!r} is not loaded: {'; '.join(broken)}") from None
            raise ConfigurationError(f"no partner profile {partner_id!r}") from None

    def by_x12_sender(self, qualifier: str, sender_id: str) -> PartnerProfile | None:
        """The profile whose ISA05/ISA06 match, or None for an unknown sender."""
        return self._by_isa.get((qualifier, sender_id.strip()))
