"""``hub ingest``: local X12 files through the SFTP sensor's intake path (backfills, files received by other means).

Each file is archived and receipted first, as the sensor does for an inbox file (in chunks when it is
big, so memory stays flat), then processed by ``process_x12_receipt`` exactly as the intake run does:
orders stored, acks queued for the partner's outbound folder, exceptions opened. Idempotent: the same
file again finds its receipt already processed; the same content under another name is a duplicate
interchange. Nothing is sent from here: queued acks and ERP deliveries go out with the next runs.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from hub import store as st
from hub.cli._stream import byte_progress
from hub.intake import CLEAN_OUTCOMES, SFTP_CHANNEL, IntakeSummary, process_x12_receipt, receive_document
from hub.store._archive import CHUNK_SIZE
from mappings.profiles import PartnerDirectory

IN_MEMORY_LIMIT = CHUNK_SIZE
"""Files up to one archive chunk (1 MiB) are archived from memory; bigger ones in chunks from disk, as the
sensor does for big files, and are then read back a chunk at a time: a file held whole costs several times
its size (13 MB of 850s peaked at 178 MB RSS with the sensor's 16 MiB limit, 118 MB in chunks)."""


def ingest_files(store: st.HubStore, partners: PartnerDirectory, partner_id: str, paths: list[Path], *,
                 max_bytes: int, out: TextIO | None = None, progress: bool = False) -> int:
    """Receive and process each file as the partner's; 0 when every file ended clean, else 1.

    With ``progress``, a bar on stderr follows the bytes of each file as they are processed.
    """
    out = out or sys.stdout
    status = 0
    for path in paths:
        try:
            receipt = _receive(store, partner_id, path, max_bytes=max_bytes)
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=out)
            status = 1
            continue
        except _TooBig as exc:
            print(f"{path}: rejected: {exc}", file=out)
            status = 1
            continue
        with byte_progress(progress, path.stat().st_size or None, f"ingesting {path.name}") as advance:
            summary = process_x12_receipt(store, partners, receipt.id, on_bytes=advance if progress else None)
        print(describe(path, summary), file=out)
        out.flush()
        if summary.outcome not in CLEAN_OUTCOMES:
            status = 1
    return status


class _TooBig(Exception):
    pass


def _receive(store: st.HubStore, partner_id: str, path: Path, *, max_bytes: int) -> st.Receipt:
    size = path.stat().st_size
    if size > max_bytes:
        raise _TooBig(f"{size} bytes, over the {max_bytes} byte limit (HUB_MAX_DOCUMENT_BYTES)")
    if size <= IN_MEMORY_LIMIT:
        return receive_document(store, channel=SFTP_CHANNEL, partner_id=partner_id, source_name=path.name,
                                data=path.read_bytes(), max_bytes=max_bytes)
    now = st.utcnow()
    with store.transaction() as conn:
        sha = st.archive_raw_file(conn, path, now=now)
        return st.record_receipt(conn, channel=SFTP_CHANNEL, partner_id=partner_id, source_name=path.name,
                                 raw_sha256=sha, now=now)


def describe(path: Path, summary: IntakeSummary) -> str:
    """One line per file: receipt, outcome and what it produced."""
    head = f"{path}: receipt {summary.receipt_id}, {summary.outcome.replace('_', ' ')}"
    if summary.reason:
        head += f" ({summary.reason})"
    if summary.already_processed:
        return head + "; already ingested, nothing done"
    counts = [f"{summary.interchanges} interchange(s)", f"{summary.documents} set(s)",
              f"{summary.orders_created} order(s) created"]
    counts += [f"{n} {what}" for n, what in ((summary.orders_replaced, "replaced"),
                                            (summary.orders_cancelled, "cancelled"),
                                            (summary.orders_unchanged, "unchanged"),
                                            (summary.test_orders, "test order(s)")) if n]
    counts.append(f"{len(summary.acks_queued)} ack(s) queued")
    if summary.exceptions:
        counts.append("exceptions " + ", ".join(map(str, summary.exceptions))
                      + " (hub exceptions show ID)")
    return head + ": " + ", ".join(counts)
