"""filterdsl queries on Django querysets, and a Django REST framework filter backend.

    from filterdsl.integrations.django import filter_queryset
    qs = filter_queryset(Record.objects.filter(owner=request.user), query)

How (and why this way): the SQL is what ``filterdsl.to_sql`` compiles for the queryset's database
(``connection.vendor``), embedded as expressions Django renders with its own ``%s`` parameters, so
values stay bound. The filter is the compiled WHERE predicate and the order its ORDER BY keys (one
``OrderBy`` each), with filterdsl's table alias replaced by the queryset's (cut with sqlglot's
tokenizer, never re-generated), so the database evaluates exactly the verified SQL on the queryset's
own rows, in one scan; skip and limit become a slice, after the queryset's own filters. (Should a
compiled text ever not be provably safe to re-alias, the fallback is ``pk IN (SELECT id ...)``
ordered by the row's ``ROW_NUMBER()`` in filterdsl's order: exact, slower.) Re-implementing the compiler as Django lookups would duplicate
per-engine semantics (three field states, type guards, code-point collation, sort groups) that the
differential tests verify only in filterdsl's own SQL.

Models: the JSON document layout needs columns ``id`` (the primary key), ``created_at`` and a JSON
field ``data``; ``updated_at`` and ``removed_at`` are optional (without them no record was updated or
trashed). Timestamps are canonical UTC text (``CharField``), as in filterdsl's SQL layouts. A model
with one typed column per field uses ``layout={field_key: column}`` (the columns layout).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from django.db import connections
from django.db.models import BooleanField, Expression, F, FloatField, QuerySet
from django.db.models.expressions import OrderBy

from filterdsl.api import parse
from filterdsl.ast import Query
from filterdsl.backends.sql import ColumnsLayout, JsonLayout
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.integrations import _sqltext as st
from filterdsl.schema import CatalogSource, load_catalog

__all__ = [
    "filter_queryset",
    "resolve_layout",
    "FilterdslFilter",
    "FilterInvalid",
    "diagnostics_response",
    "install_sqlite_lower",
    "UnicodeJSONEncoder",
]


class UnicodeJSONEncoder(json.JSONEncoder):
    """``JSONField(encoder=UnicodeJSONEncoder)``: keys stored as they are, not as ``\\uXXXX`` escapes.

    SQLite's JSON paths compare a key with its stored text, so ``$."日本"`` never finds a key stored
    as ``"\\u65e5\\u672c"`` (Django's default encoding, ``ensure_ascii=True``): on SQLite every JSON
    field filterdsl queries needs this encoder (PostgreSQL's jsonb decodes keys; no need there).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["ensure_ascii"] = False
        super().__init__(*args, **kwargs)


def install_sqlite_lower() -> None:
    """Make SQLite's ``lower()`` Python's ``str.lower`` on every SQLite connection Django opens.

    SQLite's own ``lower`` folds ASCII only, so ``contains 'école'`` would miss ``ÉCOLE`` (docs/sql.md).
    """
    from django.db.backends.signals import connection_created

    from filterdsl.backends.sql.runners import py_lower

    def _created(sender: Any, connection: Any, **kw: Any) -> None:
        if connection.vendor == "sqlite":
            connection.connection.create_function("lower", 1, py_lower, deterministic=True)

    connection_created.connect(_created, dispatch_uid="filterdsl-sqlite-lower", weak=False)


def _columns(model: Any) -> set[str]:
    return {f.column for f in model._meta.concrete_fields}


def resolve_layout(
    query: Query, model: Any, layout: Any = None, related: Mapping[str, Any] | None = None
) -> JsonLayout | ColumnsLayout:
    """The layout naming ``model``'s table (and ``related`` models', for relational filters).

    ``layout``: None (JSON document layout), ``{field_key: column}`` (columns layout), or a
    ``JsonLayout``/``ColumnsLayout`` whose table for the queried database is replaced by the model's.
    The id column is the model's primary key column.
    """
    tables: dict[Any, str] = {
        db: (m if isinstance(m, str) else m._meta.db_table) for db, m in (related or {}).items()
    }
    tables[query.database] = model._meta.db_table
    pk = model._meta.pk.column
    if layout is None:
        return JsonLayout(tables=tables, id=pk)
    if isinstance(layout, (JsonLayout, ColumnsLayout)):
        return dataclasses.replace(layout, tables={**layout.tables, **tables})
    if isinstance(layout, Mapping):
        return ColumnsLayout(tables=tables, columns={query.database: dict(layout)}, id=pk)
    raise FilterError([Diagnostic("bad-layout", f"not a layout: {layout!r}", Location())])


class _Shared:
    """The query adapted to the model's columns, and its cut SQL per dialect (compiled lazily)."""

    def __init__(
        self,
        query: Query,
        model: Any,
        layout: Any,
        catalog: CatalogSource | None,
        related: Mapping[str, Any] | None,
    ):
        if not isinstance(query, Query):
            raise FilterError(
                [Diagnostic("bad-query", "expected a parsed filterdsl Query (filterdsl.parse)", Location())]
            )
        self.layout = resolve_layout(query, model, layout, related)
        cols = _columns(model)
        self.query = st.adapt_to_columns(
            st.sorted_only(query), self.layout.removed_at in cols, self.layout.updated_at in cols
        )
        self.catalog = catalog
        self._cuts: dict[str, st.Cut] = {}

    def cut(self, vendor: str) -> st.Cut:
        d = st.sql_dialect(vendor)
        c = self._cuts.get(d)
        if c is None:
            c = self._cuts[d] = st.compile_cut(self.query, d, self.layout, self.catalog)
        return c


def _render(pieces: list[st.Piece]) -> tuple[str, list[Any]]:
    params: list[Any] = []

    def param(value: Any) -> str:
        params.append(value)
        return "%s"

    # Django hands the SQL to the driver with params: a literal % must be %% (SQLite's wrapper undoes it)
    return st.render(pieces, lambda s: s.replace("%", "%%"), param), params


class _WithOuter(Expression):
    """An expression over the queryset's own primary-key column (relabelled with the queryset)."""

    def __init__(self, shared: _Shared, outer: Any = None, output_field: Any = None):
        super().__init__(output_field=output_field)
        self.shared = shared
        self.outer = outer if outer is not None else F("pk")

    def get_source_expressions(self) -> list[Any]:
        return [self.outer]

    def set_source_expressions(self, exprs: list[Any]) -> None:
        (self.outer,) = exprs

    def _alias(self, compiler: Any) -> st.Raw | None:
        alias = getattr(self.outer, "alias", None)
        return None if alias is None else st.Raw(str(compiler.quote_name_unless_alias(alias)))

    def _outer_sql(self, compiler: Any) -> str:
        sql, params = compiler.compile(self.outer)
        if params:
            raise FilterError(
                [Diagnostic("internal", "the primary key compiled with parameters", Location())]
            )
        return str(sql)


class FilterCondition(_WithOuter):
    """The filter on the queryset's own rows, for the connection's database."""

    conditional = True

    def __init__(self, shared: _Shared, outer: Any = None):
        super().__init__(shared, outer, BooleanField())

    def as_sql(self, compiler: Any, connection: Any, **kw: Any) -> tuple[str, list[Any]]:
        cut = self.shared.cut(connection.vendor)
        alias = self._alias(compiler) if cut.a.inline else None
        if alias is not None:
            pred = st.predicate(cut, alias)
            return ("(1 = 1)", []) if pred is None else _render(pred)
        # fallback: <pk> IN (SELECT id FROM <table> WHERE <filter>)
        binary = st.sql_dialect(connection.vendor) == "mysql"
        sub, params = _render(st.ids_select(cut, connection.ops.quote_name, binary=binary))
        outer = self._outer_sql(compiler)
        if binary:
            outer = f"CAST({outer} AS BINARY)"
        return f"({outer} IN ({sub}))", params


class OrderKey(_WithOuter):
    """filterdsl's ``index``-th ORDER BY key on the queryset's rows (-1: the row's position, fallback)."""

    def __init__(self, shared: _Shared, index: int, outer: Any = None):
        super().__init__(shared, outer, FloatField())
        self.index = index

    def as_sql(self, compiler: Any, connection: Any, **kw: Any) -> tuple[str, list[Any]]:
        cut = self.shared.cut(connection.vendor)
        alias = self._alias(compiler)
        if self.index >= 0 and alias is not None:
            return _render(st.order_keys(cut, alias)[self.index][0])
        q = connection.ops.quote_name
        sub, params = _render(st.positioned_select(cut, q))
        return (
            f"(SELECT {q('fdsl_p')}.{q(st.POS)} FROM ({sub}) AS {q('fdsl_p')} "
            f"WHERE {q('fdsl_p')}.{q(st.ID)} = {self._outer_sql(compiler)})",
            params,
        )


def _order_bys(shared: _Shared, queryset: QuerySet[Any]) -> list[OrderBy]:
    cut = shared.cut(connections[queryset.db].vendor)
    if not cut.a.inline:
        return [OrderBy(OrderKey(shared, -1))]
    out = []
    for i, (_pieces, descending, nulls_first) in enumerate(st.order_keys(cut, st.Raw("x"))):
        out.append(
            OrderBy(
                OrderKey(shared, i),
                descending=descending,
                nulls_first=True if nulls_first is True else None,
                nulls_last=True if nulls_first is False else None,
            )
        )
    return out


def filter_queryset(
    queryset: QuerySet[Any],
    query: Query,
    *,
    layout: Any = None,
    catalog: CatalogSource | None = None,
    related: Mapping[str, Any] | None = None,
    paginate: bool = True,
) -> QuerySet[Any]:
    """``queryset`` filtered by ``query``, ordered by its order (after any explicit ``order_by`` the
    queryset has; a model's default ``Meta.ordering`` is replaced), and (``paginate``) sliced by skip/limit.

    The queryset's own filters apply first, so paging pages through *its* matching records. A sliced
    queryset cannot be filtered further: pass ``paginate=False`` to slice yourself (or let a DRF
    paginator page). ``related={database_id: Model}`` names the models of referenced databases.
    Raises ``FilterError`` for a filter the layout cannot express (e.g. ``layout-ambiguous``).
    """
    shared = _Shared(query, queryset.model, layout, catalog, related)
    vendor = connections[queryset.db].vendor
    shared.cut(vendor)  # compile now: a bad filter/layout raises here, not when the page renders
    # filterdsl's order after any explicit ordering the queryset has (as SQLAlchemy's apply does)
    qs = queryset.filter(FilterCondition(shared)).order_by(
        *queryset.query.order_by, *_order_bys(shared, queryset)
    )
    if paginate:
        if query.limit is not None:
            qs = qs[query.skip : query.skip + query.limit]
        elif query.skip:
            qs = qs[query.skip :]
    return qs


# ------------------------------------------------------------------ Django REST framework
try:
    from rest_framework.exceptions import APIException
    from rest_framework.filters import BaseFilterBackend
except ImportError:  # pragma: no cover - Django without DRF: filter_queryset alone
    APIException = Exception
    BaseFilterBackend = object


class FilterInvalid(APIException):
    """HTTP 400 whose body is ``{"errors": [{code, message, location}, ...]}`` (located diagnostics)."""

    status_code = 400
    default_code = "invalid-filter"

    def __init__(self, error: FilterError):
        super().__init__("invalid filter")
        self.detail = diagnostics_response(error)  # as they are: numbers stay numbers (line, column)


def diagnostics_response(error: FilterError) -> dict[str, Any]:
    return {"errors": [d.to_json() for d in error.diagnostics]}


class FilterdslFilter(BaseFilterBackend):
    """A DRF filter backend: PixieBrix record query params (GET) or a Pitchly ``data`` variables
    object (a JSON request body, e.g. POST), as PixieBrix's and Pitchly's list endpoints take them.

    View attributes (all optional):
      ``filterdsl_catalog``  a catalog (path, JSON, Catalog) for Pitchly filters and typed fields;
      ``filterdsl_database`` the database id, or the name of a URL kwarg holding it (default
                             ``database_id`` when that kwarg exists);
      ``filterdsl_layout``   as ``filter_queryset``'s ``layout``; ``filterdsl_related`` its ``related``;
      ``filterdsl_options``  parse options (``django_compat=True``, ``lookups="extended"``, ``max_limit=``);
      ``filterdsl_ignore``   query params that are not filters (default ``("format",)``);
      ``filterdsl_paginate`` False to leave skip/limit to a DRF paginator (default True).
    Invalid input raises ``FilterInvalid``: HTTP 400 with every located diagnostic.
    """

    def _database(self, request: Any, view: Any) -> str | None:
        name = getattr(view, "filterdsl_database", None)
        kwargs = getattr(view, "kwargs", {}) or {}
        if name is None:
            return kwargs.get("database_id")
        return kwargs.get(name, name) if isinstance(name, str) else name

    @staticmethod
    def _catalog(view: Any) -> Any:
        catalog = getattr(view, "filterdsl_catalog", None)
        return None if catalog is None else load_catalog(catalog)

    def parse_request(self, request: Any, view: Any) -> Query:
        """The request's filter: a JSON body is Pitchly variables, otherwise the query params are PixieBrix's."""
        cat = self._catalog(view)
        database = self._database(request, view)
        options = dict(getattr(view, "filterdsl_options", {}) or {})
        if request.method in ("POST", "PUT", "PATCH"):
            try:
                body = request.data
            except Exception as e:  # DRF ParseError: not JSON
                raise FilterInvalid(
                    FilterError([Diagnostic("invalid-json", f"request body: {e}", Location(pointer=""))])
                ) from None
            return parse(body, "pitchly", catalog=cat, database=database, **options)
        ignore = set(getattr(view, "filterdsl_ignore", ("format",)))
        raw = request.META.get("QUERY_STRING", "")
        if not ignore.intersection(request.query_params):  # the raw string: diagnostics get line:column
            try:
                raw_bytes = raw.encode("iso-8859-1")  # WSGI/ASGI hand over the bytes as latin-1 text
            except UnicodeEncodeError:
                raw_bytes = raw.encode("utf-8")
            return parse(raw_bytes, "pixiebrix", catalog=cat, database=database, **options)
        pairs = [(k, v) for k, vs in request.query_params.lists() for v in vs if k not in ignore]
        return parse(pairs, "pixiebrix", catalog=cat, database=database, **options)

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        try:
            query = self.parse_request(request, view)
            return filter_queryset(
                queryset,
                query,
                layout=getattr(view, "filterdsl_layout", None),
                catalog=self._catalog(view),
                related=getattr(view, "filterdsl_related", None),
                paginate=getattr(view, "filterdsl_paginate", True),
            )
        except FilterError as e:
            raise FilterInvalid(e) from None
