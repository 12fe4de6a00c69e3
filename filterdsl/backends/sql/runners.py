"""Run a Query on a real SQL engine: load canonical documents into the JSON layout, execute, fetch.

SQLite and DuckDB run embedded and in memory. PostgreSQL and MariaDB/MySQL connect by URL (default:
the local servers) and load into uniquely named tables (PostgreSQL: TEMP tables; MySQL: regular tables
dropped afterwards, because MySQL cannot reopen a TEMPORARY table twice in one query), so parallel runs
never collide. Projection is applied in Python after fetching, as the memory engine does.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

from filterdsl.ast import Query
from filterdsl.backends.memory import project
from filterdsl.backends.sql import JsonLayout, to_sql
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.records import check_run_args
from filterdsl.schema import CatalogSource
from filterdsl.semantics.numbers import INT53, INT64, int_within, refuse_inexact_numbers

Doc = dict[str, Any]
ENGINES = ("sqlite", "duckdb", "postgres", "mysql", "datafusion", "clickhouse", "spark")
#: in-process engines loaded in the columns layout (see sql_columnar_exec)
COLUMNAR = ("datafusion", "clickhouse")
Dataset = Mapping[Any, list[Doc]]
DEFAULT_URLS = {
    "postgres": "postgresql://postgres@127.0.0.1:5432/test",
    "mysql": "mysql://root@127.0.0.1:3306/test",
}
_COLS = ("id", "created_at", "updated_at", "removed_at")
#: engines that read some stored integers inexactly: the integers they read exactly, and what they do
#: beyond (a dataset holding one is refused when loaded; docs/semantics.md section 9)
INEXACT_INTS = {
    "sqlite": (INT64, "reads a JSON integer beyond 64 bits as a REAL (a double)"),
    "mysql": (
        INT53,
        "reads JSON numbers as doubles (MariaDB/MySQL have no exact type for every JSON number)",
    ),
    "spark": (INT53, "compares JSON numbers as doubles (try_variant_get(..., 'double'))"),
}


def py_lower(value: Any) -> Any:
    """SQLite ``lower`` replacement: Python's full Unicode ``str.lower`` (SQLite's folds ASCII only)."""
    return value.lower() if isinstance(value, str) else value


def sqlite_connect(path: str = ":memory:") -> Any:
    """A sqlite3 connection whose ``lower`` agrees with the in-memory engine (SPEC 1.4)."""
    import sqlite3

    con = sqlite3.connect(path)
    con.create_function("lower", 1, py_lower, deterministic=True)
    return con


def _resolve(query: Query, dataset: Mapping[Any, list[Doc]]) -> Any:
    if query.database in dataset:
        return query.database
    if None in dataset:
        return None
    if len(dataset) == 1:
        return next(iter(dataset))
    raise FilterError(
        [Diagnostic("missing-data", f"no records for database {query.database!r}", Location(param="records"))]
    )


def _row(doc: Doc) -> tuple[Any, ...]:
    return (
        *(doc.get(c) for c in _COLS),
        json.dumps(doc.get("data", {}), ensure_ascii=False, separators=(",", ":")),
    )


def _doc(row: tuple[Any, ...]) -> Doc:
    data = row[4]
    if isinstance(data, (str, bytes, bytearray)):
        data = json.loads(data)
    return {"id": row[0], "created_at": row[1], "updated_at": row[2], "removed_at": row[3], "data": data}


def _q(name: str, ch: str = '"') -> str:
    return ch + name.replace(ch, ch + ch) + ch


@contextmanager
def _sqlite(dataset: Mapping[Any, list[Doc]], tables: dict[Any, str]) -> Iterator[Any]:
    con = sqlite_connect()
    try:
        for db, docs in dataset.items():
            t = _q(tables[db])
            con.execute(
                f"CREATE TABLE {t} (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, "
                f"removed_at TEXT, data TEXT NOT NULL)"
            )
            con.executemany(f"INSERT INTO {t} VALUES (?, ?, ?, ?, ?)", [_row(d) for d in docs])
        yield con
    finally:
        con.close()


@contextmanager
def _duckdb(dataset: Mapping[Any, list[Doc]], tables: dict[Any, str]) -> Iterator[Any]:
    import duckdb

    con = duckdb.connect()
    try:
        for db, docs in dataset.items():
            t = _q(tables[db])
            con.execute(
                f"CREATE TABLE {t} (id VARCHAR PRIMARY KEY, created_at VARCHAR NOT NULL, updated_at VARCHAR, "
                f"removed_at VARCHAR, data JSON NOT NULL)"
            )
            if docs:  # one statement over list parameters: executemany is row-at-a-time in DuckDB
                cols = [list(c) for c in zip(*(_row(d) for d in docs))]
                con.execute(
                    f"INSERT INTO {t} SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), "
                    f"unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[])::JSON",
                    cols,
                )
        yield con
    finally:
        con.close()


@contextmanager
def _postgres(dataset: Mapping[Any, list[Doc]], tables: dict[Any, str], url: str) -> Iterator[Any]:
    import psycopg

    con = psycopg.connect(url)
    try:
        for db, docs in dataset.items():
            t = _q(tables[db])
            con.execute(
                f'CREATE TEMP TABLE {t} (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, '
                f"updated_at TEXT, removed_at TEXT, data JSONB NOT NULL)"
            )
            with con.cursor() as cur:
                ins = t.replace("%", "%%")  # the driver formats statements that have params
                cur.executemany(
                    f"INSERT INTO {ins} VALUES (%s, %s, %s, %s, CAST(%s AS JSONB))", [_row(d) for d in docs]
                )
        yield con
    finally:
        con.rollback()
        con.close()


def _mysql_args(url: str) -> dict[str, Any]:
    """pymysql's arguments for ``url``; ``?sql_mode=...`` sets the session's sql_mode (the tests run
    with ``NO_BACKSLASH_ESCAPES`` this way)."""
    u = urlparse(url)
    args: dict[str, Any] = {
        "host": u.hostname or "127.0.0.1",
        "port": u.port or 3306,
        "user": unquote(u.username or "root"),
        "password": unquote(u.password or ""),
        "database": (u.path or "/test").lstrip("/") or "test",
        "charset": "utf8mb4",
    }
    mode = parse_qs(u.query).get("sql_mode")
    if mode:
        args["sql_mode"] = mode[-1]
    return args


def _holds_nul(doc: Any) -> bool:
    stack = [doc]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            if "\x00" in v:
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def _refuse_nul(dataset: Mapping[Any, list[Doc]], engine: str) -> None:
    """SQLite and PostgreSQL cannot hold a NUL exactly (guard.py): a record holding one is refused
    loudly (``bad-record``), not loaded into wrong answers (SQLite) or a driver error (PostgreSQL)."""
    for db, docs in dataset.items():
        for i, d in enumerate(docs):
            if _holds_nul(d):
                raise FilterError(
                    [
                        Diagnostic(
                            "bad-record",
                            f"record {i} of {db!r} holds a NUL character (U+0000), which {engine} cannot "
                            "store and compare exactly; remove it, or use DuckDB, MariaDB or ClickHouse",
                            Location(param="records", index=i),
                        )
                    ]
                )


@contextmanager
def _mysql(dataset: Mapping[Any, list[Doc]], tables: dict[Any, str], url: str) -> Iterator[Any]:
    import pymysql

    con = pymysql.connect(**_mysql_args(url), autocommit=True)
    made: list[str] = []
    try:
        with con.cursor() as cur:
            for db, docs in dataset.items():
                t = _q(tables[db], "`")
                cur.execute(
                    f"CREATE TABLE {t} (id VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin PRIMARY KEY, "
                    f"created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40), removed_at VARCHAR(40), "
                    f"data LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL) "
                    f"DEFAULT CHARSET=utf8mb4"
                )
                made.append(t)
                if docs:
                    ins = t.replace("%", "%%")  # pymysql formats statements that have args
                    cur.executemany(f"INSERT INTO {ins} VALUES (%s, %s, %s, %s, %s)", [_row(d) for d in docs])
        yield con
    finally:
        try:
            with con.cursor() as cur:
                for t in made:
                    cur.execute(f"DROP TABLE IF EXISTS {t}")
        finally:
            con.close()


def _fetch(
    query: Query, dataset: Dataset, engine: str, url: str | None, catalog: CatalogSource | None
) -> list[Doc]:
    """Canonical documents in result order, unprojected."""
    check_run_args(query, dataset)
    if engine not in ENGINES:
        raise FilterError(
            [
                Diagnostic(
                    "unknown-engine",
                    f"unknown SQL engine {engine!r}; one of {', '.join(ENGINES)}",
                    Location(param="engine"),
                )
            ]
        )
    main = _resolve(query, dataset)
    if engine in INEXACT_INTS:
        bounds, why = INEXACT_INTS[engine]
        refuse_inexact_numbers(engine, dataset, int_within(bounds), why)
    if engine == "spark":  # DataFrames on a local session or Spark Connect (url: sc://host:port)
        from filterdsl.backends.sql.spark_runners import fetch

        return fetch(query, dataset, url, catalog, main)
    if engine in COLUMNAR:
        from filterdsl.backends.sql.columnar_runners import fetch_ids

        ids = fetch_ids(query, dataset, engine, catalog, main)
        docs = {d["id"]: d for d in dataset[main]}
        return [docs[i] for i in ids]
    if engine in ("sqlite", "duckdb"):
        tables = {db: ("records" if db is None else str(db)) for db in dataset}
    else:
        tag = secrets.token_hex(5)
        tables = {db: f"fdsl_{tag}_{i}" for i, db in enumerate(dataset)}
    layout = JsonLayout(tables=tables)
    dialect = {"sqlite": "sqlite", "duckdb": "duckdb", "postgres": "postgres", "mysql": "mysql"}[engine]
    q = dataclasses.replace(query, fields=None, database=main)
    sql, params = to_sql(q, dialect, layout, catalog)
    if engine in ("sqlite", "postgres"):
        _refuse_nul(dataset, engine)
    if engine == "sqlite":
        with _sqlite(dataset, tables) as con:
            rows = _sqlite_rows(con, sql, params)
    elif engine == "duckdb":
        with _duckdb(dataset, tables) as con:
            rows = con.execute(sql, params).fetchall()
    elif engine == "postgres":
        with _postgres(dataset, tables, url or DEFAULT_URLS["postgres"]) as con:
            with con.cursor() as cur:
                cur.execute(sql, params)
                rows = cur.fetchall()
    else:
        with _mysql(dataset, tables, url or DEFAULT_URLS["mysql"]) as con:
            with con.cursor() as cur:
                cur.execute(sql, params)
                rows = list(cur.fetchall())
    return [_doc(tuple(r)) for r in rows]


def run(
    query: Query,
    dataset: Mapping[Any, list[Doc]],
    engine: str = "sqlite",
    url: str | None = None,
    catalog: CatalogSource | None = None,
) -> list[Doc]:
    """Run ``query`` on ``engine`` over ``dataset`` ({database id: canonical docs}); projected documents."""
    return [project(d, query.fields) for d in _fetch(query, dataset, engine, url, catalog)]


def run_ids(
    query: Query,
    dataset: Mapping[Any, list[Doc]],
    engine: str = "sqlite",
    url: str | None = None,
    catalog: CatalogSource | None = None,
) -> list[str]:
    """Ids in result order (what ``filterdsl run --ids`` prints)."""
    return [d["id"] for d in _fetch(query, dataset, engine, url, catalog)]


def _sqlite_rows(con: Any, sql: str, params: Any) -> list[Any]:
    """SQLite's parser keeps a fixed stack (about 100 entries): a filter that nests NOT, OR and relations
    a dozen levels deep overflows it. That is a limit of the engine, answered as ``too-deep`` (exit 1)
    rather than as an engine failure (docs/sql.md)."""
    import sqlite3

    try:
        return list(con.execute(sql, params).fetchall())
    except sqlite3.OperationalError as e:
        if "parser stack overflow" not in str(e):
            raise
        raise FilterError(
            [
                Diagnostic(
                    "too-deep",
                    "the filter nests deeper than SQLite's parser takes (its stack holds about 100 "
                    "levels; each NOT, OR and relation adds a few); flatten it or use another engine",
                    Location(param="query"),
                )
            ]
        ) from None
