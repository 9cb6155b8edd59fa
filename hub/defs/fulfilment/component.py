"""Per channel account whose orders the hub ships: its fulfilments, sent back to the channel, and their check.

For each Shopify store or marketplace seller account whose profile lists a carrier target (``kind:
easypost``), the asset ``<source>_fulfilments_<partner>`` sends the fulfilment of every order whose
label is bought (Shopify ``fulfillmentCreate`` per location, marketplace ``confirmShipment`` per
package), once (``hub.targets.channel_fulfilment``), and its check
``every_shipped_order_has_a_channel_fulfilment`` fails while a shipped order has a part refused,
missing or still in doubt. A refused fulfilment opens a ``<source>_fulfilment_rejected`` exception (closed
when a later run sends it, after ``hub exceptions replay``), so the asset is upstream of the exception
queue and its job ends with it. It uses the account's own API resource (``<source>_<partner>``, bound by
the partners component) and ``hub_store``; job ``<source>_fulfilments_<partner>_job``, every 10 minutes.
"""

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg

from connectors.amazon import AmazonSellerClient
from connectors.shopify import ShopifyFulfilments
from hub.defs._policies import EXECUTOR, OWNERS
from hub.defs.operations.assets import EXCEPTION_QUEUE
from hub.defs.partners.component import _PARTNERS_DIR  # the same profiles folder the partners component loads
from hub.settings import get_settings
from hub.targets.carrier import EASYPOST
from hub.targets.channel_fulfilment import (
    ChannelFulfilmentTarget,
    FulfilmentChannel,
    MarketplaceChannel,
    ShopifyChannel,
    check_fulfilments,
    fulfil_shipped_orders,
)
from mappings.profiles import PartnerDirectory

CHECK = "every_shipped_order_has_a_channel_fulfilment"
CHANNELS = ("shopify", "amazon")


@contextmanager
def fulfilment_channel(source: str, resource: Any) -> Iterator[tuple[FulfilmentChannel, float]]:
    """The channel of an account resource and how long a call may take (for the settle time of a write in doubt)."""
    with resource.client() as client:
        if source == "shopify":
            yield ShopifyChannel(ShopifyFulfilments(client)), client.config.timeout_seconds
            return
        with AmazonSellerClient(client.amazon) as seller:  # the same account, with the write operations
            yield MarketplaceChannel(seller), seller.config.timeout_seconds


def fulfilment_defs(source: str, partner_id: str) -> dg.Definitions:
    """The fulfilment asset (with its check), job and schedule of one channel account."""
    key = f"{source}_{partner_id}"
    name = f"{source}_fulfilments_{partner_id}"

    @dg.asset(name=name, group_name="fulfilment", kinds={source}, pool=key, owners=OWNERS,
              required_resource_keys={"hub_store", key},
              check_specs=[dg.AssetCheckSpec(CHECK, asset=name, description=(
                  "Every open order of this account with a bought label has its fulfilment at the channel "
                  "(every location or package sent): none refused, missing or in doubt."))],
              description=f"Fulfilments of {partner_id}'s shipped orders sent back to the {source} channel, once.")
    def _asset(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        store = context.resources.hub_store.store()
        with fulfilment_channel(source, getattr(context.resources, key)) as (channel, timeout):
            target = ChannelFulfilmentTarget(channel, store, partner_id=partner_id,
                                             write_settle=dt.timedelta(seconds=timeout + 60))
            result = fulfil_shipped_orders(target)
        check = check_fulfilments(store, source, partner_id)
        severity = dg.AssetCheckSeverity.WARN if not (check.missing or check.rejected) else dg.AssetCheckSeverity.ERROR
        return dg.MaterializeResult(metadata=result.metadata(), check_results=[dg.AssetCheckResult(
            check_name=CHECK, passed=check.passed, severity=severity, metadata={
                "shipped": check.shipped, "fulfilled": check.fulfilled, "missing": ", ".join(check.missing[:50]),
                "rejected": ", ".join(check.rejected[:50]), "in_doubt": ", ".join(check.in_doubt[:50])})])

    job = dg.define_asset_job(f"{name}_job", selection=dg.AssetSelection.assets(_asset, EXCEPTION_QUEUE),
                              description=f"Send the fulfilments of {partner_id}'s shipped orders.",
                              tags={"hub/connector": key}, executor_def=EXECUTOR)
    schedule = dg.ScheduleDefinition(name=f"{name}_every_10_minutes", job=job, cron_schedule="*/10 * * * *",
                                     default_status=dg.DefaultScheduleStatus.RUNNING)
    return dg.Definitions(assets=[_asset], jobs=[job], schedules=[schedule])


def fulfilment_asset_keys(partners: PartnerDirectory) -> list[dg.AssetKey]:
    """The fulfilment assets the profiles make (each opens and closes exceptions: upstream of the queue)."""
    return [dg.AssetKey(f"{channel.kind}_fulfilments_{profile.id}") for profile in partners
            if any(target.kind == EASYPOST.kind for target in profile.targets)
            for channel in profile.channels if channel.kind in CHANNELS]


class ChannelFulfilments(dg.Component, dg.Model, dg.Resolvable):
    """Every Shopify or marketplace account whose profile ships through a carrier target: its fulfilments."""

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The assets, from the profiles as they are now."""
        partners = PartnerDirectory.load(_PARTNERS_DIR.get() or Path(get_settings().partners_dir))
        built = []
        for profile in partners:
            ships = any(target.kind == EASYPOST.kind for target in profile.targets)
            for channel in profile.channels:
                if ships and channel.kind in CHANNELS:
                    built.append(fulfilment_defs(channel.kind, profile.id))
        return dg.Definitions.merge(*built) if built else dg.Definitions()

