"""Reading what customers email: MIME and charsets, attachments, body lines, HTML tables, forwards, ``hub map``."""

from __future__ import annotations

import json
from decimal import Decimal
from email.message import EmailMessage
from pathlib import Path

import pytest

from canonical.errors import RejectedDocument
from hub.cli import main
from mappings.email import match_sender, own_text, parse_email, parse_line, po_number, read_csv, read_email
from mappings.profiles import PartnerDirectory
from tests.email_messages import message
from tests.xlsx_writer import xlsx

PROFILE = """\
id: acme_mail
name: Acme Retail
channels:
  - kind: email_imap
    host: imap.example.test
    username: orders@example.test
    password_env: HUB_ACME_IMAP_PASSWORD
    sender_addresses: [buyer@acme-retail.test]
    sender_domains: [acme-retail.test, acme.example]
"""
OTHER = """\
id: bolt_mail
name: Bolt Supply
channels:
  - kind: email_imap
    host: imap.example.test
    username: orders@example.test
    password_env: HUB_BOLT_IMAP_PASSWORD
    sender_domains: [bolt.test]
"""


@pytest.fixture(scope="module")
def partners(tmp_path_factory) -> PartnerDirectory:
    folder = tmp_path_factory.mktemp("partners")
    (folder / "acme_mail.yaml").write_text(PROFILE)
    (folder / "bolt_mail.yaml").write_text(OTHER)
    directory = PartnerDirectory.load(folder)
    assert not directory.problems
    return directory


def lines_of(raw: bytes, partners: PartnerDirectory):
    result = read_email(raw, partners.get("acme_mail"))
    assert result.mapped is not None and result.mapped.order is not None, result.mapped
    return [(line.sku, line.quantity, line.unit_price, line.references["from"]) for line in result.mapped.order.lines]


@pytest.mark.parametrize("line, expected", [
    ("10 x WID-100 @ 8.99", ("WID-100", "10", "8.99")),
    ("qty 6 WID-200 @ 7.25", ("WID-200", "6", "7.25")),
    ("WID-300 x 4 $7.25 ea", ("WID-300", "4", "7.25")),
    ("12 WID-9 $7.25 ea", ("WID-9", "12", "7.25")),
    ("5 pcs WID-400 - Blue widget @ $12.00 each", ("WID-400", "5", "12.00")),
    ("- 3 x ABC123", ("ABC123", "3", None)),
    ("2 cases GAD-7 at 10,50 EUR", ("GAD-7", "2", "10.50")),
])
def test_body_line_forms(line, expected):
    parsed = parse_line(line)
    assert parsed is not None
    sku, quantity, price, *_ = parsed
    assert (sku, str(quantity), None if price is None else str(price)) == expected


@pytest.mark.parametrize("line", ["Please ship 2 of these", "Thanks, see PO 4500012345", "Call me at 555 1234",
                                  "We need them by 12/15", "Springfield, IL 62701"])
def test_prose_is_not_an_order_line(line):
    assert parse_line(line) is None


def test_quoted_replies_and_outlook_blocks_are_cut():
    text = "3 x A-1\n> 5 x B-2\n\nFrom: Sales\nSent: Monday\nTo: buyer\n\n4 x D-4\n"
    assert [line for line in own_text(text) if line.strip()] == ["3 x A-1"]
    split = "2 x A-1\nOn Mon, Dec 1, 2026 at 9:00 AM Sales Desk\n<sales@example.test> wrote:\n7 x C-3\n"
    assert [line for line in own_text(split) if line.strip()] == ["2 x A-1"]
    german = "1 x A-1\nAm 01.12.2026 um 09:00 schrieb Vertrieb <v@example.test>:\n9 x Z-9\n"
    assert [line for line in own_text(german) if line.strip()] == ["1 x A-1"]


def test_rfc2047_subject_quoted_printable_body(partners):
    raw = message("Grüße,\n2 x WID-100 @ 8.99\n", subject="Bestellung Nr. PO 6100 \u2013 Größe L",
                  cte="quoted-printable")
    assert b"=?utf-8?" in raw and b"=C3=BC" in raw  # encoded on the wire
    parsed = parse_email(raw)
    assert parsed.subject == "Bestellung Nr. PO 6100 \u2013 Größe L"
    assert parsed.text.startswith("Grüße")
    result = read_email(raw, partners.get("acme_mail"))
    assert result.mapped and result.mapped.channel_order_id == "6100"


def test_base64_body_and_8bit_latin1_without_a_declared_charset(partners):
    assert lines_of(message("1 x WID-100 @ 2.50\n", cte="base64"), partners) == [
        ("WID-100", Decimal(1), Decimal("2.50"), "body line 1")]
    raw = (b"From: buyer@acme-retail.test\r\nSubject: PO 7\r\nMessage-ID: <l1@acme-retail.test>\r\n"
           b"Content-Type: text/plain\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
           b"Gr\xfc\xdfe aus M\xfcnchen\r\n3 x WID-7 @ 4,50 \x80\r\n")
    parsed = parse_email(raw)
    assert "Grüße aus München" in parsed.text and "4,50 €" in parsed.text
    assert lines_of(raw, partners) == [("WID-7", Decimal(3), Decimal("4.50"), "body line 2")]


