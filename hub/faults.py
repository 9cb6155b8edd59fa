"""Named fault points for the fault suite: ``HUB_FAULT_POINT=name[:n]`` kills this process there.

Production never sets the variable; the fault tests run the real code in a subprocess that SIGKILLs
itself at the n-th time (default the first) it reaches the named point, the way an operator's
``kill -9`` or an out-of-memory kill would stop it.
"""

from __future__ import annotations

import os
import signal
from collections import Counter

_reached: Counter[str] = Counter()


def fault_point(name: str) -> None:
    """Die here with SIGKILL when the fault suite asks for it; otherwise nothing."""
    wanted = os.environ.get("HUB_FAULT_POINT")
    if not wanted:
        return
    point, _, nth = wanted.partition(":")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] == (int(nth) if nth.isdigit() else 1):
        os.kill(os.getpid(), signal.SIGKILL)
