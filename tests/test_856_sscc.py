"""SSCC-18 check digits (GS1 mod 10), held to published examples and to an independent calculation."""

from __future__ import annotations

import random

import pytest

from mappings.x12._856 import man_gm
from mappings.x12._sscc import gs1_check_digit, is_valid_sscc, serial_capacity, sscc

PUBLISHED = [
    "106141411234567897",  # GS1 General Specifications, the SSCC example: (00) 1 0614141 123456789 7
]


def independent_check_digit(body: str) -> int:
    """GS1's written procedure, step by step: odd positions from the right x3, even x1, up to the next ten."""
    odd = sum(int(body[i]) for i in range(len(body) - 1, -1, -2))
    even = sum(int(body[i]) for i in range(len(body) - 2, -1, -2))
    total = odd * 3 + even
    return (-total) % 10


@pytest.mark.parametrize("code", PUBLISHED)
def test_published_ssccs_are_valid(code):
    assert independent_check_digit(code[:17]) == int(code[17])  # the fixture itself, recomputed
    assert is_valid_sscc(code)
    assert gs1_check_digit(code[:17]) == int(code[17])


@pytest.mark.parametrize("code", PUBLISHED)
def test_every_wrong_check_digit_is_refused(code):
    for digit in "0123456789":
        if digit != code[17]:
            assert not is_valid_sscc(code[:17] + digit)


def test_the_gs1_example_is_built_from_its_parts():
    assert sscc(1, "0614141", 123456789) == "106141411234567897"


def test_gtin_check_digits_use_the_same_rule():
    # Published GTIN-13 and GTIN-12 (UPC-A) examples: the mod-10 rule is the same for every GS1 key.
    assert gs1_check_digit("629104150021") == 3  # GTIN-13 6291041500213
    assert gs1_check_digit("03600029145") == 2  # UPC-A 036000291452


def test_random_ssccs_agree_with_the_independent_calculation():
    rng = random.Random(856)
    for _ in range(2000):
        prefix = "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 10)))
        serial = rng.randrange(serial_capacity(prefix))
        code = sscc(rng.randint(0, 9), prefix, serial)
        assert len(code) == 18 and code[1:1 + len(prefix)] == prefix
        assert int(code[17]) == independent_check_digit(code[:17])


def test_a_serial_that_does_not_fit_the_prefix_is_refused():
    with pytest.raises(ValueError):
        sscc(0, "0614141234", 10**6)  # a 10-digit prefix leaves 6 serial digits
    with pytest.raises(ValueError):
        sscc(10, "0614141", 1)
    with pytest.raises(ValueError):
        sscc(0, "061414", 1)  # 6 digits is no GS1 company prefix


def test_man_gm_with_and_without_the_application_identifier():
    assert man_gm("106141411234567897", with_ai=False) == "MAN*GM*106141411234567897~\n"
    assert man_gm("106141411234567897", with_ai=True) == "MAN*GM*00106141411234567897~\n"
