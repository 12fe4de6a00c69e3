"""Listing pages are index-served: for each sort (and the default order), with and without a filter, after
applying exactly what ``advise`` printed, the plan walks an index in the query's order: no full scan of
the table and no sort node (PostgreSQL JSON and columns layouts, MariaDB columns). The pages still equal
the in-memory engine's, so the index-friendly ORDER BY is SPEC 8's order.

Tables hold N rows and are ANALYZEd, so the planner prefers the order index on its own (no
``enable_seqscan = off`` here: the question is whether a real plan avoids the scan and the sort).
Speed is measured in benchmarks/bench_indexes.py, never here.
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from sql_engines import require

from filterdsl.ast import TRUE, Compare, Field, FieldType, Op, Query, SortKey
from filterdsl.backends.memory import run as apply_query
from filterdsl.backends.sql import ColumnsLayout, JsonLayout, to_sql
from filterdsl.backends.sql.indexes import advise

pytestmark = pytest.mark.slow

T = FieldType
N = 20000
DB = "db"
STATUS, AMOUNT, NAME, DAY, PAID = (
    Field("status", T.ENUM),
    Field("amount", T.NUMBER),
    Field("name", T.STRING),
    Field("day", T.DATE),
    Field("paid", T.BOOLEAN),
)
COLUMNS = {
    "status": "status",
    "amount": "amount",
    "name": "name",
    "day": {"column": "day", "days": True},
    "paid": "paid",
}


def _docs() -> list[dict[str, Any]]:
    rnd = random.Random(27)
    out = []
    for i in range(N):
        data: dict[str, Any] = {
            "status": ["new", "paid", "shipped"][i % 3],
            "amount": rnd.randrange(100000) / 4,
            "name": f"n{rnd.randrange(10**6):06d}",
            "day": f"20{10 + i % 13}-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "paid": i % 7 == 1,
        }
        if i % 97 == 3:
            del data["amount"]  # NOT SET: first ascending, last descending
        if i % 89 == 4:
            data["name"] = None  # EMPTY
        if i % 83 == 5:
            del data["day"]
        out.append(
            {
                "id": f"r{i:06d}",
                # ties on created_at: the id decides
                "created_at": f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": data,
            }
        )
    return out


DOCS = _docs()
SORTS = [
    (SortKey(AMOUNT, True),),
    (SortKey(AMOUNT),),
    (SortKey(NAME),),
    (SortKey(DAY),),
    (SortKey(DAY, True),),
    (),
]
FILTERS = [TRUE, Compare(STATUS, Op.EQ, "paid")]
QUERIES = [Query(f, sort=s, limit=100, database=DB) for s in SORTS for f in FILTERS] + [
    # a declared days column (ColumnSpec.days; a DATE column here) ranges on the column itself
    Query(Compare(DAY, op, "2015-06-30"), sort=(SortKey(DAY),), limit=100, database=DB)
    for op in (Op.GT, Op.GTE, Op.EQ, Op.LT, Op.LTE)
]
DEEP = [Query(TRUE, sort=s, skip=300, limit=100, database=DB) for s in SORTS]


def _label(q: Query) -> str:
    keys = ",".join(("-" if k.descending else "") + k.key.key for k in q.sort) or "default"  # type: ignore[union-attr]
    return f"{keys} filter={q.predicate is not TRUE} skip={q.skip}"


def _expected(q: Query) -> list[str]:
    return [d["id"] for d in apply_query(q, {DB: DOCS})]


def _rows() -> list[tuple[Any, ...]]:
    out = []
    for d in DOCS:
        v = d["data"]
        out.append(
            (
                d["id"],
                d["created_at"],
                v["status"],
                v.get("amount"),
                v["name"],
                v.get("day"),
                v["paid"],
            )
        )
    return out


def _pg_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for p in plan.get("Plans", ()):
        yield from _pg_nodes(p)


@pytest.fixture(scope="module")
def pg() -> Iterator[Any]:
    url = require("postgres")
    import psycopg

    con = psycopg.connect(url, autocommit=True)
    tag = secrets.token_hex(4)
    tj, tc = f"ox_json_{tag}", f"ox_cols_{tag}"
    con.execute(
        f'CREATE TABLE "{tj}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, '
        "removed_at TEXT, data JSONB NOT NULL)"
    )
    con.execute(
        f'CREATE TABLE "{tc}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, '
        "removed_at TEXT, status TEXT, amount DOUBLE PRECISION, name TEXT, day DATE, paid BOOLEAN)"
    )
    with con.cursor() as cur:
        cur.executemany(
            f'INSERT INTO "{tj}" VALUES (%s, %s, %s, %s, %s::jsonb)',
            [(d["id"], d["created_at"], None, None, json.dumps(d["data"])) for d in DOCS],
        )
        cur.executemany(
            f'INSERT INTO "{tc}" (id, created_at, status, amount, name, day, paid) '
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            _rows(),
        )
    try:
        yield con, {"json": tj, "columns": tc}
    finally:
        con.execute(f'DROP TABLE IF EXISTS "{tj}"')
        con.execute(f'DROP TABLE IF EXISTS "{tc}"')
        con.close()


def _pg_layout(kind: str, table: str) -> JsonLayout | ColumnsLayout:
    if kind == "json":
        return JsonLayout(tables={DB: table})
    return ColumnsLayout(tables={DB: table}, columns={DB: COLUMNS})


@pytest.mark.parametrize("layout", ["json", "columns"])
def test_postgres_listing_pages_walk_the_advised_order_index(pg: Any, layout: str) -> None:
    con, tables = pg
    table = tables[layout]
    lay = _pg_layout(layout, table)
    for stmt in advise(QUERIES, "postgres", lay).statements:
        con.execute(stmt)
    con.execute(f'ANALYZE "{table}"')
    for q in QUERIES + DEEP:
        sql, params = to_sql(q, "postgres", lay)
        plan = con.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0][0]["Plan"]
        nodes = list(_pg_nodes(plan))
        kinds = [n["Node Type"] for n in nodes]
        # a sort is allowed only of a page's worth of rows (a selective range sorted after its index)
        big = [n for n in nodes if "Sort" in n["Node Type"] and n["Plan Rows"] > (q.limit or 0) + q.skip]
        assert not big, (_label(q), kinds, sql)
        assert not any(n["Node Type"] == "Seq Scan" and n.get("Relation Name") == table for n in nodes), (
            _label(q),
            kinds,
        )
        ids = [r[0] for r in con.execute(sql, params).fetchall()]
        assert ids == _expected(q), _label(q)


def test_mariadb_listing_pages_walk_the_advised_order_index() -> None:
    url = require("mysql")
    import pymysql

    from filterdsl.backends.sql.runners import _mysql_args

    con = pymysql.connect(**_mysql_args(url), autocommit=True)
    t = f"ox_cols_{secrets.token_hex(4)}"
    # a code-point id (NO PAD binary) declared as such: the tie-breaker is the plain id
    lay = ColumnsLayout(tables={DB: t}, columns={DB: COLUMNS}, binary_id=True)
    # MariaDB indexes no expression: a string sort (CAST(name AS BINARY)) is not served, said in a note
    queries = [q for q in QUERIES if not any(k.key == NAME for k in q.sort)]
    # MariaDB 10.11 scans and sorts past about 1.5% of the table even for a hand-written ORDER BY on the
    # index's own columns (checked: ``SELECT * ... ORDER BY amount DESC, created_at DESC, id LIMIT 100
    # OFFSET 300`` on this table is ``ALL`` + filesort); below that both walk the index
    deep = [replace(q, skip=200) for q in DEEP if not any(k.key == NAME for k in q.sort)]
    try:
        with con.cursor() as cur:
            cur.execute(
                f"CREATE TABLE `{t}` (id VARCHAR(64) COLLATE utf8mb4_nopad_bin PRIMARY KEY, "
                "created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40), removed_at VARCHAR(40), "
                "status VARCHAR(64), amount DOUBLE, name VARCHAR(64), day DATE, paid BOOLEAN, "
                # a row as wide as a real one: with 40-byte rows a scan of all N beats 400 lookups
                "note VARCHAR(200) DEFAULT (REPEAT('x', 150))) "
                "DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_general_ci"
            )
            cur.executemany(
                f"INSERT INTO `{t}` (id, created_at, status, amount, name, day, paid) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                _rows(),
            )
            advice = advise(QUERIES, "mysql", lay)
            assert any("order name" in n for n in advice.notes), advice.notes
            for stmt in advice.statements:
                cur.execute(stmt)
            cur.execute(f"ANALYZE TABLE `{t}`")
            cur.fetchall()
            for q in queries + deep:
                sql, params = to_sql(q, "mysql", lay)
                cur.execute("EXPLAIN " + sql, params)
                cols = [c[0] for c in cur.description]
                plan = [dict(zip(cols, r)) for r in cur.fetchall()]
                assert plan[0]["type"] != "ALL", (_label(q), plan, sql)
                if "filesort" in (plan[0]["Extra"] or ""):  # only of a page's worth of rows
                    assert int(plan[0]["rows"]) <= (q.limit or 0) + q.skip, (_label(q), plan)
                cur.execute(sql, params)
                ids = [r[0] for r in cur.fetchall()]
                assert ids == _expected(q), _label(q)
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS `{t}`")
        con.close()


def test_advice_prints_the_order_index_with_the_null_order() -> None:
    lay = ColumnsLayout("orders", {"amount": "amount"})
    q = Query(TRUE, sort=(SortKey(AMOUNT, True),), database=None)
    pg = advise([q], "postgres", lay).statements
    assert any('("amount" DESC NULLS LAST, "created_at" DESC, "id" COLLATE "C")' in s for s in pg), pg
    assert any('("created_at" DESC, "id" COLLATE "C")' in s for s in pg), pg
    up = advise([Query(TRUE, sort=(SortKey(AMOUNT),))], "postgres", lay).statements
    assert any('("amount" NULLS FIRST, "created_at" DESC, "id" COLLATE "C")' in s for s in up), up
    # MariaDB: NULL is the smallest value, SPEC 8's placement in both directions; no expression indexes
    my = advise([q], "mysql", ColumnsLayout("orders", {"amount": "amount"}, binary_id=True)).statements
    assert any("(`amount` DESC, `created_at` DESC, `id`)" in s for s in my), my
    plain = advise([q], "mysql", lay)
    assert not plain.statements and any("binary_id" in n for n in plain.notes), plain


def test_advice_names_the_stored_filters_each_index_serves() -> None:
    lay = ColumnsLayout("orders", {"amount": "amount", "status": "status"})
    sorted_q = Query(TRUE, sort=(SortKey(AMOUNT, True),))
    filtered = Query(Compare(STATUS, Op.EQ, "paid"))
    adv = advise([sorted_q, filtered], "postgres", lay, labels=["by-amount.json", "paid.json"])
    by_body = {s.split(" ON ", 1)[1]: labels for s, labels in adv.serves.items()}
    assert by_body['"orders" ("created_at" DESC, "id" COLLATE "C");'] == ["by-amount.json", "paid.json"]
    assert by_body['"orders" ("amount" DESC NULLS LAST, "created_at" DESC, "id" COLLATE "C");'] == [
        "by-amount.json"
    ]
    assert by_body['"orders" ("status");'] == ["paid.json"]
    assert "-- serves by-amount.json, paid.json" in adv.text()
    assert advise([filtered], "postgres", lay).serves == {}  # unlabelled: the statements alone
