"""A mutation corpus through the real intake path: archive -> process_x12_receipt -> acks to a real SFTP folder.

Valid 850 files (built ones and the golden samples) are mutated deterministically: bytes flipped
(non-ASCII, control bytes, delimiters), truncated, segments dropped, duplicated or swapped, counts
and control numbers made wrong, junk after the IEA, bad delimiters, wrong sender or receiver, another
partner's file, empty and binary files, a huge element. Each mutant is received into its partner's
inbox, processed and answered as the Dagster assets would do it. Whatever the bytes:

- no exception escapes the intake or the ack sender;
- every receipt ends with an outcome, and every outcome but clean acceptance with an exception;
- every purchase order the file soundly carries is stored (nothing lost), once (nothing doubled);
- every ack queued is written exactly once, in the X12 character set, and reads back as X12;
- nothing stays pending (nothing stuck).

A fixed subset of about 30 mutants runs by default; the full corpus (a few hundred) is slow_faults.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from canonical.model import Purpose
from hub import store as st
from mappings.profiles import PartnerDirectory
from mappings.x12 import iter_segments, process_interchange_file
from mappings.x12.samples import SampleLine, build_850
from tests.faults.invariants import orders_per_po, unaccounted_receipts, unsent_acks
from tests.faults.x12_path import PARTNERS, REPO, X12Path, is_x12_text, x12_path

DATA = REPO / "tests" / "data" / "x12"
GOLDEN = {  # file -> the partner whose inbox it is dropped in
    "acme_850_4010.x12": "acme",
    "bluebird_850_4010.x12": "bluebird",
    "greenleaf_850_5010.x12": "greenleaf",
    "harbor_850_vics.x12": "harbor",
    "northwind_850_5010.x12": "northwind",
}
ISA13 = slice(90, 99)  # the interchange control number in a fixed-layout ISA
ISA06 = slice(35, 50)
ISA08 = slice(54, 69)


@dataclass(frozen=True)
class Mutant:
    """One scenario: a name saying what was done, the inbox it lands in and its bytes."""

    name: str
    partner_id: str
    data: bytes


# -- seeds ---------------------------------------------------------------------------------------

def built_seed(n: int) -> tuple[str, bytes]:
    """A valid ACME file with two purchase orders, numbered for scenario ``n`` (its own ISA13 and PO numbers)."""
    lines = [SampleLine("WID-100", "2", "4.00", description="Widget"), SampleLine("NUT-M8", "1", "3.15")]
    return "acme", build_850(PARTNERS.get("acme"), po_number=f"MUT-{n}", purchase_orders=2, lines=lines,
                             control_number=100_000 + n)


def golden_seed(file_name: str, n: int) -> tuple[str, bytes]:
    """A golden sample with its ISA13/IEA02 renumbered for scenario ``n`` (so the ledger sees a new interchange)."""
    data = (DATA / file_name).read_bytes()
    return GOLDEN[file_name], data.replace(data[ISA13], f"{200_000 + n:09d}".encode())


# -- mutations -----------------------------------------------------------------------------------

def _split(data: bytes) -> tuple[bytes, list[bytes]]:
    terminator = data[105:106]
    return terminator, data.split(terminator)


def _join(terminator: bytes, segments: list[bytes]) -> bytes:
    return terminator.join(segments)


_ENVELOPE = {b"ISA", b"GS", b"ST", b"SE", b"GE", b"IEA"}


def _body_index(segments: list[bytes], rng: random.Random) -> int:
    """A segment inside a transaction set (not the envelope)."""
    separator = segments[0][3:4]
    inside = [i for i, s in enumerate(segments) if s.strip() and s.strip().split(separator)[0] not in _ENVELOPE]
    return rng.choice(inside) if inside else 1


def flip_byte(data, rng):
    at = rng.randrange(len(data))
    value = rng.choice([0xC9, 0xFF, 0x80, 0xA0, 0x00, 0x1A, 0x07, ord("*"), ord("~"), ord("|"), ord(">"),
                        ord("^"), ord("A"), ord("9"), ord(" ")])
    return data[:at] + bytes([value]) + data[at + 1:]


def non_ascii_segment_id(data, rng):
    terminator, segments = _split(data)
    i = _body_index(segments, rng)
    segment = segments[i].lstrip()
    segments[i] = segments[i][: len(segments[i]) - len(segment)] + segment[:1] + b"\xc9" + segment[2:]
    return _join(terminator, segments)


def non_ascii_element(data, rng):
    terminator, segments = _split(data)
    i = _body_index(segments, rng)
    return _join(terminator, [*segments[:i], segments[i] + data[3:4] + "Straße ÅÉ".encode(), *segments[i + 1:]])


def truncate(data, rng):
    return data[: rng.randrange(1, len(data))]


def drop_segment(data, rng):
    terminator, segments = _split(data)
    del segments[rng.randrange(1, len(segments) - 1)]
    return _join(terminator, segments)


def duplicate_segment(data, rng):
    terminator, segments = _split(data)
    i = rng.randrange(1, len(segments) - 1)
    return _join(terminator, [*segments[: i + 1], segments[i], *segments[i + 1:]])


def swap_segments(data, rng):
    terminator, segments = _split(data)
    i = rng.randrange(1, len(segments) - 2)
    segments[i], segments[i + 1] = segments[i + 1], segments[i]
    return _join(terminator, segments)


def _recount(tag: bytes) -> Callable:
    def mutate(data, rng):
        terminator, segments = _split(data)
        sep = data[3:4]
        found = [i for i, s in enumerate(segments) if s.strip().startswith(tag + sep)]
        i = rng.choice(found)
        parts = segments[i].split(sep)
        parts[1] = rng.choice([b"99", b"0", b"X", b"", b"1" * 12])
        segments[i] = sep.join(parts)
        return _join(terminator, segments)

    mutate.__name__ = f"wrong_{tag.decode().lower()}_count"
    return mutate


def junk_after_iea(data, rng):
    return data + rng.choice([b"THIS IS NOT X12\n", b"\x00\x01\x02garbage", b"GS*PO*X~", b"ISA*00*trunc", b"~~~\n",
                              "Ärger".encode()])


def bad_delimiters(data, rng):
    which = rng.choice(["element", "component", "terminator", "all-same"])
    if which == "element":
        return data[:3] + b"A" + data[4:]
    if which == "component":
        return data[:104] + data[3:4] + data[105:]
    if which == "terminator":
        return data[:105] + data[3:4] + data[106:]
    return data.replace(data[105:106], data[3:4])


def wrong_sender(data, rng):
    sender = rng.choice([b"ACMERETAIX     ", b"UNKNOWN\xc9       ", b"               "])
    return data[:ISA06.start] + sender + data[ISA06.stop:]


def wrong_receiver(data, rng):
    return data[:ISA08.start] + rng.choice([b"SOMEONEELSE    ", b"ORDERHU\xff       "]) + data[ISA08.stop:]


def bad_control_number(data, rng):
    return data[:ISA13.start] + rng.choice([b"00000ABC1", b"000\xc900001", b"         "]) + data[ISA13.stop:]


def interchange_twice(data, rng):
    return data + data


def huge_element(data, rng):
    terminator, segments = _split(data)
    i = _body_index(segments, rng)
    return _join(terminator, [*segments[:i], segments[i] + data[3:4] + b"X" * rng.choice([5_000, 300_000]),
                              *segments[i + 1:]])


def unknown_segment(data, rng):
    terminator, segments = _split(data)
    i = _body_index(segments, rng)
    return _join(terminator, [*segments[:i], b"ZZZ" + data[3:4] + b"1", *segments[i:]])


def lowercase_segment_id(data, rng):
    terminator, segments = _split(data)
    i = _body_index(segments, rng)
    segment = segments[i]
    return _join(terminator, [*segments[:i], segment[:4].lower() + segment[4:], *segments[i + 1:]])


def crlf(data, rng):
    return data.replace(b"\n", b"\r\n") if b"\n" in data else data.replace(data[105:106], data[105:106] + b"\r\n")


def control_bytes(data, rng):
    at = rng.randrange(106, len(data))
    return data[:at] + b"\x00\x1b\x7f" + data[at:]


def two_mutations(data, rng):
    first, second = rng.sample([m for m in RANDOM_MUTATIONS if m is not two_mutations], 2)
    return second(first(data, rng), rng)


RANDOM_MUTATIONS = [
    flip_byte, non_ascii_segment_id, non_ascii_element, truncate, drop_segment, duplicate_segment, swap_segments,
    _recount(b"SE"), _recount(b"GE"), _recount(b"IEA"), _recount(b"CTT"), junk_after_iea, bad_delimiters,
    wrong_sender, wrong_receiver, bad_control_number, interchange_twice, huge_element, unknown_segment,
    lowercase_segment_id, crlf, control_bytes, two_mutations,
]


def whole_file_mutants(n: int) -> list[Mutant]:
    """Mutants that are not edits of a valid file: empty, blank, binary, another partner's file, EDIFACT."""
    rng = random.Random(n)
    _, northwind = golden_seed("northwind_850_5010.x12", n)
    return [
        Mutant("empty", "acme", b""),
        Mutant("blank", "acme", b"  \r\n\t\n"),
        Mutant("bom-only", "acme", b"\xef\xbb\xbf"),
        Mutant("binary", "acme", bytes(rng.randrange(256) for _ in range(2048))),
        Mutant("another-partners-file", "acme", northwind),
        Mutant("edifact", "acme", (DATA / "edifact_orders.edi").read_bytes()),
        Mutant("not-x12-text", "bluebird", (DATA / "not_x12.txt").read_bytes()),
    ]


