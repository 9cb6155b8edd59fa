"""Streaming X12 tokenizer: bytes in, segments out, delimiters re-read from every ISA.

The tokenizer knows nothing about envelopes beyond the ISA's fixed layout (which is where the
delimiters live) and the ST that restarts segment positions. Everything else is the envelope
walker's and the validator's job.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import BinaryIO

ISA_LENGTH = 106
"""An ISA is 106 characters: 'ISA', 16 separators, 86 characters of fixed-width elements, terminator."""

# Widths of ISA01..ISA16 in the fixed layout.
_ISA_WIDTHS = (2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1)
_ISA_SEPARATOR_OFFSETS: tuple[int, ...] = tuple(3 + sum(_ISA_WIDTHS[:i]) + i for i in range(len(_ISA_WIDTHS)))
# Bytes a translator may leave between segments (line breaks, padding, a DOS end-of-file mark).
_PADDING = b" \t\r\n\x00\x1a"
_PADDING_TEXT = _PADDING.decode("latin-1")
_BOM = b"\xef\xbb\xbf"
_CHUNK = 1 << 20
_FIRST_WINDOW = 512
"""Bytes decoded at once at the start of an interchange; doubles while the interchange goes on."""


class NotX12(Exception):
    """The bytes are not an X12 interchange (or its ISA cannot be read): nothing can be acknowledged."""

    def __init__(self, reason: str, *, offset: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Delimiters:
    """The four X12 delimiters of one interchange, as read from its ISA."""

    element: str = "*"
    component: str = ">"
    segment: str = "~"
    repetition: str | None = None


@dataclass(slots=True)
class Segment:
    """One segment: ``elements[0]`` is the segment id, so ``elements[n]`` is X12 element n."""

    elements: list[str]
    offset: int
    """Byte offset of the segment's first byte in the file."""
    position: int
    """Position within its transaction set (ST = 1); 0 for envelope segments outside a set."""
    delimiters: Delimiters
    text: str = ""
    """The segment as received, without its terminator (what the validator's fast path matches)."""

    @property
    def id(self) -> str:
        """The segment id, e.g. ``PO1``."""
        return self.elements[0]

    def element(self, n: int) -> str:
        """Element ``n`` (1-based, X12 numbering) or ``''`` when absent."""
        return self.elements[n] if n < len(self.elements) else ""

    def components(self, n: int) -> list[str]:
        """Element ``n`` split on the component separator."""
        return self.element(n).split(self.delimiters.component)

    def repetitions(self, n: int) -> list[str]:
        """Element ``n`` split on the repetition separator (5010), or the element alone."""
        value = self.element(n)
        return value.split(self.delimiters.repetition) if self.delimiters.repetition else [value]


@dataclass(frozen=True, slots=True)
class IsaHeader:
    """A parsed ISA: its elements, delimiters, where it ends and whether it kept the fixed layout."""

    elements: list[str]
    delimiters: Delimiters
    end: int
    fixed_layout: bool


def is_digits(text: str) -> bool:
    """ASCII digits only (``str.isdigit`` also accepts '²' and other scripts' digits)."""
    return text.isascii() and text.isdigit()


def _is_delimiter_candidate(byte: int) -> bool:
    char = chr(byte)
    return not (char.isalnum() or char == " ")


