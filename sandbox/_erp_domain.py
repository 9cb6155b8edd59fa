"""Odoo domains and ``order`` clauses, as the sandbox ERP's ``search`` understands them.

A domain is compiled once per call into a predicate over a record (and the database, for a
many2one compared by its display name); ``&``, ``|``, ``!`` are prefix operators and terms are
ANDed implicitly, as in Odoo.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sandbox._erp_schema import MODELS, OdooFault, unprocessable

if TYPE_CHECKING:
    from sandbox._erp_database import Database

_Predicate = Callable[[dict[str, Any], "Database"], bool]
_OPERATORS = frozenset(
    {"=", "!=", "<>", "in", "not in", "like", "not like", "ilike", "not ilike", "=like", "=ilike", "<", "<=", ">", ">="}
)


def mentions(domain: Any, field: str) -> bool:
    """Whether the domain has a term on ``field`` (e.g. ``active``: then archived records are not hidden)."""
    return isinstance(domain, list) and any(isinstance(t, list) and t and t[0] == field for t in domain)


def indexed_lookup(domain: Any, indexes: dict[str, dict[Any, set[int]]]) -> set[int] | None:
    """The ids an index gives for a plain AND of terms with ``=`` or ``in`` on an indexed field, else None.

    Only narrows: the caller still applies the whole domain to these rows. Domains with ``|`` or
    ``!``, or without such a term, read every row (as a database without a usable index would).
    """
    if not isinstance(domain, list) or any(not isinstance(term, list) for term in domain):
        return None
    for term in domain:
        if len(term) != 3 or term[0] not in indexes:
            continue
        name, operator, value = term
        try:
            if operator == "=" and value is not False and value is not None:
                return set(indexes[name].get(value, ()))
            if operator == "in" and isinstance(value, list) and all(v is not False and v is not None for v in value):
                found: set[int] = set()
                for v in value:
                    found |= indexes[name].get(v, set())
                return found
        except TypeError:  # an unhashable value: the predicate will refuse or miss it
            return None
    return None


def compile_domain(model: str, domain: Any) -> _Predicate:
    """A predicate for an Odoo domain: prefix ``&``, ``|``, ``!`` and an implicit AND between terms."""
    if not isinstance(domain, list):
        raise unprocessable("domain must be a list")
    predicates = []
    position = 0
    while position < len(domain):
        predicate, position = _parse_domain(model, domain, position)
        predicates.append(predicate)
    return lambda row, db: all(p(row, db) for p in predicates)


def _parse_domain(model: str, domain: list[Any], position: int) -> tuple[_Predicate, int]:
    token = domain[position]
    if token == "!":
        inner, position = _parse_domain(model, domain, position + 1)
        return (lambda row, db: not inner(row, db)), position
    if token in ("&", "|"):
        if position + 1 >= len(domain):
            raise unprocessable(f"domain operator {token!r} lacks operands")
        left, position = _parse_domain(model, domain, position + 1)
        if position >= len(domain):
            raise unprocessable(f"domain operator {token!r} lacks operands")
        right, position = _parse_domain(model, domain, position)
        if token == "&":
            return (lambda row, db: left(row, db) and right(row, db)), position
        return (lambda row, db: left(row, db) or right(row, db)), position
    return _term(model, token), position + 1


def _term(model: str, term: Any) -> _Predicate:
    if not (isinstance(term, list) and len(term) == 3 and isinstance(term[0], str)):
        raise unprocessable(f"invalid domain term {term!r}")
    name, operator, value = term
    field = MODELS[model].get(name)
    if field is None and name != "id":
        raise OdooFault(422, "builtins.ValueError", f"Invalid field {model}.{name} in condition {term!r}")
    if operator not in _OPERATORS:
        raise unprocessable(f"invalid operator {operator!r} in condition {term!r}")
    if operator in ("in", "not in"):
        if not isinstance(value, list):
            raise unprocessable(f"{operator!r} needs a list in condition {term!r}")
        wanted = [None if v is False else v for v in value]
        inside = operator == "in"
        return lambda row, db: (row.get(name) in wanted) == inside
    if operator in ("=", "!=", "<>"):
        expected = None if value is False else value
        equal = operator == "="

        def compare(row: dict[str, Any], db: Database) -> bool:
            actual = row.get(name)
            if expected is None:
                return (actual in (None, "", False)) == equal
            return (actual == expected) == equal

        return compare
    if operator.endswith("like"):
        if not isinstance(value, str):
            raise unprocessable(f"{operator!r} needs a string in condition {term!r}")
        exact = operator.startswith("=")
        regex = _like_regex(value if exact else f"%{value}%", ignore_case="ilike" in operator)
        negate = operator.startswith("not")

        def like(row: dict[str, Any], db: Database) -> bool:
            actual = row.get(name)
            if field is not None and field.kind == "many2one":
                actual = db.display_name(field.comodel or "", actual) if actual else None
            if actual is None:
                return negate
            return bool(regex.match(str(actual))) != negate

        return like

    def order_compare(row: dict[str, Any], db: Database) -> bool:
        actual = row.get(name)
        if actual is None or value is None or value is False:
            return False
        try:
            return {"<": actual < value, "<=": actual <= value, ">": actual > value, ">=": actual >= value}[operator]
        except TypeError:
            return False

    return order_compare


def _like_regex(pattern: str, *, ignore_case: bool) -> re.Pattern[str]:
    parts = []
    position = 0
    while position < len(pattern):
        char = pattern[position]
        if char == "\\" and position + 1 < len(pattern):
            parts.append(re.escape(pattern[position + 1]))
            position += 2
            continue
        parts.append(".*" if char == "%" else "." if char == "_" else re.escape(char))
        position += 1
    return re.compile("".join(parts) + r"\Z", re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def sorted_rows(model: str, rows: list[dict[str, Any]], order: Any) -> list[dict[str, Any]]:
    """``rows`` in an Odoo ``order`` (``"name desc, id"``); empty values sort last."""
    if order is None or order is False or order == "":
        order = "id"
    if not isinstance(order, str):
        raise unprocessable("order must be a string such as 'id desc'")
    keys = []
    for clause in order.split(","):
        parts = clause.split()
        if not parts or len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
            raise unprocessable(f"invalid order {order!r}")
        if parts[0] != "id" and parts[0] not in MODELS[model]:
            raise OdooFault(422, "builtins.ValueError", f"Invalid field {parts[0]!r} on model {model!r}")
        keys.append((parts[0], len(parts) == 2 and parts[1].lower() == "desc"))
    # Stable sorts from the last key to the first give a multi-key order; empty values sort last.
    rows = sorted(rows, key=lambda r: r["id"])
    for name, descending in reversed(keys):
        present = [r for r in rows if r.get(name) is not None]
        empty = [r for r in rows if r.get(name) is None]
        rows = sorted(present, key=lambda r: r[name], reverse=descending) + empty
    return rows
