"""SPEC 8: the total order of a sort key, shared by every backend.

Groups: 0 NOT SET or EMPTY, 1 well typed for the field (by value), 2 wrong typed, ranked by kind
number < string < boolean < array < object, where numbers, strings and booleans order by value and
arrays tie with arrays, objects with objects (no JSON-text order is portable across engines). Ties
fall back to ``created_at`` descending, then ``id`` ascending.
"""

from __future__ import annotations

import functools
from typing import Any

from filterdsl.ast import FieldType
from filterdsl.semantics.days import valid_day

T = FieldType
EMPTY, WELL_TYPED, WRONG_TYPED = 0, 1, 2
#: the rank of a wrong-typed value's kind inside group 2
KIND_RANK = {"number": 0, "string": 1, "boolean": 2, "array": 3, "object": 4}
#: field types whose well-typed values are strings compared by code point
STRING_TYPES = frozenset({T.STRING, T.TEXT_BLOCK, T.ENUM, T.REF})
#: what breaks ties after the query's own keys: (record attribute, descending)
DEFAULT_ORDER = (("created_at", True), ("id", False))
_NUM = (int, float)


@functools.lru_cache(maxsize=1 << 16)
def valid_head(head: str) -> bool:
    """valid_day, cached: sorting and date tests ask it once per record for a handful of heads."""
    return valid_day(head)


def is_empty(v: Any) -> bool:
    """SPEC 2's EMPTY (``null``, ``""``, ``[]``); NOT SET is the caller's MISSING."""
    return v is None or v == "" or v == []


def well_typed(t: FieldType, v: Any) -> tuple[bool, Any]:
    """(True, the value it sorts by) when ``v`` is well typed for a field of type ``t``."""
    if t in STRING_TYPES and type(v) is str:
        return True, v
    if t is T.NUMBER and type(v) in _NUM:
        return True, v
    if t is T.BOOLEAN and type(v) is bool:
        return True, v
    if t is T.DATE and type(v) is str and valid_head(v[:10]):
        return True, v[:10]
    if t is T.CURRENCY and type(v) is dict and type(v.get("val")) in _NUM:
        return True, v["val"]
    return False, None


def kind_of(v: Any) -> str:
    """The JSON kind of a stored value that is not EMPTY."""
    if type(v) in _NUM:
        return "number"
    if type(v) is str:
        return "string"
    if type(v) is bool:
        return "boolean"
    return "array" if type(v) is list else "object"


def orders_by_value(kind: str) -> bool:
    """Wrong-typed numbers, strings and booleans order by value inside their rank; the rest tie."""
    return kind in ("number", "string", "boolean")
