"""The carrier target (kind ``easypost``): each order gets one bought shipping label, never two.

A profile lists it with its routing rules::

    targets:
      - {kind: odoo, name: erp}
      - kind: easypost
        name: carrier
        carrier: {ship_from: {...}, scac_carriers: {UPSN: UPS}, service_levels: {ND: NextDayAir}}

Its Dagster resource (``_resource.CarrierResource``) is imported only when a connection is built.
"""

from typing import Any

from hub.targets._registry import TargetKind, register_target_kind
from hub.targets.carrier._routing import add_business_days, choose_rate, requested_carrier
from hub.targets.carrier._target import CarrierTarget, LabelService, label_reference, parcel_of, to_address
from hub.targets.carrier._tracking import (
    TRACKER_EVENTS,
    EventOutcome,
    PollResult,
    TrackerService,
    apply_tracker_event,
    poll_stale_trackers,
)


def carrier_connection(name: str, **settings: Any) -> Any:
    """The Dagster resource of the carrier target ``name`` (``HUB_<NAME>_URL``, ``_API_KEY``, ``_MODE``)."""
    from hub.targets.carrier._resource import CarrierResource

    return CarrierResource.from_env(name)


EASYPOST = register_target_kind(TargetKind(
    kind="easypost", connection=carrier_connection, records="labels",
    description="shipping labels bought through EasyPost (API v2), one per order",
))

__all__ = ["EASYPOST", "TRACKER_EVENTS", "CarrierTarget", "EventOutcome", "LabelService", "PollResult",
           "TrackerService", "add_business_days", "apply_tracker_event", "carrier_connection", "choose_rate",
           "label_reference", "parcel_of", "poll_stale_trackers", "requested_carrier", "to_address"]
