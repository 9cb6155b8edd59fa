"""Writes the 850 and 855 maps (pyx12 map XML) for 004010 and 005010 from the tables below.

    .venv/bin/python -m mappings.x12.maps.build_maps

The XML files are the source of truth at run time (our validator compiles them, pyx12 reads them
in the differential tests); this script only keeps the two versions consistent. Each version has
its own directory because pyx12 reads one ``dataele.xml`` per map directory and a few element
lengths differ between 004010 and 005010 (REF02, PER04, SAC05, AMT02...).

Usage follows pyx12: R required (X12 'M'), S situational (X12 'O' and 'X', with the syntax notes
saying when), N not used.

The 855 (Purchase Order Acknowledgment) is a document we send: its map checks what we build
before it is uploaded (``mappings.x12._855_validate``). It shares the 850's segment tables and
N1 loop, and adds BAK (the acknowledgment's header) and the line's ACK loop.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeAlias
from xml.sax.saxutils import escape

import pyx12

HERE = Path(__file__).resolve().parent
PYX12_MAPS = Path(pyx12.__file__).resolve().parent / "map"
MAXINT = ">1"

# -- data element dictionary: number -> (type, min, max, name); 005010 overrides below -----------
DATA_ELEMENTS: dict[str, tuple[str, int, int, str]] = {
    "19": ("AN", 2, 30, "City Name"),
    "22": ("AN", 1, 30, "Commodity Code"),
    "23": ("ID", 1, 1, "Commodity Code Qualifier"),
    "24": ("ID", 4, 4, "Equipment Type"),
    "26": ("ID", 2, 3, "Country Code"),
    "40": ("ID", 2, 2, "Equipment Description Code"),
    "54": ("ID", 1, 2, "Risk of Loss Code"),
    "61": ("AN", 1, 30, "Free-Form Message"),
    "66": ("ID", 1, 2, "Identification Code Qualifier"),
    "67": ("AN", 2, 80, "Identification Code"),
    "79": ("AN", 1, 50, "Lading Description"),
    "80": ("N0", 1, 7, "Lading Quantity"),
    "81": ("R", 1, 10, "Weight"),
    "82": ("R", 1, 8, "Length"),
    "87": ("AN", 1, 48, "Marks and Numbers"),
    "88": ("ID", 1, 2, "Marks and Numbers Qualifier"),
    "91": ("ID", 1, 2, "Transportation Method/Type Code"),
    "92": ("ID", 2, 2, "Purchase Order Type Code"),
    "93": ("AN", 1, 60, "Name"),
    "96": ("N0", 1, 10, "Number of Included Segments"),
    "98": ("ID", 2, 3, "Entity Identifier Code"),
    "100": ("ID", 3, 3, "Currency Code"),
    "102": ("ID", 1, 1, "Ownership Code"),
    "103": ("AN", 3, 5, "Packaging Code"),
    "107": ("ID", 1, 2, "Payment Method Code"),
    "116": ("ID", 3, 15, "Postal Code"),
    "118": ("R", 1, 9, "Rate"),
    "127": ("AN", 1, 30, "Reference Identification"),
    "128": ("ID", 2, 3, "Reference Identification Qualifier"),
    "133": ("ID", 1, 2, "Routing Sequence Code"),
    "143": ("ID", 3, 3, "Transaction Set Identifier Code"),
    "146": ("ID", 2, 2, "Shipment Method of Payment"),
    "152": ("ID", 2, 3, "Special Handling Code"),
    "156": ("ID", 2, 2, "State or Province Code"),
    "166": ("AN", 1, 55, "Address Information"),
    "183": ("R", 1, 8, "Volume"),
    "187": ("ID", 1, 2, "Weight Qualifier"),
    "206": ("AN", 1, 4, "Equipment Initial"),
    "207": ("AN", 1, 10, "Equipment Number"),
    "208": ("ID", 1, 3, "Hazardous Material Code Qualifier"),
    "209": ("AN", 2, 4, "Hazardous Material Class Code"),
    "212": ("R", 1, 17, "Unit Price"),
    "225": ("AN", 2, 15, "Seal Number"),
    "234": ("AN", 1, 48, "Product/Service ID"),
    "235": ("ID", 2, 2, "Product/Service ID Qualifier"),
    "236": ("ID", 3, 3, "Price Identifier Code"),
    "248": ("ID", 1, 1, "Allowance or Charge Indicator"),
    "280": ("R", 4, 10, "Exchange Rate"),
    "284": ("ID", 1, 2, "Service Level Code"),
    "289": ("N0", 1, 2, "Multiple Price Quantity"),
    "306": ("ID", 1, 2, "Action Code"),
    "309": ("ID", 1, 2, "Location Qualifier"),
    "310": ("AN", 1, 30, "Location Identifier"),
    "324": ("AN", 1, 22, "Purchase Order Number"),
    "325": ("AN", 1, 20, "Tax Identification Number"),
    "326": ("ID", 2, 2, "Request Reference Number"),
    "328": ("AN", 1, 30, "Release Number"),
    "329": ("AN", 4, 9, "Transaction Set Control Number"),
    "330": ("R", 1, 15, "Quantity Ordered"),
    "331": ("ID", 2, 2, "Allowance or Charge Method of Handling Code"),
    "332": ("R", 1, 6, "Percent"),
    "333": ("ID", 1, 2, "Terms Basis Date Code"),
    "334": ("ID", 2, 2, "Transportation Terms Qualifier Code"),
    "335": ("ID", 3, 3, "Transportation Terms Code"),
    "336": ("ID", 2, 2, "Terms Type Code"),
    "337": ("TM", 4, 8, "Time"),
    "338": ("R", 1, 6, "Terms Discount Percent"),
    "342": ("R", 1, 5, "Percent of Invoice Payable"),
    "344": ("ID", 2, 2, "Unit of Time Period or Interval"),
    "345": ("ID", 2, 2, "Lead Time Code"),
    "347": ("R", 1, 10, "Hash Total"),
    "349": ("ID", 1, 1, "Item Description Type"),
    "350": ("AN", 1, 20, "Assigned Identification"),
    "351": ("N0", 1, 3, "Terms Discount Days Due"),
    "352": ("AN", 1, 80, "Description"),
    "353": ("ID", 2, 2, "Transaction Set Purpose Code"),
    "354": ("N0", 1, 6, "Number of Line Items"),
    "355": ("ID", 2, 2, "Unit or Basis for Measurement Code"),
    "356": ("N0", 1, 6, "Pack"),
    "357": ("R", 1, 8, "Size"),
    "362": ("N2", 1, 10, "Terms Discount Amount"),
    "364": ("AN", 1, 80, "Communication Number"),
    "365": ("ID", 2, 2, "Communication Number Qualifier"),
    "366": ("ID", 2, 2, "Contact Function Code"),
    "367": ("AN", 1, 30, "Contract Number"),
    "368": ("ID", 2, 2, "Shipment/Order Status Code"),
    "369": ("AN", 1, 45, "Free-form Description"),
    "370": ("DT", 8, 8, "Terms Discount Due Date"),
    "371": ("ID", 2, 2, "Change Reason Code"),
    "373": ("DT", 8, 8, "Date"),
    "374": ("ID", 3, 3, "Date/Time Qualifier"),
    "378": ("ID", 1, 1, "Allowance/Charge Percent Qualifier"),
    "380": ("R", 1, 15, "Quantity"),
    "382": ("R", 1, 10, "Number of Units Shipped"),
    "383": ("R", 1, 9, "Quantity Difference"),
    "384": ("R", 1, 9, "Gross Weight per Pack"),
    "385": ("R", 1, 9, "Gross Volume per Pack"),
    "386": ("N0", 1, 3, "Terms Net Days"),
    "387": ("AN", 1, 35, "Routing"),
    "388": ("DT", 8, 8, "Terms Deferred Due Date"),
    "389": ("N2", 1, 10, "Deferred Amount Due"),
    "400": ("AN", 1, 80, "Unit Load Option Code"),
    "407": ("ID", 1, 4, "Temperature Control"),
    "441": ("ID", 1, 1, "Tax Exempt Code"),
    "443": ("AN", 1, 20, "Contact Inquiry Reference"),
    "446": ("DT", 8, 8, "Terms Net Due Date"),
    "478": ("ID", 1, 1, "Credit/Debit Flag Code"),
    "499": ("AN", 1, 10, "Condition Value"),
    "508": ("AN", 1, 35, "Account Number"),
    "522": ("ID", 1, 3, "Amount Qualifier Code"),
    "559": ("ID", 2, 2, "Agency Qualifier Code"),
    "563": ("ID", 1, 2, "Sales Requirement Code"),
    "610": ("N2", 1, 15, "Amount"),
    "623": ("ID", 2, 2, "Time Code"),
    "639": ("ID", 2, 2, "Basis of Unit Price Code"),
    "648": ("ID", 3, 3, "Price Multiplier Qualifier"),
    "649": ("R", 1, 10, "Multiplier"),
    "653": ("ID", 3, 3, "Discount Terms Type Code"),
    "654": ("ID", 2, 2, "Discount Base Qualifier"),
    "655": ("R", 1, 10, "Discount Base Value"),
    "656": ("ID", 2, 2, "Discount Control Limit Qualifier"),
    "657": ("R", 1, 10, "Discount Control Limit"),
    "662": ("ID", 1, 1, "Relationship Code"),
    "673": ("ID", 2, 2, "Quantity Qualifier"),
    "687": ("ID", 2, 2, "Class of Trade Code"),
    "688": ("ID", 2, 2, "Restrictions/Conditions Qualifier"),
    "704": ("ID", 1, 2, "Paperwork/Report Action Code"),
    "706": ("ID", 2, 2, "Entity Relationship Code"),
    "731": ("ID", 2, 2, "Transit Direction Code"),
    "732": ("ID", 2, 2, "Transit Time Direction Qualifier"),
    "733": ("R", 1, 4, "Transit Time"),
    "737": ("ID", 2, 2, "Measurement Reference ID Code"),
    "738": ("ID", 1, 3, "Measurement Qualifier"),
    "739": ("R", 1, 20, "Measurement Value"),
    "740": ("R", 1, 20, "Range Minimum"),
    "741": ("R", 1, 20, "Range Maximum"),
    "750": ("ID", 2, 3, "Product/Process Characteristic Code"),
    "751": ("AN", 1, 12, "Product Description Code"),
    "752": ("ID", 2, 2, "Surface/Layer/Position Code"),
    "753": ("ID", 2, 2, "Packaging Characteristic Code"),
    "754": ("AN", 1, 7, "Packaging Description Code"),
    "755": ("ID", 2, 2, "Report Type Code"),
    "756": ("ID", 1, 2, "Report Transmission Code"),
    "757": ("N0", 1, 2, "Report Copies Needed"),
    "765": ("N0", 1, 2, "Day of Month"),
    "770": ("AN", 1, 20, "Option Number"),
    "782": ("R", 1, 15, "Monetary Amount"),
    "799": ("AN", 1, 30, "Expiration Date"),
    "810": ("N0", 1, 6, "Inner Pack"),
    "819": ("ID", 2, 3, "Language Code"),
    "821": ("ID", 2, 2, "Unit Load Option Code"),
    "822": ("AN", 1, 15, "Source Subqualifier"),
    "828": ("R", 1, 9, "Dollar Basis For Percent"),
    "933": ("AN", 1, 264, "Free-Form Message Text"),
    "934": ("ID", 2, 2, "Printer Carriage Control Code"),
    "935": ("ID", 1, 2, "Measurement Significance Code"),
    "936": ("ID", 2, 2, "Measurement Attribute Code"),
    "954": ("R", 1, 10, "Percent"),
    "955": ("ID", 2, 2, "Tax Jurisdiction Code Qualifier"),
    "956": ("AN", 1, 10, "Tax Jurisdiction Code"),
    "963": ("ID", 1, 2, "Tax Type Code"),
    "1000": ("ID", 2, 2, "Service Characteristics Qualifier"),
    "1004": ("ID", 1, 2, "Percent Qualifier"),
    "1018": ("R", 1, 15, "Exponent"),
    "1019": ("ID", 3, 3, "Invoice Type Code"),
    "1073": ("ID", 1, 1, "Yes/No Condition or Response Code"),
    "1106": ("ID", 2, 2, "Address Component Qualifier"),
    "1096": ("ID", 1, 1, "County Designator"),
    "1112": ("ID", 2, 2, "Contract Type Code"),
    "1166": ("ID", 2, 2, "Contract Type Code"),
    "1232": ("ID", 2, 2, "Purchase Category"),
    "1250": ("ID", 2, 3, "Date Time Period Format Qualifier"),
    "1251": ("AN", 1, 35, "Date Time Period"),
    "1270": ("ID", 1, 3, "Code List Qualifier Code"),
    "1271": ("AN", 1, 30, "Industry Code"),
    "1300": ("ID", 4, 4, "Service, Promotion, Allowance, or Charge Code"),
    "1301": ("AN", 1, 10, "Agency Service, Promotion, Allowance, or Charge Code"),
    "1470": ("N0", 1, 9, "Number"),
    "1705": ("AN", 1, 35, "Implementation Convention Reference"),
    "1715": ("ID", 1, 3, "Country Subdivision Code"),
    "786": ("ID", 2, 2, "Security Level Code"),
    "640": ("ID", 2, 2, "Transaction Type Code"),
    "587": ("ID", 2, 2, "Acknowledgment Type"),
    "669": ("ID", 3, 3, "Currency Market/Exchange Code"),
    "668": ("ID", 2, 2, "Line Item Status Code"),  # not in pyx12's dictionary (it has no 855 map)
}
DATA_ELEMENTS_5010 = {
    "127": ("AN", 1, 50, "Reference Identification"),
    "364": ("AN", 1, 256, "Communication Number"),
    "610": ("N2", 1, 18, "Amount"),
    "782": ("R", 1, 18, "Monetary Amount"),
}

# -- code lists the standard fixes (a practical subset of the large ones) ------------------------
# PO105 (639, price basis) has no list here on purpose: an unknown basis is read as "per unit" with
# a warning by the mapper rather than rejecting the order.
CODES = {
    "353": "00 01 02 03 04 05 06 07 08 10 18 22 27".split(),
    "92": (
        "BE BK BL CF CN CO CP DR DS EO IN KB KC KN LS NE NP OS PR RA RC RE RL RN RO RR SA SD SP SS ST TP ZZ"
    ).split(),
    "98": (
        "BS BT BY CA CN DA FR II LW MA MF MI MP OB OV PD PE PR RE RI SE SF SN SO ST SU UC VN WH Z7 ZZ 91 92"
    ).split(),
    "355": (
        "BA BD BE BF BG BH BJ BO BR BX CA CF CH CL CM CQ CR CS CT CY DA DR DZ EA FO FT GA GL GR GS HD HR IN KG "
        "KT LB LF LM LO LT LY ME ML MR MT OZ PA PC PD PF PH PK PL PR PT QT RE RL RM RO SF SH SJ SO SP SQ SS ST "
        "SY TB TC TK TN TO TS TU TY UN YD ZZ"
    ).split(),
    "248": ["A", "C", "N"],
    "349": ["F", "S", "X"],
    "478": ["C", "D"],
}
# Code lists of one element of one segment (xid), where the data element's list is shared with a
# segment that must not get it: 587 is BEG07 in the 850 too, which stays unchecked as before.
CODES_BY_XID = {
    # BAK02: acknowledged with detail and change / with detail, no change / rejected, and the rest of the standard's.
    "BAK02": "AC AD AE AH AK AP AT NA RD RF RJ RN RO ZZ".split(),
    # ACK01: IA accepted, IB backordered, IQ quantity changed, IR rejected, IP price changed, DR date rescheduled...
    "ACK01": "AC AR BP DR IA IB IC ID IE IF IH IP IQ IR IS IW R1 R2 R3 R4 SP".split(),
}


# -- segments: id -> (name, [elements], [syntax notes]) ------------------------------------------
# An element is (data element, usage) with usage R or S; a composite is ("C001", usage).
def _repeat(pairs: list[tuple[str, str]], times: int) -> list[tuple[str, str]]:
    return [item for _ in range(times) for item in pairs]


def _pairs(first: int, count: int, kind: str = "P") -> list[str]:
    return [f"{kind}{n:02d}{n + 1:02d}" for n in range(first, first + 2 * count, 2)]


S, R = "S", "R"
SEGMENTS: dict[str, tuple[str, list[tuple[str, str]], list[str]]] = {
    "BEG": (
        "Beginning Segment for Purchase Order",
        [("353", R), ("92", R), ("324", R), ("328", S), ("373", R), ("367", S), ("587", S), ("1019", S),
         ("1166", S), ("1232", S), ("786", S), ("640", S)],
        [],
    ),
    "CUR": (
        "Currency",
        [("98", R), ("100", R), ("280", S), ("98", S), ("100", S), ("669", S),
         *_repeat([("374", S), ("373", S), ("337", S)], 5)],
        ["C0807", "C0907", "L101112", "C1110", "C1210", "L131415", "C1413", "C1513", "L161718", "C1716", "C1816",
         "L192021", "C2019", "C2119"],
    ),
    "REF": ("Reference Identification", [("128", R), ("127", S), ("352", S), ("C040", S)], ["R0203"]),
    "PER": (
        "Administrative Communications Contact",
        [("366", R), ("93", S), ("365", S), ("364", S), ("365", S), ("364", S), ("365", S), ("364", S), ("443", S)],
        ["P0304", "P0506", "P0708"],
    ),
    "TAX": (
        "Tax Reference",
        [("325", S), *_repeat([("309", S), ("310", S)], 5), ("441", S), ("1073", S), ("325", S)],
        ["R0103", "P0203", "P0405", "P0607", "P0809", "P1011"],
    ),
    "FOB": (
        "F.O.B. Related Instructions",
        [("146", R), ("309", S), ("352", S), ("334", S), ("335", S), ("309", S), ("352", S), ("54", S), ("352", S)],
        ["C0302", "C0405", "C0706", "C0908"],
    ),
    "CTP": (
        "Pricing Information",
        [("687", S), ("236", S), ("212", S), ("380", S), ("C001", S), ("648", S), ("649", S), ("782", S),
         ("639", S), ("499", S), ("289", S)],
        ["P0405", "C0607", "C0902", "C1002", "C1103"],
    ),
    "PAM": (
        "Period Amount",
        [("673", S), ("380", S), ("C001", S), ("522", S), ("782", S), ("344", S), ("374", S), ("373", S),
         ("337", S), ("374", S), ("373", S), ("337", S), ("1004", S), ("954", S), ("1073", S)],
        ["P0102", "C0203", "P0405"],
    ),
    "CSH": (
        "Sales Requirements",
        [("563", S), ("306", S), ("610", S), ("508", S), ("373", S), ("324", S), ("1004", S), ("954", S), ("1073", S)],
        ["C0304", "P0708"],
    ),
    "TC2": ("Commodity", [("23", R), ("22", R)], []),
    "SAC": (
        "Service, Promotion, Allowance, or Charge Information",
        [("248", R), ("1300", S), ("559", S), ("1301", S), ("610", S), ("378", S), ("332", S), ("118", S),
         ("355", S), ("380", S), ("380", S), ("331", S), ("127", S), ("770", S), ("352", S), ("819", S)],
        ["R0203", "P0304", "P0607", "P0910", "C1110", "C1413", "C1615"],
    ),
    "ITD": (
        "Terms of Sale/Deferred Terms of Sale",
        [("336", S), ("333", S), ("338", S), ("370", S), ("351", S), ("446", S), ("386", S), ("362", S),
         ("388", S), ("389", S), ("342", S), ("352", S), ("765", S), ("107", S), ("954", S)],
        ["L03050413", "L08040513", "L0910", "C1009"],
    ),
    "DIS": (
        "Discount Detail",
        [("653", R), ("654", R), ("655", R), ("656", S), ("657", S), ("657", S)],
        ["P0405", "C0605"],
    ),
    "INC": ("Installment Information", [("336", R), ("C001", R), ("380", S), ("380", S), ("380", S)], []),
    "DTM": (
        "Date/Time Reference",
        [("374", R), ("373", S), ("337", S), ("623", S), ("1250", S), ("1251", S)],
        ["R020305", "C0403", "P0506"],
    ),
    "BAK": (
        "Beginning Segment for Purchase Order Acknowledgment",
        [("353", R), ("587", R), ("324", R), ("373", R), ("328", S), ("326", S), ("367", S), ("127", S), ("373", S)],
        [],
    ),
    "ACK": (
        "Line Item Acknowledgment",
        [("668", R), ("380", S), ("355", S), ("374", S), ("373", S), ("326", S),
         *_repeat([("235", S), ("234", S)], 10)],
        ["P0203", "C0405", *_pairs(7, 10)],
    ),
    "LDT": ("Lead Time", [("345", R), ("380", R), ("344", R), ("373", S)], []),
    "LIN": (
        "Item Identification",
        [("350", S), ("235", R), ("234", R), *_repeat([("235", S), ("234", S)], 14)],
        _pairs(4, 14),
    ),
    "SI": ("Service Characteristic Identification", [("559", R), *_repeat([("1000", S), ("234", S)], 10)],
           _pairs(2, 10)),
    "PID": (
        "Product/Item Description",
        [("349", R), ("750", S), ("559", S), ("751", S), ("352", S), ("752", S), ("822", S), ("1073", S), ("819", S)],
        ["C0403", "R0405", "C0703", "C0804", "C0905"],
    ),
    "MEA": (
        "Measurements",
        [("737", S), ("738", S), ("739", S), ("C001", S), ("740", S), ("741", S), ("935", S), ("936", S),
         ("752", S), ("1073", S)],
        ["R03050608", "C0504", "C0604", "L07030506", "E0803"],
    ),
    "PWK": (
        "Paperwork",
        [("755", R), ("756", S), ("757", S), ("98", S), ("66", S), ("67", S), ("352", S), ("C002", S), ("704", S)],
        ["P0506"],
    ),
    "PKG": (
        "Marking, Packaging, Loading",
        [("349", S), ("753", S), ("559", S), ("754", S), ("400", S), ("821", S)],
        ["R040506", "C0403", "C0501"],
    ),
    "TD1": (
        "Carrier Details (Quantity and Weight)",
        [("103", S), ("80", S), ("23", S), ("22", S), ("79", S), ("187", S), ("81", S), ("355", S), ("183", S),
         ("355", S)],
        ["C0102", "C0304", "C0607", "P0708", "P0910"],  # the standard's five (TD1*CTN25*2****G*12.5*LB is valid)
    ),
    "TD5": (
        "Carrier Details (Routing Sequence/Transit Time)",
        [("133", S), ("66", S), ("67", S), ("91", S), ("387", S), ("368", S), ("309", S), ("310", S),
         ("731", S), ("732", S), ("733", S), ("284", S), ("284", S), ("284", S), ("26", S)],
        ["R0204050612", "C0203", "C0708", "C1011", "C1312", "C1413", "C1512"],
    ),
    "TD3": (
        "Carrier Details (Equipment)",
        [("40", S), ("206", S), ("207", S), ("187", S), ("81", S), ("355", S), ("102", S), ("407", S), ("225", S),
         ("24", S)],
        ["E0110", "C0203", "C0405", "P0506"],
    ),
    "TD4": ("Carrier Details (Special Handling or Hazardous Materials)",
            [("152", S), ("208", S), ("209", S), ("352", S), ("1073", S)], ["R010204", "C0203"]),
    "MAN": ("Marks and Numbers", [("88", R), ("87", R), ("87", S), ("88", S), ("87", S), ("87", S)],
            ["P0405", "C0605"]),
    "PCT": ("Percent Amounts", [("1004", R), ("954", R)], []),
    "CTB": (
        "Restrictions/Conditions",
        [("688", R), ("352", S), ("673", S), ("380", S), ("522", S), ("610", S)],
        ["R0206", "P0304", "P0506"],
    ),
    "TXI": (
        "Tax Information",
        [("963", R), ("782", S), ("954", S), ("955", S), ("956", S), ("441", S), ("662", S), ("828", S),
         ("325", S), ("350", S)],
        ["R020306", "P0405", "C0803", "C1009"],
    ),
    "N9": (
        "Reference Identification",
        [("128", R), ("127", S), ("369", S), ("373", S), ("337", S), ("623", S), ("C040", S)],
        ["R0203", "C0605"],
    ),
    "MSG": ("Message Text", [("933", R), ("934", S), ("1470", S)], ["C0302"]),
    "N1": ("Name", [("98", R), ("93", S), ("66", S), ("67", S), ("706", S), ("98", S)], ["R0203", "P0304"]),
    "N2": ("Additional Name Information", [("93", R), ("93", S)], []),
    "N3": ("Address Information", [("166", R), ("166", S)], []),
    "N4": ("Geographic Location", [("19", S), ("156", S), ("116", S), ("26", S), ("309", S), ("310", S)],
           ["C0605"]),
    "NX2": ("Location ID Component", [("1106", R), ("166", R), ("1096", S)], []),
    "LM": ("Code Source Information", [("559", R), ("822", S)], []),
    "LQ": ("Industry Code", [("1270", S), ("1271", S)], ["C0102"]),
    "PO1": (
        "Baseline Item Data",
        [("350", S), ("330", S), ("355", S), ("212", S), ("639", S), *_repeat([("235", S), ("234", S)], 10)],
        ["C0302", "C0504", *_pairs(6, 10)],
    ),
    "CN1": ("Contract Information", [("1112", R), ("782", S), ("332", S), ("127", S), ("338", S), ("799", S)], []),
    "PO3": (
        "Additional Item Detail",
        [("371", R), ("373", S), ("236", S), ("212", S), ("639", S), ("380", R), ("355", R), ("352", S)],
        ["C0405"],
    ),
    "PO4": (
        "Item Physical Details",
        [("356", S), ("357", S), ("355", S), ("103", S), ("187", S), ("384", S), ("355", S), ("385", S),
         ("355", S), ("82", S), ("82", S), ("82", S), ("355", S), ("810", S), ("752", S), ("350", S), ("350", S),
         ("1470", S)],
        ["C0203", "C0405", "C0605", "P0607", "C0705", "P0809", "L10111213", "C1013", "C1113", "C1213", "C1716"],
    ),
    "IT8": ("Conditions of Sale", [("563", S), ("306", S), ("610", S), ("508", S), ("373", S), ("324", S),
                                   ("1004", S)], []),
    "SDQ": (
        "Destination Quantity",
        [("355", R), ("66", S), ("67", R), ("380", R), *_repeat([("67", S), ("380", S)], 9), ("310", S)],
        _pairs(5, 9),
    ),
    "IT3": ("Additional Item Data", [("382", S), ("355", S), ("368", S), ("383", S), ("371", S)],
            ["P0102", "C0405"]),
    "SPI": ("Specification Identifier", [("786", R), ("128", S), ("127", S), ("352", S)], []),
    "QTY": ("Quantity", [("673", R), ("380", S), ("C001", S), ("61", S)], ["R0204", "E0204", "E0304"]),
    "SCH": (
        "Line Item Schedule",
        [("380", R), ("355", R), ("98", S), ("93", S), ("374", R), ("373", R), ("337", S), ("374", S), ("373", S),
         ("337", S), ("326", S), ("350", S)],
        ["L080910", "C0803", "C0904"],
    ),
    "SLN": (
        "Subline Item Detail",
        [("350", R), ("350", S), ("662", R), ("380", S), ("C001", S), ("212", S), ("639", S), ("662", S),
         *_repeat([("235", S), ("234", S)], 10)],
        ["P0405", "C0706", "C0806", *_pairs(9, 10)],
    ),
    "AMT": ("Monetary Amount", [("522", R), ("782", R), ("478", S)], []),
    "CTT": ("Transaction Totals", [("354", R), ("347", S), ("81", S), ("355", S), ("183", S), ("355", S),
                                   ("352", S)], ["P0304", "P0506"]),
}
COMPOSITES = {
    "C001": ("Composite Unit of Measure", [("355", R), *_repeat([("1018", S), ("649", S), ("355", S)], 4),
                                           ("1018", S), ("649", S)]),
    "C040": ("Reference Identifier", [("128", R), ("127", R), ("128", S), ("127", S), ("128", S), ("127", S)]),
    "C002": ("Actions Indicated", [("704", R), ("704", S), ("704", S), ("704", S), ("704", S)]),
}


# -- the 850 structure: (kind, id, usage, max use / repeat, children) ----------------------------
SegmentSpec: TypeAlias = tuple[Literal["segment"], str, str, int | str]
LoopSpec: TypeAlias = tuple[Literal["loop"], str, str, int | str, list["NodeSpec"]]
NodeSpec: TypeAlias = SegmentSpec | LoopSpec


def seg(sid: str, usage: str = S, max_use: int | str = 1) -> SegmentSpec:
    return ("segment", sid, usage, max_use)


def loop(lid: str, usage: str, repeat: int | str, *children: NodeSpec) -> LoopSpec:
    return ("loop", lid, usage, repeat, list(children))


def n1_children(detail: bool) -> list[NodeSpec]:
    extra = [seg("QTY", S, MAXINT)] if detail else []
    return [
        seg("N1", S),
        seg("N2", S, 2),
        seg("N3", S, 2),
        seg("N4", S, MAXINT),
        *extra,
        seg("NX2", S, MAXINT),
        seg("REF", S, 12),
        seg("PER", S, MAXINT),
        seg("SI", S, MAXINT),
        *([seg("DTM", S, 1)] if detail else []),
        seg("FOB", S, 1),
        *([seg("SCH", S, 200)] if detail else []),
        seg("TD1", S, 2),
        seg("TD5", S, 12),
        seg("TD3", S, 12),
        seg("TD4", S, 5),
        seg("PKG", S, 200),
    ]


# Header segments the 850 and the 855 share, in this order (discount to the carrier's marks).
HEADER_TERMS_AND_CARRIER: list[NodeSpec] = [
    seg("DIS", S, 20),
    seg("INC", S),
    seg("DTM", S, 10),
    seg("LDT", S, 12),
    seg("LIN", S, 5),
    seg("SI", S, MAXINT),
    seg("PID", S, 200),
    seg("MEA", S, 40),
    seg("PWK", S, 25),
    seg("PKG", S, 200),
    seg("TD1", S, 2),
    seg("TD5", S, 12),
    seg("TD3", S, 12),
    seg("TD4", S, 5),
    seg("MAN", S, 10),
]
HEADER: list[NodeSpec] = [
    seg("BEG", R),
    seg("CUR", S),
    seg("REF", S, MAXINT),
    seg("PER", S, 3),
    seg("TAX", S, MAXINT),
    seg("FOB", S, MAXINT),
    seg("CTP", S, MAXINT),
    seg("PAM", S, 10),
    seg("CSH", S, 5),
    seg("TC2", S, MAXINT),
    loop("SAC", S, 25, seg("SAC", S), seg("CUR", S)),
    seg("ITD", S, MAXINT),
    *HEADER_TERMS_AND_CARRIER,
    seg("PCT", S, MAXINT),
    seg("CTB", S, 5),
    seg("TXI", S, MAXINT),
    loop("AMT", S, MAXINT, seg("AMT", S), seg("REF", S, MAXINT), seg("DTM", S), seg("PCT", S, MAXINT)),
    loop("N9", S, 1000, seg("N9", S), seg("DTM", S, 10), seg("MSG", S, 1000)),
    loop("N1", S, 200, *n1_children(detail=False)),
    loop("LM", S, 1000, seg("LM", S), loop("LQ", R, 100, seg("LQ", R))),
]
def po1_children() -> list[NodeSpec]:
    """The PO1 loop's segments and loops from LIN to N1, as the 850 has them and an 855 echoes them."""
    return [
        seg("LIN", S, MAXINT),
        seg("SI", S, MAXINT),
        seg("CUR", S),
        seg("CN1", S),
        seg("PO3", S, 25),
        loop("CTP", S, MAXINT, seg("CTP", S), seg("CUR", S)),
        seg("PAM", S, 10),
        seg("MEA", S, 40),
        loop("PID", S, 1000, seg("PID", S), seg("MEA", S, 10)),
        seg("PWK", S, 25),
        seg("PO4", S, MAXINT),
        seg("REF", S, MAXINT),
        seg("PER", S, 3),
        loop("SAC", S, 25, seg("SAC", S), seg("CUR", S)),
        seg("IT8", S),
        seg("CSH", S, MAXINT),
        seg("ITD", S, 2),
        seg("DIS", S, 20),
        seg("INC", S),
        seg("TAX", S, MAXINT),
        seg("FOB", S, MAXINT),
        seg("SDQ", S, 500),
        seg("IT3", S, 5),
        seg("DTM", S, 10),
        seg("TC2", S, MAXINT),
        seg("TD1", S),
        seg("TD5", S, 12),
        seg("TD3", S, 12),
        seg("TD4", S, 5),
        seg("PCT", S, MAXINT),
        seg("MAN", S, 10),
        seg("MSG", S, MAXINT),
        seg("SPI", S, MAXINT),
        seg("TXI", S, MAXINT),
        seg("CTB", S, MAXINT),
        loop("QTY", S, MAXINT, seg("QTY", S), seg("SI", S, MAXINT)),
        loop("SCH", S, 200, seg("SCH", S), seg("TD1", S, 2), seg("TD5", S, 12), seg("TD3", S, 12),
             seg("TD4", S, 5), seg("REF", S, MAXINT)),
        seg("PKG", S, 200),
        loop("N9", S, 1000, seg("N9", S), seg("DTM", S, MAXINT), seg("MEA", S, 40), seg("MSG", S, 1000)),
        loop("N1", S, 200, *n1_children(detail=True)),
    ]


