"""The public functions: parse, validate, to_predicate, apply (and the backends' entry points)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal, TypedDict, overload

from filterdsl.ast import Node, Query
from filterdsl.errors import Diagnostic, FilterError, Location, pointer
from filterdsl.frontends import FRONTENDS, Context, ParseResult, frontend
from filterdsl.options import ParseOptions
from filterdsl.records import normalize_dataset, normalize_record
from filterdsl.schema import Catalog, CatalogSource, load_catalog

if TYPE_CHECKING:  # typing.Unpack is Python 3.11+; annotations are never evaluated at run time
    from typing_extensions import Unpack

    from filterdsl.backends.sql import ColumnsLayout, JsonLayout
    from filterdsl.options import Limits

#: the input formats ``parse`` reads (kept equal to the frontends registry by tests/test_public_api.py)
Format = Literal["pitchly", "search", "pixiebrix", "text", "ast"]
#: the formats ``to_format`` writes
OutputFormat = Literal["pitchly", "text", "ast", "search", "pixiebrix"]
#: every sqlglot dialect, and datafusion (kept equal to ``backends.sql.dialect_names()`` by the tests)
Dialect = Literal[
    "athena", "bigquery", "clickhouse", "databricks", "datafusion", "dax", "doris", "dremio", "drill",
    "druid", "duckdb", "dune", "exasol", "fabric", "hive", "materialize", "mysql", "oracle", "postgres",
    "presto", "prql", "redshift", "risingwave", "snowflake", "solr", "spark", "spark2", "sqlite",
    "starrocks", "tableau", "teradata", "trino", "tsql",
]  # fmt: skip
Paramstyle = Literal["qmark", "numeric", "named", "format", "pyformat", "dollar", "native"]


class ParseKwargs(TypedDict, total=False):
    """The parse options as keyword arguments (``filterdsl.options.ParseOptions``)."""

    strict: bool
    resolve_names: bool
    quoted: bool
    django_compat: bool
    lookups: Literal["strict", "extended"]
    limits: Limits
    max_limit: int
    max_page_size: int
    cursor_secret: str | bytes | None


FORMATS: tuple[str, ...] = tuple(FRONTENDS)


def _catalog(catalog: CatalogSource | None) -> Catalog | None:
    return None if catalog is None else load_catalog(catalog)


def _wrong(name: str, what: str, value: Any) -> FilterError:
    """A wrong argument type, refused where it enters (located at the argument's name)."""
    return FilterError(
        [Diagnostic("wrong-type", f"{name} is {what}, not {type(value).__name__}", Location(param=name))]
    )


def _query(query: Any, name: str = "query") -> Query:
    if not isinstance(query, Query):
        raise _wrong(name, "a filterdsl Query (from parse)", query)
    return query


def _database(database: Any) -> None:
    if database is not None and not isinstance(database, str):
        raise _wrong("database", "a database _id string", database)


def parse_result(
    source: Any,
    format: Format = "pitchly",
    catalog: CatalogSource | None = None,
    database: str | None = None,
    **options: Unpack[ParseKwargs],
) -> ParseResult:
    """Parse without raising: the query (None on errors) and every diagnostic."""
    _database(database)
    cat = _catalog(catalog)
    opt = ParseOptions.from_kwargs(**options)
    parse_fn = frontend(format) if isinstance(format, str) else None
    if parse_fn is not None:
        res = parse_fn(source, Context(cat, database, opt))
        if res.diagnostics:  # the last guard: no piece of a secretKey value in any message (redact.py)
            from filterdsl.redact import scrub

            return ParseResult(res.query, scrub(res.diagnostics, source))
        return res
    raise FilterError(
        [
            Diagnostic(
                "unknown-format",
                f"unknown format {format!r}; one of {', '.join(FORMATS)}",
                Location(param="format"),
            )
        ]
    )


def parse(
    source: Any,
    format: Format = "pitchly",
    catalog: CatalogSource | None = None,
    database: str | None = None,
    **options: Unpack[ParseKwargs],
) -> Query:
    """Parse any supported input into a Query; raises FilterError listing every problem."""
    res = parse_result(source, format, catalog, database, **options)
    if res.query is None or res.errors:
        raise FilterError(res.diagnostics)
    return res.query


def validate(
    source: Any,
    format: Format = "pitchly",
    catalog: CatalogSource | None = None,
    database: str | None = None,
    **options: Unpack[ParseKwargs],
) -> list[Diagnostic]:
    """Every error and warning for the input; an empty list means valid and clean."""
    return list(parse_result(source, format, catalog, database, **options).diagnostics)


def _is_dataset(records: Any) -> bool:
    return (
        isinstance(records, Mapping) and bool(records) and all(isinstance(v, list) for v in records.values())
    )


def _dataset(
    query: Query, records: Any, catalog: Catalog | None, related: Mapping[str, Any] | None
) -> dict[Any, list[dict[str, Any]]]:
    if _is_dataset(records):
        data = dict(records)
    else:
        data = {query.database: list(records)}
    if related:
        data.update(related)
    return normalize_dataset(data, catalog)


def _related(related: Any) -> dict[Any, list[Any]] | None:
    """``related`` checked where it enters: a mapping of database id -> a list (or other iterable) of
    records; anything else is ``wrong-type`` located at the argument and the offending key."""
    if related is None:
        return None
    if not isinstance(related, Mapping):
        raise _wrong("related", "a mapping {database_id: records}", related)
    out: dict[Any, list[Any]] = {}
    for k, v in related.items():
        if isinstance(v, (str, bytes, Mapping)) or not isinstance(v, Iterable):
            raise FilterError(
                [
                    Diagnostic(
                        "wrong-type",
                        f"related[{k!r}] is a list of records, not {type(v).__name__}",
                        Location(param="related", pointer=pointer([str(k)])),
                    )
                ]
            )
        out[k] = list(v)
    return out


def to_predicate(
    query: Query | Node,
    catalog: CatalogSource | None = None,
    related: Mapping[str, Iterable[Any]] | None = None,
) -> Callable[[Any], bool]:
    """A callable over Pitchly rows, PixieBrix records or canonical documents.

    Relational filters need ``related``: ``{database_id: records}`` of each referenced database.
    Canonical documents (as produced by filterdsl) are used as they are; other shapes are normalised.
    """
    from filterdsl.backends.memory import compile_predicate

    if not isinstance(query, (Query, Node)):
        raise _wrong("query", "a filterdsl Query or AST node", query)
    q = query if isinstance(query, Query) else Query(query)
    rel_lists = _related(related)
    cat = _catalog(catalog)
    rel = normalize_dataset(rel_lists, cat) if rel_lists else None
    db = cat.get(q.database) if cat is not None and q.database else None
    # Canonical documents (they have removed_at; Pitchly rows say removedAt) are used as they are.
    return compile_predicate(q.predicate, rel, normalize=lambda record: normalize_record(record, db))


def apply(
    query: Query,
    records: Iterable[Any] | Mapping[str, list[Any]],
    catalog: CatalogSource | None = None,
    related: Mapping[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Run the whole query (filter, search, sort, skip, limit, projection) over records.

    ``records`` is a list of records of the queried database, or ``{database_id: [records]}``.
    Returns canonical documents in result order.
    """
    from filterdsl.backends.memory import run

    _query(query)
    if isinstance(records, (str, bytes)) or not isinstance(records, (Mapping, Iterable)):
        raise _wrong("records", "a list of records or {database_id: [records]}", records)
    rel = _related(related)
    cat = _catalog(catalog)
    return run(query, _dataset(query, records, cat, rel), cat)


def to_sql(
    query: Query,
    dialect: Dialect = "sqlite",
    layout: JsonLayout | ColumnsLayout | None = None,
    catalog: CatalogSource | None = None,
    paramstyle: Paramstyle | None = None,
    icu_lower: bool = False,
    pretty: bool = False,
) -> tuple[str, Any]:
    """Compile to ``(sql, params)``: see filterdsl.backends.sql.to_sql."""
    from filterdsl.backends.sql import ColumnsLayout, JsonLayout
    from filterdsl.backends.sql import to_sql as impl

    _query(query)
    if not isinstance(dialect, str):
        raise _wrong("dialect", 'a dialect name such as "postgres"', dialect)
    if layout is not None and not isinstance(layout, (JsonLayout, ColumnsLayout)):
        raise _wrong("layout", "a JsonLayout or ColumnsLayout (filterdsl.backends.sql)", layout)
    if paramstyle is not None and not isinstance(paramstyle, str):
        raise _wrong("paramstyle", 'a paramstyle name such as "qmark"', paramstyle)
    for name, flag in (("icu_lower", icu_lower), ("pretty", pretty)):
        if not isinstance(flag, bool):
            raise _wrong(name, "true or false", flag)
    if catalog is not None:
        catalog = _catalog(catalog)  # checked here, not first read (or never) deep in the compiler
    return impl(query, dialect, layout, catalog, paramstyle, icu_lower=icu_lower, pretty=pretty)


def to_mongo(
    query: Query, catalog: CatalogSource | None = None, collections: Mapping[Any, str] | None = None
) -> dict[str, Any]:
    """Compile to a MongoDB find/aggregate spec: see filterdsl.backends.mongo.to_mongo."""
    from filterdsl.backends.mongo import to_mongo as impl

    _query(query)
    if collections is not None and (
        not isinstance(collections, Mapping) or not all(isinstance(v, str) for v in collections.values())
    ):
        raise _wrong("collections", "a mapping {database_id: collection name}", collections)
    return impl(query, _catalog(catalog), collections)


@overload
def to_format(
    query: Query | Node,
    fmt: Literal["pitchly", "ast"],
    catalog: CatalogSource | None = None,
    keys: Literal["ids", "names"] = "ids",
) -> dict[str, Any]: ...


@overload
def to_format(
    query: Query | Node,
    fmt: Literal["text", "search", "pixiebrix"],
    catalog: CatalogSource | None = None,
    keys: Literal["ids", "names"] = "ids",
) -> str: ...


def to_format(
    query: Query | Node,
    fmt: OutputFormat,
    catalog: CatalogSource | None = None,
    keys: Literal["ids", "names"] = "ids",
) -> str | dict[str, Any]:
    """Emit the query in another input format: see filterdsl.emitters.to_format."""
    from filterdsl.emitters import to_format as impl

    if not isinstance(query, (Query, Node)):
        raise _wrong("query", "a filterdsl Query or AST node", query)
    if keys not in ("ids", "names"):
        raise FilterError(
            [Diagnostic("wrong-type", f'keys is "ids" or "names", not {keys!r}', Location(param="keys"))]
        )
    out: str | dict[str, Any] = impl(query, fmt, catalog=catalog, keys=keys)
    return out


__all__ = [
    "FORMATS",
    "CatalogSource",
    "Dialect",
    "Format",
    "OutputFormat",
    "ParseKwargs",
    "Paramstyle",
    "load_catalog",
    "parse",
    "parse_result",
    "validate",
    "to_predicate",
    "apply",
    "to_sql",
    "to_mongo",
    "to_format",
]
