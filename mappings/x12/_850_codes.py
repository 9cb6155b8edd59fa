"""The 850's code tables: X12 codes in business words, and which segments belong to which loop."""

from __future__ import annotations

from decimal import Decimal

from canonical.model import PartyRole, Purpose

PURPOSES = {"00": Purpose.ORIGINAL, "01": Purpose.CANCELLATION, "04": Purpose.CHANGE, "05": Purpose.REPLACEMENT}
ORDER_TYPES = {
    "SA": "stand-alone order",
    "DS": "drop ship",
    "RL": "release against a blanket order",
    "BK": "blanket order",
    "KN": "purchase order (contract)",
    "NE": "new order",
    "RE": "reorder",
    "OS": "special order",
    "CN": "consigned order",
    "RO": "rush order",
    "PR": "promotion",
}
"""BEG02 codes in words (for people; the order keeps the code)."""
PARTY_ROLES = {
    "ST": PartyRole.SHIP_TO,
    "BT": PartyRole.BILL_TO,
    "BY": PartyRole.BUYER,
    "SF": PartyRole.SHIP_FROM,
    "Z7": PartyRole.MARK_FOR,
    "MA": PartyRole.MARK_FOR,
    "SO": PartyRole.SOLD_TO,
    "OB": PartyRole.ORDERED_BY,
    "SE": PartyRole.SELLER,
    "VN": PartyRole.VENDOR,
    "SU": PartyRole.SUPPLIER,
    "RI": PartyRole.REMIT_TO,
}
ID_SCHEMES = {
    "1": "duns",
    "9": "duns_plus_4",
    "UL": "gln",
    "91": "assigned_by_seller",
    "92": "assigned_by_buyer",
    "ZZ": "mutually_defined",
}
"""N103 identification code qualifiers in words."""
DATE_NAMES = {
    "001": "cancel_after",
    "002": "requested_delivery",
    "004": "purchase_order",
    "010": "requested_ship",
    "015": "promotion_start",
    "016": "promotion_end",
    "017": "estimated_delivery",
    "037": "ship_not_before",
    "038": "ship_no_later",
    "063": "do_not_deliver_after",
    "064": "do_not_deliver_before",
    "106": "required_by",
    "118": "requested_pickup",
    "996": "required_delivery",
}
"""DTM01 qualifiers in words; other qualifiers keep their code as the key."""
CHARACTERISTICS = {
    "08": "product",
    "35": "color",
    "73": "vendor_color",
    "74": "vendor_size",
    "75": "buyer_color",
    "77": "finish",
    "78": "pattern",
    "91": "buyer_size",
    "92": "fabric",
}
"""PID02 product characteristic codes in words (the key of ``OrderLine.attributes``)."""

# PO105 (element 639): what PO104 is a price of. Codes not listed are warned about and read per unit.
STANDARD_PRICE_BASIS = {
    "": "unit",
    "PE": "unit",
    "UM": "unit",
    "CP": "unit",
    "CT": "unit",
    "CA": "unit",  # catalog price per unit; retailers using CA for "per case" say so in their profile
    "QT": "unit",
    "QE": "unit",
    "LE": "unit",
    "TE": "unit",
    "WE": "unit",
    "WH": "unit",
    "NT": "unit",
    "ST": "unit",
    "FX": "unit",
    "DS": "unit",
    "PR": "unit",
    "NE": "unit",
    "DI": "unit",
    "PN": "ten",
    "PD": "dozen",
    "LD": "dozen",
    "TD": "dozen",
    "WD": "dozen",
    "HP": "hundred",
    "LC": "hundred",
    "QH": "hundred",
    "TC": "hundred",
    "WC": "hundred",
    "TP": "thousand",
    "LM": "thousand",
    "QS": "thousand",
    "TM": "thousand",
    "WM": "thousand",
    "TT": "ten_thousand",
    "HT": "hundred_thousand",
    "PP": "pound",
    "PO": "ounce",
    "PK": "kilogram",
    "PG": "gram",
    "PT": "ton",
    "NC": "no_charge",
    "NS": "no_charge",
    "RE": "not_a_cost",
    "RT": "not_a_cost",
    "RD": "not_a_cost",
    "RC": "not_a_cost",
    "RM": "not_a_cost",
    "SR": "not_a_cost",
    "RS": "not_a_cost",
    "NQ": "unpriced",
    "TB": "unpriced",
}
# How many line units a counting price basis is a price of (PO104 per dozen: 12).
UNIT_COUNTS = {
    "unit": Decimal(1),
    "ten": Decimal(10),
    "dozen": Decimal(12),
    "hundred": Decimal(100),
    "thousand": Decimal(1000),
    "ten_thousand": Decimal(10000),
    "hundred_thousand": Decimal(100000),
}
# Weights in pounds, by X12 unit code (355) and by price-basis meaning.
POUNDS = {
    "LB": Decimal(1),
    "OZ": Decimal(1) / Decimal(16),
    "KG": Decimal("2.20462262185"),
    "GR": Decimal("0.00220462262185"),
    "TN": Decimal(2000),
}
# Weight price bases as X12 unit codes (355).
WEIGHT_UNITS = {"pound": "LB", "ounce": "OZ", "kilogram": "KG", "gram": "GR", "ton": "TN"}
# SAC06 percent qualifiers (378) whose base is the net amount (after earlier allowances/charges).
NET_PERCENT_BASES = frozenset({"2", "4", "7"})
# SAC12 (element 331): how an allowance or charge is settled. Only what is settled on the invoice
# changes the order total and the running net later percentages apply to (``Charge.counts_in_total``):
# no code, 02 and 06 do; 01, 03, 04, 05 and 15 are settled outside the invoice and only recorded.
# 07 says settling it is not obligatory: it is counted (the buyer may still take it on the invoice)
# with a note for review; so is a code not listed here, rather than guessing which way it goes.
SAC_HANDLING = {
    "01": "bill back",
    "02": "off invoice",
    "03": "vendor check to customer",
    "04": "credit customer account",
    "05": "charge to be paid by vendor",
    "06": "charge to be paid by customer",
    "07": "optional",
    "15": "information only",
}
# Segments that belong to a header N1 loop; anything else ends the loop.
N1_LOOP = frozenset({"N1", "N2", "N3", "N4", "NX2", "REF", "PER", "SI", "FOB", "TD1", "TD5", "TD3", "TD4", "PKG"})
# Segments of an N1 loop inside a PO1 loop (a line's own ship-to or mark-for): it also holds QTY, DTM, SCH.
LINE_N1_LOOP = N1_LOOP | {"QTY", "DTM", "SCH"}
# PO105 codes that say no more than "per one unit": not worth keeping on the line.
PLAIN_PRICE_BASIS = frozenset({"", "PE", "UM"})
# PER03/05/07 communication qualifiers we keep on a contact.
COMMUNICATION_KINDS = {"TE": "phone", "EM": "email", "FX": "fax"}
