"""856 ship notices to partners that ask for them (an ``asn`` section in their x12_sftp channel).

One asset, its check, job and a schedule: every 5 minutes the ERP's done deliveries (Odoo
``stock.picking``) of the partners' orders are read, an 856 is queued for each delivery that has
none (once: unique per delivery), and the partners' pending outbound documents are written to their
folders (validated first, ``hub.delivery``), so the notice is there before the carrier picks up;
856s unanswered past the partner's ack SLA become ``ack_overdue``.
The ERP is read through the resource ``erp_catalogue`` (``hub/defs/catalogue``: the Odoo target's
``HUB_ERP_*`` variables, resolved when a run starts; one read-only ERP resource for both); the
schedule starts stopped while they or our SFTP server's settings are missing.
"""

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
from pydantic import SecretStr

from connectors.erp import OdooConfig, OdooJson2Client
from connectors.erp._pickings import OdooPickings
from hub.defs._outbound import outbound_job_and_schedule, write_pending
from hub.defs._policies import OWNERS, retry_when_retriable
from hub.defs.resources import HubStoreResource, SftpResource, missing_sftp_env
from hub.delivery._acks855 import open_overdue_outbound
from hub.delivery._asn import deliveries_without_asn, partners_sending_856, queue_ship_notices
from hub.targets.odoo._resource import ErpResource

ASSET = "edi_ship_notices"
ERP_ENV = ("HUB_ERP_URL", "HUB_ERP_API_KEY")


@contextmanager
def _pickings(resource: ErpResource) -> Iterator[OdooPickings]:
    config = OdooConfig(database=resource.database or None, api_key=SecretStr(resource.api_key),
                        http={"base_url": resource.base_url, "max_retries": resource.max_read_retries})
    with OdooJson2Client(config) as client:
        yield OdooPickings(client)


@dg.asset(name=ASSET, group_name="edi", kinds={"sftp", "x12", "odoo"}, pool="sftp", owners=OWNERS,
          required_resource_keys={"hub_store", "sftp", "erp_catalogue"})
def edi_ship_notices(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """856 ship notices queued once per done ERP delivery and written to the partners' folders."""
    hub_store: HubStoreResource = context.resources.hub_store
    sftp: SftpResource = context.resources.sftp
    store, partners = hub_store.store(), hub_store.partners()
    sending = partners_sending_856(partners)
    if not sending:  # no ERP read and no SFTP connection while no partner asks for 856s
        return dg.MaterializeResult(metadata={"queued_856": dg.MetadataValue.json([])})
    with retry_when_retriable(context), _pickings(context.resources.erp_catalogue) as erp:
        summary = queue_ship_notices(store, partners, erp)
    written = write_pending(context, store, partners, sftp, (profile.id for profile in sending))
    overdue = open_overdue_outbound(store, ("856",))
    return dg.MaterializeResult(metadata={
        "queued_856": dg.MetadataValue.json(summary.queued),
        "invalid_856": dg.MetadataValue.json(summary.invalid),
        "ack_overdue": dg.MetadataValue.json(overdue),
        "documents_written": dg.MetadataValue.json(written),
    })


@dg.asset_check(asset=ASSET, name="every_shipped_order_has_an_asn",
                required_resource_keys={"hub_store", "erp_catalogue"})
def every_shipped_order_has_an_asn(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
    """Every done ERP delivery of a partner that wants 856s has its 856 (run after the asset)."""
    hub_store: HubStoreResource = context.resources.hub_store
    partners = hub_store.partners()
    missing: list[dict[str, object]] = []
    if partners_sending_856(partners):
        with _pickings(context.resources.erp_catalogue) as erp:
            missing = deliveries_without_asn(hub_store.store(), partners, erp)
    return dg.AssetCheckResult(
        passed=not missing, severity=dg.AssetCheckSeverity.WARN,
        metadata={"deliveries_without_856": dg.MetadataValue.json(missing[:500])},
        description=f"{len(missing)} done ERP deliveries have no 856 (see outbound_invalid exceptions)"
        if missing else None,
    )


@dg.definitions
def ship_notices() -> dg.Definitions:
    """The asset and its check, its job (ending with the exception queue) and schedule."""
    missing = [*missing_sftp_env(), *(name for name in ERP_ENV if not os.environ.get(name))]
    job, schedule = outbound_job_and_schedule(ASSET, cron="*/5 * * * *", every="5_minutes", missing=missing)
    return dg.Definitions(assets=[edi_ship_notices], asset_checks=[every_shipped_order_has_an_asn], jobs=[job],
                          schedules=[schedule])
