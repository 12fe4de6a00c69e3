"""The node types of the one typed AST every frontend produces and every backend consumes.

Nodes are frozen dataclasses: immutable, hashable, safe to share between threads and to use as cache
keys. A field predicate carries the field's type (resolved from the schema by the frontend), so
backends never re-derive types. Negative operators do not exist here: ``is-not x`` is
``Not(Compare(eq x))``, which makes every negation the exact complement of its positive twin.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum

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
class CursorKey:
    """Where a row sits in one sort key's order (SPEC 8, semantics.cursor): ``rank`` 0 is NOT SET or
    EMPTY, 1 a well-typed value, 2 + the kind's rank (number 2, string 3, boolean 4, array 5, object 6)
    a wrong-typed one; ``value`` is what the row orders by inside its rank (the string, number or
    boolean; a date's day, a currency's amount), None where the rank has one place (empties, arrays,
    objects)."""

    rank: int
    value: str | int | float | bool | None = None


@dataclass(frozen=True)
class Cursor:
    """Keyset pagination: the rows strictly after this row in the query's total order (its sort keys,
    then created_at descending, id ascending). ``keys`` has one entry per sort key; ``sort`` is the
    signature of the sort it was made for (semantics.cursor.sort_signature; None: not checked)."""

    keys: tuple[CursorKey, ...]
    created_at: str
    id: str
    sort: str | None = None


@dataclass(frozen=True)
class Query:
    """A predicate plus the options around it. ``limit`` None means no limit. ``after``: only the rows
    after that cursor (applied after the predicate, before skip and limit)."""

    predicate: Node = TRUE
    sort: tuple[SortKey, ...] = ()
    skip: int = 0
    limit: int | None = None
    fields: tuple[str, ...] | None = None
    database: str | None = None
    after: Cursor | None = None


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


def iter_fields(node: Node) -> Iterator[Field]:
    """Every field referenced by the predicate, nested relational predicates included."""
    for n in walk(node):
        if isinstance(n, (Compare, FieldState, Relation)):
            yield n.field
