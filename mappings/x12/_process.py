"""Processing a received X12 file: envelopes -> partner checks -> 850 mapping -> acknowledgments."""

from __future__ import annotations

import datetime as dt
import marshal
import pickle
import re
import tempfile
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from typing import IO, NamedTuple, Protocol

from canonical.errors import FatalError
from canonical.outcomes import DocumentOutcome, ReceiptOutcome
from mappings.profiles import PartnerDirectory, PartnerProfile
from mappings.x12._850 import map_850
from mappings.x12._855_fa import read_functional_ack
from mappings.x12._acks import (
    AckAddress,
    GroupAck,
    SetAck,
    ack_file_name,
    build_functional_ack,
    build_ta1,
    interchange_version,
)
from mappings.x12._envelope import EnvelopeWalker, FunctionalGroup, Interchange, TransactionSet
from mappings.x12._results import (
    DOCUMENT_OUTCOMES,
    DocumentResult,
    InterchangeResult,
    Locator,
    OutboundAck,
    Problem,
    X12FileResult,
)
from mappings.x12._tokenizer import Delimiters, NotX12, Segment, Source, is_digits
from mappings.x12._validation import check_transaction_set

DuplicateCheck = Callable[[str, str, str], bool]
ControlNumbers = Callable[[str, str], int]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_MAX_CONTROL = 999_999_999


