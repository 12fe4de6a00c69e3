"""Framework-free core of the ORM integrations: the compiled SELECT cut into embeddable pieces.

The integrations never rebuild filterdsl's SQL and never read it back: the SQL backend hands over its
compiled parts (``backends.sql.parts.compile_parts``: the text ``to_sql`` prints, byte for byte, and
where its placeholders, the main table's qualifiers, the id column, the FROM, the WHERE predicate and
each ORDER BY key with its direction are, marked by the same generator that writes the text), so
the SQL that runs is the SQL the differential tests verify.

Two ways to embed a query's filter in an ORM statement over the same table:
- **inline** (preferred): the WHERE predicate and the ORDER BY keys, with the main table's alias
  (``r0``, or the table's name) replaced by the outer statement's name for the table and its bare
  top-level columns qualified, so the filter is evaluated on the outer rows in one scan, exactly as
  the plain SELECT would. Used when the main table stands alone in the top-level FROM and its alias is
  declared once (the compiler's tree says so).
- **subquery** (fallback): ``id IN (SELECT id FROM ... WHERE ...)``, ordered by
  ``ROW_NUMBER() OVER (<the ORDER BY>)`` of a joined derived table.

Pieces are lists of ``str`` (SQL text) and :class:`Param` (a bound value), so each ORM renders the
parameters its own way (SQLAlchemy bind parameters, Django ``%s``) and escapes ``%`` as its driver needs.
The parts are cached per query shape, as ``to_sql``'s text is.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from filterdsl.ast import FALSE as FALSE_NODE
from filterdsl.ast import (
    And,
    Compare,
    CreatedAt,
    Field,
    IdIn,
    InTrash,
    ModifiedSince,
    Money,
    Node,
    Not,
    Or,
    Query,
    Search,
    node_pointer,
    not_,
    walk,
)
from filterdsl.backends.sql.guard import family_class
from filterdsl.backends.sql.parts import SqlParts, compile_parts
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.schema import CatalogSource


@dataclass(frozen=True)
class Param:
    """A value to bind where the SQL had a placeholder."""

    value: Any


@dataclass(frozen=True)
class Raw:
    """SQL text the ORM already rendered (an alias): never escaped again."""

    sql: str


Piece = str | Param | Raw

#: ORM dialect names -> sqlglot dialect names (others are passed as they are)
DIALECTS = {
    "postgresql": "postgres",
    "mariadb": "mysql",
    "mssql": "tsql",
    "sqlite": "sqlite",
    "mysql": "mysql",
    "duckdb": "duckdb",
    "oracle": "oracle",
}

POS = "fdsl_pos"
ID = "fdsl_id"


def sql_dialect(orm_name: str) -> str:
    return DIALECTS.get(orm_name, orm_name)


def _internal(message: str) -> FilterError:
    return FilterError([Diagnostic("internal", message, Location())])


def filter_only(query: Query) -> Query:
    """The query's predicate alone: ORDER BY, OFFSET and LIMIT belong to the outer statement."""
    # a keyset cursor (Query.after) stays, with the sort it is read against: its condition is WHERE's
    sort = () if query.after is None else query.sort
    return dataclasses.replace(query, sort=sort, skip=0, limit=None, fields=None)


def sorted_only(query: Query) -> Query:
    """Predicate and sort, without paging (paging is applied after the ORM's own filters)."""
    return dataclasses.replace(query, skip=0, limit=None, fields=None)


def _rewrite(node: Node, has_removed_at: bool, has_updated_at: bool) -> Node:
    kind = type(node)
    if kind is InTrash and not has_removed_at:
        return FALSE_NODE  # no removed_at column: no record is in the trash
    if kind is ModifiedSince and not has_updated_at:
        return CreatedAt(start=node.since)  # type: ignore[attr-defined]  # never updated: coalesce(NULL, c) = c
    if kind is And:
        return And(tuple(_rewrite(n, has_removed_at, has_updated_at) for n in node.items))  # type: ignore[attr-defined]
    if kind is Or:
        return Or(tuple(_rewrite(n, has_removed_at, has_updated_at) for n in node.items))  # type: ignore[attr-defined]
    if kind is Not:
        return not_(_rewrite(node.item, has_removed_at, has_updated_at))  # type: ignore[attr-defined]
    return node  # Relation: the referenced table keeps its own columns (see docs/integrations.md)


def adapt_to_columns(query: Query, has_removed_at: bool, has_updated_at: bool) -> Query:
    """Tables without ``removed_at`` hold no trashed record; without ``updated_at``, none was updated.

    The rewrite is exact for such tables (their canonical documents have those timestamps null) and
    lets plain ORM models (a JSON field ``data`` and ``created_at``) be queried at all.
    """
    if has_removed_at and has_updated_at:
        return query
    return dataclasses.replace(query, predicate=_rewrite(query.predicate, has_removed_at, has_updated_at))


