"""A sandbox ERP that speaks Odoo's External JSON-2 API (Odoo 19) on loopback.

It serves ``POST /json/2/<model>/<method>`` for the models and methods the hub's ERP connector
uses (partners, products, sale orders; invoices and credit notes as ``account.move``), with Odoo's
headers, status codes and error objects (``name``, ``message``, ``arguments``, ``context``, ``debug``).
Sale orders follow Odoo 17+'s workflow: ``state`` draft / sent / sale / cancel and the ``locked`` flag;
``write`` takes the one2many commands ``[0, 0, vals]``, ``[1, id, vals]``, ``[2, id, 0]`` and ``[5, 0, 0]`` for
``order_line`` under Odoo's rules (no line removed from a confirmed order, no protected line field
changed on a locked one); ``action_confirm``, ``action_cancel`` (its wizard unless the context says
``disable_cancel_warning``; refused on a locked order), ``action_draft``, ``action_lock`` and
``action_unlock`` behave as in Odoo. A sale order's ``currency_id`` follows its ``pricelist_id``
(``res.currency`` USD, EUR, GBP, CAD; pricelists in USD and EUR), else the company's USD. State
lives in memory behind one lock and, when ``state_path`` is set, in a JSON file so the demo's data
survives a restart (written at most about once a second, and on stop).

Like Odoo on PostgreSQL it reads through indexes: sale orders by ``client_order_ref``, partners by
``ref``, products by ``default_code`` and ``barcode``, lines by ``order_id``; a failing call is undone
from a journal of the rows it replaced, so a call costs what it touches, not the database's size.
It keeps Odoo's limits on a request: a body over 128 MiB is refused with 413, and more than
``MAX_RECORDS_PER_CALL`` (500) records in one ``create`` or ``ids`` list with 422.

Faults for tests: ``inject_failures`` (an HTTP error on the next calls), ``inject_slow_commit`` (a
write held past the client's timeout, committed when released), ``inject_drop_after_commit`` (a
write committed, then the connection cut without an answer), ``refuse_sale_orders`` (a server-side
rule that refuses a whole create naming no record) and ``unique_sale_order_refs`` (the
custom module's UNIQUE(origin, client_order_ref), see docs/operations.md). Normal calls keep the
Odoo wire contract.

    with SandboxErp(api_key="demo-key") as erp:
        erp.seed_products(DEMO_PRODUCTS)
        ...  # point OdooConfig(base_url=erp.base_url, database=erp.database, api_key="demo-key") at it

Run it on its own with ``python -m sandbox.erp_server --port 8069 --state var/sandbox/erp.json``.
The model and errors live in ``_erp_schema``, the records in ``_erp_database``, domains in
``_erp_domain``, the JSON-2 endpoints in ``_erp_api``; this module is the server tests and the demo use.
"""


from __future__ import annotations

import argparse
import signal
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sandbox._erp_api import ConnectionDropper, InjectedFault, Json2Api, WriteFault, create_app
from sandbox._erp_database import Database
from sandbox._erp_pickings import PickingHelpers  # adds stock.picking and its moves to the schema
from sandbox._erp_schema import MAX_BODY_BYTES, METHODS, MUTATING
from sandbox._erp_schema import MAX_RECORDS_PER_CALL as MAX_RECORDS_PER_CALL  # the ceiling clients respect
from sandbox._erp_schema import UNIQUE_REF_MESSAGE as UNIQUE_REF_MESSAGE
from sandbox._erp_schema import OdooFault as OdooFault
from sandbox._server import SandboxHttpServer, required_env, serve_in_foreground

# (default_code, name, list_price, barcode): a small catalog the demo partners' orders refer to.
DEMO_PRODUCTS: list[tuple[str, str, float, str | None]] = [
    ("WID-100", "Widget, blue", 4.50, "00012345678905"),
    ("WID-200", "Widget, red", 4.75, "00012345678912"),
    ("GAD-300", "Gadget, large", 19.90, "00012345678929"),
    ("GIZ-400", "Gizmo", 7.25, "00012345678936"),
    ("BOX-500", "Shipping box, 10 pack", 12.00, None),
]


