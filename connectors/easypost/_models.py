"""The EasyPost wire shapes the client returns (only the fields the hub reads; the rest is ignored)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field


class _Wire(BaseModel):
    # EasyPost adds fields over time: unknown ones are ignored, not errors.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Address(_Wire):
    """A from/to address as sent to EasyPost (personal data: never logged)."""

    name: str | None = None
    company: str | None = None
    street1: str
    street2: str | None = None
    city: str
    state: str | None = None
    zip: str
    country: str = "US"
    phone: str | None = None
    email: str | None = None


class Parcel(_Wire):
    """A parcel: weight in ounces, dimensions in inches (EasyPost's units)."""

    weight: Decimal = Field(gt=0)
    length: Decimal | None = None
    width: Decimal | None = None
    height: Decimal | None = None


class Rate(_Wire):
    """One priced service of one carrier for a shipment."""

    id: str
    carrier: str
    service: str
    rate: Decimal
    currency: str = "USD"
    delivery_days: int | None = None
    shipment_id: str | None = None


class PostageLabel(_Wire):
    """The bought label."""

    id: str | None = None
    label_url: str | None = None


class TrackingDetail(_Wire):
    """One scan of a tracker."""

    status: str | None = None
    message: str | None = None
    datetime: str | None = None


class Tracker(_Wire):
    """A tracking code followed by EasyPost (``trk_...``)."""

    id: str
    tracking_code: str
    carrier: str | None = None
    status: str = "unknown"
    shipment_id: str | None = None
    updated_at: str | None = None
    est_delivery_date: str | None = None
    tracking_details: list[TrackingDetail] = Field(default_factory=list)


class Shipment(_Wire):
    """A shipment (``shp_...``) with its rates; bought once it has a postage label and tracking code."""

    id: str
    reference: str | None = None
    mode: str | None = None
    status: str | None = None
    rates: list[Rate] = Field(default_factory=list)
    selected_rate: Rate | None = None
    postage_label: PostageLabel | None = None
    tracking_code: str | None = None
    tracker: Tracker | None = None

    @property
    def bought(self) -> bool:
        """Whether a label was bought for it (a second buy would be refused, or pay twice)."""
        return self.postage_label is not None or bool(self.tracking_code) or self.selected_rate is not None


class ShipmentPage(_Wire):
    """One page of ``GET /v2/shipments`` (newest first)."""

    shipments: list[Shipment] = Field(default_factory=list)
    has_more: bool = False
