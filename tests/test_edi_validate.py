"""`hub edi validate`: the report a person reads while onboarding a partner, and its exit status."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from hub.cli import main
from hub.edi_validate import describe, validate_files
from mappings.profiles import PartnerDirectory
from mappings.x12 import process_interchange_file

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "data" / "x12"
PARTNERS = PartnerDirectory.load(REPO / "mappings" / "partners")
NOW = dt.datetime(2024, 2, 12, 9, 30)


def run(*names: str) -> tuple[int, str]:
    out = io.StringIO()
    status = validate_files([DATA / n if not isinstance(n, Path) else n for n in names], PARTNERS, out=out, now=NOW)
    return status, out.getvalue()


def test_an_accepted_file_exits_0_and_shows_the_exact_997():
    status, text = run("harbor_850_vics.x12")
    assert status == 0
    assert text.splitlines()[:3] == [
        f"{DATA / 'harbor_850_vics.x12'}: accepted",
        "  interchange 000007001 from ZZ/HARBORPINE (harbor), production, version 00401: accepted",
        "    set ISA 000007001/GS 7001/ST 0001 (850): accepted: original PO HP-240212-01, 2 line(s), "
        "total 1584.72 USD",
    ]
    expected = (DATA / "harbor_850_vics.997.txt").read_text()
    assert "    997 as 997_HARBORPINE_000000001.x12" in text
    assert [line.strip() for line in text.split("we would send:")[1].splitlines()[2:]] == expected.splitlines()


def test_warnings_are_allowed():
    status, text = run("harbor_850_short_distribution.x12")
    assert status == 0
    assert (
        "WARNING ISA 000007002 / GS 7002 / ST 0001 / segment 33 (SDQ): "
        "line 2: store quantities add up to 22, the line orders 24" in text
    )
    assert "AK3*SDQ*33~" in text and "AK5*E*5~" in text


def test_a_rejected_set_exits_1_with_every_problem_located_in_plain_words():
    status, text = run("greenleaf_850_partial.x12")
    assert status == 1
    assert "set ISA 000000312/GS 312/ST 0002 (850): rejected" in text
    assert (
        "ERROR   ISA 000000312 / GS 312 / ST 0002 / segment 5 (PO1) / element 2 (PO102): "
        "line 1: the quantity must be greater than zero, found '0' [code 6: invalid character or value]" in text
    )
    assert (
        "(BEG04): a release order (BEG02 RL) without its release number in BEG04 [code 2: conditional element missing]"
    ) in text
    assert "999 as 999_0614141000036_000005001.x12" in text and "IK4*2*330*6~" in text


def test_internal_notes_are_marked_as_not_sent():
    data = (DATA / "acme_850_cancel.x12").read_bytes().replace(b"*VN*AC-1001", b"*MG*MFR-1")
    result = process_interchange_file(data, partners=PARTNERS, now=NOW)
    text = describe("po.x12", result)
    assert ("no item id with a qualifier this partner's profile knows, found 'MG' "
            "(internal note, not sent to the partner)") in text


def test_envelope_faults_test_refusals_non_x12_and_unreadable_files_exit_1(tmp_path):
    status, text = run("harbor_850_test.x12")
    assert status == 1
    assert "ERROR   ISA 000007003: test interchanges (ISA15 = T) are not accepted from harbor [code 020:" in text
    assert "TA1*000007003*240212*0815*R*020~" in text
    status, text = run("not_x12.txt")
    assert status == 1 and "we would send nothing: it is not an X12 interchange" in text
    status, text = run(tmp_path / "missing.x12")
    assert status == 1 and "cannot read" in text


def test_an_unsupported_transaction_set_is_not_a_pass():
    status, text = run("acme_860.x12")
    assert status == 1
    assert "(860): unsupported" in text


def test_a_resend_among_the_files_is_reported_as_duplicate():
    status, text = run("harbor_850_vics.x12", "harbor_850_vics.x12")
    assert status == 1
    second = text.split(f"{DATA / 'harbor_850_vics.x12'}: ")[2]
    assert second.startswith("duplicate")
    assert "TA1*000007001*240212*0815*R*025~" in second
    assert "TA1_HARBORPINE_000000002.x12" in second, "dry-run control numbers still run on per partner"


def test_cli_prints_the_report_and_writes_nothing(capsys, tmp_path, monkeypatch):
    monkeypatch.setenv("HUB_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("HUB_DATABASE_URL", raising=False)
    assert main(["edi", "validate", str(DATA / "greenleaf_850_5010.x12")]) == 0
    out = capsys.readouterr().out
    assert "greenleaf_850_5010.x12: accepted" in out and "999 as 999_0614141000036_000005001.x12" in out
    assert main(["edi", "validate", str(DATA / "greenleaf_850_5010.x12"), str(DATA / "acme_group_partial.x12")]) == 1
    assert list(tmp_path.iterdir()) == [], "validate writes no store and no ack files"


def test_cli_takes_another_partners_folder(capsys, tmp_path):
    folder = tmp_path / "partners"
    folder.mkdir()
    (folder / "harbor.yaml").write_text((REPO / "mappings" / "partners" / "harbor.yaml").read_text().replace(
        "accept_test_interchanges: false", "accept_test_interchanges: true"))
    assert main(["edi", "validate", "--partners", str(folder), str(DATA / "harbor_850_test.x12")]) == 0
    assert "production" not in capsys.readouterr().out.splitlines()[1]
