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

from ..ast import (
    And,
    Compare,
    Const,
    CreatedAt,
    Field,
    FieldState,
    FieldType,
    IdIn,
    InTrash,
    ModifiedSince,
    Money,
    Node,
    Not,
    Op,
    Or,
    Query,
    RecordAttr,
    Relation,
    Search,
    State,
    walk,
)
from ..errors import Diagnostic, FilterError, Location

T = FieldType
Filter = dict[str, Any]
FALSE: Filter = {"_id": {"$in": []}}
NOT_ARRAY = {"$not": {"$type": "array"}}
_STRINGISH = (T.STRING, T.TEXT_BLOCK, T.ENUM, T.REF, T.JSON)
_NUM = (int, float)
_META = set("\\^$.|?*+()[]{}/")
_CMP = {Op.GT: "$gt", Op.GTE: "$gte", Op.LT: "$lt", Op.LTE: "$lte", Op.EQ: "$eq"}
#: A valid calendar day at the start of a string (SPEC 1.4), as a regex both Python and JS accept.
_D = "[0-9]"
_VALID_DAY = (
    f"^(?:(?!0000){_D}{{4}}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]{_D}|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]{_D}|30)"
    f"|02-(?:0[1-9]|1{_D}|2[0-8]))|(?:{_D}{_D}(?:0[48]|[2468][048]|[13579][26])|(?:[02468][048]|[13579][26])00)"
    "-02-29)")


def _bad(code: str, message: str) -> FilterError:
    return FilterError([Diagnostic(code, message, Location())])


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


def lower_regex(needle: str) -> str:
    """A pattern matching any text whose ``str.lower()`` contains ``needle.lower()`` at that place."""
    low = needle.lower()
    sources = _lower_sources()
    multi = sorted((k for k in sources if len(k) > 1), key=len, reverse=True)
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


def _str_regex(op: Op, value: str) -> str:
    body = lower_regex(value)
    if op is Op.STARTS_WITH:
        return "^" + body
    if op is Op.ENDS_WITH:
        return body + "(?![\\s\\S])"  # JS has no \\Z; Python's $ also matches before a final newline
    if op is Op.IEQ:
        return "^" + body + "(?![\\s\\S])"
    return body


def _succ(text: str) -> str:
    """The first string after every string that starts with ``text`` and is no longer than it."""
    return text[:-1] + chr(ord(text[-1]) + 1) if text else text


def _day_range(op: Op, val: str) -> dict[str, str] | None:
    """Bounds on the whole stored string equivalent to ``stored[:10] <op> val`` (SPEC 1.4 day compare).

    The stored head is a valid 10-character day, so comparing it with ``val`` reduces to comparing the
    whole string with a boundary derived from ``val``'s first 10 characters and its length.
    """
    lt = _succ(val[:10]) if len(val) > 10 else val  # head < val  <=> stored < lt
    lte = _succ(val[:10]) if len(val) >= 10 else val  # head <= val <=> stored < lte
    if op is Op.EQ:
        return {"$gte": val, "$lt": _succ(val)} if len(val) == 10 else None
    return {Op.LT: {"$lt": lt}, Op.LTE: {"$lt": lte}, Op.GT: {"$gte": lte}, Op.GTE: {"$gte": lt}}[op]


# ---------------------------------------------------------------- paths
def _canonical_index(seg: str) -> bool:
    return seg.isascii() and seg.isdigit() and (seg == "0" or seg[0] != "0")


def _check_seg(seg: str) -> None:
    if seg == "" or "." in seg or seg.startswith("$") or "\x00" in seg:
        raise _bad("not-expressible", f"MongoDB cannot name the key {seg!r} in a query path (empty, '.', a "
                   "leading '$' or NUL); use the SQL or in-memory backends for such keys")


