"""A readable, indented rendering of a Query for ``filterdsl explain``.

Conditions are written in the text form; with a catalog, fields of the schema by their names, as the
schema shows them (``Notes contains "rush"``), and relations name the database they reach.
"""

from __future__ import annotations

from typing import Any

from filterdsl.ast import (
    And,
    Compare,
    Const,
    CreatedAt,
    Field,
    FieldState,
    IdIn,
    InTrash,
    ModifiedSince,
    Node,
    Not,
    Or,
    Query,
    RecordAttr,
    Relation,
    Search,
)
from filterdsl.emitters.text import Namer, _s, field_text, key_text, node_text, schema_namer


def _db(catalog: Any, database: str | None) -> str:
    db = catalog.get(database) if catalog is not None and database is not None else None
    return _s(database) + (f" ({db.name})" if db is not None else "") if database is not None else "(any)"


def _lines(node: Node, indent: int, out: list[str], namer: Namer, database: str | None, catalog: Any) -> None:
    pad = "  " * indent
    if isinstance(node, (And, Or)):
        out.append(pad + type(node).__name__.upper())
        for item in node.items:
            _lines(item, indent + 1, out, namer, database, catalog)
    elif isinstance(node, Not):
        out.append(pad + "NOT")
        _lines(node.item, indent + 1, out, namer, database, catalog)
    elif isinstance(node, Relation):
        out.append(
            pad + f"SOME ROW OF {_db(catalog, node.database)} REFERENCED BY {namer(node.field, database)} "
            "MATCHES"
        )
        _lines(node.predicate, indent + 1, out, namer, node.database, catalog)
    elif isinstance(node, (Compare, FieldState)):
        out.append(pad + node_text(node, None, namer, database))
    elif isinstance(node, Search):
        where = (
            "any searchable field"
            if node.fields is None
            else ", ".join(namer(f, database) for f in node.fields)
        )
        clauses = " AND ".join("(" + " OR ".join(_s(t) for t in c) + ")" for c in node.clauses)
        out.append(pad + f"SEARCH {clauses or '(nothing)'} IN {where}")
    elif isinstance(node, IdIn):
        out.append(pad + f"@id IN [{', '.join(_s(i) for i in node.ids)}]")
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


def explain(query: Query, catalog: Any = None) -> str:
    """The query as an indented tree; ``catalog`` (a Catalog) lets fields read as their schema names."""
    namer: Namer = schema_namer(catalog) if catalog is not None else field_text
    out = [f"QUERY database {_db(catalog, query.database)}"]
    out.append("  WHERE")
    _lines(query.predicate, 2, out, namer, query.database, catalog)

    def key(k: Field | RecordAttr) -> str:
        return f"@{k.name}" if isinstance(k, RecordAttr) else namer(k, query.database)

    order = [f"{key(s.key)} {'desc' if s.descending else 'asc'}" for s in query.sort]
    out.append("  ORDER BY " + ", ".join(order + ["@created_at desc", "@id asc"]))
    out.append(f"  SKIP {query.skip}  LIMIT {'none' if query.limit is None else query.limit}")
    if query.fields is not None:
        db = catalog.get(query.database) if catalog is not None and query.database is not None else None

        def shown(fid: str) -> str:
            fd = db.field(fid) if db is not None else None
            return (
                key_text(fd.name)
                if fd is not None and db is not None and db.field(fd.name, True) is fd
                else key_text(fid)
            )

        out.append("  FIELDS " + ", ".join(shown(f) for f in query.fields))
    return "\n".join(out)
