"""``filterdsl indexes``: the CREATE INDEX statements that let a database serve stored filters."""

from __future__ import annotations

import argparse
from typing import Any

from filterdsl.ast import Field, Query
from filterdsl.cli.common import UsageError, _catalog, _read, expand_inputs, parse_source
from filterdsl.cli.convert import load_layout


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
    queries = [parse_source(args, catalog, _read(p), p, warn=False) for p in expand_inputs(args.inputs)]
    print(indexes(queries, args.dialect, args.layout, args.mapping, fields))
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
) -> str:
    """``filterdsl indexes``: the advised statements, then a ``--`` comment per form no index serves."""
    from filterdsl.backends.sql.indexes import advise

    lay = load_layout(layout, mapping)
    return advise(queries, dialect, lay, fields or []).text()
