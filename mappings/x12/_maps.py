"""Loading our pyx12 map XML (``mappings/x12/maps/<version>/``) into plain, indexed Python objects.

Only the transaction set part (the ``ST_LOOP``) is kept: the envelope has its own walker. Nodes are
numbered in document order, so the descendants of a loop are one contiguous index range: the
validator resets a loop's counters with a single slice assignment.
"""

from __future__ import annotations

import functools
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

MAPS_DIR = Path(__file__).resolve().parent / "maps"
MAXINT = 2**31


@dataclass(slots=True)
class ElementDef:
    """A simple data element of a segment (or of a composite)."""

    seq: int
    ref: str
    """Data element reference number, e.g. '373' (AK402)."""
    name: str
    usage: str  # R | S | N
    type: str  # AN ID R N0..N9 DT TM B
    min_len: int
    max_len: int
    codes: frozenset[str] | None


@dataclass(slots=True)
class CompositeDef:
    """A composite element (e.g. C001) and its component elements."""

    seq: int
    ref: str
    name: str
    usage: str
    parts: list[ElementDef]


@dataclass(eq=False)
class SegmentNode:
    """A segment at one place of the map."""

    idx: int
    id: str
    name: str
    usage: str
    pos: int
    max_use: int
    syntax: list[tuple[str, tuple[int, ...]]]
    elements: list[ElementDef | CompositeDef]
    parent: LoopNode | None = None
    is_segment: Literal[True] = True
    """A literal tag, so ``if node.is_segment`` narrows ``SegmentNode | LoopNode`` without an isinstance."""


@dataclass(eq=False)
class LoopNode:
    """A loop (or a wrapper table) and its children in map order."""

    idx: int
    id: str
    usage: str
    pos: int
    repeat: int
    children: list[SegmentNode | LoopNode] = field(default_factory=list)
    parent: LoopNode | None = None
    end: int = 0
    """One past the index of its last descendant."""
    is_segment: Literal[False] = False

    @property
    def first(self) -> SegmentNode | LoopNode | None:
        """The first child (by position, then map order)."""
        return self.children[0] if self.children else None


@dataclass(eq=False)
class TransactionMap:
    """One transaction set's map: the ST_LOOP tree, all nodes by index and the known segment ids."""

    set_id: str
    version: str
    path: Path
    root: LoopNode
    nodes: list[SegmentNode | LoopNode]
    st: SegmentNode
    segment_ids: frozenset[str]
    first_by_id: dict[str, SegmentNode]

    def element_ref(self, segment_id: str, position: int) -> str:
        """The data element number of ``segment_id`` element ``position`` (AK402), or ''."""
        node = self.first_by_id.get(segment_id)
        if node is None or not 0 < position <= len(node.elements):
            return ""
        return node.elements[position - 1].ref


def _int(text: str | None, default: int) -> int:
    if text is None:
        return default
    text = text.strip()
    if text in (">1", "&gt;1", ""):
        return MAXINT
    return int(text)


def _text(elem: ET.Element, tag: str) -> str | None:
    value = elem.get(tag)
    return value if value else elem.findtext(tag)


def _attribute(elem: ET.Element, name: str) -> str:
    """An attribute every map element of this kind carries ('' is a value); a map without it is broken."""
    value = elem.get(name)
    if value is None:
        raise ValueError(f"map element <{elem.tag}> has no {name!r} attribute")
    return value


def _seq(elem: ET.Element) -> int:
    """The element's ``seq`` (attribute or child); a map element without one is broken."""
    text = _text(elem, "seq")
    if text is None:
        raise ValueError(f"map element <{elem.tag}> has no 'seq'")
    return int(text)


@functools.cache
def _data_elements(folder: Path) -> dict[str, tuple[str, int, int, str]]:
    table = {}
    for el in ET.parse(folder / "dataele.xml").getroot():
        table[_attribute(el, "ele_num")] = (_attribute(el, "data_type"), int(_attribute(el, "min_len")),
                                            int(_attribute(el, "max_len")), _attribute(el, "name"))
    return table