class _Compiler:
    def __init__(self, collections: Mapping[Any, str]):
        self.collections = collections
        self.lookups: list[dict[str, Any]] = []
        self.n = 0

    def coll(self, database: str | None) -> str:
        name = self.collections.get(database)
        return name if name else ("records" if database is None else database)

    # -------------------------------------------------------------- paths and states
    def path(self, f: Field, base: str) -> tuple[str, list[Filter]]:
        """The dotted path of a field and the guards that stop implicit array traversal."""
        segs = f.segments
        for s in segs:
            _check_seg(s)
        guards: list[Filter] = []
        p = f"{base}data.{segs[0]}"
        for seg in segs[1:]:
            if not _canonical_index(seg):
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
        return {"$or": [{p: {"$eq": None, "$exists": True, **NOT_ARRAY}}, {p: {"$eq": "", **NOT_ARRAY}},
                        {p: {"$size": 0}}]}

    def state(self, node: FieldState, base: str) -> Filter:
        p, guards = self.path(node.field, base)
        present = self.all_of([*guards, {p: {"$exists": True}}])
        if node.state is State.NOT_SET:
            return {"$nor": [present]}
        if node.state is State.EMPTY:
            return self.all_of([*guards, self.empty(p)])
        return self.all_of([present, {"$nor": [self.empty(p)]}])

    # -------------------------------------------------------------- compares
    def compare(self, node: Compare, base: str) -> Filter:
        f, op, val = node.field, node.op, node.value
        p, guards = self.path(f, base)
        t = f.type
        if t is T.CURRENCY:
            money = val if isinstance(val, Money) else Money(val)  # type: ignore[arg-type]
            cond: list[Filter] = [{p: {"$type": "object", **NOT_ARRAY}},
                                  {p + ".val": {"$type": "number", **NOT_ARRAY, _CMP[op]: money.amount}}]
            if money.currency is not None:
                cond.append({p + ".currency": {"$eq": money.currency, **NOT_ARRAY}})
            return self.all_of([*guards, *cond])
        if t is T.ATTACHMENT:
            return self.all_of([*guards, {p: {"$type": "object", **NOT_ARRAY}},
                                self.string_op(p + ".val", op, val, exact=False)])
        if t is T.DATE:
            rng = _day_range(op, str(val))
            if rng is None:
                return FALSE
            return self.all_of([*guards, {p: {"$regex": _VALID_DAY, **NOT_ARRAY, **rng}}])
        if t is T.ENUM_TAGS:
            vals = list(val)  # type: ignore[arg-type]
            if op is Op.HAS_ANY:
                cond1: Filter = {p: {"$elemMatch": {"$in": vals}}}
            elif op is Op.HAS_ALL:
                cond1 = {p: {"$type": "array", "$all": vals}}
            else:  # HAS_EXACTLY: every element a listed string, every listed string present
                cond1 = {p: {"$type": "array", "$all": vals, "$not": {"$elemMatch": {"$nin": vals}}}}
            return self.all_of([*guards, cond1])
        if t is T.BOOLEAN or type(val) is bool:
            if op is not Op.EQ:
                return FALSE
            return self.all_of([*guards, {p: {"$eq": val, "$type": "bool"}}])
        if t is T.NUMBER or (t is T.JSON and type(val) in _NUM):
            return self.all_of([*guards, {p: {"$type": "number", **NOT_ARRAY, _CMP[op]: val}}])
        if op is Op.IN:
            return self.all_of([*guards, {p: {"$in": [v for v in val if isinstance(v, str)],  # type: ignore[union-attr]
                                              **NOT_ARRAY}}])
        if t in _STRINGISH and isinstance(val, str):
            exact = t is T.JSON and op in (Op.EQ, Op.IEQ)
            return self.all_of([*guards, self.string_op(p, op, val, exact)])
        raise _bad("unsupported", f"operator {op.value} on a {t.value} field")

    def string_op(self, p: str, op: Op, val: Any, exact: bool) -> Filter:
        """A string operator on the string at ``p``; "" is EMPTY and matches nothing unless ``exact``."""
        if not isinstance(val, str):
            return FALSE
        cond: dict[str, Any] = {"$type": "string", **NOT_ARRAY}
        if not exact:
            cond["$ne"] = ""
        if op is Op.EQ:
            if val == "" and not exact:
                return FALSE
            cond["$eq"] = val
        elif op in (Op.IEQ, Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH):
            cond["$regex"] = _str_regex(op, val)
        elif op in (Op.GT, Op.GTE, Op.LT, Op.LTE):
            cond[_CMP[op]] = val
        else:
            raise _bad("unsupported", f"operator {op.value} on strings")
        return {p: cond}

    # -------------------------------------------------------------- search, relations
    def search(self, node: Search, base: str) -> Filter:
        clauses = [c for c in node.clauses if c]
        if not clauses:
            return {}
        if node.fields is None:
            return self.search_schemaless(clauses, base)
        parts = []
        for clause in clauses:
            alts: list[Filter] = []
            for term in clause:
                rx = lower_regex(term)
                for f in node.fields:
                    p, guards = self.path(Field(f.key, f.type), base)
                    if f.type is T.ENUM_TAGS:
                        alts.append({p: {"$type": "array", "$elemMatch": {"$regex": rx}}})
                    else:
                        alts.append({p: {"$regex": rx, **NOT_ARRAY}})
            parts.append({"$or": alts} if alts else FALSE)
        return self.all_of(parts)

    def search_schemaless(self, clauses: list[tuple[str, ...]], base: str) -> Filter:
        """Any top-level string (or string element of a top-level list): needs $expr with $type."""
        root = f"${base}data"
        strings = {"$reduce": {
            "input": {"$objectToArray": {"$ifNull": [root, {}]}}, "initialValue": [],
            "in": {"$concatArrays": ["$$value", {"$cond": [
                {"$isArray": "$$this.v"}, {"$filter": {"input": "$$this.v", "as": "e",
                                                       "cond": {"$eq": [{"$type": "$$e"}, "string"]}}},
                {"$cond": [{"$eq": [{"$type": "$$this.v"}, "string"]}, ["$$this.v"], []]}]}]}}}
        conds = [{"$or": [{"$anyElementTrue": [{"$map": {"input": "$$s", "as": "x", "in": {
            "$regexMatch": {"input": "$$x", "regex": lower_regex(term)}}}}]} for term in clause]}
            for clause in clauses]
        return {"$expr": {"$let": {"vars": {"s": strings}, "in": {"$and": conds}}}}

    def relation(self, node: Relation, base: str) -> Filter:
        if base:
            raise _bad("not-expressible", "a relational filter inside another one needs correlated $lookup "
                       "pipelines; filterdsl's Mongo backend compiles one level of relation")
        p, guards = self.path(node.field, base)
        self.n += 1
        name = f"_rel{self.n}"
        self.lookups.append({"$lookup": {"from": self.coll(node.database), "localField": p, "foreignField": "id",
                                         "as": name}})
        inner = self.all_of([self.node(node.predicate, ""), {"removed_at": None}])
        typed: Filter = {p: {"$type": "array"}} if node.field.type is T.REF_MULTIPLE else \
            {p: {"$type": "string", **NOT_ARRAY}}
        return self.all_of([*guards, typed, {name: {"$elemMatch": inner}}])

    # -------------------------------------------------------------- logic
    def node(self, node: Node, base: str = "") -> Filter:
        if isinstance(node, Const):
            return {} if node.value else FALSE
        if isinstance(node, And):
            return self.all_of([self.node(i, base) for i in node.items])
        if isinstance(node, Or):
            items = [self.node(i, base) for i in node.items]
            if any(i == {} for i in items):
                return {}
            items = [i for i in items if i != FALSE]
            return FALSE if not items else items[0] if len(items) == 1 else {"$or": items}
        if isinstance(node, Not):
            inner = self.node(node.item, base)
            if inner == {}:
                return FALSE
            if inner == FALSE:
                return {}
            return {"$nor": [inner]}
        if isinstance(node, Compare):
            return self.compare(node, base)
        if isinstance(node, FieldState):
            return self.state(node, base)
        if isinstance(node, Search):
            return self.search(node, base)
        if isinstance(node, Relation):
            return self.relation(node, base)
        if isinstance(node, IdIn):
            return {f"{base}id": {"$in": list(node.ids)}} if node.ids else FALSE
        if isinstance(node, CreatedAt):
            rng: dict[str, Any] = {}
            if node.start is not None:
                rng["$gte"] = node.start
            if node.end is not None:
                rng["$lt"] = node.end
            return {f"{base}created_at": {"$type": "string", **rng}} if rng else {}
        if isinstance(node, ModifiedSince):
            return {"$or": [{f"{base}updated_at": {"$type": "string", "$gte": node.since}},
                            {f"{base}updated_at": None, f"{base}created_at": {"$gte": node.since}}]}
        if isinstance(node, InTrash):
            return {f"{base}removed_at": {"$ne": None}}
        raise _bad("unsupported", f"the Mongo backend cannot compile {type(node).__name__}")