DETAIL: list[NodeSpec] = [
    loop(
        "PO1",
        R,
        100000,
        seg("PO1", R),
        *po1_children(),
        loop("SLN", S, 1000, seg("SLN", S), seg("MSG", S, MAXINT), seg("SI", S, MAXINT), seg("PID", S, 1000),
             seg("PO3", S, 104), seg("TC2", S, MAXINT), seg("DTM", S, 10), seg("CTP", S, 25), seg("PAM", S, 10),
             seg("PO4", S, 1), seg("TAX", S, 3)),
        loop("AMT", S, MAXINT, seg("AMT", S), seg("REF", S), seg("PCT", S, MAXINT)),
        loop("LM", S, 1000, seg("LM", S), loop("LQ", R, 100, seg("LQ", R))),
    ),
]
SUMMARY: list[NodeSpec] = [loop("CTT", S, 1, seg("CTT", S), seg("AMT", S))]

# -- the 855 structure: the header, line and N1 parts we send or a partner may expect ---------------
HEADER_855: list[NodeSpec] = [
    seg("BAK", R),
    seg("CUR", S),
    seg("REF", S, 12),
    seg("PER", S, 3),
    seg("TAX", S, 3),
    seg("FOB", S, MAXINT),
    seg("CTP", S, MAXINT),
    seg("PAM", S, 10),
    seg("CSH", S, 25),
    loop("SAC", S, 25, seg("SAC", S), seg("CUR", S)),
    seg("ITD", S, 5),
    *HEADER_TERMS_AND_CARRIER,
    seg("CTB", S, 5),
    seg("TXI", S, MAXINT),
    loop("N9", S, 1000, seg("N9", S), seg("DTM", S, MAXINT), seg("MSG", S, 1000)),
    loop("N1", S, 200, *n1_children(detail=False)),
]
DETAIL_855: list[NodeSpec] = [
    loop(
        "PO1",
        S,
        100000,
        seg("PO1", R),
        *po1_children(),
        # What happens to the line: one ACK per status (a backorder: IA for what ships, IB with its date).
        loop("ACK", S, 104, seg("ACK", S), seg("DTM", S, 10)),
    ),
]