def read_isa(data: bytes, offset: int) -> IsaHeader:
    """Read the ISA starting at ``offset``; raises :class:`NotX12` when it cannot be read at all."""
    head = data[offset : offset + ISA_LENGTH]
    if len(head) < 4 or not head.startswith(b"ISA"):
        raise NotX12("the ISA header is truncated", offset=offset)
    separator = head[3]
    if not _is_delimiter_candidate(separator) or separator in b"\r\n":
        raise NotX12("the ISA header has no valid element separator after 'ISA'", offset=offset)

    fixed = len(head) == ISA_LENGTH and all(head[i] == separator for i in _ISA_SEPARATOR_OFFSETS)
    if fixed:
        fields = [head[i + 1 : i + 1 + w] for i, w in zip(_ISA_SEPARATOR_OFFSETS, _ISA_WIDTHS, strict=True)]
        terminator_at = offset + ISA_LENGTH - 1
    else:
        # Some translators trim the padding of ISA fields; find the 16 separators instead so the
        # envelope can still be read (and the fault reported) rather than discarded.
        window = data[offset : offset + 3 * ISA_LENGTH]
        cuts: list[int] = []
        at = 3
        while len(cuts) < 16:
            at = window.find(bytes([separator]), at)
            if at == -1:
                raise NotX12("the ISA header is truncated or malformed", offset=offset)
            cuts.append(at)
            at += 1
        if cuts[-1] + 2 >= len(window):
            raise NotX12("the ISA header is truncated", offset=offset)
        fields = [window[a + 1 : b] for a, b in pairwise(cuts)] + [
            window[cuts[-1] + 1 : cuts[-1] + 2]
        ]
        terminator_at = offset + cuts[-1] + 2
        if len(fields[15]) != 1:
            raise NotX12("the ISA header is malformed (ISA16 is not one character)", offset=offset)

    component = fields[15][0]
    terminator = data[terminator_at]
    if not _is_delimiter_candidate(component) or component == separator:
        raise NotX12("the ISA16 component separator is not a valid delimiter", offset=offset)
    if terminator in (separator, component) or not (_is_delimiter_candidate(terminator) or terminator in b"\r\n"):
        raise NotX12("the character after ISA16 is not a valid segment terminator", offset=offset)

    elements = ["ISA"] + [f.decode("latin-1") for f in fields]
    repetition = elements[11]
    repetition_sep = None
    if (
        len(repetition) == 1
        and repetition != "U"
        and _is_delimiter_candidate(ord(repetition))
        and repetition not in (chr(separator), chr(component), chr(terminator))
    ):
        repetition_sep = repetition
    delimiters = Delimiters(chr(separator), chr(component), chr(terminator), repetition_sep)
    return IsaHeader(elements, delimiters, terminator_at + 1, fixed)


def skip_padding(data: bytes, offset: int) -> int:
    """The first offset at or after ``offset`` that is not inter-segment padding."""
    n = len(data)
    while offset < n and data[offset] in _PADDING:
        offset += 1
    return offset


def first_content_offset(data: bytes) -> int:
    """Where the interchange starts: after a UTF-8 BOM and padding; raises :class:`NotX12` otherwise."""
    start = len(_BOM) if data.startswith(_BOM) else 0
    offset = skip_padding(data, start)
    if offset >= len(data):
        raise NotX12("the file is empty")
    if data.startswith((b"UNA", b"UNB"), offset):
        raise NotX12("the file is an EDIFACT interchange (UNA/UNB), not X12")
    if not data.startswith(b"ISA", offset):
        sample = data[offset : offset + 512]
        if b"\x00" in sample or sum(b < 9 or 13 < b < 32 for b in sample) > len(sample) // 10:
            raise NotX12("the file is binary data, not X12")
        raise NotX12("the file does not start with an X12 ISA segment")
    return offset


Source = bytes | bytearray | memoryview | BinaryIO | Iterable[bytes]


def _chunks(source: Source) -> Iterator[bytes]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        yield bytes(source)
        return
    read = getattr(source, "read", None)
    if read is not None:
        while chunk := read(_CHUNK):
            yield chunk
        return
    for chunk in source:
        if chunk:
            yield bytes(chunk)


def is_hard_wrapped(head: bytes) -> bool:
    """Whether a file is cut into fixed-length records (line breaks inside segments are not data).

    Seen as: at least two complete lines, all of the same length, and that length is not where the
    ISA ends (a file with one segment per line has lines of varying length; an ISA alone on its
    line ends at 106 characters, its terminator included).
    """
    start = len(_BOM) if head.startswith(_BOM) else 0
    lines = head[start:].split(b"\n")[:-1][:50]
    if len(lines) < 2 or not lines[0].lstrip(_PADDING).startswith(b"ISA"):
        return False
    widths = {len(line.rstrip(b"\r")) for line in lines[: min(len(lines), 2 if len(lines) < 4 else len(lines) - 1)]}
    if len(widths) != 1:
        return False
    width = widths.pop()
    if width < 20:
        return False
    isa_end = 106 - 1  # offset of the ISA terminator
    first = lines[0].rstrip(b"\r")
    # An ISA kept on its own line (width 106) or ending exactly at the line end is a terminator-per-line file.
    return not (width == isa_end + 1 and len(first) == width and first[3:4] != first[isa_end : isa_end + 1])


