"""Run a Query on DataFusion or ClickHouse (chDB), both in process.

ClickHouse loads the JSON document layout by default (``data`` as JSON text: every value and all three
field states), the columns layout on request. DataFusion has no JSON functions, so it gets the columns
layout only: records are loaded one typed column per schema field
(strings, dates and attachment URLs as text, numbers and currency amounts as Float64, booleans,
enumTags/refMultiple as a list of strings: DataFusion ``List<Utf8>``, ClickHouse JSON text), NULL for
NOT SET and EMPTY. That layout answers exactly what the in-memory engine answers, except for what it
cannot hold, which is refused before any SQL runs (``not-expressible``, exit 4 in the CLI):

- no schema (schemaless records): the columns come from the schema;
- a value of the wrong type for its field (a number in a string field, an integer beyond 2^53 in a
  number field...) in a field the query reads;
- ``is-empty`` or ``is-not-set`` alone (the compiler's ``layout-ambiguous``).
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import threading
from collections.abc import Iterator, Mapping
from typing import Any

from filterdsl.ast import Compare, Field, FieldState, FieldType, Query, Relation, Search, walk
from filterdsl.backends.sql import ColumnsLayout, JsonLayout, to_sql
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.schema import Catalog, CatalogSource, load_catalog
from filterdsl.semantics.numbers import clickhouse_json_exact, refuse_inexact_numbers

Doc = dict[str, Any]
T = FieldType
ENGINES = ("datafusion", "clickhouse")
_REC = ("id", "created_at", "updated_at", "removed_at")
_LIST = (T.ENUM_TAGS, T.REF_MULTIPLE)
_FLOAT = (T.NUMBER, T.CURRENCY)


def _refuse(engine: str, why: str) -> FilterError:
    return FilterError(
        [
            Diagnostic(
                "not-expressible",
                f"--engine {engine} loads records into the columns layout, "
                f"which {why}; --engine memory (or sqlite, duckdb, postgres, mysql: JSON "
                f"document layout) runs this query",
                Location(),
            )
        ]
    )


def _num(v: Any) -> bool:
    return type(v) in (int, float) and (type(v) is float or abs(v) <= 2**53)


def _cell(t: FieldType, v: Any) -> tuple[bool, Any]:
    """(well typed, column value) of a stored value; EMPTY is NULL."""
    if v is None or v == "" or v == []:
        return True, None
    if t in (T.STRING, T.TEXT_BLOCK, T.ENUM, T.REF, T.DATE):
        return type(v) is str, v
    if t is T.NUMBER:
        return _num(v), v
    if t is T.BOOLEAN:
        return type(v) is bool, v
    if t is T.CURRENCY:
        ok = type(v) is dict and _num(v.get("val")) and type(v.get("currency", "")) is str
        return ok, (v.get("val"), v.get("currency")) if ok else None
    if t is T.ATTACHMENT:
        ok = type(v) is dict and type(v.get("val")) is str and v["val"] != ""
        return ok, v.get("val") if ok else None
    if t in _LIST:
        return type(v) is list and all(type(e) is str for e in v), v
    return False, None


def _touched(query: Query) -> set[str]:
    """Keys of every field the query reads (predicate, relations, search, sort)."""
    keys: set[str] = set()
    for n in walk(query.predicate):
        if isinstance(n, (Compare, FieldState, Relation)):
            keys.add(n.field.key)
        elif isinstance(n, Search) and n.fields:
            keys.update(f.key for f in n.fields)
    keys.update(sk.key.key for sk in query.sort if isinstance(sk.key, Field))
    return keys


class _Tables:
    """The dataset as typed columns: per database a table name, its fields and rows, and the layout."""

    def __init__(self, engine: str, query: Query, dataset: Mapping[Any, list[Doc]], catalog: Catalog | None):
        if catalog is None:
            raise _refuse(engine, "needs a schema (--schema) to know the columns")
        self.names: dict[Any, str] = {}
        self.fields: dict[Any, list[Any]] = {}
        self.rows: dict[Any, list[list[Any]]] = {}
        columns: dict[Any, dict[str, Any]] = {}
        touched = _touched(query)
        tag = secrets.token_hex(4)
        for i, (db, docs) in enumerate(dataset.items()):
            schema = catalog.get(db) if db is not None else None
            fields = list(schema.fields) if schema is not None else []
            self.names[db] = f"fdsl_{tag}_{i}"
            self.fields[db] = fields
            columns[db] = {
                f.id: ({"column": f"c{k}", "currency": f"k{k}"} if f.type is T.CURRENCY else f"c{k}")
                for k, f in enumerate(fields)
            }
            rows = []
            for d in docs:
                row: list[Any] = [d.get(c) for c in _REC]
                for f in fields:
                    ok, value = _cell(f.type, d.get("data", {}).get(f.id))
                    if not ok:
                        if f.id in touched:
                            raise _refuse(
                                engine,
                                f"cannot hold the value of field {f.id!r} in record {d.get('id')!r} "
                                f"(not a {f.type.value})",
                            )
                        value = None  # never read by this query
                    if f.type is T.CURRENCY:
                        row += list(value) if value is not None else [None, None]
                    else:
                        row.append(value)
                rows.append(row)
            self.rows[db] = rows
        self.layout = ColumnsLayout(tables=self.names, columns=columns)

    def columns(self, db: Any) -> Iterator[tuple[str, FieldType | None]]:
        """(column name, field type or None for record attributes) in row order."""
        for c in _REC:
            yield c, None
        for k, f in enumerate(self.fields[db]):
            yield f"c{k}", f.type
            if f.type is T.CURRENCY:
                yield f"k{k}", T.STRING


def _datafusion(tables: _Tables, sql: str, params: dict[str, Any]) -> list[str]:
    import datafusion
    import pyarrow as pa

    def arrow(t: FieldType | None) -> Any:
        if t in _FLOAT:
            return pa.float64()
        if t is T.BOOLEAN:
            return pa.bool_()
        if t in _LIST:
            return pa.list_(pa.string())
        return pa.string()

    ctx = datafusion.SessionContext()
    for db, name in tables.names.items():
        cols = list(tables.columns(db))
        schema = pa.schema([(c, arrow(t)) for c, t in cols])
        data = {c: [r[i] for r in tables.rows[db]] for i, (c, _) in enumerate(cols)}
        batch = pa.RecordBatch.from_pydict(data, schema=schema)
        ctx.register_record_batches(name, [[batch]])
    return [str(i) for i in ctx.sql(sql, param_values=params).to_arrow_table().column("id").to_pylist()]


#: ClickHouse reads a String query parameter in its escaped (TSV) text format: a raw tab or newline
#: ends the value and a backslash starts an escape, so a driver that passes values through as text
#: (chDB does) must escape them first
_CH_ESCAPES = str.maketrans(
    {"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r", "\x00": "\\0", "\b": "\\b", "\f": "\\f"}
)


def ch_param(value: Any) -> Any:
    """A parameter value as ClickHouse parses it back to ``value`` (strings escaped, numbers as they are)."""
    return value.translate(_CH_ESCAPES) if isinstance(value, str) else value


_CH_LOCK = threading.Lock()
_ch_session: Any = None


def _clickhouse(tables: _Tables, sql: str, params: dict[str, Any]) -> list[str]:
    global _ch_session
    from chdb import session

    def ch(t: FieldType | None) -> str:
        if t in _FLOAT:
            return "Nullable(Float64)"
        if t is T.BOOLEAN:
            return "Nullable(Bool)"
        return "Nullable(String)"

    with _CH_LOCK:  # chDB allows one session per process: shared, tables named per call and dropped
        if _ch_session is None:
            _ch_session = session.Session()
        s = _ch_session
        made = []
        try:
            for db, name in tables.names.items():
                cols = list(tables.columns(db))
                defs = ", ".join(f"`{c}` {'String' if c in ('id', 'created_at') else ch(t)}" for c, t in cols)
                s.query(f"CREATE TABLE `{name}` ({defs}) ENGINE = Memory")
                made.append(name)
                if tables.rows[db]:
                    lines = []
                    for r in tables.rows[db]:
                        obj = {
                            c: (json.dumps(v, ensure_ascii=False) if t in _LIST and v is not None else v)
                            for (c, t), v in zip(cols, r)
                        }
                        lines.append(json.dumps(obj, ensure_ascii=False))
                    s.query(f"INSERT INTO `{name}` FORMAT JSONEachRow\n" + "\n".join(lines))
            out = s.query(sql, "JSONCompact", params={k: ch_param(v) for k, v in params.items()})
            return [row[0] for row in json.loads(out.bytes() if hasattr(out, "bytes") else str(out))["data"]]
        finally:
            for name in made:
                s.query(f"DROP TABLE IF EXISTS `{name}`")


def _clickhouse_json(query: Query, dataset: Mapping[Any, list[Doc]], main: Any) -> list[str]:
    """ClickHouse over the JSON document layout: the ``data`` object as JSON text in a String column."""
    global _ch_session
    from chdb import session

    # ClickHouse reads an integer past 64 bits, and a double between 2^53 and 1e21, as a string or as
    # another integer (semantics.numbers.clickhouse_json_exact): number filters would skip it and string
    # operators match its digits (issue 26, P1)
    refuse_inexact_numbers(
        "clickhouse",
        dataset,
        clickhouse_json_exact,
        "reads some JSON numbers back as strings or other integers",
    )
    tag = secrets.token_hex(4)
    names = {db: f"fdsl_{tag}_{i}" for i, db in enumerate(dataset)}
    q = dataclasses.replace(query, fields=None, database=main)
    sql, params = to_sql(q, "clickhouse", JsonLayout(tables=names), paramstyle="native")
    with _CH_LOCK:
        if _ch_session is None:
            _ch_session = session.Session()
        s = _ch_session
        made = []
        try:
            for db, name in names.items():
                s.query(
                    f"CREATE TABLE `{name}` (id String, created_at String, updated_at Nullable(String), "
                    f"removed_at Nullable(String), data String) ENGINE = Memory"
                )
                made.append(name)
                if dataset[db]:
                    rows = [
                        json.dumps(
                            {
                                **{c: d.get(c) for c in _REC},
                                "data": json.dumps(
                                    d.get("data", {}), ensure_ascii=False, separators=(",", ":")
                                ),
                            },
                            ensure_ascii=False,
                        )
                        for d in dataset[db]
                    ]
                    s.query(f"INSERT INTO `{name}` FORMAT JSONEachRow\n" + "\n".join(rows))
            out = s.query(sql, "JSONCompact", params={k: ch_param(v) for k, v in params.items()})
            return [row[0] for row in json.loads(str(out))["data"]]
        finally:
            for name in made:
                s.query(f"DROP TABLE IF EXISTS `{name}`")


def fetch_ids(
    query: Query,
    dataset: Mapping[Any, list[Doc]],
    engine: str,
    catalog: CatalogSource | None = None,
    main: Any = None,
    layout: str | None = None,
) -> list[str]:
    """Ids in result order from DataFusion or ClickHouse; ``main`` is the queried database's key.

    ``layout``: ClickHouse runs the JSON document layout by default (all three field states, any
    value) and the columns layout on request; DataFusion has only the columns layout.
    """
    if engine == "clickhouse" and (layout or "json") == "json":
        return _clickhouse_json(query, dataset, main)
    tables = _Tables(engine, query, dataset, None if catalog is None else load_catalog(catalog))
    q = dataclasses.replace(query, fields=None, database=main)
    sql, params = to_sql(q, engine, tables.layout, catalog, paramstyle="native")
    if engine == "datafusion":
        return _datafusion(tables, sql, params)
    return _clickhouse(tables, sql, params)
