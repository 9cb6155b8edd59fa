"""Envelope walker: groups segments into ISA/GS/ST..SE/GE/IEA and checks the control structure.

Faults are recorded as problems carrying the X12 code they are acknowledged with: TA1 note codes
for the interchange, AK905 codes for a functional group, AK502 codes for a transaction set.
Problems of severity 'error' reject their envelope; 'warning' means "accepted, errors noted".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field

from mappings.x12._results import Locator, Problem
from mappings.x12._tokenizer import _ISA_WIDTHS, NotX12, Segment, is_digits, iter_segments


@dataclass
class _Envelope:
    """What ISA..IEA, GS..GE and ST..SE share: the header and trailer segments, where it is, its faults."""

    header: Segment
    locator: Locator
    trailer: Segment | None = None
    problems: list[Problem] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        """Whether this envelope is rejected as a whole (TA1 R, AK9 R, or a set the envelope alone rejects)."""
        return any(p.severity == "error" for p in self.problems)


@dataclass
class TransactionSet(_Envelope):
    """ST..SE: the segments of one document and the envelope faults found around it."""

    segments: list[Segment] = field(default_factory=list)

    @property
    def id(self) -> str:
        """ST01, e.g. ``850``."""
        return self.header.element(1)

    @property
    def control_number(self) -> str:
        """ST02."""
        return self.header.element(2)


@dataclass
class FunctionalGroup(_Envelope):
    """GS..GE: one functional group and its transaction sets."""

    sets: list[TransactionSet] = field(default_factory=list)
    set_control_numbers: set[str] = field(default_factory=set)
    set_count: int = 0
    """Transaction sets seen (also when they are not kept in ``sets`` while streaming)."""

    @property
    def functional_id(self) -> str:
        """GS01, e.g. ``PO``."""
        return self.header.element(1)

    @property
    def control_number(self) -> str:
        """GS06."""
        return self.header.element(6)

    @property
    def version(self) -> str:
        """GS08, e.g. ``004010``."""
        return self.header.element(8)


@dataclass
class Interchange(_Envelope):
    """ISA..IEA: one interchange, its groups and its interchange-level faults (TA1 note codes)."""

    groups: list[FunctionalGroup] = field(default_factory=list)
    stray_segments: int = 0

    @property
    def control_number(self) -> str:
        """ISA13."""
        return self.header.element(13)

    @property
    def sender(self) -> tuple[str, str]:
        """(ISA05, ISA06) with the padding stripped."""
        return self.header.element(5).strip(), self.header.element(6).strip()

    @property
    def receiver(self) -> tuple[str, str]:
        """(ISA07, ISA08) with the padding stripped."""
        return self.header.element(7).strip(), self.header.element(8).strip()

    @property
    def is_test(self) -> bool:
        """ISA15 = T."""
        return self.header.element(15) == "T"

    def fault(self, note_code: str, message: str, *, reject: bool = True) -> None:
        """Record an interchange-level fault with its TA1 note code."""
        self.problems.append(self.locator.problem(message, severity="error" if reject else "warning", code=note_code))


def _same_number(a: str, b: str) -> bool:
    a, b = a.strip(), b.strip()
    if is_digits(a) and is_digits(b):
        return int(a) == int(b)
    return a == b


def _valid_date(value: str, fmt: str) -> bool:
    try:
        dt.datetime.strptime(value, fmt)
    except ValueError:
        return False
    return is_digits(value)


def check_isa(ic: Interchange) -> None:
    """Record the ISA's own syntax faults (the fixed layout and its coded elements)."""
    isa = ic.header
    if len(isa.elements) != 17 or any(len(e) != w for e, w in zip(isa.elements[1:], _ISA_WIDTHS, strict=False)):
        ic.fault("022", "the ISA segment does not keep its fixed 106-character layout", reject=False)
    if isa.element(1) not in ("00", "03"):
        ic.fault("010", "ISA01 (authorization qualifier) is not 00 or 03", reject=False)
    if isa.element(3) not in ("00", "01"):
        ic.fault("012", "ISA03 (security qualifier) is not 00 or 01", reject=False)
    if not _valid_date(isa.element(9), "%y%m%d"):
        ic.fault("014", "ISA09 is not a valid YYMMDD date", reject=False)
    if not _valid_date(isa.element(10), "%H%M"):
        ic.fault("015", "ISA10 is not a valid HHMM time", reject=False)
    if not (len(isa.element(12)) == 5 and is_digits(isa.element(12))):
        ic.fault("017", "ISA12 (control version) is not a 5-digit version number")
    if not (len(isa.element(13)) == 9 and is_digits(isa.element(13))):
        ic.fault("018", "ISA13 (interchange control number) is not 9 digits")
    if isa.element(14) not in ("0", "1"):
        ic.fault("019", "ISA14 (acknowledgment requested) is not 0 or 1", reject=False)
    if isa.element(15) not in ("T", "P"):
        ic.fault("020", "ISA15 (test indicator) is not T or P")


