"""One email to one canonical order: lines from CSV attachments, else from the body; every field located.

Where each value came from is kept for the reviewer: a line's ``references["from"]`` reads
``attachment order.csv row 3`` or ``body line 4``; the order's ``references`` say where the PO
number and the ship-to were read and carry the Message-ID and the sender's address (``sender``). A
sender the customer's profile does not list is marked ``sender_unknown`` (the validation rule
``unknown_sender`` then holds the order for a person): the order is read, never refused for it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import ValidationError

from canonical.errors import RejectedDocument
from canonical.model import Order, OrderLine, Party, PartyRole, Source
from canonical.outcomes import MappedOrderState, ReceiptOutcome
from mappings._channel import Findings, MappedOrder, validation_problems
from mappings.email._body import body_lines, own_text, po_number, ship_to
from mappings.email._csv import SheetLine, read_csv, read_rows
from mappings.email._html import read_html
from mappings.email._ignore import ignore_reason
from mappings.email._mime import Attachment, ParsedEmail, parse_email
from mappings.email._settings import EmailChannelSettings
from mappings.profiles import PartnerProfile

_CSV_TYPES = frozenset({"text/csv", "text/comma-separated-values", "application/csv", "text/plain",
                        "application/vnd.ms-excel", "application/octet-stream"})
_NO_DATE = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
FILE_OUTCOMES = (ReceiptOutcome.ACCEPTED, ReceiptOutcome.ACCEPTED_WITH_WARNINGS, ReceiptOutcome.PARTIALLY_ACCEPTED,
                 ReceiptOutcome.REJECTED, ReceiptOutcome.DUPLICATE, ReceiptOutcome.IGNORED)
"""What becomes of one message (``hub map --source email`` prints these; the intake records them)."""


@dataclass
class _Line:
    sku: str
    quantity: Decimal
    unit_price: Decimal | None
    description: str | None
    uom: str
    where: str
    po_number: str | None = None


@dataclass
class EmailOrder:
    """What one email gave: ignored (and why), or its mapped order; notes for the reviewer."""

    parsed: ParsedEmail
    ignored: str | None = None
    mapped: MappedOrder | None = None
    notes: list[str] = field(default_factory=list)


def read_email(raw: bytes, profile: PartnerProfile, sha256: str | None = None) -> EmailOrder:
    """Map one raw email for ``profile``; raises ``RejectedDocument`` when it holds no order at all."""
    try:
        parsed = parse_email(raw)
    except Exception as exc:  # the stdlib's MIME parser on bytes nobody foresaw
        raise RejectedDocument(f"the message cannot be read as MIME ({type(exc).__name__})", location="$") from exc
    reason = ignore_reason(parsed)
    if reason:
        return EmailOrder(parsed, ignored=reason)
    findings = Findings()
    lines, where_read = _lines(parsed, findings)
    if not lines:
        errors = "; ".join(str(p) for p in findings.problems if p.severity == "error")
        raise RejectedDocument("no order lines found: no CSV attachment with item number and quantity columns, "
                               "and no body line like '10 x SKU @ 8.99'" + (f" ({errors})" if errors else ""),
                               location=where_read or "body")
    return EmailOrder(parsed, mapped=_order(parsed, lines, findings, profile, sha256))


def _lines(parsed: ParsedEmail, findings: Findings) -> tuple[list[_Line], str | None]:
    """Lines of the first source that has any: attachments, the body, then forwarded messages in turn."""
    for message, prefix in _messages(parsed):
        lines: list[_Line] = []
        for attachment in message.attachments:
            lines += _attachment_lines(attachment, findings, prefix)
        if lines:
            return lines, f"{prefix}attachments"
        lines = _html_table_lines(message, findings, prefix)
        if lines:
            return lines, f"{prefix}HTML tables"
        text = own_text(message.text)
        for found in body_lines(text):
            lines.append(_Line(found.sku, found.quantity, found.unit_price, found.description, found.uom,
                               f"{prefix}body line {found.line_no}"))
        if lines:
            return lines, f"{prefix}body"
    return [], None


def _messages(parsed: ParsedEmail, prefix: str = "") -> list[tuple[ParsedEmail, str]]:
    out = [(parsed, prefix)]
    for n, inner in enumerate(parsed.forwarded, start=1):
        out += _messages(inner, f"{prefix}forwarded message {n} ")
    return out


def _html_table_lines(message: ParsedEmail, findings: Findings, prefix: str) -> list[_Line]:
    """Lines of the order tables in the HTML body's own part (not in quoted history)."""
    if not message.html:
        return []
    body = read_html(message.html)
    own = len(own_text(body.text))
    lines: list[_Line] = []
    for n, table in enumerate(body.tables, start=1):
        if table.quoted or table.first_line >= own:
            continue
        sheet = read_rows(table.rows)
        if not sheet.columns:
            continue  # a layout table, a signature...
        where = f"{prefix}HTML table {n}"
        for row, problem in sheet.problems:
            findings.error(f"{where} row {row}", problem)
        lines += [_from_sheet(line, where) for line in sheet.lines]
    return lines


