"""``filterdsl indexes``: the CREATE INDEX statements that let a database serve stored filters."""

from __future__ import annotations

import argparse
from typing import Any

from filterdsl.ast import Field, Query
from filterdsl.cli.common import EngineError, UsageError, _catalog, _read, expand_inputs, parse_source
from filterdsl.cli.convert import load_layout
from filterdsl.errors import FilterError


def cmd_indexes(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    if not args.inputs and not args.all_fields:
        raise UsageError("give filter files, or --all-fields (with --schema and --database)")
    fields: list[tuple[str | None, Any]] = []
    if args.all_fields:
        db = catalog.get(args.database) if catalog is not None and args.database else None
        if db is None:
            raise UsageError("--all-fields needs --schema and the --database whose fields to index")
        fields = [(db.id, f) for f in filterable_fields(db)]
    paths = expand_inputs(args.inputs)
    queries = [parse_source(args, catalog, _read(p), p, warn=False) for p in paths]
    if getattr(args, "check", False):
        return _check(args, list(zip(paths, queries)))
    print(indexes(queries, args.dialect, args.layout, args.mapping, fields, labels=paths))
    return 0


def _check(args: argparse.Namespace, queries: list[tuple[str, Query]]) -> int:
    """``--check --url URL``: which filters the database's existing indexes serve (from EXPLAIN)."""
    from filterdsl.backends.sql.index_check import check, engine_of

    if not args.url:
        raise UsageError("--check needs --url (postgresql://... or mysql://...)")
    if not queries:
        raise UsageError("--check needs filter files to check")
    engine_of(args.url)  # a located error for a URL of another engine, before connecting
    try:
        report = check(queries, args.url, load_layout(args.layout, args.mapping))
    except FilterError:
        raise
    except Exception as e:  # noqa: BLE001 - a driver's error: the server is unreachable or refused the SQL
        raise EngineError(f"--check on {args.url.split('@')[-1]}: {type(e).__name__}: {e}") from None
    print(report.text())
    return 0


#: field types a filter can compare (refMultiple is filtered through its relation, not compared)
_FILTERABLE = (
    "string",
    "textBlock",
    "number",
    "boolean",
    "date",
    "currency",
    "attachment",
    "enum",
    "enumTags",
    "ref",
)


def filterable_fields(db: Any) -> list[Field]:
    """Every field of a catalog database that a filter can test directly, as AST fields."""
    return [Field(f.id, f.type) for f in db.fields if f.type.value in _FILTERABLE]


def indexes(
    queries: list[Query],
    dialect: str = "postgres",
    layout: str = "json",
    mapping: str | None = None,
    fields: list[tuple[str | None, Field]] | None = None,
    labels: list[str] | None = None,
) -> str:
    """``filterdsl indexes``: the advised statements (each followed by the filters it serves, when
    ``labels`` name them), then a ``--`` comment per form no index serves."""
    from filterdsl.backends.sql.indexes import advise

    lay = load_layout(layout, mapping)
    return advise(queries, dialect, lay, fields or [], labels=labels).text()
