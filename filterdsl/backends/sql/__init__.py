"""SQL backend: a Query -> one SELECT (sqlglot tree) over a JSON document or columns layout.

``to_sql`` returns ``(sql, params)`` with every value a bound parameter in the driver's paramstyle;
``to_sqlglot`` returns the tree (placeholders named ``p0``, ``p1``... or literals with ``inline=True``).
The SELECT returns ``id, created_at, updated_at, removed_at, data`` in result order; projection
(``Query.fields``) is applied in Python after fetching (see ``filterdsl.backends.sql.runners``).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import re
import secrets
import threading
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import sqlglot
from sqlglot import exp

from filterdsl.ast import Query
from filterdsl.backends.sql.compiler import Compiled, compile_shape, compile_tree
from filterdsl.backends.sql.dialects import DIALECT_FAMILY, family_class, family_for, registry
from filterdsl.backends.sql.guard import check_keys, check_size, check_values
from filterdsl.backends.sql.layout import ColumnsLayout, ColumnSpec, JsonLayout, SqlLayoutWarning
from filterdsl.backends.sql.shape import bind, binder, extract, shape_key
from filterdsl.backends.sql.status import UnverifiedDialectWarning, warn_unverified
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.schema import CatalogSource
from filterdsl.semantics.cursor import check_cursor

__all__ = [
    "ColumnSpec",
    "ColumnsLayout",
    "JsonLayout",
    "SqlLayoutWarning",
    "to_sql",
    "to_sqlglot",
    "compile_tree",
    "DIALECT_FAMILY",
    "UnverifiedDialectWarning",
    "PARAMSTYLES",
    "DEFAULT_PARAMSTYLE",
    "dialect_names",
    "sql_cache_info",
    "clear_sql_cache",
]

#: PEP 249 paramstyles plus "dollar" ($1, DuckDB/PostgreSQL server side) and "native" (sqlglot's own
#: placeholder syntax for the dialect, params as a dict by name)
PARAMSTYLES = ("qmark", "numeric", "named", "format", "pyformat", "dollar", "native")
DEFAULT_PARAMSTYLE = {"sqlite": "qmark", "duckdb": "qmark", "postgres": "format", "mysql": "format"}


def dialect_names() -> list[str]:
    """Every dialect sqlglot knows (``Dialects`` enum values, without the empty default)."""
    from sqlglot.dialects import Dialects

    return [d.value for d in Dialects if d.value]


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while one query's SQL is built and printed.

    sqlglot trees are cyclic (parent links), and a large one keeps every collection walking the whole
    growing tree, which made compiling super-linear: 88 -> 211 us/condition from 1,000 to 3,000
    conditions on SQLite with the collector on, 80 -> 79 with it paused. Only the call that paused it
    re-enables it, so a program that turned the collector off keeps it off; the garbage is collected
    as usual afterwards.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _dispose(tree: exp.Expr) -> None:
    """Break a finished tree's parent links, so reference counting frees it at once.

    Freed by the cyclic collector instead, a 10,000-condition tree (~300,000 nodes) cost 0.4-1.6 s
    of collection after every cold compile: a third of the whole compile (issue 26, H5)."""
    stack: list[Any] = [tree]
    push, pop, expr = stack.append, stack.pop, exp.Expr
    while stack:
        node = pop()
        node.parent = None
        for v in node.args.values():
            if type(v) is list:
                for x in v:
                    if isinstance(x, expr):
                        push(x)
            elif isinstance(v, expr):
                push(v)


@functools.lru_cache(maxsize=64)
def _dialect(dialect: str) -> str:
    """The dialect's name, once its sqlglot class is completely loaded (see dialects.registry)."""
    registry.dialect(dialect.lower())
    return dialect.lower()


def _not_expressible(dialect: str, err: Exception) -> FilterError:
    return FilterError(
        [
            Diagnostic(
                "not-expressible",
                f"the {dialect!r} dialect cannot express this query: {err}",
                Location(param="dialect"),
            )
        ]
    )


