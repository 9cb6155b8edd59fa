"""Stock published to every Shopify store and marketplace account whose profile says ``publish_stock: true``,
and 846s to the X12 partners whose profile says ``send_846: true``.

Per account, the asset ``<source>_stock_<partner>`` (downstream of ``inventory_atp``) sends each SKU's
ATP less the channel's ``safety_stock``, only the SKUs whose quantity changed since the last run
(``hub/inventory/_publish.py``), through the account's own API resource (``<source>_<partner>``, bound
by the partners component). Its check ``published_stock_within_atp`` (ERROR) fails while a SKU's last
published quantity is above what ATP allows now. Job ``<source>_stock_<partner>_job``, schedule
``..._every_15_minutes`` (5 minutes after the inventory job's), stopped while the account's variables are unset.
The asset ``edi_inventory_846`` (hub/delivery/_inventory846.py) does the same for 846s, with the same check.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg

from connectors.amazon import AmazonSellerClient
from connectors.shopify import ShopifyInventory
from hub.defs._outbound import outbound_job_and_schedule, write_pending
from hub.defs._policies import EXECUTOR, OWNERS
from hub.defs.inventory.assets import QUEUE_UNTOUCHED
from hub.defs.partners.component import _PARTNERS_DIR  # the same profiles folder the partners component loads
from hub.defs.resources import HubStoreResource, SftpResource, missing_sftp_env, unset_env_vars
from hub.delivery._inventory846 import CHANNEL as X12
from hub.delivery._inventory846 import partners_sending_846, queue_inventory_846, safety_stock_846
from hub.inventory._publish import LISTED, publish_stock, stock_above_atp
from hub.settings import get_settings
from hub.sources import PolledSource, get_source
from hub.targets.channel_fulfilment import ListingStock, ShopifyStock, StockChannel
from mappings.profiles import AmazonProfile, ChannelSettings, PartnerDirectory, ShopifyProfile

CHECK = "published_stock_within_atp"
EDI_846 = "edi_inventory_846"


class PublishConfig(dg.Config):
    """``republish``: send every SKU again, changed or not (after stock was edited at the channel by hand)."""

    republish: bool = False


@contextmanager
def stock_channel(settings: ChannelSettings, resource: Any) -> Iterator[StockChannel]:
    """The stock channel of an account resource: a Shopify location, or the seller's listings."""
    with resource.client() as client:
        if isinstance(settings, ShopifyProfile):
            yield ShopifyStock(ShopifyInventory(client, str(settings.stock_location_id)))
            return
        assert isinstance(settings, AmazonProfile)
        with AmazonSellerClient(client.amazon) as seller:  # the same account, with the write operations
            yield ListingStock(seller, settings.seller_id, settings.marketplace_ids)


def stock_defs(settings: ChannelSettings, partner_id: str, missing_env: tuple[str, ...] = ()) -> dg.Definitions:
    """The publishing asset, its check, job and schedule of one channel account."""
    source, key = settings.kind, f"{settings.kind}_{partner_id}"
    name = f"{source}_stock_{partner_id}"

    @dg.asset(name=name, group_name="inventory", kinds={source}, pool=key, owners=OWNERS, tags=QUEUE_UNTOUCHED,
              deps=["inventory_atp"], required_resource_keys={"hub_store", key},
              description=f"ATP less a safety stock of {settings.safety_stock} published to {partner_id}'s {source} "
                          "account: only the SKUs whose quantity changed.")
    def _asset(context: dg.AssetExecutionContext, config: PublishConfig) -> dg.MaterializeResult:
        store = context.resources.hub_store.store()
        with stock_channel(settings, getattr(context.resources, key)) as channel:
            result = publish_stock(store, channel, channel_kind=source, partner_id=partner_id,
                                   safety_stock=settings.safety_stock, republish=config.republish)
        if result.published.stale or result.published.rejected:
            context.log.warning("%s: %d SKU(s) stale after a retry, %d refused (see the metadata)", name,
                                len(result.published.stale), len(result.published.rejected))
        return dg.MaterializeResult(metadata=result.metadata())

    @dg.asset_check(asset=_asset, name=CHECK, description=(
        "Every SKU's last published quantity is at most ATP now less the safety stock (never below 0); ATP can "
        "drop after later allocations: the next publication corrects it."))
    def _check(hub_store: HubStoreResource) -> dg.AssetCheckResult:
        above = stock_above_atp(hub_store.store(), source, partner_id, settings.safety_stock)
        return dg.AssetCheckResult(
            passed=not above, severity=dg.AssetCheckSeverity.ERROR,
            metadata={"above_atp": dg.MetadataValue.json([
                {"sku": row.sku, "published": row.published, "allowed": row.allowed,
                 "atp": format(row.atp.normalize(), "f")} for row in above[:LISTED]])},
            description=(f"{len(above)} SKU(s) published above ATP less safety stock: "
                         + ", ".join(row.sku for row in above[:LISTED])) if above else None)

    job = dg.define_asset_job(f"{name}_job", selection=dg.AssetSelection.assets(_asset),
                              description=f"Publish stock to {partner_id}'s {source} account.",
                              tags={"hub/connector": key}, executor_def=EXECUTOR)
    schedule = dg.ScheduleDefinition(
        name=f"{name}_every_15_minutes", job=job, cron_schedule="5-59/15 * * * *",
        default_status=dg.DefaultScheduleStatus.STOPPED if missing_env else dg.DefaultScheduleStatus.RUNNING,
        description=(f"Not started: {', '.join(missing_env)} not set in the code location's environment; set them "
                     "and reload the code location.") if missing_env else None)
    return dg.Definitions(assets=[_asset], asset_checks=[_check], jobs=[job], schedules=[schedule])


