"""Two SQL findings of the outside differential run, pinned on every executed engine:

- letters above U+FFFF fold like Python's ``str.lower`` (MariaDB's default collation left ``𐐀`` as it
  was, so ``contains "𐐀DESERET"`` missed ``𐐀Deseret``);
- SPEC 8: wrong-typed arrays tie with arrays and objects with objects in a sort (the default order then
  decides), whatever their content or key order.
"""

from __future__ import annotations

import pytest
from sql_engines import ENGINES, require

from filterdsl.ast import Compare, Const, Field, FieldType, Op, Or, Query, SortKey
from filterdsl.backends.memory import run
from filterdsl.backends.sql.runners import run_ids

T = FieldType
DB = "db"


def doc(i: str, created: str, **data: object) -> dict[str, object]:
    return {"id": i, "created_at": created, "updated_at": None, "removed_at": None, "data": data}


ASTRAL = [
    doc("a1", "2021-01-01T00:00:00.000000Z", name="𐐀Deseret"),
    doc("a2", "2021-01-02T00:00:00.000000Z", name="𐐨deseret"),
    doc("a3", "2021-01-03T00:00:00.000000Z", name="𝔘nicode 😀"),
    doc("a4", "2021-01-04T00:00:00.000000Z", name="plain"),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("op", "needle"),
    [
        (Op.CONTAINS, "𐐀DESERET"),
        (Op.CONTAINS, "𐐨"),
        (Op.STARTS_WITH, "𐐀d"),
        (Op.ENDS_WITH, "ODE 😀"),
        (Op.CONTAINS, "𝔘"),
    ],
)
def test_astral_letters_fold_like_python(engine: str, op: Op, needle: str) -> None:
    url = require(engine)
    q = Query(Compare(Field("name", T.STRING), op, needle), database=DB)
    want = [d["id"] for d in run(q, {DB: ASTRAL})]
    assert want, "the case must select something"
    assert run_ids(q, {DB: ASTRAL}, engine, url) == want


# created_at descending is the tie-breaker: t1 newest
TIES = [
    doc("t1", "2021-01-09T00:00:00.000000Z", v=[3, 2]),
    doc("t2", "2021-01-08T00:00:00.000000Z", v={"b": 1, "a": 2}),
    doc("t3", "2021-01-07T00:00:00.000000Z", v=[1]),
    doc("t4", "2021-01-06T00:00:00.000000Z", v={"a": 0}),
    doc("t5", "2021-01-05T00:00:00.000000Z", v=["z", {"k": 1}]),
    doc("t6", "2021-01-04T00:00:00.000000Z", v={}),
    doc("t7", "2021-01-03T00:00:00.000000Z", v=5),
    doc("t8", "2021-01-02T00:00:00.000000Z", v="x"),
    doc("t9", "2021-01-01T00:00:00.000000Z", v=True),
    doc("t0", "2021-01-10T00:00:00.000000Z"),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("ftype", [T.NUMBER, T.STRING, T.JSON])
@pytest.mark.parametrize("descending", [False, True])
def test_arrays_and_objects_tie_in_sorts(engine: str, ftype: FieldType, descending: bool) -> None:
    url = require(engine)
    q = Query(Const(True), database=DB, sort=(SortKey(Field("v", ftype), descending),))
    want = [d["id"] for d in run(q, {DB: TIES})]
    # independent of the engines: arrays in default order (t1, t3, t5), then objects (t2, t4, t6)
    arrays, objects = ["t1", "t3", "t5"], ["t2", "t4", "t6"]
    block = arrays + objects if not descending else objects + arrays
    assert "".join(want).find("".join(block)) >= 0, want
    assert run_ids(q, {DB: TIES}, engine, url) == want


def test_postgres_json_column_with_cast_jsonb() -> None:
    """A ``json`` (not ``jsonb``) data column: ``JsonLayout(cast_jsonb=True)`` reads it through a cast,
    and the advised index names the same cast expression (so the planner can match it)."""
    import secrets

    from filterdsl.backends.sql import JsonLayout, to_sql
    from filterdsl.backends.sql.indexes import advise

    url = require("postgres")
    import psycopg

    t = f"cj_{secrets.token_hex(4)}"
    lay = JsonLayout(tables={DB: t}, cast_jsonb=True)
    q = Query(Compare(Field("name", T.STRING), Op.EQ, "plain"), database=DB)
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(
            f'CREATE TEMP TABLE "{t}" (id TEXT, created_at TEXT, updated_at TEXT, removed_at TEXT, data JSON)'
        )
        with con.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "{t}" VALUES (%s, %s, NULL, NULL, %s)',
                [(d["id"], d["created_at"], __import__("json").dumps(d["data"])) for d in ASTRAL],
            )
        for stmt in advise([q], "postgres", lay).statements:
            con.execute(stmt)
        sql, params = to_sql(q, "postgres", lay)
        assert [r[0] for r in con.execute(sql, params).fetchall()] == ["a4"]
        con.execute("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in con.execute("EXPLAIN " + sql, params).fetchall())
        assert "Index" in plan, plan
        # without the cast a json column cannot be compared as jsonb: a loud error, never a wrong answer
        sql, params = to_sql(q, "postgres", JsonLayout(tables={DB: t}))
        with pytest.raises(psycopg.errors.UndefinedFunction):
            con.execute(sql, params)


@pytest.mark.parametrize("engine", ENGINES)
def test_thousands_of_conditions_run(engine: str) -> None:
    """3,000 OR-ed conditions: the chain is written as balanced parenthesised halves, so no engine's
    parser nests 3,000 levels (SQLite stops at 1,000: "Expression tree is too large")."""
    url = require(engine)
    docs = [doc(f"n{i:02d}", "2021-01-01T00:00:00.000000Z", k=i) for i in range(40)]
    q = Query(Or(tuple(Compare(Field("k", T.NUMBER), Op.EQ, 2 * i) for i in range(3000))), database=DB)
    want = [d["id"] for d in run(q, {DB: docs})]
    assert len(want) == 20
    assert run_ids(q, {DB: docs}, engine, url) == want


@pytest.mark.parametrize("engine", ["sqlite", "duckdb", "mysql", "postgres"])
def test_keys_holding_nul(engine: str) -> None:
    """A JSON key holding NUL is refused on every engine before any SQL runs (``bad-value`` at the key
    in the AST JSON form): keys are SQL literals, and no SQL text holds a NUL (issue 26 H2; SQLite
    used to return nothing, silently, and PostgreSQL to fail in the driver)."""
    from filterdsl.errors import FilterError

    url = require(engine)
    docs = [
        doc("z1", "2021-01-01T00:00:00.000000Z", **{"a\x00b": "v", "-\x00": {"k\x00": "w"}}),
        doc("z2", "2021-01-02T00:00:00.000000Z", **{"a": "v"}),
    ]
    for q, pointer in (
        (Query(Compare(Field("a\x00b", T.JSON), Op.EQ, "v"), database=DB), "/predicate/field/key"),
        (Query(Compare(Field("-\x00", T.JSON, ("k\x00",)), Op.EQ, "w"), database=DB), "/predicate/field/key"),
        (Query(Compare(Field("-", T.JSON, ("k\x00",)), Op.EQ, "w"), database=DB), "/predicate/field/path/0"),
    ):
        with pytest.raises(FilterError) as e:
            run_ids(q, {DB: [docs[1]]}, engine, url)
        assert e.value.diagnostics[0].code == "bad-value"
        assert e.value.diagnostics[0].location.pointer == pointer
