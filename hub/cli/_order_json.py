"""``hub map``'s streamed records written fast: the order's JSON serialized by pydantic-core in one call.

``mappings._results.order_json`` dumps the order to Python data, drops empty optional details, and
``json.dumps`` writes the result: about 120 us per 20-line order, a third of ``hub map``'s time on big
files. Here the same details are left out with an ``exclude`` worked out from the model, and
``model_dump_json`` writes the text directly (~40 us). Same keys, values and order
(``tests/test_cli_order_json.py`` compares them); compact separators. An order with non-ASCII text
takes the ``json.dumps`` path, so every line stays ASCII as before.
"""

from __future__ import annotations

import json
from typing import Any

from canonical.model import Charge, Order, OrderLine, Party
from mappings._results import (
    _CHARGE_DETAILS,
    _LINE_DETAILS,
    _ORDER_DETAILS,
    _PARTY_DETAILS,
    DocumentResult,
    order_json,
)

_CONTAINERS = (list, dict)


def _is_empty(value: Any) -> bool:
    """What ``order_json`` leaves out of a detail: None, [] or {}."""
    return value is None or (not value and type(value) in _CONTAINERS)


def _defaults_are_empty(model: type, details: frozenset[str]) -> bool:
    """Whether every detail field of ``model`` defaults to None, [] or {} (then unset means left out)."""
    fields = model.model_fields  # type: ignore[attr-defined]
    return all(_is_empty(fields[k].get_default(call_default_factory=True)) for k in details)


# Detail fields a model was not given hold their default, which is empty: those are left out without
# looking at them, with set arithmetic, and only the few given are looked at. Should a model ever get a
# detail with a non-empty default, every detail is looked at (slower, still right).
_UNSET_IS_EMPTY = all(_defaults_are_empty(model, details) for model, details in (
    (Order, _ORDER_DETAILS), (OrderLine, _LINE_DETAILS), (Party, _PARTY_DETAILS), (Charge, _CHARGE_DETAILS)))


def _empty(model: Any, details: frozenset[str]) -> set[str]:
    """The detail fields of ``model`` that ``order_json`` leaves out, as a pydantic ``exclude``."""
    given = model.__pydantic_fields_set__ if _UNSET_IS_EMPTY else details
    left_out = set(details - given)
    for key in details & given:
        if _is_empty(model.__dict__[key]):
            left_out.add(key)
    return left_out


def _items(models: list, details: frozenset[str]) -> dict[int | str, Any]:
    """Per list item, its details left out; one ``__all__`` entry when every item leaves out the same."""
    excludes = [_empty(model, details) for model in models]
    if excludes and all(e == excludes[0] for e in excludes):
        return {"__all__": excludes[0]} if excludes[0] else {}
    return {i: e for i, e in enumerate(excludes) if e}


def order_exclude(order: Order) -> dict[str, Any]:
    """The pydantic ``exclude`` that makes ``model_dump`` of ``order`` equal ``order_json(order)``."""
    exclude: dict[str, Any] = dict.fromkeys(_empty(order, _ORDER_DETAILS), True)
    if parties := _items(order.parties, _PARTY_DETAILS):
        exclude["parties"] = parties
    if charges := _items(order.charges, _CHARGE_DETAILS):
        exclude["charges"] = charges
    nested = False
    line_excludes: list[Any] = []
    for line in order.lines:
        left_out: Any = _empty(line, _LINE_DETAILS)
        values = line.__dict__
        line_charges = _items(values["charges"], _CHARGE_DETAILS) if values["charges"] else None
        line_parties = _items(values["parties"], _PARTY_DETAILS) if values["parties"] else None
        if line_charges or line_parties:  # a line with its own charges or parties: its exclude nests theirs
            nested = True
            left_out = dict.fromkeys(left_out, True)
            if line_charges:
                left_out["charges"] = line_charges
            if line_parties:
                left_out["parties"] = line_parties
        line_excludes.append(left_out)
    if not nested and line_excludes and all(e == line_excludes[0] for e in line_excludes):
        if line_excludes[0]:
            exclude["lines"] = {"__all__": line_excludes[0]}
    elif lines := {i: e for i, e in enumerate(line_excludes) if e}:
        exclude["lines"] = lines
    return exclude


def order_json_text(order: Order) -> str:
    """``order_json(order)`` as JSON text (compact, ASCII)."""
    text = order.model_dump_json(exclude=order_exclude(order))
    if not text.isascii():  # json.dumps escapes non-ASCII: keep the output ASCII whatever the locale
        return json.dumps(order_json(order), separators=(",", ":"))
    return text


def document_record(file: str, document: DocumentResult) -> str:
    """One streamed ``document`` line (without its newline): the keys of ``DocumentResult.to_json``."""
    head = json.dumps({"record": "document", "file": file, "ref": document.ref,
                       "transaction_set": document.transaction_set, "outcome": document.outcome,
                       "errors": [p.to_json() for p in document.errors]}, default=str, separators=(",", ":"))
    order = "null" if document.order is None else order_json_text(document.order)
    return f'{head[:-1]},"order":{order}}}'
