"""filterdsl queries on Django querysets, and a Django REST framework filter backend.

    from filterdsl.integrations.django import filter_queryset
    qs = filter_queryset(Record.objects.filter(owner=request.user), query)

How (and why this way): the SQL is what ``filterdsl.to_sql`` compiles for the queryset's database
(``connection.vendor``), embedded as expressions Django renders with its own ``%s`` parameters, so
values stay bound. The filter is the compiled WHERE predicate and the order its ORDER BY keys (one
``OrderBy`` each), with filterdsl's table alias replaced by the queryset's (the SQL backend's compiled
parts, never re-generated or re-read), so the database evaluates exactly the verified SQL on the queryset's
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
from filterdsl.backends.sql.guard import family_class
from filterdsl.errors import Collector, Diagnostic, FilterError, Location
from filterdsl.integrations import _sqltext as st
from filterdsl.schema import CatalogSource, load_catalog
from filterdsl.schema_export import pixiebrix_parameters

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
    from rest_framework.exceptions import APIException, ErrorDetail, ValidationError
    from rest_framework.filters import BaseFilterBackend
    from rest_framework.settings import api_settings
except ImportError:  # pragma: no cover - Django without DRF: filter_queryset alone
    APIException = ValidationError = Exception
    BaseFilterBackend = object
    ErrorDetail = str
    api_settings = None


class FilterInvalid(APIException):
    """HTTP 400 whose body is ``{"errors": [{code, message, location}, ...]}`` (located diagnostics)."""

    status_code = 400
    default_code = "invalid-filter"

    def __init__(self, error: FilterError):
        super().__init__("invalid filter")
        self.detail = diagnostics_response(error)  # as they are: numbers stay numbers (line, column)


def diagnostics_response(error: FilterError) -> dict[str, Any]:
    return {"errors": [d.to_json() for d in error.diagnostics]}


def validation_error(error: FilterError) -> Exception:
    """The diagnostics as DRF's ``ValidationError`` (HTTP 400): ``{"<param or /pointer>": [message]}``,
    each message an ``ErrorDetail`` carrying the diagnostic's code; a diagnostic with neither a
    parameter nor a pointer goes under ``non_field_errors`` (DRF's ``NON_FIELD_ERRORS_KEY``)."""
    detail: dict[str, list[Any]] = {}
    other = api_settings.NON_FIELD_ERRORS_KEY if api_settings is not None else "non_field_errors"
    for d in error.errors:
        loc = d.location
        key = loc.param if loc.param is not None else (loc.pointer or other)
        detail.setdefault(key, []).append(ErrorDetail(d.message, code=d.code))
    return ValidationError(detail)


#: where a paginator keeps the names of its query parameters (DRF's three paginators use these)
PAGINATOR_PARAMS = (
    "page_query_param",
    "page_size_query_param",
    "limit_query_param",
    "offset_query_param",
    "cursor_query_param",
)
#: and a filter backend (SearchFilter, OrderingFilter)
BACKEND_PARAMS = ("search_param", "ordering_param")
#: PixieBrix's paging parameters, which filterdsl leaves to the view's paginator when it has one
PAGING = ("page", "page_size")


def _filterset_names(backend: Any, view: Any, queryset: Any) -> set[str]:
    """The query parameters of django-filter's ``DjangoFilterBackend`` for this view (a range filter's
    widget suffixes included: ``price_min``, ``price_max``)."""
    try:
        fs = backend.get_filterset_class(view, queryset)
    except Exception:  # its own misconfiguration is reported by its own filter_queryset
        return set()
    names: set[str] = set()
    for name, flt in getattr(fs, "base_filters", {}).items():
        try:
            widget = flt.field.widget
        except Exception:
            names.add(name)
            continue
        suffixes = getattr(widget, "suffixes", None)
        subs = getattr(widget, "widgets", None)
        if suffixes:
            names.update(f"{name}_{s}" if s else name for s in suffixes)
        elif subs:
            names.update(f"{name}_{i}" for i in range(len(subs)))
        else:
            names.add(name)
    return names


def owned_params(view: Any, queryset: Any = None) -> dict[str, str]:
    """Query parameters that belong to someone else than filterdsl on this view, read from the view
    itself: its other filter backends' (``search``; ``ordering`` when ``OrderingFilter`` is there;
    django-filter's filterset fields), its paginator's (``page``/``page_size``, ``limit``/``offset``,
    ``cursor``, as configured) and DRF's format override (``format``); plus ``filterdsl_ignore``.
    name -> the owner's name (for messages)."""
    owned: dict[str, str] = {}
    fmt = api_settings.URL_FORMAT_OVERRIDE if api_settings is not None else "format"
    if fmt:
        owned[fmt] = "DRF's format override"
    for cls in getattr(view, "filter_backends", None) or ():
        if isinstance(cls, type) and issubclass(cls, FilterdslFilter):
            continue
        backend = cls() if isinstance(cls, type) else cls
        name = type(backend).__name__
        for attr in BACKEND_PARAMS:
            value = getattr(backend, attr, None)
            if isinstance(value, str) and value:
                owned[value] = name
        if hasattr(backend, "get_filterset_class"):
            qs = queryset
            if qs is None:
                try:
                    qs = view.get_queryset()
                except Exception:
                    qs = None
            for n in _filterset_names(backend, view, qs):
                owned[n] = name
    paginator = getattr(view, "paginator", None)
    if paginator is not None:
        for attr in PAGINATOR_PARAMS:
            value = getattr(paginator, attr, None)
            if isinstance(value, str) and value:
                owned[value] = type(paginator).__name__
    for extra in getattr(view, "filterdsl_ignore", ()) or ():
        owned[extra] = "filterdsl_ignore"
    return owned


class FilterdslFilter(BaseFilterBackend):
    """A DRF filter backend: PixieBrix record query params (GET) or a Pitchly ``data`` variables
    object (a JSON request body, e.g. POST), as PixieBrix's and Pitchly's list endpoints take them.

    It composes with the view's other backends and its paginator: the parameters they own
    (``owned_params``: ``search``, ``ordering`` when ``OrderingFilter`` is configured, django-filter's
    fields, the paginator's ``page``/``page_size``/``limit``/``offset``/``cursor``, ``format``) are
    theirs, read from the view; when the view has a paginator, filterdsl never slices (the paginator
    pages and counts), and ``page``/``page_size`` that the paginator does not take are errors.

    View attributes (all optional):
      ``filterdsl_catalog``  a catalog (path, JSON, Catalog) for Pitchly filters and typed fields;
      ``filterdsl_database`` the database id, or the name of a URL kwarg holding it (default
                             ``database_id`` when that kwarg exists);
      ``filterdsl_layout``   as ``filter_queryset``'s ``layout``; ``filterdsl_related`` its ``related``;
      ``filterdsl_options``  parse options (``django_compat=True``, ``lookups="extended"``, ``max_limit=``);
      ``filterdsl_ignore``   more query params that are not filters (besides the owned ones);
      ``filterdsl_paginate`` False/True to force leaving skip/limit to DRF or slicing (default: slice
                             only when the view has no paginator);
      ``filterdsl_errors``   ``"filterdsl"`` (default: ``FilterInvalid``, ``{"errors": [...]}``) or
                             ``"drf"`` (a ``ValidationError``: ``{"<param>": ["message"]}``).
    Invalid input is HTTP 400 with every located diagnostic. The parsed query is left at
    ``request.filterdsl_query`` (e.g. for its projection, ``fields``).
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

    @staticmethod
    def _paged_by_view(view: Any) -> bool:
        forced = getattr(view, "filterdsl_paginate", None)
        if forced is not None:
            return not forced
        return getattr(view, "paginator", None) is not None

    def parse_request(self, request: Any, view: Any, queryset: Any = None) -> Query:
        """The request's filter: a JSON body is Pitchly variables, otherwise the query params are PixieBrix's."""
        cat = self._catalog(view)
        database = self._database(request, view)
        options = dict(getattr(view, "filterdsl_options", {}) or {})
        paged = self._paged_by_view(view)
        if request.method in ("POST", "PUT", "PATCH"):
            try:
                body = request.data
            except Exception as e:  # DRF ParseError: not JSON
                raise FilterError(
                    [Diagnostic("invalid-json", f"request body: {e}", Location(pointer=""))]
                ) from None
            if paged and isinstance(body, Mapping):
                clash = [k for k in ("limit", "skip") if k in body]
                if clash:
                    raise FilterError(
                        [
                            Diagnostic(
                                "unknown-key",
                                f"{k!r}: this view pages with its paginator "
                                f"({type(getattr(view, 'paginator', None)).__name__}); use its query "
                                "parameters",
                                Location(pointer=f"/{k}"),
                            )
                            for k in clash
                        ]
                    )
            return parse(body, "pitchly", catalog=cat, database=database, **options)
        from filterdsl.frontends import Context
        from filterdsl.frontends.pixiebrix import decode, parse_params
        from filterdsl.options import ParseOptions

        raw = request.META.get("QUERY_STRING", "")
        try:
            raw_bytes = raw.encode("iso-8859-1")  # WSGI/ASGI hand over the bytes as latin-1 text
        except UnicodeEncodeError:
            raw_bytes = raw.encode("utf-8")
        try:
            text = raw_bytes.decode("utf-8")
        except UnicodeDecodeError as e:
            raise FilterError(
                [
                    Diagnostic(
                        "invalid-encoding",
                        f"query string is not UTF-8 (byte {e.start})",
                        Location(offset=e.start),
                    )
                ]
            ) from None
        opts = ParseOptions.from_kwargs(**options)
        if len(raw_bytes) > opts.limits.max_input_bytes:
            raise FilterError(
                [
                    Diagnostic(
                        "too-large", f"input exceeds {opts.limits.max_input_bytes} bytes", Location(offset=0)
                    )
                ]
            )
        c = Collector()
        owned = owned_params(view, queryset)
        vendor = connections[queryset.db].vendor if queryset is not None else None
        kept = []
        for p in decode(text, c):
            if p.name in owned:
                continue
            if paged and p.name in PAGING:
                pager = getattr(view, "paginator", None)
                theirs = sorted(k for k, v in owned.items() if v == type(pager).__name__)
                message = (
                    f"{p.name!r}: this view pages with its paginator ({type(pager).__name__}"
                    + (f": {', '.join(theirs)}" if theirs else "")
                    + "), not with filterdsl's page/page_size"
                )
                if opts.django_compat:
                    c.warn("unknown-param", message + " (ignored, as Django does)", p.loc())
                else:
                    c.error("unknown-param", message, p.loc())
                continue
            kept.append(p)
        result = parse_params(kept, Context(cat, database, opts), tuple(c.items))
        if result.query is None:
            raise FilterError(list(result.diagnostics))
        nul = [
            Diagnostic(  # located at the parameter (the compile step would point into the AST)
                "bad-value",
                "this parameter holds a NUL character (U+0000), which "
                + ("no key in SQL text" if "\x00" in p.name or p.name == "ordering" else f"no {vendor} text")
                + " can hold exactly",
                p.loc(),
            )
            for p in kept
            # NUL values: refused where the engine cannot hold one exactly (backends/sql/guard.py)
            if "\x00" in p.name
            or (
                "\x00" in p.value
                and (p.name == "ordering" or not family_class(st.sql_dialect(vendor or "")).HOLDS_NUL)
            )
        ]
        if nul:
            raise FilterError(nul)
        return result.query

    def _raise(self, view: Any, e: FilterError) -> Exception:
        if getattr(view, "filterdsl_errors", "filterdsl") == "drf":
            return validation_error(e)
        return FilterInvalid(e)

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        try:
            query = self.parse_request(request, view, queryset)
            request.filterdsl_query = query  # for the view (projection: query.fields)
            return filter_queryset(
                queryset,
                query,
                layout=getattr(view, "filterdsl_layout", None),
                catalog=self._catalog(view),
                related=getattr(view, "filterdsl_related", None),
                paginate=not self._paged_by_view(view),
            )
        except FilterError as e:
            raise self._raise(view, e) from None

    # ------------------------------------------------------------ OpenAPI and the browsable API
    def _schema_database(self, view: Any) -> Any:
        cat = self._catalog(view)
        if cat is None:
            return None
        name = getattr(view, "filterdsl_database", None)
        kwargs = getattr(view, "kwargs", {}) or {}
        db = kwargs.get(name or "database_id", name)
        return cat.get(db) if isinstance(db, str) else None

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        """OpenAPI query parameters (DRF's schema generator and drf-spectacular read them): the same
        listing as ``schema_export.pixiebrix_parameters`` (one description of the params, not two), less
        what the view's other backends own (``ordering`` under ``OrderingFilter``) and ``page``/``page_size``
        when a paginator pages."""
        db = self._schema_database(view)
        options = dict(getattr(view, "filterdsl_options", {}) or {})
        lookups = options.get("lookups", "strict")
        limits = options.get("limits")
        params = pixiebrix_parameters(
            self._catalog(view) if db is not None else None,
            db.id if db is not None else None,
            lookups="extended" if lookups == "extended" else "strict",
            max_page_size=getattr(limits, "max_page_size", None),
        )
        owned = set(owned_params(view))
        if self._paged_by_view(view):
            owned |= {"page", "page_size"}
        return [p for p in params if p["name"] not in owned]

    def to_html(self, request: Any, queryset: Any, view: Any) -> str:
        """A filter form for DRF's browsable API: the parameters the schema lists, with the request's
        current values; submitting it keeps the parameters other backends and the paginator own."""
        from django.utils.html import format_html, format_html_join

        params = self.get_schema_operation_parameters(view)
        current = request.query_params
        owned = owned_params(view, queryset)
        hidden = format_html_join(
            "",
            '<input type="hidden" name="{}" value="{}">',
            ((k, v) for k, vs in current.lists() if k in owned for v in vs),
        )
        rows = format_html_join(
            "",
            '<div class="form-group"><label for="fdsl-{0}">{0}</label>'
            '<input class="form-control" type="text" id="fdsl-{0}" name="{0}" value="{1}" '
            'placeholder="{2}"></div>',
            ((p["name"], current.get(p["name"], ""), p["description"]) for p in params),
        )
        return str(
            format_html(
                '<h2>filterdsl</h2><form class="form" action="" method="get">{}{}'
                '<button type="submit" class="btn btn-primary">Filter</button></form>',
                hidden,
                rows,
            )
        )
