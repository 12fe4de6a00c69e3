"""A readable, indented rendering of a Query for ``filterdsl explain``."""

from __future__ import annotations

from .ast import (
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
    Or,
    Query,
    RecordAttr,
    Relation,
    Search,
    Value,
)


def _field(f: Field | RecordAttr) -> str:
    if isinstance(f, RecordAttr):
        return f"@{f.name}"
    return ".".join([repr(f.key), *map(repr, f.path)]) + f" <{f.type.value}>"


def _value(v: Value) -> str:
    if isinstance(v, Money):
        return f"{v.amount!r}" + (f" {v.currency}" if v.currency else "")
    return repr(list(v)) if isinstance(v, tuple) else repr(v)


def _lines(node: Node, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    if isinstance(node, (And, Or)):
        out.append(pad + type(node).__name__.upper())
        for item in node.items:
            _lines(item, indent + 1, out)
    elif isinstance(node, Not):
        out.append(pad + "NOT")
        _lines(node.item, indent + 1, out)
    elif isinstance(node, Relation):
        out.append(pad + f"SOME ROW OF {node.database!r} REFERENCED BY {_field(node.field)} MATCHES")
        _lines(node.predicate, indent + 1, out)
    elif isinstance(node, Compare):
        out.append(pad + f"{_field(node.field)} {node.op.value} {_value(node.value)}")
    elif isinstance(node, FieldState):
        out.append(pad + f"{_field(node.field)} is {node.state.value}")
    elif isinstance(node, Search):
        where = "any searchable field" if node.fields is None else ", ".join(f.key for f in node.fields)
        clauses = " AND ".join("(" + " OR ".join(repr(t) for t in c) + ")" for c in node.clauses)
        out.append(pad + f"SEARCH {clauses or '(nothing)'} IN {where}")
    elif isinstance(node, IdIn):
        out.append(pad + f"@id IN {list(node.ids)!r}")
    elif isinstance(node, CreatedAt):
        out.append(pad + f"@created_at IN [{node.start or '-inf'}, {node.end or '+inf'})")
    elif isinstance(node, ModifiedSince):
        out.append(pad + f"MODIFIED SINCE {node.since}")
    elif isinstance(node, InTrash):
        out.append(pad + "IN TRASH")
    elif isinstance(node, Const):
        out.append(pad + ("TRUE" if node.value else "FALSE"))
    else:
        out.append(pad + repr(node))


def explain(query: Query) -> str:
    out = [f"QUERY database={query.database!r}"]
    out.append("  WHERE")
    _lines(query.predicate, 2, out)
    order = [f"{_field(s.key)} {'desc' if s.descending else 'asc'}" for s in query.sort]
    out.append("  ORDER BY " + ", ".join(order + ["@created_at desc", "@id asc"]))
    out.append(f"  SKIP {query.skip}  LIMIT {'none' if query.limit is None else query.limit}")
    if query.fields is not None:
        out.append("  FIELDS " + ", ".join(query.fields))
    return "\n".join(out)