def seed_for(n: int) -> tuple[str, bytes]:
    """Scenario ``n``'s valid file: built ones and the golden samples in turn."""
    names = [None, *GOLDEN]
    choice = names[n % len(names)]
    return built_seed(n) if choice is None else golden_seed(choice, n)


def corpus(size: int, *, seed: int = 8) -> list[Mutant]:
    """``size`` random mutants (deterministic for a seed), after the whole-file ones and every mutation once."""
    rng = random.Random(seed)
    mutants = whole_file_mutants(seed)
    for n in range(size):
        partner, data = seed_for(n)
        mutation = RANDOM_MUTATIONS[n] if n < len(RANDOM_MUTATIONS) else rng.choice(RANDOM_MUTATIONS)
        mutants.append(Mutant(f"{n:03d}-{mutation.__name__}-{partner}", partner, mutation(data, rng)))
    return mutants


# -- running the corpus --------------------------------------------------------------------------

@dataclass
class CorpusReport:
    """What the corpus found; every list must be empty."""

    scenarios: int = 0
    escaped: list[str] = field(default_factory=list)  # an exception left the intake or the ack sender
    lost: list[str] = field(default_factory=list)  # a receipt or a sound order without a trace
    doubled: list[str] = field(default_factory=list)  # an order or an ack twice
    stuck: list[str] = field(default_factory=list)  # a receipt unprocessed, an ack never written
    bad_acks: list[str] = field(default_factory=list)  # an ack outside the character set or unreadable