@dataclass(frozen=True)
class SetSpec:
    """One transaction set's map: its functional group id (GS01), title and tables."""

    set_id: str
    functional_id: str
    title: str
    tables: tuple[tuple[str, str, list[NodeSpec], int], ...]


SETS = {
    "850": SetSpec("850", "PO", "Purchase Order - 850 ({version}, VICS/UCS retail usage included)",
                   (("HEADER", R, HEADER, 20), ("DETAIL", R, DETAIL, 30), ("FOOTER", S, SUMMARY, 40))),
    "855": SetSpec("855", "PR", "Purchase Order Acknowledgment - 855 ({version}, what the hub sends)",
                   (("HEADER", R, HEADER_855, 20), ("DETAIL", S, DETAIL_855, 30), ("FOOTER", S, SUMMARY, 40))),
}


def invoice_810() -> SetSpec:
    """The 810 Invoice we send (BIG, N1, IT1 loops, TDS, SAC, CTT): its segments and elements registered here.

    Laid out as the standard's 810 (header, IT1 detail, summary with TDS first and the header-level
    SAC loops after it); the summary table is required, so an 810 without its TDS fails the map.
    """
    DATA_ELEMENTS.update({
        "76": ("AN", 1, 22, "Invoice Number"),
        "327": ("AN", 1, 8, "Change Order Sequence Number"),
        "358": ("R", 1, 10, "Quantity Invoiced"),
    })
    DATA_ELEMENTS_5010["358"] = ("R", 1, 15, "Quantity Invoiced")
    CODES_BY_XID["BIG07"] = ["CR", "DI", "DR"]  # credit memo, debit invoice, debit memo: what we may send
    SEGMENTS.update({
        "BIG": ("Beginning Segment for Invoice",
                [("373", R), ("76", R), ("373", S), ("324", S), ("328", S), ("327", S), ("640", S), ("353", S),
                 ("306", S), ("76", S)], []),
        "IT1": ("Baseline Item Data (Invoice)",
                [("350", S), ("358", S), ("355", S), ("212", S), ("639", S), *_repeat([("235", S), ("234", S)], 10)],
                ["P020304", *_pairs(6, 10)]),
        "TDS": ("Total Monetary Value Summary", [("610", R), ("610", S), ("610", S), ("610", S)], []),
    })
    n1 = loop("N1", S, 200, seg("N1", S), seg("N2", S, 2), seg("N3", S, 2), seg("N4", S), seg("REF", S, 12),
              seg("PER", S, 3))
    sac = loop("SAC", S, 25, seg("SAC", S), seg("TXI", S, 10))
    header: list[NodeSpec] = [
        seg("BIG", R), seg("CUR", S), seg("REF", S, 12), seg("PER", S, 3), n1, seg("ITD", S, MAXINT),
        seg("DTM", S, 10), seg("FOB", S), seg("PID", S, 200), seg("MEA", S, 40), seg("PWK", S, 25), seg("PKG", S, 25),
    ]
    detail: list[NodeSpec] = [loop(
        "IT1", S, 200000, seg("IT1", R), seg("QTY", S, 5), seg("CUR", S), seg("IT3", S, 5), seg("TXI", S, 10),
        seg("CTP", S, 25), seg("PAM", S, 10), seg("MEA", S, 40), loop("PID", S, 1000, seg("PID", S), seg("MEA", S, 10)),
        seg("PWK", S, 25), seg("PKG", S, 25), seg("PO4", S), seg("ITD", S, 2), seg("REF", S, MAXINT), seg("PER", S, 5),
        seg("IT8", S, 25), seg("SDQ", S, 500), seg("DTM", S, 10), sac, n1,
    )]
    summary: list[NodeSpec] = [seg("TDS", R), seg("TXI", S, 10), sac, seg("CTT", S)]
    return SetSpec("810", "IN", "Invoice - 810 ({version}, what the hub sends)",
                   (("HEADER", R, header, 20), ("DETAIL", S, detail, 30), ("FOOTER", R, summary, 40)))


