"""Canonical order: what every channel's document is turned into, whatever its wire format."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from canonical.model._money import check_currency

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]
# ISO 4217 (``_money.ISO_4217_CODES``): the shape in the JSON schema, the code list checked after it.
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), AfterValidator(check_currency)]
Sha256 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class _Strict(BaseModel):
    """Base of the canonical models: unknown fields are errors, assignments are validated."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


class Source(StrEnum):
    """The channel an order came in through."""

    X12 = "x12"
    EMAIL = "email"
    SHOPIFY = "shopify"
    AMAZON = "amazon"


class Purpose(StrEnum):
    """What the document does to the order it names (X12 BEG01: 00, 01, 05, 04)."""

    ORIGINAL = "original"
    CANCELLATION = "cancellation"
    REPLACEMENT = "replacement"
    CHANGE = "change"


class PartyRole(StrEnum):
    """A party's role on the order (X12 N101 entity codes mapped to words)."""

    BUYER = "buyer"
    SELLER = "seller"
    SHIP_TO = "ship_to"
    BILL_TO = "bill_to"
    SHIP_FROM = "ship_from"
    MARK_FOR = "mark_for"
    REMIT_TO = "remit_to"
    VENDOR = "vendor"
    SUPPLIER = "supplier"
    CUSTOMER = "customer"
    SOLD_TO = "sold_to"
    ORDERED_BY = "ordered_by"
    OTHER = "other"


class ChargeKind(StrEnum):
    """A charge adds to the total, an allowance takes from it (X12 SAC01 C / A)."""

    CHARGE = "charge"
    ALLOWANCE = "allowance"


class Contact(_Strict):
    """A person or desk to contact about the order (X12 PER). Personal data: never logged."""

    function: Code | None = Field(default=None, description="X12 PER01, e.g. `BD` buyer, `OC` order contact.")
    name: Text | None = None
    phone: Code | None = None
    email: Code | None = None
    fax: Code | None = None


class Party(_Strict):
    """A party named on the order: who buys, where it ships, who is billed."""

    role: PartyRole
    name: Text | None = None
    id: Code | None = Field(default=None, description="The party's identifier in the qualifier's scheme.")
    id_qualifier: Code | None = Field(
        default=None, description="Scheme of `id`, e.g. X12 N103 `92` (buyer's code), `UL` (GLN), `1` (DUNS)."
    )
    address_lines: list[Text] = Field(default_factory=list)
    city: Text | None = None
    region: Text | None = Field(default=None, description="State or province code.")
    postal_code: Code | None = None
    country: Code | None = Field(default=None, description="ISO 3166 country code when known.")
    entity_code: Code | None = Field(default=None, description="The channel's own role code, e.g. X12 N101 `Z7`.")
    id_scheme: Code | None = Field(
        default=None, description="`id_qualifier` in words: `duns`, `duns_plus_4`, `gln`, `assigned_by_buyer`..."
    )
    references: dict[str, str] = Field(default_factory=dict, description="The party's references by qualifier.")
    contacts: list[Contact] = Field(default_factory=list)


# X12 SAC12 (element 331) codes of allowances and charges settled outside the invoice: the buyer bills
# them back (01), the vendor sends a check (03) or credits the buyer's account (04), the vendor pays the
# charge (05), or they are sent for information only (15). Other channels leave `handling` None.
_SETTLED_OUTSIDE_INVOICE = frozenset({"01", "03", "04", "05", "15"})