def test_csv_synonyms_quotes_and_charsets():
    french = 'Référence,Désignation,Qté,Prix unitaire\n"REF-1","Vis, acier",4,"2,50"\n'.encode("iso-8859-1")
    sheet = read_csv(french, None)
    assert [(line.sku, line.quantity, line.unit_price, line.description) for line in sheet.lines] == [
        ("REF-1", Decimal(4), Decimal("2.50"), "Vis, acier")]
    assert sheet.decimal_comma and sheet.delimiter == ","
    spanish = "Código\tCantidad\tPrecio\nES-1\t1.000\t1.234,56\n".encode()
    sheet = read_csv(spanish, "utf-8")
    assert [(line.sku, line.quantity, line.unit_price) for line in sheet.lines] == [
        ("ES-1", Decimal(1000), Decimal("1234.56"))]
    declared_wrong = "SKU;Qty;Price\nWID-1;2;3,10\n".encode("windows-1252")
    assert read_csv(declared_wrong, "utf-8").lines[0].unit_price == Decimal("3.10")


def test_a_bad_csv_row_rejects_the_order_with_its_row(partners):
    csv = b"SKU,Qty,Price\nWID-1,2,3.00\nWID-2,two,3.00\n"
    result = read_email(message("See attached", attachments=(("po.csv", csv, "text/csv"),)),
                        partners.get("acme_mail"))
    assert result.mapped is not None and result.mapped.order is None
    assert result.mapped.problems == ["attachment po.csv row 3: quantity 'two' is not a number above 0"]


def test_xlsx_attachment(partners):
    book = xlsx([["Item No", "Description", "Qty", "Unit Price"], ["WID-1", "Widget", 3, 8.99],
                 ["WID-2", "Bolt", 10, 0.1]])
    raw = message("Order attached", attachments=(
        ("order.xlsx", book, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),))
    assert lines_of(raw, partners) == [("WID-1", Decimal(3), Decimal("8.99"), "attachment order.xlsx row 2"),
                                       ("WID-2", Decimal(10), Decimal("0.1"), "attachment order.xlsx row 3")]


def test_html_only_table_with_entities_dollars_and_thousands(partners):
    msg = EmailMessage()
    msg["From"], msg["Subject"], msg["Message-ID"] = "buyer@acme-retail.test", "PO 8800", "<h@acme-retail.test>"
    msg.set_content("<html><body><p>Hi &amp; thanks,</p><table><tr><th>Item&nbsp;No</th><th>Qty</th>"
                    "<th>Price</th></tr><tr><td>WID-1</td><td>1,200</td><td>$1,234.50</td></tr>"
                    "<tr><td>WID-2</td><td>3</td><td>$0.75</td></tr></table>"
                    "<div>On Mon wrote:</div><blockquote><table><tr><td>SKU</td><td>Qty</td></tr>"
                    "<tr><td>OLD-1</td><td>9</td></tr></table></blockquote></body></html>", subtype="html")
    assert lines_of(msg.as_bytes(), partners) == [
        ("WID-1", Decimal(1200), Decimal("1234.50"), "HTML table 1 row 2"),
        ("WID-2", Decimal(3), Decimal("0.75"), "HTML table 1 row 3")]


@pytest.mark.parametrize("encoded", [False, True], ids=["7bit", "base64 (sent though RFC 2046 forbids it)"])
def test_a_forwarded_message_is_read_when_the_forward_itself_holds_no_order(partners, encoded):
    inner = message("Please supply\n7 x WID-77 @ 1.10\n", subject="PO 9900", message_id="<inner@acme-retail.test>")
    outer = EmailMessage()
    outer["From"], outer["Subject"], outer["Message-ID"] = "buyer@acme-retail.test", "Fwd: PO 9900", "<fw@acme.test>"
    outer.set_content("FYI, see below.\n")
    if encoded:
        outer.add_attachment(inner, maintype="message", subtype="rfc822")
    else:
        from email import message_from_bytes, policy

        outer.add_attachment(message_from_bytes(inner, policy=policy.default))
    result = read_email(outer.as_bytes(), partners.get("acme_mail"))
    assert result.mapped and result.mapped.order
    assert [(line.sku, line.references["from"]) for line in result.mapped.order.lines] == [
        ("WID-77", "forwarded message 1 body line 2")]


def test_no_order_at_all_is_rejected_with_a_reason(partners):
    with pytest.raises(RejectedDocument, match="no order lines found"):
        read_email(message("Can we talk about prices?"), partners.get("acme_mail"))