SETS["810"] = invoice_810()


def add_856() -> None:
    """The 856 Ship Notice/Manifest we send (``mappings.x12._856``): its elements, segments and HL structure.

    One HL loop carries every level (S shipment, O order, P pack, I item; the level is HL03): the map
    allows each level's segments in the one loop, the builder decides which level gets which.
    """
    DATA_ELEMENTS.update({
        "396": ("AN", 2, 30, "Shipment Identification"),
        "641": ("ID", 3, 3, "Status Reason Code"),
        "646": ("R", 1, 15, "Quantity Shipped to Date"),
        "728": ("ID", 1, 2, "Returnable Container Load Make-Up Code"),
        "327": ("AN", 1, 8, "Change Order Sequence Number"),
    })
    CODES_BY_XID.update({
        "HL03": "S O T P Q I F".split(),  # shipment, order, tare, pack, subpack, item, component
        # Shipment/Order/Pack/Item, Shipment/Order/Item/Pack, Shipment/Pack/Order/Item, Shipment/Order/Item.
        "BSN05": "0001 0002 0003 0004".split(),
    })
    SEGMENTS.update({
        "BSN": ("Beginning Segment for Ship Notice",
                [("353", R), ("396", R), ("373", R), ("337", R), ("1005", S), ("640", S), ("641", S)], ["C0706"]),
        "HL": ("Hierarchical Level", [("628", R), ("734", S), ("735", R), ("736", S)], []),
        "SN1": ("Item Detail (Shipment)",
                [("350", S), ("382", R), ("355", R), ("646", S), ("330", S), ("355", S), ("728", S), ("668", S)],
                ["P0506"]),
        "PRF": ("Purchase Order Reference",
                [("324", R), ("328", S), ("327", S), ("373", S), ("350", S), ("367", S), ("92", S)], []),
    })
    hl = loop(
        "HL", R, 200000,
        seg("HL", R), seg("LIN", S), seg("SN1", S), seg("SLN", S, 1000), seg("PRF", S), seg("PO4", S),
        seg("PID", S, 200), seg("MEA", S, 40), seg("PWK", S, 25), seg("PKG", S, 25), seg("TD1", S, 20),
        seg("TD5", S, 12), seg("TD3", S, 12), seg("TD4", S, 5), seg("REF", S, MAXINT), seg("PER", S, 3),
        seg("MAN", S, MAXINT), seg("DTM", S, 10), seg("FOB", S),
        loop("N1", S, 200, seg("N1", S), seg("N2", S, 2), seg("N3", S, 2), seg("N4", S), seg("REF", S, 12),
             seg("PER", S, 3), seg("FOB", S)),
        seg("SDQ", S, 50), seg("CUR", S),
    )
    SETS["856"] = SetSpec("856", "SH", "Ship Notice/Manifest - 856 ({version}, what the hub sends)",
                          (("HEADER", R, [seg("BSN", R), seg("DTM", S, 10)], 20), ("DETAIL", R, [hl], 30),
                           ("FOOTER", S, [seg("CTT", S)], 40)))