class Charge(_Strict):
    """A charge or allowance at order or line level; `amount` is always positive."""

    kind: ChargeKind
    code: Code = Field(description="The channel's code for it, e.g. X12 SAC02 `D240` (freight), `C310` (discount).")
    amount: Decimal = Field(ge=0)
    description: Text | None = None
    percent: Decimal | None = Field(default=None, description="When computed from a percentage (X12 SAC07).")
    percent_basis: Code | None = Field(default=None, description="What the percentage applies to (X12 SAC06).")
    rate: Decimal | None = Field(default=None, description="When computed as rate x quantity (X12 SAC08).")
    quantity: Decimal | None = Field(default=None, description="The quantity the rate applies to (X12 SAC10).")
    handling: Code | None = Field(
        default=None,
        description="How it is settled, X12 SAC12: `02` off invoice, `06` paid by the customer; "
        "`01` bill back, `03` vendor check, `04` credit to the account, `05` paid by the vendor and `15` "
        "information only are settled outside the invoice and do not count in the order total.",
    )

    @property
    def counts_in_total(self) -> bool:
        """Whether it changes what the invoice asks for (not when settled outside it, see `handling`)."""
        return self.handling not in _SETTLED_OUTSIDE_INVOICE


class Distribution(_Strict):
    """Part of a line's quantity destined for one location (X12 SDQ store distribution)."""

    location_id: Code
    quantity: Decimal = Field(gt=0)
    id_qualifier: Code | None = Field(default=None, description="Scheme of `location_id`, e.g. X12 `92`, `UL`.")


class Carrier(_Strict):
    """How the buyer wants the goods shipped (X12 TD5)."""

    scac: Code | None = Field(default=None, description="Standard Carrier Alpha Code.")
    id_qualifier: Code | None = None
    id: Code | None = None
    transport_method: Code | None = Field(default=None, description="X12 TD504, e.g. `M` motor, `U` parcel.")
    routing: Text | None = None
    service_level: Code | None = None


class PaymentTerms(_Strict):
    """Payment terms (X12 ITD): a discount for paying early, the net due days."""

    type_code: Code | None = Field(default=None, description="X12 ITD01, e.g. `01` basic, `08` discount offered.")
    basis_date: Code | None = Field(default=None, description="X12 ITD02, e.g. `3` invoice date, `15` receipt.")
    discount_percent: Decimal | None = None
    discount_due_date: dt.date | None = None
    discount_days: int | None = None
    net_due_date: dt.date | None = None
    net_days: int | None = None
    discount_amount: Decimal | None = None
    description: Text | None = None


class ShippingTerms(_Strict):
    """Who pays for transport and where ownership passes (X12 FOB)."""

    payment_method: Code = Field(description="X12 FOB01, e.g. `PP` prepaid, `CC` collect.")
    location_qualifier: Code | None = None
    location: Text | None = None
    terms_code: Code | None = Field(default=None, description="Incoterm or other transport terms (FOB05).")


class OrderLine(_Strict):
    """One ordered item."""

    line_no: Code = Field(description="The line's id in the source document (X12 PO101) or its position.")
    sku: Code | None = Field(default=None, description="Our (the seller's) item number.")
    gtin: Code | None = Field(default=None, description="GTIN/UPC/EAN as sent.")
    buyer_part: Code | None = Field(default=None, description="The buyer's item number.")
    description: Text | None = None
    quantity: Decimal = Field(gt=0)
    uom: Code = Field(default="EA", description="Unit of measure (X12 code, e.g. EA, CA, LB).")
    unit_price: Decimal | None = Field(default=None, ge=0, description="Price per one `uom`, in the order currency.")
    amount: Decimal | None = Field(default=None, description="Line total before charges: quantity x unit_price.")
    tax_amount: Decimal | None = Field(
        default=None, ge=0, description="Tax on the line in `currency` (included in the price when the order says so)."
    )
    charges: list[Charge] = Field(default_factory=list)
    price_basis: Code | None = Field(
        default=None, description="What the sent price was per when not one `uom`, e.g. X12 PO105 `HP`."
    )
    pack: Decimal | None = Field(default=None, description="Inner units per outer pack (X12 PO401).")
    inner_pack: Decimal | None = Field(default=None, description="Units per inner pack (X12 PO414).")
    pack_size: Decimal | None = Field(default=None, description="Size of one inner unit (X12 PO402).")
    pack_size_uom: Code | None = None
    pack_weight: Decimal | None = Field(default=None, description="Gross weight per pack (X12 PO406).")
    pack_weight_uom: Code | None = None
    distribution: list[Distribution] = Field(default_factory=list, description="Quantity per store or location.")
    parties: list[Party] = Field(
        default_factory=list,
        description="Parties of this line only, e.g. its own ship-to or mark-for (X12 N1 loop inside the PO1 loop); "
        "the order's `parties` apply to every line.",
    )
    attributes: dict[str, str] = Field(default_factory=dict, description="Item characteristics, e.g. `buyer_color`.")
    references: dict[str, str] = Field(default_factory=dict)
    dates: dict[str, dt.date] = Field(default_factory=dict)