def _generate(
    tree: exp.Expr,
    dialect: str,
    placeholder: Callable[[exp.Placeholder], str] | None = None,
    pretty: bool = False,
) -> str:
    """Generate SQL, refusing constructs the dialect does not support (never invalid SQL).

    ``placeholder`` overrides how placeholders are written (paramstyle rendering without a tree copy);
    ``pretty`` uses sqlglot's pretty printer (same statement, indented over lines).
    """
    gen = registry.dialect(dialect).generator(
        unsupported_level=sqlglot.ErrorLevel.RAISE, comments=False, pretty=pretty
    )
    registry.check_generator(dialect, gen)
    if placeholder is not None:
        gen._dispatch = {**gen._dispatch, exp.Placeholder: lambda _g, e: placeholder(e)}
    try:
        return gen.generate(tree, copy=not _verified(dialect))
    except sqlglot.errors.UnsupportedError as e:
        raise _not_expressible(dialect, e) from None


def _verified(dialect: str) -> bool:
    """The dialect's output is executed in the tests (its family's VERIFIED); every other dialect's
    output is parsed back."""
    return family_class(dialect).VERIFIED


def _typed(tree: exp.Expr, comp: Compiled, dialect: str) -> exp.Expr:
    """Placeholders as the dialect takes them (its family's ``typed_params``: ClickHouse types them)."""
    return family_class(dialect).typed_params(tree, comp.params)


def _parses_back(text: str, dialect: str) -> None:
    """Refuse output sqlglot cannot read back in the same dialect (e.g. PRQL, DAX: not SQL)."""
    try:
        sqlglot.parse_one(text, read=dialect)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as e:
        raise FilterError(
            [
                Diagnostic(
                    "not-expressible",
                    f"the {dialect!r} dialect cannot express this query as SQL that sqlglot reads "
                    f"back ({str(e).splitlines()[0]})",
                    Location(param="dialect"),
                )
            ]
        ) from None


def _literal(value: Any) -> exp.Expr:
    if isinstance(value, str):
        return exp.Literal.string(value)
    return exp.Literal.number(repr(value) if isinstance(value, float) else str(value))


def to_sqlglot(
    query: Query,
    dialect: str = "sqlite",
    layout: JsonLayout | ColumnsLayout | None = None,
    catalog: CatalogSource | None = None,
    inline: bool = False,
    icu_lower: bool = False,
) -> exp.Select:
    """The SELECT as a sqlglot tree. Placeholders are named ``p0``...; ``inline=True`` puts literals there."""
    dialect = _dialect(dialect)
    check_keys(query, dialect, isinstance(layout, ColumnsLayout))
    with _collector_paused():
        comp = compile_tree(query, dialect, layout, catalog, icu_lower=icu_lower)
        tree = comp.tree if not inline else inline_params(comp, dialect)
        if not _verified(dialect):
            _parses_back(_generate(_typed(tree, comp, dialect), dialect), dialect)
    _warn(comp.warnings)
    warn_unverified(dialect, _layout_name(layout))
    return tree


def to_sql_inline(
    query: Query,
    dialect: str = "sqlite",
    layout: JsonLayout | ColumnsLayout | None = None,
    catalog: CatalogSource | None = None,
    pretty: bool = False,
) -> str:
    """One statement with the values as SQL literals escaped by sqlglot: for reading and for psql,
    never for running user input (bound parameters are what ``to_sql`` is for)."""
    text = _generate(to_sqlglot(query, dialect, layout, catalog, inline=True), dialect.lower(), pretty=pretty)
    check_size(text, (), dialect.lower(), isinstance(layout, ColumnsLayout))
    return text


def _layout_name(layout: JsonLayout | ColumnsLayout | None) -> str:
    return "columns" if isinstance(layout, ColumnsLayout) else "json"


def inline_params(comp: Compiled, dialect: str | None = None) -> exp.Select:
    """The tree with values as literals; given the dialect, in the form its family writes a literal that
    no session setting reads as other text (``Family.literal``: PostgreSQL ``E'...'`` and so on)."""
    fam = family_for(dialect, _no_param) if dialect is not None else None

    def sub(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Placeholder) and node.name in comp.params:
            lit = _literal(comp.params[node.name])
            return fam.safe_literals(lit) if fam is not None else lit
        return node

    return comp.tree.transform(sub)  # type: ignore[return-value]


def _no_param(value: object) -> exp.Expr:
    raise TypeError("no parameters here")