@dg.asset(name=EDI_846, group_name="inventory", kinds={"sftp", "x12"}, pool="sftp", owners=OWNERS,
          tags=QUEUE_UNTOUCHED, deps=["inventory_atp"])
def edi_inventory_846(context: dg.AssetExecutionContext, hub_store: HubStoreResource,
                      sftp: SftpResource) -> dg.MaterializeResult:
    """An 846 to each partner with ``send_846`` whose SKUs' quantities changed, written to its folder."""
    store, partners = hub_store.store(), hub_store.partners()
    summary = queue_inventory_846(store, partners)
    # No connection to our SFTP server when there is nothing to write.
    written = write_pending(context, store, partners, sftp, summary.queued)
    return dg.MaterializeResult(metadata={
        "queued_846": dg.MetadataValue.json(summary.queued), "unchanged": dg.MetadataValue.json(summary.unchanged),
        "no_atp_snapshot": summary.no_snapshot, "documents_written": dg.MetadataValue.json(written)})


@dg.asset_check(asset=EDI_846, name=CHECK, description="Every SKU's quantity in the partners' last 846s is at most "
                "ATP now less their safety stock (never below 0).")
def edi_846_within_atp(hub_store: HubStoreResource) -> dg.AssetCheckResult:
    """What the 846s said is not above ATP less safety stock, for every partner that gets them."""
    store = hub_store.store()
    above = [(profile.id, row) for profile in partners_sending_846(hub_store.partners())
             for row in stock_above_atp(store, X12, profile.id, safety_stock_846(profile))]
    return dg.AssetCheckResult(
        passed=not above, severity=dg.AssetCheckSeverity.ERROR,
        metadata={"above_atp": dg.MetadataValue.json([
            {"partner": partner, "sku": row.sku, "published": row.published, "allowed": row.allowed,
             "atp": format(row.atp.normalize(), "f")} for partner, row in above[:LISTED]])},
        description=(f"{len(above)} SKU(s) told above ATP less safety stock: "
                     + ", ".join(f"{partner}:{row.sku}" for partner, row in above[:LISTED])) if above else None)


def edi_846_defs(partners: PartnerDirectory) -> dg.Definitions:
    """The 846 asset, check, job and schedule when a partner asks for 846s (stopped while SFTP settings are missing)."""
    if not partners_sending_846(partners):
        return dg.Definitions()
    # The 846 asset stays out of the exception queue (its problems fail its own run and check).
    job, schedule = outbound_job_and_schedule(EDI_846, cron="5-59/15 * * * *", every="15_minutes",
                                              missing=missing_sftp_env(), exception_queue=False)
    return dg.Definitions(assets=[edi_inventory_846], asset_checks=[edi_846_within_atp], jobs=[job],
                          schedules=[schedule])


@dg.definitions
def stock_publishing() -> dg.Definitions:
    """One publishing asset per Shopify or marketplace account with ``publish_stock``, from the profiles as they are."""
    partners = PartnerDirectory.load(_PARTNERS_DIR.get() or Path(get_settings().partners_dir))
    built = []
    for profile in partners:
        for settings in profile.channels:
            if isinstance(settings, ShopifyProfile | AmazonProfile) and settings.publish_stock:
                source = get_source(settings.kind)
                assert isinstance(source, PolledSource)  # shopify and amazon are polled: their accounts have resources
                missing = unset_env_vars(source.account_resource(settings))
                built.append(stock_defs(settings, profile.id, missing))
    return dg.Definitions.merge(edi_846_defs(partners), *built)
