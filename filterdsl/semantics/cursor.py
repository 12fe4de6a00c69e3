"""Keyset pagination (``Query.after``): the one rule every backend implements.

A cursor names a row's place in the query's total order (SPEC 8, semantics.sorting): for each sort key
a ``CursorKey`` (rank, value), then the default order's ``created_at`` (descending) and ``id``
(ascending). Since ids are unique the order is total, so "the rows strictly after the cursor" is exact:
walking the pages with the cursor of each page's last row gives the unpaged sequence, whatever rows
are inserted or deleted meanwhile (a row sits where its values put it, never at a shifted offset).

The cursor keeps the *place*, not the stored value: NOT SET and EMPTY tie in the order (rank 0), and
arrays tie with arrays, objects with objects, so nothing else is needed; a backend that prefers to
evaluate its own sort expressions on a value gets one with :func:`representative`.

``after(query)`` is the reference test (the memory engine's); :func:`cursor_of` makes the cursor of a
canonical document; :func:`cursor_problem` validates a cursor against its query.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from typing import Any

from filterdsl import ast as A
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.semantics.paths import MISSING, get_path
from filterdsl.semantics.sorting import (
    EMPTY,
    KIND_RANK,
    STRING_TYPES,
    WELL_TYPED,
    WRONG_TYPED,
    is_empty,
    kind_of,
    orders_by_value,
    valid_head,
    well_typed,
)

T = A.FieldType
Doc = dict[str, Any]
#: the rank of each wrong-typed kind (2 number ... 6 object) and back
RANK_OF_KIND = {k: WRONG_TYPED + r for k, r in KIND_RANK.items()}
KIND_OF_RANK = {r: k for k, r in RANK_OF_KIND.items()}
#: the well-typed kind of each sortable field type (JSON: none, every value ranks by kind)
GOOD_KIND = {
    **dict.fromkeys(STRING_TYPES, "string"),
    T.NUMBER: "number",
    T.BOOLEAN: "boolean",
    T.DATE: "string",
    T.CURRENCY: "object",
}
_NUM = (int, float)


# ---------------------------------------------------------------- a row's place
def sort_point(ftype: A.FieldType, v: Any) -> A.CursorKey:
    """The place of a stored value (``MISSING`` for NOT SET) in a sort key's order."""
    if v is MISSING or is_empty(v):
        return A.CursorKey(EMPTY)
    ok, value = well_typed(ftype, v)
    if ok:
        return A.CursorKey(WELL_TYPED, value)
    kind = kind_of(v)
    return A.CursorKey(RANK_OF_KIND[kind], v if orders_by_value(kind) else None)


def attr_point(v: Any) -> A.CursorKey:
    """A record attribute (id, created_at, updated_at): NULL first ascending, then by value."""
    return A.CursorKey(EMPTY) if v is None else A.CursorKey(WELL_TYPED, v)


def key_value(key: A.Field | A.RecordAttr, doc: Doc) -> Any:
    """The stored value a sort key reads (``MISSING`` when NOT SET)."""
    if isinstance(key, A.RecordAttr):
        return doc.get(key.name)
    data = doc["data"]
    return get_path(data, key.segments) if key.path else data.get(key.key, MISSING)


def point_of(key: A.Field | A.RecordAttr, doc: Doc) -> A.CursorKey:
    v = key_value(key, doc)
    return attr_point(v) if isinstance(key, A.RecordAttr) else sort_point(key.type, v)


def cursor_of(query: A.Query, doc: Doc) -> A.Cursor:
    """The cursor of a canonical document (unprojected: it must hold the sort keys' values)."""
    return A.Cursor(
        tuple(point_of(sk.key, doc) for sk in query.sort),
        doc["created_at"],
        doc["id"],
        sort_signature(query),
    )


def representative(ftype: A.FieldType | None, ck: A.CursorKey) -> Any:
    """A stored value whose place is ``ck`` (``MISSING`` for rank 0; ``ftype`` None: a record
    attribute): what a backend evaluating its own sort expressions on a literal row can use."""
    if ck.rank == EMPTY:
        return None if ftype is None else MISSING
    if ck.rank == WELL_TYPED:
        return {"val": ck.value} if ftype is T.CURRENCY else ck.value
    kind = KIND_OF_RANK[ck.rank]
    return [None] if kind == "array" else {} if kind == "object" else ck.value


# ---------------------------------------------------------------- the rule
def _tuple(ck: A.CursorKey) -> tuple[Any, ...]:
    return (ck.rank,) if ck.value is None else (ck.rank, ck.value)