@dataclass(frozen=True)
class OrderItem:
    start: int  # the key expression's span
    end: int
    descending: bool
    nulls_first: bool | None  # an explicit NULLS FIRST/LAST, else None
    alias_refs: tuple[tuple[int, int], ...]  # spans of the main alias where it qualifies a column


@dataclass(frozen=True)
class Analysis:
    """Where the clauses of one compiled SELECT text are (char offsets), from the SQL backend's
    structured hand-off (``compile_parts``): positions the generator marked, never a re-read text."""

    text: str
    placeholders: tuple[tuple[int, int, str], ...]  # (start, end, name) of each ``:name``
    starts: tuple[int, ...]  # placeholder starts, for bisect
    from_at: int
    where_body: int | None  # the WHERE predicate's span
    where_end: int | None
    order_at: int | None  # the top-level ORDER BY keyword
    order_body: int | None
    first_end: int  # just after the first output column's expression (the id)
    alias: str | None  # the main table's alias
    inline: bool  # inline embedding is safe: the main table alone in the top-level FROM
    where_refs: tuple[tuple[int, int], ...]  # main-alias spans inside the WHERE predicate
    order: tuple[OrderItem, ...]


def analyse(parts: SqlParts) -> Analysis:
    """The backend's parts as the cut the integrations embed."""

    def refs(start: int, end: int) -> tuple[tuple[int, int], ...]:
        return tuple((s, e) for s, e in parts.alias_refs if start <= s and e <= end)

    wb, we = parts.where_body, parts.where_end
    return Analysis(
        text=parts.text,
        placeholders=parts.placeholders,
        starts=tuple(p[0] for p in parts.placeholders),
        from_at=parts.from_at,
        where_body=wb,
        where_end=we,
        order_at=parts.order_at,
        order_body=parts.order[0].start if parts.order else None,
        first_end=parts.first_end,
        alias=parts.alias,
        inline=parts.inline,
        where_refs=refs(wb, we) if wb is not None and we is not None else (),
        order=tuple(
            OrderItem(o.start, o.end, o.descending, o.nulls_first, refs(o.start, o.end)) for o in parts.order
        ),
    )


@dataclass(frozen=True)
class Cut:
    """One compiled SELECT: its analysis and this query's values."""

    a: Analysis
    params: dict[str, Any]

    def pieces(
        self, start: int, end: int, alias_refs: tuple[tuple[int, int], ...] = (), alias_sql: Raw | None = None
    ) -> list[Piece]:
        """Text between two offsets: placeholders become Params; ``alias_refs`` become ``alias_sql``."""
        a = self.a
        i = bisect.bisect_left(a.starts, start)
        marks: list[tuple[int, int, Any]] = []
        while i < len(a.placeholders) and a.placeholders[i][1] <= end:
            s, e, name = a.placeholders[i]
            marks.append((s, e, Param(self.params[name])))
            i += 1
        if alias_sql is not None:
            qualify = Raw(alias_sql.sql + ".")
            marks.extend((s, e, alias_sql if e > s else qualify) for s, e in alias_refs)
            marks.sort(key=lambda m: m[0])
        out: list[Piece] = []
        pos = start
        for s, e, what in marks:
            out.append(a.text[pos:s])
            out.append(what)
            pos = e
        out.append(a.text[pos:end])
        return [p for p in out if p != ""]


def _strings(node: Node) -> tuple[list[str], list[str]]:
    """(keys, values): the field keys/path segments and the string values a node holds itself."""
    keys: list[str] = []
    values: list[str] = []
    field = getattr(node, "field", None)
    if field is not None:
        keys += field.segments
    if isinstance(node, Compare):
        v = node.value
        values += (
            [v]
            if isinstance(v, str)
            else [e for e in v if isinstance(e, str)]
            if isinstance(v, tuple)
            else []
        )
        if isinstance(v, Money) and v.currency is not None:
            values.append(v.currency)
    elif isinstance(node, IdIn):
        values += node.ids
    elif isinstance(node, Search):
        values += [t for clause in node.clauses for t in clause]
        keys += [s for f in node.fields or () for s in f.segments]
    return keys, values


