"""Email: orders customers send to an IMAP mailbox, exactly once, each message moved out after its commit.

A message's receipt is named by account, mailbox, UIDVALIDITY and UID (plus a hash of its
Message-ID) and holds the sha256 of its raw bytes, archived before anything parses them. The sync
reads the UIDs above the mailbox's cursor; a changed UIDVALIDITY (a restored or rebuilt mailbox)
reads the whole mailbox again, and a message whose bytes were received before, or whose Message-ID
was (a resend), is recorded as a ``duplicate`` instead of being applied again. After the commit the
message is moved to the Processed folder (accepted, duplicate, ignored) or Rejected (its exception
says why); nothing is ever deleted. Newsletters and auto-replies are recorded as ``ignored``.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import email.policy
import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from canonical.errors import RejectedDocument
from canonical.outcomes import ReceiptOutcome
from connectors.imap import ImapMailbox
from hub import store as st
from hub.intake import MappedOrderLike, SourcePage, UnreadableBody
from hub.sources._api import map_receipt_again
from hub.sources._protocol import MapArchived
from mappings.email import EmailChannelSettings, ignore_reason_of_raw, match_sender, read_email
from mappings.profiles import PartnerDirectory, PartnerProfile

_log = logging.getLogger(__name__)

CHANNEL = "email"
UID_CURSOR = "email_uid"
"""The sync cursor of the mailbox's UIDs (``<UIDVALIDITY>:<last UID>``); ``email`` holds the newest Date read."""
TO_PROCESSED = frozenset({ReceiptOutcome.ACCEPTED, ReceiptOutcome.ACCEPTED_WITH_WARNINGS, ReceiptOutcome.DUPLICATE,
                          ReceiptOutcome.IGNORED})
# Earlier receipts that make a new one a duplicate: a rejected or failed message may be sent again.
_COUNTS_AS_SEEN = (ReceiptOutcome.ACCEPTED, ReceiptOutcome.ACCEPTED_WITH_WARNINGS, ReceiptOutcome.PARTIALLY_ACCEPTED,
                   ReceiptOutcome.DUPLICATE, ReceiptOutcome.IGNORED)


@dataclass
class MailboxSession:
    """What an email account's resource hands the sync: the open mailbox and the store its ledger is in."""

    box: ImapMailbox
    store: st.HubStore
    account: str
    """``user@host``: the receipts' account part."""


def message_key(account: str, mailbox: str, uidvalidity: int, uid: int, message_id: str | None) -> str:
    """The receipt's name: account, mailbox, UIDVALIDITY, UID and a hash of the Message-ID (the resend guard)."""
    return f"{account}/{mailbox};UIDVALIDITY={uidvalidity};UID={uid};MID={message_id_hash(message_id)}"


def message_id_hash(message_id: str | None) -> str:
    """A short stable hash of a Message-ID (``-`` when there is none: no resend guard then)."""
    if not message_id or not message_id.strip():
        return "-"
    return hashlib.sha256(message_id.strip().encode("utf-8", "replace")).hexdigest()[:24]


def header_message_id(raw: bytes) -> str | None:
    """The Message-ID header alone (the headers are parsed, not the body)."""
    headers = email.parser.BytesHeaderParser(policy=email.policy.compat32).parsebytes(raw[:256 * 1024])
    value = headers.get("Message-ID")
    return "".join(str(value).split()) or None if value else None  # a folded header's whitespace dropped