def sound_orders(mutant: Mutant) -> set[tuple[str, str, str]]:
    """The new purchase orders the file soundly carries, as the intake's own reader sees them (a dry run)."""
    scoped = PartnerDirectory([PARTNERS.get(mutant.partner_id)])
    result = process_interchange_file(mutant.data, partners=scoped)
    return {("x12", o.partner_id, o.source_ref) for o in result.orders if o.purpose is Purpose.ORIGINAL}


def run_corpus(path: X12Path, mutants: list[Mutant]) -> CorpusReport:
    """Push every mutant through the intake and the ack sender; check the invariants after each and at the end."""
    report = CorpusReport()
    expected: dict[tuple[str, str, str], str] = {}
    written: list[str] = []
    for number, mutant in enumerate(mutants):
        report.scenarios += 1
        for key in sound_orders(mutant):
            expected.setdefault(key, mutant.name)
        try:
            receipt_id = path.receive(mutant.data, f"m{number:03d}.x12", mutant.partner_id)
            path.process(receipt_id)
        except Exception as exc:  # noqa: BLE001 - the point of the corpus: nothing may escape
            report.escaped.append(f"{mutant.name}: intake: {type(exc).__name__}: {exc}"[:300])
            continue
        try:
            written += path.send_acks()
        except Exception as exc:  # noqa: BLE001
            report.escaped.append(f"{mutant.name}: acks: {type(exc).__name__}: {exc}"[:300])
    counts = orders_per_po(path.store)
    report.doubled += [f"order {key} x{n}" for key, n in counts.items() if n > 1]
    report.lost += [f"order {key} of {name}" for key, name in expected.items() if key not in counts]
    report.lost += [f"receipt {r}" for r in unaccounted_receipts(path.store) if r[1] == "processed"]
    report.stuck += [f"receipt {r}" for r in unaccounted_receipts(path.store) if r[1] != "processed"]
    report.stuck += [f"ack {doc}" for doc in unsent_acks(path.store)]
    _check_acks(path, written, report)
    return report


