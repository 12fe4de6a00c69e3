"""``filterdsl convert --to sql``: SQL text for a query, params printed as JSON after it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ..ast import Field, Query
from ..errors import Diagnostic, FilterError, Location
from .sql import ColumnsLayout, JsonLayout, to_sql, to_sqlglot
from .sql import _generate as generate


def load_layout(
    layout: str = "json", mapping: str | None = None, query: Query | None = None
) -> JsonLayout | ColumnsLayout:
    """``json`` (default) or ``columns`` with a mapping file (``{field: column}`` or the full form)."""
    if layout == "json":
        if mapping is not None:
            obj = _read(mapping)
            return JsonLayout(
                tables=obj.get("tables", {}),
                **{
                    k: obj[k]
                    for k in ("id", "created_at", "updated_at", "removed_at", "data", "schema")
                    if k in obj
                },
            )
        return JsonLayout()
    if layout == "columns":
        if mapping is None:
            raise FilterError(
                [
                    Diagnostic(
                        "missing-mapping",
                        "--layout columns needs --mapping FILE ({field id: column name, ...})",
                        Location(param="--mapping"),
                    )
                ]
            )
        return ColumnsLayout.from_mapping(_read(mapping))
    raise FilterError(
        [Diagnostic("bad-layout", f"unknown layout {layout!r} (json or columns)", Location(param="--layout"))]
    )


def _read(path: str) -> dict[str, Any]:
    try:
        obj = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise FilterError(
            [Diagnostic("bad-mapping", f"cannot read mapping {path}: {e}", Location(param="--mapping"))]
        ) from None
    if not isinstance(obj, dict):
        raise FilterError(
            [Diagnostic("bad-mapping", "a mapping file is a JSON object", Location(param="--mapping"))]
        )
    return obj


def convert(
    query: Query,
    dialect: str = "sqlite",
    layout: str = "json",
    mapping: str | None = None,
    inline: bool = False,
    catalog: Any = None,
    pretty: bool = False,
) -> str:
    """SQL then the params as JSON on the next line; with ``inline`` the values are SQL literals
    rendered (and escaped) by sqlglot for the dialect, and no params line is printed; ``pretty`` prints
    the SQL through sqlglot's pretty printer (the same statement and params)."""
    lay = load_layout(layout, mapping, query)
    if inline:
        return (
            generate(to_sqlglot(query, dialect, lay, catalog, inline=True), dialect.lower(), pretty=pretty)
            + ";"
        )
    sql, params = to_sql(query, dialect, lay, catalog, pretty=pretty)
    return sql + ";\n" + json.dumps(params, ensure_ascii=False)


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
    from .sql.indexes import advise

    lay = load_layout(layout, mapping)
    return advise(queries, dialect, lay, fields or []).text()
