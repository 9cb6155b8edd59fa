"""Path safety: a partner's file name never leaves the folder it was listed in.

Every remote path the client builds goes through :func:`path_in_folder`, which validates the
file name with :func:`safe_file_name` and then re-checks the joined, normalized path.
"""

from __future__ import annotations

import posixpath
import unicodedata

from canonical.errors import ConfigurationError
from connectors.sftp._errors import UnsafeFileName

MAX_NAME_BYTES = 255  # NAME_MAX on Linux and most SFTP servers' filesystems

# Unicode categories refused in names: control characters (Cc), and format characters (Cf) such as
# the right-to-left override that makes "order\u202efdp.edi" display as "orderide.pdf".
_REFUSED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}

# Suffixes that partners' SFTP tools (and we) use for uploads still in progress.
TEMPORARY_SUFFIXES = (".part", ".tmp", ".filepart")


def unsafe_name_reason(name: str) -> str | None:
    """Why ``name`` is not a safe single file name, or None when it is."""
    if not name:
        return "the name is empty"
    if name in (".", ".."):
        return "the name is a directory reference"
    if "/" in name or "\\" in name:
        return "the name contains a path separator"
    if "\x00" in name:
        return "the name contains a NUL byte"
    if any(unicodedata.category(char) == "Cs" for char in name):
        return "the name is not valid UTF-8"  # bytes kept as surrogates by the listing
    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in name):
        return "the name contains a control or format character"
    if name.startswith("-"):
        # Harmless over SFTP, but an operator's `mv`/`rm` in the archive would read it as an option.
        return "the name starts with '-'"
    if name != name.strip():
        return "the name starts or ends with whitespace"
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        return f"the name is longer than {MAX_NAME_BYTES} bytes"
    return None


def is_safe_file_name(name: str) -> bool:
    """True when ``name`` is one plain file name that cannot point anywhere else."""
    return unsafe_name_reason(name) is None


def safe_file_name(name: str) -> str:
    """Return ``name`` unchanged if it is a safe plain file name; raise :class:`UnsafeFileName` otherwise."""
    reason = unsafe_name_reason(name)
    if reason is not None:
        raise UnsafeFileName(f"refused file name {name!r}: {reason}", location=None)
    return name


def is_temporary_file_name(
    name: str, *, suffixes: tuple[str, ...] = TEMPORARY_SUFFIXES, prefixes: tuple[str, ...] = (".",)
) -> bool:
    """True for names uploads in progress use: dotfiles and ``*.part``/``*.tmp``/``*.filepart`` by default.

    Compared case-insensitively (``ORDER.TMP`` is a temporary name too).
    """
    lowered = name.lower()
    starts, ends = tuple(p.lower() for p in prefixes), tuple(s.lower() for s in suffixes)
    return lowered.startswith(starts) or lowered.endswith(ends)


def display_name(name: str, *, limit: int = 200) -> str:
    """``name`` safe to show in a log, a message or the UI: ASCII only, control/format characters escaped.

    ``"po\u202efdp.edi"`` reads ``po\\u202efdp.edi``, so a right-to-left override cannot disguise
    what an operator sees; a newline cannot forge a log line. Longer than ``limit``: cut, marked ``...``.
    """
    shown = name.encode("unicode_escape").decode("ascii")
    return shown if len(shown) <= limit else shown[: limit - 3] + "..."


def normalize_folder(folder: str) -> str:
    """A folder path in canonical form; ``..`` segments and control characters are configuration errors.

    Folders come from configuration (partner profiles), so a bad one is our mistake, not the partner's.
    Relative folders are relative to the SFTP session's start directory; absolute ones are kept absolute.
    """
    if not isinstance(folder, str) or "\x00" in folder or any(
        unicodedata.category(char) in _REFUSED_CATEGORIES for char in folder
    ):
        raise ConfigurationError(f"SFTP folder {folder!r} contains control characters")
    if "\\" in folder:
        raise ConfigurationError(f"SFTP folder {folder!r} contains a backslash; use '/'")
    if ".." in folder.split("/"):
        raise ConfigurationError(f"SFTP folder {folder!r} must not contain '..'")
    return posixpath.normpath(folder) if folder else "."


def path_in_folder(folder: str, name: str) -> str:
    """The remote path of file ``name`` inside ``folder``, guaranteed to stay directly inside it."""
    base = normalize_folder(folder)
    safe_file_name(name)
    joined = posixpath.normpath(posixpath.join(base, name))
    # Belt and braces: whatever the checks above missed, the result must be a direct child of base.
    if posixpath.dirname(joined) != ("" if base == "." else base) or posixpath.basename(joined) != name:
        raise UnsafeFileName(f"refused file name {name!r}: it does not stay inside {base}", location=None)
    return joined
