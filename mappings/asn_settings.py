"""A partner's 856 (ship notice) settings: the ``asn`` section of its x12_sftp channel (``mappings.profiles``)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AsnSettings(BaseModel):
    """How this partner wants its 856s: hierarchy, SSCC convention, carrier defaults."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hierarchy: Literal["SOPI", "SOI"] = Field(
        default="SOPI", description="SOPI: shipment/order/pack/item (BSN05 0001), one pack level per carton; "
        "SOI: shipment/order/item (BSN05 0004), the cartons' SSCCs at the order level.")
    gs1_company_prefix: str = Field(pattern=r"^[0-9]{7,10}$",
                                    description="Our GS1 company prefix, the SSCC's digits after the extension digit.")
    sscc_extension_digit: int = Field(default=0, ge=0, le=9, description="The SSCC's first digit (our convention "
                                      "or the partner's: some want 0, some a digit per warehouse).")
    sscc_with_ai: bool = Field(default=False, description="MAN02 as 20 digits, the application identifier 00 in "
                               "front of the SSCC-18, as some partners' guides ask.")
    scac: str | None = Field(default=None, pattern=r"^[A-Z]{2,4}$",
                             description="TD503 when no label of ours names the carrier (e.g. a partner's routing).")
    transport_method: str = Field(default="M", pattern=r"^[A-Z]{1,2}$",
                                  description="TD504: M motor carrier, U private parcel service, A air...")
    packaging_code: str = Field(default="CTN25", pattern=r"^[A-Z0-9]{3,5}$", description="TD101.")
    weight_unit: Literal["LB", "KG"] = Field(default="LB", description="TD108: the ERP's shipping weight unit.")
    ship_from_name: str | None = Field(default=None, max_length=60, description="N1*SF, when the partner wants it.")
