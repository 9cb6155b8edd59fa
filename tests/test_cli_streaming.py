"""``hub map`` and ``hub edi validate`` on big inputs: read in chunks, output written as it is produced."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from hub.cli import _stream, main
from mappings.profiles import PartnerDirectory
from mappings.x12.samples import build_850

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "sandbox" / "samples"
DATA = REPO / "tests" / "data" / "x12"


def two_interchanges() -> tuple[bytes, bytes]:
    """The acme sample, then the same orders again as a second interchange (another control number)."""
    first = (SAMPLES / "acme_po_4500012345.x12").read_bytes()
    return first, first.replace(b"000004512", b"000004599")


def interchanges(count: int, purchase_orders: int) -> list[bytes]:
    """``count`` acme interchanges of ``purchase_orders`` generated 850s each (over 4 KiB: the reader's first look)."""
    acme = PartnerDirectory.load(REPO / "mappings" / "partners").get("acme")
    return [build_850(acme, purchase_orders=purchase_orders, control_number=n + 1, po_number=f"PO-{n}")
            for n in range(count)]


def read_line(stream, timeout: float) -> tuple[bytes, bytes]:
    """One line from a pipe and what came after it in the same reads; (b'', ...) if none within ``timeout`` s."""
    buffered = b""
    deadline = time.monotonic() + timeout
    while b"\n" not in buffered:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            return b"", buffered
        chunk = os.read(stream.fileno(), 65536)
        if not chunk:
            return buffered, b""
        buffered += chunk
    line, _, rest = buffered.partition(b"\n")
    return line, rest


def test_map_writes_the_first_orders_before_the_input_ends(tmp_path):
    fifo = tmp_path / "incoming.x12"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "map", "--source", "x12", str(fifo)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "HUB_DATA_DIR": str(tmp_path)})
    first, second = interchanges(2, purchase_orders=30)
    try:
        with fifo.open("wb") as writer:
            writer.write(first)
            writer.flush()
            # The writer keeps the pipe open: the input has not ended, yet the first order is out.
            line, rest = read_line(proc.stdout, timeout=60)
            assert line, "no output before the end of the input"
            record = json.loads(line)
            assert record["record"] == "document" and record["order"]["source_ref"] == "PO-0-1"
            writer.write(second)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    records = [json.loads(line) for line in line_and_rest(line, rest + out)]
    assert [r["record"] for r in records] == ["document"] * 60 + ["file"]
    assert records[-1]["outcome"] == "accepted" and len(records[-1]["acks"]) == 2
    assert records[-1]["documents"] == 60


def line_and_rest(line: bytes, rest: bytes) -> list[str]:
    """The line read first and the remaining output (read_line may have consumed part of what followed)."""
    return [line.decode(), *[x for x in rest.decode().splitlines() if x]]


def test_jsonl_holds_the_same_documents_as_the_whole_file_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    path = tmp_path / "both.x12"
    path.write_bytes(b"".join(two_interchanges()) + (SAMPLES / "acme_po_broken.x12").read_bytes())
    assert main(["map", "--source", "x12", str(path)]) == 0
    (whole,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert main(["map", "--source", "x12", "--jsonl", str(path)]) == 0
    *documents, summary = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_ref = sorted(whole["documents"], key=lambda d: d["ref"])
    assert sorted(({k: v for k, v in d.items() if k not in ("record", "file")} for d in documents),
                  key=lambda d: d["ref"]) == by_ref
    assert {d["outcome"] for d in documents} == {"accepted", "rejected"}
    assert summary == {"record": "file", "file": str(path), "outcome": whole["outcome"], "reason": whole["reason"],
                       "documents": len(whole["documents"]), "acks": whole["acks"]}


def test_map_streams_files_over_the_threshold_without_a_size_limit(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HUB_MAX_DOCUMENT_BYTES", "100")  # an X12 file is streamed, so no limit applies
    monkeypatch.setattr(_stream, "STREAM_THRESHOLD", 100)
    assert main(["map", "--source", "x12", str(SAMPLES / "acme_po_4500012345.x12")]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["record"] for r in records] == ["document", "document", "file"]


def test_edi_validate_streams_big_files_interchange_by_interchange(tmp_path, monkeypatch, capsys):
    path = tmp_path / "partial.x12"
    path.write_bytes((DATA / "greenleaf_850_partial.x12").read_bytes())
    assert main(["edi", "validate", str(path)]) == 1
    whole = capsys.readouterr().out.splitlines()
    monkeypatch.setattr(_stream, "STREAM_THRESHOLD", 100)
    assert main(["edi", "validate", str(path)]) == 1
    streamed = capsys.readouterr().out.splitlines()
    # Streamed, the file's outcome comes last (it is known only at the end); every other line is the same.
    assert streamed[0] == f"{path}: reading" and streamed[-1] == whole[0]
    assert sorted(streamed[1:-1]) == sorted(whole[1:])
