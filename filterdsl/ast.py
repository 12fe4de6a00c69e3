"""The one typed AST every frontend produces and every backend consumes.

Nodes are frozen dataclasses: immutable, hashable, safe to share between threads and to use as cache
keys. A field predicate carries the field's type (resolved from the schema by the frontend), so
backends never re-derive types. Negative operators do not exist here: ``is-not x`` is
``Not(Compare(eq x))``, which makes every negation the exact complement of its positive twin.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

AST_JSON_VERSION = 1


class FieldType(str, Enum):
    STRING = "string"
    TEXT_BLOCK = "textBlock"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    CURRENCY = "currency"
    ATTACHMENT = "attachment"
    ENUM = "enum"
    ENUM_TAGS = "enumTags"
    REF = "ref"
    REF_MULTIPLE = "refMultiple"
    #: A schemaless value (PixieBrix ``data`` paths): operators are type-strict on the stored JSON.
    JSON = "json"


class Op(str, Enum):
    EQ = "eq"  # is
    CONTAINS = "contains"  # case-insensitive substring
    STARTS_WITH = "starts_with"  # case-insensitive prefix
    ENDS_WITH = "ends_with"  # case-insensitive suffix
    IEQ = "ieq"  # case-insensitive equality (PixieBrix __iexact, extended lookups only)
    GT = "gt"  # is-more-than / is-after
    GTE = "gte"  # is-at-least / is-on-or-after
    LT = "lt"  # is-less-than / is-before
    LTE = "lte"  # is-at-most / is-on-or-before
    IN = "in"  # is-any-of (enum), __in
    HAS_ANY = "has_any"  # enumTags has-any-of
    HAS_ALL = "has_all"  # enumTags has-all-of
    HAS_EXACTLY = "has_exactly"  # enumTags is-exactly (set equality)


class State(str, Enum):
    NOT_SET = "not_set"  # key absent
    EMPTY = "empty"  # null, "" or []
    HAS_VALUE = "has_value"  # anything else


@dataclass(frozen=True)
class Money:
    """A currency filter value; ``currency`` None compares amounts only."""

    amount: int | float
    currency: str | None = None


Value = str | int | float | bool | tuple | Money


@dataclass(frozen=True)
class Field:
    """A record value: ``data[key]`` then, for schemaless paths, ``path`` segments below it."""

    key: str
    type: FieldType = FieldType.JSON
    path: tuple[str, ...] = ()

    @property
    def segments(self) -> tuple[str, ...]:
        return (self.key, *self.path)


@dataclass(frozen=True)
class RecordAttr:
    """A record-level attribute usable as a sort key: ``id``, ``created_at`` or ``updated_at``."""

    name: str


class Node:
    """Base class of predicate nodes."""

    __slots__ = ()

    def children(self) -> tuple[Node, ...]:
        return ()


@dataclass(frozen=True)
class Const(Node):
    value: bool


TRUE = Const(True)
FALSE = Const(False)


@dataclass(frozen=True)
class And(Node):
    items: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True)
class Or(Node):
    items: tuple[Node, ...]

    def children(self) -> tuple[Node, ...]:
        return self.items


@dataclass(frozen=True)
class Not(Node):
    item: Node

    def children(self) -> tuple[Node, ...]:
        return (self.item,)


@dataclass(frozen=True)
class Compare(Node):
    field: Field
    op: Op
    value: Value


@dataclass(frozen=True)
class FieldState(Node):
    field: Field
    state: State


@dataclass(frozen=True)
class Relation(Node):
    """Some live row of ``database`` referenced by ``field`` satisfies ``predicate``."""

    field: Field
    database: str
    predicate: Node

    def children(self) -> tuple[Node, ...]:
        return (self.predicate,)


@dataclass(frozen=True)
class Search(Node):
    """AND of ORs of case-insensitive terms; ``fields`` None means schemaless (any top-level string)."""

    clauses: tuple[tuple[str, ...], ...]
    fields: tuple[Field, ...] | None = None


@dataclass(frozen=True)
class IdIn(Node):
    ids: tuple[str, ...]


@dataclass(frozen=True)
class CreatedAt(Node):
    """``start <= created_at < end``; bounds are canonical timestamps (see records.canonical_ts)."""

    start: str | None = None
    end: str | None = None


@dataclass(frozen=True)
class ModifiedSince(Node):
    """``coalesce(updated_at, created_at) >= since``."""

    since: str


@dataclass(frozen=True)
class InTrash(Node):
    """The record's ``removed_at`` is set."""


