"""Everything Dagster: assets, sensors, checks, jobs and resources. No business logic lives here."""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from hub.defs.edi.assets import edi_documents_accounted_for, edi_functional_acks, edi_inbound_orders
from hub.defs.edi.sensors import sftp_inbox_sensor
from hub.defs.erp.assets import erp_push_job, erp_push_schedule, erp_sales_orders, erp_sales_orders_exactly_once
from hub.defs.resources import resources_from_env
from hub.settings import get_settings
from mappings.profiles import PartnerDirectory

edi_inbound_job = dg.define_asset_job(
    "edi_inbound_job",
    selection=dg.AssetSelection.assets(edi_inbound_orders, edi_functional_acks, erp_sales_orders),
    description="One partner file: intake, acks back to the partner, orders to the ERP, checks.",
)


def build_definitions(partners_dir: Path | None = None) -> dg.Definitions:
    """The hub's Definitions: one inbox sensor per partner profile that has SFTP folders."""
    settings = get_settings()
    partners_dir = Path(partners_dir or settings.partners_dir)
    partners = PartnerDirectory.load(partners_dir)
    sensors = [sftp_inbox_sensor(profile, edi_inbound_job.name) for profile in partners if profile.sftp and profile.x12]
    return dg.Definitions(
        assets=[edi_inbound_orders, edi_functional_acks, erp_sales_orders],
        asset_checks=[edi_documents_accounted_for, erp_sales_orders_exactly_once],
        jobs=[edi_inbound_job, erp_push_job],
        sensors=sensors,
        schedules=[erp_push_schedule],
        resources=resources_from_env(partners_dir, settings.max_document_bytes),
    )