def _unwrapped(chunks: Iterator[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.replace(b"\r", b"").replace(b"\n", b"")


class _Buffer:
    """Bytes read so far that are not consumed yet, refilled from the source a chunk at a time."""

    def __init__(self, source: Source) -> None:
        chunks = _chunks(source)
        first = next(chunks, b"")
        while len(first) < 4096:
            more = next(chunks, None)
            if more is None:
                break
            first += more
        self.wrapped = is_hard_wrapped(first)
        rest = _unwrapped(chunks) if self.wrapped else chunks
        self.data = first.replace(b"\r", b"").replace(b"\n", b"") if self.wrapped else first
        self.base = 0
        self._rest = rest
        self.eof = False

    def refill(self, keep_from: int) -> bool:
        """Drop bytes before ``keep_from``, append the next chunk; False at the end of the source."""
        chunk = next(self._rest, None)
        if chunk is None:
            self.eof = True
            return False
        self.base += keep_from
        self.data = self.data[keep_from:] + chunk
        return True


def _decode(data: bytes, start: int, end: int) -> str:
    """``data[start:end]`` as text; latin-1 keeps one character per byte, so offsets stay byte offsets."""
    return data[start:end].decode("latin-1")


def iter_segments(source: Source) -> Iterator[Segment]:
    """Yield every segment of every interchange in ``source`` (bytes, a binary file or byte chunks).

    Raises :class:`NotX12` before the first segment when the input is not X12, and later when an
    ISA that follows cannot be read (the segments before it have been yielded by then). A stream is
    read a chunk at a time, so memory does not grow with the file. Offsets are byte offsets in the
    input (in the unwrapped input for files hard-wrapped at a fixed record length).
    """
    buf = _Buffer(source)
    while len(buf.data) < 3 * ISA_LENGTH and buf.refill(0):
        pass
    offset = first_content_offset(buf.data)
    while True:
        while len(buf.data) - offset < 3 * ISA_LENGTH and buf.refill(offset):
            offset = 0
        if offset >= len(buf.data):
            return
        header = read_isa(buf.data, offset)
        yield Segment(header.elements, buf.base + offset, 0, header.delimiters, "")
        next_isa = yield from _interchange_body(buf, skip_padding(buf.data, header.end), header.delimiters)
        if next_isa is None:
            return
        offset = next_isa


def _interchange_body(buf: _Buffer, offset: int, delimiters: Delimiters) -> Generator[Segment, None, int | None]:
    """The segments after an ISA up to the next ISA; returns where that ISA starts (None at the end).

    Works a window at a time (decode once, split once) because per-segment slicing and decoding
    costs several times more. The window starts small and doubles while the interchange goes on,
    so what is decoded past the next ISA (and thrown away) is bounded by the interchange's own
    size: a file of many small interchanges costs time linear in its size, not in size x count.
    """
    terminator = delimiters.segment
    terminator_byte = terminator.encode("latin-1")
    element = delimiters.element
    strip_cr = terminator == "\n"
    position = 0
    window = _FIRST_WINDOW
    while True:
        data = buf.data
        n = len(data)
        if offset >= n:
            if not buf.refill(n):
                return None
            offset = 0
            continue
        end = offset + window
        if end < n:
            cut = data.rfind(terminator_byte, offset, end)
            if cut == -1:  # one segment longer than the window: widen it
                window *= 2
                continue
            cut += 1
        elif buf.eof:
            cut = n
        else:
            cut = data.rfind(terminator_byte, offset)
            if cut == -1:
                if buf.refill(offset):
                    offset = 0
                    continue
                cut = n  # the end of the input: the rest is the last (unterminated) segment
            else:
                cut += 1
        data = buf.data
        at = offset
        for piece in _decode(data, offset, cut).split(terminator):
            start = at
            at += len(piece) + 1
            body = piece.lstrip(_PADDING_TEXT)
            if not body:
                continue
            start += len(piece) - len(body)
            if body.startswith("ISA"):
                return start
            if strip_cr:
                body = body.rstrip("\r")
            elements = body.split(element)
            segment_id = elements[0]
            if segment_id == "ST":
                position = 1
            elif segment_id in ("GS", "GE", "IEA"):
                position = 0
            elif position:
                position += 1
            yield Segment(elements, buf.base + start, position, delimiters, body)
        offset = cut
        window = min(window * 2, _CHUNK)
        if cut >= len(data):
            if not buf.refill(cut):
                return None
            offset = 0