#: Placeholder marker while generating: random per process (no input can predict it to forge a
#: placeholder), compiled once (a fresh pattern per call cost ~60-140 us, 5-10% of a typical to_sql).
_TOKEN = "fdslp" + secrets.token_hex(8) + "x"
_TOKEN_RE = re.compile(re.escape(_TOKEN) + r"(\d+)" + re.escape(_TOKEN))


def render(comp: Compiled, dialect: str, paramstyle: str, pretty: bool = False) -> tuple[str, Any]:
    """SQL text with placeholders in ``paramstyle`` and the matching params (list, or dict for named)."""
    if paramstyle not in PARAMSTYLES:
        raise FilterError(
            [
                Diagnostic(
                    "bad-paramstyle",
                    f"unknown paramstyle {paramstyle!r}; one of {', '.join(PARAMSTYLES)}",
                    Location(param="paramstyle"),
                )
            ]
        )
    if paramstyle == "native":
        tree: exp.Expr = _typed(comp.tree, comp, dialect)
        text = _generate(tree, dialect, pretty=pretty)
        if not _verified(dialect):
            _parses_back(text, dialect)
        return text, dict(comp.params)

    def mark(node: exp.Placeholder) -> str:
        if node.name not in comp.params:
            raise FilterError(
                [Diagnostic("internal", f"unknown placeholder {node.name!r}", Location(param="query"))]
            )
        return f"{_TOKEN}{node.name[1:]}{_TOKEN}"

    text = _generate(comp.tree, dialect, mark, pretty=pretty)
    if paramstyle in ("format", "pyformat"):
        text = text.replace("%", "%%")  # literal % in identifiers/literals: the driver formats the text
    params: list[Any] = []
    named: dict[str, Any] = {}

    def repl(m: re.Match[str]) -> str:
        name = "p" + m.group(1)
        value = comp.params[name]
        if paramstyle in ("named", "pyformat"):
            named[name] = value
            return f":{name}" if paramstyle == "named" else f"%({name})s"
        params.append(value)
        n = len(params)
        return {"qmark": "?", "format": "%s", "numeric": f":{n}", "dollar": f"${n}"}[paramstyle]

    text = _TOKEN_RE.sub(repl, text)
    if not _verified(dialect):
        _parses_back(_generate(_typed(comp.tree, comp, dialect), dialect), dialect)
    return text, (named if paramstyle in ("named", "pyformat") else params)


def _warn(messages: tuple[str, ...]) -> None:
    for m in messages:
        warnings.warn(SqlLayoutWarning(m), stacklevel=3)


class _Rendered(NamedTuple):
    text: str
    names: tuple[str, ...] | None  # parameter names (named paramstyles), None for a list
    plan: tuple[tuple[int, tuple[str, ...], Any], ...]  # see shape.binder
    warnings: tuple[str, ...]
    dialect: int  # registry.identity of the dialect object the text was generated with


class CacheInfo(NamedTuple):
    hits: int
    misses: int
    maxsize: int
    currsize: int
    weight: int


#: Compiled SQL per (shape, dialect, layout, paramstyle, icu_lower), least recently used evicted. The SQL
#: of a shape never depends on its values (the compiler only sees slots), so a hit is exact, not a
#: guess; see shape.py. Entries hold SQL text and bind plans, never a query's values.
#: Bounded twice: by entries and by their total weight (characters of SQL plus key and plan items), so
#: a server fed many huge filters (10,000 conditions is a ~10 MB PostgreSQL text) cannot grow it
#: without bound; an entry heavier than an eighth of the budget is compiled but not kept.
SQL_CACHE_SIZE = 512
SQL_CACHE_MAX_WEIGHT = 32 * 2**20
_cache: OrderedDict[tuple[Any, ...], tuple[_Rendered, int]] = OrderedDict()
_lock = threading.Lock()
_stats = [0, 0, 0]  # hits, misses, total weight


