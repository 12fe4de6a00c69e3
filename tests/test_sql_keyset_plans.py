"""Keyset pages are index-served from the cursor on: a page after the row in the middle of the table
(Query.after) walks the advised order index from the cursor's place, so it costs what page 1 costs.
PostgreSQL (JSON and columns layouts, EXPLAIN ANALYZE: no full scan, no sort of more than a page, and
at most a page's worth of rows read and dropped before the page) and MariaDB columns (EXPLAIN: a range
on the order index, no filesort of more than a page). The pages equal the in-memory engine's.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from typing import Any

import pytest
import test_sql_order_indexes as order
from sql_engines import require
from test_sql_order_indexes import (
    COLUMNS,
    DB,
    DOCS,
    NAME,
    QUERIES,
    SORTS,
    _expected,
    _label,
    _pg_layout,
    _pg_nodes,
    _rows,
)

from filterdsl.ast import TRUE, Query
from filterdsl.backends.sql import ColumnsLayout, to_sql
from filterdsl.backends.sql.indexes import advise
from filterdsl.semantics.cursor import cursor_of

pytestmark = pytest.mark.slow
pg_tables = order.pg  # the PostgreSQL tables fixture of test_sql_order_indexes (same rows)

BY_ID = {d["id"]: d for d in DOCS}
DEPTH = len(DOCS) // 2  # the cursor: the row half-way down each order


def _keyset(sort: tuple[Any, ...]) -> Query:
    base = Query(TRUE, sort=sort, limit=100, database=DB)
    mid = _expected(replace(base, limit=None))[DEPTH]
    return replace(base, after=cursor_of(base, BY_ID[mid]))


KEYSET = [_keyset(s) for s in SORTS]


def _nullable_desc_column(layout: str, q: Query) -> bool:
    """Columns layout, PostgreSQL, a descending sort on a column that holds NULLs: the page
    after a non-NULL cursor includes the NULL rows at the end (``OR amount IS NULL``), which no single
    index range says; the walk then starts at the index's head (docs/sql.md, ColumnSpec.not_null)."""
    return layout == "columns" and bool(q.sort) and q.sort[0].descending  # every sorted column holds NULLs


@pytest.mark.parametrize("layout", ["json", "columns"])
def test_postgres_keyset_pages_start_at_the_cursor(pg_tables: Any, layout: str) -> None:
    con, tables = pg_tables
    table = tables[layout]
    lay = _pg_layout(layout, table)
    for stmt in advise(QUERIES, "postgres", lay).statements:
        con.execute(stmt)
    con.execute(f'ANALYZE "{table}"')
    for q in KEYSET:
        sql, params = to_sql(q, "postgres", lay)
        plan = con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()[0][0]["Plan"]
        nodes = list(_pg_nodes(plan))
        kinds = [n["Node Type"] for n in nodes]
        assert not any(n["Node Type"] == "Seq Scan" and n.get("Relation Name") == table for n in nodes), (
            _label(q),
            kinds,
        )
        big = [n for n in nodes if "Sort" in n["Node Type"] and n["Plan Rows"] > (q.limit or 0)]
        assert not big, (_label(q), kinds, sql)
        dropped = sum(n.get("Rows Removed by Filter", 0) for n in nodes)
        if _nullable_desc_column(layout, q):
            assert dropped >= DEPTH // 2, (_label(q), dropped)  # pinned: see the docstring above
        else:
            assert dropped <= 2 * (q.limit or 0), (_label(q), dropped, sql)
        ids = [r[0] for r in con.execute(sql, params).fetchall()]
        assert ids == _expected(q), _label(q)
    # declared NOT NULL (ColumnSpec.not_null), the descending column's page starts at the cursor too
    if layout == "columns":
        q = next(k for k in KEYSET if _nullable_desc_column(layout, k) and k.sort[0].key.key == "amount")  # type: ignore[union-attr]
        sure = ColumnsLayout(
            tables={DB: table}, columns={DB: {**COLUMNS, "amount": {"column": "amount", "not_null": True}}}
        )
        sql, params = to_sql(q, "postgres", sure)
        assert "IS NULL" not in sql
        plan = con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()[0][0]["Plan"]
        assert sum(n.get("Rows Removed by Filter", 0) for n in _pg_nodes(plan)) <= 2 * (q.limit or 0)


def test_mariadb_keyset_pages_range_from_the_cursor() -> None:
    url = require("mysql")
    import pymysql

    from filterdsl.backends.sql.runners import _mysql_args

    con = pymysql.connect(**_mysql_args(url), autocommit=True)
    t = f"kx_cols_{secrets.token_hex(4)}"
    lay = ColumnsLayout(tables={DB: t}, columns={DB: COLUMNS}, binary_id=True)
    keyset = [q for q in KEYSET if not any(k.key == NAME for k in q.sort)]  # no expression indexes
    try:
        with con.cursor() as cur:
            cur.execute(
                f"CREATE TABLE `{t}` (id VARCHAR(64) COLLATE utf8mb4_nopad_bin PRIMARY KEY, "
                "created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40), removed_at VARCHAR(40), "
                "status VARCHAR(64), amount DOUBLE, name VARCHAR(64), day DATE, paid BOOLEAN, "
                "note VARCHAR(200) DEFAULT (REPEAT('x', 150))) "
                "DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_general_ci"
            )
            cur.executemany(
                f"INSERT INTO `{t}` (id, created_at, status, amount, name, day, paid) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                _rows(),
            )
            for stmt in advise(QUERIES, "mysql", lay).statements:
                cur.execute(stmt)
            cur.execute(f"ANALYZE TABLE `{t}`")
            cur.fetchall()
            for q in keyset:
                sql, params = to_sql(q, "mysql", lay)
                cur.execute("EXPLAIN " + sql, params)
                cols = [c[0] for c in cur.description]
                plan = [dict(zip(cols, r)) for r in cur.fetchall()]
                assert plan[0]["type"] == "range", (_label(q), plan, sql)
                assert "filesort" not in (plan[0]["Extra"] or ""), (_label(q), plan)
                cur.execute(sql, params)
                assert [r[0] for r in cur.fetchall()] == _expected(q), _label(q)
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS `{t}`")
        con.close()