add_856()


def inventory_846() -> SetSpec:
    """The 846 Inventory Inquiry/Advice we send (BIA, LIN with QTY per item, CTT): its segments registered here.

    The standard's 846 header and LIN detail, cut to what the hub writes or a partner's guide commonly
    adds (PID, DTM, REF per item; N1 parties); QTY01 ``33`` is the quantity available for sale.
    """
    CODES_BY_XID["BIA01"] = ["00", "05"]  # original, replace
    CODES_BY_XID["BIA02"] = ["DD", "MB", "MM", "SI"]  # report types partners' 846 guides ask for
    SEGMENTS["BIA"] = ("Beginning Segment for Inventory Inquiry/Advice",
                       [("353", R), ("755", R), ("127", R), ("373", R), ("337", S)], [])
    n1 = loop("N1", S, 200, seg("N1", S), seg("N2", S, 2), seg("N3", S, 2), seg("N4", S), seg("REF", S, 12),
              seg("PER", S, 3))
    header: list[NodeSpec] = [seg("BIA", R), seg("CUR", S), seg("REF", S, 12), seg("PER", S, 3), seg("MEA", S, 10),
                              seg("DTM", S, 10), n1]
    detail: list[NodeSpec] = [loop(
        "LIN", S, 10000, seg("LIN", R), seg("PID", S, 1000), seg("DTM", S, 10), seg("REF", S, MAXINT),
        loop("QTY", S, MAXINT, seg("QTY", R), seg("DTM", S, 10)),
    )]
    summary: list[NodeSpec] = [seg("CTT", S)]
    return SetSpec("846", "IB", "Inventory Inquiry/Advice - 846 ({version}, what the hub sends)",
                   (("HEADER", R, header, 20), ("DETAIL", S, detail, 30), ("FOOTER", S, summary, 40)))