class SandboxErp(PickingHelpers, SandboxHttpServer):
    """A sandbox Odoo on 127.0.0.1, served by uvicorn in a daemon thread; a context manager."""

    def __init__(
        self,
        *,
        api_key: str,
        database: str = "sandbox",
        state_path: Path | None = None,
        port: int = 0,
        host: str = "127.0.0.1",
        lock_confirmed_sales: bool = False,
        unique_sale_order_refs: bool = False,
        max_body_bytes: int = MAX_BODY_BYTES,
        max_records_per_call: int = MAX_RECORDS_PER_CALL,
    ) -> None:
        if not api_key:
            raise ValueError("the sandbox ERP needs an API key")
        self.database = database
        self.host = host
        self._db = Database(state_path)
        self._db.lock_confirmed_sales = lock_confirmed_sales
        self._db.unique_sale_order_refs = unique_sale_order_refs
        self._api = Json2Api(self._db, api_key=api_key, database=database, max_body_bytes=max_body_bytes,
                             max_records_per_call=max_records_per_call)
        self.app = create_app(self._api)
        self._serve_app(ConnectionDropper(self.app), host=host, port=port, name="sandbox ERP")

    def stop(self) -> None:
        """Stop serving and write the state file with every committed call."""
        super().stop()
        with self._db.lock:
            self._db.flush()

    # -- helpers for tests and the demo (they bypass the API and its checks) --

    def seed_products(self, products: Iterable[tuple[str, str, float, str | None]]) -> list[int]:
        """Add catalog products ``(default_code, name, list_price, barcode)``; existing codes are kept."""
        ids = []
        with self._db.lock:
            known = {row.get("default_code"): row["id"] for row in self._db.records["product.product"].values()}
            for default_code, name, list_price, barcode in products:
                if default_code in known:
                    ids.append(known[default_code])
                    continue
                vals = {"default_code": default_code, "name": name, "list_price": float(list_price)}
                if barcode:
                    vals["barcode"] = barcode
                ids.append(self._db.create("product.product", vals))
            self._db.save()
        return ids

    def set_partner_credit(self, ref: str, *, limit: float, owed: float) -> int:
        """Give the customer with this ``ref`` a credit limit and an amount owed (created if missing); its id."""
        with self._db.lock:
            ids = self._db.search("res.partner", [["ref", "=", ref]])
            vals = {"name": ref, "ref": ref, "is_company": True}
            partner_id = ids[0] if ids else self._db.create("res.partner", vals)
            self._db.records["res.partner"][partner_id] = {**self._db.records["res.partner"][partner_id],
                                                           "credit_limit": float(limit), "credit": float(owed)}
            self._db.save()
        return partner_id

    def delete_sale_order(self, client_order_ref: str) -> int:
        """Delete every sale order with this reference, whatever its state (as an ERP user might); returns how many."""
        with self._db.lock:
            ids = self._db.search("sale.order", [["client_order_ref", "=", client_order_ref]])
            if ids:
                self._db.unlink("sale.order", ids, check_state=False)
                self._db.save()
        return len(ids)

    def confirm_sale_order(self, client_order_ref: str, *, lock: bool = False) -> str:
        """Confirm the sale order with this reference as a salesperson would (Odoo's ``action_confirm``); its name."""
        with self._db.lock:
            ids = self._sale_order_ids(client_order_ref)
            self._db.confirm(ids, lock=lock or self._db.lock_confirmed_sales)
            self._db.save()
            return self._db.records["sale.order"][ids[0]]["name"]

    def deliver_and_invoice(self, client_order_ref: str, *, delivered: bool = True, invoiced: bool = True) -> None:
        """Mark every line of a confirmed sale order delivered and/or invoiced in full (a done transfer, a posted
        invoice)."""
        with self._db.lock:
            for order_id in self._sale_order_ids(client_order_ref):
                order = self._db.records["sale.order"][order_id]
                if order.get("state") != "sale":
                    raise ValueError(f"sale order {order['name']} is not confirmed")
                for line_id in order.get("order_line") or []:
                    line = self._db.records["sale.order.line"][line_id]
                    if delivered:
                        line["qty_delivered"] = line["product_uom_qty"]
                    if invoiced:
                        line["qty_invoiced"] = line["product_uom_qty"]
            self._db.save()

    def deliver(self, client_order_ref: str, quantities: Iterable[float]) -> None:
        """Set the delivered quantity of each line of the (oldest) sale order, in line order (a done transfer,
        or a return when lower than before)."""
        with self._db.lock:
            order = self._db.records["sale.order"][self._sale_order_ids(client_order_ref)[0]]
            ids = self._db.search("sale.order.line", [["order_id", "=", order["id"]]], order="sequence, id")
            for line_id, quantity in zip(ids, quantities, strict=False):
                self._db.update_row("sale.order.line", line_id, qty_delivered=float(quantity))
            self._db.save()

    def sale_order_lines(self, client_order_ref: str) -> list[dict[str, Any]]:
        """The lines of the (oldest) sale order with this reference, in Odoo's line order."""
        with self._db.lock:
            order = self._db.records["sale.order"][self._sale_order_ids(client_order_ref)[0]]
            ids = self._db.search("sale.order.line", [["order_id", "=", order["id"]]], order="sequence, id")
            return self._db.read("sale.order.line", ids, None)

    def _sale_order_ids(self, client_order_ref: str) -> list[int]:
        ids = self._db.search("sale.order", [["client_order_ref", "=", client_order_ref]])
        if not ids:
            raise KeyError(f"no sale order with reference {client_order_ref!r}")
        return ids

    def sale_orders(self) -> list[dict[str, Any]]:
        """Every sale order as `search_read` returns it, oldest first."""
        with self._db.lock:
            return self._db.read("sale.order", self._db.search("sale.order", []), None)

    def records(self, model: str) -> list[dict[str, Any]]:
        """Every record of ``model`` as `read` returns it."""
        with self._db.lock:
            return self._db.read(model, self._db.search(model, []), None)

    def inject_failures(self, status: int, *, times: int = 1, retry_after: int | None = None) -> None:
        """Answer the next ``times`` API calls with ``status`` (e.g. 429 or 503) to exercise retries."""
        with self._db.lock:
            self._api.faults.extend(InjectedFault(status, retry_after) for _ in range(times))

    def inject_slow_commit(
        self, *, model: str = "sale.order", method: str = "create", hold_seconds: float = 30.0
    ) -> WriteFault:
        """Hold the next ``model.method`` call until ``release()`` (at most ``hold_seconds``), then commit it."""
        return self._inject_write_fault("slow_commit", model, method, hold_seconds)

    def inject_drop_after_commit(self, *, model: str = "sale.order", method: str = "create") -> WriteFault:
        """Commit the next ``model.method`` call, then drop the connection without answering."""
        return self._inject_write_fault("drop_after_commit", model, method, 0.0)

    def _inject_write_fault(self, kind: str, model: str, method: str, hold_seconds: float) -> WriteFault:
        if model not in METHODS or method not in METHODS[model] or method not in MUTATING:
            raise ValueError(f"{model}.{method} is not a write the sandbox serves")
        fault = WriteFault(kind, model, method, hold_seconds)
        with self._db.lock:
            self._api.write_faults.append(fault)
        return fault

    def refuse_sale_orders(self, client_order_refs: Iterable[str], message: str) -> None:
        """Refuse any create or write of a sale order with these references with an Odoo ValidationError
        (as a custom module's constraint or a credit hold would): the whole call fails, naming no record."""
        with self._db.lock:
            self._db.refused_refs.update(dict.fromkeys(client_order_refs, message))

    def accept_sale_orders(self, client_order_refs: Iterable[str]) -> None:
        """Lift :meth:`refuse_sale_orders` for these references (the ERP's people fixed it)."""
        with self._db.lock:
            for ref in client_order_refs:
                self._db.refused_refs.pop(ref, None)

    def enforce_unique_sale_order_refs(self, enabled: bool = True) -> None:
        """Switch the custom module's UNIQUE(origin, client_order_ref) on sale.order on or off."""
        with self._db.lock:
            self._db.unique_sale_order_refs = enabled

    def sale_orders_by_ref(self, client_order_ref: str) -> list[dict[str, Any]]:
        """Every sale order carrying this customer reference (any trading partner), oldest first."""
        with self._db.lock:
            ids = self._db.search("sale.order", [["client_order_ref", "=", client_order_ref]])
            return self._db.read("sale.order", ids, None)

    def archive_pricelists(self, currency: str) -> int:
        """Archive every pricelist in ``currency`` (as an ERP admin might); returns how many."""
        with self._db.lock:
            currency_id = self._db.currency_id(currency)
            ids = [r["id"] for r in self._db.records["product.pricelist"].values()
                   if r.get("currency_id") == currency_id and r.get("active") is not False]
            for pricelist_id in ids:
                self._db.records["product.pricelist"][pricelist_id]["active"] = False
            self._db.save()
        return len(ids)

    @property
    def calls(self) -> list[tuple[str, str]]:
        """The (model, method) of every authenticated API call so far, oldest first."""
        with self._db.lock:
            return list(self._api.calls)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Serve a sandbox ERP in the foreground (for the demo)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8069)
    parser.add_argument("--database", default="sandbox")
    parser.add_argument("--state", type=Path, default=None, help="JSON file that keeps the data across restarts")
    parser.add_argument("--unique-refs", action="store_true",
                        help="model the custom module's UNIQUE(origin, client_order_ref) on sale.order")
    args = parser.parse_args(argv)
    [api_key] = required_env(parser, "HUB_SANDBOX_ERP_API_KEY", meaning="to the API key clients must send")
    erp = SandboxErp(api_key=api_key, database=args.database, state_path=args.state, port=args.port, host=args.host,
                     unique_sale_order_refs=args.unique_refs)
    erp.seed_products(DEMO_PRODUCTS)
    # A stop by SIGTERM (docker stop, a supervisor) ends like Ctrl-C: the state file gets the last calls.
    signal.signal(signal.SIGTERM, _interrupt)
    serve_in_foreground(erp, lambda: f"sandbox ERP (Odoo JSON-2) on {erp.base_url}, database {erp.database!r}")


if __name__ == "__main__":
    main()