class EmailSource:
    """IMAP mailboxes customers email orders to: one per profile's ``{kind: email_imap}`` channel."""

    kind = "email_imap"
    name = "email"
    order_source = "email"
    settings_model = EmailChannelSettings
    channel = CHANNEL
    replay_channels = (CHANNEL,)
    group = "email"
    cron = "*/5 * * * *"
    """The backstop schedule; the mailbox's sensor (``hub/defs/email``) asks for a run within its poll_seconds."""
    clean_outcomes = TO_PROCESSED

    def describe(self, profile: PartnerProfile, settings: EmailChannelSettings) -> str:
        """The mailbox, in one line."""
        return (f"Orders {profile.name} emails to {settings.mailbox} of {settings.username} at {settings.host}; "
                f"moved to {settings.processed_folder} or {settings.rejected_folder} once committed.")

    def lookback(self, settings: EmailChannelSettings) -> dt.timedelta:
        """No lookback: the UID cursor and the folder moves decide what is read, not time."""
        return dt.timedelta(0)

    def account_resource(self, settings: EmailChannelSettings) -> Any:
        """The mailbox's resource; its secrets are the environment variables the profile names."""
        from hub.defs.email.resources import email_resource

        return email_resource(settings)

    def read_pages(self, client: MailboxSession, profile: PartnerProfile, settings: EmailChannelSettings, *,
                   start: dt.datetime, now: dt.datetime) -> Iterator[SourcePage | UnreadableBody]:
        """Each new message as a page; after its commit (the next step of this generator) it is moved."""
        box, store = client.box, client.store
        state = box.state()
        last = _last_uid(store, profile.id, state.uidvalidity)
        for uid in box.uids_after(last):
            size = box.size(uid)
            if size is None:
                continue  # moved or expunged by someone else meanwhile
            if size > settings.max_message_bytes:
                _refuse_oversize(store, profile, settings, client.account, state.uidvalidity, uid, size, now)
                box.move(uid, settings.rejected_folder)
                _set_last_uid(store, profile.id, state.uidvalidity, uid, now)
                continue
            raw = box.fetch_raw(uid)
            if raw is None:
                continue
            key = message_key(client.account, settings.mailbox, state.uidvalidity, uid, header_message_id(raw))
            outcome = _settled(store, profile.id, key, raw, now)
            if outcome is None:
                yield SourcePage(raw, key, _mapper_for(profile, settings, raw))
                outcome = _outcome(store, profile.id, key, raw, now)
            box.move(uid, settings.processed_folder if outcome in TO_PROCESSED else settings.rejected_folder)
            _set_last_uid(store, profile.id, state.uidvalidity, uid, now)

    def mapper(self, partners: PartnerDirectory) -> MapArchived:
        """Maps an archived message with its partner's profile (a replay after a fix)."""
        def map_orders(raw: bytes, sha: str, receipt: st.Receipt) -> list[MappedOrderLike]:
            profile = partners.get(receipt.partner_id)
            settings = profile.channel(self.kind)
            assert isinstance(settings, EmailChannelSettings)
            return _map_message(raw, profile, settings, sha)

        return map_orders

    def map_again(self, store: st.HubStore, partners: PartnerDirectory, receipt_id: int, *, now: dt.datetime) -> str:
        """An archived message mapped again."""
        return map_receipt_again(store, partners, receipt_id, self.mapper(partners), now=now)

    def map_files(self, files: Sequence[tuple[str, bytes]], partners: PartnerDirectory,
                  partner_id: str | None) -> list[dict[str, Any]]:
        """Saved .eml files as one mailbox in order: a resend later in the call is a ``duplicate``."""
        seen_bytes: dict[str, str] = {}
        seen_ids: dict[str, str] = {}
        results = []
        for name, raw in files:
            sha, mid = st.sha256_hex(raw), message_id_hash(header_message_id(raw))
            earlier = seen_bytes.get(sha) or seen_ids.get(mid)
            if earlier:
                results.append({"file": name, "outcome": ReceiptOutcome.DUPLICATE.value,
                                "reason": f"a resend of {earlier}", "documents": []})
                continue
            result = _map_file(name, raw, sha, partners, partner_id)
            if result["outcome"] != ReceiptOutcome.REJECTED:
                seen_bytes[sha] = name
                if mid != "-":
                    seen_ids[mid] = name
            results.append(result)
        return results


def _mapper_for(profile: PartnerProfile, settings: EmailChannelSettings, raw: bytes):
    def map_orders(sha: str) -> list[MappedOrderLike]:
        return _map_message(raw, profile, settings, sha)

    return map_orders


