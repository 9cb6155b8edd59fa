"""A transaction-set validator compiled from our pyx12 maps: pyx12's checks, at tokenizer speed.

Two layers, one truth:

* **Structure** (segment order, loops, repeats, mandatory segments) follows pyx12's map walker
  (``pyx12.map_walker.walk_tree``) step by step, but the walk from "where we are" to "where this
  segment id belongs" is computed once per (map node, segment id) and memoized. What depends on
  the counters (which mandatory segments were really skipped, repeat limits) is replayed on a flat
  list of counters; a loop's counters are reset with one slice assignment.
* **Elements**: each segment node gets one regular expression, built from its element types,
  lengths and codes for the interchange's delimiters, plus its syntax notes as one generated
  expression. A segment that matches both is clean; anything else goes through the exact
  element-by-element checks (``_element_problems``), which are the reference and say which
  element broke which rule (the AK4 code).

Where we differ from pyx12 on purpose (see tests/test_x12_differential.py): a segment whose
first element has a code list is matched by its id, not by its code (an unknown BEG01 is an
invalid code, AK403 7, not an unknown segment); a segment that is known to the transaction set
but not allowed where it stands is "unexpected" (AK304 2) rather than "not found" (1).
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mappings.x12._maps import CompositeDef, ElementDef, LoopNode, SegmentNode, TransactionMap
from mappings.x12._results import Locator, Problem
from mappings.x12._tokenizer import Segment

CleanCheck = Callable[[str, list[str]], bool]
"""``check(text, elements)`` of one segment node: True when the segment breaks no element rule."""

# AK304 segment codes.
UNRECOGNIZED_SEGMENT = "1"
UNEXPECTED_SEGMENT = "2"
MANDATORY_SEGMENT_MISSING = "3"
LOOP_OVER_MAXIMUM = "4"
SEGMENT_OVER_MAXIMUM = "5"
SEGMENT_HAS_ELEMENT_ERRORS = "8"
# AK403 element codes.
MANDATORY_ELEMENT_MISSING = "1"
CONDITIONAL_ELEMENT_MISSING = "2"
TOO_MANY_ELEMENTS = "3"
TOO_SHORT = "4"
TOO_LONG = "5"
INVALID_CHARACTER = "6"
INVALID_CODE = "7"
INVALID_DATE = "8"
INVALID_TIME = "9"
EXCLUSION_VIOLATED = "10"

CODE_WORDS = {
    MANDATORY_ELEMENT_MISSING: "required and missing",
    CONDITIONAL_ELEMENT_MISSING: "required by a syntax note and missing",
    TOO_MANY_ELEMENTS: "too many elements",
    TOO_SHORT: "too short",
    TOO_LONG: "too long",
    INVALID_CHARACTER: "invalid character",
    INVALID_CODE: "invalid code value",
    INVALID_DATE: "invalid date",
    INVALID_TIME: "invalid time",
    EXCLUSION_VIOLATED: "exclusion condition violated",
}

# X12 extended character set (pyx12's default 'E'); 005010 adds '^' and '`'.
_EXTENDED = set("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!\"&'()*+,-./:;?= abcdefghijklmnopqrstuvwxyz%~@[]_{}\\|<>#$")
_EXTENDED_5010 = _EXTENDED | {"^", "`"}
_CONTROL = frozenset(chr(c) for c in (0x07, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x1C, 0x1D, 0x1E, 0x1F,
                                      0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17))
_NUMERIC = re.compile(r"-?[0-9]+", re.ASCII)
_REAL = re.compile(r"-?[0-9]*(\.[0-9]+)?", re.ASCII)
_DIGITS = re.compile(r"[0-9]+", re.ASCII)
# CCYYMMDD, year >= 1800, real calendar days (leap years included).
_YEAR = r"(?:1[89]|[2-9][0-9])[0-9]{2}"
_LEAP_YEAR = r"(?:(?:1[89]|[2-9][0-9])(?:0[48]|[2468][048]|[13579][26])|(?:[2468][048]|[3579][26])00)"
_DATE8 = (
    rf"(?:{_YEAR}(?:(?:0[13578]|1[02])(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)(?:0[1-9]|[12][0-9]|30)"
    rf"|02(?:0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}0229)"
)
_TIME = r"(?:[01][0-9]|2[0-3])[0-5][0-9](?:[0-5][0-9](?:[0-9]{1,2})?)?"


# -- exact element checks (the reference) --------------------------------------------------------
def valid_date(value: str) -> bool:
    """pyx12's date rule: digits, 6/8/12 long, a real calendar date from 1800 on (YY < 50 is 20YY)."""
    if not _DIGITS.fullmatch(value) or len(value) not in (6, 8, 12):
        return False
    if len(value) == 6:
        value = ("20" if int(value[:2]) < 50 else "19") + value
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:8])
    if year < 1800 or not 1 <= month <= 12 or not 1 <= day <= calendar.monthrange(year, month)[1]:
        return False
    return len(value) != 12 or valid_time(value[8:12])


