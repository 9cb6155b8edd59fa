"""A toy source registered from outside the hub: a drop folder of JSON order pages, and pages pushed to us.

It is the walk-through of docs/adding-a-source.md. Nothing in ``hub/`` or ``mappings/`` names it:
importing this module registers it (``register_source``), and from then on a profile may list
``{kind: toy_folder, folder_env: ...}``, the Dagster definitions give each such account a sync
asset, job and schedule, replay maps its archived pages again, and ``hub map --source toy`` reads
saved pages.

A page is one file, ``{"orders": [{"id", "updated_at", "date", "buyer", "lines": [{"sku",
"quantity", "unit_price"}]}]}``; the folder stands in for an API that answers "orders updated
since". Its orders carry the canonical source ``email`` (the model's list of sources is closed;
the coming email channel is what this toy stands in for). Pages may also be pushed to us: a
receiver archives them as ``toy_push`` receipts, and the ``toy_push_queue`` sensor has them mapped.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import dagster as dg

from canonical.errors import RejectedDocument
from canonical.model import Order, OrderLine, Party, PartyRole, Source
from hub import store as st
from hub.intake import SourcePage, UnreadableBody
from hub.sources import MapArchived, account_profile, register_source
from hub.sources._api import map_receipt_again
from mappings._channel import BAD_ORDER_ERRORS, OK, REJECTED, MappedOrder
from mappings.profiles import ChannelSettings, PartnerDirectory, PartnerProfile


class ToyFolderSettings(ChannelSettings):
    """A profile's drop folder (the channel's settings, validated when the profile is loaded)."""

    kind: Literal["toy_folder"] = "toy_folder"
    folder_env: str
    """Environment variable holding the folder's path (read by Dagster at run time, like a secret)."""
    lookback_minutes: int = 5


class ToyFolderClient:
    """The folder's "API": the pages holding an order updated since a time."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def pages_since(self, start: dt.datetime) -> Iterator[tuple[str, bytes]]:
        """(file name, raw body) of each page with an order updated at or after ``start``; unreadable ones too."""
        for path in sorted(self.folder.glob("*.json")):
            raw = path.read_bytes()
            try:
                times = [dt.datetime.fromisoformat(o["updated_at"]) for o in json.loads(raw)["orders"]]
            except (ValueError, KeyError, TypeError):
                yield path.name, raw  # the sync archives it as unreadable and holds the cursor
                continue
            if any(time >= start for time in times):
                yield path.name, raw


class ToyFolderResource(dg.ConfigurableResource):
    """One account's folder, as a Dagster resource."""

    folder: str

    @contextmanager
    def client(self) -> Iterator[ToyFolderClient]:
        """The folder's client."""
        yield ToyFolderClient(Path(self.folder))


def map_toy_page(raw: bytes, profile: PartnerProfile, sha: str) -> list[MappedOrder]:
    """Each order of a page, mapped; one that cannot be read is rejected on its own."""
    try:
        orders = json.loads(raw)["orders"]
    except (ValueError, KeyError, TypeError) as exc:
        raise RejectedDocument("not a toy orders page", location="$") from exc
    return [_map_order(order, profile, sha, f"orders[{i}]") for i, order in enumerate(orders)]


def _map_order(data: dict, profile: PartnerProfile, sha: str, where: str) -> MappedOrder:
    try:
        updated_at = dt.datetime.fromisoformat(data["updated_at"])
        amounts = [Decimal(line["quantity"]) * Decimal(line["unit_price"]) for line in data["lines"]]
        lines = [OrderLine(line_no=str(n), sku=line["sku"], quantity=Decimal(line["quantity"]),
                           unit_price=Decimal(line["unit_price"]), amount=amount)
                 for n, (line, amount) in enumerate(zip(data["lines"], amounts, strict=True), start=1)]
        order = Order(source=Source.EMAIL, source_ref=data["id"], partner_id=profile.id,
                      order_date=dt.date.fromisoformat(data["date"]), currency=profile.currency,
                      parties=[Party(role=PartyRole.BUYER, name=data["buyer"])], lines=lines,
                      total=sum(amounts, Decimal(0)), raw_document_id=sha,
                      document_ref=where)
    except BAD_ORDER_ERRORS as exc:
        return MappedOrder(str(data.get("id", "")) if isinstance(data, dict) else "", None, None, REJECTED,
                           [f"{where}: {type(exc).__name__}"])
    return MappedOrder(order.source_ref, updated_at, order, OK)


class ToyFolderSource:
    """The toy source: what ``hub.sources.PolledSource`` asks for, and nothing more."""

    kind = "toy_folder"
    name = "toy"
    order_source = "email"
    settings_model = ToyFolderSettings
    channel = "toy_folder"
    queue_channel = "toy_push"
    """Pages pushed to us (a receiver archives and queues them; ``toy_push_orders`` maps them)."""
    queue_label = "Toy push"
    replay_channels = ("toy_folder", "toy_push")
    group = "toy"
    cron = "*/5 * * * *"
    clean_outcomes = frozenset({"accepted"})

    def describe(self, profile: PartnerProfile, settings: ToyFolderSettings) -> str:
        """The account, in one line."""
        return f"Orders of {profile.name} dropped as JSON pages (folder in ${settings.folder_env})."

    def lookback(self, settings: ToyFolderSettings) -> dt.timedelta:
        """The overlap read again before the cursor."""
        return dt.timedelta(minutes=settings.lookback_minutes)

    def account_resource(self, settings: ToyFolderSettings) -> ToyFolderResource:
        """The account's resource; the folder comes from the environment when a run starts."""
        return ToyFolderResource(folder=dg.EnvVar(settings.folder_env))

    def read_pages(self, client: ToyFolderClient, profile: PartnerProfile, settings: ToyFolderSettings, *,
                   start: dt.datetime, now: dt.datetime) -> Iterator[SourcePage | UnreadableBody]:
        """The pages with an order updated since ``start``."""
        for name, raw in client.pages_since(start):
            try:
                json.loads(raw)["orders"]
            except (ValueError, KeyError, TypeError):
                yield UnreadableBody(raw, f"unreadable {name}", "not a toy orders page")
                continue

            def map_orders(sha: str, raw: bytes = raw) -> list[MappedOrder]:
                return map_toy_page(raw, profile, sha)

            yield SourcePage(raw, name, map_orders)

    def mapper(self, partners: PartnerDirectory) -> MapArchived:
        """Maps an archived page (synced or pushed) with its partner's profile."""
        def map_orders(raw: bytes, sha: str, receipt: st.Receipt) -> list[MappedOrder]:
            return map_toy_page(raw, partners.get(receipt.partner_id), sha)

        return map_orders

    def map_again(self, store: st.HubStore, partners: PartnerDirectory, receipt_id: int, *, now: dt.datetime) -> str:
        """An archived page mapped again."""
        return map_receipt_again(store, partners, receipt_id, self.mapper(partners), now=now)

    def map_files(self, files: Sequence[tuple[str, bytes]], partners: PartnerDirectory,
                  partner_id: str | None) -> list[dict[str, Any]]:
        """Each saved page's orders as canonical JSON."""
        if not files:
            return []
        profile = account_profile(partners, self.kind, partner_id)
        return [{"file": name, "orders": [m.order.model_dump(mode="json") if m.order else None
                                          for m in map_toy_page(data, profile, st.sha256_hex(data))]}
                for name, data in files]


TOY = register_source(ToyFolderSource())
