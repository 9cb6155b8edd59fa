"""The ``hub`` command line's conventions: help with examples, version, usage errors, exit codes, pipes, --json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from canonical import __version__
from hub.cli import main
from mappings.profiles import PartnerDirectory
from mappings.x12 import process_interchange_file

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "x12"
SAMPLES = REPO / "sandbox" / "samples"


def hub(*args: str, env: dict[str, str] | None = None, **kwargs) -> subprocess.CompletedProcess:
    """``hub ARGS`` as a user runs it, in a child process."""
    return subprocess.run([sys.executable, "-m", "hub.cli", *args], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120, **kwargs)


def test_version_and_help_with_examples_and_exit_codes(capsys):
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"hub {__version__}\n"
    assert main(["--help"]) == 0
    top = capsys.readouterr().out
    for line in ("0    done", "1    findings or failures", "2    usage error"):
        assert line in top
    for command in (["schema"], ["map"], ["edi", "validate"], ["exceptions", "list"], ["exceptions", "show"],
                    ["exceptions", "resolve"], ["exceptions", "replay"], ["ingest"]):
        assert main([*command, "--help"]) == 0
        assert "Example" in capsys.readouterr().out, command


def test_usage_errors_exit_2_and_name_the_allowed_values(capsys):
    assert main(["exceptions", "list", "--state", "bogus"]) == 2
    err = capsys.readouterr().err
    assert "'bogus'" in err and "open, replayed, resolved or all" in err
    assert main(["map", "--source", "nope", "x.x12"]) == 2
    err = capsys.readouterr().err
    assert "'nope'" in err and "x12" in err and "shopify" in err
    assert main([]) == 2, "no command is a usage error, with the help"
    assert main(["frobnicate"]) == 2
    assert main(["exceptions", "show", "twelve"]) == 2


def test_a_closed_pipe_ends_quietly(tmp_path):
    # Enough output to fill the pipe: the reader goes away after one line while the writer still writes.
    files = [str(SAMPLES / "acme_po_4500012345.x12")] * 200
    proc = subprocess.Popen([sys.executable, "-m", "hub.cli", "map", "--source", "x12", *files], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**os.environ, "HUB_DATA_DIR": str(tmp_path)})
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 1
    assert json.loads(first)["outcome"] == "accepted"
    assert "Traceback" not in err and "Exception ignored" not in err, err


def test_validation_messages_show_the_offending_value():
    partners = PartnerDirectory.load(REPO / "mappings" / "partners")
    # CUR01 'QQ' is not a code the 4010 map allows: found by the map-driven validator (element level).
    data = (DATA / "acme_850_4010.x12").read_bytes().replace(b"CUR*BY*USD~", b"CUR*QQ*USD~")
    (problem,) = process_interchange_file(data, partners=partners).documents[0].errors
    assert (problem.segment_id, problem.element_position, problem.code, problem.value) == ("CUR", 1, "7", "QQ")
    assert problem.to_json()["value"] == "QQ"
    # The ack still reports the position only: a received value is never echoed to the partner.
    (ack,) = process_interchange_file(data, partners=partners).acks
    assert "QQ" not in ack.text


def test_edi_validate_json_reports_each_interchange_and_file(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    bad = tmp_path / "bad.x12"
    bad.write_bytes((DATA / "acme_850_4010.x12").read_bytes().replace(b"CUR*BY*USD~", b"CUR*QQ*USD~"))
    other = tmp_path / "other.txt"
    other.write_text("not EDI at all")
    assert main(["edi", "validate", "--json", str(DATA / "greenleaf_850_5010.x12"), str(bad), str(other),
                 str(tmp_path / "missing.x12")]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["record"], Path(r["file"]).name) for r in records] == [
        ("interchange", "greenleaf_850_5010.x12"), ("file", "greenleaf_850_5010.x12"),
        ("interchange", "bad.x12"), ("file", "bad.x12"), ("file", "other.txt"), ("file", "missing.x12")]
    good_ic, good_file, bad_ic, bad_file, other_file, missing = records
    assert good_file["accepted"] is True and good_ic["outcome"] == "accepted"
    assert good_ic["acks"][0]["kind"] == "999" and good_ic["sets"][0]["order"]["currency"]
    assert bad_file == {"record": "file", "file": str(bad), "outcome": "rejected", "reason": bad_file["reason"],
                        "accepted": False}
    (rejected,) = bad_ic["sets"]
    (problem,) = rejected["problems"]
    assert (problem["segment_id"], problem["segment_position"], problem["element_position"], problem["value"]) == (
        "CUR", 3, 1, "QQ")
    assert rejected["outcome"] == "rejected" and rejected["order"] is None
    assert other_file["outcome"] == "not_x12" and other_file["accepted"] is False
    assert missing["outcome"] == "unreadable"


def test_edi_validate_text_shows_the_value():
    result = hub("edi", "validate", str(DATA / "greenleaf_850_partial.x12"))
    assert result.returncode == 1
    assert "the quantity must be greater than zero, found '0'" in result.stdout


@pytest.mark.parametrize("flag", ["--progress", "--no-progress"])
def test_progress_goes_to_stderr_only(flag, tmp_path):
    result = hub("map", "--source", "x12", "--jsonl", flag, str(SAMPLES / "acme_po_4500012345.x12"),
                 env={"HUB_DATA_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["record"] for r in records] == ["document", "document", "file"]
