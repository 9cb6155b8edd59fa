"""Order targets: the systems stored orders are delivered to (the outbox's ``target`` column names one).

Placeholder of the target seam (issue 9): every order goes to the ERP until profiles list their targets.
"""

from __future__ import annotations

from mappings.profiles import PartnerProfile

ERP_TARGET = "erp"


def delivery_targets(profile: PartnerProfile | None) -> tuple[str, ...]:
    """The outbox target names each new order of ``profile`` is delivered to."""
    return (ERP_TARGET,)
