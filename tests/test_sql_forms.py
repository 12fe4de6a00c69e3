"""The smaller index-friendly forms of issue 27, each asserted through a plan on ANALYZEd tables with the
advised indexes, and each still returning the in-memory engine's answer:

- a count is ``SELECT COUNT(*) ... WHERE``: no ORDER BY, no derived table;
- MariaDB relations on columns are ``ref IN (SELECT id ...)``, a semi-join that reaches the referring
  rows through the ref column's index (depth 1 and 2, and inside a count);
- a two-bound date range runs the day regex once per row;
- PostgreSQL JSON ``is-set`` has an ``IS NOT NULL`` conjunct the value's index serves;
- the advisor prints the ref column's index (relations) and a ``lower(x) text_pattern_ops`` btree
  (prefixes), which the plans use.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sql_engines import require

from filterdsl.ast import (
    And,
    Compare,
    Field,
    FieldState,
    FieldType,
    Op,
    Query,
    Relation,
    State,
)
from filterdsl.backends.memory import run as apply_query
from filterdsl.backends.sql import ColumnsLayout, JsonLayout, to_sql
from filterdsl.backends.sql.indexes import advise
from filterdsl.semantics.days import DAY_PREFIX

pytestmark = pytest.mark.slow

T = FieldType
N, NC, NR = 20000, 2000, 200
CLIENT, NAME, NOTE, DAY = (
    Field("client", T.REF),
    Field("name", T.STRING),
    Field("note", T.STRING),
    Field("day", T.DATE),
)
TIER, REGION, RNAME = Field("tier", T.ENUM), Field("region", T.REF), Field("rname", T.STRING)


def _doc(i: int, prefix: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": f"{prefix}{i:05d}",
        "created_at": f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000000Z",
        "updated_at": None,
        "removed_at": "2022-01-01T00:00:00.000000Z" if i % 500 == 9 else None,
        "data": data,
    }


DATA = {
    "regions": [_doc(k, "g", {"rname": "north" if k == 7 else f"r{k}"}) for k in range(NR)],
    "clients": [
        _doc(j, "c", {"tier": "gold" if j % 1000 == 3 else "std", "region": f"g{j % NR:05d}"})
        for j in range(NC)
    ],
    "orders": [
        _doc(
            i,
            "o",
            {
                "client": f"c{(i * 7) % NC:05d}",
                "name": f"Item-{i:05d}",
                "day": f"20{10 + i % 13}-{1 + i % 12:02d}-{1 + i % 28:02d}",
                **({"note": "n" if i % 3 else ""} if i % 200 == 0 else {}),
            },
        )
        for i in range(N)
    ],
}
COLS = {
    "orders": {"client": "client", "name": "name", "note": "note", "day": "day"},
    "clients": {"tier": "tier", "region": "region"},
    "regions": {"rname": "rname"},
}
TYPES = {"client": "VARCHAR(64)", "name": "VARCHAR(64)", "note": "VARCHAR(64)", "day": "VARCHAR(40)"}
TYPES |= {"tier": "VARCHAR(64)", "region": "VARCHAR(64)", "rname": "VARCHAR(64)"}

DEPTH1 = Relation(CLIENT, "clients", Compare(TIER, Op.EQ, "gold"))
DEPTH2 = Relation(CLIENT, "clients", Relation(REGION, "regions", Compare(RNAME, Op.EQ, "north")))
RANGE = And((Compare(DAY, Op.GTE, "2015-03-01"), Compare(DAY, Op.LT, "2015-03-08")))
IS_SET = FieldState(NOTE, State.HAS_VALUE)
PREFIX = Compare(NAME, Op.STARTS_WITH, "item-0123")


def _q(pred: Any, limit: int | None = 100) -> Query:
    return Query(pred, limit=limit, database="orders")


def _expected(q: Query, docs: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [d["id"] for d in apply_query(q, docs)]


def _clean() -> dict[str, list[dict[str, Any]]]:
    """The columns layout stores EMPTY as NULL: the reference without the empty notes."""
    out = {}
    for db, docs in DATA.items():
        out[db] = [{**d, "data": {k: v for k, v in d["data"].items() if v != ""}} for d in docs]
    return out


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for p in plan.get("Plans", ()):
        yield from _nodes(p)


def test_count_has_no_order_and_no_derived_table() -> None:
    for dialect in ("postgres", "mysql", "sqlite"):
        sql, params = to_sql(_q(DEPTH1), dialect, count=True)
        assert sql.startswith("SELECT COUNT(*) FROM") and "ORDER BY" not in sql and "LIMIT" not in sql, sql


def test_date_range_checks_the_day_once() -> None:
    for dialect in ("postgres", "mysql"):
        for lay in (JsonLayout(), ColumnsLayout("orders", COLS["orders"])):
            sql, _ = to_sql(_q(RANGE), dialect, lay)
            assert sql.count("-02-29") == 1, (dialect, sql)  # the day regex's leap-day branch
    assert "-02-29" in DAY_PREFIX


# ---------------------------------------------------------------- PostgreSQL
@pytest.fixture(scope="module")
def pg() -> Iterator[Any]:
    url = require("postgres")
    import psycopg

    con = psycopg.connect(url, autocommit=True)
    tag = secrets.token_hex(4)
    names: dict[str, dict[str, str]] = {"json": {}, "columns": {}}
    for db, docs in DATA.items():
        tj, tc = f"fx_{db}_j_{tag}", f"fx_{db}_c_{tag}"
        names["json"][db], names["columns"][db] = tj, tc
        base = 'id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, removed_at TEXT'
        con.execute(f'CREATE TABLE "{tj}" ({base}, data JSONB NOT NULL)')
        cols = ", ".join(f"{c} TEXT" for c in COLS[db])
        con.execute(f'CREATE TABLE "{tc}" ({base}, {cols})')
        with con.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "{tj}" VALUES (%s, %s, %s, %s, %s::jsonb)',
                [(d["id"], d["created_at"], None, d["removed_at"], json.dumps(d["data"])) for d in docs],
            )
            marks = ", ".join(["%s"] * (4 + len(COLS[db])))
            cur.executemany(
                f'INSERT INTO "{tc}" VALUES ({marks})',
                [
                    (d["id"], d["created_at"], None, d["removed_at"])
                    + tuple(d["data"].get(k) or None for k in COLS[db])
                    for d in docs
                ],
            )
    try:
        yield con, names
    finally:
        for group in names.values():
            for t in group.values():
                con.execute(f'DROP TABLE IF EXISTS "{t}"')
        con.close()


def _pg_layout(kind: str, names: dict[str, str]) -> JsonLayout | ColumnsLayout:
    if kind == "json":
        return JsonLayout(tables=names)
    return ColumnsLayout(tables=names, columns=COLS)


@pytest.mark.parametrize("layout", ["json", "columns"])
def test_postgres_forms_are_index_served(pg: Any, layout: str) -> None:
    con, names = pg
    lay = _pg_layout(layout, names[layout])
    preds = {"depth1": DEPTH1, "depth2": DEPTH2, "range": RANGE, "prefix": PREFIX}
    if layout == "json":
        preds["is-set"] = IS_SET
    queries = [_q(p) for p in preds.values()]
    advice = advise(queries, "postgres", lay)
    for stmt in advice.statements:
        if "gin_trgm_ops" not in stmt and "pg_trgm" not in stmt:  # the prefix is served by the btree
            con.execute(stmt)
    assert any("text_pattern_ops" in s for s in advice.statements), advice.statements
    for t in names[layout].values():
        con.execute(f'ANALYZE "{t}"')
    ref = DATA if layout == "json" else _clean()
    orders = names[layout]["orders"]
    for label, pred in preds.items():
        for q, count in ((_q(pred), False), (_q(pred, None), True)):
            sql, params = to_sql(q, "postgres", lay, count=count)
            plan = con.execute("EXPLAIN (FORMAT JSON, VERBOSE) " + sql, params).fetchone()[0][0]["Plan"]
            nodes = list(_nodes(plan))
            seq = [n for n in nodes if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == orders]
            assert not seq, (label, count, [n["Node Type"] for n in nodes], sql)
            assert not any("Sort" in n["Node Type"] for n in nodes if n["Plan Rows"] > 100), (label, sql)
            if label == "range":  # the day regex once per row
                text = json.dumps(plan)
                assert text.count("02-29") == 1, text
            rows = con.execute(sql, params).fetchall()
            want = _expected(q, ref)
            assert (rows[0][0] == len(want)) if count else ([r[0] for r in rows] == want), (label, count)


# ---------------------------------------------------------------- MariaDB
def test_mariadb_relations_are_semi_joins_through_the_ref_index() -> None:
    url = require("mysql")
    import pymysql

    from filterdsl.backends.sql.runners import _mysql_args

    con = pymysql.connect(**_mysql_args(url), autocommit=True)
    tag = secrets.token_hex(4)
    names = {db: f"fx_{db}_{tag}" for db in DATA}
    lay = ColumnsLayout(tables=names, columns=COLS, binary_id=True)
    clean = _clean()
    try:
        with con.cursor() as cur:
            for db, docs in DATA.items():
                cols = ", ".join(f"{c} {TYPES[c]}" for c in COLS[db])
                cur.execute(
                    f"CREATE TABLE `{names[db]}` (id VARCHAR(64) COLLATE utf8mb4_nopad_bin PRIMARY KEY, "
                    f"created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40), removed_at VARCHAR(40), {cols}, "
                    "pad VARCHAR(200) DEFAULT (REPEAT('x', 150))) DEFAULT CHARSET=utf8mb4 "
                    "COLLATE utf8mb4_general_ci"
                )
                marks = ", ".join(["%s"] * (4 + len(COLS[db])))
                cur.executemany(
                    f"INSERT INTO `{names[db]}` (id, created_at, updated_at, removed_at, "
                    f"{', '.join(COLS[db])}) VALUES ({marks})",
                    [
                        (d["id"], d["created_at"], None, d["removed_at"])
                        + tuple(d["data"].get(k) or None for k in COLS[db])
                        for d in docs
                    ],
                )
            queries = [_q(DEPTH1), _q(DEPTH2)]
            for stmt in advise(queries, "mysql", lay).statements:
                cur.execute(stmt)
            for t in names.values():
                cur.execute(f"ANALYZE TABLE `{t}`")
                cur.fetchall()
            for pred in (DEPTH1, DEPTH2):
                for q, count in ((_q(pred), False), (_q(pred, None), True)):
                    sql, params = to_sql(q, "mysql", lay, count=count)
                    cur.execute("EXPLAIN " + sql, params)
                    cols = [c[0] for c in cur.description]
                    plan = [dict(zip(cols, r)) for r in cur.fetchall()]
                    mine = [p for p in plan if p["table"] == "r0"]
                    assert mine and all(p["type"] != "ALL" for p in mine), (plan, sql)
                    cur.execute(sql, params)
                    rows = cur.fetchall()
                    want = _expected(q, clean)
                    assert (rows[0][0] == len(want)) if count else ([r[0] for r in rows] == want), sql
    finally:
        with con.cursor() as cur:
            for t in names.values():
                cur.execute(f"DROP TABLE IF EXISTS `{t}`")
        con.close()
