"""856 generation for 10,000 orders: build, validate (our maps + pyx12's envelope reader), and the whole pass.

    .venv/bin/python benchmarks/asn.py [--orders 10000] [--lines 5] [--cartons 3] [--skip-pass]

Two measurements, each printed in seconds:

* build + validate: ``build_856`` of each order's ship notice (SOPI, ``--cartons`` cartons over
  ``--lines`` lines), then ``asn_problems`` (our compiled maps, then pyx12's ``X12Reader``), as the
  ASN pass does before it queues a document;
* the pass: ``hub.delivery._asn.queue_ship_notices`` over a new SQLite store holding the orders as
  delivered to the ERP, the ERP's done deliveries served from memory: reading the orders, SSCC
  serials and control numbers taken gap-free, build, validate, the outbound document and the
  ``asn_notices`` row, one transaction per delivery.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from canonical.model import Order, OrderLine, Party, PartyRole, Source
from connectors.erp._pickings import PickedQuantity, Picking
from hub import store as st
from hub.delivery._asn import queue_ship_notices
from hub.settings import sqlite_url
from mappings.asn_settings import AsnSettings
from mappings.profiles import PartnerDirectory, X12SftpChannel
from mappings.x12._856 import Carton, CartonItem, Envelope856, ShipNotice, build_856
from mappings.x12._856_check import asn_problems
from mappings.x12._acks import AckAddress
from mappings.x12._sscc import sscc

NOW = dt.datetime(2026, 12, 4, 9, 30, tzinfo=dt.UTC)
PREFIX = "0614141"


def make_order(n: int, lines: int) -> Order:
    """PO ``n`` with ``lines`` lines of 12 units each and a ship-to with an address."""
    return Order(
        source=Source.X12, source_ref=f"PO-{n:06d}", partner_id="acme", order_date=dt.date(2026, 12, 1),
        parties=[Party(role=PartyRole.SHIP_TO, name="ACME DC 7", id="0007", id_qualifier="92", entity_code="ST",
                       address_lines=["1 Dock Road"], city="Reno", region="NV", postal_code="89501", country="US")],
        lines=[OrderLine(line_no=str(i), sku=f"SKU-{i}", gtin="012345678905", quantity=Decimal(12), uom="EA",
                         unit_price=Decimal("4.50")) for i in range(1, lines + 1)],
        total=Decimal("54.00") * lines,
    )


def split(order: Order, cartons: int) -> list[list[tuple[str, Decimal]]]:
    """The order's lines dealt over ``cartons`` cartons (line i into carton i mod cartons)."""
    packed: list[list[tuple[str, Decimal]]] = [[] for _ in range(cartons)]
    for i, line in enumerate(order.lines):
        packed[i % cartons].append((line.line_no, line.quantity))
    return [carton for carton in packed if carton]


def build_and_validate(count: int, lines: int, cartons: int) -> float:
    """Seconds to build and validate ``count`` 856s (CPU time of this process: the machine may be shared)."""
    ours, theirs = AckAddress("ZZ", "ORDERHUB", "ORDERHUB"), AckAddress("ZZ", "ACMERETAIL", "ACMERETAIL")
    serial, elapsed = 0, 0.0
    for n in range(1, count + 1):
        order = make_order(n, lines)  # made outside the timing: the pass reads it from the store
        boxes = []
        for contents in split(order, cartons):
            serial += 1
            boxes.append(Carton(sscc(0, PREFIX, serial), tuple(CartonItem(no, q) for no, q in contents)))
        started = time.process_time()
        notice = ShipNotice(shipment_id=f"WH/OUT/{n:05d}", shipped_at=NOW, cartons=tuple(boxes),
                            bill_of_lading=f"WH/OUT/{n:05d}", scac="UPSN", tracking_number=f"1Z{n:016d}",
                            weight=Decimal("12.5"))
        text = build_856(order, notice, Envelope856(ours, theirs, "004010", n, n, n), now=NOW)
        problems = asn_problems(text, "004010")
        elapsed += time.process_time() - started
        if problems:
            raise SystemExit(f"order {n}: {problems[:3]}")
    return elapsed


class MemoryErp:
    """Each order's one done delivery, every line packed over the cartons."""

    def __init__(self, lines: int, cartons: int) -> None:
        self.lines, self.cartons = lines, cartons

    def done_deliveries(self, sale_order_ids: Sequence[int]) -> dict[int, list[Picking]]:
        found = {}
        for sale_order_id in sale_order_ids:
            contents = tuple(
                PickedQuantity(product_id=i, default_code=f"SKU-{i}", barcode="", quantity=Decimal(12),
                               package=f"PACK{sale_order_id}-{(i - 1) % self.cartons}")
                for i in range(1, self.lines + 1))
            found[sale_order_id] = [Picking(id=sale_order_id, name=f"WH/OUT/{sale_order_id:05d}",
                                            sale_order_id=sale_order_id, origin="", date_done=NOW, tracking_ref="",
                                            carrier="", weight=None, contents=contents)]
        return found


def whole_pass(count: int, lines: int, cartons: int) -> tuple[float, float, int]:
    """Wall and CPU seconds of the ASN pass over ``count`` orders in a new SQLite store, and the 856s it queued."""
    profile = PartnerDirectory.load(ROOT / "mappings" / "partners").get("acme")
    channel = profile.channel("x12_sftp")
    assert isinstance(channel, X12SftpChannel)
    partners = PartnerDirectory([profile.with_channel(channel.model_copy(
        update={"asn": AsnSettings(gs1_company_prefix=PREFIX)}))])
    with tempfile.TemporaryDirectory() as folder:
        store = st.HubStore(sqlite_url(Path(folder) / "hub.sqlite3")).migrate()
        with store.transaction() as conn:
            for n in range(1, count + 1):
                saved = st.save_order(conn, make_order(n, lines), receipt_id=None, now=NOW)
                st.enqueue_delivery(conn, order_id=saved.stored_id, target="erp", now=NOW)
                delivery = st.delivery_of(conn, order_id=saved.stored_id, target="erp")
                assert delivery is not None
                st.finish_delivery(conn, delivery.id, state=st.DONE, now=NOW, external_ref=f"S{n:05d}",
                                   external_id=str(n))
        erp, queued = MemoryErp(lines, cartons), 0
        started, cpu = time.perf_counter(), time.process_time()
        while True:  # one pass takes 500 orders (the store's page), as the schedule's runs would
            summary = queue_ship_notices(store, partners, erp, now=NOW)
            if summary.invalid:
                raise SystemExit(f"invalid: {summary.invalid[:3]}")
            if not summary.queued:
                break
            queued += len(summary.queued)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        store.dispose()
    return elapsed, cpu, queued


def main(argv: list[str] | None = None) -> None:
    """Run both measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--lines", type=int, default=5)
    parser.add_argument("--cartons", type=int, default=3)
    parser.add_argument("--skip-pass", action="store_true", help="only build + validate")
    args = parser.parse_args(argv)
    seconds = build_and_validate(args.orders, args.lines, args.cartons)
    print(f"build + validate: {args.orders} 856s ({args.lines} lines, {args.cartons} cartons each) in {seconds:.2f} s "
          f"CPU ({args.orders / seconds:,.0f}/s)")
    if not args.skip_pass:
        seconds, cpu, queued = whole_pass(args.orders, args.lines, args.cartons)
        print(f"ASN pass (SQLite store, ERP in memory): {queued} 856s queued in {seconds:.2f} s "
              f"({queued / seconds:,.0f}/s; CPU {cpu:.2f} s)")


if __name__ == "__main__":
    main()
