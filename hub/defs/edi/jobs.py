"""The job every X12 file runs: intake, acks back to the partner, orders to every target, checks."""

import dagster as dg

from hub.defs._policies import EXECUTOR
from hub.defs.erp.assets import CHECK_SCOPE_TAG, RUN_SCOPE, TARGET_ASSETS
from hub.defs.operations.assets import EXCEPTION_QUEUE

# Selected by key, not by the asset objects: a module of the defs folder holding those objects would
# hand them to Dagster a second time.
edi_inbound_job = dg.define_asset_job(
    "edi_inbound_job",
    selection=dg.AssetSelection.assets("edi_inbound_orders", "edi_functional_acks", EXCEPTION_QUEUE) | TARGET_ASSETS,
    description="One partner's files: intake, acks back to the partner, orders to the ERP, checks, the exception queue "
                "as it now is.",
    # The exactly-once check after the push looks at the orders this run delivered (the full one is hourly).
    tags={"hub/connector": "sftp", CHECK_SCOPE_TAG: RUN_SCOPE},
    executor_def=EXECUTOR,
)
