"""Raw document archive and receipts: bytes are stored, content addressed, before anything parses them."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from sqlalchemy import Connection, select, update
from sqlalchemy.exc import IntegrityError

from canonical.outcomes import ReceiptOutcome
from hub.store._claims import holder_is_dead
from hub.store._tables import (
    exceptions,
    raw_document_chunks,
    raw_documents,
    receipt_attachments,
    receipts,
)

CHUNK_SIZE = 1024 * 1024


class ReceiptState(StrEnum):
    """Whether a receipt was processed yet (``receipts.state``); its outcome says how it went."""

    RECEIVED = "received"
    PROCESSED = "processed"


@dataclass(frozen=True)
class Receipt:
    """One arrival of a raw document over a channel."""

    id: int
    channel: str
    partner_id: str
    source_name: str
    raw_sha256: str
    received_at: dt.datetime
    state: ReceiptState
    outcome: ReceiptOutcome | None
    reason: str | None
    interchanges_done: int = 0
    """Interchanges whose orders, ledger rows, exceptions and acks are committed (a resumed run skips them)."""
    claim_token: str | None = None


RECEIPT_CLAIM_STALE_AFTER = dt.timedelta(minutes=5)
"""A claim not renewed for this long is taken over (a live processor renews it at every batch commit)."""


class ClaimLost(Exception):
    """Another processor took the receipt over (this one stalled past the time bound): stop, roll back."""


def sha256_hex(data: bytes) -> str:
    """The content address of ``data``."""
    return hashlib.sha256(data).hexdigest()


def archive_raw(conn: Connection, data: bytes, *, now: dt.datetime) -> str:
    """Store ``data`` once under its sha256 (a second call with the same bytes stores nothing)."""
    digest = sha256_hex(data)
    exists = conn.execute(select(raw_documents.c.sha256).where(raw_documents.c.sha256 == digest)).first()
    if exists is None:
        try:
            with conn.begin_nested():
                conn.execute(raw_documents.insert().values(sha256=digest, size=len(data), content=data,
                                                           first_seen_at=now))
        except IntegrityError:
            pass  # stored concurrently by another run: same bytes, same address
    return digest


def archive_raw_file(conn: Connection, path: Path, *, now: dt.datetime, chunk_size: int | None = None) -> str:
    """Store a file of any size in chunks, reading it twice (hash, then store) so memory stays flat."""
    chunk_size = chunk_size or CHUNK_SIZE
    digest = hashlib.sha256()
    size = chunks = 0
    with path.open("rb") as stream:
        while block := stream.read(chunk_size):
            digest.update(block)
            size += len(block)
            chunks += 1
    sha = digest.hexdigest()
    if conn.execute(select(raw_documents.c.sha256).where(raw_documents.c.sha256 == sha)).first() is not None:
        return sha
    if chunks <= 1:
        return archive_raw(conn, path.read_bytes(), now=now)
    with conn.begin_nested():
        conn.execute(raw_documents.insert().values(sha256=sha, size=size, content=b"", chunks=chunks,
                                                   first_seen_at=now))
        with path.open("rb") as stream:
            for seq in range(chunks):
                conn.execute(raw_document_chunks.insert().values(sha256=sha, seq=seq, data=stream.read(chunk_size)))
    return sha


def iter_raw_content(conn: Connection | Callable[[], Connection], sha256: str) -> Iterator[bytes]:
    """The archived bytes of a raw document, a chunk at a time.

    ``conn`` may be a function giving the connection to read each chunk with, for a caller that
    commits between chunks (raw documents never change, so the chunks still fit together).
    """
    connection = conn if callable(conn) else (lambda: conn)
    row = connection().execute(
        select(raw_documents.c.content, raw_documents.c.chunks).where(raw_documents.c.sha256 == sha256)).one()
    if row.chunks == 0:
        yield bytes(row.content)
        return
    for seq in range(row.chunks):
        yield bytes(connection().execute(select(raw_document_chunks.c.data).where(
            (raw_document_chunks.c.sha256 == sha256) & (raw_document_chunks.c.seq == seq))).scalar_one())


def raw_content(conn: Connection, sha256: str) -> bytes:
    """The archived bytes of a raw document, whole (use ``iter_raw_content`` for large ones)."""
    return b"".join(iter_raw_content(conn, sha256))


def record_receipt(
    conn: Connection, *, channel: str, partner_id: str, source_name: str, raw_sha256: str, now: dt.datetime
) -> Receipt:
    """The receipt of this (channel, partner, name, content), created on first sight (idempotent)."""
    key = (
        (receipts.c.channel == channel)
        & (receipts.c.partner_id == partner_id)
        & (receipts.c.source_name == source_name)
        & (receipts.c.raw_sha256 == raw_sha256)
    )
    row = conn.execute(select(receipts).where(key)).first()
    if row is None:
        try:
            with conn.begin_nested():
                conn.execute(
                    receipts.insert().values(
                        channel=channel,
                        partner_id=partner_id,
                        source_name=source_name,
                        raw_sha256=raw_sha256,
                        received_at=now,
                        state=ReceiptState.RECEIVED,
                    )
                )
        except IntegrityError:
            pass
        row = conn.execute(select(receipts).where(key)).one()
    return _receipt(row)


def attach_raw_documents(conn: Connection, receipt_id: int, raw_sha256s: list[str]) -> None:
    """Link archived raw documents to a receipt, in order; a receipt keeps the first list it was given."""
    if not raw_sha256s or receipt_raw_attachments(conn, receipt_id):
        return
    conn.execute(receipt_attachments.insert(),
                 [{"receipt_id": receipt_id, "seq": n, "raw_sha256": sha} for n, sha in enumerate(raw_sha256s)])


def receipt_raw_attachments(conn: Connection, receipt_id: int) -> list[str]:
    """The sha256s of the raw documents linked to a receipt, in the order they were read."""
    query = (select(receipt_attachments.c.raw_sha256).where(receipt_attachments.c.receipt_id == receipt_id)
             .order_by(receipt_attachments.c.seq))
    return list(conn.execute(query).scalars())


def get_receipt(conn: Connection, receipt_id: int, *, for_update: bool = False) -> Receipt:
    """A receipt by id (optionally locking it on PostgreSQL so one run processes it at a time)."""
    query = select(receipts).where(receipts.c.id == receipt_id)
    if for_update and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    return _receipt(conn.execute(query).one())


def claim_receipt(
    conn: Connection, receipt_id: int, *, token: str, clock: dt.datetime,
    stale_after: dt.timedelta = RECEIPT_CLAIM_STALE_AFTER,
) -> Receipt | None:
    """Claim an unprocessed receipt for processing (compare-and-set); None if processed or held by a live run.

    Exactly one caller wins on SQLite and PostgreSQL alike: the UPDATE only matches the claim it
    read. A claim is free when nobody holds it, when its holder has not renewed it for
    ``stale_after``, or at once when its holder was a process of this machine that is gone.
    ``clock`` is the wall clock (not the business time a caller may pin).
    """
    row = conn.execute(select(receipts).where(receipts.c.id == receipt_id)).one()
    if row.state == ReceiptState.PROCESSED:
        return None
    held = row.claim_token is not None and row.claimed_at is not None
    if held and row.claimed_at > clock - stale_after and not holder_is_dead(row.claim_token):
        return None
    # The very claim that was read, renewal time included: a holder that renewed meanwhile keeps it.
    same_claim = (
        (receipts.c.claim_token.is_(None) if row.claim_token is None else receipts.c.claim_token == row.claim_token)
        & (receipts.c.claimed_at.is_(None) if row.claimed_at is None else receipts.c.claimed_at == row.claimed_at)
    )
    won = conn.execute(
        update(receipts)
        .where((receipts.c.id == receipt_id) & (receipts.c.state != ReceiptState.PROCESSED) & same_claim)
        .values(claim_token=token, claimed_at=clock)
    ).rowcount == 1
    return _receipt(conn.execute(select(receipts).where(receipts.c.id == receipt_id)).one()) if won else None


def renew_receipt_claim(conn: Connection, receipt_id: int, *, token: str, clock: dt.datetime,
                        interchanges_done: int) -> None:
    """Record progress and renew the claim in the batch being committed; :class:`ClaimLost` if it was taken over."""
    renewed = conn.execute(
        update(receipts)
        .where((receipts.c.id == receipt_id) & (receipts.c.claim_token == token))
        .values(claimed_at=clock, interchanges_done=interchanges_done)
    ).rowcount
    if renewed != 1:
        raise ClaimLost(f"receipt {receipt_id} was taken over by another processor")


def release_receipt_claim(conn: Connection, receipt_id: int, *, token: str) -> None:
    """Give a claim back (processing stopped on an error) so a retry need not wait for the time bound."""
    conn.execute(update(receipts).where((receipts.c.id == receipt_id) & (receipts.c.claim_token == token))
                 .values(claim_token=None, claimed_at=None))


def finish_receipt(conn: Connection, receipt_id: int, *, outcome: ReceiptOutcome | str, reason: str | None,
                   now: dt.datetime,
                   token: str | None = None) -> None:
    """Record what processing made of a receipt (and drop the claim ``token``; :class:`ClaimLost` if taken over).

    ``outcome`` is a :class:`ReceiptOutcome` or its value; any other string is refused before it is stored.
    """
    where = receipts.c.id == receipt_id
    if token is not None:
        where &= receipts.c.claim_token == token
    done = conn.execute(
        update(receipts)
        .where(where)
        .values(state=ReceiptState.PROCESSED, outcome=ReceiptOutcome(outcome), reason=reason, processed_at=now,
                claim_token=None, claimed_at=None)
    ).rowcount
    if token is not None and done != 1:
        raise ClaimLost(f"receipt {receipt_id} was taken over by another processor")


def _receipt(row) -> Receipt:
    return Receipt(
        id=row.id,
        channel=row.channel,
        partner_id=row.partner_id,
        source_name=row.source_name,
        raw_sha256=row.raw_sha256,
        received_at=row.received_at,
        state=ReceiptState(row.state),
        outcome=None if row.outcome is None else ReceiptOutcome(row.outcome),
        reason=row.reason,
        interchanges_done=row.interchanges_done,
        claim_token=row.claim_token,
    )


def unfinished_receipts(
    conn: Connection, *, channel: str, received_before: dt.datetime, partner_id: str | None = None,
    skip_kind: str | None = None, skip_ids: frozenset[int] | set[int] = frozenset(), limit: int = 100,
) -> list[Receipt]:
    """Receipts of ``channel`` (one partner's if given) still not processed, received before ``received_before``.

    Oldest first. ``skip_kind``: leave out receipts that already have an exception of that kind
    (open or handled); ``skip_ids``: leave out these receipts.
    """
    query = select(receipts).where(
        (receipts.c.channel == channel) & (receipts.c.state == ReceiptState.RECEIVED)
        & (receipts.c.received_at <= received_before)
    )
    if partner_id is not None:
        query = query.where(receipts.c.partner_id == partner_id)
    if skip_ids:
        query = query.where(receipts.c.id.not_in(sorted(skip_ids)))
    if skip_kind is not None:
        query = query.where(
            ~select(exceptions.c.id)
            .where((exceptions.c.receipt_id == receipts.c.id) & (exceptions.c.kind == skip_kind))
            .exists()
        )
    return [_receipt(row) for row in conn.execute(query.order_by(receipts.c.id).limit(limit))]