def _attachment_lines(attachment: Attachment, findings: Findings, prefix: str) -> list[_Line]:
    name = attachment.filename
    where = f"{prefix}attachment {name}"
    lowered = name.lower()
    if lowered.endswith((".xlsx", ".xls", ".xlsm", ".ods")):
        from mappings.email._xlsx import read_workbook

        sheet = read_workbook(attachment.data)
    elif lowered.endswith((".csv", ".txt", ".tsv")) or attachment.content_type in _CSV_TYPES - {"text/plain"}:
        sheet = read_csv(attachment.data, attachment.charset)
    else:
        findings.note(where, f"not read ({attachment.content_type})")
        return []
    if sheet.problems and not sheet.lines and not sheet.columns:
        findings.note(where, sheet.problems[0][1])  # not an order table: a price list, a logo...
        return []
    for row, problem in sheet.problems:
        findings.error(f"{where} row {row}", problem)
    return [_from_sheet(line, where) for line in sheet.lines]


def _from_sheet(line: SheetLine, where: str) -> _Line:
    return _Line(line.sku, line.quantity, line.unit_price, line.description, (line.uom or "EA").upper()[:80],
                 f"{where} row {line.row}", line.po_number)


def _order(parsed: ParsedEmail, lines: list[_Line], findings: Findings, profile: PartnerProfile,
           sha256: str | None) -> MappedOrder:
    text = own_text(parsed.text)
    found_po = po_number(parsed.subject, text)
    references = {"message_id": (parsed.message_id or "")[:200], "sender": parsed.from_address[:200]}
    settings = profile.channel("email_imap")
    if isinstance(settings, EmailChannelSettings) and not settings.sends(parsed.from_address):
        references["sender_unknown"] = f"not among {profile.id}'s sender_addresses or sender_domains"
    from_column = next((line for line in lines if line.po_number), None)
    if found_po:
        po, references["po_number_from"] = found_po
    elif from_column is not None and from_column.po_number:
        po, references["po_number_from"] = from_column.po_number, from_column.where
    else:
        # No PO number written: the Message-ID stands in (the same email is the same order).
        po = "EMAIL-" + hashlib.sha256((parsed.message_id or parsed.subject).encode()).hexdigest()[:12].upper()
        findings.warning("subject", "no PO number found; the order's reference is made from the Message-ID")
        references["po_number_from"] = "Message-ID"
    updated_at = parsed.date or _NO_DATE
    if parsed.date is None:
        findings.warning("Date", "the message has no readable Date header")
    parties = [Party(role=PartyRole.BUYER, name=profile.name)]
    address = ship_to(text)
    if address:
        references["ship_to_from"] = f"body lines {address.first_line}-{address.last_line}"
        middle = address.lines[1:-1] if address.city else address.lines[1:]
        parties.append(Party(role=PartyRole.SHIP_TO, name=address.name, address_lines=middle, city=address.city,
                             region=address.region, postal_code=address.postal_code, country="US" if address.region
                             else None))
    if findings.has_errors:
        problems = [str(p) for p in findings.problems if p.severity == "error"]
        return MappedOrder(po, updated_at, None, MappedOrderState.REJECTED, problems, False, "could not be read",
                           findings=findings.problems)
    try:
        order_lines = [
            OrderLine(line_no=str(n), sku=line.sku, quantity=line.quantity, uom=line.uom,
                      unit_price=line.unit_price, description=line.description,
                      amount=(line.quantity * line.unit_price).quantize(Decimal("0.01"))
                      if line.unit_price is not None else None,
                      references={"from": line.where})
            for n, line in enumerate(lines, start=1)]
        order = Order(source=Source.EMAIL, source_ref=po, partner_id=profile.id, order_date=updated_at.date(),
                      currency=profile.currency, parties=parties, lines=order_lines,
                      total=sum((line.amount or Decimal(0) for line in order_lines), Decimal(0)),
                      raw_document_id=sha256, document_ref=(parsed.message_id or "message")[:80],
                      references=references, warnings=[str(p) for p in findings.warnings])
    except ValidationError as exc:
        validation_problems(exc, findings, "order")
        return MappedOrder(po, updated_at, None, MappedOrderState.REJECTED,
                           [str(p) for p in findings.problems if p.severity == "error"], False, "could not be mapped",
                           findings=findings.problems)
    if breaches := profile.limits.breaches(order):  # implausible amounts (HUB_MAX_*, the profile's amount_limits)
        for breach in breaches:
            findings.error(order_lines[int(breach.line_no) - 1].references["from"] if breach.line_no else "order",
                           breach.message)
        return MappedOrder(po, updated_at, None, MappedOrderState.REJECTED,
                           [str(p) for p in findings.problems if p.severity == "error"], False,
                           "over the amount limits", findings=findings.problems)
    return MappedOrder(po, updated_at, order, MappedOrderState.OK, [str(p) for p in findings.problems],
                       findings=findings.problems)
