"""Money sanity: ISO 4217 currency codes and the largest amounts an order may plausibly carry.

The code table is embedded (no dependency): ISO 4217 list one's active codes as published in 2025,
plus two withdrawn in a recent changeover whose successors partners may not use yet (ANG -> XCG,
SLL -> SLE). Codes that are not money one can invoice in are left out: precious metals (XAU, XAG,
XPD, XPT), bond-market units (XBA-XBD), the SDR (XDR), XSU, XUA, the test code XTS and XXX
("no currency"). When ISO adds a code, add it here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from canonical.model._order import Order

ISO_4217_CODES = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP BYN BZD
    CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL
    GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD
    KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO
    NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS
    SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND
    VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)


def is_currency(code: str) -> bool:
    """Whether ``code`` is an ISO 4217 currency an order can be priced in."""
    return code in ISO_4217_CODES


def check_currency(code: str) -> str:
    """``code`` itself, or a ValueError naming it when it is not an ISO 4217 currency (pydantic validator)."""
    if not is_currency(code):
        raise ValueError(f"{code!r} is not an ISO 4217 currency code")
    return code


class AmountLimits(BaseModel):
    """The largest amounts an order may carry before intake refuses it as implausible.

    Deployment-wide from ``HUB_MAX_ORDER_TOTAL`` / ``HUB_MAX_AMOUNT`` (:func:`deployment_amount_limits`); a partner
    profile's ``amount_limits`` overrides either for that partner. Amounts are in the order's currency.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_order_total: Decimal = Field(default=Decimal("10000000"), gt=0, description="Largest order total.")
    max_amount: Decimal = Field(
        default=Decimal("10000000"), gt=0,
        description="Largest single amount: a unit price, a line amount, an allowance or a charge.",
    )

    def breaches(self, order: Order) -> list[AmountBreach]:
        """Every amount of ``order`` over these limits (by size: a huge allowance too), in document order."""
        if self._within(order):
            return []  # the usual case, checked once per order at intake: kept cheap
        return list(self._breaches(order))

    def _within(self, order: Order) -> bool:
        most = self.max_amount
        if abs(order.total) > self.max_order_total or any(c.amount > most for c in order.charges):
            return False
        for line in order.lines:
            if line.unit_price is not None and abs(line.unit_price) > most:
                return False
            if line.amount is not None and abs(line.amount) > most:
                return False
            if line.charges and any(c.amount > most for c in line.charges):
                return False
        return True

    def _breaches(self, order: Order) -> Iterator[AmountBreach]:
        currency = order.currency
        for line in order.lines:
            for what, value in (("unit price", line.unit_price), ("line amount", line.amount)):
                if value is not None and abs(value) > self.max_amount:
                    yield AmountBreach(f"line {line.line_no}: {what} {value} {currency} is over the limit of "
                                       f"{self.max_amount} {currency}", line_no=line.line_no, field=what)
            for charge in line.charges:
                if charge.amount > self.max_amount:
                    yield AmountBreach(f"line {line.line_no}: {charge.kind.value} {charge.code} of {charge.amount} "
                                       f"{currency} is over the limit of {self.max_amount} {currency}",
                                       line_no=line.line_no, charge_code=charge.code, field="charge")
        for charge in order.charges:
            if charge.amount > self.max_amount:
                yield AmountBreach(f"{charge.kind.value} {charge.code} of {charge.amount} {currency} is over the "
                                   f"limit of {self.max_amount} {currency}", charge_code=charge.code, field="charge")
        if abs(order.total) > self.max_order_total:
            yield AmountBreach(f"order total {order.total} {currency} is over the limit of {self.max_order_total} "
                               f"{currency}", field="total")


@dataclass(frozen=True)
class AmountBreach:
    """One amount over the limits: what to tell a person, and where in the order it is."""

    message: str
    field: str  # unit price / line amount / charge / total
    line_no: str | None = None
    charge_code: str | None = None


class _DeploymentAmountLimits(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", extra="ignore")

    max_order_total: Decimal = Field(default=AmountLimits().max_order_total, gt=0)
    max_amount: Decimal = Field(default=AmountLimits().max_amount, gt=0)


def deployment_amount_limits() -> AmountLimits:
    """The deployment's limits from ``HUB_MAX_ORDER_TOTAL`` / ``HUB_MAX_AMOUNT`` (read now, not cached)."""
    read = _DeploymentAmountLimits()
    return AmountLimits(max_order_total=read.max_order_total, max_amount=read.max_amount)
