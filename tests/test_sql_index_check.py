"""``filterdsl indexes --check --url URL``: a DBA's habitual indexes are read, each stored filter is
EXPLAINed, and the report says (from the plan) which are served and prints the CREATE INDEX for the
rest; after applying those statements the same check says served."""

from __future__ import annotations

import json
import secrets
from typing import Any

import pytest
from sql_engines import require

from filterdsl.ast import TRUE, Compare, Field, FieldType, Op, Query, SortKey
from filterdsl.ast.json import to_json
from filterdsl.backends.sql import ColumnsLayout, JsonLayout
from filterdsl.backends.sql.index_check import check
from filterdsl.cli import main

pytestmark = pytest.mark.slow

T = FieldType
STATUS, AMOUNT = Field("status", T.ENUM), Field("amount", T.NUMBER)
N = 20000  # MariaDB scans a few thousand rows rather than walk an index for a page
QUERIES = [
    ("status", Query(Compare(STATUS, Op.EQ, "rare"), limit=100, database="db")),
    ("by-amount", Query(TRUE, sort=(SortKey(AMOUNT, True),), limit=100, database="db")),
]


def _rows() -> list[tuple[Any, ...]]:
    return [
        (f"r{i:05d}", f"2021-01-{1 + i % 28:02d}T00:00:00Z", "rare" if i % 500 == 3 else "common", i)
        for i in range(N)
    ]


def test_postgres_check_reports_habitual_indexes_and_what_serves(tmp_path: Any, capsys: Any) -> None:
    url = require("postgres")
    assert url is not None
    import psycopg

    t = f"ck_{secrets.token_hex(4)}"
    con = psycopg.connect(url, autocommit=True)
    lay = JsonLayout(tables={"db": t})
    try:
        con.execute(
            f'CREATE TABLE "{t}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, '
            "updated_at TEXT, removed_at TEXT, data JSONB NOT NULL)"
        )
        with con.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "{t}" (id, created_at, data) VALUES (%s, %s, %s::jsonb)',
                [(i, c, json.dumps({"status": s, "amount": a})) for i, c, s, a in _rows()],
            )
        # what a DBA habitually writes: the text value, which serves none of filterdsl's jsonb forms
        con.execute(f'CREATE INDEX "{t}_habit" ON "{t}" ((data ->> \'status\'))')
        con.execute(f'ANALYZE "{t}"')
        report = check(QUERIES, url, lay)
        assert any(name == f"{t}_habit" for _, name, _ in report.existing), report.existing
        assert [c.served for c in report.checks] == [False, False], report.text()
        assert "Seq Scan" in report.checks[0].detail and report.checks[0].statements
        for c in report.checks:
            for stmt in c.statements:
                con.execute(stmt)
        con.execute(f'ANALYZE "{t}"')
        again = check(QUERIES, url, lay)
        assert [c.served for c in again.checks] == [True, True], again.text()
        # the command line: filter files, --check --url
        files = []
        for label, q in QUERIES:
            p = tmp_path / f"{label}.ast"
            p.write_text(json.dumps(to_json(q)))
            files.append(str(p))
        mapping = tmp_path / "tables.json"
        mapping.write_text(json.dumps({"tables": {"db": t}}))
        with pytest.raises(SystemExit) as ex:
            main(["indexes", "--check", "--url", url, "--mapping", str(mapping), *files])
        out = capsys.readouterr().out
        assert ex.value.code == 0 and out.count(": served (") == 2, out
    finally:
        con.execute(f'DROP TABLE IF EXISTS "{t}"')
        con.close()


def test_mariadb_check_reads_information_schema(tmp_path: Any) -> None:
    url = require("mysql")
    assert url is not None
    import pymysql

    from filterdsl.backends.sql.runners import _mysql_args

    t = f"ck_{secrets.token_hex(4)}"
    con = pymysql.connect(**_mysql_args(url), autocommit=True)
    lay = ColumnsLayout(
        tables={"db": t}, columns={"db": {"status": "status", "amount": "amount"}}, binary_id=True
    )
    try:
        with con.cursor() as cur:
            cur.execute(
                f"CREATE TABLE `{t}` (id VARCHAR(32) COLLATE utf8mb4_nopad_bin PRIMARY KEY, created_at "
                "VARCHAR(40) NOT NULL, updated_at VARCHAR(40), removed_at VARCHAR(40), status VARCHAR(32), "
                "amount DOUBLE, pad VARCHAR(200) DEFAULT (REPEAT('x', 150))) DEFAULT CHARSET=utf8mb4"
            )
            cur.executemany(
                f"INSERT INTO `{t}` (id, created_at, status, amount) VALUES (%s, %s, %s, %s)", _rows()
            )
            cur.execute(f"CREATE INDEX `{t}_amount` ON `{t}` (amount)")  # ascending: no DESC page from it
            cur.execute(f"ANALYZE TABLE `{t}`")
            cur.fetchall()
            report = check(QUERIES, url, lay)
            assert (t, f"{t}_amount", "(amount)") in report.existing, report.existing
            assert report.checks[0].served is False and report.checks[0].statements, report.text()
            for stmt in dict.fromkeys(s for c in report.checks for s in c.statements):
                cur.execute(stmt)
            cur.execute(f"ANALYZE TABLE `{t}`")
            cur.fetchall()
            again = check(QUERIES, url, lay)
            assert [c.served for c in again.checks] == [True, True], again.text()
    finally:
        with con.cursor() as cur:
            cur.execute(f"DROP TABLE IF EXISTS `{t}`")
        con.close()
