"""Index use, asserted through plans: each index-eligible operator, compiled by ``to_sql`` and given the
indexes ``advise`` prints, is planned as an index scan on PostgreSQL, MariaDB and SQLite, in both
layouts, and still returns the in-memory engine's records (the indexed form is the exact form).

PostgreSQL runs with ``enable_seqscan = off`` (so a usable index is always taken: the test asks whether
one *can* be used); MariaDB and SQLite plan a selective filter over a few thousand rows, as they would in
production. Speed itself is measured in benchmarks/bench_indexes.py, never here.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sql_engines import require

from filterdsl.ast import (
    Compare,
    Field,
    FieldState,
    FieldType,
    IdIn,
    InTrash,
    Money,
    Not,
    Op,
    Query,
    State,
)
from filterdsl.backends.memory import run as apply_query
from filterdsl.backends.sql import ColumnsLayout, JsonLayout, to_sql
from filterdsl.backends.sql.indexes import advise
from filterdsl.backends.sql.runners import sqlite_connect

T = FieldType
N = 3000
DB = "db"
STATUS, AMOUNT, PAID, DAY, NAME, TAGS, PRICE = (
    Field("status", T.ENUM),
    Field("amount", T.NUMBER),
    Field("paid", T.BOOLEAN),
    Field("day", T.DATE),
    Field("name", T.STRING),
    Field("tags", T.ENUM_TAGS),
    Field("price", T.CURRENCY),
)


def _docs() -> list[dict[str, Any]]:
    out = []
    for i in range(N):
        data: dict[str, Any] = {
            "status": "rare" if i % 1000 == 7 else ["new", "paid", "shipped"][i % 3],
            "amount": i,
            "paid": i % 997 == 1,
            "day": f"20{10 + i % 13}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "name": f"order-{i:05d}",
            "tags": ["t" + str(i % 500), "all"],
            "price": {"val": i, "currency": "USD"},
        }
        if i % 101 == 5:
            data["amount"] = str(i)  # a wrong type the exact form must not return
        out.append(
            {
                "id": f"r{i:05d}",
                "created_at": f"2021-01-{1 + i % 28:02d}T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": data,
            }
        )
    return out


DOCS = _docs()

#: (label, query): every index-eligible operator, each selective
CASES = [
    ("eq", Compare(STATUS, Op.EQ, "rare")),
    ("in", Compare(STATUS, Op.IN, ("rare", "gone"))),
    ("range-gte", Compare(AMOUNT, Op.GTE, N - 5)),
    ("range-lt", Compare(AMOUNT, Op.LT, 3)),
    ("number-eq", Compare(AMOUNT, Op.EQ, 1234)),
    ("boolean", Compare(PAID, Op.EQ, True)),
    ("ids", IdIn(("r00010", "r00020"))),
    ("date-after", Compare(DAY, Op.GT, "2022-11-20")),
    ("date-on", Compare(DAY, Op.EQ, "2011-02-02")),
    ("prefix", Compare(NAME, Op.STARTS_WITH, "ORDER-0012")),
    ("contains", Compare(NAME, Op.CONTAINS, "r-0123")),
    ("tags-all", Compare(TAGS, Op.HAS_ALL, ("t7",))),
    ("tags-any", Compare(TAGS, Op.HAS_ANY, ("t7", "t8"))),
    ("money", Compare(PRICE, Op.GTE, Money(N - 3, "USD"))),
]

#: what each engine and layout can serve (the rest is documented in docs/sql.md as not index-served)
SERVED = {
    ("postgres", "json"): {c for c, _ in CASES},
    ("postgres", "columns"): {c for c, _ in CASES},
    ("sqlite", "json"): {
        "eq",
        "in",
        "range-gte",
        "range-lt",
        "number-eq",
        "boolean",
        "ids",
        "date-after",
        "date-on",
        "money",
    },
    ("sqlite", "columns"): {
        "eq",
        "in",
        "range-gte",
        "range-lt",
        "number-eq",
        "boolean",
        "ids",
        "date-after",
        "date-on",
        "money",
    },
    ("mysql", "columns"): {
        "eq",
        "in",
        "range-gte",
        "range-lt",
        "number-eq",
        "boolean",
        "ids",
        "money",
        "date-after",
        "date-on",
    },
}

COLUMNS = ColumnsLayout(
    tables={DB: "cols"},
    columns={
        DB: {
            "status": "status",
            "amount": "amount",
            "paid": "paid",
            "day": "day",
            "name": "name",
            "tags": "tags",
            "price": {"column": "price", "currency": "price_cur"},
        }
    },
)


def _layout(kind: str, table: str) -> JsonLayout | ColumnsLayout:
    if kind == "json":
        return JsonLayout(tables={DB: table})
    return ColumnsLayout(tables={DB: table}, columns=COLUMNS.columns)


def _expected(pred: Any) -> list[str]:
    q = Query(pred, database=DB)
    return [d["id"] for d in apply_query(q, {DB: DOCS})]


def _col_rows() -> list[tuple[Any, ...]]:
    rows = []
    for d in DOCS:
        v = d["data"]
        amount = v["amount"] if isinstance(v["amount"], int) else None  # a typed column holds no wrong types
        rows.append(
            (
                d["id"],
                d["created_at"],
                None,
                None,
                v["status"],
                amount,
                v["paid"],
                v["day"],
                v["name"],
                json.dumps(v["tags"]),
                v["price"]["val"],
                v["price"]["currency"],
            )
        )
    return rows


def _expected_columns(pred: Any) -> list[str]:
    docs = []
    for d in DOCS:
        v = dict(d["data"])
        if not isinstance(v["amount"], int):
            del v["amount"]
        docs.append({**d, "data": v})
    return [d["id"] for d in apply_query(Query(pred, database=DB), {DB: docs})]


# ---------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="module")
def pg() -> Iterator[Any]:
    url = require("postgres")
    import psycopg

    con = psycopg.connect(url, autocommit=True)
    tag = secrets.token_hex(4)
    tj, tc = f"ix_json_{tag}", f"ix_cols_{tag}"
    con.execute(
        f'CREATE TABLE "{tj}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, '
        "removed_at TEXT, data JSONB NOT NULL)"
    )
    con.execute(
        f'CREATE TABLE "{tc}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, '
        "removed_at TEXT, status TEXT, amount DOUBLE PRECISION, paid BOOLEAN, day TEXT, name TEXT, "
        "tags JSONB, price DOUBLE PRECISION, price_cur TEXT)"
    )
    with con.cursor() as cur:
        cur.executemany(
            f'INSERT INTO "{tj}" VALUES (%s, %s, %s, %s, %s::jsonb)',
            [(d["id"], d["created_at"], None, None, json.dumps(d["data"])) for d in DOCS],
        )
        cur.executemany(
            f'INSERT INTO "{tc}" VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s::jsonb, %s, %s)', _col_rows()
        )
    try:
        yield con, {"json": tj, "columns": tc}
    finally:
        con.execute(f'DROP TABLE IF EXISTS "{tj}"')
        con.execute(f'DROP TABLE IF EXISTS "{tc}"')
        con.close()


@pytest.mark.parametrize("layout", ["json", "columns"])
def test_postgres_serves_every_eligible_operator_from_an_index(pg: Any, layout: str) -> None:
    con, tables = pg
    lay = _layout(layout, tables[layout])
    served = SERVED[("postgres", layout)]
    queries = [Query(p, database=DB) for _, p in CASES]
    for stmt in advise(queries, "postgres", lay).statements:
        con.execute(stmt)
    con.execute(f'ANALYZE "{tables[layout]}"')
    with con.transaction():
        con.execute("SET LOCAL enable_seqscan = off")
        for label, pred in CASES:
            sql, params = to_sql(Query(pred, database=DB), "postgres", lay)
            plan = "\n".join(r[0] for r in con.execute("EXPLAIN " + sql, params).fetchall())
            if label in served:
                assert "Index" in plan and "Seq Scan" not in plan, (label, plan)
            ids = [r[0] for r in con.execute(sql, params).fetchall()]
            want = _expected(pred) if layout == "json" else _expected_columns(pred)
            assert ids == want, label


@pytest.mark.parametrize("layout", ["json", "columns"])
def test_postgres_estimates_a_date_range_from_the_index_statistics(pg: Any, layout: str) -> None:
    """The day regex runs on the expression the date index names (``COLLATE "C"``), so the planner
    estimates it from that index's statistics. On any other expression it guessed from the pattern's
    length (about 1e-5 of the rows: 1 row of 3,000 here), and with LIMIT and the default order it then
    sorted a whole 10% range instead of walking the order index (86x at 1,000,000 rows)."""
    con, tables = pg
    lay = _layout(layout, tables[layout])
    pred = Compare(DAY, Op.GTE, "2015-01-01")
    for stmt in advise([Query(pred, database=DB)], "postgres", lay).statements:
        con.execute(stmt)
    con.execute(f'ANALYZE "{tables[layout]}"')
    sql, params = to_sql(Query(pred, database=DB), "postgres", lay)
    plan = con.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0][0]["Plan"]
    actual = len(_expected(pred))
    assert actual > 1000 and plan["Plan Rows"] >= actual / 2, (plan["Plan Rows"], actual, sql)


def test_postgres_binds_json_values_as_constants(pg: Any) -> None:
    """``to_jsonb($1)`` is STABLE: PostgreSQL would run it on every row a filter reads. The value is bound
    as JSON text cast to jsonb, which the planner folds into a constant."""
    con, tables = pg
    lay = _layout("json", tables["json"])
    for pred in (
        Compare(STATUS, Op.EQ, "rare"),
        Compare(STATUS, Op.IN, ("a", "b")),
        Compare(AMOUNT, Op.GTE, 5),
    ):
        sql, params = to_sql(Query(pred, database=DB), "postgres", lay)
        plan = "\n".join(r[0] for r in con.execute("EXPLAIN (VERBOSE) " + sql, params).fetchall())
        assert "to_jsonb" not in plan and "'::jsonb" in plan, plan


# ---------------------------------------------------------------- SQLite
@pytest.mark.parametrize("layout", ["json", "columns"])
def test_sqlite_serves_equality_ranges_and_dates_from_an_index(layout: str) -> None:
    con = sqlite_connect()
    t = "ix"
    if layout == "json":
        con.execute(
            f'CREATE TABLE "{t}" (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, '
            "removed_at TEXT, data TEXT NOT NULL)"
        )
        con.executemany(
            f'INSERT INTO "{t}" VALUES (?, ?, ?, ?, ?)',
            [(d["id"], d["created_at"], None, None, json.dumps(d["data"])) for d in DOCS],
        )
    else:
        con.execute(
            f'CREATE TABLE "{t}" (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, '
            "removed_at TEXT, status TEXT, amount REAL, paid BOOLEAN, day TEXT, name TEXT, tags TEXT, "
            "price REAL, price_cur TEXT)"
        )
        con.executemany(f'INSERT INTO "{t}" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)', _col_rows())
    lay = _layout(layout, t)
    # not the default-order index: with a bound value SQLite estimates rows per key (4 statuses here) and
    # may walk that index to skip the sort; the question here is whether the filter's index can serve it
    for stmt in advise([Query(p, database=DB) for _, p in CASES], "sqlite", lay).statements:
        if "default_order" not in stmt:
            con.execute(stmt)
    # no ANALYZE: SQLite then assumes an equality is selective (it knows no values: they are bound), which
    # is the question here; with statistics it scans for a two-valued boolean, as it should
    for label, pred in CASES:
        sql, params = to_sql(Query(pred, database=DB), "sqlite", lay)
        plan = " | ".join(str(r[-1]) for r in con.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall())
        if label in SERVED[("sqlite", layout)]:
            assert (
                "USING INDEX" in plan
                or "USING COVERING INDEX" in plan
                or "PRIMARY KEY" in plan
                or "sqlite_autoindex" in plan
            ), (label, plan)
            assert "SCAN r0" not in plan, (label, plan)
        ids = [r[0] for r in con.execute(sql, params).fetchall()]
        want = _expected(pred) if layout == "json" else _expected_columns(pred)
        assert ids == want, label


# ---------------------------------------------------------------- MariaDB
def test_mariadb_columns_serve_equality_in_ranges_booleans_and_ids_from_an_index() -> None:
    url = require("mysql")
    import pymysql

    from filterdsl.backends.sql.runners import _mysql_args

    con = pymysql.connect(**_mysql_args(url), autocommit=True)
    t = f"ix_cols_{secrets.token_hex(4)}"
    try:
        with con.cursor() as cur:
            # default (case-insensitive, PAD SPACE) collation: equality still finds only exact bytes
            cur.execute(
                f"CREATE TABLE `{t}` (id VARCHAR(64) PRIMARY KEY, created_at VARCHAR(40) NOT NULL, "
                "updated_at VARCHAR(40), removed_at VARCHAR(40), status VARCHAR(64), amount DOUBLE, "
                "paid BOOLEAN, day VARCHAR(40), name VARCHAR(64), tags LONGTEXT, price DOUBLE, "
                "price_cur VARCHAR(8)) DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_general_ci"
            )
            cur.executemany(
                f"INSERT INTO `{t}` VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", _col_rows()
            )
            cur.execute(
                f"INSERT INTO `{t}` (id, created_at, status) VALUES ('x1', '2021-01-01', 'RARE'), "
                "('x2', '2021-01-01', 'rare ')"
            )  # collation-equal, not byte-equal: never returned
            lay = _layout("columns", t)
            for stmt in advise([Query(p, database=DB) for _, p in CASES], "mysql", lay).statements:
                cur.execute(stmt)
            cur.execute(f"ANALYZE TABLE `{t}`")
            cur.fetchall()
            for label, pred in CASES:
                sql, params = to_sql(Query(pred, database=DB), "mysql", lay)
                cur.execute("EXPLAIN " + sql, params)
                cols = [c[0] for c in cur.description]
                plan = [dict(zip(cols, r)) for r in cur.fetchall()]
                if label in SERVED[("mysql", "columns")]:
                    assert plan[0]["key"] is not None and plan[0]["type"] != "ALL", (label, plan)
                cur.execute(sql, params)
                ids = [r[0] for r in cur.fetchall()]
                assert ids == _expected_columns(pred), label
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS `{t}`")
        con.close()


def test_advice_names_the_compiled_expression() -> None:
    """The advised expression is the query's own (an expression index only serves an equal expression)."""
    for dialect in ("postgres", "sqlite"):
        q = Query(Compare(Field("k'x", T.NUMBER), Op.GTE, 5), database=DB)
        stmts = advise([q], dialect).statements
        sql, _ = to_sql(q, dialect)
        body = stmts[0].split(" ((", 1)[1].rsplit("));", 1)[0]
        assert body in sql, (dialect, stmts[0], sql)


def test_advice_refuses_what_no_index_serves() -> None:
    q = Query(Not(Compare(STATUS, Op.EQ, "a")), database=DB)
    adv = advise([q], "postgres")
    assert not [s for s in adv.statements if "status" in s] and any("negative" in n for n in adv.notes)
    adv = advise([Query(Compare(STATUS, Op.EQ, "a"), database=DB)], "mysql")
    assert not [s for s in adv.statements if "status" in s] and any(
        "generated column" in n for n in adv.notes
    )
    assert FieldState and State and InTrash  # imported for the query shapes above
