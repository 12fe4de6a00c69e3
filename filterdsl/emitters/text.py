"""AST -> the canonical text form (grammar/filter.lark): ``parse_text(to_text(q)) == q`` for every query.

Keys are always backquoted and typed, so the text parses back without a schema; nested and/or of the
same kind keep their parentheses, so the tree shape round-trips exactly. Iterative over depth would be
overkill here: frontends bound depth far below the recursion limit (Limits.max_depth).
"""

from __future__ import annotations

import json
from typing import Any

from ..ast import (
    And,
    Compare,
    Const,
    CreatedAt,
    Field,
    FieldState,
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
    SortKey,
    State,
)

_OPS = {Op.EQ: "is", Op.IEQ: "equals ignoring case", Op.CONTAINS: "contains", Op.STARTS_WITH: "starts with",
        Op.ENDS_WITH: "ends with", Op.GT: ">", Op.GTE: ">=", Op.LT: "<", Op.LTE: "<=", Op.IN: "in",
        Op.HAS_ANY: "has any", Op.HAS_ALL: "has all", Op.HAS_EXACTLY: "has exactly"}
_STATES = {State.NOT_SET: "is not set", State.EMPTY: "is empty", State.HAS_VALUE: "has value"}


def _s(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _scalar(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return _s(v)
    return json.dumps(v)


def _value(v: Any) -> str:
    if isinstance(v, Money):
        return f"money({json.dumps(v.amount)}" + (f", {_s(v.currency)})" if v.currency is not None else ")")
    if isinstance(v, tuple):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    return _scalar(v)


def field_text(f: Field) -> str:
    key = "`" + f.key.replace("`", "``") + "`:" + f.type.value
    return key + "".join(f" -> {_s(seg)}" for seg in f.path)


def node_text(node: Node, parent: type | None = None) -> str:
    if isinstance(node, Const):
        return "true" if node.value else "false"
    if isinstance(node, (And, Or)):
        word = "and" if isinstance(node, And) else "or"
        if len(node.items) < 2:
            return ("all" if isinstance(node, And) else "any") + "(" + ", ".join(node_text(i) for i in node.items) + ")"
        body = f" {word} ".join(node_text(i, type(node)) for i in node.items)
        # and binds tighter than or; a group of its own kind (or an or inside an and) needs parentheses
        return f"({body})" if parent is not None else body
    if isinstance(node, Not):
        inner = node_text(node.item, Not)
        return f"not {inner}"
    if isinstance(node, Compare):
        return f"{field_text(node.field)} {_OPS[node.op]} {_value(node.value)}"
    if isinstance(node, FieldState):
        return f"{field_text(node.field)} {_STATES[node.state]}"
    if isinstance(node, Relation):
        return f"{field_text(node.field)} references {_s(node.database)} where ({node_text(node.predicate)})"
    if isinstance(node, Search):
        clauses = ", ".join("[" + ", ".join(_s(t) for t in c) + "]" for c in node.clauses)
        fields = "" if node.fields is None else " in (" + ", ".join(field_text(f) for f in node.fields) + ")"
        return f"search({clauses}){fields}"
    if isinstance(node, IdIn):
        return "id in [" + ", ".join(_s(i) for i in node.ids) + "]"
    if isinstance(node, CreatedAt):
        a = "null" if node.start is None else _s(node.start)
        b = "null" if node.end is None else _s(node.end)
        return f"created between {a} and {b}"
    if isinstance(node, ModifiedSince):
        return f"modified since {_s(node.since)}"
    if isinstance(node, InTrash):
        return "in trash"
    raise TypeError(f"not an AST node: {node!r}")


def _sort_key(sk: SortKey) -> str:
    key = "@" + sk.key.name if isinstance(sk.key, RecordAttr) else field_text(sk.key)
    return key + (" desc" if sk.descending else " asc")


def to_text(query: Query | Node) -> str:
    """The canonical text of a query (or a bare predicate)."""
    q = query if isinstance(query, Query) else Query(query)
    parts = [node_text(q.predicate)]
    if q.sort:
        parts.append("sort " + ", ".join(_sort_key(s) for s in q.sort))
    if q.skip:
        parts.append(f"skip {q.skip}")
    if q.limit is not None:
        parts.append(f"limit {q.limit}")
    if q.fields is not None:
        parts.append("fields [" + ", ".join(_s(f) for f in q.fields) + "]")
    if q.database is not None:
        parts.append(f"database {_s(q.database)}")
    return " ".join(parts)
