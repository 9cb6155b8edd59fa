"""The sandbox side of the demo's outbound half: stock in the sandbox ERP and a sandbox carrier that remembers.

``SandboxEnvironment`` calls :func:`seed_stock` when it starts the ERP and :func:`carrier_for` to get a
carrier when a profile lists a ``kind: easypost`` target. The carrier's state (shipments, trackers,
labels sold) is kept in a JSON file beside the ERP's, so a second ``make demo`` finds the labels the
first one bought (the hub's check ``<name>_labels_exactly_once`` asks the carrier, not our rows).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from hub.targets.carrier import EASYPOST
from mappings.profiles import PartnerDirectory
from sandbox._erp_stock import add_warehouse, set_quantity
from sandbox.easypost_server import SandboxEasyPost, _State
from sandbox.erp_server import SandboxErp

CARRIER_API_KEY = "EZTKsandboxdemo"  # a test key: the sandbox carrier sells free test labels only

# (code, name, country, state): two warehouses, so allocation has a choice (docs/inventory.md).
WAREHOUSES = (("EAST", "East DC, Columbus", "US", "OH"), ("WEST", "West DC, Reno", "US", "NV"))
ON_HAND = 500.0
# Short on purpose: Northwind's sample PO orders 6 of it, so its 855 backorders that line (ACK01 IB).
SHORT = {"GAD-320": {"EAST": 2.0, "WEST": 0.0}}


def seed_stock(erp: SandboxErp, skus: list[str]) -> None:
    """Two warehouses with ``ON_HAND`` of every SKU, except the ``SHORT`` ones (an inventory count: idempotent)."""
    for code, name, country, state in WAREHOUSES:
        add_warehouse(erp, code, name, country=country, state=state)
        for sku in skus:
            set_quantity(erp, sku, code, SHORT.get(sku, {}).get(code, ON_HAND))


class PersistentEasyPost(SandboxEasyPost):
    """The sandbox carrier with its state loaded from and saved to ``state_path`` after every call."""

    def __init__(self, state_path: Path, **kwargs) -> None:
        self.state_path = Path(state_path)
        super().__init__(**kwargs)
        if self.state_path.exists():
            saved = json.loads(self.state_path.read_text())
            self.state = _State(shipments=saved["shipments"], trackers=saved["trackers"],
                                buys=[tuple(buy) for buy in saved["buys"]])
        self.sold_before = len(self.state.buys)  # labels of earlier runs: the demo prints this run's only

    def _endpoint(self, handler):
        serve = super()._endpoint(handler)

        async def serve_and_save(request):
            response = await serve(request)
            if request.method == "POST":  # a shipment, a buy or a tracker: what a second run must find
                with self._lock:
                    state = dataclasses.asdict(self.state)
                    self.state_path.write_text(json.dumps({key: state[key] for key in
                                                           ("shipments", "trackers", "buys")}))
            return response

        return serve_and_save


def carrier_targets(partners: PartnerDirectory) -> list[str]:
    """The names of the ``kind: easypost`` targets the profiles list."""
    return sorted({t.name for p in partners for t in p.targets if t.kind == EASYPOST.kind})


def carrier_for(partners: PartnerDirectory, folder: Path) -> PersistentEasyPost | None:
    """A sandbox carrier (not started) when a profile ships through one, else None."""
    if not carrier_targets(partners):
        return None
    return PersistentEasyPost(Path(folder) / "carrier_state.json", test_keys={CARRIER_API_KEY})


def carrier_environment(carrier: SandboxEasyPost, partners: PartnerDirectory) -> dict[str, str]:
    """``HUB_<NAME>_URL``, ``_API_KEY`` and ``_MODE`` of every carrier target, pointing at the sandbox carrier."""
    env = {}
    for name in carrier_targets(partners):
        prefix = f"HUB_{name.upper()}"
        env.update({f"{prefix}_URL": carrier.base_url, f"{prefix}_API_KEY": CARRIER_API_KEY, f"{prefix}_MODE": "test"})
    return env


def ship_once(erp: SandboxErp, client_order_ref: str, *, tracking_ref: str | None, carrier: str | None) -> str | None:
    """The warehouse ships the sale order ``client_order_ref`` in full (a done delivery) unless a delivery of it
    exists already; the new delivery's name, or None."""
    db = erp._db
    with db.lock:
        orders = db.search("sale.order", [["client_order_ref", "=", client_order_ref]])
        if not orders or db.search("stock.picking", [["sale_id", "=", orders[0]]]):
            return None
    return erp.ship(client_order_ref, tracking_ref=tracking_ref, carrier=carrier)
