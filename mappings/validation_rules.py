"""Order validation rules as data: the global file (``mappings/validation.yaml``) and a profile's ``validation:``.

Every field is optional so that a customer's profile names only what differs from the global
rules (``ValidationRules.merged``); the engine that applies them is ``hub.validation``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

GLOBAL_RULES_FILE = Path(__file__).with_name("validation.yaml")


class ValidationRules(BaseModel):
    """Which rules apply and their limits; None means "as the global rules say" (or off, globally)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unknown_sku: bool | None = Field(
        default=None, description="Flag lines whose SKU is not in the synced catalogue (the line is kept).")
    price_tolerance_percent: Decimal | None = Field(
        default=None, ge=0, description="Largest difference from the list price, in percent of it.")
    max_order_value: Decimal | None = Field(default=None, gt=0, description="Orders above this total need approval.")
    credit_limit: bool | None = Field(
        default=None, description="Open amount plus this order must stay within the customer's ERP credit limit.")
    restricted_skus: list[str] | None = Field(
        default=None, description="Products that always need approval (a profile's list adds to the global one).")
    pack_multiples: bool | None = Field(
        default=None, description="Quantities in eaches must be whole multiples of the product's packaging qty.")
    duplicate_po: bool | None = Field(
        default=None, description="The same PO number from the same customer through another channel.")
    review_extracted_from: list[str] | None = Field(
        default=None, description="Channels whose orders are read from free text (email): an order of theirs with "
                                  "extraction warnings or a line without SKU or price needs approval.")
    totals_tolerance: Decimal | None = Field(
        default=None, ge=0, description="Largest difference between the order total and its lines and charges.")

    def merged(self, override: ValidationRules | None) -> ValidationRules:
        """These rules with ``override``'s set fields on top (restricted products are added, not replaced)."""
        if override is None:
            return self
        update = {k: v for k, v in override.model_dump().items() if v is not None}
        if override.restricted_skus is not None:
            update["restricted_skus"] = sorted({*(self.restricted_skus or []), *override.restricted_skus})
        return self.model_copy(update=update)


def load_rules(path: Path = GLOBAL_RULES_FILE) -> ValidationRules:
    """The rules in a YAML file (an absent file: no rule applies)."""
    if not path.exists():
        return ValidationRules()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return ValidationRules.model_validate(data)
