"""The two checks an 856 passes before upload: our maps (element by element) and pyx12's envelope reader.

Our maps (``_outbound_check``, the same validator as the intake) judge every segment. pyx12's
``X12Reader`` is a second, independent opinion on what a partner's translator checks first: ISA/IEA,
GS/GE and ST/SE pairs and counts, unique control numbers, and the HL hierarchy (HL01 counts up by
one, HL02 names a level still open). It needs no map, so it is cheap enough for every document.
"""

from __future__ import annotations

import io

import pyx12.errors
import pyx12.x12file

from mappings.x12._maps import map_for
from mappings.x12._outbound_check import outbound_problems


def pyx12_envelope_problems(text: str) -> list[str]:
    """What pyx12's ``X12Reader`` finds wrong with ``text`` (envelope, counts, HL parents); empty when sound."""
    found: list[str] = []
    try:
        reader = pyx12.x12file.X12Reader(io.StringIO(text))
        for _ in reader:
            found += [f"{kind} {code}: {message}" for kind, code, message, *_ in reader.pop_errors()]
        reader.cleanup()
        found += [f"{kind} {code}: {message}" for kind, code, message, *_ in reader.pop_errors()]
    except pyx12.errors.X12Error as exc:
        found.append(f"pyx12: {exc}")
    return found


def asn_problems(text: str, version: str) -> list[str]:
    """Every reason not to send the 856 ``text`` of ``version``: our maps' errors, then pyx12's."""
    if map_for("856", version, "SH") is None:  # never let a missing map read as a pass
        return [f"no 856 map for version {version}"]
    ours = [f"{p.location}: {p.message}" if p.location else p.message for p in outbound_problems(text)]
    return ours + pyx12_envelope_problems(text)
