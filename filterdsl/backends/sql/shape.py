"""Query shapes: the query with every bindable value replaced by a numbered ``Slot``.

The SQL compiler only ever sees shapes, so the SQL text it produces cannot depend on a value, only on
where values sit and on their kind; each placeholder's parameter is recorded as a slot plus the
derivations the compiler applied (``lower``, ``len``). Binding replays those derivations on the real
values. That makes the compiled SQL of a shape reusable for every query of that shape (the cache in
``filterdsl.backends.sql``) without a second code path that could drift from the uncached one.

What stays literal in a shape (and so in the cache key): field keys and paths, operators, booleans,
states, databases, sort, skip, limit, projection, and the shape of every list (values de-duplicated
first, exactly as the compiler's IN lists and tag tests de-duplicate them).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from filterdsl import ast as A
from filterdsl.semantics.days import next_day as records_next_day
from filterdsl.semantics.days import valid_day

_KINDS = {str: "str", int: "int", float: "float"}


@dataclass(frozen=True)
class Slot:
    """The ``index``-th value of the query (of type ``kind``) after ``derive`` steps."""

    index: int
    kind: str
    derive: tuple[str, ...] = ()
    #: a keyset cursor's number past 2^53 (the SQL of its exact tie item differs)
    far: bool = False

    def lower(self) -> Slot:
        return Slot(self.index, "str", (*self.derive, "lower"))

    def length(self) -> Slot:
        return Slot(self.index, "int", (*self.derive, "len"))

    def derived(self, step: str) -> Slot:
        return Slot(self.index, "int" if step == "len" else "str", (*self.derive, step))


def like_escape(v: str) -> str:
    r"""``v`` as a LIKE pattern that matches itself only (escape character ``\``, PostgreSQL's default)."""
    return v.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def next_day(day: str) -> str:
    """The day after ``YYYY-MM-DD``; past 9999-12-31 ``9999-12-32``, above every text that starts with a
    real day (digits and dashes only, so every collation orders it as code points do)."""
    try:
        return records_next_day(day)
    except OverflowError:
        return "9999-12-32"


def json_number(v: Any) -> str:
    """The JSON text PostgreSQL's ``to_jsonb(v::float8)`` makes: the shortest exact decimal of the double
    (Python's repr is the same shortest round-trip), non-finite doubles as strings as PostgreSQL writes
    them; an integer too large for a double stays exact (only a hand-built AST holds one)."""
    try:
        f = float(v)
    except OverflowError:
        return str(int(v))
    if math.isfinite(f):
        return repr(f)
    return json.dumps("NaN" if math.isnan(f) else ("Infinity" if f > 0 else "-Infinity"))


#: derivations a parameter may record (applied in order to the bound value)
STEPS: dict[str, Any] = {
    "lower": str.lower,
    "len": len,
    "like_contains": lambda v: "%" + like_escape(v) + "%",
    "like_starts": lambda v: like_escape(v) + "%",
    "like_ends": lambda v: "%" + like_escape(v),
    "next_day": next_day,
    "json_str": lambda v: json.dumps(v, ensure_ascii=False),
    "json_num": json_number,
    "json": lambda v: json.dumps(v),
    "json_money": lambda v: json.dumps({"val": v}),
    "head9": lambda v: v[:9],
    "like_prefix": lambda v: ascii_like_prefix(v),
    "like_prefix_no_k": lambda v: ascii_like_prefix(v, "k"),
    # LIKE's wildcards and escape as ``_`` (any one character): a pattern with no escape that matches
    # ``v`` and a superset of it (no escaping that a session setting could read otherwise)
    "like_loose": lambda v: v.replace("\\", "_").replace("%", "_"),
}


_LIKE_SAFE = frozenset(map(chr, range(0x20, 0x7F))) - {"%", "_", "\\"}


def ascii_like_prefix(v: str, unsafe: str = "") -> str:
    """The printable-ASCII head of ``v`` without LIKE's wildcards, its escape and ``unsafe``, then ``%``:
    a pattern a case-insensitive collation matches on every text whose ``str.lower()`` starts with ``v``
    (layout.CI_COLLATIONS)."""
    n = 0
    while n < len(v) and v[n] in _LIKE_SAFE and v[n] not in unsafe:
        n += 1
    return v[:n] + "%"


def derive(v: Any, step: str) -> Any:
    """``v`` after ``step``: recorded on a slot, applied to a constant."""
    return v.derived(step) if type(v) is Slot else STEPS[step](v)


def length(v: Any) -> Any:
    """``len`` that a Slot records as a derivation (``len()`` itself must return an int)."""
    return derive(v, "len")


def is_number(v: Any) -> bool:
    """A number value, or a slot holding one (the compiler's only type test on a value)."""
    t = type(v)
    return t is int or t is float or (t is Slot and v.kind != "str")


def resolve(p: Any, values: list[Any]) -> Any:
    """A parameter's real value: constants as they are, slots derived from their value."""
    if type(p) is not Slot:
        return p
    v = values[p.index]
    for step in p.derive:
        v = STEPS[step](v)
    return v


def _literal_date(n: A.Compare) -> bool:
    """A date compared with a text that is not a day (only an AST built by hand holds one): it stays in
    the shape, so the compiler can use the fast day-range form for every slot, which is always a day."""
    return n.field.type is A.FieldType.DATE and type(n.value) is str and not valid_day(n.value)


class _Extractor(A.Visitor[A.Node]):
    """The shape walk: values out into slots, everything else kept."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def slot(self, v: Any) -> Any:
        kind = _KINDS.get(type(v))
        if (
            kind is None or v == ""
        ):  # booleans, "" (EMPTY: the SQL differs) and anything unexpected stay literal
            return v
        self.values.append(v)
        return Slot(len(self.values) - 1, kind)

    def cursor(self, c: A.Cursor) -> A.Cursor:
        """Values into slots (a number's slot says whether it is past 2^53); ranks, booleans and the
        empty places stay in the shape. The sort signature was checked before and is dropped."""
        keys = []
        for k in c.keys:
            v = self.slot(k.value)
            if type(v) is Slot and far(k.value):
                v = Slot(v.index, v.kind, far=True)
            keys.append(A.CursorKey(k.rank, v))
        return A.Cursor(tuple(keys), self.slot(c.created_at), self.slot(c.id))

    def value(self, v: Any) -> Any:
        t = type(v)
        if t is A.Money:
            return A.Money(self.slot(v.amount), None if v.currency is None else self.slot(v.currency))
        if t is tuple:
            return tuple(self.slot(x) for x in dict.fromkeys(v))
        return self.slot(v)

    def visit_compare(self, n: A.Compare) -> A.Node:
        if _literal_date(n):
            return n
        return A.Compare(n.field, n.op, self.value(n.value))

    def visit_and(self, n: A.And) -> A.Node:
        return A.And(tuple(self.visit(i) for i in n.items))

    def visit_or(self, n: A.Or) -> A.Node:
        return A.Or(tuple(self.visit(i) for i in n.items))

    def visit_not(self, n: A.Not) -> A.Node:
        return A.Not(self.visit(n.item))

    def visit_relation(self, n: A.Relation) -> A.Node:
        return A.Relation(n.field, n.database, self.visit(n.predicate))

    def visit_search(self, n: A.Search) -> A.Node:
        return A.Search(tuple(tuple(self.slot(w) for w in c) for c in n.clauses), n.fields)

    def visit_id_in(self, n: A.IdIn) -> A.Node:
        return A.IdIn(tuple(self.slot(i) for i in dict.fromkeys(n.ids)))

    def visit_created_at(self, n: A.CreatedAt) -> A.Node:
        s, e = n.start, n.end
        return A.CreatedAt(None if s is None else self.slot(s), None if e is None else self.slot(e))

    def visit_modified_since(self, n: A.ModifiedSince) -> A.Node:
        return A.ModifiedSince(self.slot(n.since))

    def visit_const(self, n: A.Const) -> A.Node:  # no values
        return n

    def visit_field_state(self, n: A.FieldState) -> A.Node:
        return n

    def visit_in_trash(self, n: A.InTrash) -> A.Node:
        return n


def extract(query: A.Query) -> tuple[A.Query, list[Any]]:
    """(shape, values): the query with slots for values, and the values in slot order."""
    ex = _Extractor()
    shape = A.Query(
        predicate=ex.visit(query.predicate),
        sort=query.sort,
        skip=query.skip,
        limit=query.limit,
        fields=query.fields,
        database=query.database,
        after=None if query.after is None else ex.cursor(query.after),
    )
    return shape, ex.values


def far(v: Any) -> bool:
    """A number past 2^53 as a double reads it (a cursor's exact tie item is not NULL there)."""
    try:
        return type(v) in (int, float) and abs(float(v)) >= 2**53
    except OverflowError:
        return True


_SLOT_TYPE = {"str": str, "int": int, "float": float}


def shape_key(query: A.Query) -> tuple[tuple[Any, ...], list[Any]]:
    """(key, values): the shape as a flat tuple of hashable tokens, without building it.

    The tokens are a prefix walk with arities, so two queries share a key exactly when their shapes
    (``extract``) are equal; a value contributes its type, a slot its kind, so the key of a query and
    the key of its shape are the same tuple (the cache checks that on every miss). It is several times
    cheaper than building and hashing the shape, which matters on the hit path of ``to_sql``.
    """
    toks: list[Any] = []
    vals: list[Any] = []
    add = toks.append

    def val(v: Any) -> None:
        t = type(v)
        if t is str and v == "":
            add("")
        elif t is str or t is int or t is float:
            vals.append(v)
            add(t)
        elif t is Slot:
            vals.append(v)
            add(_SLOT_TYPE[v.kind])
        elif t is A.Money:
            add(A.Money)
            val(v.amount)
            if v.currency is None:
                add(None)
            else:
                val(v.currency)
        elif t is tuple:
            uniq = dict.fromkeys(v)
            add(len(uniq))
            for x in uniq:
                val(x)
        else:  # booleans, None (absent bounds): literal
            add(t)
            add(v)

    def node(n: A.Node) -> None:
        t = type(n)
        add(t)
        if t is A.Compare:
            f = n.field  # type: ignore[attr-defined]
            add(f.key)
            add(f.type)
            add(f.path)
            add(n.op)  # type: ignore[attr-defined]
            if _literal_date(n):  # type: ignore[arg-type]
                add(("date", n.value))  # type: ignore[attr-defined]
            else:
                val(n.value)  # type: ignore[attr-defined]
        elif t is A.And or t is A.Or:
            items = n.items  # type: ignore[attr-defined]
            add(len(items))
            for i in items:
                node(i)
        elif t is A.Not:
            node(n.item)  # type: ignore[attr-defined]
        elif t is A.FieldState:
            add(n.field)  # type: ignore[attr-defined]
            add(n.state)  # type: ignore[attr-defined]
        elif t is A.Const:
            add(n.value)  # type: ignore[attr-defined]
        elif t is A.Relation:
            add(n.field)  # type: ignore[attr-defined]
            add(n.database)  # type: ignore[attr-defined]
            node(n.predicate)  # type: ignore[attr-defined]
        elif t is A.Search:
            add(n.fields)  # type: ignore[attr-defined]
            add(len(n.clauses))  # type: ignore[attr-defined]
            for c in n.clauses:  # type: ignore[attr-defined]
                add(len(c))
                for w in c:
                    val(w)
        elif t is A.IdIn:
            val(n.ids)  # type: ignore[attr-defined]
        elif t is A.CreatedAt:
            val(n.start)  # type: ignore[attr-defined]
            val(n.end)  # type: ignore[attr-defined]
        elif t is A.ModifiedSince:
            val(n.since)  # type: ignore[attr-defined]
        else:  # InTrash and anything else: the node itself (frozen, hashable)
            add(n)

    node(query.predicate)
    toks += (query.sort, query.skip, query.limit, query.fields, query.database)
    c = query.after
    if c is not None:  # as _Extractor.cursor: ranks, then each value (a number: past 2^53 or not)
        add(A.Cursor)
        for k in c.keys:
            add(k.rank)
            v = k.value
            val(v)
            if type(v) is Slot:
                if v.kind != "str":
                    add(v.far)
            elif type(v) is int or type(v) is float:
                add(far(v))
        val(c.created_at)
        val(c.id)
    return tuple(toks), vals


def binder(params: Any) -> tuple[tuple[int, tuple[str, ...], Any], ...]:
    """A bind plan for rendered params: (value index or -1, derivation, constant) per parameter."""
    items = params.values() if isinstance(params, dict) else params
    return tuple((p.index, p.derive, None) if type(p) is Slot else (-1, (), p) for p in items)


def bind(plan: tuple[tuple[int, tuple[str, ...], Any], ...], values: list[Any]) -> list[Any]:
    out = []
    for i, derive, const in plan:
        if i < 0:
            out.append(const)
            continue
        v = values[i]
        for step in derive:
            v = STEPS[step](v)
        out.append(v)
    return out
