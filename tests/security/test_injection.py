"""Injection corpus: hostile values and keys never change a query's shape, on every backend.

Each payload is used as a filter value (and as a field key where keys reach a JSON path), compiled
for every backend and executed where an engine is available; the ids must equal the in-memory
engine's, and the payload text never appears in the SQL (it travels as a bound parameter).
"""

from __future__ import annotations

import pytest

from filterdsl.ast import (
    And,
    Compare,
    Field,
    FieldState,
    FieldType,
    IdIn,
    InTrash,
    Node,
    Not,
    Op,
    Or,
    Query,
    Search,
    State,
)
from filterdsl.backends.memory import run

from conftest import mysql_available, need, postgres_available

T = FieldType
VALUES = [
    "x' OR '1'='1",
    "x'; DROP TABLE records; --",
    'x"; DROP TABLE records; --',
    "/* c */ x",
    "x -- c",
    "x\\' OR 1=1 #",
    "\\",
    "\\\\'",
    "O’Brien ＇ unicode quotes",
    "％ full-width percent",
    "100%",
    "_",
    "a_c",
    "%_%",
    "[abc]",
    "(a|b)*$",
    "^.*$",
    "(a+)+$",
    "$ne",
    "$where",
    '{"$ne": null}',
    "\x01ctrl",
    "line\nbreak",
    "ß",
    "'",
    "''",
    "`",
    "``; SELECT 1",
    "$$; SELECT 1; $$",
    "E'\\x41'",
    "?",
    "%s",
    ":p0",
    "$1",
    "@p",
]
KEYS = ["plain", "a.b", "$dollar", "a[0]", "a'b", 'a"b', "a\\b", "*", "$", "a b", "a..b", "日本", "%", "_"]


def docs() -> list[dict]:
    out = []
    for i, v in enumerate(VALUES):
        data = {k: v for k in KEYS} | {"n": i, "tags": [v, "t"]}
        out.append(
            {
                "id": f"r{i:02}",
                "created_at": f"2021-01-{1 + i % 28:02}T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": data,
            }
        )
    out.append(
        {
            "id": "r-empty",
            "created_at": "2020-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {},
        }
    )
    return out


def queries() -> list[tuple[str, Node]]:
    out: list[tuple[str, Node]] = []
    for i, v in enumerate(VALUES):
        key = KEYS[i % len(KEYS)]
        f = Field(key, T.STRING)
        out.append((f"eq-{i}", Compare(f, Op.EQ, v)))
        out.append(
            (
                f"contains-{i}",
                Or((Compare(f, Op.CONTAINS, v), Compare(Field("plain", T.STRING), Op.STARTS_WITH, v))),
            )
        )
        out.append((f"not-ends-{i}", Not(Compare(f, Op.ENDS_WITH, v))))
        out.append((f"search-{i}", Search(((v,), ("t", v)))))
        out.append((f"tags-{i}", Compare(Field("tags", T.ENUM_TAGS), Op.HAS_ANY, (v, "zz"))))
        out.append((f"id-{i}", IdIn((v, "r01"))))
    for key in KEYS:
        out.append(
            (
                f"key-{key}",
                And(
                    (
                        FieldState(Field(key, T.STRING), State.HAS_VALUE),
                        Compare(Field(key, T.STRING), Op.CONTAINS, "'"),
                    )
                ),
            )
        )
        out.append((f"path-{key}", Compare(Field(key, T.JSON, (key, "0")), Op.EQ, "x")))
    return out


DATASET = {None: docs()}
QUERIES = queries()


def memory_ids(node: Node) -> list[str]:
    return [d["id"] for d in run(Query(And((node, Not(InTrash())))), DATASET)]


@pytest.mark.parametrize("engine", ["sqlite", "duckdb", "postgres", "mysql"])
def test_sql_values_and_keys_never_change_the_query(engine: str) -> None:
    if engine == "postgres":
        need(postgres_available(), "PostgreSQL is not reachable")
    if engine == "mysql":
        need(mysql_available(), "MariaDB/MySQL is not reachable")
    from filterdsl.backends.sql import runners as sql_exec
    from filterdsl.backends.sql import to_sql

    dialect = {"sqlite": "sqlite", "duckdb": "duckdb", "postgres": "postgres", "mysql": "mysql"}[engine]
    mismatches = []
    for name, node in QUERIES:
        q = Query(And((node, Not(InTrash()))))
        sql, params = to_sql(q, dialect=dialect)
        for v in VALUES:
            if len(v) > 3 and any(c in v for c in "';\"-"):
                assert v not in sql, (name, v)
        got = [d["id"] for d in sql_exec.run(q, DATASET, engine=engine)]
        if got != memory_ids(node):
            mismatches.append(name)
    assert not mismatches, f"{engine}: results differ from memory for {mismatches}"


def test_sql_inline_literals_are_escaped() -> None:
    """``--inline`` renders values as literals: executing that text gives the same rows."""
    from filterdsl.backends.sql import to_sqlglot
    from filterdsl.backends.sql.runners import sqlite_connect

    con = sqlite_connect()
    con.execute(
        'CREATE TABLE "records" (id TEXT PRIMARY KEY, created_at TEXT, updated_at TEXT, removed_at TEXT, data TEXT)'
    )
    import json

    con.executemany(
        'INSERT INTO "records" VALUES (?, ?, ?, ?, ?)',
        [
            (
                d["id"],
                d["created_at"],
                d["updated_at"],
                d["removed_at"],
                json.dumps(d["data"], ensure_ascii=False),
            )
            for d in docs()
        ],
    )
    for name, node in QUERIES:
        tree = to_sqlglot(Query(And((node, Not(InTrash())))), dialect="sqlite", inline=True)
        sql = tree.sql(dialect="sqlite")
        assert [r[0] for r in con.execute(sql).fetchall()] == memory_ids(node), name
    assert con.execute('SELECT COUNT(*) FROM "records"').fetchone()[0] == len(docs())