def test_sender_matched_by_address_then_domain(partners):
    addresses = ("Buyer@Acme-Retail.test", "ap@acme.example", "x@bolt.test")
    found = [match_sender(address, partners) for address in addresses]
    assert [profile.id if profile else None for profile in found] == ["acme_mail", "acme_mail", "bolt_mail"]
    assert match_sender("x@elsewhere.test", partners) is None


def test_hub_map_source_email_prints_one_object_per_file_resends_duplicate(tmp_path, partners, capsys, monkeypatch):
    directory = tmp_path / "partners"
    directory.mkdir()
    (directory / "acme_mail.yaml").write_text(PROFILE)
    (directory / "bolt_mail.yaml").write_text(OTHER)
    monkeypatch.setenv("HUB_PARTNERS_DIR", str(directory))
    files = {
        "1.eml": message("10 x WID-100 @ 8.99\n"),
        "2.eml": message("10 x WID-100 @ 8.99\n", headers={"Received": "by relay"}),  # resend, same Message-ID
        "3.eml": message("Away until Monday", headers={"Auto-Submitted": "auto-replied"}, message_id="<a@x>"),
        "4.eml": message("5 x B-1 @ 1.00", sender="x@elsewhere.test", message_id="<s@elsewhere.test>"),
    }
    paths = []
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
        paths.append(str(tmp_path / name))
    code = main(["map", "--source", "email", *paths])
    printed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    assert [(Path(p["file"]).name, p["outcome"]) for p in printed] == [
        ("1.eml", "accepted"), ("2.eml", "duplicate"), ("3.eml", "ignored"), ("4.eml", "rejected")]
    order = printed[0]["documents"][0]["order"]
    assert order["source"] == "email" and order["source_ref"] == "4500012345" and order["partner_id"] == "acme_mail"
    assert order["lines"][0]["references"] == {"from": "body line 1"}
    assert code in (0, 1)


def test_mangled_messages_are_read_or_rejected_never_a_crash(partners):
    """Truncated and byte-flipped variants of real-looking mail: an order, or RejectedDocument; nothing else."""
    import random

    csv = "SKU;Menge;Preis\r\nWID-1;2;3,50\r\n".encode("cp1252")
    samples = [message("10 x WID-100 @ 8.99\nShip to:\nA\nB, CA 90210\n", cte="quoted-printable",
                       attachments=(("po.csv", csv, "text/csv; charset=windows-1252"),)),
               message("<b>x</b>", cte="base64")]
    generator = random.Random(1)
    profile = partners.get("acme_mail")
    for sample in samples:
        for _ in range(1500):
            data = bytearray(sample)
            for _ in range(generator.randint(1, 8)):
                data[generator.randrange(len(data))] = generator.randrange(256)
            data = data[: generator.randint(0, len(data))]
            try:
                read_email(bytes(data), profile)
            except RejectedDocument:
                pass


def test_the_po_number_from_a_csv_column_when_subject_and_body_have_none(partners):
    csv = b"Bestellnummer;Artikel;Menge\r\nB-7781;WID-1;2\r\n"
    result = read_email(message("Anbei", subject="Bestellung", attachments=(("b.csv", csv, "text/csv"),)),
                        partners.get("acme_mail"))
    assert result.mapped and result.mapped.order
    assert result.mapped.order.source_ref == "B-7781"
    assert result.mapped.order.references["po_number_from"] == "attachment b.csv row 2"


@pytest.mark.parametrize("subject, expected", [
    ("Re: PO 900", "900"), ("Purchase order 4500012345", "4500012345"), ("Order no. A-778", "A-778"),
    ("P.O. #: 55-1", "55-1"), ("Bestellnummer 4711", "4711"), ("Please order 12 units", None), ("PO Box 12", None),
])
def test_po_numbers_need_a_marker_and_a_digit(subject, expected):
    found = po_number(subject, [])
    assert (found[0] if found else None) == expected


def test_hub_map_with_partner_reads_a_strangers_order_as_needing_review(tmp_path, capsys, monkeypatch):
    directory = tmp_path / "partners"
    directory.mkdir()
    (directory / "acme_mail.yaml").write_text(PROFILE)
    monkeypatch.setenv("HUB_PARTNERS_DIR", str(directory))
    path = tmp_path / "stranger.eml"
    path.write_bytes(message("5 x WID-100 @ 1.00", sender="Pat <pat@elsewhere.test>", message_id="<s@elsewhere.test>"))
    main(["map", "--source", "email", "--partner", "acme_mail", str(path)])
    (printed,) = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.strip()]
    (document,) = printed["documents"]
    assert (printed["outcome"], document["outcome"]) == ("accepted", "needs_review"), "a draft, not a rejection"
    assert document["order"]["references"]["sender"] == "pat@elsewhere.test"
