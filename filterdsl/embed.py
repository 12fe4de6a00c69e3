"""Request-to-query helpers for web servers: parse what a view receives, compile once, cache.

A view hands over the raw query string (or a mapping) of a PixieBrix-style request, or the Pitchly
``data`` variables object of a JSON body; it gets back a :class:`CompiledQuery` whose SQL and
parameters are ready for the driver. Compiled SQL is cached by the AST itself (frozen, hashable and
equal exactly when two requests mean the same query), in a bounded, thread-safe LRU whose hit rate
is observable, so a busy endpoint parses every request but compiles each distinct filter once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from filterdsl.api import parse
from filterdsl.ast import Query
from filterdsl.backends.sql import to_sql
from filterdsl.backends.sql.dialects import registry
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.schema import Catalog, CatalogSource, load_catalog


@dataclass(frozen=True)
class CompiledQuery:
    """A parsed query and its SQL for one dialect; immutable, so it can be shared between threads."""

    query: Query
    sql: str
    params: tuple[Any, ...] | dict[str, Any]
    dialect: str


@dataclass(frozen=True)
class CacheStats:
    hits: int
    misses: int
    size: int
    maxsize: int

    @property
    def hit_rate(self) -> float:
        total = self.hits + self.misses
        return self.hits / total if total else 0.0


class QueryCache:
    """A bounded LRU of compiled SQL keyed by (AST, dialect, layout, paramstyle); safe across threads."""

    def __init__(self, maxsize: int = 1024):
        if type(maxsize) is not int or maxsize < 0:  # a FilterError is a ValueError
            raise FilterError(
                [
                    Diagnostic(
                        "wrong-type",
                        "maxsize is an integer >= 0 (0 disables caching)",
                        Location(param="maxsize"),
                    )
                ]
            )
        self.maxsize = maxsize
        self._items: OrderedDict[Hashable, CompiledQuery] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0

    def get_or_compile(self, key: Hashable, compile_fn: Any) -> CompiledQuery:
        with self._lock:
            hit = self._items.get(key)
            if hit is not None:
                self._items.move_to_end(key)
                self._hits += 1
                return hit
            self._misses += 1
        value: CompiledQuery = compile_fn()  # outside the lock: compiling never blocks other requests
        if self.maxsize:
            with self._lock:
                self._items[key] = value
                self._items.move_to_end(key)
                while len(self._items) > self.maxsize:
                    self._items.popitem(last=False)
        return value

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(self._hits, self._misses, len(self._items), self.maxsize)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self._hits = self._misses = 0


#: The process-wide default cache used when a helper is not given one.
DEFAULT_CACHE = QueryCache()


def compile_query(
    query: Query,
    *,
    dialect: str = "sqlite",
    catalog: Catalog | None = None,
    layout: Any = None,
    paramstyle: str | None = None,
    cache: QueryCache | None = DEFAULT_CACHE,
) -> CompiledQuery:
    """SQL for ``query``, from ``cache`` when the same AST was compiled before (``cache=None``: never)."""
    _check_compile_args(query, dialect, layout, cache)

    def build() -> CompiledQuery:
        sql, params = to_sql(query, dialect=dialect, layout=layout, catalog=catalog, paramstyle=paramstyle)
        return CompiledQuery(query, sql, tuple(params) if isinstance(params, list) else params, dialect)

    if cache is None:
        return build()
    # the dialect object's identity, not only its name, keys the cache (see dialects.registry)
    ident = registry.identity(dialect.lower()) if isinstance(dialect, str) else dialect
    return cache.get_or_compile((query, dialect, ident, _hashable(layout), paramstyle, catalog), build)


def _check_compile_args(query: Any, dialect: Any, layout: Any, cache: Any) -> None:
    """Wrong argument types as located ``wrong-type`` errors, before any cache key is built."""
    from filterdsl.backends.sql import ColumnsLayout, JsonLayout

    for name, value, ok, what in (
        ("query", query, isinstance(query, Query), "a filterdsl Query (from parse)"),
        ("dialect", dialect, isinstance(dialect, str), 'a dialect name such as "postgres"'),
        ("layout", layout, layout is None or isinstance(layout, (JsonLayout, ColumnsLayout)), "a layout"),
        ("cache", cache, cache is None or isinstance(cache, QueryCache), "a QueryCache or None"),
    ):
        if not ok:
            raise FilterError(
                [
                    Diagnostic(
                        "wrong-type", f"{name} is {what}, not {type(value).__name__}", Location(param=name)
                    )
                ]
            )


def _hashable(x: Any) -> Hashable:
    """Layouts hold mappings (unhashable); their repr is a faithful key for frozen dataclasses."""
    try:
        hash(x)
        return x
    except TypeError:
        return repr(x)


def _cat(catalog: CatalogSource | None) -> Catalog | None:
    return None if catalog is None else load_catalog(catalog)  # a Catalog passes through as it is


def from_request_params(
    params: str | bytes | Mapping[str, Any] | Any,
    *,
    database: str | None = None,
    catalog: CatalogSource | None = None,
    dialect: str = "sqlite",
    layout: Any = None,
    paramstyle: str | None = None,
    cache: QueryCache | None = DEFAULT_CACHE,
    before_compile: Callable[[Query], None] | None = None,
    **options: Any,
) -> CompiledQuery:
    """PixieBrix-style params (``request.url.query``, ``request.GET``, a list of pairs) -> compiled query.

    Raises FilterError (answer it as HTTP 400 with ``[d.to_json() for d in e.diagnostics]``).
    """
    cat = _cat(catalog)
    query = parse(params, "pixiebrix", catalog=cat, database=database, **options)
    if before_compile is not None:  # e.g. a store's own limits: refuse before any SQL is built
        before_compile(query)
    return compile_query(
        query, dialect=dialect, catalog=cat, layout=layout, paramstyle=paramstyle, cache=cache
    )


def from_pitchly_variables(
    variables: Mapping[str, Any] | str | bytes,
    *,
    catalog: CatalogSource | None,
    database: str | None = None,
    dialect: str = "sqlite",
    layout: Any = None,
    paramstyle: str | None = None,
    cache: QueryCache | None = DEFAULT_CACHE,
    before_compile: Callable[[Query], None] | None = None,
    **options: Any,
) -> CompiledQuery:
    """The Pitchly ``data`` variables object of a request body -> compiled query (``secretKey`` dropped)."""
    cat = _cat(catalog)
    query = parse(variables, "pitchly", catalog=cat, database=database, **options)
    if before_compile is not None:
        before_compile(query)
    return compile_query(
        query, dialect=dialect, catalog=cat, layout=layout, paramstyle=paramstyle, cache=cache
    )