@dataclass(frozen=True)
class SortKey:
    key: Field | RecordAttr
    descending: bool = False


@dataclass(frozen=True)
class Query:
    """A predicate plus the options around it. ``limit`` None means no limit."""

    predicate: Node = TRUE
    sort: tuple[SortKey, ...] = ()
    skip: int = 0
    limit: int | None = None
    fields: tuple[str, ...] | None = None
    database: str | None = None


# ---------------------------------------------------------------- builders
def and_(*items: Node) -> Node:
    """n-ary AND that flattens nested ANDs and drops TRUE; FALSE absorbs."""
    out: list[Node] = []
    for it in items:
        kind = type(it)
        if kind is And:
            out.extend(it.items)  # type: ignore[attr-defined]
        elif kind is Const:  # an identity test, not dataclass __eq__ (the hot path of every frontend)
            if not it.value:  # type: ignore[attr-defined]
                return FALSE
        else:
            out.append(it)
    if not out:
        return TRUE
    return out[0] if len(out) == 1 else And(tuple(out))


def or_(*items: Node) -> Node:
    """n-ary OR that flattens nested ORs and drops FALSE; TRUE absorbs."""
    out: list[Node] = []
    for it in items:
        kind = type(it)
        if kind is Or:
            out.extend(it.items)  # type: ignore[attr-defined]
        elif kind is Const:
            if it.value:  # type: ignore[attr-defined]
                return TRUE
        else:
            out.append(it)
    if not out:
        return FALSE
    return out[0] if len(out) == 1 else Or(tuple(out))


def not_(item: Node) -> Node:
    if isinstance(item, Not):
        return item.item
    if isinstance(item, Const):
        return Const(not item.value)
    return Not(item)