def _render_shape(
    query: Query,
    key: tuple[Any, ...],
    values: list[Any],
    dialect: str,
    layout: JsonLayout | ColumnsLayout | None,
    style: str,
    icu_lower: bool,
    pretty: bool = False,
    count: bool = False,
) -> _Rendered:
    check_keys(query, dialect, isinstance(layout, ColumnsLayout))
    shape, shape_values = extract(query)
    again, slots = shape_key(shape)
    if again != key or shape_values != values or [s.index for s in slots] != list(range(len(values))):
        # the flat key and the shape disagree: a bug here, never a reason to serve other SQL
        raise FilterError([Diagnostic("internal", "SQL shape key mismatch", Location(param="query"))])
    ident = registry.identity(dialect)
    with _collector_paused():
        comp = compile_shape(shape, dialect, layout, icu_lower=icu_lower, count=count)
        text, params = render(comp, dialect, style, pretty)
        warned = comp.warnings
        _dispose(comp.tree)
        del comp  # freed here, while the collector is paused (it would walk the whole tree)
    names = tuple(params) if isinstance(params, dict) else None
    return _Rendered(text, names, binder(params), warned, ident)


def sql_cache_info() -> CacheInfo:
    """Hits, misses, maximum and current size of the per-shape SQL cache."""
    with _lock:
        return CacheInfo(_stats[0], _stats[1], SQL_CACHE_SIZE, len(_cache), _stats[2])


def clear_sql_cache() -> None:
    with _lock:
        _cache.clear()
        _stats[0] = _stats[1] = _stats[2] = 0


def to_sql(
    query: Query,
    dialect: str = "sqlite",
    layout: JsonLayout | ColumnsLayout | None = None,
    catalog: CatalogSource | None = None,
    paramstyle: str | None = None,
    icu_lower: bool = False,
    pretty: bool = False,
    *,
    count: bool = False,
) -> tuple[str, Any]:
    """``(sql, params)`` for ``query`` in ``dialect`` (any sqlglot dialect).

    ``count=True``: ``SELECT COUNT(*)`` of the rows the filter matches (no ORDER BY, no derived table;
    the query's sort, skip and limit are ignored), which is what a listing's total needs.

    ``paramstyle`` defaults to what the usual driver takes (sqlite3/duckdb ``?``, psycopg/pymysql
    ``%s``; sqlglot's own placeholder syntax for other dialects). ``icu_lower`` (PostgreSQL) folds
    case with the ICU root collation, which agrees with Python's ``str.lower`` (needs ICU).
    The SQL text is cached per query shape (values replaced by slots); a fresh params list is bound
    from this query's values on every call. ``pretty`` prints the same statement over indented lines.
    """
    dialect = _dialect(dialect)
    style = paramstyle or DEFAULT_PARAMSTYLE.get(dialect, "native")
    if query.after is not None:
        check_cursor(query)
    key, values = shape_key(query)
    columns = isinstance(layout, ColumnsLayout)
    check_values(query, values, dialect, columns)  # NUL: the cached SQL was checked for keys only
    lay_key = None if layout is None else (type(layout), repr(layout))  # by value: its dicts are mutable
    # the dialect object's identity is part of the key: SQL is only ever served for the very object
    # it was generated with (issue 26, H7)
    ident = registry.identity(dialect)
    ck = (key, dialect, ident, lay_key, style, bool(icu_lower), bool(pretty)) + (("count",) if count else ())
    entry = _cache.get(ck)
    if entry is None:
        out = _render_shape(
            query, key, values, dialect, layout, style, bool(icu_lower), bool(pretty), bool(count)
        )
        weight = len(out.text) + 8 * (len(key) + len(out.plan))
        if out.dialect != ident:  # self-check: never store SQL generated for another dialect object
            raise FilterError(
                [Diagnostic("internal", "SQL generated by another dialect", Location(param="dialect"))]
            )
        with _lock:
            _stats[1] += 1
            if weight <= SQL_CACHE_MAX_WEIGHT // 8 and ck not in _cache:
                _cache[ck] = (out, weight)
                _stats[2] += weight
                while len(_cache) > SQL_CACHE_SIZE or _stats[2] > SQL_CACHE_MAX_WEIGHT:
                    _stats[2] -= _cache.popitem(last=False)[1][1]
    else:
        out = entry[0]
        with _lock:
            _stats[0] += 1
            if ck in _cache:
                _cache.move_to_end(ck)
    _warn(out.warnings)
    warn_unverified(dialect, _layout_name(layout))
    params = bind(out.plan, values)
    check_size(out.text, params, dialect, columns)
    return out.text, (params if out.names is None else dict(zip(out.names, params)))
