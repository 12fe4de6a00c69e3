"""MongoDB backend: a Query -> a ``find`` spec, or an aggregation pipeline when it needs one.

Documents are canonical (SPEC 1.2) with ``_id`` = ``id``, one collection per database. Mongo's own
habits are fenced off explicitly: equality never matches an array that merely contains the value
(``$not: {$type: "array"}`` guards), ``null`` never matches a missing key (``$exists``), booleans are
never numbers (``$type`` guards), a path never traverses an array implicitly (guards on every prefix),
negation is ``$nor`` (portable to every engine), and case-insensitive matching is a regex whose
alternations spell out Python's ``str.lower`` (no ``i`` flag: engines fold case differently).
User values only ever appear as operands (``$eq``, ``$in``, escaped regex text), never as operators.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from filterdsl import ast as A
from filterdsl.errors import FilterError
from filterdsl.schema import CatalogSource
from filterdsl.semantics.cursor import check_cursor
from filterdsl.semantics.days import DAY_PREFIX
from filterdsl.semantics.paths import canonical_index
from filterdsl.semantics.sorting import DEFAULT_ORDER, EMPTY, KIND_RANK, WELL_TYPED, WRONG_TYPED

T = A.FieldType
Filter = dict[str, Any]
FALSE: Filter = {"_id": {"$in": []}}
NOT_ARRAY = {"$not": {"$type": "array"}}
_STRINGISH = (T.STRING, T.TEXT_BLOCK, T.ENUM, T.REF, T.JSON)
_NUM = (int, float)
_META = set("\\^$.|?*+()[]{}/")
_CMP = {A.Op.GT: "$gt", A.Op.GTE: "$gte", A.Op.LT: "$lt", A.Op.LTE: "$lte", A.Op.EQ: "$eq"}


# ---------------------------------------------------------------- case-insensitive regexes
@functools.cache
def _lower_sources() -> dict[str, tuple[str, ...]]:
    """For each lower-case text, the characters whose ``str.lower()`` is exactly that text."""
    table: dict[str, list[str]] = {}
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        ch = chr(cp)
        low = ch.lower()
        if low != ch:
            table.setdefault(low, []).append(ch)
    # Final sigma: Python lowers a word-final Σ to ς, which a context-free regex cannot see (docs).
    table.setdefault("ς", []).append("Σ")
    return {k: tuple(v) for k, v in table.items()}


def _lit(ch: str) -> str:
    return "\\" + ch if ch in _META else ch


def lower_regex(needle: str, open_start: bool = True, open_end: bool = True) -> str:
    """A pattern matching any text whose ``str.lower()`` contains ``needle.lower()`` at that place.

    ``open_end``: the match may end inside the lowering of a character that lowers to several
    (``contains``, ``starts-with``): ``İ`` lowers to ``i`` + U+0307, so it holds a needle that ends in
    ``i``; ``open_start`` likewise for a needle that starts with the rest of such a lowering (U+0307)
    (``contains``, ``ends-with``).
    """
    low = needle.lower()
    head, tail = "", ""
    for src, lowering in _multi_lowerings():
        for k in range(1, len(lowering)):
            prefix, suffix = lowering[:k], lowering[k:]
            if open_end and not tail and low.endswith(prefix):
                tail = "(?:" + _lower_body(prefix) + "|" + _lit(src) + ")"
                low = low[: -len(prefix)]
            if open_start and not head and low.startswith(suffix):
                head = "(?:" + _lower_body(suffix) + "|" + _lit(src) + ")"
                low = low[len(suffix) :]
    return head + _lower_body(low) + tail


@functools.cache
def _multi_lowerings() -> tuple[tuple[str, str], ...]:
    """(character, its lowering) for the characters whose ``str.lower()`` has several characters
    (``İ``: ``i`` + U+0307, the only one in current Unicode)."""
    return tuple((src, k) for k, srcs in _lower_sources().items() if len(k) > 1 for src in srcs)


@functools.cache
def _multi_keys() -> tuple[str, ...]:
    """The lowerings of several characters, longest first (sorted once: per needle it cost ~1 ms)."""
    return tuple(sorted((k for k in _lower_sources() if len(k) > 1), key=len, reverse=True))


def _lower_body(low: str) -> str:
    """The pattern for already lowered text: each piece, or any character lowering to it."""
    sources = _lower_sources()
    multi = _multi_keys()
    out, i = [], 0
    while i < len(low):
        seq = next((m for m in multi if low.startswith(m, i)), None)
        if seq is not None:
            alts = [_lit_seq(seq), *(_lit(c) for c in sources[seq])]
            out.append("(?:" + "|".join(alts) + ")")
            i += len(seq)
            continue
        ch = low[i]
        alts = [_lit(ch), *(_lit(c) for c in sources.get(ch, ()))]
        out.append(alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")")
        i += 1
    return "".join(out)


def _lit_seq(seq: str) -> str:
    return "".join(_lit(c) for c in seq)


def _str_regex(op: A.Op, value: str) -> str:
    # a match anchored at the start cannot begin inside a character's lowering, nor one anchored at
    # the end end inside one
    body = lower_regex(
        value,
        open_start=op not in (A.Op.STARTS_WITH, A.Op.IEQ),
        open_end=op not in (A.Op.ENDS_WITH, A.Op.IEQ),
    )
    if op is A.Op.STARTS_WITH:
        return "^" + body
    if op is A.Op.ENDS_WITH:
        return body + "(?![\\s\\S])"  # JS has no \\Z; Python's $ also matches before a final newline
    if op is A.Op.IEQ:
        return "^" + body + "(?![\\s\\S])"
    return body


def _succ(text: str) -> str:
    """The first string after every string that starts with ``text`` and is no longer than it."""
    return text[:-1] + chr(ord(text[-1]) + 1) if text else text


def _day_range(op: A.Op, val: str) -> dict[str, str] | None:
    """Bounds on the whole stored string equivalent to ``stored[:10] <op> val`` (SPEC 1.4 day compare).

    The stored head is a valid 10-character day, so comparing it with ``val`` reduces to comparing the
    whole string with a boundary derived from ``val``'s first 10 characters and its length.
    """
    lt = _succ(val[:10]) if len(val) > 10 else val  # head < val  <=> stored < lt
    lte = _succ(val[:10]) if len(val) >= 10 else val  # head <= val <=> stored < lte
    if op is A.Op.EQ:
        return {"$gte": val, "$lt": _succ(val)} if len(val) == 10 else None
    return {A.Op.LT: {"$lt": lt}, A.Op.LTE: {"$lt": lte}, A.Op.GT: {"$gte": lte}, A.Op.GTE: {"$gte": lt}}[op]


# ---------------------------------------------------------------- paths
def _check_seg(seg: str) -> None:
    if "\x00" in seg:
        raise FilterError.one(
            "not-expressible",
            f"MongoDB cannot store the key {seg!r}: BSON field names cannot hold NUL; "
            "use the SQL or in-memory backends for such keys",
        )


def _dotted(seg: str) -> bool:
    """A key a dotted path can name; other keys ('.', a leading '$', empty) need ``$getField``."""
    _check_seg(seg)
    return seg != "" and "." not in seg and not seg.startswith("$")


def _literal(value: Any) -> dict[str, Any]:
    return {"$literal": value}


def _get_field(key: str, obj: Any) -> dict[str, Any]:
    return {"$getField": {"field": _literal(key), "input": obj}}


def _exact_value(segs: tuple[str, ...]) -> Any:
    """The value at ``data.<segs>`` as memory.get_path finds it, missing when absent (``$$REMOVE``).

    Used for keys a dotted path cannot name; needs ``$getField`` and ``$type`` (MongoDB 5.0, mingo)."""
    expr: Any = _get_field(segs[0], "$data")
    for seg in segs[1:]:
        branches: list[dict[str, Any]] = [
            {"case": {"$eq": [{"$type": "$$p"}, "object"]}, "then": _get_field(seg, "$$p")}
        ]
        if canonical_index(seg):
            i = int(seg)
            branches.append(
                {
                    "case": {"$isArray": "$$p"},
                    "then": {
                        "$cond": [{"$gt": [{"$size": "$$p"}, i]}, {"$arrayElemAt": ["$$p", i]}, "$$REMOVE"]
                    },
                }
            )
        expr = {
            "$let": {"vars": {"p": expr}, "in": {"$switch": {"branches": branches, "default": "$$REMOVE"}}}
        }
    return expr


# Type tests in aggregation expressions without ``$type`` (mongomock has none): ``$isArray`` before any
# ``$eq`` on a value that may be an array (mingo's ``$eq`` matches array elements), ``$isNumber``,
# ``$eq`` with true/false after numbers are ruled out (mongomock's ``$eq`` is Python's, ``1 == True``), and
# ``$gte`` against ``{}``, which is true for objects in BSON order (and in mingo, which compares like types
# only) once arrays and booleans are ruled out. ``x`` is never missing: callers bind it through ``$ifNull``.
def _not(e: Any) -> Any:
    """Negation of a boolean expression (mongomock reads ``{$not: [e]}`` as "not a non-empty array")."""
    return {"$eq": [e, False]}


def _is_num(x: str) -> Any:
    return {"$isNumber": x}


def _is_bool(x: str) -> Any:
    return {
        "$and": [_not(_is_num(x)), _not({"$isArray": x}), {"$or": [{"$eq": [x, True]}, {"$eq": [x, False]}]}]
    }


def _is_empty(x: str) -> Any:
    """null, "" or []; arrays first: mingo's expression ``$eq`` also holds for ``[null] == null`` and
    ``[[]] == []`` (query semantics), where MongoDB compares whole values."""
    return {
        "$cond": [
            {"$isArray": x},
            {"$eq": [{"$size": x}, 0]},
            {"$or": [{"$eq": [x, None]}, {"$eq": [x, ""]}]},
        ]
    }


def _is_obj(x: str) -> Any:
    return {
        "$and": [
            _not({"$isArray": x}),
            {"$ne": [x, True]},
            {"$ne": [x, False]},
            {"$ne": [x, None]},
            {"$gte": [x, _literal({})]},
        ]
    }


def _is_str(x: str) -> Any:
    return {
        "$and": [
            _not(_is_num(x)),
            _not({"$isArray": x}),
            {"$ne": [x, True]},
            {"$ne": [x, False]},
            {"$ne": [x, None]},
            _not({"$gte": [x, _literal({})]}),
        ]
    }


def _portable_value(segs: tuple[str, ...]) -> Any:
    """The value at ``data.<segs>`` as memory.get_path finds it, null when absent, without ``$type``
    (runs on mongomock when every key is dotted). Arrays are only indexed, never traversed."""
    first = f"$data.{segs[0]}" if _dotted(segs[0]) else _get_field(segs[0], "$data")
    expr: Any = {"$ifNull": [first, None]}
    for seg in segs[1:]:
        child = {"$ifNull": [f"$$p.{seg}" if _dotted(seg) else _get_field(seg, "$$p"), None]}
        if canonical_index(seg):
            i = int(seg)
            on_array: Any = {"$cond": [{"$gt": [{"$size": "$$p"}, i]}, {"$arrayElemAt": ["$$p", i]}, None]}
        else:
            on_array = None
        expr = {
            "$let": {
                "vars": {"p": expr},
                "in": {"$cond": [{"$isArray": "$$p"}, on_array, {"$cond": [_is_obj("$$p"), child, None]}]},
            }
        }
    return expr


class _Scope:
    """One aggregation context (the main collection, or a ``$lookup`` pipeline over a referenced one):
    the stages that must run before its ``$match`` (lookups, ``$getField`` copies) and their fields."""

    def __init__(self) -> None:
        self.stages: list[dict[str, Any]] = []
        self.temps: list[str] = []
        self.copies: dict[tuple[str, ...], str] = {}


class _Compiler(A.Visitor[Filter]):
    """Node -> ``$match`` filter. A visitor, so a new node type is a mypy error here, not a runtime one."""

    def __init__(self, collections: Mapping[Any, str]):
        self.collections = collections
        self.scope = _Scope()
        self.n = 0

    def coll(self, database: str | None) -> str:
        name = self.collections.get(database)
        return name if name else ("records" if database is None else database)

    def temp(self, prefix: str) -> str:
        self.n += 1
        name = f"_{prefix}{self.n}"
        self.scope.temps.append(name)
        return name

    # -------------------------------------------------------------- paths and states
    def path(self, f: A.Field) -> tuple[str, list[Filter]]:
        """The dotted path of a field and the guards that stop implicit array traversal.

        A key a dotted path cannot name is first copied by ``$getField`` into a temporary top-level
        field (absent when the value is absent, so the three states survive)."""
        segs = f.segments
        if not all(_dotted(s) for s in segs):
            name = self.scope.copies.get(segs)
            if name is None:
                name = self.scope.copies[segs] = self.temp("k")
                self.scope.stages.append({"$addFields": {name: _exact_value(segs)}})
            return name, []
        guards: list[Filter] = []
        p = f"data.{segs[0]}"
        for seg in segs[1:]:
            if not canonical_index(seg):
                guards.append({p: NOT_ARRAY})
            p = f"{p}.{seg}"
        return p, guards

    @staticmethod
    def all_of(parts: list[Filter]) -> Filter:
        parts = [p for p in parts if p != {}]
        if any(p == FALSE for p in parts):
            return FALSE
        if not parts:
            return {}
        return parts[0] if len(parts) == 1 else {"$and": parts}

    def empty(self, p: str) -> Filter:
        # ``$type: "array"`` next to ``$size: 0``: mongomock also matches ``$size: 0`` against ``{}``,
        # which HAS VALUE (SPEC 1.3).
        return {
            "$or": [
                {p: {"$eq": None, "$exists": True, **NOT_ARRAY}},
                {p: {"$eq": "", **NOT_ARRAY}},
                {p: {"$type": "array", "$size": 0}},
            ]
        }

    def visit_field_state(self, node: A.FieldState) -> Filter:
        p, guards = self.path(node.field)
        present = self.all_of([*guards, {p: {"$exists": True}}])
        if node.state is A.State.NOT_SET:
            return {"$nor": [present]}
        if node.state is A.State.EMPTY:
            return self.all_of([*guards, self.empty(p)])
        return self.all_of([present, {"$nor": [self.empty(p)]}])

    # -------------------------------------------------------------- compares
    def visit_compare(self, node: A.Compare) -> Filter:
        f, op, val = node.field, node.op, node.value
        p, guards = self.path(f)
        t = f.type
        if t is T.CURRENCY:
            money = val if isinstance(val, A.Money) else A.Money(val)  # type: ignore[arg-type]
            cond: list[Filter] = [
                {p: {"$type": "object", **NOT_ARRAY}},
                {p + ".val": {"$type": "number", **NOT_ARRAY, _CMP[op]: money.amount}},
            ]
            if money.currency is not None:
                cond.append({p + ".currency": {"$eq": money.currency, **NOT_ARRAY}})
            return self.all_of([*guards, *cond])
        if t is T.ATTACHMENT:
            return self.all_of(
                [
                    *guards,
                    {p: {"$type": "object", **NOT_ARRAY}},
                    self.string_op(p + ".val", op, val, exact=False),
                ]
            )
        if t is T.DATE:
            rng = _day_range(op, str(val))
            if rng is None:
                return FALSE
            return self.all_of([*guards, {p: {"$regex": DAY_PREFIX, **NOT_ARRAY, **rng}}])
        if t is T.ENUM_TAGS:
            vals = list(val)  # type: ignore[arg-type]
            if op is A.Op.HAS_ANY:
                cond1: Filter = {p: {"$elemMatch": {"$in": vals}}}
            elif op is A.Op.HAS_ALL:
                cond1 = {p: {"$type": "array", "$all": vals}}
            else:  # HAS_EXACTLY: every element a listed string, every listed string present
                cond1 = {p: {"$type": "array", "$all": vals, "$not": {"$elemMatch": {"$nin": vals}}}}
            return self.all_of([*guards, cond1])
        if t is T.BOOLEAN or type(val) is bool:
            if op is not A.Op.EQ:
                return FALSE
            return self.all_of([*guards, {p: {"$eq": val, "$type": "bool"}}])
        if t is T.NUMBER or (t is T.JSON and type(val) in _NUM):
            return self.all_of([*guards, {p: {"$type": "number", **NOT_ARRAY, _CMP[op]: val}}])
        if op is A.Op.IN:
            return self.all_of(
                [
                    *guards,
                    {
                        p: {
                            "$in": [v for v in val if isinstance(v, str)],  # type: ignore[union-attr]
                            **NOT_ARRAY,
                        }
                    },
                ]
            )
        if t in _STRINGISH and isinstance(val, str):
            exact = t is T.JSON and op in (A.Op.EQ, A.Op.IEQ)
            return self.all_of([*guards, self.string_op(p, op, val, exact)])
        raise FilterError.one("unsupported", f"operator {op.value} on a {t.value} field")

    def string_op(self, p: str, op: A.Op, val: Any, exact: bool) -> Filter:
        """A string operator on the string at ``p``; "" is EMPTY and matches nothing unless ``exact``."""
        if not isinstance(val, str):
            return FALSE
        cond: dict[str, Any] = {"$type": "string", **NOT_ARRAY}
        if not exact:
            cond["$ne"] = ""
        if op is A.Op.EQ:
            if val == "" and not exact:
                return FALSE
            cond["$eq"] = val
        elif op in (A.Op.IEQ, A.Op.CONTAINS, A.Op.STARTS_WITH, A.Op.ENDS_WITH):
            cond["$regex"] = _str_regex(op, val)
        elif op in (A.Op.GT, A.Op.GTE, A.Op.LT, A.Op.LTE):
            cond[_CMP[op]] = val
        else:
            raise FilterError.one("unsupported", f"operator {op.value} on strings")
        return {p: cond}

    # -------------------------------------------------------------- search, relations
    def visit_search(self, node: A.Search) -> Filter:
        clauses = [c for c in node.clauses if c]
        if not clauses:
            return {}
        if node.fields is None:
            return self.search_schemaless(clauses)
        parts = []
        for clause in clauses:
            alts: list[Filter] = []
            for term in clause:
                rx = lower_regex(term)
                for f in node.fields:
                    p, guards = self.path(A.Field(f.key, f.type))
                    if f.type is T.ENUM_TAGS:
                        alts.append({p: {"$type": "array", "$elemMatch": {"$regex": rx}}})
                    else:
                        alts.append({p: {"$regex": rx, **NOT_ARRAY}})
            parts.append({"$or": alts} if alts else FALSE)
        return self.all_of(parts)

    def search_schemaless(self, clauses: list[tuple[str, ...]]) -> Filter:
        """Any top-level string (or string element of a top-level list), without ``$type``/``$reduce``."""

        def match(x: str, rx: str) -> Any:  # "" never matches: a term is never empty
            return {"$regexMatch": {"input": {"$cond": [_is_str(x), x, ""]}, "regex": rx}}

        def term(t: str) -> Any:
            rx = lower_regex(t)
            per_value = {
                "$cond": [
                    {"$isArray": "$$kv.v"},
                    {"$in": [True, {"$map": {"input": "$$kv.v", "as": "e", "in": match("$$e", rx)}}]},
                    match("$$kv.v", rx),
                ]
            }
            return {
                "$in": [
                    True,
                    {
                        "$map": {
                            "input": {"$objectToArray": {"$ifNull": ["$data", {}]}},
                            "as": "kv",
                            "in": per_value,
                        }
                    },
                ]
            }

        return {"$expr": {"$and": [{"$or": [term(t) for t in clause]} for clause in clauses]}}

    def visit_relation(self, node: A.Relation) -> Filter:
        """Some live, real row of the referenced collection satisfies the nested predicate (SPEC 2.2).

        The nested predicate is compiled in its own scope. When it needs no stages of its own, a
        ``localField`` lookup and ``$elemMatch`` suffice (mongomock runs those); otherwise a correlated
        ``let``/``pipeline`` lookup runs the scope's stages on the referenced rows (nested relations,
        ``$getField`` copies). A dangling id is never a row: mingo puts null into the joined array, so the
        element must have a string ``id``."""
        p, guards = self.path(node.field)
        name = self.temp("rel")
        outer, inner_scope = self.scope, _Scope()
        self.scope = inner_scope
        try:
            inner = self.visit(node.predicate)
        finally:
            self.scope = outer
        live: Filter = {"removed_at": None, "id": {"$type": "string"}}
        multi = node.field.type is T.REF_MULTIPLE
        if not inner_scope.stages:
            outer.stages.append(
                {
                    "$lookup": {
                        "from": self.coll(node.database),
                        "localField": p,
                        "foreignField": "id",
                        "as": name,
                    }
                }
            )
            joined: Filter = {name: {"$elemMatch": self.all_of([inner, live])}}
        else:
            ids = (
                {"$in": ["$id", {"$cond": [{"$isArray": "$$ref"}, "$$ref", []]}]}
                if multi
                else {"$eq": ["$id", "$$ref"]}
            )
            pipeline = [
                {"$match": {"$expr": ids}},
                *inner_scope.stages,
                {"$match": self.all_of([inner, live])},
                {"$project": {"_id": 0, "id": 1}},
            ]
            outer.stages.append(
                {
                    "$lookup": {
                        "from": self.coll(node.database),
                        "let": {"ref": "$" + p},
                        "pipeline": pipeline,
                        "as": name,
                    }
                }
            )
            joined = {name: {"$elemMatch": {"id": {"$type": "string"}}}}
        typed: Filter = {p: {"$type": "array"}} if multi else {p: {"$type": "string", **NOT_ARRAY}}
        return self.all_of([*guards, typed, joined])

    # -------------------------------------------------------------- logic, record attributes
    def visit_const(self, node: A.Const) -> Filter:
        return {} if node.value else FALSE

    def visit_and(self, node: A.And) -> Filter:
        return self.all_of([self.visit(i) for i in node.items])

    def visit_or(self, node: A.Or) -> Filter:
        items = [self.visit(i) for i in node.items]
        if any(i == {} for i in items):
            return {}
        items = [i for i in items if i != FALSE]
        return FALSE if not items else items[0] if len(items) == 1 else {"$or": items}

    def visit_not(self, node: A.Not) -> Filter:
        inner = self.visit(node.item)
        if inner == {}:
            return FALSE
        if inner == FALSE:
            return {}
        return {"$nor": [inner]}

    def visit_id_in(self, node: A.IdIn) -> Filter:
        return {"id": {"$in": list(node.ids)}} if node.ids else FALSE

    def visit_created_at(self, node: A.CreatedAt) -> Filter:
        rng: dict[str, Any] = {}
        if node.start is not None:
            rng["$gte"] = node.start
        if node.end is not None:
            rng["$lt"] = node.end
        return {"created_at": {"$type": "string", **rng}} if rng else {}

    def visit_modified_since(self, node: A.ModifiedSince) -> Filter:
        return {
            "$or": [
                {"updated_at": {"$type": "string", "$gte": node.since}},
                {"updated_at": None, "created_at": {"$gte": node.since}},
            ]
        }

    def visit_in_trash(self, node: A.InTrash) -> Filter:
        return {"removed_at": {"$ne": None}}


# ---------------------------------------------------------------- sorting
def _sort_key(t: A.FieldType, segs: tuple[str, ...]) -> list[Any]:
    """SPEC 8 sort key ``[group, value, other]`` of one field, without ``$type`` (mongomock runs it).

    Groups: 0 NOT SET/EMPTY, 1 well typed (value), 2 wrong typed with ``value`` = number 0 < string 1 <
    boolean 2 < array 3 < object 4 and ``other`` the value itself for the first three; arrays tie with
    arrays and objects with objects (null). One ``$switch`` per part: mongomock does not evaluate the
    expressions inside an array literal."""
    v = "$$v"
    is_str = _is_str(v)
    well = {
        T.STRING: is_str,
        T.TEXT_BLOCK: is_str,
        T.ENUM: is_str,
        T.REF: is_str,
        T.NUMBER: _is_num(v),
        T.BOOLEAN: _is_bool(v),
        T.DATE: {
            "$and": [is_str, {"$regexMatch": {"input": {"$cond": [is_str, v, ""]}, "regex": DAY_PREFIX}}]
        },
        T.CURRENCY: {"$and": [_is_obj(v), _is_num("$$v.val")]},
    }.get(t)
    # $substr is $substrBytes: byte 10 of a string starting with an ASCII day is a character boundary.
    well_value: Any = {T.DATE: {"$substr": [v, 0, 10]}, T.CURRENCY: "$$v.val"}.get(t, v)
    cases: list[tuple[Any, tuple[Any, Any, Any]]] = [(_is_empty(v), (EMPTY, None, None))]
    if well is not None:
        cases.append((well, (WELL_TYPED, well_value, None)))
    cases += [
        (_is_num(v), (WRONG_TYPED, KIND_RANK["number"], v)),
        ({"$isArray": v}, (WRONG_TYPED, KIND_RANK["array"], None)),
        (_is_bool(v), (WRONG_TYPED, KIND_RANK["boolean"], v)),
        (_is_obj(v), (WRONG_TYPED, KIND_RANK["object"], None)),
    ]
    default = (WRONG_TYPED, KIND_RANK["string"], v)
    return [
        {
            "$let": {
                "vars": {"v": _portable_value(segs)},
                "in": {
                    "$switch": {
                        "branches": [{"case": c, "then": then[j]} for c, then in cases],
                        "default": default[j],
                    }
                },
            }
        }
        for j in range(3)
    ]


def _sort_stage(query: A.Query) -> tuple[list[dict[str, Any]], list[str]]:
    """``$addFields`` computing SPEC 8 sort keys for field keys, then ``$sort`` on their parts."""
    add: dict[str, Any] = {}
    order: list[tuple[str, int]] = []
    for i, sk in enumerate(query.sort):
        d = -1 if sk.descending else 1
        if isinstance(sk.key, A.RecordAttr):
            g = f"_s{i}g"
            add[g] = {"$cond": [{"$eq": [{"$ifNull": [f"${sk.key.name}", None]}, None]}, 0, 1]}
            order += [(g, d), (sk.key.name, d)]
            continue
        for j, part in enumerate(_sort_key(sk.key.type, sk.key.segments)):
            add[f"_s{i}_{j}"] = part
            order.append((f"_s{i}_{j}", d))
    order += [(attr, -1 if descending else 1) for attr, descending in DEFAULT_ORDER]
    sort: dict[str, int] = {}
    for k, d in order:
        sort.setdefault(k, d)
    stages: list[dict[str, Any]] = [{"$addFields": add}] if add else []
    stages.append({"$sort": sort})
    return stages, list(add)


# ---------------------------------------------------------------- keyset pagination
#: one place of the order: (field, descending, the cursor's value there, whether the field may be null)
_Place = tuple[str, bool, Any, bool]


def _places(query: A.Query, computed: bool) -> list[_Place]:
    """The cursor's places along the query's order, on the fields the sort reads.

    ``computed``: field keys read the ``_s{i}_{j}`` parts ``_sort_key`` adds (group, value, other),
    so the comparison is the sort's own by construction. A cursor rank maps to those parts: 0 is group
    0; 1 is group 1 and the value; 2 + kind is group 2, the kind and (numbers, strings, booleans) the
    value. Parts the cursor leaves null are null on every row equal to it so far, so they are dropped.
    Record attributes compare the stored field (null first ascending, as ``$sort`` puts it)."""
    c = query.after
    assert c is not None
    out: list[_Place] = []
    for i, (sk, ck) in enumerate(zip(query.sort, c.keys)):
        d = sk.descending
        if isinstance(sk.key, A.RecordAttr):
            out.append((sk.key.name, d, ck.value, sk.key.name == "updated_at"))
            continue
        assert computed
        if ck.rank < WRONG_TYPED:
            out.append((f"_s{i}_0", d, ck.rank, False))
            if ck.rank == WELL_TYPED:
                out.append((f"_s{i}_1", d, ck.value, False))
            continue
        out += [(f"_s{i}_0", d, WRONG_TYPED, False), (f"_s{i}_1", d, ck.rank - WRONG_TYPED, False)]
        if ck.value is not None:
            out.append((f"_s{i}_2", d, ck.value, False))
    out += [("created_at", True, c.created_at, False), ("id", False, c.id, False)]
    seen: set[str] = set()
    unique = []
    for p in out:  # a field met again is equal there already (as $sort keeps its first direction)
        if p[0] not in seen:
            seen.add(p[0])
            unique.append(p)
    return unique


def _beyond(place: _Place) -> Filter | None:
    """Rows strictly after the cursor at this place (None: none can be)."""
    name, desc, v, nullable = place
    if v is None:  # a null record attribute: first ascending, last descending
        return None if desc else {name: {"$type": "string"}}
    if not desc:
        return {name: {"$type": "string", "$gt": v} if nullable else {"$gt": v}}
    if nullable:
        return {"$or": [{name: {"$type": "string", "$lt": v}}, {name: None}]}
    return {name: {"$lt": v}}


def _after_filter(query: A.Query, computed: bool) -> Filter:
    """``Query.after`` (semantics.cursor.after) as a query filter: the rows after the cursor's place at
    the first place where they differ, ``$or`` of (equal on the places before, beyond at this one).

    On the record fields alone (the ``find`` form) each branch is equalities plus one range, which an
    index in the order's own key order serves as bounds. Within one place every row equal to the cursor
    so far holds a value of the cursor's kind there, so MongoDB's type brackets never come into play."""
    places = _places(query, computed)
    branches: list[Filter] = []
    for k, place in enumerate(places):
        beyond = _beyond(place)
        if beyond is None:
            continue
        eqs = [{name: v} for name, _, v, _ in places[:k]]
        branches.append({"$and": [*eqs, beyond]} if eqs else beyond)
    if not branches:
        return FALSE
    return branches[0] if len(branches) == 1 else {"$or": branches}


# ---------------------------------------------------------------- entry point
def to_mongo(
    query: A.Query | A.Node,
    catalog: CatalogSource | None = None,
    collections: Mapping[Any, str] | None = None,
) -> dict[str, Any]:
    """``{"collection", "filter", "sort", "skip", "limit", "projection"}`` for ``find``, or
    ``{"collection", "pipeline"}`` for ``aggregate`` (relational filters, keys a dotted path cannot name,
    sort keys on fields).

    ``sort`` is a list of ``[key, direction]`` pairs (order matters); ``limit`` None means none.
    """
    q = query if isinstance(query, A.Query) else A.Query(query)
    check_cursor(q)
    comp = _Compiler(collections or {})
    flt = comp.visit(q.predicate)
    if q.limit == 0:
        flt = FALSE
    projection: dict[str, Any] | None = None
    computed_projection = False
    if q.fields is not None:
        projection = {"_id": 0, "id": 1, "created_at": 1, "updated_at": 1, "removed_at": 1}
        if all(_dotted(k) for k in q.fields):
            projection.update({f"data.{k}": 1 for k in q.fields})
        else:  # keys a dotted path cannot name: keep the listed keys of data by name
            computed_projection = True
            projection["data"] = {
                "$arrayToObject": {
                    "$filter": {
                        "input": {"$objectToArray": "$data"},
                        "as": "kv",
                        "cond": {"$in": ["$$kv.k", _literal(list(q.fields))]},
                    }
                }
            }
    field_sort = any(not isinstance(s.key, A.RecordAttr) for s in q.sort)
    coll = comp.coll(q.database)
    scope = comp.scope
    if not scope.stages and not field_sort and not computed_projection:
        sort = [[s.key.name, -1 if s.descending else 1] for s in q.sort if isinstance(s.key, A.RecordAttr)]
        seen = {k for k, _ in sort}
        sort += [[k, d] for k, d in (("created_at", -1), ("id", 1)) if k not in seen]
        if q.after is not None and q.limit != 0:
            after = _after_filter(q, computed=False)
            flt = {"$and": [flt, after]} if flt else after
        return {
            "collection": coll,
            "filter": flt,
            "sort": sort,
            "skip": q.skip,
            "limit": None if q.limit in (None, 0) else q.limit,
            "projection": projection,
        }
    stages: list[dict[str, Any]] = [*scope.stages, {"$match": flt}]
    sort_stages, temp = _sort_stage(q)
    if q.after is not None and q.limit != 0:  # after the sort keys are computed, before the sort
        sort_stages.insert(-1, {"$match": _after_filter(q, computed=True)})
    stages += sort_stages
    if q.skip:
        stages.append({"$skip": q.skip})
    if q.limit:
        stages.append({"$limit": q.limit})
    drop = scope.temps + temp
    if projection is not None:
        stages.append({"$project": projection})
    elif drop:
        stages.append({"$project": {k: 0 for k in drop}})
    return {"collection": coll, "pipeline": stages}


def relations(query: A.Query) -> set[str]:
    """Databases a query's relational filters read (the collections a runner must load)."""
    return {n.database for n in A.walk(query.predicate) if isinstance(n, A.Relation)}
