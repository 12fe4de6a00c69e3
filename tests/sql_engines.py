"""Shared helpers for the SQL tests: which engines run, and when an engine's lower() diverges."""

from __future__ import annotations

import functools
from typing import Any

import pytest

from conftest import mysql_available, mysql_url, need, postgres_available, postgres_url

ENGINES = ["sqlite", "duckdb", "postgres", "mysql"]


@functools.cache
def _pg() -> bool:
    return postgres_available()


@functools.cache
def _my() -> bool:
    return mysql_available()


def require(engine: str) -> str | None:
    """Skip (fail in CI) when the engine's server is unreachable; the URL to use."""
    if engine == "postgres":
        need(_pg(), "PostgreSQL is not reachable at " + postgres_url())
        return postgres_url()
    if engine == "mysql":
        need(_my(), "MariaDB/MySQL is not reachable at " + mysql_url())
        return mysql_url()
    if engine == "duckdb":
        pytest.importorskip("duckdb")
    return None


_LOWER_SQL = {
    "duckdb": "SELECT lower(?)",
    "postgres": "SELECT lower(%s)",
    # what the MySQL family writes (dialects/mysql.py: İ spelled out before LOWER)
    "mysql": "SELECT LOWER(REPLACE(%s COLLATE utf8mb4_unicode_520_ci, '\u0130', 'i\u0307'))",
}


@functools.cache
def _conn(engine: str) -> Any:
    if engine == "duckdb":
        import duckdb

        return duckdb.connect()
    if engine == "postgres":
        import psycopg

        return psycopg.connect(postgres_url(), autocommit=True)
    import pymysql

    from filterdsl.backends.sql.runners import _mysql_args

    return pymysql.connect(**_mysql_args(mysql_url()))


def engine_lower(engine: str, text: str) -> str:
    """The engine's own lower() of ``text`` (sqlite: filterdsl's override, i.e. Python's)."""
    if engine == "sqlite":
        return text.lower()
    con = _conn(engine)
    if engine == "duckdb":
        return str(con.execute(_LOWER_SQL[engine], [text]).fetchone()[0])
    with con.cursor() as cur:
        cur.execute(_LOWER_SQL[engine], (text,))
        return str(cur.fetchone()[0])


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    return []


def lower_diverges(engine: str, dataset: dict[Any, list[dict[str, Any]]]) -> bool:
    """True when the engine's lower() differs from str.lower() on some stored string (SPEC 1.4 allows
    documented divergences: final sigma, dotted I, engines' older Unicode tables)."""
    if engine == "sqlite":
        return False
    texts = {s for docs in dataset.values() for d in docs for s in _strings(d["data"]) if s.lower() != s}
    return any(engine_lower(engine, s) != s.lower() for s in texts)


def _numbers(value: Any) -> list[int | float]:
    if type(value) in (int, float):
        return [value]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    return []


def _reads_exactly(engine: str, v: int | float) -> bool:
    """docs/semantics.md section 9, written out independently of filterdsl.semantics.numbers."""
    if engine in ("sqlite", "polars"):
        return type(v) is float or -(2**63) <= v < 2**63
    if engine in ("mysql", "mingo", "spark"):  # Spark reads JSON numbers as doubles
        return type(v) is float or abs(v) <= 2**53
    if engine == "clickhouse":  # JSON layout
        if type(v) is float:
            return abs(v) <= 2**53 or abs(v) >= 1e21
        return -(2**63) <= v < 2**64
    return True


def refuses_numbers(engine: str, dataset: dict[Any, list[dict[str, Any]]]) -> bool:
    """The engine's runner refuses this dataset: it holds a stored number the engine reads inexactly."""
    return any(
        not _reads_exactly(engine, n) for docs in dataset.values() for d in docs for n in _numbers(d["data"])
    )