class LocalControlNumbers:
    """Control numbers for dry runs: a counter per (partner, kind) starting at 1."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], int] = defaultdict(int)

    def __call__(self, partner_id: str, kind: str) -> int:
        self._last[(partner_id, kind)] += 1
        return self._last[(partner_id, kind)]


def process_interchange_file(
    data: Source,
    *,
    partners: PartnerDirectory,
    raw_document_id: str | None = None,
    is_duplicate_interchange: DuplicateCheck = lambda q, i, c: False,
    next_control_number: ControlNumbers | None = None,
    now: dt.datetime | None = None,
    on_document: Callable[[DocumentResult], None] | None = None,
    on_interchange: Callable[[InterchangeResult], None] | None = None,
    done: Sequence[InterchangeResult] = (),
    acks_for: str | None = None,
) -> X12FileResult:
    """Read every interchange in ``data``: orders from accepted 850s, a 997/TA1 for each interchange.

    ``data`` is bytes, a binary file or an iterable of byte chunks. With ``on_document``, every
    accepted transaction set is handed over once its interchange has been read to its IEA and
    found sound (a later envelope fault must still be able to refuse it), and is not kept in the
    result: the result then holds counts (``handed_over``), rejected and unsupported documents and
    the acks, and memory does not grow with the file (accepted sets wait in a temporary file).

    ``on_interchange`` gets each interchange's result as soon as it is complete (the caller may
    commit there). ``done``: the results of the first interchanges, stored by an earlier run that
    was interrupted; they are read again (delimiters, duplicates within the file) but not processed
    (no document handed over, no ack, no control number), and count in the file's outcome.

    ``acks_for``: the partner whose outbound folder every ack of this file goes to (the owner of
    the inbox it came from). An ack about an interchange from an unknown sender is then numbered
    in that partner's control numbers, as the acks it already receives are.

    Bad input never raises: it ends as an outcome with a reason. ``ValueError`` is raised only for a
    caller's mistake (a ``raw_document_id`` that is not a sha256 hex digest).
    """
    if raw_document_id is not None and not _SHA256.match(raw_document_id):
        raise ValueError("raw_document_id must be a lowercase sha256 hex digest")
    if isinstance(data, (bytearray, memoryview)):
        data = bytes(data)
    context = _Context(
        partners=partners,
        raw_document_id=raw_document_id,
        is_duplicate=is_duplicate_interchange,
        next_control_number=next_control_number or LocalControlNumbers(),
        now=now or dt.datetime.now(dt.UTC),
        acks_for=acks_for,
    )
    results: list[InterchangeResult] = list(done)
    streaming = _Streaming(context, on_document) if on_document is not None else None
    if streaming is None:
        walker = EnvelopeWalker(data)
    else:
        walker = EnvelopeWalker(data, on_interchange=streaming.start, on_set=streaming.add_set, keep_sets=False)
    try:
        for index, interchange in enumerate(walker):
            if index < len(done):
                continue  # stored by an earlier, interrupted run
            result = context.process(interchange) if streaming is None else streaming.finish(interchange)
            results.append(result)
            if on_interchange is not None:
                on_interchange(result)
    except NotX12 as exc:
        return X12FileResult(outcome=ReceiptOutcome.NOT_X12, reason=exc.reason, interchanges=[])
    return _file_result(results, walker.fault)


class _Context:
    """The per-call collaborators and state (interchanges already seen in this file)."""

    def __init__(
        self,
        *,
        partners: PartnerDirectory,
        raw_document_id: str | None,
        is_duplicate: DuplicateCheck,
        next_control_number: ControlNumbers,
        now: dt.datetime,
        acks_for: str | None = None,
    ) -> None:
        self.partners: PartnerDirectory = partners
        self.raw_document_id: str | None = raw_document_id
        self.is_duplicate: DuplicateCheck = is_duplicate
        self.next_control_number: ControlNumbers = next_control_number
        self.now: dt.datetime = now
        self.seen: set[tuple[str, str, str]] = set()
        self.acks_for: str | None = acks_for

    # -- interchange ------------------------------------------------------------------------------
    def process(self, ic: Interchange) -> InterchangeResult:
        sender_q, sender_id = ic.sender
        receiver_q, receiver_id = ic.receiver
        profile = self._check_partner(ic)
        result = InterchangeResult(
            partner_id=profile.id if profile else None,
            sender_qualifier=sender_q,
            sender_id=sender_id,
            receiver_qualifier=receiver_q,
            receiver_id=receiver_id,
            control_number=ic.control_number,
            is_test=ic.is_test,
            version=ic.header.element(12),
            outcome=ReceiptOutcome.REJECTED,
            reason=None,
        )
        duplicate = False
        group_acks: list[GroupAck] = []
        if profile is not None and not ic.rejected:
            key = (sender_q, sender_id, ic.control_number)
            duplicate = key in self.seen or bool(self.is_duplicate(*key))
            self.seen.add(key)
            if duplicate:
                ic.fault("025", f"interchange {ic.control_number} from {sender_q}/{sender_id} was received before")
        result.errors = list(ic.problems)
        if duplicate:
            result.outcome, result.reason = (
                ReceiptOutcome.DUPLICATE,
                "the interchange control number was received before from this sender",
            )
        elif ic.rejected:
            result.envelope_rejected = True
            result.reason = _first_error(ic.problems)
            result.documents = [
                _rejected_document(tset, f"the interchange was rejected: {result.reason}")
                for group in ic.groups
                for tset in group.sets
            ]
        else:
            for group in ic.groups:
                documents, group_ack = self._process_group(group, profile, ic.is_test)
                result.documents.extend(documents)
                result.errors.extend(group.problems)
                group_acks.append(group_ack)
            result.outcome, result.reason = _interchange_outcome(ic, result.documents, result.errors)
        result.acks = self._acks(ic, profile, duplicate, group_acks)
        return result

    def _check_partner(self, ic: Interchange) -> PartnerProfile | None:
        sender_q, sender_id = ic.sender
        profile = self.partners.by_x12_sender(sender_q, sender_id)
        if profile is None or profile.x12 is None:
            ic.fault(
                "006", f"unknown interchange sender {sender_q}/{sender_id}: no partner profile has this ISA05/ISA06"
            )
            return None
        us = profile.x12.us
        if ic.receiver != (us.isa_qualifier, us.isa_id.strip()):
            ic.fault(
                "009",
                f"the interchange is addressed to {ic.receiver[0]}/{ic.receiver[1]}, not to our ids for {profile.id}",
            )
        if ic.is_test and not profile.x12.accept_test_interchanges:
            ic.fault("020", f"test interchanges (ISA15 = T) are not accepted from {profile.id}")
        return profile

    # -- groups and sets --------------------------------------------------------------------------
    def _process_group(
        self, group: FunctionalGroup, profile: PartnerProfile | None, is_test: bool
    ) -> tuple[list[DocumentResult], GroupAck]:
        assert profile is not None and profile.x12 is not None
        version = group.version.strip()
        if version[:6] not in profile.x12.versions:
            agreed = ", ".join(profile.x12.versions)
            group.problems.append(
                group.locator.problem(
                    f"version {version or '(none)'} is not agreed with {profile.id} ({agreed})",
                    segment_id="GS",
                    element=8,
                    code="2",
                )
            )
        included = group.trailer.element(1).strip() if group.trailer else ""
        set_acks: list[SetAck] = []
        ack = GroupAck(
            functional_id=group.functional_id,
            control_number=group.control_number.strip(),
            version=version,
            included=int(included) if is_digits(included) else len(group.sets),
            sets=set_acks,
            codes=[p.code for p in group.problems if p.code],
            rejected=group.rejected,
        )
        documents = []
        for tset in group.sets:
            if group.rejected:
                document = _rejected_document(
                    tset, f"the functional group was rejected: {_first_error(group.problems)}"
                )
            else:
                document = self._process_set(tset, profile, is_test, version)
            documents.append(document)
            set_acks.append(_set_ack(tset, document))
        return documents, ack

    def _process_set(
        self, tset: TransactionSet, profile: PartnerProfile, is_test: bool, version: str = "004010"
    ) -> DocumentResult:
        document, problems = self._validate_set(tset, version)
        return document if document is not None else self._map_set(tset, problems, profile, is_test)

    def _validate_set(self, tset: TransactionSet, version: str) -> tuple[DocumentResult | None, list[Problem]]:
        """The syntax verdict: a final result (rejected, unsupported) or the problems to map with."""
        ref = tset.locator.ref
        set_id = tset.id.strip()
        if tset.rejected:
            return DocumentResult(ref, DocumentOutcome.REJECTED, list(tset.problems), transaction_set=set_id), []
        if set_id != "850":
            note = tset.locator.problem(
                f"transaction set {set_id} is not supported yet: acknowledged, not processed",
                severity="warning",
                acknowledged=False,
            )
            fa = read_functional_ack(tset.segments) if set_id in ("997", "999") else None  # maybe about our 855
            about = (fa.functional_id, fa.group_control, fa.status) if fa else None
            return DocumentResult(ref, DocumentOutcome.UNSUPPORTED, [*tset.problems, note], transaction_set=set_id,
                                  functional_ack=about), []
        problems = [*tset.problems, *check_transaction_set(tset.segments, version, tset.locator)]
        if any(p.severity == "error" for p in problems):
            return DocumentResult(ref, DocumentOutcome.REJECTED, problems, transaction_set=set_id), problems
        return None, problems

    def _map_set(
        self, tset: TransactionSet, problems: list[Problem], profile: PartnerProfile, is_test: bool
    ) -> DocumentResult:
        ref = tset.locator.ref
        set_id = tset.id.strip()
        order, found = map_850(
            tset.segments, profile=profile, loc=tset.locator, is_test=is_test, raw_document_id=self.raw_document_id
        )
        problems = [*problems, *found]
        if order is None or any(p.severity == "error" for p in problems):
            return DocumentResult(ref, DocumentOutcome.REJECTED, problems, transaction_set=set_id)
        warned = any(p.severity == "warning" for p in problems)
        outcome = DocumentOutcome.ACCEPTED_WITH_WARNINGS if warned else DocumentOutcome.ACCEPTED
        return DocumentResult(ref, outcome, problems, order, transaction_set=set_id)

    # -- acknowledgments --------------------------------------------------------------------------
    def _acks(
        self, ic: Interchange, profile: PartnerProfile | None, duplicate: bool, group_acks: list[GroupAck]
    ) -> list[OutboundAck]:
        isa = ic.header
        # X12: a functional ack (997, 999: GS01 FA) is never acknowledged; its group gets no 997 of ours.
        group_acks = [g for g in group_acks if g.functional_id.strip() != "FA"]
        if profile is not None and profile.x12 is not None:
            ours = AckAddress(profile.x12.us.isa_qualifier, profile.x12.us.isa_id, profile.x12.us.gs_id)
            theirs = AckAddress(isa.element(5), isa.element(6), profile.x12.ack_gs_id or profile.x12.partner.gs_id)
            partner_key = profile.id
            send_ta1 = profile.x12.send_ta1
        else:
            ours = AckAddress(isa.element(7), isa.element(8), isa.element(8).strip())
            theirs = AckAddress(isa.element(5), isa.element(6), isa.element(6).strip())
            # Numbered where the ack goes: in the inbox owner's series (one per outbound folder),
            # else (a dry run, `hub map`) in a series of the unknown sender's own.
            partner_key = self.acks_for or f"unknown:{ic.sender[0]}/{ic.sender[1]}"
            send_ta1 = "on_error"
        isa12 = interchange_version(isa.element(12))
        test = ic.is_test
        acks: list[OutboundAck] = []
        faults = ic.problems
        # A fault is always answered (the partner must learn its interchange was refused or
        # noted); the profile's send_ta1 only decides about clean interchanges.
        wanted = bool(faults) or send_ta1 == "always" or (send_ta1 == "when_requested" and isa.element(14) == "1")
        if wanted:
            ack_code = "R" if ic.rejected else ("E" if faults else "A")
            errors = [p for p in faults if p.severity == "error"]
            note = (errors or faults)[0].code if faults else "000"
            control = self._control(partner_key, "interchange")
            text = build_ta1(
                ours=ours,
                theirs=theirs,
                control=control,
                received_control=ic.control_number,
                received_date=isa.element(9),
                received_time=isa.element(10),
                ack_code=ack_code,
                note_code=note or "000",
                isa12=isa12,
                test=test,
                now=self.now,
            )
            acks.append(
                OutboundAck(
                    "TA1",
                    profile.id if profile else None,
                    text,
                    f"{control:09d}",
                    ack_file_name("TA1", theirs.isa_id, control),
                )
            )
        if group_acks and not ic.rejected and not duplicate:
            control = self._control(partner_key, "interchange")
            numbered = [
                (g, self._control(partner_key, "group"), self._control(partner_key, "transaction")) for g in group_acks
            ]
            kind = profile.x12.ack if profile is not None and profile.x12 is not None else "997"
            text = build_functional_ack(
                kind,
                ours=ours,
                theirs=theirs,
                interchange_control=control,
                groups=numbered,
                isa12=isa12,
                test=test,
                now=self.now,
            )
            acks.append(
                OutboundAck(
                    kind,
                    profile.id if profile else None,
                    text,
                    f"{control:09d}",
                    ack_file_name(kind, theirs.isa_id, control),
                )
            )
        return acks

    def _control(self, partner_key: str, kind: str) -> int:
        number = self.next_control_number(partner_key, kind)
        x12 = next((p.x12 for p in self.partners if p.id == partner_key and p.x12 is not None), None)
        if x12 is not None and isinstance(number, int):
            number += x12.first_control_number - 1  # the profile's starting point; still gap-free
        if not isinstance(number, int) or not 1 <= number <= _MAX_CONTROL:
            raise FatalError(f"next_control_number gave {number!r} for {kind}; expected 1..{_MAX_CONTROL}")
        return number


def _set_ack(tset: TransactionSet, document: DocumentResult) -> SetAck:
    envelope_codes = [p.code for p in tset.problems if p.code]
    told = [p for p in document.errors if p.acknowledged and p.segment_position is not None and p not in tset.problems]
    if document.outcome == DocumentOutcome.REJECTED:
        codes = envelope_codes + (["5"] if told else [])
        return SetAck(tset.id, tset.control_number, "R", codes, told)
    if told:
        return SetAck(tset.id, tset.control_number, "E", ["5"], told)
    return SetAck(tset.id, tset.control_number, "A", [], [])


def _rejected_document(tset: TransactionSet, reason: str) -> DocumentResult:
    problem = tset.locator.problem(reason, acknowledged=False)
    return DocumentResult(tset.locator.ref, DocumentOutcome.REJECTED, [*tset.problems, problem],
                          transaction_set=tset.id.strip())


def _first_error(problems: list[Problem]) -> str:
    return next((p.message for p in problems if p.severity == "error"), "rejected")


class _HasOutcome(Protocol):
    """What an interchange's verdict reads of each document: a DocumentResult, or streaming's bare _Outcome."""

    @property
    def outcome(self) -> str: ...


def _interchange_outcome(
    ic: Interchange, documents: Sequence[_HasOutcome], problems: list[Problem]
) -> tuple[str, str | None]:
    outcomes = [d.outcome for d in documents]
    rejected = outcomes.count(DocumentOutcome.REJECTED)
    if documents and rejected == len(documents):
        return ReceiptOutcome.REJECTED, "every transaction set was rejected"
    if rejected:
        return ReceiptOutcome.PARTIALLY_ACCEPTED, f"{rejected} of {len(documents)} transaction sets were rejected"
    noted = [p for p in problems if p.severity == "warning"] + [p for p in ic.problems if p.severity == "warning"]
    if noted:
        return ReceiptOutcome.ACCEPTED_WITH_WARNINGS, f"accepted with errors noted: {noted[0].message}"
    flagged = [d for d in documents if d.outcome != DocumentOutcome.ACCEPTED]
    if flagged:
        return (ReceiptOutcome.ACCEPTED_WITH_WARNINGS,
                f"{len(flagged)} transaction set(s) accepted with warnings or not supported")
    return ReceiptOutcome.ACCEPTED, None


def _file_result(results: list[InterchangeResult], fault: str | None) -> X12FileResult:
    outcomes = [r.outcome for r in results]
    if fault is not None:
        outcomes.append(ReceiptOutcome.REJECTED)
    if not outcomes:
        return X12FileResult(ReceiptOutcome.REJECTED, "the file holds no interchange", results, fault)
    reasons = [f"interchange {r.control_number}: {r.reason}" for r in results if r.reason]
    if fault:
        reasons.append(fault)
    reason = "; ".join(reasons) or None
    if all(o == ReceiptOutcome.DUPLICATE for o in outcomes):
        return X12FileResult(ReceiptOutcome.DUPLICATE, reason, results, fault)
    if all(o == ReceiptOutcome.ACCEPTED for o in outcomes):
        return X12FileResult(ReceiptOutcome.ACCEPTED, None, results, fault)
    if all(o in (ReceiptOutcome.ACCEPTED, ReceiptOutcome.ACCEPTED_WITH_WARNINGS) for o in outcomes):
        return X12FileResult(ReceiptOutcome.ACCEPTED_WITH_WARNINGS, reason, results, fault)
    if all(o == ReceiptOutcome.REJECTED for o in outcomes):
        return X12FileResult(ReceiptOutcome.REJECTED, reason, results, fault)
    return X12FileResult(ReceiptOutcome.PARTIALLY_ACCEPTED, reason, results, fault)


class _SetAcks:
    """A group's set acks, compact: plain acceptances are kept as their control numbers, packed.

    A 250 MB file holds ~190,000 sets; a SetAck each would be most of the memory we use, and
    even a string each costs ~60 bytes. Runs of plain acceptances are packed into one string
    every ``_PACK`` control numbers (an accepted ST02 passed the validator: it holds no NUL).
    Behaves as the read-only list of SetAck the 997 builder iterates.
    """

    _PACK = 1024

    def __init__(self, set_id: str) -> None:
        self.set_id = set_id
        self._items: list[SetAck | list[str]] = []  # SetAck, or a list of packed runs (str of NUL-separated numbers)
        self._run: list[str] = []
        self._count = 0

    def add(self, ack: SetAck) -> None:
        """Keep ``ack`` (packed when it is a plain acceptance of this group's set id)."""
        self._count += 1
        plain = ack.status == "A" and not ack.codes and not ack.problems and ack.set_id == self.set_id
        if plain and "\x00" not in ack.control_number:
            self._run.append(ack.control_number)
            if len(self._run) >= self._PACK:
                self._pack()
            return
        self._pack()
        self._items.append(ack)

    def _pack(self) -> None:
        if self._run:
            last = self._items[-1] if self._items else None
            if not isinstance(last, list):
                last = []
                self._items.append(last)
            last.append("\x00".join(self._run))
            self._run = []

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[SetAck]:
        set_id = self.set_id
        for item in [*self._items, ["\x00".join(self._run)] if self._run else []]:
            if isinstance(item, list):
                for packed in item:
                    for number in packed.split("\x00"):
                        yield SetAck(set_id, number, "A")
            else:
                yield item


class _Outcome(NamedTuple):
    """All streaming keeps of a document once it is handed over or listed: its outcome."""

    outcome: str


_OUTCOMES: dict[str, _Outcome] = {name: _Outcome(name) for name in DOCUMENT_OUTCOMES}
_Slot = tuple[TransactionSet, DocumentResult | None] | None
"""One set of a group while its interchange is read: None when held in the spool, else the set and its
final result (None when it was not validated: a duplicate, a refused envelope or an unknown sender)."""


class _Streaming:
    """Processing while reading: sets are validated at their SE, held on disk, handed over at the IEA.

    Per set only a slot is kept in memory (None for a held set, the final small result for a
    rejected or unsupported one), so a file of any size is read in flat memory.
    """

    def __init__(self, context: _Context, on_document: Callable[[DocumentResult], None]) -> None:
        self.context = context
        self.on_document = on_document
        self.profile: PartnerProfile | None = None
        self.duplicate = False
        self.groups: dict[int, tuple[str, list[_Slot]]] = {}
        self.spool: IO[bytes] | None = None
        """The current interchange's held sets (open from ``start`` to ``finish``)."""
        self.terminator = "~"

    def start(self, ic: Interchange) -> None:
        """An ISA was read: check the partner and the duplicate ledger before any set is read."""
        context = self.context
        self.profile = context._check_partner(ic)
        self.duplicate = False
        if self.profile is not None and not ic.rejected:
            key = (*ic.sender, ic.control_number)
            self.duplicate = key in context.seen or bool(context.is_duplicate(*key))
            context.seen.add(key)
            if self.duplicate:
                ic.fault("025", f"interchange {ic.control_number} from {key[0]}/{key[1]} was received before")
        self.groups = {}
        if self.spool is not None:
            self.spool.close()
        self.spool = tempfile.TemporaryFile()  # noqa: SIM115 - written by add_set and read by finish, which closes it
        self.terminator = ic.header.delimiters.segment

    def _group(self, group: FunctionalGroup) -> tuple[str, list[_Slot]]:
        entry = self.groups.get(id(group))
        if entry is None:
            version = group.version.strip()
            profile = self.profile
            if profile is not None and profile.x12 is not None and version[:6] not in profile.x12.versions:
                agreed = ", ".join(profile.x12.versions)
                group.problems.append(
                    group.locator.problem(f"version {version or '(none)'} is not agreed with {profile.id} ({agreed})",
                                          segment_id="GS", element=8, code="2")
                )
            entry = self.groups[id(group)] = (version, [])
        return entry

    def add_set(self, ic: Interchange, group: FunctionalGroup, tset: TransactionSet) -> None:
        """A set is complete: judge its syntax now, hold it (on disk) when it may become an order."""
        version, slots = self._group(group)
        if self.duplicate or ic.rejected or group.rejected or self.profile is None:
            slots.append((tset, None))
            return
        document, problems = self.context._validate_set(tset, version)
        if document is not None:
            slots.append((tset, document))
            return
        # marshal: several times faster than pickle for plain lists of strings; the rare warnings
        # found so far (Problem objects) travel pickled inside. The segments travel as their text
        # joined by the terminator (it never occurs inside one) and are split again when read:
        # one string instead of a list per segment. A length prefix lets the reader take the
        # record in one read (``marshal.load`` on a file reads it piece by piece).
        segments = tset.segments
        record = marshal.dumps((tset.locator.parts, pickle.dumps(problems) if problems else b"",
                                [s.offset for s in segments], [s.position for s in segments],
                                self.terminator.join([s.text for s in segments])))
        spool = self.spool
        assert spool is not None  # noqa: S101 - sets arrive between start (which opens it) and finish
        spool.write(len(record).to_bytes(4, "little"))
        spool.write(record)
        slots.append(None)

    @staticmethod
    def _held(spool: IO[bytes], delimiters: Delimiters) -> tuple[TransactionSet, list[Problem]]:
        """The next held set, rebuilt from the temporary file (held sets have no envelope errors)."""
        size = int.from_bytes(spool.read(4), "little")
        parts, problems, offsets, positions, joined = marshal.loads(spool.read(size))
        problems = pickle.loads(problems) if problems else []
        element = delimiters.element
        rebuilt = [Segment(t.split(element), o, p, delimiters, t)
                   for t, o, p in zip(joined.split(delimiters.segment), offsets, positions, strict=True)]
        tset = TransactionSet(rebuilt[0], Locator(*parts), segments=rebuilt)
        return tset, problems

    def finish(self, ic: Interchange) -> InterchangeResult:
        """The IEA (or the end of the file): decide, hand over the sound sets, build the acks."""
        context, profile = self.context, self.profile
        sender_q, sender_id = ic.sender
        result = InterchangeResult(
            partner_id=profile.id if profile else None, sender_qualifier=sender_q, sender_id=sender_id,
            receiver_qualifier=ic.receiver[0], receiver_id=ic.receiver[1], control_number=ic.control_number,
            is_test=ic.is_test, version=ic.header.element(12), outcome=ReceiptOutcome.REJECTED, reason=None,
        )
        result.errors = list(ic.problems)
        spool = self.spool
        assert spool is not None  # noqa: S101 - start opened it for this interchange
        spool.seek(0)
        delimiters = ic.header.delimiters
        group_acks: list[GroupAck] = []
        outcomes: list[_Outcome] = []
        if self.duplicate:
            result.outcome = ReceiptOutcome.DUPLICATE
            result.reason = "the interchange control number was received before from this sender"
        elif ic.rejected:
            result.envelope_rejected = True
            result.reason = _first_error(ic.problems)
            for group in ic.groups:
                for slot in self._group(group)[1]:
                    tset = slot[0] if slot is not None else self._held(spool, delimiters)[0]
                    result.documents.append(_rejected_document(tset, f"the interchange was rejected: {result.reason}"))
        else:
            for group in ic.groups:
                _, slots = self._group(group)
                included = group.trailer.element(1).strip() if group.trailer else ""
                set_acks = _SetAcks("850")
                ack = GroupAck(
                    functional_id=group.functional_id, control_number=group.control_number.strip(),
                    version=group.version.strip(), included=int(included) if is_digits(included) else group.set_count,
                    codes=[p.code for p in group.problems if p.code], rejected=group.rejected,
                    sets=set_acks,
                )
                for slot in slots:
                    if slot is None:
                        tset, problems = self._held(spool, delimiters)
                        if group.rejected:
                            document = _rejected_document(
                                tset, f"the functional group was rejected: {_first_error(group.problems)}")
                        else:
                            assert profile is not None  # noqa: S101 - add_set holds a set only for a known sender
                            document = context._map_set(tset, problems, profile, ic.is_test)
                    else:
                        tset, settled = slot
                        if settled is None or group.rejected:
                            document = _rejected_document(
                                tset, f"the functional group was rejected: {_first_error(group.problems)}")
                        else:
                            document = settled
                    set_acks.add(_set_ack(tset, document))
                    outcomes.append(_OUTCOMES.get(document.outcome, _OUTCOMES[DocumentOutcome.REJECTED]))
                    if document.order is not None:
                        self.on_document(document)
                        result.handed_over += 1
                    else:
                        result.documents.append(document)
                result.errors.extend(group.problems)
                group_acks.append(ack)
            result.outcome, result.reason = _interchange_outcome(ic, outcomes, result.errors)
        spool.close()
        self.spool = None
        result.acks = context._acks(ic, profile, self.duplicate, group_acks)
        return result
