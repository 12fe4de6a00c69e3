"""filterdsl queries inside SQLAlchemy statements (Core tables and ORM models, sync and async).

    from filterdsl.integrations.sqlalchemy import where, apply
    stmt = select(Record).where(where(query, Record))            # the filter only
    stmt = apply(select(Record), query, Record)                   # + filterdsl's order, skip and limit

How (and why this way): the SQL is the SQL ``filterdsl.to_sql`` compiles for the *session's* dialect,
chosen when SQLAlchemy compiles the statement, so one statement runs on SQLite, PostgreSQL and
MariaDB alike. Its values stay bound parameters (SQLAlchemy bind parameters, in the driver's
paramstyle). ``where`` is the compiled WHERE predicate and ``apply`` adds the compiled ORDER BY keys,
both with filterdsl's table alias replaced by the statement's name for the table (the SQL backend's
compiled parts; see ``_sqltext``), then OFFSET and LIMIT: the database evaluates exactly the SQL the
differential tests verify, in one scan, and the statement's own WHERE clauses apply before the paging.
Re-implementing the compiler natively in SQLAlchemy expressions would duplicate thousands of lines of
per-engine semantics (three field states, type guards, code-point collation, sort groups) verified
only in filterdsl's own SQL. Should a compiled text ever not be provably safe to re-alias, the
fallback is ``id IN (SELECT id ...)`` ordered by the row's ``ROW_NUMBER()`` (exact, slower; it needs
a unique id). Statements holding a filter are not kept in SQLAlchemy's compiled cache (filterdsl
caches its SQL per query shape, and the cut per SQL text).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Boolean, event
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ColumnElement, Select, bindparam
from sqlalchemy.sql.selectable import Alias, FromClause
from sqlalchemy.sql.sqltypes import NullType

from filterdsl.ast import Query
from filterdsl.backends.sql import ColumnsLayout, JsonLayout
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.integrations import _sqltext as st
from filterdsl.schema import CatalogSource

__all__ = ["where", "apply", "FilterCondition", "FilterOrder", "install_sqlite_lower", "resolve_layout"]


def _selectable(table: Any) -> tuple[FromClause, Any]:
    """(the FROM object the caller's statement uses, the underlying Table) of a Table, an alias of one,
    an ORM model or an ``aliased()`` model."""
    try:
        insp = sa_inspect(table)
    except Exception:
        insp = None
    if insp is not None and hasattr(insp, "mapper"):
        if getattr(insp, "is_aliased_class", False):
            sel = insp.selectable
        else:
            sel = insp.mapper.local_table
    elif isinstance(table, FromClause):
        sel = table
    else:
        raise FilterError(
            [Diagnostic("bad-table", f"not a SQLAlchemy table or mapped class: {table!r}", Location())]
        )
    base = sel
    while isinstance(base, Alias):
        base = base.element
    if not hasattr(base, "name"):
        raise FilterError([Diagnostic("bad-table", f"cannot find the table under {table!r}", Location())])
    return sel, base


def resolve_layout(
    query: Query, table: Any, layout: Any = None, related: Mapping[str, Any] | None = None
) -> JsonLayout | ColumnsLayout:
    """The layout naming ``table`` (and ``related`` tables, for relational filters) as filterdsl needs.

    ``layout``: None (JSON document layout: ``id, created_at, updated_at, removed_at, data`` columns),
    a ``{field_key: column}`` mapping (columns layout), or a ``JsonLayout`` / ``ColumnsLayout`` whose
    table for the queried database is replaced by ``table``.
    """
    _, base = _selectable(table)
    tables: dict[Any, str] = {}
    for db, t in (related or {}).items():
        tables[db] = t if isinstance(t, str) else _selectable(t)[1].name
    tables[query.database] = base.name
    schema = getattr(base, "schema", None)
    if layout is None:
        return JsonLayout(tables=tables, schema=schema)
    if isinstance(layout, (JsonLayout, ColumnsLayout)):
        return dataclasses.replace(layout, tables={**layout.tables, **tables}, schema=layout.schema or schema)
    if isinstance(layout, Mapping):
        return ColumnsLayout(tables=tables, columns={query.database: dict(layout)}, schema=schema)
    raise FilterError([Diagnostic("bad-layout", f"not a layout: {layout!r}", Location())])


class _Compiled:
    """The query adapted to the table's columns, and its cut SQL per dialect (compiled lazily)."""

    def __init__(
        self,
        query: Query,
        table: Any,
        layout: Any,
        catalog: CatalogSource | None,
        related: Mapping[str, Any] | None,
        sorted_: bool,
    ):
        if not isinstance(query, Query):
            raise FilterError(
                [Diagnostic("bad-query", "expected a parsed filterdsl Query (filterdsl.parse)", Location())]
            )
        self.outer, base = _selectable(table)
        self.layout = resolve_layout(query, table, layout, related)
        cols = base.c
        if self.layout.id not in cols:
            raise FilterError(
                [
                    Diagnostic(
                        "bad-table", f"table {base.name!r} has no id column {self.layout.id!r}", Location()
                    )
                ]
            )
        q = st.sorted_only(query) if sorted_ else st.filter_only(query)
        self.query = st.adapt_to_columns(q, self.layout.removed_at in cols, self.layout.updated_at in cols)
        self.catalog = catalog
        self.original = query
        self._cuts: dict[str, st.Cut] = {}

    def outer_id(self) -> Any:
        return self.outer.c[self.layout.id]

    def cut(self, orm_dialect: str) -> st.Cut:
        d = st.sql_dialect(orm_dialect)
        c = self._cuts.get(d)
        if c is None:
            c = self._cuts[d] = st.compile_cut(self.query, d, self.layout, self.catalog)
        return c


def _render(pieces: list[st.Piece], compiler: Any, **kw: Any) -> str:
    def param(value: Any) -> str:
        # NullType: the driver adapts the value itself, exactly as in filterdsl's verified runs (no
        # ::INTEGER casts that psycopg's render-casts mode would add, which overflow at 2**31)
        return str(compiler.process(bindparam(None, value, type_=NullType(), unique=True), **kw))

    return st.render(pieces, compiler.post_process_text, param)


def _qualifier(compiler: Any, col: Any, **kw: Any) -> st.Raw | None:
    """How this statement names ``col``'s table (``recs``, ``recs_1``, ``"Schema".recs``), or None."""
    rendered = str(compiler.process(col, **kw))
    name = str(compiler.preparer.quote(col.name))
    if rendered.endswith("." + name):
        return st.Raw(rendered[: -len(name) - 1])
    return None


def _ids_in(comp: _Compiled, cut: st.Cut, compiler: Any, **kw: Any) -> str:
    """Fallback: ``<id> IN (SELECT id FROM <table> WHERE <filter>)``."""
    binary = st.sql_dialect(compiler.dialect.name) == "mysql"
    sub = _render(st.ids_select(cut, compiler.preparer.quote, binary=binary), compiler, **kw)
    outer = compiler.process(comp.outer_id(), **kw)
    if binary:
        outer = f"CAST({outer} AS BINARY)"
    return f"({outer} IN ({sub}))"


class FilterCondition(ColumnElement[bool]):
    """The filter on the statement's own rows, compiled for the statement's dialect."""

    __visit_name__ = "filterdsl_condition"
    inherit_cache = False  # the SQL depends on the query's values: never SQLAlchemy's compiled cache
    type = Boolean()
    _is_implicitly_boolean = True  # a predicate, not a boolean column: no "= 1" on SQLite

    def __init__(self, compiled: _Compiled):
        self._fdsl = compiled

    @property
    def _from_objects(self) -> list[FromClause]:
        return [self._fdsl.outer]


@compiles(FilterCondition)
def _compile_condition(element: FilterCondition, compiler: Any, **kw: Any) -> str:
    comp = element._fdsl
    cut = comp.cut(compiler.dialect.name)
    alias = _qualifier(compiler, comp.outer_id(), **kw) if cut.a.inline else None
    if alias is None:
        return _ids_in(comp, cut, compiler, **kw)
    pred = st.predicate(cut, alias)
    return "(1 = 1)" if pred is None else _render(pred, compiler, **kw)


class FilterOrder(ColumnElement[Any]):
    """filterdsl's ORDER BY keys (with their directions) on the statement's own rows."""

    inherit_cache = False

    def __init__(self, compiled: _Compiled):
        self._fdsl = compiled

    @property
    def _from_objects(self) -> list[FromClause]:
        return [self._fdsl.outer]


@compiles(FilterOrder)
def _compile_order(element: FilterOrder, compiler: Any, **kw: Any) -> str:
    comp = element._fdsl
    cut = comp.cut(compiler.dialect.name)
    alias = _qualifier(compiler, comp.outer_id(), **kw) if cut.a.inline else None
    if alias is not None:
        return ", ".join(
            _render(p, compiler, **kw) + st.direction(d, n) for p, d, n in st.order_keys(cut, alias)
        )
    # fallback: the position of the row in filterdsl's order (a correlated lookup; slower, still exact)
    quote = compiler.preparer.quote
    sub = _render(st.positioned_select(cut, quote), compiler, **kw)
    outer = compiler.process(comp.outer_id(), **kw)
    p = quote("fdsl_p")
    return f"(SELECT {p}.{quote(st.POS)} FROM ({sub}) AS {p} WHERE {p}.{quote(st.ID)} = {outer}) ASC"


def where(
    query: Query,
    table: Any,
    *,
    catalog: CatalogSource | None = None,
    layout: Any = None,
    related: Mapping[str, Any] | None = None,
) -> ColumnElement[bool]:
    """The query's filter as a condition on ``table`` (a Table, alias, ORM model or ``aliased()`` model).

    Sort, skip, limit and projection are ignored (see ``apply``). ``catalog`` is needed for relational
    filters, with ``related={database_id: table}`` naming the referenced tables. Raises ``FilterError``
    for a bad table or layout; a filter the layout cannot express (``layout-ambiguous``) raises
    ``FilterError`` when the statement is compiled (executed).
    """
    return FilterCondition(_Compiled(query, table, layout, catalog, related, sorted_=False))


def apply(
    select: Select[Any],
    query: Query,
    table: Any,
    *,
    catalog: CatalogSource | None = None,
    layout: Any = None,
    related: Mapping[str, Any] | None = None,
) -> Select[Any]:
    """``select`` filtered, ordered by filterdsl's order (after any ORDER BY it has), offset and limited.

    ``select`` must select from ``table`` (``select(Model)``, ``select(t.c.id)``). Paging applies after
    ``select``'s own WHERE clauses, so ``apply(select(T).where(T.owner == me), q, T)`` pages through
    *my* matching records. ``skip``/``limit`` replace any the select had.
    """
    comp = _Compiled(query, table, layout, catalog, related, sorted_=True)
    stmt = select.where(FilterCondition(comp)).order_by(FilterOrder(comp))
    q = comp.original
    if q.skip:
        stmt = stmt.offset(q.skip)
    if q.limit is not None:
        stmt = stmt.limit(q.limit)
    return stmt


def install_sqlite_lower(engine: Any) -> None:
    """Make SQLite's ``lower()`` Python's ``str.lower`` on every connection of ``engine`` (sync or async).

    SQLite's own ``lower`` folds ASCII only, so ``contains 'école'`` would miss ``ÉCOLE`` (docs/sql.md).
    """
    from filterdsl.backends.sql.runners import py_lower

    target = getattr(engine, "sync_engine", engine)

    @event.listens_for(target, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.create_function("lower", 1, py_lower, deterministic=True)
