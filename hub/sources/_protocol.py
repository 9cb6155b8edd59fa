"""What a source of orders is: the seam every channel (X12 over SFTP, Shopify, a marketplace...) plugs into.

A source is registered once (:func:`hub.sources.register_source`) and everything else finds it in
the registry: the partner profiles (its settings model, by its ``kind``), the Dagster definitions
(an asset, job and schedule per account of a polled source; an inbox sensor for a folder source),
``hub exceptions replay`` (its archived receipts mapped again) and ``hub map --source``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Protocol, runtime_checkable

from hub import store as st
from hub.intake import MappedOrderLike, SourcePage, UnreadableBody
from mappings.profiles import ChannelSettings, PartnerDirectory, PartnerProfile, SftpFolders

MapArchived = Callable[[bytes, str, st.Receipt], Iterable[MappedOrderLike]]
"""Maps an archived body (raw, its sha256, its receipt) to the orders the intake stores."""


class CannotMapAgain(Exception):
    """An archived receipt that cannot be mapped again from the archive alone; the message says what to do."""


@runtime_checkable
class Source(Protocol):
    """A kind of channel orders come in through."""

    @property
    def kind(self) -> str:
        """The profiles' channel kind (``channels: [{kind: ...}]``)."""

    @property
    def name(self) -> str:
        """Its Dagster names' prefix (``<name>_orders_<partner>``) and its ``hub map --source`` name."""

    @property
    def order_source(self) -> str:
        """Its orders' ``source`` (a ``canonical.model.Source`` value): unique with the partner and order number."""

    @property
    def settings_model(self) -> type[ChannelSettings]:
        """A profile's settings for one account of this source (registered as the channel kind's model)."""

    @property
    def channel(self) -> str:
        """The receipts' channel of the documents it archives."""

    @property
    def replay_channels(self) -> tuple[str, ...]:
        """Every receipt channel whose archived documents it maps again (its own, and e.g. webhook bodies)."""

    @property
    def clean_outcomes(self) -> frozenset[str]:
        """The outcomes of its receipts that need nobody; any other one is explained by an exception."""

    def describe(self, profile: PartnerProfile, settings: Any) -> str:
        """One line saying which account this is and what is read (the Dagster asset's description)."""

    def map_files(self, files: Sequence[tuple[str, bytes]], partners: PartnerDirectory,
                  partner_id: str | None) -> list[dict[str, Any]]:
        """Saved documents mapped to canonical JSON offline (``hub map``): one JSON object per result."""

    def map_again(self, store: st.HubStore, partners: PartnerDirectory, receipt_id: int, *,
                  now: dt.datetime) -> str:
        """Map an archived receipt again after a fix (nothing stored twice); what it did, in words.

        Raises :class:`CannotMapAgain` when the archive alone is not enough.
        """


@runtime_checkable
class PolledSource(Source, Protocol):
    """A source read by a schedule from an API, since a cursor (``hub.intake.sync_orders``)."""

    @property
    def group(self) -> str:
        """The Dagster asset group of its accounts."""

    @property
    def cron(self) -> str:
        """How often each account is synced (a cron schedule)."""

    def lookback(self, settings: Any) -> dt.timedelta:
        """How far before the cursor each sync reads again (an order committed in the cursor's second)."""

    def account_resource(self, settings: Any) -> Any:
        """The Dagster resource of one account (secrets as ``EnvVar``), with a ``client()`` context manager."""

    def read_pages(self, client: Any, profile: PartnerProfile, settings: Any, *, start: dt.datetime,
                   now: dt.datetime) -> Iterator[SourcePage | UnreadableBody]:
        """The account's pages of orders updated since ``start``, read with ``client``."""


@runtime_checkable
class FolderSource(Source, Protocol):
    """A source whose partners drop files into folders on our SFTP server, watched by a sensor."""

    def folders(self, settings: Any) -> SftpFolders | None:
        """The account's folders, or None when it has none (nothing is watched)."""


@runtime_checkable
class QueuedSource(Source, Protocol):
    """A source whose bodies are pushed to us (webhooks): a receiver archives and queues them, a run maps them."""

    @property
    def queue_channel(self) -> str:
        """The receipts' channel of the queued bodies (also the Dagster names: ``<queue_channel>_orders``...)."""

    @property
    def group(self) -> str:
        """The Dagster asset group of its queue asset."""

    @property
    def queue_label(self) -> str:
        """What one queued body is called for a person, e.g. ``Shopify webhook``."""

    def mapper(self, partners: PartnerDirectory) -> MapArchived:
        """Maps a queued body with its partner's profile."""
