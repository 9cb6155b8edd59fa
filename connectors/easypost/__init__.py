"""EasyPost (API v2): create a shipment with rates, buy one rate once, follow trackers; test and production keys.

    config = EasyPostConfig(api_key=SecretStr("EZTK..."), mode="test")
    with EasyPostClient(config) as client:
        shipment = client.create_shipment(from_address=..., to_address=..., parcel=..., reference="acme:PO1")
        bought = client.buy(shipment.id, shipment.rates[0].id)   # sent once, never retried by the client
        tracker = client.retrieve_tracker(bought.tracker.id)
"""

from connectors.easypost._client import BasicKeyAuth, EasyPostClient, NotFound, easypost_error
from connectors.easypost._config import (
    API_VERSION,
    DEFAULT_BASE_URL,
    PRODUCTION_KEY_PREFIX,
    TEST_KEY_PREFIX,
    EasyPostConfig,
)
from connectors.easypost._models import (
    Address,
    Parcel,
    PostageLabel,
    Rate,
    Shipment,
    ShipmentPage,
    Tracker,
    TrackingDetail,
)

__all__ = [
    "API_VERSION", "DEFAULT_BASE_URL", "PRODUCTION_KEY_PREFIX", "TEST_KEY_PREFIX", "Address", "BasicKeyAuth",
    "EasyPostClient", "EasyPostConfig", "NotFound", "Parcel", "PostageLabel", "Rate", "Shipment", "ShipmentPage",
    "Tracker", "TrackingDetail", "easypost_error",
]
