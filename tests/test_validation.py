"""The rule engine: each rule with a hand-built order, and rules as data (global file, a customer's override)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from canonical.model import Order, OrderLine, Party, PartyRole, Source
from hub.validation import Context, Credit, Product, Rule, evaluate
from mappings.profiles import PartnerProfile
from mappings.validation_rules import GLOBAL_RULES_FILE, ValidationRules, load_rules

RULES = ValidationRules(unknown_sku=True, price_tolerance_percent=D("5"), max_order_value=D("1000"),
                        credit_limit=True, restricted_skus=["BAN-1"], pack_multiples=True, duplicate_po=True,
                        totals_tolerance=D("0.01"))
CATALOGUE = {"WID-100": Product("WID-100", D("4.50"), "USD", D("6")), "OLD-1": Product("OLD-1", D("1"), "USD",
                                                                                     active=False),
             "BAN-1": Product("BAN-1", D("2"), "USD")}


def order(*lines: tuple[str | None, str, str], total: str | None = None) -> Order:
    built = [OrderLine(line_no=str(n), sku=sku, quantity=D(qty), unit_price=D(price), amount=D(qty) * D(price))
             for n, (sku, qty, price) in enumerate(lines, start=1)]
    return Order(source="x12", source_ref="PO-1", partner_id="acme", order_date=dt.date(2026, 12, 4), lines=built,
                 total=D(total) if total is not None else sum((D(q) * D(p) for _, q, p in lines), D(0)),
                 parties=[Party(role=PartyRole.BUYER, name="Acme")])


def rules_of(findings) -> list[tuple[str, str | None]]:
    return [(f.rule.value, f.line) for f in findings]


def test_a_clean_order_breaks_no_rule():
    assert evaluate(order(("WID-100", "12", "4.50")), RULES, Context(CATALOGUE)) == []


def test_an_unknown_sku_is_flagged_on_its_line_and_the_line_is_kept():
    o = order(("WID-100", "6", "4.50"), ("NOPE-9", "1", "3"), ("OLD-1", "1", "1"))
    found = evaluate(o, RULES, Context(CATALOGUE))
    assert rules_of(found) == [("unknown_sku", "2"), ("unknown_sku", "3")]
    assert found[0].found == "NOPE-9" and found[0].expected == "a SKU in the ERP catalogue"
    assert "archived" in found[1].found
    assert len(o.lines) == 3  # never dropped


def test_catalogue_rules_wait_for_a_synced_catalogue():
    assert evaluate(order(("NOPE-9", "1", "3")), RULES, Context()) == []


def test_a_price_off_the_list_beyond_the_tolerance():
    found = evaluate(order(("WID-100", "6", "4.80"), ("WID-100", "6", "4.70")), RULES, Context(CATALOGUE))
    assert rules_of(found) == [("price_off_list", "1")]  # 6.7% off; 4.4% is within 5%
    assert found[0].expected == "4.50 USD ± 5%" and found[0].found.startswith("4.80")


def test_a_pricelist_price_counts_before_the_list_price():
    context = Context(CATALOGUE, prices={("WID-100", "USD"): D("4.00")})
    assert rules_of(evaluate(order(("WID-100", "6", "4.50")), RULES, context)) == [("price_off_list", "1")]


def test_an_order_over_the_value_threshold():
    found = evaluate(order(("WID-100", "300", "4.50")), RULES, Context(CATALOGUE))
    assert rules_of(found) == [("order_value", None)]
    assert found[0].found == "1350.00"


def test_the_credit_limit():
    o = order(("WID-100", "12", "4.50"))  # 54.00
    assert evaluate(o, RULES, Context(CATALOGUE, credit=Credit(D("100"), D("40")))) == []
    found = evaluate(o, RULES, Context(CATALOGUE, credit=Credit(D("100"), D("50"))))
    assert rules_of(found) == [("credit_limit", None)] and found[0].found == "50 open + 54.00 = 104.00"


def test_restricted_products_even_without_a_catalogue():
    assert rules_of(evaluate(order(("BAN-1", "1", "2")), RULES, Context())) == [("restricted_product", "1")]


def test_quantities_outside_pack_multiples():
    found = evaluate(order(("WID-100", "7", "4.50")), RULES, Context(CATALOGUE))
    assert rules_of(found) == [("pack_multiple", "1")] and found[0].expected == "a multiple of 6"


def test_a_duplicate_po_from_the_same_customer():
    found = evaluate(order(("WID-100", "6", "4.50")), RULES, Context(CATALOGUE, duplicate_of="email"))
    assert rules_of(found) == [("duplicate_po", None)] and "email" in found[0].found


def test_totals_that_do_not_add_up():
    found = evaluate(order(("WID-100", "6", "4.50"), total="30.00"), RULES, Context(CATALOGUE))
    assert rules_of(found) == [("totals", None)] and found[0].expected.startswith("27.00")


def test_rules_switched_off_find_nothing():
    o = order(("NOPE", "7", "9"), total="1")
    assert evaluate(o, ValidationRules(), Context(CATALOGUE, credit=Credit(D("1"), D("1")), duplicate_of="x")) == []


def test_a_customer_overrides_the_global_rules_and_adds_restricted_products(tmp_path):
    path = tmp_path / "rules.yaml"
    path.write_text("max_order_value: 100\nrestricted_skus: [A]\nunknown_sku: true\n")
    base = load_rules(path)
    profile = PartnerProfile.model_validate({"id": "big", "name": "Big",
                                             "validation": {"max_order_value": 5000, "restricted_skus": ["B"]}})
    merged = base.merged(profile.validation)
    assert merged.max_order_value == D("5000") and merged.restricted_skus == ["A", "B"] and merged.unknown_sku
    with pytest.raises(ValueError, match="max_order_valu"):
        PartnerProfile.model_validate({"id": "x", "name": "X", "validation": {"max_order_valu": 1}})


def test_the_shipped_global_rules_load():
    rules = load_rules(GLOBAL_RULES_FILE)
    assert rules.unknown_sku and rules.duplicate_po and rules.price_tolerance_percent == D("5")
    assert set(Rule) == {Rule(r) for r in ("unknown_sku", "price_off_list", "order_value", "credit_limit",
                                            "restricted_product", "pack_multiple", "duplicate_po", "totals",
                                            "low_confidence", "unknown_sender")}


def test_orders_read_from_free_text_with_doubts_need_a_person():
    rules = ValidationRules(review_extracted_from=["email"])
    sure = order(("WID-100", "6", "4.50")).model_copy(update={"source": Source.EMAIL})
    assert evaluate(sure, rules, Context()) == []
    line = OrderLine(line_no="2", description="blue widgets", quantity=D(3))
    doubtful = sure.model_copy(update={"warnings": ["quantity read from '3ish'"], "lines": [*sure.lines, line]})
    found = evaluate(doubtful, rules, Context())
    assert rules_of(found) == [("low_confidence", None), ("low_confidence", "2")]
    assert found[0].found == "quantity read from '3ish'" and found[1].found == "no SKU and no unit price"
    from_edi = doubtful.model_copy(update={"source": Source.X12})
    assert evaluate(from_edi, rules, Context()) == [], "only the listed channels"
    assert rules_of(evaluate(doubtful, ValidationRules(review_extracted_from=[]), Context())) == [
        ("low_confidence", None), ("low_confidence", "2")], "email's doubts always wait for a person"


def test_an_email_order_from_a_sender_the_profile_does_not_list_is_always_a_draft():
    email = order(("WID-100", "6", "4.50")).model_copy(update={"source": Source.EMAIL})
    stranger = email.model_copy(update={"references": {"sender": "pat@elsewhere.test",
                                                       "sender_unknown": "not among acme's senders"}})
    assert evaluate(email, ValidationRules(), Context()) == []
    (finding,) = evaluate(stranger, ValidationRules(), Context())  # no rule switched on: still held
    assert (finding.rule, finding.line, finding.found) == (Rule.UNKNOWN_SENDER, None, "a sender at elsewhere.test")
    shop = stranger.model_copy(update={"source": Source.SHOPIFY})
    assert evaluate(shop, ValidationRules(), Context()) == [], "only email orders carry a sender to doubt"