@functools.cache
def map_index(folder: Path) -> dict[tuple[str, str, str], str]:
    """maps.xml as {(ISA12, GS08, GS01): map file name}."""
    index = {}
    for version in ET.parse(folder / "maps.xml").getroot().iter("version"):
        for entry in version.iter("map"):
            if entry.text is None:
                raise ValueError(f"{folder / 'maps.xml'}: a <map> entry names no map file")
            key = (_attribute(version, "icvn"), _attribute(entry, "vriic"), _attribute(entry, "fic"))
            index[key] = entry.text.strip()
    return index


class _Builder:
    def __init__(self, dictionary: dict[str, tuple[str, int, int, str]]) -> None:
        self.dictionary = dictionary
        self.nodes: list[SegmentNode | LoopNode] = []

    def element(self, elem: ET.Element) -> ElementDef:
        ref = _text(elem, "data_ele") or ""
        kind, lo, hi, _ = self.dictionary.get(ref, ("AN", 1, 80, ref))
        valid = elem.find("valid_codes")
        codes = None
        if valid is not None:
            found = [c.text for c in valid.findall("code") if c.text]
            codes = frozenset(found) if found else None
        return ElementDef(_seq(elem), ref, _text(elem, "name") or ref, _text(elem, "usage") or "S",
                          kind, lo, hi, codes)

    def segment(self, elem: ET.Element) -> SegmentNode:
        children: list[ElementDef | CompositeDef] = []
        for child in elem:
            if child.tag == "element":
                children.append(self.element(child))
            elif child.tag == "composite":
                children.append(
                    CompositeDef(_seq(child), _text(child, "data_ele") or "", _text(child, "name") or "",
                                 _text(child, "usage") or "S", [self.element(e) for e in child.findall("element")])
                )
        children.sort(key=lambda c: c.seq)
        syntax = []
        for note in elem.findall("syntax"):
            text = (note.text or "").strip()
            if text and text[0] in "PRCLE":
                syntax.append((text[0], tuple(int(text[i : i + 2]) for i in range(1, len(text) - 1, 2))))
        node = SegmentNode(len(self.nodes), _attribute(elem, "xid"), _text(elem, "name") or "",
                           _text(elem, "usage") or "S", _int(_text(elem, "pos"), 0),
                           _int(_text(elem, "max_use"), MAXINT), syntax, children)
        self.nodes.append(node)
        return node

    def loop(self, elem: ET.Element) -> LoopNode:
        node = LoopNode(len(self.nodes), _attribute(elem, "xid"), _text(elem, "usage") or "S",
                        _int(_text(elem, "pos"), 0), _int(_text(elem, "repeat"), MAXINT))
        self.nodes.append(node)
        for child in elem:
            if child.tag == "segment":
                built: SegmentNode | LoopNode = self.segment(child)
            elif child.tag == "loop":
                built = self.loop(child)
            else:
                continue
            built.parent = node
            node.children.append(built)
        node.children.sort(key=lambda c: (c.pos, c.is_segment))  # ties: loops first, as in pyx12
        node.end = len(self.nodes)
        return node


@functools.cache
def load_map(folder: Path, file_name: str) -> TransactionMap:
    """Parse one map file (cached: the XML is read once per process)."""
    root = ET.parse(folder / file_name).getroot()
    st_loop = next(e for e in root.iter("loop") if e.get("xid") == "ST_LOOP")
    builder = _Builder(_data_elements(folder))
    tree = builder.loop(st_loop)
    segments = [n for n in builder.nodes if isinstance(n, SegmentNode)]
    first_by_id: dict[str, SegmentNode] = {}
    for node in segments:
        first_by_id.setdefault(node.id, node)
    version = folder.name
    return TransactionMap(_attribute(root, "xid"), version, folder / file_name, tree, builder.nodes, first_by_id["ST"],
                          frozenset(first_by_id), first_by_id)


@functools.cache
def map_for(set_id: str, version: str, functional_id: str = "PO") -> TransactionMap | None:
    """Our map for transaction set ``set_id`` in a group with GS08 ``version``, or None."""
    version = version.strip()
    folder = MAPS_DIR / ("005010" if version.startswith("005") else "004010")
    if not folder.is_dir():
        return None
    icvn = "00501" if folder.name == "005010" else "00401"
    index = map_index(folder)
    file_name = index.get((icvn, version, functional_id)) or index.get((icvn, folder.name, functional_id))
    if file_name is None:
        return None
    tmap = load_map(folder, file_name)
    return tmap if tmap.set_id == set_id else None