def valid_time(value: str) -> bool:
    """pyx12's time rule: HHMM[SS[d[d]]] with real hours, minutes and seconds."""
    if not _DIGITS.fullmatch(value):
        return False
    if value[0:2] > "23" or value[2:4] > "59":
        return False
    return not (len(value) > 4 and (len(value) < 6 or value[4:6] > "59" or len(value) > 8))


def element_codes(rule: ElementDef, value: str, extended: frozenset[str]) -> list[str]:
    """AK403 codes for one present simple element value, in pyx12's order (empty when valid)."""
    found = []
    kind = rule.type
    if rule.usage == "N":
        return [EXCLUSION_VIOLATED]
    measured = value.replace("-", "").replace(".", "") if kind == "R" or kind[:1] == "N" else value
    if len(measured) < rule.min_len:
        found.append(TOO_SHORT)
    if len(measured) > rule.max_len:
        found.append(TOO_LONG)
    if any(c in _CONTROL for c in value):
        found.append(INVALID_CHARACTER)
        return found
    if kind in ("AN", "ID") and value[-1] == " " and len(value.rstrip()) >= rule.min_len:
        found.append(INVALID_CHARACTER)
    if rule.codes is not None and value not in rule.codes:
        found.append(INVALID_CODE)
    if kind[:1] == "N":
        ok = _NUMERIC.fullmatch(value) is not None
    elif kind == "R":
        ok = _REAL.fullmatch(value) is not None
    elif kind in ("ID", "AN"):
        ok = all(c in extended for c in value)
    elif kind == "DT":
        ok = valid_date(value)
        if not ok:
            found.append(INVALID_DATE)
            return found
    elif kind == "TM":
        ok = valid_time(value)
        if not ok:
            found.append(INVALID_TIME)
            return found
    else:
        ok = True
    if not ok:
        found.append(INVALID_CHARACTER)
    return found


def _present(elements: list[str], n: int) -> bool:
    return n < len(elements) and elements[n] != ""


def syntax_problems(elements: list[str], notes: list[tuple[str, tuple[int, ...]]]) -> list[tuple[int, str, str]]:
    """(element position, AK403 code, message) for each broken syntax note (P R C L E).

    The position is the element that is missing (or, for an exclusion, the second one present):
    the element the partner has to fix. pyx12 reports the note's first element instead.
    """
    found = []
    for kind, idx in notes:
        flags = [_present(elements, n) for n in idx]
        count = sum(flags)
        names = ", ".join(f"{elements[0]}{n:02d}" for n in idx)
        first = f"{elements[0]}{idx[0]:02d}"
        if kind == "P" and count not in (0, len(idx)):
            missing = next(n for n, f in zip(idx, flags, strict=True) if not f)
            found.append((missing, CONDITIONAL_ELEMENT_MISSING, f"if any of {names} is present, all are required"))
        elif kind == "R" and count == 0:
            found.append((idx[0], CONDITIONAL_ELEMENT_MISSING, f"at least one of {names} is required"))
        elif kind == "E" and count > 1:
            second = [n for n, f in zip(idx, flags, strict=True) if f][1]
            found.append((second, EXCLUSION_VIOLATED, f"only one of {names} may be present"))
        elif kind == "C" and flags[0] and not all(flags[1:]):
            missing = next(n for n, f in zip(idx[1:], flags[1:], strict=True) if not f)
            found.append((missing, CONDITIONAL_ELEMENT_MISSING, f"{first} is present, so {names} are required"))
        elif kind == "L" and flags[0] and not any(flags[1:]):
            found.append((idx[1], CONDITIONAL_ELEMENT_MISSING, f"{first} is present, so one of {names} is required"))
    return found


