"""The forms that read a key a few times (issue 26 H6) and the cheaper enumTags forms (issue 27), on every
engine, against the in-memory engine, on the values that tell them apart:

- enumTags ``has-any``/``has-all``/``has-exactly`` as one pass over the array (a count of distinct
  matching strings; PostgreSQL ``?|``/``?&`` and ``-``): wrong types (a string, an object whose keys are
  the tags, a number), non-string elements (numbers, null, a nested array holding the tag), duplicates,
  strings that only differ by case, trailing spaces or escapes (``\\u00e9`` as MariaDB stores it);
- sorts written as one ``CASE`` on the value's type per ORDER BY item: every kind in one field, empty
  strings and arrays, booleans, days and texts that are not days, money;
- ``is-empty`` / ``is-set`` as one ``CASE`` on the type;
- PostgreSQL: the advised GIN index on the value serves ``?|`` and ``?&`` (a plan without a full scan).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
from sql_engines import require

from filterdsl.ast import (
    TRUE,
    Compare,
    Field,
    FieldState,
    FieldType,
    Money,
    Op,
    Query,
    SortKey,
    State,
)
from filterdsl.backends.memory import run as memory_run
from filterdsl.backends.sql import JsonLayout, to_sql
from filterdsl.backends.sql.indexes import advise
from filterdsl.backends.sql.runners import run_ids

T = FieldType
ENGINES = [
    "sqlite",
    "duckdb",
    "postgres",
    "mysql",
    "clickhouse",
    pytest.param("spark", marks=pytest.mark.slow),
]

VALUES: list[Any] = [
    ["gold", "silver"],
    ["gold"],
    ["gold", "gold"],
    ["silver", "gold", "bronze"],
    ["Gold", "silver"],
    ["gold ", "silver"],
    ["é", "silver"],
    ["e\u0301"],
    [1, "gold", None],
    [["gold"], "silver"],
    [{"gold": 1}],
    "gold",
    {"gold": 1, "silver": 2},
    3,
    True,
    None,
    [],
    "",
    ["", "gold"],
    ["silver"],
    ["50%", "a_b", "back\\slash"],
    ["50x", "aXb", "back_slash"],
]
MIXED: list[Any] = [
    "b",
    "a",
    "",
    " ",
    "2020-02-29",
    "2021-02-29",
    "2020-02-29T10:00",
    "0000-01-01",
    3,
    -0.5,
    2.5,
    0,
    True,
    False,
    [],
    [1],
    ["a"],
    {},
    {"val": 2, "currency": "USD"},
    {"val": "x"},
    {"val": 1.5},
    None,
    "é",
    "Z",
]


def _docs(values: list[Any]) -> list[dict[str, Any]]:
    docs = []
    for i, v in enumerate(values + ["missing"]):
        data = {} if v == "missing" and i == len(values) else {"t": v}
        docs.append(
            {
                "id": f"r{i:03d}",
                "created_at": f"2021-01-{1 + i % 3:02d}T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": data,
            }
        )
    return docs


def _ids(q: Query, docs: list[dict[str, Any]], engine: str) -> list[str]:
    url = require(engine) if engine in ("postgres", "mysql") else None
    if engine == "duckdb":
        require(engine)
    if engine == "clickhouse":
        pytest.importorskip("chdb")
    if engine == "spark":
        pytest.importorskip("pyspark")
    return run_ids(q, {None: docs}, engine, url=url)


def _want(q: Query, docs: list[dict[str, Any]]) -> list[str]:
    return [d["id"] for d in memory_run(q, {None: docs})]


TAG_SETS = [
    ("gold",),
    ("gold", "silver"),
    ("silver", "gold", "bronze"),
    ("é",),
    ("gold", "gold"),
    ("Gold",),
    ("50%", "a_b"),  # LIKE's wildcards and escape (MariaDB's JSON_SEARCH prefilter loosens them)
    ("back\\slash", "50%", "a_b"),
    ("a_b", "50x"),
]


@pytest.mark.parametrize("engine", ENGINES)
def test_tags_on_every_engine(engine: str) -> None:
    docs = _docs(VALUES)
    for op in (Op.HAS_ANY, Op.HAS_ALL, Op.HAS_EXACTLY):
        for tags in TAG_SETS:
            q = Query(Compare(Field("t", T.ENUM_TAGS), op, tags))
            assert _ids(q, docs, engine) == _want(q, docs), (engine, op, tags)


@pytest.mark.parametrize("engine", ENGINES)
def test_sorts_and_states_on_every_engine(engine: str) -> None:
    docs = _docs(MIXED)
    for t in (T.STRING, T.NUMBER, T.DATE, T.CURRENCY, T.BOOLEAN, T.JSON):
        for desc in (False, True):
            q = Query(TRUE, sort=(SortKey(Field("t", t), desc),))
            assert _ids(q, docs, engine) == _want(q, docs), (engine, t, desc)
    for st in State:
        q = Query(FieldState(Field("t", T.STRING), st))
        assert _ids(q, docs, engine) == _want(q, docs), (engine, st)
    q = Query(Compare(Field("t", T.STRING), Op.ENDS_WITH, "A"))
    assert _ids(q, docs, engine) == _want(q, docs), engine
    q = Query(Compare(Field("t", T.CURRENCY), Op.GT, Money(1)))
    assert _ids(q, docs, engine) == _want(q, docs), engine


# ---------------------------------------------------------------- PostgreSQL: the GIN index serves them
N = 20000


def _gin_docs() -> list[dict[str, Any]]:
    docs = []
    for i in range(N):
        tags: Any = ["std", f"t{i % 50}"]
        if i % 500 == 7:
            tags = ["gold", "std"]
        if i % 1000 == 9:
            tags = ["gold", "silver"]
        if i % 997 == 5:
            tags = "gold"  # a string is not a list of tags
        docs.append(
            {
                "id": f"o{i:05d}",
                "created_at": f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": {"tags": tags, "n": i},
            }
        )
    return docs


@pytest.fixture(scope="module")
def pg_table() -> Iterator[tuple[Any, str, list[dict[str, Any]]]]:
    url = require("postgres")
    import psycopg

    con = psycopg.connect(url, autocommit=True)
    name = f"fx_tags_{secrets.token_hex(4)}"
    docs = _gin_docs()
    con.execute(
        f'CREATE TABLE "{name}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, '
        "updated_at TEXT, removed_at TEXT, data JSONB NOT NULL)"
    )
    with con.cursor() as cur:
        cur.executemany(
            f'INSERT INTO "{name}" VALUES (%s, %s, NULL, NULL, %s::jsonb)',
            [(d["id"], d["created_at"], json.dumps(d["data"])) for d in docs],
        )
    try:
        yield con, name, docs
    finally:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
        con.close()


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for p in plan.get("Plans", ()):
        yield from _nodes(p)


def test_postgres_tags_walk_the_advised_gin_index(pg_table: Any) -> None:
    con, name, docs = pg_table
    lay = JsonLayout(tables={None: name})
    tags = Field("tags", T.ENUM_TAGS)
    queries = [
        Query(Compare(tags, op, vals), limit=100)
        for op, vals in (
            (Op.HAS_ANY, ("silver", "none")),
            (Op.HAS_ALL, ("gold", "silver")),
            (Op.HAS_EXACTLY, ("gold", "std")),
        )
    ]
    advice = advise(queries, "postgres", lay)
    gin = [s for s in advice.statements if "USING gin" in s]
    assert gin and all("jsonb_path_ops" not in s for s in gin), advice.statements
    for stmt in advice.statements:
        con.execute(stmt)
    con.execute(f'ANALYZE "{name}"')
    for q in queries:
        sql, params = to_sql(q, "postgres", lay)
        assert "jsonb_build" not in sql, sql  # nothing rebuilt per row
        plan = con.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0][0]["Plan"]
        nodes = list(_nodes(plan))
        assert not [n for n in nodes if n["Node Type"] == "Seq Scan"], (q, [n["Node Type"] for n in nodes])
        assert any(n.get("Index Name", "").find("tags_gin") >= 0 for n in nodes), nodes
        rows = [r[0] for r in con.execute(sql, params).fetchall()]
        assert rows == _want(q, docs), q


# ---------------------------------------------------------------- PostgreSQL: statistics for jsonb_typeof
def _or_docs() -> list[dict[str, Any]]:
    docs = []
    for i in range(N):
        amount: Any = (i * 7919) % N
        if i % 400 == 11:
            amount = "n/a"  # wrong-typed: below every number in jsonb's order, kept out by the kind test
        docs.append(
            {
                "id": f"o{i:05d}",
                "created_at": f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": {"amount": amount, "code": "rare" if i % 1000 == 3 else f"c{i % 97}"},
            }
        )
    return docs


def test_postgres_typeof_statistics_steady_or_plans() -> None:
    """An OR of an upper number bound (``jsonb_typeof(...) = 'number'``) and an equality: with the
    advised expression statistics the planner estimates the kind test from data, so the plan is the
    same after every ANALYZE (sampled: statistics target 10) and its row estimates are close."""
    url = require("postgres")
    import psycopg

    con = psycopg.connect(url, autocommit=True)
    name = f"fx_or_{secrets.token_hex(4)}"
    docs = _or_docs()
    amount, code = Field("amount", T.NUMBER), Field("code", T.STRING)
    from filterdsl.ast import Or

    q = Query(Or((Compare(amount, Op.LT, 300), Compare(code, Op.EQ, "rare"))), limit=100)
    lay = JsonLayout(tables={None: name})
    try:
        con.execute(
            f'CREATE TABLE "{name}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, '
            "updated_at TEXT, removed_at TEXT, data JSONB NOT NULL)"
        )
        with con.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "{name}" VALUES (%s, %s, NULL, NULL, %s::jsonb)',
                [(d["id"], d["created_at"], json.dumps(d["data"])) for d in docs],
            )
        advice = advise([q], "postgres", lay)
        assert any(s.startswith("CREATE STATISTICS") and "JSONB_TYPEOF" in s for s in advice.statements)
        for stmt in advice.statements:
            con.execute(stmt)
        con.execute(f'ANALYZE "{name}"')
        # the statistics give the kind test its real selectivity (without them PostgreSQL guesses 0.5%)
        kind = f"""SELECT 1 FROM "{name}" WHERE jsonb_typeof(data -> 'amount') = 'number'"""
        est = con.execute("EXPLAIN (FORMAT JSON) " + kind).fetchone()[0][0]["Plan"]["Plan Rows"]
        numbers = sum(1 for d in docs if type(d["data"]["amount"]) is int)
        assert abs(est - numbers) <= numbers // 10, (est, numbers)
        con.execute("SET default_statistics_target = 10")
        sql, params = to_sql(q, "postgres", lay)
        shapes = set()
        for _ in range(5):
            con.execute(f'ANALYZE "{name}"')
            plan = con.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0][0]["Plan"]
            shapes.add(tuple((n["Node Type"], n.get("Index Name", "")) for n in _nodes(plan)))
        assert len(shapes) == 1, shapes
        assert not any(t == "Seq Scan" for t, _ in next(iter(shapes))), shapes
        plan = con.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params).fetchone()[0][0]["Plan"]
        for n in _nodes(plan):  # the scan of the number range: estimated within 3x of what it found
            if n["Node Type"] == "Bitmap Index Scan" and "amount" in n.get("Index Name", ""):
                est, got = n["Plan Rows"], n["Actual Rows"]
                assert got / 3 <= est <= got * 3, (est, got)
        rows = [r[0] for r in con.execute(sql, params).fetchall()]
        assert rows == _want(q, docs)
    finally:
        con.execute(f'DROP TABLE IF EXISTS "{name}"')
        con.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_keyset_pages_over_every_kind(engine: str) -> None:
    """Keyset pages (``after``) compare the same ORDER BY items: walking 3 rows at a time over a field
    holding every kind gives the unpaged order, on every engine (ClickHouse and Spark included)."""
    from keyset_support import walk

    docs = _docs(MIXED)
    by_id = {d["id"]: d for d in docs}
    size = 5 if engine == "spark" else 3  # Spark plans each page in ~0.4 s: fewer pages, same checks
    for t in (T.STRING, T.NUMBER, T.DATE, T.CURRENCY, T.BOOLEAN, T.JSON):
        for desc in (False, True):
            q = Query(TRUE, sort=(SortKey(Field("t", t), desc),))
            got = walk(lambda p: _ids(p, docs, engine), q, size, by_id)
            assert got == _want(q, docs), (engine, t, desc)
