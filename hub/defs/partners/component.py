"""The partner profiles as components: one per X12/SFTP partner, store or seller account, pushed source and target.

Everything here runs when Dagster builds the definitions (``PartnerProfiles.build_defs``), never at
import: the profiles and ``HUB_*`` settings are read then, and secrets stay ``EnvVar``s resolved
when a run starts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import dagster as dg

from hub.defs.channels.component import PolledAccount, PushedSource
from hub.defs.edi import assets as edi_assets
from hub.defs.edi.component import X12PartnerInbox
from hub.defs.erp.component import OrderTargetComponent
from hub.defs.operations.assets import exception_queue_asset
from hub.defs.resources import hub_store_resource
from hub.settings import HubSettings, get_settings, resolve_database_url
from hub.sources import FolderSource, PolledSource, QueuedSource, accounts, get_source
from hub.targets import configured_targets
from mappings.profiles import PartnerDirectory

# The profiles folder one build_definitions(partners_dir) call loads (tests, the demo); unset:
# HUB_PARTNERS_DIR. A context variable, so a load elsewhere (another thread) is not affected.
_PARTNERS_DIR: ContextVar[Path | None] = ContextVar("hub_partners_dir", default=None)


@contextmanager
def partners_dir_for_loading(partners_dir: Path | None) -> Iterator[None]:
    """Within this block, ``PartnerProfiles`` reads the profiles of ``partners_dir`` (None: ``HUB_PARTNERS_DIR``)."""
    token = _PARTNERS_DIR.set(Path(partners_dir) if partners_dir else None)
    try:
        yield
    finally:
        _PARTNERS_DIR.reset(token)


class PartnerProfiles(dg.Component, dg.Model, dg.Resolvable):
    """Every account the partner profiles list, each built by its own component.

    An X12/SFTP partner: its inbox sensor (``X12PartnerInbox``). A store or seller account of a polled
    source: its sync asset, job, schedule and resource (``PolledAccount``). A source that has bodies
    pushed to it and an account: its queue (``PushedSource``). Each target the profiles deliver to:
    its push asset downstream of every intake asset (``OrderTargetComponent``). Plus the ``hub_store``
    resource, which hands the same profiles to the runs. A profile file that cannot be loaded leaves
    its partner out (the others load) and is listed in the metadata ``partner_profile_problems``.
    """

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """The components' definitions, merged, from the profiles as they are now."""
        settings = get_settings()
        partners_dir = _PARTNERS_DIR.get() or Path(settings.partners_dir)
        partners = PartnerDirectory.load(partners_dir)
        intake = dg.Definitions.merge(*(component.build_defs(context)
                                        for component in account_components(partners, settings)))
        # Every target's push asset waits for every intake asset of the same run (the account
        # components build AssetsDefinitions; the Definitions type also allows specs).
        upstream = [edi_assets.edi_inbound_orders.key, *(
            key for asset in intake.assets or () if isinstance(asset, dg.AssetsDefinition) for key in asset.keys)]
        targets = [
            OrderTargetComponent(name, kind, tuple(upstream),
                                 tuple(sorted(p.id for p in partners if any(t.name == name for t in p.targets))),
                                 pool=target_pool(partners, name), push_budget_s=settings.push_time_budget_seconds,
                                 sensor_interval_s=settings.sensor_interval_seconds)
            for name, kind in configured_targets(partners).items()
        ]
        delivery = [target.build_defs(context) for target in targets]
        # The queue sits downstream of everything that opens or closes an exception, so a run that
        # changes it materializes it last.
        changes_queue = [*upstream, edi_assets.edi_functional_acks.key, dg.AssetKey("edi_po_acknowledgments"),
                        dg.AssetKey("edi_ship_notices"), *(
            key for defs in delivery for asset in defs.assets or () if isinstance(asset, dg.AssetsDefinition)
            for key in asset.keys)]
        changes_queue.append(dg.AssetKey("edi_invoices_810"))  # the 810s (hub/defs/edi/invoices810.py)
        problems = [str(problem) for problem in partners.problems]
        own = dg.Definitions(
            assets=[exception_queue_asset(changes_queue, resolve_database_url())],
            resources={"hub_store": hub_store_resource(partners_dir, settings.max_document_bytes)},
            metadata={"partner_profile_problems": dg.MetadataValue.json(problems)} if problems else {},
        )
        return dg.Definitions.merge(own, intake, *delivery)


def target_pool(partners: PartnerDirectory, name: str) -> str | None:
    """The pool a profile sets for target ``name`` (the first profile, by id, that sets one); None: the name."""
    pools = sorted((p.id, t.pool) for p in partners for t in p.targets if t.name == name and t.pool)
    return pools[0][1] if pools else None


def account_components(partners: PartnerDirectory, settings: HubSettings | None = None) -> list[dg.Component]:
    """One component per account of the profiles, by what its source is (``hub.sources``).

    ``settings`` (default: the environment's) give the sensors' interval and the files per intake run.
    """
    settings = settings or get_settings()
    interval = settings.sensor_interval_seconds
    components: list[dg.Component] = []
    kinds = set()
    for source, profile, channel in accounts(partners):
        kinds.add(source.kind)
        if isinstance(source, PolledSource):
            components.append(PolledAccount(source, profile, channel))
        elif isinstance(source, FolderSource) and source.folders(channel) is not None:
            components.append(X12PartnerInbox(profile, interval, settings.intake_batch_max_files))
    for kind in sorted(kinds):  # a queue per source that has bodies pushed to us and an account listed
        source = get_source(kind)
        if isinstance(source, QueuedSource):
            components.append(PushedSource(source, interval))
    return components