# ---------------------------------------------------------------- sorting
def _sort_stage(query: Query) -> tuple[list[dict[str, Any]], list[str]]:
    """``$addFields`` computing SPEC 8 sort keys (group, value) for field keys, and the ``$sort``."""
    add: dict[str, Any] = {}
    order: list[tuple[str, int]] = []
    for i, sk in enumerate(query.sort):
        d = -1 if sk.descending else 1
        if isinstance(sk.key, RecordAttr):
            g = f"_s{i}g"
            add[g] = {"$cond": [{"$eq": [{"$ifNull": [f"${sk.key.name}", None]}, None]}, 0, 1]}
            order += [(g, d), (sk.key.name, d)]
            continue
        f = sk.key
        for s in f.segments:
            _check_seg(s)
        v = "$data." + ".".join(f.segments)
        typ = {"$type": v}
        empty = {"$or": [{"$in": [typ, ["missing", "null"]]}, {"$eq": [v, ""]},
                         {"$and": [{"$isArray": v}, {"$eq": [{"$size": {"$cond": [{"$isArray": v}, v, []]}}, 0]}]}]}
        num = {"$in": [typ, ["int", "long", "double", "decimal"]]}
        well = {T.STRING: {"$eq": [typ, "string"]}, T.TEXT_BLOCK: {"$eq": [typ, "string"]},
                T.ENUM: {"$eq": [typ, "string"]}, T.REF: {"$eq": [typ, "string"]}, T.NUMBER: num,
                T.BOOLEAN: {"$eq": [typ, "bool"]},
                T.DATE: {"$and": [{"$eq": [typ, "string"]},
                                  {"$regexMatch": {"input": {"$cond": [{"$eq": [typ, "string"]}, v, ""]},
                                                   "regex": _VALID_DAY}}]},
                T.CURRENCY: {"$and": [{"$eq": [typ, "object"]},
                                      {"$in": [{"$type": v + ".val"}, ["int", "long", "double", "decimal"]]}]},
                }.get(f.type)
        well_value: Any = {T.DATE: {"$substrCP": [v, 0, 10]}, T.CURRENCY: v + ".val"}.get(f.type, v)
        branches: list[dict[str, Any]] = [{"case": empty, "then": [0, None, None]}]
        if well is not None:
            branches.append({"case": well, "then": [1, well_value, None]})
        branches += [{"case": num, "then": [2, 0, v]}, {"case": {"$eq": [typ, "string"]}, "then": [2, 1, v]},
                     {"case": {"$eq": [typ, "bool"]}, "then": [2, 2, v]}]
        key = {"$switch": {"branches": branches, "default": [2, 3, v]}}
        for j in range(3):
            name = f"_s{i}_{j}"
            add[name] = {"$arrayElemAt": [key, j]}
            order.append((name, d))
    order += [("created_at", -1), ("id", 1)]
    sort: dict[str, int] = {}
    for k, d in order:
        sort.setdefault(k, d)
    stages: list[dict[str, Any]] = []
    if add:
        stages.append({"$addFields": add})
    stages.append({"$sort": sort})
    return stages, list(add)


