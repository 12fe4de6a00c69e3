"""A text column declared to order by code point (``ColumnSpec.binary``, issue 27): sorts and ranges are
the plain column, which a plain index serves; undeclared, MariaDB writes ``CAST(c AS BINARY)`` (a scan
and a sort) and the advice says how to fix it. The answers stay the in-memory engine's (code point
order, including non-ASCII text and NULL placement), asserted with the plans on MariaDB (EXPLAIN on an
ANALYZEd table, no planner switches).
"""

from __future__ import annotations

import random
import secrets
from typing import Any

from sql_engines import require

from filterdsl.ast import TRUE, Compare, Field, FieldType, Op, Query, SortKey
from filterdsl.backends.memory import run as apply_query
from filterdsl.backends.sql import ColumnsLayout, to_sql
from filterdsl.backends.sql.indexes import advise
from filterdsl.backends.sql.layout import ColumnSpec

T = FieldType
NAME, STATUS = Field("name", T.STRING), Field("status", T.ENUM)
N = 20000
DB = "db"


def _docs() -> list[dict[str, Any]]:
    rnd = random.Random(26)
    pieces = ["a", "B", "é", "Z", "ß", "ａ", "𐐀", " ", "-", "0"]
    out = []
    for i in range(N):
        name = "".join(rnd.choice(pieces) for _ in range(1 + i % 4)) + f"{rnd.randrange(10**5):05d}"
        data: dict[str, Any] = {"name": name, "status": ["new", "paid"][i % 2]}
        if i % 101 == 7:
            del data["name"]
        out.append(
            {
                "id": f"r{i:06d}",
                "created_at": f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": data,
            }
        )
    return out


DOCS = _docs()


def test_declared_binary_column_is_written_plain() -> None:
    q = Query(Compare(NAME, Op.GT, "m"), sort=(SortKey(NAME),), limit=100)
    plain = ColumnsLayout("t", {"name": ColumnSpec("name", binary=True)}, binary_id=True)
    cast = ColumnsLayout("t", {"name": "name"}, binary_id=True)
    sql, _ = to_sql(q, "mysql", plain)
    assert "CAST" not in sql and "ORDER BY `name`, `created_at` DESC, `id`" in sql, sql
    assert "CAST(`name` AS BINARY)" in to_sql(q, "mysql", cast)[0]
    pg, _ = to_sql(q, "postgres", plain)
    assert "COLLATE" not in pg, pg
    # the mapping-file form
    assert ColumnsLayout.from_mapping({"columns": {"": {"name": {"column": "name", "binary": True}}}}).column(
        None, "name"
    ) == ColumnSpec("name", binary=True)
    notes = advise([q], "mysql", cast).notes
    assert any("binary=True" in n for n in notes), notes


def test_mariadb_binary_text_sorts_and_ranges_walk_the_index() -> None:
    url = require("mysql")
    import pymysql

    from filterdsl.backends.sql.runners import _mysql_args

    con = pymysql.connect(**_mysql_args(url), autocommit=True)
    t = f"bx_{secrets.token_hex(4)}"
    lay = ColumnsLayout(
        tables={DB: t},
        columns={DB: {"name": ColumnSpec("name", binary=True), "status": "status"}},
        binary_id=True,
    )
    queries = [Query(TRUE, sort=(SortKey(NAME, desc),), limit=100, database=DB) for desc in (False, True)] + [
        Query(Compare(STATUS, Op.EQ, "paid"), sort=(SortKey(NAME),), limit=100, database=DB),
        Query(Compare(NAME, Op.GTE, "é"), sort=(SortKey(NAME),), limit=100, database=DB),
        Query(Compare(NAME, Op.LT, "B"), limit=100, database=DB),
    ]
    try:
        with con.cursor() as cur:
            cur.execute(
                f"CREATE TABLE `{t}` (id VARCHAR(64) COLLATE utf8mb4_nopad_bin PRIMARY KEY, "
                "created_at VARCHAR(40) NOT NULL, updated_at VARCHAR(40), removed_at VARCHAR(40), "
                "name VARCHAR(64) COLLATE utf8mb4_nopad_bin, status VARCHAR(64), "
                "note VARCHAR(200) DEFAULT (REPEAT('x', 150))) "
                "DEFAULT CHARSET=utf8mb4 COLLATE utf8mb4_general_ci"
            )
            cur.executemany(
                f"INSERT INTO `{t}` (id, created_at, name, status) VALUES (%s, %s, %s, %s)",
                [(d["id"], d["created_at"], d["data"].get("name"), d["data"]["status"]) for d in DOCS],
            )
            advice = advise(queries, "mysql", lay)
            assert not any("binary" in n.lower() for n in advice.notes), advice.notes
            for stmt in advice.statements:
                cur.execute(stmt)
            cur.execute(f"ANALYZE TABLE `{t}`")
            cur.fetchall()
            for q in queries:
                sql, params = to_sql(q, "mysql", lay)
                assert "CAST(`name`" not in sql, sql
                cur.execute("EXPLAIN " + sql, params)
                cols = [c[0] for c in cur.description]
                plan = [dict(zip(cols, r)) for r in cur.fetchall()]
                assert plan[0]["type"] != "ALL", (q, plan, sql)
                if "filesort" in (plan[0]["Extra"] or ""):  # only of a page's worth of rows
                    assert int(plan[0]["rows"]) <= (q.limit or 0), (q, plan)
                cur.execute(sql, params)
                ids = [r[0] for r in cur.fetchall()]
                assert ids == [d["id"] for d in apply_query(q, {DB: DOCS})], q
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS `{t}`")
        con.close()
