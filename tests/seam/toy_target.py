"""A toy order target, registered from the test folder without editing any hub module (docs/adding-a-target.md).

A folder stands in for the system: one JSON file per record (``<partner>/<po>.<n>.json``) and a
``writes.log`` of every write, so a test can see that an order was created exactly once.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from canonical.model import Order
from hub.targets import (
    Action,
    Delivered,
    Expected,
    Found,
    Reconciliation,
    TargetKind,
    reconcile_by_look_up,
    register_target_kind,
)


class ToyBox:
    """Orders as JSON files in a folder: an OrderTarget in fifty lines."""

    label = "the toy box"
    write_settle = dt.timedelta(seconds=1)  # a local file write cannot still be in flight later

    def __init__(self, folder: Path, name: str) -> None:
        self.folder, self.name = folder, name

    def records(self, partner_id: str, po_number: str) -> list[Path]:
        """The record files of one order, oldest first (more than one is a doubled order)."""
        return sorted((self.folder / partner_id).glob(f"{po_number}.*.json"))

    def writes(self) -> list[str]:
        """Every write so far, as ``created|updated|cancelled partner:PO``."""
        log = self.folder / "writes.log"
        return log.read_text().splitlines() if log.exists() else []

    def push(self, order: Order) -> Delivered:
        """Create the record (looked up first, so a retried push finds it), or follow the order's changes."""
        wanted = {"total": str(order.total), "lines": [[line.sku, str(line.quantity)] for line in order.lines],
                  "live": True}
        found = self.records(order.partner_id, order.source_ref)
        if not found:
            return self._write(order, self.folder / order.partner_id / f"{order.source_ref}.1.json", wanted,
                               Action.CREATED)
        if json.loads(found[0].read_text()) == wanted:
            return Delivered(Action.UNCHANGED, found[0].name, found[0].name)
        return self._write(order, found[0], wanted, Action.UPDATED)

    def cancel(self, order: Order) -> Delivered:
        """Mark the record cancelled (``NOT_THERE`` when the order never arrived)."""
        found = self.records(order.partner_id, order.source_ref)
        if not found:
            return Delivered(Action.NOT_THERE)
        record = json.loads(found[0].read_text())
        if not record["live"]:
            return Delivered(Action.ALREADY_CANCELLED, found[0].name, found[0].name)
        return self._write(order, found[0], {**record, "live": False}, Action.CANCELLED)

    def look_up(self, partner_id: str, po_numbers: Sequence[str]) -> dict[str, list[Found]]:
        """The record files per PO number."""
        return {po: [Found(path.name, json.loads(path.read_text())["live"]) for path in self.records(partner_id, po)]
                for po in po_numbers}

    def reconcile(self, expected: Expected) -> Reconciliation:
        """Compared by look-ups, as most targets can."""
        return reconcile_by_look_up(self, expected)

    def _write(self, order: Order, path: Path, record: dict, action: Action) -> Delivered:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record))
        with (self.folder / "writes.log").open("a") as log:
            log.write(f"{action.value} {order.partner_id}:{order.source_ref}\n")
        return Delivered(action, path.name, path.name)


class ToyBoxResource(dg.ConfigurableResource):
    """The toy target's connection: its folder."""

    folder: str

    @contextmanager
    def target(self, name: str) -> Iterator[ToyBox]:
        """The toy box, named ``name`` in the outbox."""
        yield ToyBox(Path(self.folder), name)

    def write_settle(self) -> dt.timedelta:
        """How long a write may still land after it got no answer."""
        return ToyBox.write_settle


TOY = register_target_kind(TargetKind(
    kind="toy", records="orders", description="a folder of JSON files",
    connection=lambda name: ToyBoxResource(folder=dg.EnvVar(f"HUB_{name.upper()}_FOLDER")),
))
