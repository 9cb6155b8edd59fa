"""The Odoo accounting target's connection: the same ``HUB_<NAME>_*`` variables as the Odoo order target."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from connectors.erp import OdooJson2Client
from hub.targets.odoo._resource import ErpResource
from hub.targets.odoo_accounting._target import OdooAccountingTarget


class ErpAccountingResource(ErpResource):
    """Odoo's JSON-2 API for invoices: one ERP is both the order target and the accounting target."""

    @contextmanager
    def accounting(self, name: str) -> Iterator[OdooAccountingTarget]:
        """The ERP as the accounting target ``name`` (one HTTP connection pool for the pass)."""
        with OdooJson2Client(self._config()) as client:
            yield OdooAccountingTarget(client, name=name, write_settle=self.write_settle())
