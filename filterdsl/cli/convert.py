"""``filterdsl convert``: a filter in another input format, as SQL or as a Mongo spec."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from filterdsl.ast import Query, to_json
from filterdsl.backends.sql import ColumnsLayout, JsonLayout, to_sql, to_sql_inline
from filterdsl.cli.common import (
    UsageError,
    _catalog,
    _parse_one,
    _print_diags,
    _read,
)
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.schema import CatalogSource


def _check_convert_flags(args: argparse.Namespace) -> None:
    """Flags that cannot apply to the chosen output are refused, never silently ignored."""
    sql_only = [
        flag
        for flag, given in (
            ("--dialect", args.dialect is not None),
            ("--layout", args.layout is not None),
            ("--mapping", args.mapping is not None),
            ("--inline", args.inline),
            ("--pretty", args.pretty),
        )
        if given
    ]
    if args.to != "sql" and sql_only:
        raise UsageError(f"{', '.join(sql_only)} apply to --to sql only, not --to {args.to}")
    if args.keys == "names" and args.to not in ("pitchly", "text"):
        raise UsageError(f"--keys names applies to --to pitchly and --to text only, not --to {args.to}")
    if args.keys == "names" and not args.schema:
        raise UsageError("--keys names needs --schema (field names come from the catalog)")
    if args.layout == "columns" and args.mapping is None:
        raise UsageError("--layout columns needs --mapping FILE ({field id: column name, ...})")
    if args.mapping is not None:
        _read(args.mapping)  # unreadable: a usage error, like --schema


def cmd_convert(args: argparse.Namespace) -> int:
    _check_convert_flags(args)
    catalog = _catalog(args)
    query = _parse_one(args, catalog)
    to = args.to
    if to == "ast":
        print(json.dumps(to_json(query), ensure_ascii=False, indent=2))
    elif to == "sql":
        import warnings

        from filterdsl.backends.sql import UnverifiedDialectWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            text = convert(
                query,
                dialect=args.dialect or "sqlite",
                layout=args.layout or "json",
                mapping=args.mapping,
                inline=args.inline,
                catalog=catalog,
                pretty=args.pretty,
            )
        for w in caught:
            if isinstance(w.message, UnverifiedDialectWarning):  # SQL never executed: say so, as a diagnostic
                msg = str(w.message).removeprefix(UnverifiedDialectWarning.code + ": ")
                _print_diags(
                    [Diagnostic(UnverifiedDialectWarning.code, msg, Location(), "warning")],
                    f"--dialect {args.dialect or 'sqlite'}",
                    sys.stderr,
                )
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        print(text)
    elif to == "mongo":
        print(mongo_convert(query, catalog=catalog))
    else:
        from filterdsl.emitters import to_format

        out = to_format(query, to, catalog=catalog, keys=args.keys)
        print(out if isinstance(out, str) else json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def load_layout(
    layout: str = "json", mapping: str | None = None, query: Query | None = None
) -> JsonLayout | ColumnsLayout:
    """``json`` (default) or ``columns`` with a mapping file (``{field: column}`` or the full form)."""
    if layout == "json":
        if mapping is not None:
            obj = _read_mapping(mapping)
            flags = {k: obj[k] for k in ("text_indexes",) if k in obj}
            for k, v in flags.items():
                if type(v) is not bool:
                    raise FilterError(
                        [Diagnostic("bad-mapping", f"{k} is true or false", Location(param="--mapping"))]
                    )
            return JsonLayout(
                tables=obj.get("tables", {}),
                **{
                    k: obj[k]
                    for k in ("id", "created_at", "updated_at", "removed_at", "data", "schema")
                    if k in obj
                },
                **flags,
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
        return ColumnsLayout.from_mapping(_read_mapping(mapping))
    raise FilterError(
        [Diagnostic("bad-layout", f"unknown layout {layout!r} (json or columns)", Location(param="--layout"))]
    )


def _read_mapping(path: str) -> dict[str, Any]:
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
    catalog: CatalogSource | None = None,
    pretty: bool = False,
) -> str:
    """SQL then the params as JSON on the next line; with ``inline`` the values are SQL literals
    rendered (and escaped) by sqlglot for the dialect, and no params line is printed; ``pretty`` prints
    the SQL through sqlglot's pretty printer (the same statement and params)."""
    lay = load_layout(layout, mapping, query)
    if inline:
        return to_sql_inline(query, dialect, lay, catalog, pretty=pretty) + ";"
    sql, params = to_sql(query, dialect, lay, catalog, pretty=pretty)
    return sql + ";\n" + json.dumps(params, ensure_ascii=False)


def mongo_convert(query: Query, catalog: CatalogSource | None = None) -> str:
    """``filterdsl convert --to mongo``: the find spec or pipeline as JSON (timestamps stay ISO strings)."""
    from filterdsl.backends.mongo import to_mongo

    return json.dumps(to_mongo(query, catalog=catalog), ensure_ascii=False, indent=2)
