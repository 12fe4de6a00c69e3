"""The public functions: parse, validate, to_predicate, apply (and the backends' entry points)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from filterdsl.ast import Query
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.frontends import FRONTENDS, ParseResult, frontend
from filterdsl.options import ParseOptions
from filterdsl.records import normalize_dataset, normalize_record
from filterdsl.schema import Catalog, load_catalog

FORMATS = tuple(FRONTENDS)


def _catalog(catalog: Any) -> Catalog | None:
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
    source: Any, format: str = "pitchly", catalog: Any = None, database: str | None = None, **options: Any
) -> ParseResult:
    """Parse without raising: the query (None on errors) and every diagnostic."""
    _database(database)
    cat = _catalog(catalog)
    opt = ParseOptions.from_kwargs(**options)
    parse_fn = frontend(format)
    if parse_fn is not None:
        return parse_fn(source, catalog=cat, database=database, options=opt)
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
    source: Any, format: str = "pitchly", catalog: Any = None, database: str | None = None, **options: Any
) -> Query:
    """Parse any supported input into a Query; raises FilterError listing every problem."""
    res = parse_result(source, format, catalog, database, **options)
    if res.query is None or res.errors:
        raise FilterError(res.diagnostics)
    return res.query


def validate(
    source: Any, format: str = "pitchly", catalog: Any = None, database: str | None = None, **options: Any
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


def to_predicate(
    query: Query | Any, catalog: Any = None, related: Mapping[str, Iterable[Any]] | None = None
) -> Callable[[Any], bool]:
    """A callable over Pitchly rows, PixieBrix records or canonical documents.

    Relational filters need ``related``: ``{database_id: records}`` of each referenced database.
    Canonical documents (as produced by filterdsl) are used as they are; other shapes are normalised.
    """
    from filterdsl.ast import Node
    from filterdsl.backends.memory import compile_predicate

    if not isinstance(query, (Query, Node)):
        raise _wrong("query", "a filterdsl Query or AST node", query)
    q = query if isinstance(query, Query) else Query(query)
    if related is not None and not isinstance(related, Mapping):
        raise _wrong("related", "a mapping {database_id: records}", related)
    cat = _catalog(catalog)
    rel = normalize_dataset({k: list(v) for k, v in related.items()}, cat) if related else None
    db = cat.get(q.database) if cat is not None and q.database else None
    # Canonical documents (they have removed_at; Pitchly rows say removedAt) are used as they are.
    return compile_predicate(q.predicate, rel, normalize=lambda record: normalize_record(record, db))


def apply(
    query: Query, records: Any, catalog: Any = None, related: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Run the whole query (filter, search, sort, skip, limit, projection) over records.

    ``records`` is a list of records of the queried database, or ``{database_id: [records]}``.
    Returns canonical documents in result order.
    """
    from filterdsl.backends.memory import run

    _query(query)
    if isinstance(records, (str, bytes)) or not isinstance(records, (Mapping, Iterable)):
        raise _wrong("records", "a list of records or {database_id: [records]}", records)
    if related is not None and not isinstance(related, Mapping):
        raise _wrong("related", "a mapping {database_id: records}", related)
    cat = _catalog(catalog)
    return run(query, _dataset(query, records, cat, related), cat)


def to_sql(query: Query, *args: Any, **kwargs: Any) -> Any:
    """Compile to SQL: see filterdsl.backends.sql.to_sql."""
    from filterdsl.backends.sql import ColumnsLayout, JsonLayout
    from filterdsl.backends.sql import to_sql as impl

    _query(query)
    named = dict(zip(("dialect", "layout", "catalog", "paramstyle"), args))
    named.update(kwargs)
    if not isinstance(named.get("dialect", "sqlite"), str):
        raise _wrong("dialect", 'a dialect name such as "postgres"', named["dialect"])
    if named.get("layout") is not None and not isinstance(named["layout"], (JsonLayout, ColumnsLayout)):
        raise _wrong("layout", "a JsonLayout or ColumnsLayout (filterdsl.backends.sql)", named["layout"])
    if named.get("paramstyle") is not None and not isinstance(named["paramstyle"], str):
        raise _wrong("paramstyle", 'a paramstyle name such as "qmark"', named["paramstyle"])
    return impl(query, *args, **kwargs)


def to_mongo(query: Query, *args: Any, **kwargs: Any) -> Any:
    """Compile to a MongoDB find/aggregate spec: see filterdsl.backends.mongo.to_mongo."""
    from filterdsl.backends.mongo import to_mongo as impl

    _query(query)
    named = dict(zip(("catalog", "collections"), args))
    named.update(kwargs)
    if named.get("collections") is not None and not isinstance(named["collections"], Mapping):
        raise _wrong("collections", "a mapping {database_id: collection name}", named["collections"])
    return impl(query, *args, **kwargs)


def to_format(query: Query, fmt: str, **kwargs: Any) -> Any:
    """Emit the query in another input format: see filterdsl.emitters.to_format."""
    from filterdsl.emitters import to_format as impl

    return impl(query, fmt, **kwargs)


__all__ = [
    "FORMATS",
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
