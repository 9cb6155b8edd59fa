"""Checking an X12 document we are about to send against our maps, the way we check what we receive.

The same envelope walker and compiled validator as the intake (``_envelope``, ``_compiled``): a
document that would be rejected if a partner sent it to us is never uploaded. A functional group
whose set has no map of ours (997, 999: pyx12's own maps describe them, our directory does not)
is checked for its envelope only; a TA1-only interchange has no group at all.
"""

from __future__ import annotations

from mappings.x12._compiled import compiled, validate_segments
from mappings.x12._envelope import EnvelopeWalker
from mappings.x12._maps import map_for
from mappings.x12._results import Problem
from mappings.x12._tokenizer import NotX12

MAPPED_SETS = frozenset({"855", "810", "856", "846"})
"""Outbound sets validated element by element; a map missing for one of them is an error, not a pass."""


def outbound_problems(text: str) -> list[Problem]:
    """Every error in an outbound interchange (envelope, and syntax of each set we have a map for)."""
    errors: list[Problem] = []
    # A TA1 sits between ISA and IEA outside any group, which the walker (reading what partners send
    # us, where it has no place) reports as stray: ours are written one segment per line, so it is left out.
    checked = "".join(line for line in text.splitlines(keepends=True) if not line.startswith("TA1*"))
    try:
        interchanges = list(EnvelopeWalker(checked.encode("ascii", errors="replace")))
    except NotX12 as exc:
        return [Problem(severity="error", message=f"not an X12 interchange: {exc.reason}", location="")]
    if not interchanges:
        return [Problem(severity="error", message="no interchange in the document", location="")]
    for ic in interchanges:
        errors += ic.problems
        for group in ic.groups:
            errors += group.problems
            for tset in group.sets:
                errors += tset.problems
                set_id = tset.id.strip()
                tmap = map_for(set_id, group.version, group.functional_id.strip())
                if tmap is None:
                    if set_id in MAPPED_SETS:
                        errors.append(tset.locator.problem(f"no map for {set_id} in version {group.version}"))
                    continue
                errors += validate_segments(compiled(tmap), tset.segments, tset.locator)
    return [p for p in errors if p.severity == "error"]


def check_outbound(text: str) -> None:
    """Raise ``ValueError`` naming the first problems when ``text`` is not a document we may send."""
    errors = outbound_problems(text)
    if errors:
        shown = "; ".join(f"{p.location}: {p.message}" if p.location else p.message for p in errors[:3])
        more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
        raise ValueError(f"fails validation against our maps: {shown}{more}")
