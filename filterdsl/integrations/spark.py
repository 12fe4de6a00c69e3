"""filterdsl queries on Spark DataFrames (PySpark), on a classic session and on Spark Connect.

    from filterdsl.integrations.spark import where, apply
    matching = where(df, query)            # df filtered (a DataFrame, lazy as usual)
    page = apply(df, query)                # + filterdsl's order, skip and limit

How: the query is compiled by the SQL backend's Spark family (the SQL ``tests/test_sql_spark.py``
and this integration's tests run against the in-memory engine), with the DataFrame in place of the
table and ``*`` as the SELECT list, and run as ``df.sparkSession.sql(text, args=values, t0=df, ...)``:
values are Spark named parameters (``lit()`` values), never SQL text, and the DataFrames are passed
as PySpark passes DataFrames to ``sql`` (temporary views on a classic session, ``WithRelations`` on
Spark Connect). No JVM internal is touched, so Spark Connect (``sc://``, Databricks Connect) works
as a local session does. See docs/integrations.md "Scaling out".
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from filterdsl.ast import Field, FieldType, Query, walk
from filterdsl.backends.sql import ColumnsLayout, JsonLayout
from filterdsl.backends.sql import spark_runners as core
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.integrations import _sqltext as st
from filterdsl.schema import CatalogSource

__all__ = ["where", "apply", "resolve_layout", "statement"]


def _bad(code: str, message: str, param: str) -> FilterError:
    return FilterError([Diagnostic(code, message, Location(param=param))])


def _frame(df: Any, param: str) -> Any:
    try:
        from pyspark.sql import DataFrame
    except ImportError as e:  # pragma: no cover - the caller has a DataFrame, so pyspark is there
        raise _bad("bad-table", f"pyspark is not installed: {e}", param) from None
    if not isinstance(df, DataFrame):
        raise _bad("bad-table", f"not a Spark DataFrame: {type(df).__name__}", param)
    return df


def resolve_layout(query: Query, layout: Any = None) -> JsonLayout | ColumnsLayout:
    """``None``: the JSON document layout; ``{field_key: column}``: the columns layout of the queried
    database; a ``JsonLayout``/``ColumnsLayout``: as given (table names are ignored: DataFrames)."""
    if layout is None:
        return JsonLayout()
    if isinstance(layout, (JsonLayout, ColumnsLayout)):
        return layout
    if isinstance(layout, Mapping):
        return ColumnsLayout(columns={query.database: dict(layout)})
    raise _bad("bad-layout", f"not a layout: {layout!r}", "layout")


def _kinds(i: int, schema: Any, layout: JsonLayout | ColumnsLayout) -> set[tuple[int, str, str]]:
    """VARIANT and ARRAY columns of DataFrame ``i``, from its own schema."""
    from pyspark.sql.types import ArrayType, VariantType

    out: set[tuple[int, str, str]] = set()
    for f in schema.fields:
        if isinstance(f.dataType, VariantType):
            out.add((i, f.name, "variant"))
        elif isinstance(f.dataType, ArrayType) and isinstance(layout, ColumnsLayout):
            out.add((i, f.name, "array"))
    return out


#: session time zones in which a TIMESTAMP's text is its UTC text
_UTC = frozenset({"UTC", "ETC/UTC", "GMT", "ETC/GMT", "Z", "+00:00"})


def _date_keys(query: Query) -> set[str]:
    """The keys of the date fields the query reads or sorts by."""
    keys = {sk.key.key for sk in query.sort if isinstance(sk.key, Field) and sk.key.type is FieldType.DATE}
    for n in walk(query.predicate):
        f = getattr(n, "field", None)
        if isinstance(f, Field) and f.type is FieldType.DATE:
            keys.add(f.key)
    return keys


def _typed_dates(df: Any, lay: ColumnsLayout, schemas: Mapping[Any, Any], query: Query) -> ColumnsLayout:
    """Date fields on typed columns, from the DataFrames' own schemas.

    A ``DATE`` column holds only real days: its fields are declared ``days`` (as ``{"column": c,
    "days": True}`` would), so a date condition is the range on the column alone (no text day check;
    Catalyst pushes it into the Parquet scan) and the column sorts by itself (SPEC 8's order of days).
    Only the databases whose specs change get their own entry, so a flat mapping other DataFrames
    share is left as it is for them. A ``TIMESTAMP`` column's day is read from its text, which Spark
    writes in the session time zone: exact (SPEC 1.4's UTC day) only when that zone is UTC, so it is
    refused in any other zone rather than answered with another day.
    """
    from pyspark.sql.types import DateType, TimestampType

    keys = _date_keys(query)
    changed: dict[Any, dict[str, Any]] = {}
    utc: bool | None = None
    for db, schema in schemas.items():
        types = {f.name: f.dataType for f in schema.fields}
        fields = lay.field_columns(db)
        new: dict[str, Any] = {}
        for key in fields:
            spec = new[key] = lay.column(db, key)
            if spec is None or key not in keys:
                continue
            typ = types.get(spec.column)
            if isinstance(typ, DateType) and not spec.days:
                new[key] = dataclasses.replace(spec, days=True)
            elif isinstance(typ, TimestampType):
                if utc is None:
                    zone = str(df.sparkSession.conf.get("spark.sql.session.timeZone"))
                    utc = zone.upper() in _UTC
                if not utc:
                    raise _bad(
                        "not-expressible",
                        f"date field {key!r} is the TIMESTAMP column {spec.column!r}, whose day Spark "
                        f"reads in the session time zone ({zone}), not in UTC (SPEC 1.4); set "
                        "spark.sql.session.timeZone to UTC, or pass a DATE column of UTC days "
                        "(F.to_date(c) under UTC) or ISO text",
                        "layout",
                    )
        if any(new[k] != lay.column(db, k) for k in new):
            changed[db] = new
    if not changed:
        return lay
    return dataclasses.replace(lay, columns={**lay.columns, **changed})


def _with_columns(df: Any, names: list[str]) -> Any:
    """``df`` with the missing record columns as NULL text (a record never trashed / updated)."""
    missing = [n for n in names if n not in df.columns]
    if not missing:
        return df
    quoted = ["`" + n.replace("`", "``") + "`" for n in missing]
    return df.selectExpr("*", *[f"CAST(NULL AS STRING) AS {q}" for q in quoted])


def _prepare(
    df: Any,
    query: Query,
    catalog: CatalogSource | None,
    layout: Any,
    related: Mapping[Any, Any] | None,
    sorted_: bool,
) -> tuple[Any, core.Statement, dict[str, Any], dict[Any, Any]]:
    if not isinstance(query, Query):
        raise _bad("bad-query", "expected a parsed filterdsl Query (filterdsl.parse)", "query")
    df = _frame(df, "df")
    lay = resolve_layout(query, layout)
    cols = set(df.columns)
    for need in (lay.id, lay.created_at):
        if need not in cols:
            raise _bad("bad-table", f"the DataFrame has no {need!r} column (columns: {sorted(cols)})", "df")
    if isinstance(lay, JsonLayout) and lay.data not in cols:
        raise _bad(
            "bad-table", f"the DataFrame has no {lay.data!r} column for the JSON document layout", "df"
        )
    # apply: the whole query (ORDER BY, OFFSET, LIMIT in the statement); where: the filter only
    q = dataclasses.replace(query, fields=None) if sorted_ else st.filter_only(query)
    q = st.adapt_to_columns(q, lay.removed_at in cols, lay.updated_at in cols)
    frames: dict[Any, Any] = {query.database: df}
    for db, other in (related or {}).items():
        if db != query.database:
            frames[db] = _with_columns(_frame(other, "related"), [lay.removed_at, lay.updated_at])
    dbs = core.databases(q)
    for db in dbs:
        if db not in frames:
            raise core.missing_frame(db)
    schemas = {db: frames[db].schema for db in dbs}  # one schema request each (an RPC on Connect)
    if isinstance(lay, ColumnsLayout):
        lay = _typed_dates(df, lay, schemas, q)
    kinds: set[tuple[int, str, str]] = set()
    for i, db in enumerate(dbs):
        kinds |= _kinds(i, schemas[db], lay)
    stmt, params = core.statement(q, lay, frozenset(kinds), ordered=sorted_)
    return df, stmt, params, frames


def statement(
    df: Any,
    query: Query,
    *,
    catalog: CatalogSource | None = None,
    layout: Any = None,
    related: Mapping[Any, Any] | None = None,
    sorted: bool = True,
) -> tuple[str, dict[str, Any]]:
    """The ``spark.sql`` template and parameter values ``apply`` (``sorted=False``: ``where``) runs:
    for reading and logging; ``{t0}`` is ``df``, ``{t1}``... the related DataFrames."""
    _, stmt, params, _ = _prepare(df, query, catalog, layout, related, sorted)
    return stmt.text, params


def where(
    df: Any,
    query: Query,
    *,
    catalog: CatalogSource | None = None,
    layout: Any = None,
    related: Mapping[Any, Any] | None = None,
) -> Any:
    """``df`` filtered by the query (a DataFrame with ``df``'s columns); sort, skip and limit ignored.

    ``layout``: None for the JSON document layout (``id``, ``created_at``, optional ``updated_at`` and
    ``removed_at``, ``data`` as JSON text or VARIANT), a ``{field_key: column}`` mapping for the
    columns layout, or a ``JsonLayout``/``ColumnsLayout`` (column names; a columns layout for relations
    maps each database's fields). ``related={database_id: DataFrame}``: the DataFrames relational
    filters reach. ``catalog`` is accepted for symmetry (field types are in the parsed query).
    """
    df, stmt, params, frames = _prepare(df, query, catalog, layout, related, sorted_=False)
    return core.execute(df.sparkSession, stmt, params, frames)


def apply(
    df: Any,
    query: Query,
    *,
    catalog: CatalogSource | None = None,
    layout: Any = None,
    related: Mapping[Any, Any] | None = None,
) -> Any:
    """``df`` filtered, ordered by filterdsl's order (a total order: it ends with the id), skipped and
    limited: ``apply(df, q).collect()`` gives the records ``filterdsl.apply`` gives, in its order."""
    df, stmt, params, frames = _prepare(df, query, catalog, layout, related, sorted_=True)
    return core.execute(df.sparkSession, stmt, params, frames)
