"""``hub match``: three-way match of exported orders, shipments and invoices (CSV), offline.

The command only parses options and writes the report; the matching is ``hub.matching``. polars is
imported when the command runs, so ``hub --help`` and the other commands do not pay for it.
"""

from __future__ import annotations

import json
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

_FORMATS = ("json", "csv", "html", "xlsx")
_FILE = click.Path(exists=True, dir_okay=False, readable=True, path_type=Path)

EPILOG = """\b
Examples:
  hub match --orders po.csv --shipments asn.csv --invoices inv.csv
  hub match --orders po.csv --shipments asn.csv --invoices inv.csv \\
            --price-tolerance 2% --price-tolerance-abs 0.50 --format html --output match.html
  hub match ... --tolerances tolerances.yaml --format xlsx --output match.xlsx

\b
Columns (a header row; more columns are ignored):
  orders     po_number,line_no,sku,qty,unit_price,uom,pack_size[,customer]
  shipments  po_number,line_no,sku,qty_shipped,ship_date,asn_number,uom
  invoices   invoice_number,invoice_date,po_number,line_no,sku,qty_invoiced,unit_price,uom
uom: EA (each) or CS (a case of the PO line's pack_size eaches); dates YYYY-MM-DD.

\b
A difference is within tolerance when it is inside every limit set (equal is
inside); no limit set means exact. --tolerances FILE (YAML or JSON):
  global:    {price_pct: 2, price_abs: 0.50, qty_pct: 0, qty_abs: 0}
  customers: {ACME: {price_pct: 1}}
  skus:      {SKU-1: {qty_pct: 5}}
the most specific wins, limit by limit (SKU, then customer, then global); the
options above replace the global limits.

\b
Exit 0: no exceptions. Exit 1: exceptions found (the report is written), or
an export cannot be used (missing columns, bad numbers: stderr says where,
no report). Exit 2: usage (unknown option, bad tolerance, xlsx without --output).
See docs/three-way-match.md."""


def _limit(ctx: click.Context, param: click.Parameter, value: str | None) -> Decimal | None:
    """A tolerance option checked now, so a bad one is a usage error (exit 2)."""
    if value is None:
        return None
    from hub.matching import Tolerance, ToleranceError

    name = {"price_tolerance": "price_pct", "price_tolerance_abs": "price_abs", "qty_tolerance": "qty_pct",
            "qty_tolerance_abs": "qty_abs"}[param.name or ""]
    try:
        return getattr(Tolerance.parse({name: value}), name)
    except ToleranceError as error:
        raise click.BadParameter(str(error).split(": ", 1)[-1]) from None


@click.command("match", epilog=EPILOG, context_settings={"help_option_names": ["-h", "--help"],
                                                         "max_content_width": 100})
@click.option("--orders", "orders_path", type=_FILE, required=True, help="the customers' PO lines (CSV)")
@click.option("--shipments", "shipments_path", type=_FILE, required=True, help="shipment / ASN lines (CSV)")
@click.option("--invoices", "invoices_path", type=_FILE, required=True, help="invoice lines (CSV)")
@click.option("--price-tolerance", callback=_limit, metavar="PCT", help="unit price, percent of the PO price (2%)")
@click.option("--price-tolerance-abs", callback=_limit, metavar="AMOUNT",
              help="unit price, money per PO unit (0.50)")
@click.option("--qty-tolerance", callback=_limit, metavar="PCT", help="quantity, percent (5%)")
@click.option("--qty-tolerance-abs", callback=_limit, metavar="QTY", help="quantity, in eaches (2)")
@click.option("--tolerances", "tolerances_path", type=_FILE, help="global / per customer / per SKU limits (YAML)")
@click.option("--format", "output_format", type=click.Choice(_FORMATS), default="json", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="write the report here (default: standard output; xlsx needs a file)")
def match_command(orders_path: Path, shipments_path: Path, invoices_path: Path, price_tolerance: Decimal | None,
                  price_tolerance_abs: Decimal | None, qty_tolerance: Decimal | None,
                  qty_tolerance_abs: Decimal | None, tolerances_path: Path | None, output_format: str,
                  output: Path | None) -> int:
    """Three-way match: customers' POs vs shipments vs invoices, with tolerances; a report finance opens."""
    if output_format == "xlsx" and output is None:
        raise click.UsageError("--format xlsx writes a workbook: name it with --output FILE")
    from hub import matching
    from hub.settings import get_settings

    tolerances = _tolerances(tolerances_path).with_default(
        price_pct=price_tolerance, price_abs=price_tolerance_abs, qty_pct=qty_tolerance, qty_abs=qty_tolerance_abs)
    limit = get_settings().max_document_bytes
    try:
        frames = []
        for path, name, prepare in ((orders_path, "orders", matching.prepare_orders),
                                    (shipments_path, "shipments", matching.prepare_shipments),
                                    (invoices_path, "invoices", matching.prepare_invoices)):
            if path.stat().st_size > limit:
                raise matching.MatchDataError([f"{name} {path}: {path.stat().st_size} bytes, over the "
                                               f"{limit}-byte limit (HUB_MAX_DOCUMENT_BYTES)"])
            frames.append(prepare(matching.read_export(path, f"{name} {path}"), f"{name} {path}"))
        orders, shipments, invoices = frames
        if tolerances.customers and orders["customer"].null_count() == orders.height:
            print("hub match: the tolerances name customers but the orders have no customer column: "
                  "only the global and SKU limits apply", file=sys.stderr)
        result = matching.match(orders, shipments, invoices, tolerances=tolerances)
    except matching.MatchDataError as error:
        print("hub match: the exports cannot be matched as they are:", file=sys.stderr)
        for problem in error.problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    _write(result, output_format, output)
    facts = matching.summary(result)
    print(f"{facts['po_lines']} PO lines: {facts['matched']} matched, {facts['exceptions']} exceptions "
          f"(value at stake {facts['value_at_stake']})", file=sys.stderr)
    return 1 if facts["exceptions"] else 0


def _tolerances(path: Path | None) -> Any:
    from hub.matching import ToleranceError, Tolerances

    if path is None:
        return Tolerances()
    import yaml

    try:
        return Tolerances.parse(yaml.safe_load(path.read_text(encoding="utf-8")))  # YAML reads JSON too
    except (yaml.YAMLError, ToleranceError, UnicodeDecodeError) as error:
        raise click.BadParameter(f"{path}: {error}", param_hint="--tolerances") from None


def _write(result: Any, output_format: str, output: Path | None) -> None:
    from hub import matching

    if output_format == "xlsx":
        assert output is not None  # noqa: S101  (checked before matching)
        output.write_bytes(matching.to_xlsx(result))
        return
    if output_format == "json":
        report = json.dumps(matching.to_json(result), indent=2, ensure_ascii=False) + "\n"
    elif output_format == "csv":
        report = matching.to_csv(result)
    else:
        report = matching.to_html(result)
    if output is None:
        sys.stdout.write(report)
    else:
        output.write_text(report, encoding="utf-8")
