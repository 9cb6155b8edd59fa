"""The one registry of sources: profiles, Dagster definitions, replay and ``hub map`` all read it."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import TypeVar

from canonical.errors import ConfigurationError
from hub.intake import register_order_source
from hub.sources._protocol import Source
from mappings.profiles import ChannelSettings, PartnerDirectory, PartnerProfile, register_channel_kind

_log = logging.getLogger(__name__)
_SOURCES: dict[str, Source] = {}
S = TypeVar("S", bound=Source)


def register_source(source: S) -> S:
    """Make ``source`` known to the whole hub (and its settings a channel kind profiles may list); returns it.

    Registering the same object again is harmless; another source under a taken kind or name is refused.
    """
    if not isinstance(source, Source):
        raise TypeError(f"{source!r} does not have what a source needs (hub.sources.Source)")
    for other in _SOURCES.values():
        if other is not source and (other.kind == source.kind or other.name == source.name):
            raise ConfigurationError(f"a source {source.kind!r} / {source.name!r} is registered already")
    if source.settings_model.model_fields["kind"].default != source.kind:
        raise ConfigurationError(f"source {source.kind!r}: its settings model's kind must default to {source.kind!r}")
    register_channel_kind(source.settings_model)
    for channel in source.replay_channels:
        register_order_source(channel, source.order_source)
    _SOURCES[source.kind] = source
    return source


def sources() -> list[Source]:
    """Every registered source, in the order they were registered."""
    return list(_SOURCES.values())


def get_source(kind: str) -> Source:
    """The source of a channel kind."""
    try:
        return _SOURCES[kind]
    except KeyError:
        raise ConfigurationError(f"no source of kind {kind!r} (registered: {', '.join(_SOURCES)})") from None


def source_named(name: str) -> Source:
    """The source ``hub map --source NAME`` means."""
    for candidate in _SOURCES.values():
        if candidate.name == name:
            return candidate
    raise ConfigurationError(f"no source named {name!r} (registered: {', '.join(s.name for s in _SOURCES.values())})")


def source_of_channel(channel: str) -> Source | None:
    """The source that maps again the archived receipts of a receipt channel, or None."""
    return next((s for s in _SOURCES.values() if channel in s.replay_channels), None)


def accounts(partners: PartnerDirectory) -> Iterator[tuple[Source, PartnerProfile, ChannelSettings]]:
    """Every channel of every partner, with its registered source.

    A channel whose kind has settings but no source (registered in ``mappings`` alone) is logged and
    skipped: the other accounts still run.
    """
    for profile in partners:
        for settings in profile.channels:
            found = _SOURCES.get(settings.kind)
            if found is None:
                _log.error("partner %s: no source reads channels of kind %r; that channel is not read",
                           profile.id, settings.kind)
                continue
            yield found, profile, settings


def account_profile(partners: PartnerDirectory, kind: str, partner_id: str | None) -> PartnerProfile:
    """The profile to map with: the one named, or the only one with a channel of ``kind``."""
    if partner_id:
        return partners.get(partner_id)
    candidates = [p for p in partners if p.channel(kind) is not None]
    if len(candidates) != 1:
        names = ", ".join(p.id for p in candidates) or "none"
        not_loaded = "".join(f"; not loaded: {problem}" for problem in partners.problems)
        raise ConfigurationError(f"say which {kind} account with --partner (profiles: {names}){not_loaded}")
    return candidates[0]