def after(query: A.Query) -> Callable[[Doc], bool]:
    """The reference test: is a canonical document strictly after ``query.after`` in the query's order?

    Lexicographic on (each sort key's place, created_at, id): the first place that differs decides,
    ``>`` ascending and ``<`` descending. Values inside one rank are of one kind, so Python's own
    comparison is SPEC 8's (numbers exactly, strings by code point, false < true).
    """
    c = query.after
    if c is None:
        return lambda r: True
    keys = [sk.key for sk in query.sort]
    desc = [sk.descending for sk in query.sort] + [True, False]
    target = [_tuple(k) for k in c.keys] + [(WELL_TYPED, c.created_at), (WELL_TYPED, c.id)]

    def test(r: Doc) -> bool:
        places = [_tuple(point_of(k, r)) for k in keys]
        places += [(WELL_TYPED, r["created_at"]), (WELL_TYPED, r["id"])]
        for p, t, d in zip(places, target, desc):
            if p != t:
                return (p > t) != d
        return False  # the cursor's own row

    return test


# ---------------------------------------------------------------- validation
def sort_signature(query: A.Query) -> str:
    """A short hash of the query's sort (keys, types, directions) and database: a cursor made for
    another order is refused instead of paging a different sequence."""
    spec = [
        [
            ["attr", sk.key.name]
            if isinstance(sk.key, A.RecordAttr)
            else [sk.key.key, sk.key.type.value, list(sk.key.path)],
            sk.descending,
        ]
        for sk in query.sort
    ]
    text = json.dumps([query.database, spec], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def _good_value(ftype: A.FieldType | None, attr: str | None, v: Any) -> bool:
    """Whether ``v`` is a well-typed value's sort value for the key."""
    if attr is not None:
        return type(v) is str and (attr == "id" or _timestamp(v))
    if ftype in STRING_TYPES:
        return type(v) is str and v != ""
    if ftype in (T.NUMBER, T.CURRENCY):
        return _number(v)
    if ftype is T.BOOLEAN:
        return type(v) is bool
    if ftype is T.DATE:
        return type(v) is str and len(v) == 10 and valid_head(v)
    return False  # JSON: no type is right; other types cannot be sorted on


def _number(v: Any) -> bool:
    return type(v) in _NUM and not (type(v) is float and not math.isfinite(v))


def _timestamp(v: Any) -> bool:
    from filterdsl.records import canonical_ts

    try:
        return type(v) is str and canonical_ts(v) == v
    except (ValueError, OverflowError):
        return False


def _key_problem(sk: A.SortKey, ck: Any) -> str | None:
    if type(ck) is not A.CursorKey or type(ck.rank) is not int:
        return "is not a cursor key"
    attr = sk.key.name if isinstance(sk.key, A.RecordAttr) else None
    ftype = None if attr is not None else sk.key.type  # type: ignore[union-attr]
    if ck.rank == EMPTY:
        if attr in ("id", "created_at"):
            return f"{attr} is never empty"
        return None if ck.value is None else "an empty place has no value"
    if ck.rank == WELL_TYPED:
        return None if _good_value(ftype, attr, ck.value) else "holds no well-typed value of its key"
    kind = KIND_OF_RANK.get(ck.rank)
    if kind is None or attr is not None:
        return f"has no rank {ck.rank}"
    if ftype is not None and kind == GOOD_KIND.get(ftype) and ftype is not T.DATE and ftype is not T.CURRENCY:
        return f"a {kind} is well typed for a field of type {ftype.value}"
    v = ck.value
    if kind == "number":
        ok = _number(v)
    elif kind == "string":
        ok = type(v) is str and v != "" and not (ftype is T.DATE and valid_head(v[:10]))
    elif kind == "boolean":
        ok = type(v) is bool
    else:
        ok = v is None
    return None if ok else f"holds no value of rank {ck.rank} ({kind})"


def cursor_problem(query: A.Query) -> tuple[str, str] | None:
    """``(JSON Pointer into the AST JSON, message)`` when ``query.after`` does not fit the query."""
    c = query.after
    if c is None:
        return None
    if type(c) is not A.Cursor or not isinstance(c.keys, tuple):
        return "/after", "after is a cursor"
    if c.sort is not None and c.sort != sort_signature(query):
        return "/after/sort", "the cursor was made for another sort (or database): start again from page 1"
    if len(c.keys) != len(query.sort):
        return "/after/keys", f"the cursor has {len(c.keys)} sort keys, the query {len(query.sort)}"
    for i, (sk, ck) in enumerate(zip(query.sort, c.keys)):
        why = _key_problem(sk, ck)
        if why is not None:
            return f"/after/keys/{i}", f"cursor key {i} {why}"
    if not _timestamp(c.created_at):
        return "/after/created_at", "the cursor's created_at is a canonical timestamp"
    if type(c.id) is not str:
        return "/after/id", "the cursor's id is a string"
    return None


def check_cursor(query: A.Query) -> None:
    """FilterError (``bad-cursor``, located in the AST JSON) when ``query.after`` does not fit the query:
    what a backend calls before compiling a cursor it did not get through a frontend."""
    problem = cursor_problem(query)
    if problem is not None:
        raise FilterError([Diagnostic("bad-cursor", problem[1], Location(pointer=problem[0]))])