def _map_message(raw: bytes, profile: PartnerProfile, settings: EmailChannelSettings,
                 sha: str) -> list[MappedOrderLike]:
    """The message's order; no order, or an unreadable one: rejected whole.

    One message is one order, so a message whose order cannot be read is rejected as a document
    (its exception says which attachment row or body line), not as one order among others. A sender
    the profile does not list is no reason to refuse: the order is read, marked ``sender_unknown``
    with the sender's address, and held for a person by the ``unknown_sender`` rule (a draft).
    """
    if ignore_reason_of_raw(raw):  # settled before mapping; a replay of an ignored message maps nothing
        return []
    try:
        result = read_email(raw, profile, sha)
    except RejectedDocument:
        raise
    except Exception as exc:
        # A message nobody foresaw is queued, never a crash loop; the type only: the text may quote it.
        raise RejectedDocument(f"the message could not be read ({type(exc).__name__})", location="$") from exc
    mapped = result.mapped
    if mapped is None:
        return []
    if mapped.order is None:
        errors = [p for p in mapped.findings if p.severity == "error"]
        raise RejectedDocument(f"order {mapped.channel_order_id} cannot be read: "
                               + "; ".join(str(p) for p in errors or mapped.problems),
                               location=errors[0].location if errors else "$")
    return [mapped]


