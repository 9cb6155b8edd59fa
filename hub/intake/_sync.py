"""One incremental sync for every polled source: read since the cursor (minus a lookback), store, advance.

The source (``hub.sources``) knows its API: how far back to look and how to read its pages. This
module knows the promises every source keeps: each body archived raw before it is parsed, an
unreadable body queued and the cursor held, the cursor moved only after the last page.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from canonical.errors import ConfigurationError
from hub import store as st
from hub.intake._channels import (
    ChannelSummary,
    MappedOrderLike,
    advance_cursor,
    settle_unreadable_pages,
    store_channel_document,
    store_unreadable_page,
    sync_window_start,
)
from mappings.profiles import PartnerProfile

# How far back the very first sync of an account reads.
INITIAL_WINDOW = dt.timedelta(days=30)


@dataclass
class UnreadableBody:
    """An answer that is not what the API documents (not JSON, not its shape): archived and queued, cursor held."""

    raw: bytes
    source_name: str
    reason: str


@dataclass
class SourcePage:
    """One page a source read: its raw body, how to map its orders, the bodies it needs to be mapped again."""

    raw: bytes
    source_name: str
    map_orders: Callable[[str], Iterable[MappedOrderLike]]
    """Maps the page's orders, given the archived body's sha256 (the orders' ``raw_document_id``)."""
    attachments: Sequence[bytes] = ()
    """Other bodies the page's orders need (e.g. order items), archived and linked to its receipt."""
    unreadable: Sequence[UnreadableBody] = ()
    """Bodies met while reading this page that could not be read (e.g. one order's items)."""


class PolledPages(Protocol):
    """What the sync needs of a source: its channel kind, its receipts' channel, its lookback, its pages."""

    @property
    def kind(self) -> str: ...
    @property
    def channel(self) -> str: ...

    def lookback(self, settings: Any) -> dt.timedelta:
        """How far before the cursor each sync reads again."""

    def read_pages(self, client: Any, profile: PartnerProfile, settings: Any, *, start: dt.datetime,
                   now: dt.datetime) -> Iterator[SourcePage | UnreadableBody]:
        """The account's pages of orders updated since ``start``, in order."""


@dataclass
class SyncResult:
    """One sync of one account: what was stored, where the cursor went, what the API cost."""

    summary: ChannelSummary
    window_start: dt.datetime
    cursor: str | None
    requests: dict[str, Any] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        """The sync's outcomes as Dagster run metadata."""
        return {**self.summary.metadata(), "window_start": self.window_start.isoformat(),
                "cursor": self.cursor or "", **{f"http_{k}": v for k, v in self.requests.items()}}


def sync_orders(store: st.HubStore, source: PolledPages, client: Any, profile: PartnerProfile, *,
                now: dt.datetime | None = None) -> SyncResult:
    """Read every order of ``profile``'s account of ``source`` updated since the cursor; each page archived raw
    first."""
    settings = profile.channel(source.kind)
    if settings is None:
        raise ConfigurationError(f"partner {profile.id!r} has no {source.kind} channel")
    now = now or st.utcnow()
    channel = source.channel
    start = sync_window_start(store, partner_id=profile.id, channel=channel, lookback=source.lookback(settings),
                              initial=now - INITIAL_WINDOW)
    summary, newest = ChannelSummary(), None
    for page in source.read_pages(client, profile, settings, start=start, now=now):
        unreadable = [page] if isinstance(page, UnreadableBody) else list(page.unreadable)
        for body in unreadable:
            store_unreadable_page(store, channel=channel, partner_id=profile.id, raw=body.raw, reason=body.reason,
                                  source_name=body.source_name, summary=summary, now=now)
        if isinstance(page, UnreadableBody):
            continue
        mapped: list[MappedOrderLike] = []

        def map_orders(sha: str, page: SourcePage = page, mapped: list[MappedOrderLike] = mapped):
            mapped.extend(page.map_orders(sha))
            return mapped

        store_channel_document(store, channel=channel, partner_id=profile.id, source_name=page.source_name,
                               raw=page.raw, map_orders=map_orders, summary=summary, attachments=page.attachments,
                               profile=profile, now=now)
        newest = _newest(newest, mapped)
    cursor = _finish(store, profile.id, channel, summary, newest, now)
    return SyncResult(summary, start, cursor, _stats(client))


def _finish(store: st.HubStore, partner_id: str, channel: str, summary: ChannelSummary,
            newest: dt.datetime | None, now: dt.datetime) -> str | None:
    """Move the cursor after the last page, unless a page could not be read: then hold it where it was.

    Rejected orders do not hold it (they are archived and replayable); an unreadable page does,
    because nobody knows which orders it held. A sync that read everything settles earlier ones.
    """
    if summary.unreadable_pages:
        with store.transaction() as conn:
            return st.get_cursor(conn, partner_id, channel)
    cursor = advance_cursor(store, partner_id=partner_id, channel=channel, newest=newest, now=now)
    settle_unreadable_pages(store, partner_id=partner_id, channel=channel, now=now)
    return cursor


def _newest(newest: dt.datetime | None, mapped: Iterable[MappedOrderLike]) -> dt.datetime | None:
    for item in mapped:
        if item.updated_at is not None and (newest is None or item.updated_at > newest):
            newest = item.updated_at
    return newest


def _stats(client: Any) -> dict[str, Any]:
    stats = getattr(client, "stats", None)
    return stats.as_dict() if stats is not None else {}