def refuse_nul(query: Query, dialect: str) -> None:
    """A located FilterError (``bad-value``, pointing into the query's AST) for a NUL character no
    engine can be asked about: in a field key or path anywhere (SQL text holds keys and cannot hold a
    NUL), or, where the engine cannot store and compare one exactly (``Family.HOLDS_NUL``: PostgreSQL,
    whose text cannot hold one, and SQLite, whose JSON functions cut a string at it), in any value:
    the rule ``to_sql`` applies (backends/sql/guard.py). Without this the driver fails when the
    statement runs (a 500)."""
    values_too = not family_class(dialect).HOLDS_NUL
    where = None
    for key in query.sort:
        if isinstance(key.key, Field) and any("\x00" in s for s in key.key.segments):
            where = f"/sort/{query.sort.index(key)}"
    if where is None:
        for node in walk(query.predicate):
            keys, values = _strings(node)
            if any("\x00" in k for k in keys) or (values_too and any("\x00" in v for v in values)):
                where = node_pointer(query, node)
                break
    if where is not None:
        raise FilterError(
            [
                Diagnostic(
                    "bad-value",
                    "the filter holds a NUL character (U+0000), which this database cannot be asked "
                    "about (no stored record can hold one)",
                    Location(pointer=where),
                )
            ]
        )


def compile_cut(query: Query, dialect: str, layout: Any, catalog: CatalogSource | None) -> Cut:
    """The SQL backend's compiled parts (the SELECT ``to_sql`` prints, cached per shape) as a cut."""
    refuse_nul(query, dialect)
    parts, params = compile_parts(query, dialect, layout)
    return Cut(analyse(parts), params)


def predicate(cut: Cut, alias_sql: Raw) -> list[Piece] | None:
    """The WHERE predicate on the outer table named ``alias_sql`` (None: no predicate, every row)."""
    a = cut.a
    if a.where_body is None or a.where_end is None:
        return None
    return ["(", *cut.pieces(a.where_body, a.where_end, a.where_refs, alias_sql), ")"]


def order_keys(cut: Cut, alias_sql: Raw) -> list[tuple[list[Piece], bool, bool | None]]:
    """The ORDER BY items on the outer table ``alias_sql``: (pieces, descending, nulls_first or None)."""
    return [
        (cut.pieces(o.start, o.end, o.alias_refs, alias_sql), o.descending, o.nulls_first)
        for o in cut.a.order
    ]


def ids_select(cut: Cut, quote: Any, binary: bool = False) -> list[Piece]:
    """``SELECT <id> FROM ... WHERE ...``: the ids the filter selects (its ORDER BY dropped).

    ``binary`` (MySQL/MariaDB) selects ``CAST(id AS BINARY)``: PAD SPACE collations say 'a' = 'a '.
    """
    a = cut.a
    end = a.order_at if a.order_at is not None else len(a.text)
    head = cut.pieces(0, a.first_end)
    inner = [*head, " ", *cut.pieces(a.from_at, end)]
    if not binary:
        return inner
    q = quote("fdsl_ids")
    return [
        f"SELECT CAST({q}.{quote(ID)} AS BINARY) FROM (",
        *head,
        f" AS {quote(ID)} ",
        *cut.pieces(a.from_at, end),
        f") AS {q}",
    ]


def positioned_select(cut: Cut, quote: Any) -> list[Piece]:
    """``SELECT <id> AS fdsl_id, ROW_NUMBER() OVER (ORDER BY <filterdsl's order>) AS fdsl_pos FROM ...``.

    The window's ORDER BY is the compiled ORDER BY verbatim, in the same scope, so the position is
    exactly filterdsl's order (a total order: it ends with the record id).
    """
    a = cut.a
    if a.order_at is None or a.order_body is None:
        raise _internal("to_sql output has no ORDER BY for a sorted query")
    head = cut.pieces(0, a.first_end)
    order = cut.pieces(a.order_body, len(a.text))
    body = cut.pieces(a.from_at, a.order_at)
    return [*head, f" AS {quote(ID)}, ROW_NUMBER() OVER (ORDER BY ", *order, f") AS {quote(POS)} ", *body]


def direction(descending: bool, nulls_first: bool | None) -> str:
    return (" DESC" if descending else " ASC") + (
        "" if nulls_first is None else " NULLS FIRST" if nulls_first else " NULLS LAST"
    )


def render(pieces: Iterable[Piece], text: Any, param: Any) -> str:
    """Join pieces: ``text(str)`` escapes SQL text for the driver, ``param(value)`` renders a bind."""
    return "".join(
        text(p) if isinstance(p, str) else p.sql if isinstance(p, Raw) else param(p.value) for p in pieces
    )


__all__ = [
    "Param",
    "Raw",
    "Piece",
    "direction",
    "Analysis",
    "Cut",
    "sql_dialect",
    "filter_only",
    "sorted_only",
    "adapt_to_columns",
    "analyse",
    "compile_cut",
    "predicate",
    "order_keys",
    "ids_select",
    "positioned_select",
    "render",
    "POS",
    "ID",
]