SETS["846"] = inventory_846()


# -- writing ---------------------------------------------------------------------------------------
class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, depth: int, text: str) -> None:
        self.lines.append("  " * depth + text)

    def element(self, depth: int, xid: str, data_ele: str, usage: str, seq: int) -> None:
        name = DATA_ELEMENTS.get(data_ele, ("", 0, 0, data_ele))[3]
        self.add(depth, f'<element xid="{xid}">')
        self.add(depth + 1, f"<data_ele>{data_ele}</data_ele>")
        self.add(depth + 1, f"<name>{escape(name)}</name>")
        self.add(depth + 1, f"<usage>{usage}</usage>")
        self.add(depth + 1, f"<seq>{seq:02d}</seq>")
        codes = CODES_BY_XID.get(xid) or CODES.get(data_ele)
        if codes:
            self.add(depth + 1, "<valid_codes>")
            for code in codes:
                self.add(depth + 2, f"<code>{code}</code>")
            self.add(depth + 1, "</valid_codes>")
        self.add(depth, "</element>")

    def segment(self, depth: int, sid: str, usage: str, max_use, pos: int, elements, syntax) -> None:
        name = SEGMENTS[sid][0] if sid in SEGMENTS else sid
        self.add(depth, f'<segment xid="{sid}">')
        self.add(depth + 1, f"<name>{escape(name)}</name>")
        self.add(depth + 1, f"<usage>{usage}</usage>")
        self.add(depth + 1, f"<pos>{pos:04d}</pos>")
        self.add(depth + 1, f"<max_use>{escape(str(max_use))}</max_use>")
        for note in syntax:
            self.add(depth + 1, f"<syntax>{note}</syntax>")
        for seq, (ele, ele_usage) in enumerate(elements, start=1):
            xid = f"{sid}{seq:02d}"
            if ele in COMPOSITES:
                cname, parts = COMPOSITES[ele]
                self.add(depth + 1, f'<composite xid="{xid}">')
                self.add(depth + 2, f"<data_ele>{ele}</data_ele>")
                self.add(depth + 2, f"<name>{escape(cname)}</name>")
                self.add(depth + 2, f"<usage>{ele_usage}</usage>")
                self.add(depth + 2, f"<seq>{seq:02d}</seq>")
                for sub, (sub_ele, sub_usage) in enumerate(parts, start=1):
                    self.element(depth + 2, f"{xid}-{sub:02d}", sub_ele, sub_usage, sub)
                self.add(depth + 1, "</composite>")
            else:
                self.element(depth + 1, xid, ele, ele_usage, seq)
        self.add(depth, "</segment>")