class Order(_Strict):
    """A customer order in the hub's one canonical shape, traceable to its raw document."""

    source: Source
    source_ref: Code = Field(description="The order's number in its channel: PO number, channel order id.")
    partner_id: Code = Field(description="The trading partner or store account it came from (partner profile id).")
    purpose: Purpose = Purpose.ORIGINAL
    order_type: Code | None = Field(default=None, description="Channel order type, e.g. X12 BEG02 `SA`, `DS`, `RL`.")
    release_no: Code | None = None
    order_date: dt.date
    currency: CurrencyCode = "USD"
    parties: list[Party] = Field(default_factory=list)
    lines: list[OrderLine] = Field(min_length=1)
    charges: list[Charge] = Field(default_factory=list)
    total: Decimal = Field(
        description="Lines plus charges minus allowances settled on the invoice (see `Charge.handling`), in `currency`."
    )
    taxes_included: bool | None = Field(default=None, description="Prices include tax (channel setting), when known.")
    tax_total: Decimal | None = Field(default=None, ge=0, description="All tax on the order in `currency`, when known.")
    presentment_currency: CurrencyCode | None = Field(
        default=None, description="The currency the customer saw and paid in, when it differs from the shop's."
    )
    presentment_total: Decimal | None = Field(default=None, description="`total` in `presentment_currency`.")
    dates: dict[str, dt.date] = Field(
        default_factory=dict, description="Other dates by meaning, e.g. `requested_ship`."
    )
    references: dict[str, str] = Field(
        default_factory=dict, description="Other references by qualifier, e.g. `DP` (department)."
    )
    is_test: bool = Field(
        default=False, description="A test order (X12 ISA15 = T): never pushed to production targets."
    )
    raw_document_id: Sha256 | None = Field(
        default=None, description="sha256 of the raw document archived before parsing (set by intake)."
    )
    document_ref: Code | None = Field(
        default=None, description="Where in the raw document the order is, e.g. `ISA 000000101/GS 1/ST 0001`."
    )
    warnings: list[Text] = Field(default_factory=list, description="Accepted-with-warnings notes for review.")
    carrier: Carrier | None = None
    terms: PaymentTerms | None = None
    shipping_terms: ShippingTerms | None = None
    contacts: list[Contact] = Field(default_factory=list)

    def party(self, role: PartyRole) -> Party | None:
        """The first party with this role, if any."""
        return next((p for p in self.parties if p.role == role), None)


def order_total(lines: list[OrderLine], charges: list[Charge]) -> Decimal:
    """Lines (with their own charges) plus order charges minus allowances, those settled on the invoice."""

    def signed(charge: Charge) -> Decimal:
        if not charge.counts_in_total:
            return Decimal(0)
        return charge.amount if charge.kind is ChargeKind.CHARGE else -charge.amount

    total = Decimal(0)
    for line in lines:
        total += line.amount if line.amount is not None else Decimal(0)
        total += sum((signed(c) for c in line.charges), Decimal(0))
    total += sum((signed(c) for c in charges), Decimal(0))
    return total