_ENVELOPE_IDS = frozenset({"ISA", "GS", "ST", "SE", "GE", "IEA"})


class EnvelopeWalker:
    """Iterate the interchanges of a file; ``fault`` says why reading stopped early, if it did.

    ``on_interchange(ic)`` is called when an ISA has been read, ``on_set(ic, group, tset)`` when a
    transaction set is complete. With ``keep_sets=False`` a set is not kept in its group after
    ``on_set`` (its segments are dropped), so memory does not grow with the file.
    """

    def __init__(self, data, *, on_interchange=None, on_set=None, keep_sets: bool = True) -> None:
        self._data = data
        self.fault: str | None = None
        self._on_interchange = on_interchange
        self._on_set = on_set
        self._keep_sets = keep_sets
        self._ic: Interchange | None = None

    def __iter__(self) -> Iterator[Interchange]:
        ic: Interchange | None = None
        group: FunctionalGroup | None = None
        tset: TransactionSet | None = None
        yielded = False
        segments = iter_segments(self._data)
        while True:
            try:
                seg = next(segments)
            except StopIteration:
                break
            except NotX12 as exc:
                if not yielded and ic is None:
                    raise
                self.fault = f"reading stopped at byte {exc.offset}: {exc.reason}"
                break
            sid = seg.elements[0]
            if tset is not None and sid not in _ENVELOPE_IDS:
                tset.segments.append(seg)  # most segments: the body of an open set
                continue
            if sid == "ISA":
                if ic is not None:
                    self._close_open(ic, group, tset, premature=True)
                    yielded = True
                    yield ic
                ic = self._ic = Interchange(seg, Locator(f"ISA {seg.element(13).strip()}"))
                check_isa(ic)
                if self._on_interchange is not None:
                    self._on_interchange(ic)
                group = tset = None
                continue
            if ic is None:
                self.fault = f"unexpected data after the IEA at byte {seg.offset}"
                break
            if sid == "GS":
                if tset is not None:
                    self._close_set(group, tset, missing_trailer=True)
                    tset = None
                if group is not None:
                    self._close_group(ic, group, missing_trailer=True)
                group = FunctionalGroup(seg, Locator(*ic.locator.parts, f"GS {seg.element(6).strip()}"))
                ic.groups.append(group)
            elif sid == "ST":
                if tset is not None:
                    self._close_set(group, tset, missing_trailer=True)
                    tset = None
                if group is None:
                    ic.stray_segments += 1
                    continue
                where = Locator(*group.locator.parts, f"ST {seg.element(2).strip()}")
                tset = TransactionSet(seg, where, segments=[seg])
                group.set_count += 1
                if self._keep_sets:
                    group.sets.append(tset)
            elif sid == "SE" and tset is not None:
                tset.segments.append(seg)
                tset.trailer = seg
                self._close_set(group, tset, missing_trailer=False)
                tset = None
            elif sid == "GE" and group is not None:
                if tset is not None:
                    self._close_set(group, tset, missing_trailer=True)
                    tset = None
                group.trailer = seg
                self._close_group(ic, group, missing_trailer=False)
                group = None
            elif sid == "IEA":
                ic.trailer = seg
                self._close_open(ic, group, tset, premature=False)
                yielded = True
                yield ic
                ic = group = tset = None
            elif tset is not None:
                tset.segments.append(seg)
            else:
                ic.stray_segments += 1
        if ic is not None:
            self._close_open(ic, group, tset, premature=True)
            yield ic

    def _close_open(
        self, ic: Interchange, group: FunctionalGroup | None, tset: TransactionSet | None, *, premature: bool
    ) -> None:
        if tset is not None:
            self._close_set(group, tset, missing_trailer=True)
        if group is not None:
            self._close_group(ic, group, missing_trailer=True)
        if ic.stray_segments:
            ic.fault("024", f"{ic.stray_segments} segment(s) stand outside any functional group or transaction set")
        if premature:
            ic.fault("023", "the interchange ends without its IEA trailer (file truncated?)")
            return
        iea = ic.trailer
        assert iea is not None
        if not _same_number(iea.element(2), ic.control_number):
            ic.fault("001", "the IEA control number does not match the ISA control number (ISA13)")
        if not _same_number(iea.element(1), str(len(ic.groups))):
            ic.fault(
                "021",
                f"IEA01 says {iea.element(1)!r} functional groups, the interchange has {len(ic.groups)}",
                reject=False,
            )

    def _close_set(self, group: FunctionalGroup | None, tset: TransactionSet, *, missing_trailer: bool) -> None:
        self._check_set(group, tset, missing_trailer=missing_trailer)
        if self._on_set is not None and group is not None:
            self._on_set(self._ic, group, tset)
        if not self._keep_sets:
            tset.segments = []

    @staticmethod
    def _close_group(ic: Interchange, group: FunctionalGroup, *, missing_trailer: bool) -> None:
        loc = group.locator
        if not is_digits(group.control_number.strip()):
            group.problems.append(
                loc.problem("GS06 (group control number) is not numeric", segment_id="GS", element=6, code="6")
            )
        if missing_trailer:
            group.problems.append(loc.problem("the functional group has no GE trailer", segment_id="GE", code="3"))
            return
        ge = group.trailer
        assert ge is not None
        if not _same_number(ge.element(2), group.control_number):
            group.problems.append(
                loc.problem("the GE control number does not match GS06", segment_id="GE", element=2, code="4")
            )
        if not _same_number(ge.element(1), str(group.set_count)):
            group.problems.append(
                loc.problem(
                    f"GE01 says {ge.element(1)!r} transaction sets, the group has {group.set_count}",
                    segment_id="GE",
                    element=1,
                    code="5",
                )
            )

    @staticmethod
    def _check_set(group: FunctionalGroup | None, tset: TransactionSet, *, missing_trailer: bool) -> None:
        loc = tset.locator
        ts_id = tset.id
        if not (len(ts_id) == 3 and is_digits(ts_id)):
            tset.problems.append(
                loc.problem("ST01 is not a transaction set id", segment_id="ST", position=1, element=1, code="6")
            )
        if not tset.control_number.strip():
            tset.problems.append(
                loc.problem("ST02 (control number) is missing", segment_id="ST", position=1, element=2, code="7")
            )
        elif group is not None and tset.control_number in group.set_control_numbers:
            tset.problems.append(
                loc.problem(
                    "ST02 is used by another transaction set in the same group",
                    segment_id="ST",
                    position=1,
                    element=2,
                    code="23",
                )
            )
        if group is not None:
            group.set_control_numbers.add(tset.control_number)
        if missing_trailer:
            tset.problems.append(loc.problem("the transaction set has no SE trailer", segment_id="SE", code="2"))
            return
        se = tset.trailer
        assert se is not None
        if se.element(2) != tset.control_number:
            tset.problems.append(
                loc.problem(
                    "the SE control number does not match ST02",
                    segment_id="SE",
                    position=se.position,
                    element=2,
                    code="3",
                )
            )
        if not _same_number(se.element(1), str(len(tset.segments))):
            tset.problems.append(
                loc.problem(
                    f"SE01 says {se.element(1)!r} segments, the transaction set has {len(tset.segments)}",
                    segment_id="SE",
                    position=se.position,
                    element=1,
                    code="4",
                )
            )
