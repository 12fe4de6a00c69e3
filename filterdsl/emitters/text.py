"""AST -> the canonical text form (grammar/filter.lark): ``parse_text(to_text(q)) == q`` for every query.

Keys are always backquoted and typed, so the text parses back without a schema; nested and/or of the
same kind keep their parentheses, so the tree shape round-trips exactly. Iterative over depth would be
overkill here: frontends bound depth far below the recursion limit (Limits.max_depth).

``keys="names"`` (with a catalog) is the readable form: a field of the schema is written by its name,
bare when it is a plain word (``Notes contains "rush"``), without its type (the schema gives it back);
it parses back to the same query with that catalog and ``resolve_names=True``. A field whose name
would not lead back to it (a name shared with another field, or equal to another field's id) keeps
its canonical spelling.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from filterdsl import ast as A
from filterdsl.schema import Catalog

_OPS = {
    A.Op.EQ: "is",
    A.Op.IEQ: "equals ignoring case",
    A.Op.CONTAINS: "contains",
    A.Op.STARTS_WITH: "starts with",
    A.Op.ENDS_WITH: "ends with",
    A.Op.GT: ">",
    A.Op.GTE: ">=",
    A.Op.LT: "<",
    A.Op.LTE: "<=",
    A.Op.IN: "in",
    A.Op.HAS_ANY: "has any",
    A.Op.HAS_ALL: "has all",
    A.Op.HAS_EXACTLY: "has exactly",
}
_STATES = {A.State.NOT_SET: "is not set", A.State.EMPTY: "is empty", A.State.HAS_VALUE: "has value"}


def _s(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return _s(v)
    return json.dumps(v)


def _value(v: Any) -> str:
    if isinstance(v, A.Money):
        return f"money({json.dumps(v.amount)}" + (f", {_s(v.currency)})" if v.currency is not None else ")")
    if isinstance(v, tuple):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    return _scalar(v)


#: words of the grammar: a key spelled like one must be backquoted
KEYWORDS = frozenset(
    """or and not true false all any is equals ignoring case contains starts with ends in has exactly
set empty value references where search id created between modified since trash money null sort skip limit fields
database asc desc string textBlock number boolean date currency attachment enumTags enum refMultiple ref
json""".split()
)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

#: how a field is spelled, given the database it belongs to
Namer = Callable[[A.Field, "str | None"], str]


def key_text(key: str) -> str:
    """A key bare when it is a plain word that is no keyword, else backquoted."""
    return key if _NAME.fullmatch(key) and key not in KEYWORDS else "`" + key.replace("`", "``") + "`"


def field_text(f: A.Field, database: str | None = None) -> str:
    key = "`" + f.key.replace("`", "``") + "`:" + f.type.value
    return key + "".join(f" -> {_s(seg)}" for seg in f.path)


def schema_namer(catalog: Catalog | None) -> Namer:
    """Field names of the schema where they lead back to the same field; canonical spelling otherwise."""

    def name(f: A.Field, database: str | None) -> str:
        db = catalog.get(database) if catalog is not None and database is not None else None
        fd = db.field(f.key) if db is not None else None
        if db is None or fd is None or fd.type != f.type or db.field(fd.name, True) is not fd:
            return field_text(f)
        return key_text(fd.name) + "".join(f" -> {_s(seg)}" for seg in f.path)

    return name


def node_text(
    node: A.Node, parent: type | None = None, namer: Namer = field_text, database: str | None = None
) -> str:
    return _Text(namer, database, parent).visit(node)


class _Text(A.Visitor[str]):
    """One node's text; ``parent`` decides parentheses, ``database`` is where field names are looked up."""

    def __init__(self, namer: Namer, database: str | None, parent: type | None):
        self.namer, self.database, self.parent = namer, database, parent

    def sub(self, n: A.Node, parent: type | None = None, database: str | None = None) -> str:
        return _Text(self.namer, self.database if database is None else database, parent).visit(n)

    def field(self, f: A.Field) -> str:
        return self.namer(f, self.database)

    def visit_const(self, node: A.Const) -> str:
        return "true" if node.value else "false"

    def _group(self, node: A.And | A.Or, word: str, call: str) -> str:
        if len(node.items) < 2:
            return call + "(" + ", ".join(self.sub(i) for i in node.items) + ")"
        body = f" {word} ".join(self.sub(i, type(node)) for i in node.items)
        # and binds tighter than or; a group of its own kind (or an or inside an and) needs parentheses
        return f"({body})" if self.parent is not None else body

    def visit_and(self, node: A.And) -> str:
        return self._group(node, "and", "all")

    def visit_or(self, node: A.Or) -> str:
        return self._group(node, "or", "any")

    def visit_not(self, node: A.Not) -> str:
        return f"not {self.sub(node.item, A.Not)}"

    def visit_compare(self, node: A.Compare) -> str:
        return f"{self.field(node.field)} {_OPS[node.op]} {_value(node.value)}"

    def visit_field_state(self, node: A.FieldState) -> str:
        return f"{self.field(node.field)} {_STATES[node.state]}"

    def visit_relation(self, node: A.Relation) -> str:
        return (
            f"{self.field(node.field)} references {_s(node.database)} "
            f"where ({self.sub(node.predicate, None, node.database)})"
        )

    def visit_search(self, node: A.Search) -> str:
        clauses = ", ".join("[" + ", ".join(_s(t) for t in c) + "]" for c in node.clauses)
        fields = "" if node.fields is None else " in (" + ", ".join(self.field(f) for f in node.fields) + ")"
        return f"search({clauses}){fields}"

    def visit_id_in(self, node: A.IdIn) -> str:
        return "id in [" + ", ".join(_s(i) for i in node.ids) + "]"

    def visit_created_at(self, node: A.CreatedAt) -> str:
        a = "null" if node.start is None else _s(node.start)
        b = "null" if node.end is None else _s(node.end)
        return f"created between {a} and {b}"

    def visit_modified_since(self, node: A.ModifiedSince) -> str:
        return f"modified since {_s(node.since)}"

    def visit_in_trash(self, node: A.InTrash) -> str:
        return "in trash"


def _sort_key(sk: A.SortKey, namer: Namer = field_text, database: str | None = None) -> str:
    key = "@" + sk.key.name if isinstance(sk.key, A.RecordAttr) else namer(sk.key, database)
    return key + (" desc" if sk.descending else " asc")


def to_text(query: A.Query | A.Node, catalog: Catalog | None = None, keys: str = "ids") -> str:
    """The canonical text of a query (or a bare predicate); ``keys="names"`` with a catalog: the readable
    form, parsed back with that catalog and ``resolve_names=True``."""
    q = query if isinstance(query, A.Query) else A.Query(query)
    namer = schema_namer(catalog) if keys == "names" and catalog is not None else field_text
    parts = [node_text(q.predicate, None, namer, q.database)]
    if q.sort:
        parts.append("sort " + ", ".join(_sort_key(s, namer, q.database) for s in q.sort))
    if q.skip:
        parts.append(f"skip {q.skip}")
    if q.limit is not None:
        parts.append(f"limit {q.limit}")
    if q.fields is not None:
        parts.append("fields [" + ", ".join(_s(f) for f in q.fields) + "]")
    if q.database is not None:
        parts.append(f"database {_s(q.database)}")
    return " ".join(parts)