def element_problems(
    node: SegmentNode, elements: list[str], component: str, extended: frozenset[str]
) -> list[tuple[int, str, str]]:
    """(element position, AK403 code, message) for every element error of one segment, as pyx12 finds them."""
    found: list[tuple[int, str, str]] = []
    sid = node.id
    defs = node.elements
    present = len(elements) - 1
    if present > len(defs):
        found.append((len(defs) + 1, TOO_MANY_ELEMENTS, f"{sid} has more than {len(defs)} elements"))
    for rule in defs:
        n = rule.seq
        value = elements[n] if n <= present else ""
        if isinstance(rule, CompositeDef):
            parts = value.split(component) if value else []
            if not any(parts):
                if rule.usage == "R":
                    found.append((n, MANDATORY_ELEMENT_MISSING, f"{sid}{n:02d} is required and missing"))
                continue
            if rule.usage == "N":
                found.append((n, EXCLUSION_VIOLATED, f"{sid}{n:02d} is not used"))
                continue
            if len(parts) > len(rule.parts):
                found.append((n, TOO_MANY_ELEMENTS, f"{sid}{n:02d} has too many components"))
            for sub in rule.parts:
                part = parts[sub.seq - 1] if sub.seq <= len(parts) else ""
                if part == "":
                    if sub.usage == "R" and (sub.seq != 1 or rule.usage == "R"):
                        found.append((n, MANDATORY_ELEMENT_MISSING, f"{sid}{n:02d}-{sub.seq:02d} is required"))
                    continue
                for code in element_codes(sub, part, extended)[:1]:
                    found.append((n, code, f"{sid}{n:02d}-{sub.seq:02d} is not valid ({CODE_WORDS[code]})"))
            continue
        if value == "":
            if rule.usage == "R":
                found.append((n, MANDATORY_ELEMENT_MISSING, f"{sid}{n:02d} is required and missing"))
            continue
        if component in value:
            found.append((n, INVALID_CHARACTER, f"{sid}{n:02d} holds components but is a simple element"))
            continue
        # One AK4 per element: the first rule it breaks, in pyx12's order (length, characters, code, type).
        codes = element_codes(rule, value, extended)
        if INVALID_DATE in codes or INVALID_TIME in codes:
            codes = [c for c in codes if c in (INVALID_DATE, INVALID_TIME)]  # the most telling fault first
        for code in codes[:1]:
            found.append((n, code, f"{sid}{n:02d} is not valid ({CODE_WORDS[code]})"))
    found.extend(syntax_problems(elements, node.syntax))
    return found


# -- fast path: one regex + one expression per segment node --------------------------------------
def _char_class(chars: set[str]) -> str:
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