def _map_file(name: str, raw: bytes, sha: str, partners: PartnerDirectory, partner_id: str | None) -> dict[str, Any]:
    """One saved message as ``hub map`` prints it (the shape X12's files have)."""
    from mappings._results import DocumentResult
    from mappings.email import ignore_reason, parse_email

    def done(outcome: str, reason: str | None, documents: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        return {"file": name, "outcome": outcome, "reason": reason, "documents": documents or []}

    parsed = parse_email(raw)
    if ignored := ignore_reason(parsed):
        return done(ReceiptOutcome.IGNORED.value, ignored)
    profile = partners.get(partner_id) if partner_id else match_sender(parsed.from_address, partners)
    if profile is None:
        return done(ReceiptOutcome.REJECTED.value, "the sender matches no customer profile (sender_addresses, "
                                                   "sender_domains); say which with --partner")
    settings = profile.channel(EMAIL.kind)
    if not isinstance(settings, EmailChannelSettings):
        return done(ReceiptOutcome.REJECTED.value, f"profile {profile.id} has no email_imap channel")
    try:
        mapped = _map_message(raw, profile, settings, sha)
    except RejectedDocument as exc:
        return done(ReceiptOutcome.REJECTED.value, f"{exc.location}: {exc.reason}")
    documents = []
    for order in mapped:  # one at most: a message whose order cannot be read was rejected above
        problems = [p for p in getattr(order, "findings", []) if p.severity != "note"]
        outcome = "accepted_with_warnings" if problems else "accepted"
        if order.order is not None and order.order.references.get("sender_unknown"):
            outcome = "needs_review"  # the intake holds it for approval (rule unknown_sender)
        documents.append(DocumentResult(order.channel_order_id, outcome, problems, order.order).to_json())
    return done(ReceiptOutcome.ACCEPTED.value, None, documents)


# -- the exactly-once ledger ----------------------------------------------------------------------------------

def _settled(store: st.HubStore, partner_id: str, key: str, raw: bytes, now: dt.datetime) -> ReceiptOutcome | None:
    """The outcome of a message already settled (seen under this key, a duplicate, ignored); None: map it.

    A duplicate or ignored message is archived and recorded here, in one transaction.
    """
    sha = st.sha256_hex(raw)
    receipts = st.tables.receipts
    with store.transaction() as conn:
        same = conn.execute(select(receipts.c.state, receipts.c.outcome).where(
            (receipts.c.channel == CHANNEL) & (receipts.c.partner_id == partner_id) & (receipts.c.source_name == key)
            & (receipts.c.raw_sha256 == sha))).first()
        if same is not None and same.state == st.ReceiptState.PROCESSED:
            return ReceiptOutcome(same.outcome)  # committed before; only its move was not done
        reason = _duplicate_of(conn, partner_id, key, sha)
        outcome = ReceiptOutcome.DUPLICATE
        if reason is None:
            try:
                ignored = ignore_reason_of_raw(raw)
            except Exception:  # noqa: BLE001 - unreadable headers: the mapping queues it with its reason
                ignored = None
            if ignored is None:
                return None
            reason, outcome = f"ignored: {ignored}", ReceiptOutcome.IGNORED
        st.archive_raw(conn, raw, now=now)
        receipt = st.record_receipt(conn, channel=CHANNEL, partner_id=partner_id, source_name=key, raw_sha256=sha,
                                    now=now)
        st.finish_receipt(conn, receipt.id, outcome=outcome, reason=reason, now=now)
    return outcome


def _duplicate_of(conn, partner_id: str, key: str, sha: str) -> str | None:
    """Why an earlier receipt makes this message a duplicate: the same bytes, or the same Message-ID."""
    receipts = st.tables.receipts
    earlier = (receipts.c.channel == CHANNEL) & (receipts.c.partner_id == partner_id) \
        & (receipts.c.source_name != key) & receipts.c.outcome.in_([o.value for o in _COUNTS_AS_SEEN])
    same_bytes = conn.execute(select(receipts.c.id).where(earlier & (receipts.c.raw_sha256 == sha))
                              .order_by(receipts.c.id).limit(1)).scalar()
    if same_bytes is not None:
        return f"the same message as receipt {same_bytes} (same bytes; the mailbox was read again)"
    mid = key.rpartition(";MID=")[2]
    if mid != "-":
        same_id = conn.execute(select(receipts.c.id).where(earlier & receipts.c.source_name.endswith(f";MID={mid}"))
                               .order_by(receipts.c.id).limit(1)).scalar()
        if same_id is not None:
            return f"a resend of receipt {same_id} (same Message-ID, other bytes)"
    return None


def _outcome(store: st.HubStore, partner_id: str, key: str, raw: bytes, now: dt.datetime) -> ReceiptOutcome | None:
    with store.transaction() as conn:
        receipt = st.record_receipt(conn, channel=CHANNEL, partner_id=partner_id, source_name=key,
                                    raw_sha256=st.sha256_hex(raw), now=now)
    return receipt.outcome


def _refuse_oversize(store: st.HubStore, profile: PartnerProfile, settings: EmailChannelSettings, account: str,
                     uidvalidity: int, uid: int, size: int, now: dt.datetime) -> None:
    key = message_key(account, settings.mailbox, uidvalidity, uid, None)
    with store.transaction() as conn:
        st.open_exception(conn, channel=CHANNEL, kind=st.ExceptionKind.REJECTED_DOCUMENT, now=now,
                          partner_id=profile.id, document_ref=key[:120], location=key,
                          reason=f"a message of {size} bytes is over the mailbox's limit of "
                                 f"{settings.max_message_bytes} (max_message_bytes); it was moved to "
                                 f"{settings.rejected_folder} unread")


def _last_uid(store: st.HubStore, partner_id: str, uidvalidity: int) -> int:
    """The last UID settled under this UIDVALIDITY; 0 (read everything again) when the UIDVALIDITY changed."""
    with store.transaction() as conn:
        position = st.get_cursor(conn, partner_id, UID_CURSOR)
    if not position:
        return 0
    validity, _, uid = position.partition(":")
    if int(validity) != uidvalidity:
        _log.warning("partner %s: the mailbox's UIDVALIDITY changed (%s -> %s); reading it all again, "
                     "duplicates found by content", partner_id, validity, uidvalidity)
        return 0
    return int(uid)


def _set_last_uid(store: st.HubStore, partner_id: str, uidvalidity: int, uid: int, now: dt.datetime) -> None:
    with store.transaction() as conn:
        st.set_cursor(conn, partner_id, UID_CURSOR, f"{uidvalidity}:{uid}", now=now)


EMAIL = EmailSource()
"""The email source (registered by ``hub.sources`` with the other built-in ones)."""

__all__ = ["CHANNEL", "EMAIL", "EmailSource", "MailboxSession", "message_id_hash", "message_key"]
