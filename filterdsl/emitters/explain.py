"""A readable, indented rendering of a Query for ``filterdsl explain``.

Conditions are written in the text form; with a catalog, fields of the schema by their names, as the
schema shows them (``Notes contains "rush"``), and relations name the database they reach.
"""

from __future__ import annotations

from filterdsl import ast as A
from filterdsl.emitters.text import Namer, _s, field_text, key_text, node_text, schema_namer
from filterdsl.schema import Catalog


def _db(catalog: Catalog | None, database: str | None) -> str:
    db = catalog.get(database) if catalog is not None and database is not None else None
    return _s(database) + (f" ({db.name})" if db is not None else "") if database is not None else "(any)"


def _lines(
    node: A.Node,
    indent: int,
    out: list[str],
    namer: Namer,
    database: str | None,
    catalog: Catalog | None,
) -> None:
    _Lines(indent, out, namer, database, catalog).visit(node)


class _Lines(A.Visitor[None]):
    """Appends one node (and, indented below it, its children) to ``out``."""

    def __init__(
        self, indent: int, out: list[str], namer: Namer, database: str | None, catalog: Catalog | None
    ):
        self.indent, self.out, self.namer, self.database, self.catalog = indent, out, namer, database, catalog

    def line(self, text: str) -> None:
        self.out.append("  " * self.indent + text)

    def child(self, node: A.Node, database: str | None = None) -> None:
        db = self.database if database is None else database
        _lines(node, self.indent + 1, self.out, self.namer, db, self.catalog)

    def _group(self, node: A.And | A.Or) -> None:
        self.line(type(node).__name__.upper())
        for item in node.items:
            self.child(item)

    def visit_and(self, node: A.And) -> None:
        self._group(node)

    def visit_or(self, node: A.Or) -> None:
        self._group(node)

    def visit_not(self, node: A.Not) -> None:
        self.line("NOT")
        self.child(node.item)

    def visit_relation(self, node: A.Relation) -> None:
        self.line(
            f"SOME ROW OF {_db(self.catalog, node.database)} REFERENCED BY "
            f"{self.namer(node.field, self.database)} MATCHES"
        )
        self.child(node.predicate, node.database)

    def visit_compare(self, node: A.Compare) -> None:
        self.line(node_text(node, None, self.namer, self.database))

    def visit_field_state(self, node: A.FieldState) -> None:
        self.line(node_text(node, None, self.namer, self.database))

    def visit_search(self, node: A.Search) -> None:
        fields = node.fields
        where = (
            "any searchable field"
            if fields is None
            else ", ".join(self.namer(f, self.database) for f in fields)
        )
        clauses = " AND ".join("(" + " OR ".join(_s(t) for t in c) + ")" for c in node.clauses)
        self.line(f"SEARCH {clauses or '(nothing)'} IN {where}")

    def visit_id_in(self, node: A.IdIn) -> None:
        self.line(f"@id IN [{', '.join(_s(i) for i in node.ids)}]")

    def visit_created_at(self, node: A.CreatedAt) -> None:
        self.line(f"@created_at IN [{node.start or '-inf'}, {node.end or '+inf'})")

    def visit_modified_since(self, node: A.ModifiedSince) -> None:
        self.line(f"MODIFIED SINCE {node.since}")

    def visit_in_trash(self, node: A.InTrash) -> None:
        self.line("IN TRASH")

    def visit_const(self, node: A.Const) -> None:
        self.line("TRUE" if node.value else "FALSE")


def explain(query: A.Query, catalog: Catalog | None = None) -> str:
    """The query as an indented tree; ``catalog`` (a Catalog) lets fields read as their schema names."""
    namer: Namer = schema_namer(catalog) if catalog is not None else field_text
    out = [f"QUERY database {_db(catalog, query.database)}"]
    out.append("  WHERE")
    _lines(query.predicate, 2, out, namer, query.database, catalog)

    def key(k: A.Field | A.RecordAttr) -> str:
        return f"@{k.name}" if isinstance(k, A.RecordAttr) else namer(k, query.database)

    order = [f"{key(s.key)} {'desc' if s.descending else 'asc'}" for s in query.sort]
    out.append("  ORDER BY " + ", ".join(order + ["@created_at desc", "@id asc"]))
    if query.after is not None:  # keyset: the place of the cursor's row in that order
        c = query.after
        places = [f"rank {k.rank}" + ("" if k.value is None else f" {k.value!r}") for k in c.keys]
        out.append("  AFTER " + ", ".join([*places, f"@created_at {c.created_at}", f"@id {c.id!r}"]))
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