# ---------------------------------------------------------------- traversal
def walk(node: Node) -> Iterator[Node]:
    """Pre-order iteration without recursion (safe on any depth)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children()))


def count_nodes(node: Node) -> int:
    return sum(1 for _ in walk(node))


def depth(node: Node) -> int:
    return size_and_depth(node)[1]


def size_and_depth(node: Node) -> tuple[int, int]:
    """Node count and depth in one iterative pass (limits are checked on every parse)."""
    count = best = 0
    stack = [(node, 1)]
    pop, push = stack.pop, stack.append
    while stack:
        n, d = pop()
        count += 1
        if d > best:
            best = d
        for c in n.children():
            push((c, d + 1))
    return count, best


class Visitor:
    """Dispatches ``visit_<ClassName>``; subclasses implement one method per node type."""

    def visit(self, node: Any) -> Any:
        method = getattr(self, "visit_" + type(node).__name__, None)
        if method is None:
            raise NotImplementedError(f"{type(self).__name__} cannot handle {type(node).__name__}")
        return method(node)


# ---------------------------------------------------------------- JSON form
def _value_to_json(v: Value) -> Any:
    if isinstance(v, Money):
        return {"money": v.amount, "currency": v.currency}
    if isinstance(v, tuple):
        return list(v)
    return v


def _scalar(v: Any) -> Any:
    if isinstance(v, float) and v != v or v in (float("inf"), float("-inf")):
        raise ValueError("numbers are finite")
    if v is None or not isinstance(v, (str, int, float, bool)):
        raise TypeError(f"a value is a string, number or boolean, not {type(v).__name__}")
    return v


def _value_from_json(v: Any) -> Value:
    if isinstance(v, dict):
        amount, cur = v["money"], v.get("currency")
        if (
            isinstance(amount, bool)
            or not isinstance(amount, (int, float))
            or not (cur is None or isinstance(cur, str))
        ):
            raise TypeError('money is {"money": number, "currency": string or null}')
        return Money(_scalar(amount), cur)
    if isinstance(v, list):
        return tuple(_scalar(e) for e in v)
    return _scalar(v)


def _field_to_json(f: Field) -> dict[str, Any]:
    out: dict[str, Any] = {"key": f.key, "type": f.type.value}
    if f.path:
        out["path"] = list(f.path)
    return out


def _field_from_json(o: dict[str, Any]) -> Field:
    key, path = o["key"], o.get("path", ())
    if (
        not isinstance(key, str)
        or not isinstance(path, list | tuple)
        or not all(isinstance(p, str) for p in path)
    ):
        raise TypeError('a field is {"key": string, "type": type, "path"?: [strings]}')
    return Field(key, FieldType(o["type"]), tuple(path))


def _leaf_to_json(node: Node) -> dict[str, Any]:
    if isinstance(node, Const):
        return {"node": "const", "value": node.value}
    if isinstance(node, Compare):
        return {
            "node": "compare",
            "field": _field_to_json(node.field),
            "op": node.op.value,
            "value": _value_to_json(node.value),
        }
    if isinstance(node, FieldState):
        return {"node": "state", "field": _field_to_json(node.field), "state": node.state.value}
    if isinstance(node, Search):
        return {
            "node": "search",
            "clauses": [list(c) for c in node.clauses],
            "fields": None if node.fields is None else [_field_to_json(f) for f in node.fields],
        }
    if isinstance(node, IdIn):
        return {"node": "id_in", "ids": list(node.ids)}
    if isinstance(node, CreatedAt):
        return {"node": "created_at", "start": node.start, "end": node.end}
    if isinstance(node, ModifiedSince):
        return {"node": "modified_since", "since": node.since}
    if isinstance(node, InTrash):
        return {"node": "in_trash"}
    raise TypeError(f"not an AST node: {node!r}")


def node_to_json(node: Node) -> dict[str, Any]:
    """JSON form of a predicate; iterative, so any depth serialises."""
    done: dict[int, dict[str, Any]] = {}
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        n, expanded = stack.pop()
        kids = n.children()
        if kids and not expanded:
            stack.append((n, True))
            stack.extend((c, False) for c in kids)
            continue
        parts = [done[id(c)] for c in kids]
        if isinstance(n, (And, Or)):
            done[id(n)] = {"node": type(n).__name__.lower(), "items": parts}
        elif isinstance(n, Not):
            done[id(n)] = {"node": "not", "item": parts[0]}
        elif isinstance(n, Relation):
            done[id(n)] = {
                "node": "relation",
                "field": _field_to_json(n.field),
                "database": n.database,
                "predicate": parts[0],
            }
        else:
            done[id(n)] = _leaf_to_json(n)
    return done[id(node)]


def _json_children(o: Any) -> list[Any]:
    if not isinstance(o, dict):
        raise TypeError(f"an AST node is an object, not {type(o).__name__}")
    kind = o.get("node")
    if kind in ("and", "or"):
        items = o["items"]
        if not isinstance(items, list):
            raise TypeError("items is a list")
        return items
    if kind == "not":
        return [o["item"]]
    if kind == "relation":
        return [o["predicate"]]
    return []


def _leaf_from_json(o: dict[str, Any]) -> Node:
    kind = o["node"]
    if kind == "const":
        if not isinstance(o["value"], bool):
            raise TypeError("const value is true or false")
        return Const(o["value"])
    if kind == "compare":
        return Compare(_field_from_json(o["field"]), Op(o["op"]), _value_from_json(o["value"]))
    if kind == "state":
        return FieldState(_field_from_json(o["field"]), State(o["state"]))
    if kind == "search":
        fs = o.get("fields")
        return Search(
            tuple(tuple(str(t) for t in c) for c in o["clauses"]),
            None if fs is None else tuple(_field_from_json(f) for f in fs),
        )
    if kind == "id_in":
        return IdIn(tuple(str(i) for i in o["ids"]))
    if kind == "created_at":
        return CreatedAt(o.get("start"), o.get("end"))
    if kind == "modified_since":
        return ModifiedSince(str(o["since"]))
    if kind == "in_trash":
        return InTrash()
    raise ValueError(f"unknown node kind {kind!r}")


def node_from_json(o: Any, max_nodes: int = 1_000_000) -> Node:
    """Inverse of :func:`node_to_json`; iterative like it, and bounded (a cyclic object cannot hang it)."""
    done: dict[int, Node] = {}
    stack: list[tuple[Any, bool]] = [(o, False)]
    seen = 0
    while stack:
        j, expanded = stack.pop()
        seen += 1
        if seen > 2 * max_nodes:
            raise ValueError(f"more than {max_nodes} nodes")
        kids = _json_children(j)
        if kids and not expanded:
            stack.append((j, True))
            stack.extend((c, False) for c in kids)
            continue
        parts = [done[id(c)] for c in kids]
        kind = j["node"]
        if kind in ("and", "or"):
            done[id(j)] = (And if kind == "and" else Or)(tuple(parts))
        elif kind == "not":
            done[id(j)] = Not(parts[0])
        elif kind == "relation":
            done[id(j)] = Relation(_field_from_json(j["field"]), str(j["database"]), parts[0])
        else:
            done[id(j)] = _leaf_from_json(j)
    return done[id(o)]


def _sortkey_to_json(s: SortKey) -> dict[str, Any]:
    key: dict[str, Any] = {"attr": s.key.name} if isinstance(s.key, RecordAttr) else _field_to_json(s.key)
    return {"key": key, "descending": s.descending}


def _sortkey_from_json(o: dict[str, Any]) -> SortKey:
    k = o["key"]
    if "attr" in k and k["attr"] not in ("id", "created_at", "updated_at"):
        raise ValueError(f"sort attribute {k['attr']!r} is not id, created_at or updated_at")
    key: Field | RecordAttr = RecordAttr(k["attr"]) if "attr" in k else _field_from_json(k)
    if not isinstance(o["descending"], bool):
        raise TypeError("descending is true or false")
    return SortKey(key, o["descending"])


def to_json(query: Query | Node) -> dict[str, Any]:
    """Stable, versioned JSON form of a query (or a bare predicate, wrapped in a default query)."""
    if isinstance(query, Node):
        query = Query(query)
    return {
        "filterdsl_ast": AST_JSON_VERSION,
        "database": query.database,
        "predicate": node_to_json(query.predicate),
        "sort": [_sortkey_to_json(s) for s in query.sort],
        "skip": query.skip,
        "limit": query.limit,
        "fields": None if query.fields is None else list(query.fields),
    }


def from_json(o: dict[str, Any]) -> Query:
    """Inverse of :func:`to_json`; raises FilterError on anything malformed."""
    from .errors import Diagnostic, FilterError, Location

    try:
        if o.get("filterdsl_ast") != AST_JSON_VERSION:
            raise ValueError(f"unsupported AST JSON version {o.get('filterdsl_ast')!r}")
        fs, skip, limit, db = o.get("fields"), o.get("skip", 0), o.get("limit"), o.get("database")
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise ValueError("skip is an integer >= 0")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValueError("limit is null or an integer >= 0")
        if fs is not None and not (isinstance(fs, list) and all(isinstance(f, str) for f in fs)):
            raise ValueError("fields is null or a list of strings")
        if db is not None and not isinstance(db, str):
            raise ValueError("database is null or a string")
        return Query(
            predicate=node_from_json(o["predicate"]),
            sort=tuple(_sortkey_from_json(s) for s in o.get("sort", ())),
            skip=skip,
            limit=limit,
            fields=None if fs is None else tuple(fs),
            database=db,
        )
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as e:
        why = f"missing key {e.args[0]!r}" if isinstance(e, KeyError) else str(e)
        raise FilterError(
            [Diagnostic("bad-ast-json", f"not a valid filterdsl AST JSON: {why}", Location(pointer=""))]
        ) from None


def node_pointer(root: Query | Node, target: Any) -> str:
    """JSON Pointer of ``target`` (a node or sort key, found by identity) in ``to_json(root)``: where
    a diagnostic about an AST points. The whole query (``""``) when it is not part of ``root``."""
    if isinstance(root, Query):
        for i, key in enumerate(root.sort):
            if key is target:
                return f"/sort/{i}"
        start: Node = root.predicate
    else:
        start = root
    if target is root:
        return ""
    stack: list[tuple[Node, str]] = [(start, "/predicate")]
    while stack:
        n, p = stack.pop()
        if n is target:
            return p
        if isinstance(n, (And, Or)):
            stack.extend((c, f"{p}/items/{i}") for i, c in enumerate(n.items))
        elif isinstance(n, Not):
            stack.append((n.item, p + "/item"))
        elif isinstance(n, Relation):
            stack.append((n.predicate, p + "/predicate"))
    return ""


def iter_fields(node: Node) -> Iterator[Field]:
    """Every field referenced by the predicate, nested relational predicates included."""
    for n in walk(node):
        if isinstance(n, (Compare, FieldState, Relation)):
            yield n.field
