"""What a push or a cancellation of one order did to its Odoo sale order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PushResult:
    """The outcome of pushing one order: the ERP's sale order and what this call did to it.

    ``action``: ``created``; ``updated`` (a quotation rewritten to match the order, ``changes`` says
    how); ``unchanged`` (it matched already); ``needs_review`` (it differs but is confirmed, locked or
    cancelled in the ERP, so nothing was changed: ``changes`` and ``reason`` say what and why).
    """

    sale_order_id: int
    name: str
    created: bool
    action: str = ""
    changes: tuple[str, ...] = ()
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.action:
            object.__setattr__(self, "action", "created" if self.created else "unchanged")


@dataclass(frozen=True)
class CancelResult:
    """The outcome of cancelling one order in the ERP.

    ``action``: ``cancelled``; ``already_cancelled``; ``not_in_erp`` (nothing to cancel); ``refused``
    (Odoo refused, or cancelling would leave deliveries or invoices behind: ``reason`` says which).
    """

    action: str
    sale_order_id: int | None = None
    name: str = ""
    reason: str = ""
