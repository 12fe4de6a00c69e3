"""Which dialects' SQL is executed in CI, in which layout, and the warning for the others.

Only executed SQL is known to return the in-memory engine's records; for every other dialect (or
layout) the output is only parsed back by sqlglot. Running the ClickHouse columns SQL once found
silent wrong answers (ASCII-only ``LOWER``, byte-counting ``SUBSTRING``), so compiling for an
unexecuted target warns (``unverified-dialect``) instead of looking as trustworthy as the rest.
"""

from __future__ import annotations

import warnings

#: dialect -> {layout: where it is executed in CI (engine, test file)}; a layout missing here is
#: parse-checked only
EXECUTED: dict[str, dict[str, str]] = {
    "sqlite": {"json": "SQLite 3 (Python's sqlite3)", "columns": "SQLite 3 (Python's sqlite3)"},
    "duckdb": {"json": "DuckDB", "columns": "DuckDB"},
    "postgres": {"json": "PostgreSQL 15+", "columns": "PostgreSQL 15+"},
    "mysql": {"json": "MariaDB 10.6+", "columns": "MariaDB 10.6+"},
    "spark": {
        "json": "Spark 4 (local session and Spark Connect)",
        "columns": "Spark 4 (local session and Spark Connect, through filterdsl.integrations.spark)",
    },
    "clickhouse": {
        "json": "ClickHouse through chDB (in process)",
        "columns": "ClickHouse through chDB (in process)",
    },
    "datafusion": {"columns": "Apache DataFusion (in process)"},
}

_LAYOUT_NAME = {"json": "JSON document layout", "columns": "columns layout"}


class UnverifiedDialectWarning(UserWarning):
    """The SQL was only parsed back by sqlglot, never executed (code ``unverified-dialect``)."""

    code = "unverified-dialect"


def unverified_message(dialect: str, layout: str) -> str | None:
    """Why the SQL for ``dialect`` in ``layout`` is unverified, or None when CI executes it."""
    done = EXECUTED.get(dialect, {})
    if layout in done:
        return None
    where = "; ".join(f"the {_LAYOUT_NAME[k]} is executed on {v}" for k, v in done.items())
    extra = f" ({where})" if where else ""
    return (
        f"unverified-dialect: SQL for {dialect!r} in the {_LAYOUT_NAME[layout]} is only parsed back by "
        f"sqlglot, never executed against {dialect} in filterdsl's tests{extra}; check its results on your "
        f"engine against --engine memory before relying on them"
    )


def warn_unverified(dialect: str, layout: str, stacklevel: int = 3) -> None:
    msg = unverified_message(dialect, layout)
    if msg is not None:
        warnings.warn(UnverifiedDialectWarning(msg), stacklevel=stacklevel)


def status_table() -> list[tuple[str, str, str]]:
    """(dialect, JSON layout, columns layout) for every dialect: where executed, or parse-checked."""
    from filterdsl.backends.sql import dialect_names

    names = sorted(set(dialect_names()) | set(EXECUTED))
    return [
        (
            d,
            EXECUTED.get(d, {}).get("json", "parse-checked"),
            EXECUTED.get(d, {}).get("columns", "parse-checked"),
        )
        for d in names
    ]