def _trie(codes: list[str]) -> str:
    """An alternation of literal codes as a prefix tree: one branch per character, no backtracking."""
    tree: dict = {}
    for code in codes:
        node = tree
        for char in code:
            node = node.setdefault(char, {})
        node[""] = {}

    def emit(node: dict) -> str:
        ends = "" in node
        branches = [re.escape(char) + emit(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if ends else body

    return "(?>" + emit(tree) + ")"


def _value_pattern(rule: ElementDef, allowed: set[str]) -> str:
    kind, lo, hi = rule.type, rule.min_len, rule.max_len
    if rule.usage == "N":
        return "(?!)"
    if rule.codes is not None:
        codes = sorted(c for c in rule.codes if c and set(c) <= allowed and c[-1] != " " and lo <= len(c) <= hi)
        return _trie(codes) if codes else "(?!)"
    if kind in ("AN", "ID"):
        # Possessive: a value longer than allowed fails at once; no trailing space (pyx12's rule).
        return f"{_char_class(allowed)}{{{lo},{hi}}}+(?<! )"
    if kind[:1] == "N":
        return f"-?[0-9]{{{lo},{hi}}}+"
    if kind == "R":
        # Digits only, or with one decimal point: then the characters are the digits plus one.
        return f"-?+(?:[0-9]{{{lo},{hi}}}+(?![0-9.])|(?=[0-9.]{{{lo + 1},{hi + 1}}}+(?![0-9.]))[0-9]*+\\.[0-9]++)"
    if kind == "DT":
        return _DATE8 if lo == hi == 8 else "(?!)"
    if kind == "TM":
        return f"(?=[0-9]{{{lo},{hi}}}+(?![0-9])){_TIME}"
    return "(?!)"


def _segment_pattern(node: SegmentNode, element: str, component: str, extended: set[str]) -> re.Pattern[str]:
    allowed = extended - {element, component}
    values = []
    for rule in node.elements:
        if isinstance(rule, CompositeDef):
            if rule.usage == "N":
                pattern = "(?!)"
            else:
                parts = [_value_pattern(p, allowed) for p in rule.parts]
                required = [p.usage == "R" for p in rule.parts]
                if not required[0] and rule.usage == "R":
                    values.append(("(?!)", True))  # the exact checks decide these rare shapes
                    continue
                pattern = _nested(parts, required, re.escape(component))
        else:
            pattern = _value_pattern(rule, allowed)
        values.append((pattern, rule.usage == "R"))
    body = _nested([p for p, _ in values], [r for _, r in values], re.escape(element), lead=True)
    return re.compile(re.escape(node.id) + body, re.ASCII | re.DOTALL)


def _nested(patterns: list[str], required: list[bool], sep: str, lead: bool = False) -> str:
    """Values joined by ``sep``; everything after the last required value may be cut short."""
    last = max((i for i, r in enumerate(required) if r), default=-1)
    out = ""
    for i, (pattern, req) in enumerate(zip(patterns, required, strict=True)):
        value = pattern if req else f"(?:{pattern})?"
        piece = (sep if (lead or i) else "") + value
        out += piece if i <= last else ""
        if i > last:
            break
    tail = ""
    for i in range(len(patterns) - 1, last, -1):
        value = patterns[i] if required[i] else f"(?:{patterns[i]})?"
        tail = f"(?:{sep if (lead or i) else ''}{value}{tail})?"
    return out + tail


def _syntax_check(node: SegmentNode) -> Callable[[list[str]], bool] | None:
    """A generated predicate over the padded element list: True when every syntax note holds."""
    if not node.syntax:
        return None
    terms = _syntax_terms(node, lambda n: f"(e[{n}] != '')")
    return eval(f"lambda e: {' and '.join(terms)}")  # noqa: S307 - built from our own map tables only


# -- structure: pyx12's walk, memoized -----------------------------------------------------------
@dataclass(slots=True, frozen=True)
class _Step:
    """Where a segment id leads from a node, and what to check on the way."""

    target: SegmentNode | None
    candidates: tuple[tuple[int, SegmentNode], ...]
    """(counter index, segment reported) of mandatory segments/loops skipped, if still uncounted."""
    loop: LoopNode | None
    """The loop entered (its counters reset), or None for a segment inside the current loop."""


def _loop_matches(loop: LoopNode, sid: str, candidates: list[tuple[int, SegmentNode]]) -> bool:
    first = loop.first
    if first is None:
        return False
    if not first.is_segment:
        return any(_loop_matches(child, sid, candidates) for child in loop.children if not child.is_segment)
    if first.id == sid:
        return True
    if loop.usage == "R":
        candidates.append((loop.idx, first))
    return False


def _enter(loop: LoopNode, sid: str) -> tuple[SegmentNode, LoopNode] | None:
    first = loop.first
    if first is not None and first.is_segment and first.id == sid:
        return first, loop
    for child in loop.children:
        if not child.is_segment:
            found = _enter(child, sid)
            if found is not None:
                return found
    return None


def _entered(loop: LoopNode, sid: str, candidates: list[tuple[int, SegmentNode]]) -> _Step:
    """The step into ``loop``, where ``_loop_matches`` has just found ``sid`` at the start."""
    found = _enter(loop, sid)
    assert found is not None  # noqa: S101 - _loop_matches and _enter follow the same first children
    first, entered = found
    return _Step(first, tuple(candidates), entered)


def _walk(node: SegmentNode, sid: str) -> _Step:
    candidates: list[tuple[int, SegmentNode]] = []
    loop = node.parent
    pos = node.pos
    while loop is not None:
        for child in loop.children:
            if child.pos < pos:
                continue
            if child.is_segment:
                if child.id == sid:
                    if _loop_matches(loop, sid, candidates):
                        return _entered(loop, sid, candidates)
                    return _Step(child, tuple(candidates), None)
                if child.usage == "R":
                    candidates.append((child.idx, child))
            elif _loop_matches(child, sid, candidates):
                return _entered(child, sid, candidates)
        pos = loop.pos
        loop = loop.parent
    return _Step(None, (), None)


def _loop_has_no_check(text: str, elements: list[str]) -> bool:
    """Fills a loop's slot in :meth:`CompiledMap.clean_checks`: a segment never lands on a loop node."""
    raise LookupError("a loop node has no segment check")


class CompiledMap:
    """A transaction map compiled for validation; one per map file, shared by all interchanges."""

    def __init__(self, tmap: TransactionMap) -> None:
        self.map = tmap
        self.size = len(tmap.nodes)
        self.zeros = [0] * self.size
        self.steps: list[dict[str, _Step]] = [{} for _ in range(self.size)]
        self.extended = frozenset(_EXTENDED_5010 if tmap.version.startswith("005") else _EXTENDED)
        self.syntax = {n.idx: _syntax_check(n) for n in tmap.nodes if n.is_segment}
        self.width = {n.idx: len(n.elements) + 1 for n in tmap.nodes if n.is_segment}
        self.plans: dict[tuple[str, ...], tuple[SegmentNode, ...]] = {}
        """Segment-id sequence -> the node of each segment, for sequences walked without a structural problem."""

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one instance per map file, kept for the process
    def patterns(self, element: str, component: str) -> dict[int, re.Pattern[str]]:
        """Each segment node's regex for these delimiters."""
        extended = set(self.extended)
        return {n.idx: _segment_pattern(n, element, component, extended) for n in self.map.nodes if n.is_segment}

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one instance per map file, kept for the process
    def clean_checks(self, element: str, component: str) -> list[CleanCheck]:
        """Per node index: the segment node's :data:`CleanCheck` (a loop's slot is never called).

        Each is built on its first call: an order uses a dozen of the map's ~140 segments, and building
        them all cost every run worker ~0.4 s before its first file.
        """
        checks: list[CleanCheck] = [_loop_has_no_check] * self.size
        extended = set(self.extended)

        def built_on_first_call(node: SegmentNode) -> CleanCheck:
            def first_call(text: str, elements: list[str]) -> bool:
                pattern = _segment_pattern(node, element, component, extended)
                check = checks[node.idx] = _clean_check(pattern.fullmatch, node)
                return check(text, elements)
            return first_call

        for node in self.map.nodes:
            if node.is_segment:
                checks[node.idx] = built_on_first_call(node)
        return checks

    def step(self, node: SegmentNode, sid: str) -> _Step:
        """The memoized walk from ``node`` for segment id ``sid``."""
        table = self.steps[node.idx]
        found = table.get(sid)
        if found is None:
            found = table[sid] = _walk(node, sid)
        return found


@functools.cache
def compiled(tmap: TransactionMap) -> CompiledMap:
    """The compiled form of a loaded map (cached)."""
    return CompiledMap(tmap)


PLANS_KEPT = 256
"""Segment-id sequences whose walk through the map is remembered (per map); a partner's orders repeat a few."""
PLAN_SEGMENTS = 1000
"""Longest set whose walk is remembered: at most ~4 MB of plans per map (16 bytes per segment)."""


def validate_segments(cmap: CompiledMap, segments: Sequence[Segment], loc: Locator) -> list[Problem]:
    """Every syntax problem of one transaction set (ST..SE), located and coded for the 997.

    ``segments`` are tokenizer segments (``elements``, ``position``, ``text`` and ``delimiters``).
    Where each segment lands in the map (loops, counts, mandatory segments) depends only on the
    sequence of segment ids: a sequence walked before without a problem is not walked again, only
    each segment's own checks run (most orders of a file share a few layouts).
    """
    problems: list[Problem] = []
    if not segments:
        return problems
    key = tuple([seg.elements[0] for seg in segments]) if len(segments) <= PLAN_SEGMENTS else None
    plan = cmap.plans.get(key) if key is not None else None
    if plan is not None:
        delimiters = segments[0].delimiters
        clean = cmap.clean_checks(delimiters.element, delimiters.component)
        for seg, target in zip(segments, plan, strict=True):
            if not clean[target.idx](seg.text, seg.elements):
                _check_elements(cmap, target, seg, loc, problems)
        return problems
    targets: list[SegmentNode] = []
    structural = _walk_segments(cmap, segments, loc, problems, targets)
    if key is not None and not structural and len(cmap.plans) < PLANS_KEPT:
        cmap.plans[key] = tuple(targets)
    return problems


def _walk_segments(cmap: CompiledMap, segments: Sequence[Segment], loc: Locator, problems: list[Problem],
                   targets: list[SegmentNode]) -> int:
    """The full walk: structure and elements; each segment's node appended to ``targets``. Structural problems found."""
    structural = 0
    tmap = cmap.map
    counts = list(cmap.zeros)
    zeros = cmap.zeros
    node = tmap.st
    st_loop = node.parent
    assert st_loop is not None  # noqa: S101 - a map's ST always sits in its ST_LOOP (load_map starts there)
    counts[st_loop.idx] = 1
    counts[node.idx] = 1
    delimiters = segments[0].delimiters
    clean = cmap.clean_checks(delimiters.element, delimiters.component)
    steps = cmap.steps
    table = steps[node.idx]
    first = True
    target: SegmentNode | None  # None only when the segment id leads nowhere (then we skip to the next)
    for seg in segments:
        elements = seg.elements
        sid = elements[0]
        if first and sid == "ST":
            target = node
        else:
            step = table.get(sid)
            if step is None:
                step = cmap.step(node, sid)
            target = step.target
            if target is None:
                first = False
                structural += 1
                _misplaced(tmap, sid, seg, loc, problems)
                continue
            pending = [(i, n) for i, n in step.candidates if counts[i] < 1] if step.candidates else None
            loop = step.loop
            if loop is None:
                count = counts[target.idx] = counts[target.idx] + 1
                if count > target.max_use:
                    structural += 1
                    problems.append(loc.problem(f"segment {sid} appears more than {target.max_use} time(s) here",
                                                segment_id=sid, position=seg.position, code=SEGMENT_OVER_MAXIMUM))
                if pending:
                    pending = [(i, n) for i, n in pending if n is not target and n.pos != target.pos]
            else:
                counts[loop.idx + 1 : loop.end] = zeros[loop.idx + 1 : loop.end]
                count = counts[loop.idx] = counts[loop.idx] + 1
                if count > loop.repeat:
                    structural += 1
                    problems.append(loc.problem(f"loop {loop.id} repeats more than {loop.repeat} time(s)",
                                                segment_id=sid, position=seg.position, code=LOOP_OVER_MAXIMUM))
                counts[target.idx] += 1
            if pending:
                structural += 1
                for _, missing in pending:
                    problems.append(loc.problem(f"the mandatory segment {missing.id} is missing",
                                                segment_id=missing.id, position=seg.position,
                                                code=MANDATORY_SEGMENT_MISSING))
            node = target
            table = steps[target.idx]
        first = False
        targets.append(target)
        # Fast path: the segment's regex and its syntax notes; the exact checks only on failure.
        if not clean[target.idx](seg.text, elements):
            _check_elements(cmap, target, seg, loc, problems)
    return structural


def _syntax_terms(node: SegmentNode, present: Callable[[int], str]) -> list[str]:
    """One Python expression per syntax note of ``node``; ``present(n)`` says element n is there."""
    terms = []
    for kind, idx in node.syntax:
        flags = [present(n) for n in idx]
        if kind == "P":
            terms.append(f"({' + '.join(flags)}) in (0, {len(idx)})")
        elif kind == "R":
            terms.append(f"({' or '.join(flags)})")
        elif kind == "E":
            terms.append(f"({' + '.join(flags)}) <= 1")
        elif kind == "C":
            terms.append(f"(not {flags[0]} or ({' and '.join(flags[1:])}))")
        elif kind == "L":
            terms.append(f"(not {flags[0]} or ({' or '.join(flags[1:])}))")
    return terms


def _clean_check(fullmatch: Callable[[str], re.Match[str] | None], node: SegmentNode) -> CleanCheck:
    """The fast path of one segment node as one generated function: its regex, then its syntax notes.

    The notes read the element list padded with empty elements: an element past its end is absent.
    """
    terms = []
    for kind, idx in node.syntax:
        # Element values are strings: present is truthy, absent ('') is falsy.
        if kind == "P" and len(idx) == 2:
            terms.append(f"((not e[{idx[0]}]) == (not e[{idx[1]}]))")
        else:
            terms.extend(_syntax_terms(SegmentNode(node.idx, node.id, "", "", 0, 0, [(kind, idx)], []),
                                       lambda n: f"(e[{n}] != '')"))
    if not terms:
        def check(text: str, elements: list[str]) -> bool:
            return bool(text) and fullmatch(text) is not None
        return check
    source = (
        "def check(text, e):\n"
        "    if not text or fullmatch(text) is None:\n"
        "        return False\n"
        f"    if len(e) < {len(node.elements) + 1}:\n"
        "        e = e + PAD\n"
        f"    return bool({' and '.join(terms)})\n"
    )
    namespace: dict[str, Any] = {"fullmatch": fullmatch, "PAD": [""] * (len(node.elements) + 1)}
    exec(source, namespace)  # noqa: S102 - built from our own map tables only
    return namespace["check"]


def _misplaced(tmap: TransactionMap, sid: str, seg: Segment, loc: Locator, problems: list[Problem]) -> None:
    if sid in tmap.segment_ids:
        problems.append(loc.problem(f"segment {sid} is not expected here", segment_id=sid,
                                    position=seg.position, code=UNEXPECTED_SEGMENT))
    else:
        printable = "".join(c for c in sid[:3] if c.isprintable())
        problems.append(loc.problem(f"segment id {printable!r} is not part of a {tmap.set_id}",
                                    segment_id=printable or None, position=seg.position, code=UNRECOGNIZED_SEGMENT))


def _check_elements(cmap: CompiledMap, node: SegmentNode, seg: Segment, loc: Locator, problems: list[Problem]) -> None:
    component = seg.delimiters.component
    for position, code, message in element_problems(node, seg.elements, component, cmap.extended):
        # The value as received (empty for a missing element, absent past the segment's end) so a person
        # sees what was wrong; the ack itself reports the position only.
        value = seg.elements[position] if position < len(seg.elements) else None
        problems.append(loc.problem(message, segment_id=node.id, position=seg.position, element=position, code=code,
                                    value=value or None))