def _write_nodes(w: _Writer, depth: int, nodes: list[NodeSpec], counter: list[int]) -> None:
    for node in nodes:
        counter[0] += 10
        if node[0] == "segment":
            _, sid, usage, max_use = node
            _, elements, syntax = SEGMENTS[sid]
            w.segment(depth, sid, usage, max_use, counter[0], elements, syntax)
        else:
            _, lid, usage, repeat, children = node
            w.add(depth, f'<loop xid="{lid}_LOOP" type="explicit">')
            w.add(depth + 1, f"<name>Loop {lid}</name>")
            w.add(depth + 1, f"<usage>{usage}</usage>")
            w.add(depth + 1, f"<pos>{counter[0]:04d}</pos>")
            w.add(depth + 1, f"<repeat>{escape(str(repeat))}</repeat>")
            counter[0] -= 10  # the loop's first segment shares the loop's position, as in the standard
            _write_nodes(w, depth + 1, children, counter)
            w.add(depth, "</loop>")


def _envelope_segment(w: _Writer, depth: int, sid: str, pos: int, elements, codes=None) -> None:
    w.add(depth, f'<segment xid="{sid}">')
    w.add(depth + 1, f"<name>{sid}</name>")
    w.add(depth + 1, "<usage>R</usage>")
    w.add(depth + 1, f"<pos>{pos:04d}</pos>")
    w.add(depth + 1, "<max_use>1</max_use>")
    for seq, ele in enumerate(elements, start=1):
        w.add(depth + 1, f'<element xid="{sid}{seq:02d}">')
        w.add(depth + 2, f"<data_ele>{ele}</data_ele>")
        w.add(depth + 2, f"<name>{sid}{seq:02d}</name>")
        w.add(depth + 2, "<usage>R</usage>")
        w.add(depth + 2, f"<seq>{seq:02d}</seq>")
        if codes and seq in codes:
            w.add(depth + 2, "<valid_codes>")
            for code in codes[seq]:
                w.add(depth + 3, f"<code>{code}</code>")
            w.add(depth + 2, "</valid_codes>")
        w.add(depth + 1, "</element>")
    w.add(depth, "</segment>")


