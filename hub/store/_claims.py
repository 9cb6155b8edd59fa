"""Claim tokens: who holds a piece of work, and whether that holder is known to be dead.

A token names the process that took the claim: ``<namespace>:<pid>:<random>``. The namespace is
this kernel boot and PID namespace (Linux), so a process that finds a token of its own namespace
can ask the kernel whether the holder is still alive and take the work over at once when it is
not (a run killed with SIGKILL). Any other token is only taken over after a time bound.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from functools import cache
from pathlib import Path

_given_up: set[str] = set()
"""Claims this process stopped using but could not give back (the store was unreachable)."""


def give_up_claim(token: str) -> None:
    """This process holds ``token`` no more: a later claim in this process may take it over at once."""
    _given_up.add(token)


@cache
def _namespace() -> str:
    """This machine boot and PID namespace, or '' where that cannot be known."""
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pid_ns = os.stat("/proc/self/ns/pid")
    except OSError:
        return ""
    return hashlib.sha256(f"{boot}:{pid_ns.st_dev}:{pid_ns.st_ino}".encode()).hexdigest()[:16]


def new_claim_token() -> str:
    """A fresh token for a claim taken by this process."""
    return f"{_namespace() or 'unknown'}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def holder_alive(token: str) -> bool | None:
    """Whether ``token``'s process still runs: None when it ran elsewhere (another machine or container)."""
    if token in _given_up:
        return False
    namespace, _, rest = token.partition(":")
    pid_text = rest.partition(":")[0]
    if not namespace or namespace != _namespace() or not pid_text.isdigit():
        return None
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed process its parent has not reaped yet still answers signal 0
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def holder_is_dead(token: str) -> bool:
    """True only when ``token``'s process ran in our PID namespace and no longer runs."""
    return holder_alive(token) is False
