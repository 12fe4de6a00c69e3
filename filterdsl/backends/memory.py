"""In-memory backend: the reference implementation of the SPEC semantics.

The predicate is compiled once into one generated Python function (no per-record tree walking). User
values and field keys are bound as constants in the function's namespace (``c0``, ``c1``...), never
spliced into the source text, so no input can change the generated code's shape.
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from filterdsl import ast as A
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.schema import CatalogSource
from filterdsl.semantics.cursor import after, check_cursor
from filterdsl.semantics.paths import MISSING, get_path
from filterdsl.semantics.sorting import (
    DEFAULT_ORDER,
    EMPTY,
    KIND_RANK,
    WELL_TYPED,
    WRONG_TYPED,
    is_empty,
    kind_of,
    orders_by_value,
    valid_head,
    well_typed,
)
from filterdsl.semantics.text import search_texts, search_texts_in, search_texts_of

T = A.FieldType
Doc = dict[str, Any]
Dataset = Mapping[Any, list[Doc]]
_NUM = (int, float)
_STRINGISH = (T.STRING, T.TEXT_BLOCK, T.ENUM, T.JSON, T.REF)


class _Codegen(A.Visitor[str]):
    """Turns a predicate into the source of one expression over ``r`` (record) and ``d`` (its data)."""

    def __init__(self, dataset: Dataset | None):
        self.dataset = dataset
        self.ns: dict[str, Any] = {
            "_NUM": _NUM,
            "_M": MISSING,
            "_get_path": get_path,
            "_vh": valid_head,
            "type": type,
            "str": str,
            "list": list,
            "dict": dict,
            "set": set,
            "any": any,
            "all": all,
        }
        self.n = 0

    def const(self, value: Any) -> str:
        name = f"c{len(self.ns)}"
        self.ns[name] = value
        return name

    def var(self) -> str:
        # Two names alternate: a leaf binds at most two and reads them only inside itself, so reuse
        # across leaves is safe, and few locals keep CPython's compile() linear in filter size.
        self.n += 1
        return f"_v{self.n & 1}"

    def access(self, f: A.Field) -> str:
        if f.path:
            return f"_get_path(d, {self.const(f.segments)})"
        return f"d.get({self.const(f.key)}, _M)"

    def visit_const(self, node: A.Const) -> str:
        return "True" if node.value else "False"

    def visit_and(self, node: A.And) -> str:  # an empty AND is TRUE and an empty OR FALSE
        return "(" + (" and ".join(self.and_items(node.items)) or "True") + ")"

    def visit_or(self, node: A.Or) -> str:
        return "(" + (" or ".join(self.visit(i) for i in node.items) or "False") + ")"

    def visit_not(self, node: A.Not) -> str:
        if isinstance(node.item, A.InTrash):
            return "(r['removed_at'] is None)"
        return f"(not {self.visit(node.item)})"

    def visit_field_state(self, node: A.FieldState) -> str:
        v = self.var()
        get = f"({v} := {self.access(node.field)})"
        if node.state is A.State.NOT_SET:
            return f"({get} is _M)"
        if node.state is A.State.EMPTY:
            return f"({get} is None or {v} == '' or {v} == [])"
        return f"({get} is not _M and {v} is not None and {v} != '' and {v} != [])"

    def visit_id_in(self, node: A.IdIn) -> str:
        return f"(r['id'] in {self.const(frozenset(node.ids))})"

    def visit_created_at(self, node: A.CreatedAt) -> str:
        parts = []
        if node.start is not None:
            parts.append(f"r['created_at'] >= {self.const(node.start)}")
        if node.end is not None:
            parts.append(f"r['created_at'] < {self.const(node.end)}")
        return "(" + (" and ".join(parts) or "True") + ")"

    def visit_modified_since(self, node: A.ModifiedSince) -> str:
        return f"((r.get('updated_at') or r['created_at']) >= {self.const(node.since)})"

    def visit_in_trash(self, node: A.InTrash) -> str:
        return "(r.get('removed_at') is not None)"

    def and_items(self, items: tuple[A.Node, ...]) -> list[str]:
        """Compares on one field under one guard share a single lookup (e.g. ranges)."""
        groups: dict[tuple[Any, ...], list[A.Compare]] = {}
        order: list[A.Node | tuple[Any, ...]] = []
        for it in items:
            kind = self.guard_kind(it) if isinstance(it, A.Compare) else None
            if kind is None or not isinstance(it, A.Compare):
                order.append(it)
                continue
            gk = (it.field, kind)
            if gk not in groups:
                groups[gk] = []
                order.append(gk)
            groups[gk].append(it)
        out = []
        for o in order:
            if isinstance(o, A.Node):
                out.append(self.visit(o))
                continue
            nodes = groups[o]
            if len(nodes) == 1:
                out.append(self.visit_compare(nodes[0]))
                continue
            v = self.var()
            x = f"({v} := {self.access(o[0])})"
            if o[1] == "num":
                conds = [f"{v} {_PYOP[n.op]} {self.const(n.value)}" for n in nodes]
                out.append(f"(type({x}) in _NUM and " + " and ".join(conds) + ")")
            elif o[1] == "date":
                h = self.var()
                conds = [f"{h} {_PYOP[n.op]} {self.const(n.value)}" for n in nodes]
                out.append(f"(type({x}) is str and _vh({h} := {v}[:10]) and " + " and ".join(conds) + ")")
            else:
                conds = [self._str_op(v, n.op, n.value) for n in nodes]
                out.append(f"(type({x}) is str and {v} != '' and " + " and ".join(conds) + ")")
        return out

    @staticmethod
    def guard_kind(node: A.Compare) -> str | None:
        t, val = node.field.type, node.value
        if t is T.NUMBER or (t is T.JSON and type(val) in _NUM):
            return "num"
        if t is T.DATE:
            return "date"
        if t in _STRINGISH and type(val) is str and node.op in _STR_OPS and not _exact_json(node):
            return "str"
        return None

    def visit_compare(self, node: A.Compare) -> str:
        f, op, val = node.field, node.op, node.value
        v = self.var()
        x = f"({v} := {self.access(f)})"
        t = f.type
        if t is T.CURRENCY:
            money = val if isinstance(val, A.Money) else A.Money(val)  # type: ignore[arg-type]
            a = self.var()
            cond = f"type({x}) is dict and type({a} := {v}.get('val')) in _NUM and {a} {_PYOP[op]} {self.const(money.amount)}"
            if money.currency is not None:
                cond += f" and {v}.get('currency') == {self.const(money.currency)}"
            return f"({cond})"
        if t is T.ATTACHMENT:
            u = self.var()
            return (
                f"(type({x}) is dict and type({u} := {v}.get('val')) is str and {u} != '' and "
                f"{self._str_op(u, op, val)})"
            )
        if t is T.DATE:
            h = self.var()
            return f"(type({x}) is str and _vh({h} := {v}[:10]) and {h} {_PYOP[op]} {self.const(val)})"
        if t is T.ENUM_TAGS:
            s = self.const(frozenset(val))  # type: ignore[arg-type]
            if op is A.Op.HAS_ANY:
                return f"(type({x}) is list and any(type(e) is str and e in {s} for e in {v}))"
            if op is A.Op.HAS_ALL:
                return f"(type({x}) is list and {s} <= {{e for e in {v} if type(e) is str}})"
            if op is A.Op.HAS_EXACTLY:
                return f"(type({x}) is list and all(type(e) is str for e in {v}) and set({v}) == {s})"
        if t is T.BOOLEAN or type(val) is bool:
            return f"({x} is {self.const(val)})" if op is A.Op.EQ else "False"
        if t is T.NUMBER or (t is T.JSON and type(val) in _NUM):
            return f"(type({x}) in _NUM and {v} {_PYOP[op]} {self.const(val)})"
        if op is A.Op.IN:
            return f"(type({x}) is str and {v} in {self.const(frozenset(val))})"  # type: ignore[arg-type]
        if _exact_json(node):  # PixieBrix data__k= is JSON-string equality: "" matches "" (SPEC 4)
            return f"(type({x}) is str and {self._str_op(v, op, val)})"
        # "" is EMPTY, so no string operator (not even contains "") matches it.
        return f"(type({x}) is str and {v} != '' and {self._str_op(v, op, val)})"

    def _str_op(self, v: str, op: A.Op, val: Any) -> str:
        if op is A.Op.EQ:
            return f"{v} == {self.const(val)}"
        if op is A.Op.IEQ:
            return f"{v}.lower() == {self.const(val.lower())}"
        if op is A.Op.CONTAINS:
            return f"{self.const(val.lower())} in {v}.lower()"
        if op is A.Op.STARTS_WITH:
            return f"{v}.lower().startswith({self.const(val.lower())})"
        if op is A.Op.ENDS_WITH:
            return f"{v}.lower().endswith({self.const(val.lower())})"
        if op in _PYOP:
            return f"{v} {_PYOP[op]} {self.const(val)}"
        raise FilterError(
            [Diagnostic("unsupported", f"operator {op.value} on strings", Location(pointer=""))]
        )

    def visit_relation(self, node: A.Relation) -> str:
        rows = _rows_of(self.dataset, node.database)
        inner = compile_predicate(node.predicate, self.dataset)
        ids = frozenset(r["id"] for r in rows if r.get("removed_at") is None and inner(r))
        s = self.const(ids)
        v = self.var()
        x = f"({v} := {self.access(node.field)})"
        if node.field.type is T.REF_MULTIPLE:
            return f"(type({x}) is list and any(type(e) is str and e in {s} for e in {v}))"
        return f"(type({x}) is str and {v} in {s})"

    def visit_search(self, node: A.Search) -> str:
        clauses = tuple(tuple(t.lower() for t in c) for c in node.clauses if c)
        if not clauses:
            return "True"
        if node.fields is None:
            texts: Callable[[dict[str, Any]], list[str]] = search_texts
        else:
            pairs = tuple((f.key, f.type is T.ENUM_TAGS) for f in node.fields)
            keys = dict(pairs)
            # by the record's keys when they are fewer (a key listed twice: the plain walk)
            texts = (
                functools.partial(search_texts_in, keys)
                if len(keys) == len(pairs)
                else functools.partial(search_texts_of, pairs)
            )
        # Unrolled (terms stay bound constants): nested generators cost ~40% more per record.
        tf, v = self.const(texts), self.var()
        parts = [f"any({' or '.join(f'{self.const(t)} in _s' for t in c)} for _s in {v})" for c in clauses]
        return f"(({' and '.join(parts)}) if ({v} := {tf}(d)) is not None else False)"


def _exact_json(node: A.Compare) -> bool:
    """Equality on a schemaless JSON value compares the string exactly, the empty string included."""
    return node.field.type is T.JSON and node.op in (A.Op.EQ, A.Op.IEQ) and type(node.value) is str


_PYOP = {A.Op.EQ: "==", A.Op.GT: ">", A.Op.GTE: ">=", A.Op.LT: "<", A.Op.LTE: "<="}
_STR_OPS = (
    A.Op.EQ,
    A.Op.IEQ,
    A.Op.CONTAINS,
    A.Op.STARTS_WITH,
    A.Op.ENDS_WITH,
    A.Op.GT,
    A.Op.GTE,
    A.Op.LT,
    A.Op.LTE,
)


def _rows_of(dataset: Dataset | None, database: str) -> list[Doc]:
    if dataset is None or database not in dataset:
        raise FilterError(
            [
                Diagnostic(
                    "missing-data",
                    f"a relational filter needs the records of database "
                    f"{database!r} (pass them with the dataset)",
                    Location(param="related"),
                )
            ]
        )
    return dataset[database]


def compile_predicate(
    node: A.Node, dataset: Dataset | None = None, normalize: Callable[[Any], Doc] | None = None
) -> Callable[[Doc], bool]:
    """Compile a predicate into a function over canonical documents.

    With ``normalize``, records that are not canonical documents (no ``removed_at`` key) are passed
    through it first, inside the same generated function (no extra call on the fast path).
    """
    if A.depth(node) > MAX_DEPTH:
        raise FilterError(
            [
                Diagnostic(
                    "too-deep",
                    f"the in-memory compiler takes ASTs up to {MAX_DEPTH} levels "
                    "deep (frontends stop far earlier: Limits.max_depth)",
                    Location(pointer=""),
                )
            ]
        )
    gen = _Codegen(dataset)
    if normalize is not None:
        gen.ns["_norm"] = normalize
    body = gen.visit(node)  # every leaf is a bool, so the and/or chain is one too
    # Constants become closure cells of a factory: as fast to read as locals, and (unlike keyword-only
    # defaults, which CPython fills on every call) free per call. CPython's compile() grows
    # quadratically with the number of cells, so huge filters read them as globals of the function.
    consts = [k for k in gen.ns if k.startswith(("c", "_norm"))] + ["_NUM", "_M", "_get_path", "_vh"]
    check = (
        "        if type(r) is not dict or 'removed_at' not in r:\n            r = _norm(r)\n"
        if normalize
        else ""
    )
    cells = consts if len(consts) <= _MAX_CELLS else []
    src = (
        f"def _make({', '.join(cells)}):\n    def _pred(r):\n{check}        d = r['data']\n"
        f"        return {body}\n    return _pred\n"
    )
    code = compile(src, "<filterdsl predicate>", "exec")
    ns = dict(gen.ns)
    exec(code, ns)  # noqa: S102 - source built only from node structure; values live in ns
    fn: Callable[[Doc], bool] = ns["_make"](*[ns[k] for k in cells])
    return fn


#: Most constants bound as closure cells (above: globals; compile time stays linear).
_MAX_CELLS = 512

#: Deepest AST the generated code can nest (Python's parser allows 200 nested parentheses).
MAX_DEPTH = 120


# ---------------------------------------------------------------- sorting
_EMPTY_KEY = (EMPTY,)


def sort_value(ftype: A.FieldType, v: Any) -> tuple[Any, ...]:
    """Total-order key for one value (semantics.sorting): empties, well-typed values, wrong types."""
    if v is MISSING or is_empty(v):
        return _EMPTY_KEY
    ok, value = well_typed(ftype, v)
    if ok:
        return (WELL_TYPED, value)
    kind = kind_of(v)
    return (WRONG_TYPED, KIND_RANK[kind], v) if orders_by_value(kind) else (WRONG_TYPED, KIND_RANK[kind])


def _key_func(key: A.Field | A.RecordAttr) -> Callable[[Doc], tuple[Any, ...]]:
    if isinstance(key, A.RecordAttr):
        name = key.name
        return lambda r: _EMPTY_KEY if r.get(name) is None else (1, r[name])
    if key.path:
        segs = key.segments
        return lambda r: sort_value(key.type, get_path(r["data"], segs))
    k, t = key.key, key.type
    return lambda r: sort_value(t, r["data"].get(k, MISSING))


def sort_docs(docs: list[Doc], sort: Iterable[A.SortKey]) -> list[Doc]:
    """Default order first, then each key from last to first (stable sorts compose)."""
    out = list(docs)
    for attr, descending in reversed(DEFAULT_ORDER):
        out.sort(key=operator.itemgetter(attr), reverse=descending)
    for sk in reversed(tuple(sort)):
        out.sort(key=_key_func(sk.key), reverse=sk.descending)
    return out


# ---------------------------------------------------------------- whole query
def rows_for(query: A.Query, dataset: Dataset) -> list[Doc]:
    if query.database in dataset:
        return dataset[query.database]
    if None in dataset:
        return dataset[None]
    if len(dataset) == 1:
        return next(iter(dataset.values()))
    raise FilterError(
        [Diagnostic("missing-data", f"no records for database {query.database!r}", Location(param="records"))]
    )


def project(doc: Doc, fields: tuple[str, ...] | None) -> Doc:
    if fields is None:
        return doc
    data = doc["data"]
    return {**doc, "data": {k: data[k] for k in fields if k in data}}


def run(query: A.Query, dataset: Dataset, catalog: CatalogSource | None = None) -> list[Doc]:
    """Filter, sort, skip, limit and project; returns canonical documents in result order."""
    docs = rows_for(query, dataset)
    pred = compile_predicate(query.predicate, dataset)
    hits = [r for r in docs if pred(r)]
    if query.after is not None:  # keyset: the rows after the cursor's row in the query's order
        check_cursor(query)
        is_after = after(query)
        hits = [r for r in hits if is_after(r)]
    hits = sort_docs(hits, query.sort)
    end = None if query.limit is None else query.skip + query.limit
    return [project(r, query.fields) for r in hits[query.skip : end]]
