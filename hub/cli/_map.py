"""``hub map``: saved documents mapped offline; big X12 files streamed as JSON Lines."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any, TextIO

from hub.cli._stream import byte_progress, file_sha256, is_big, open_unbuffered, read_chunks
from hub.settings import get_settings

X12_SOURCE = "x12"
"""The X12 source's name (``hub.sources.x12_sftp``): its big files stream without loading the source registry,
whose imports (store, connectors) would add ~40 MB to a command whose memory should stay flat."""


def map_files(source_name: str, paths: list[Path], *, partner: str | None, indent: int | None, jsonl: bool,
              progress: bool, out: TextIO | None = None) -> int:
    """Map each file and print the result; 1 if a file could not be read (mapping outcomes are in the output)."""
    from canonical.errors import ConfigurationError
    from mappings.profiles import PartnerDirectory

    out = out or sys.stdout
    settings = get_settings()
    # A profile file that cannot be loaded is reported (logged, naming the file and field) and left
    # out; the other partners map as usual.
    partners = PartnerDirectory.load(settings.partners_dir)
    x12 = source_name == X12_SOURCE
    status = 0
    files: list[tuple[str, bytes]] = []
    for path in paths:
        try:
            # X12 is mapped interchange by interchange; other sources join documents across files (kept whole).
            if x12 and (jsonl or is_big(path)):
                stream_x12(path, partners, out=out, progress=progress)
                continue
            data = path.read_bytes()
        except OSError as exc:
            print(f"hub map: cannot read {path}: {exc.strerror}", file=sys.stderr)
            status = 1
            continue
        if len(data) > settings.max_document_bytes:
            print(json.dumps({"file": str(path), "outcome": "rejected", "reason": "file is over the size limit",
                              "documents": [], "acks": []}, indent=indent), file=out)
            status = 1
            continue
        if x12:  # in file order with the streamed ones
            _print_results(_source(source_name).map_files([(str(path), data)], partners, partner), indent, out)
        else:
            files.append((str(path), data))
    if files:
        try:
            _print_results(_source(source_name).map_files(files, partners, partner), indent, out)
        except ConfigurationError as exc:
            raise SystemExit(f"hub map: {exc}") from None
    return status


def _source(name: str):
    from hub.sources import source_named

    return source_named(name)


def _print_results(results: list[dict[str, Any]], indent: int | None, out: TextIO) -> None:
    for result in results:
        print(json.dumps(result, indent=indent, default=str), file=out)


def stream_x12(path: Path, partners, *, out: TextIO, progress: bool) -> None:
    """One X12 file as JSON Lines: a ``document`` record per transaction set as it is read, then a ``file`` record.

    Memory stays flat for any size: the file is read in chunks, accepted sets are handed over one by one
    (they wait in a temporary file until their interchange's IEA is read and sound), and each line is
    flushed once its interchange is complete. Raises ``OSError`` if the file cannot be opened.
    """
    from hub.cli._order_json import document_record
    from mappings.x12 import process_interchange_file

    name = str(path)
    sha = file_sha256(path)
    size = path.stat().st_size if sha is not None else None
    written = 0
    # Each interchange's acks wait here for the file record; the interchange's result is then emptied
    # (the list of results the mapping keeps would otherwise grow ~1.7 KB per interchange).
    acks = tempfile.SpooledTemporaryFile(max_size=1 << 20, mode="w+", encoding="utf-8")  # noqa: SIM115

    def write(document) -> None:
        nonlocal written
        out.write(document_record(name, document) + "\n")  # the order serialized by pydantic-core in one call
        written += 1

    def interchange_done(interchange) -> None:
        for document in interchange.documents:  # the rejected and unsupported ones (accepted went to write)
            write(document)
        out.flush()
        acks.writelines(json.dumps(ack.text) + "\n" for ack in interchange.acks)
        interchange.documents, interchange.acks, interchange.errors = [], [], []

    with acks, open_unbuffered(path) as handle, \
            byte_progress(progress, size, f"mapping {path.name}") as advance:
        result = process_interchange_file(read_chunks(handle, advance), partners=partners, raw_document_id=sha,
                                          on_document=write, on_interchange=interchange_done)
        summary = json.dumps({"record": "file", "file": name, "outcome": result.outcome, "reason": result.reason,
                              "documents": written}, default=str)
        acks.seek(0)
        out.write(summary[:-1] + ', "acks": [')
        for index, text in enumerate(acks):
            out.write((", " if index else "") + text.rstrip("\n"))
        out.write("]}\n")
    out.flush()