# ---------------------------------------------------------------- entry point
def to_mongo(query: Query | Node, catalog: Any = None, collections: Mapping[Any, str] | None = None
             ) -> dict[str, Any]:
    """``{"collection", "filter", "sort", "skip", "limit", "projection"}`` for ``find``, or
    ``{"collection", "pipeline"}`` for ``aggregate`` (relational filters, sort keys on fields).

    ``sort`` is a list of ``[key, direction]`` pairs (order matters); ``limit`` None means none.
    """
    q = query if isinstance(query, Query) else Query(query)
    comp = _Compiler(collections or {})
    flt = comp.node(q.predicate)
    if q.limit == 0:
        flt = FALSE
    projection = None
    if q.fields is not None:
        for k in q.fields:
            _check_seg(k)
        projection = {"_id": 0, "id": 1, "created_at": 1, "updated_at": 1, "removed_at": 1,
                      **{f"data.{k}": 1 for k in q.fields}}
    field_sort = any(not isinstance(s.key, RecordAttr) for s in q.sort)
    coll = comp.coll(q.database)
    if not comp.lookups and not field_sort:
        sort = [[s.key.name, -1 if s.descending else 1] for s in q.sort if isinstance(s.key, RecordAttr)]
        seen = {k for k, _ in sort}
        sort += [[k, d] for k, d in (("created_at", -1), ("id", 1)) if k not in seen]
        return {"collection": coll, "filter": flt, "sort": sort, "skip": q.skip,
                "limit": None if q.limit in (None, 0) else q.limit, "projection": projection}
    stages: list[dict[str, Any]] = [*comp.lookups, {"$match": flt}]
    sort_stages, temp = _sort_stage(q)
    stages += sort_stages
    if q.skip:
        stages.append({"$skip": q.skip})
    if q.limit:
        stages.append({"$limit": q.limit})
    drop = [f"_rel{i}" for i in range(1, comp.n + 1)] + temp
    if projection is not None:
        stages.append({"$project": projection})
    elif drop:
        stages.append({"$project": {k: 0 for k in drop}})
    return {"collection": coll, "pipeline": stages}


def relations(query: Query) -> set[str]:
    """Databases a query's relational filters read (the collections a runner must load)."""
    return {n.database for n in walk(query.predicate) if isinstance(n, Relation)}
