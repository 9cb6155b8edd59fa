"""The hub's one error tree, grouped by what the caller should do about an error.

    HubError
    ├── ConfigurationError   fix the configuration, then retry (never retried automatically)
    ├── RetriableError       transient: back off and try again (network, 429, 5xx, lock timeouts)
    ├── RejectedDocument     the input itself is wrong: record an exception with its location,
    │                        send the negative ack, do not retry until the document is fixed
    ├── DuplicateDocument    already received: refuse, record, never process twice
    └── FatalError           a bug or an invariant broken: stop and page someone
"""

from __future__ import annotations


class HubError(Exception):
    """Base of every error the hub raises on purpose."""


class ConfigurationError(HubError):
    """Settings, partner profiles, credentials or host keys are missing or wrong."""


class RetriableError(HubError):
    """A transient failure; the same call may succeed later.

    ``retry_after`` (seconds) carries a server's ``Retry-After`` hint when there was one.
    ``write_in_doubt`` is true when a write was sent and got no answer: it may still commit, so
    the next attempt must look the record up before writing anything.
    """

    write_in_doubt: bool = False

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RejectedDocument(HubError):
    """A document that cannot be accepted as it is.

    ``location`` says where a person should look, e.g. ``"ISA 000000101 / GS 1 / ST 0001 / seg 7 PO1 / el 2"``,
    a JSON path or a CSV row.
    """

    def __init__(self, reason: str, *, location: str | None = None) -> None:
        super().__init__(reason if location is None else f"{reason} (at {location})")
        self.reason = reason
        self.location = location


class DuplicateDocument(HubError):
    """The document (or interchange) was received before and must not be processed again."""


class FatalError(HubError):
    """An invariant is broken: a bug, not bad input. Stop and investigate."""