def build_map(version: str, set_id: str = "850") -> str:
    """The map XML of ``set_id`` ('850' or '855') for ``version`` ('004010' or '005010')."""
    spec = SETS[set_id]
    five = version.startswith("005")
    w = _Writer()
    w.add(0, '<?xml version="1.0" encoding="utf-8"?>')
    w.add(0, "<!-- Generated by mappings/x12/maps/build_maps.py: edit the tables there, not this file. -->")
    w.add(0, f'<transaction xid="{set_id}">')
    w.add(1, f"<name>{spec.title.format(version=version)}</name>")
    w.add(1, '<loop xid="ISA_LOOP" type="explicit">')
    w.add(2, "<name>Interchange Control Header</name><usage>R</usage><pos>0010</pos><repeat>&gt;1</repeat>")
    isa = ["I01", "I02", "I03", "I04", "I05", "I06", "I05", "I07", "I08", "I09",
           "I65" if five else "I10", "I11", "I12", "I13", "I14", "I15"]
    _envelope_segment(w, 2, "ISA", 10, isa, {1: ["00", "03"], 3: ["00", "01"], 14: ["0", "1"], 15: ["P", "T"]})
    w.add(2, '<loop xid="GS_LOOP" type="explicit">')
    w.add(3, "<name>Functional Group Header</name><usage>R</usage><pos>0020</pos><repeat>&gt;1</repeat>")
    _envelope_segment(w, 3, "GS", 20, ["479", "142", "124", "29", "30", "28", "455", "480"], {1: [spec.functional_id]})
    w.add(3, '<loop xid="ST_LOOP" type="explicit">')
    w.add(4, "<name>Transaction Set Header</name><usage>R</usage><pos>0030</pos><repeat>&gt;1</repeat>")
    w.segment(4, "ST", R, 1, 10, [("143", R), ("329", R)] + ([("1705", S)] if five else []), [])
    # ST01 is fixed to the set by the map index; its code list would make pyx12 match ST by value.
    for lid, usage, nodes, pos in spec.tables:
        w.add(4, f'<loop xid="{lid}" type="wrapper">')
        w.add(5, f"<name>Table {lid.title()}</name><usage>{usage}</usage><pos>{pos:04d}</pos><repeat>1</repeat>")
        _write_nodes(w, 5, nodes, [0])
        w.add(4, "</loop>")
    w.segment(4, "SE", R, 1, 50, [("96", R), ("329", R)], [])
    w.add(3, "</loop>")
    _envelope_segment(w, 3, "GE", 40, ["97", "28"])
    w.add(2, "</loop>")
    _envelope_segment(w, 2, "IEA", 30, ["I16", "I12"])
    w.add(1, "</loop>")
    w.add(0, "</transaction>")
    text = "\n".join(w.lines) + "\n"
    # Wrapper loops and their children: pyx12 reads the <name>/<usage>/... children, not one line.
    return text.replace("</name><usage>", "</name>\n<usage>").replace("</usage><pos>", "</usage>\n<pos>").replace(
        "</pos><repeat>", "</pos>\n<repeat>"
    )


def _dataele_xml(version: str) -> str:
    import xml.etree.ElementTree as ET

    table: dict[str, tuple[str, int, int, str]] = {}
    for el in ET.parse(PYX12_MAPS / "dataele.xml").getroot():
        attr = el.attrib  # every entry of pyx12's dictionary has all five: a KeyError means pyx12 changed
        table[attr["ele_num"]] = (attr["data_type"], int(attr["min_len"]), int(attr["max_len"]), attr["name"])
    table.update(DATA_ELEMENTS)
    if version.startswith("005"):
        table.update(DATA_ELEMENTS_5010)
    table.setdefault("I65", ("AN", 1, 1, "Repetition Separator"))
    lines = ['<?xml version="1.0" encoding="utf-8"?>', "<!-- pyx12's dictionary plus the 850 and 855 elements. -->",
             "<data_elements>"]
    for num in sorted(table):
        kind, lo, hi, name = table[num]
        quoted = escape(name, {chr(34): "&quot;"})
        lines.append(f'  <data_ele ele_num="{num}" data_type="{kind}" min_len="{lo}" max_len="{hi}" name="{quoted}"/>')
    lines.append("</data_elements>")
    return "\n".join(lines) + "\n"


def _maps_index(version: str) -> str:
    icvn = "00501" if version.startswith("005") else "00401"
    five = version[:6]
    rows = [f'    <map vriic="{five}{suffix}" fic="{spec.functional_id}" abbr="{set_id}">{set_id}.{five[2:]}.xml</map>'
            for set_id, spec in SETS.items() for suffix in ("", "VICS", "UCS")]
    return "\n".join([
        '<?xml version="1.0" encoding="UTF-8"?>',
        "<!-- Which map reads a functional group: ISA12 (icvn), GS08 (vriic), GS01 (fic). -->",
        "<maps>",
        f'  <version icvn="{icvn}">',
        *rows,
        f'    <map vriic="" fic="" abbr="X12">x12.control.{icvn}.xml</map>',
        "  </version>",
        "</maps>",
        "",
    ])


def main() -> None:
    """Write every map directory."""
    for version in ("004010", "005010"):
        folder = HERE / version
        folder.mkdir(exist_ok=True)
        for set_id in SETS:
            (folder / f"{set_id}.{version[2:]}.xml").write_text(build_map(version, set_id), encoding="utf-8")
        (folder / "dataele.xml").write_text(_dataele_xml(version), encoding="utf-8")
        (folder / "maps.xml").write_text(_maps_index(version), encoding="utf-8")
        (folder / "codes.xml").write_text('<?xml version="1.0" encoding="UTF-8"?>\n<codesets>\n</codesets>\n',
                                          encoding="utf-8")
        icvn = "00501" if version.startswith("005") else "00401"
        shutil.copyfile(PYX12_MAPS / f"x12.control.{icvn}.xml", folder / f"x12.control.{icvn}.xml")
        print(f"wrote {folder}")


if __name__ == "__main__":
    main()