def _check_acks(path: X12Path, written: list[str], report: CorpusReport) -> None:
    outbound = st.tables.outbound_documents
    with path.store.transaction() as conn:
        documents = conn.execute(select(outbound.c.partner_id, outbound.c.file_name, outbound.c.control_number)).all()
    files = path.outbound_files()
    report.doubled += [p for p in set(written) if written.count(p) > 1]
    numbers = [(d.partner_id, d.control_number) for d in documents]
    report.doubled += [f"control number {partner}/{number}" for partner, number in numbers
                       if numbers.count((partner, number)) > 1]
    if len(files) > len(documents):
        report.doubled.append(f"{len(documents)} acks queued, {len(files)} files in the outbound folders")
    elif len(files) < len(documents):
        report.stuck.append(f"{len(documents)} acks queued, {len(files)} files in the outbound folders")
    for name, data in files.items():
        if not is_x12_text(data):
            report.bad_acks.append(f"{name}: bytes outside the X12 character set")
            continue
        try:
            ids = [segment.id for segment in iter_segments(data)]
        except Exception as exc:  # noqa: BLE001
            report.bad_acks.append(f"{name}: does not read back: {exc}")
            continue
        if ids[0] != "ISA" or ids[-1] != "IEA":
            report.bad_acks.append(f"{name}: not one whole interchange ({ids[0]}..{ids[-1]})")


def assert_clean(report: CorpusReport) -> None:
    assert report.scenarios
    for what in ("escaped", "lost", "doubled", "stuck", "bad_acks"):
        found = getattr(report, what)
        assert not found, f"{what} in {len(found)} case(s) of {report.scenarios}: {found[:10]}"


FAST = 26  # + 7 whole-file mutants: every mutation at least once


def test_a_fixed_set_of_mutants_passes_the_invariants(store, tmp_path):
    with x12_path(store, tmp_path) as path:
        assert_clean(run_corpus(path, corpus(FAST)))


@pytest.mark.slow_faults
def test_the_full_mutation_corpus_passes_the_invariants(store, tmp_path):
    with x12_path(store, tmp_path) as path:
        assert_clean(run_corpus(path, corpus(320, seed=2024)))


def test_the_corpus_is_deterministic():
    first, again = corpus(FAST), corpus(FAST)
    assert [(m.name, m.data) for m in first] == [(m.name, m.data) for m in again]
    assert len({m.data for m in first}) == len(first), "every mutant differs"
