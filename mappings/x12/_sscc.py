"""SSCC-18, the Serial Shipping Container Code on every carton's GS1-128 label (``MAN*GM`` in an 856).

Eighteen digits: the extension digit (the partner's or our convention, 0-9), our GS1 company
prefix (7 to 10 digits, from the profile), a serial reference filling the rest (16 digits minus
the prefix), and the GS1 mod-10 check digit. The serial reference comes from the store's gap-free
series per (extension digit, prefix), so no two cartons ever share one.
"""

from __future__ import annotations

import re

_PREFIX = re.compile(r"^[0-9]{7,10}$")
SSCC_AI = "00"
"""The GS1 application identifier of an SSCC; some partners want it in front of the 18 digits (MAN02 of 20)."""


def gs1_check_digit(digits: str) -> int:
    """The GS1 mod-10 check digit of ``digits`` (every GS1 key: weights 3, 1, 3... from the rightmost digit)."""
    if not digits.isdigit() or not digits.isascii():
        raise ValueError(f"a GS1 key is digits only, got {digits!r}")
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return (10 - total % 10) % 10


def serial_capacity(company_prefix: str) -> int:
    """How many serial references a company prefix leaves room for (10^(16 - its length))."""
    return 10 ** (16 - len(company_prefix))


def sscc(extension_digit: int, company_prefix: str, serial: int) -> str:
    """The 18-digit SSCC of ``serial`` under ``company_prefix`` with ``extension_digit``, check digit included."""
    if not 0 <= extension_digit <= 9:
        raise ValueError("the SSCC extension digit is one digit, 0-9")
    if not _PREFIX.match(company_prefix):
        raise ValueError("a GS1 company prefix has 7 to 10 digits")
    width = 16 - len(company_prefix)
    if not 0 <= serial < 10**width:
        raise ValueError(f"serial reference {serial} does not fit the {width} digits prefix {company_prefix} leaves")
    body = f"{extension_digit}{company_prefix}{serial:0{width}d}"
    return body + str(gs1_check_digit(body))


def is_valid_sscc(code: str) -> bool:
    """True when ``code`` is 18 digits whose last is the GS1 check digit of the first 17."""
    return len(code) == 18 and code.isdigit() and code.isascii() and gs1_check_digit(code[:17]) == int(code[17])
