"""``JsonLayout(text_indexes=True)``: a DBA's habitual ``((data ->> 'k'))`` indexes serve string, enum and
boolean equality, ``in`` and day ranges, and the answers stay exactly the in-memory engine's.

The plan tests load N rows, ANALYZE, and read real plans (no planner switches): with only the habitual
indexes present, the option's form is index-served and the default form is a full scan. The differential
tests run the generators' scenarios and the corpus with the option on. Speed is measured in
benchmarks/bench_indexes.py (``habitual``), never here.
"""

from __future__ import annotations

import json
import random
import secrets
import warnings
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sql_engines import require

from filterdsl import load_catalog, parse
from filterdsl.ast import And, Compare, Field, FieldType, Op, Query, SortKey
from filterdsl.backends.memory import run as apply_query
from filterdsl.backends.sql import JsonLayout, SqlLayoutWarning, to_sql
from filterdsl.backends.sql.index_check import check
from filterdsl.backends.sql.indexes import advise
from filterdsl.errors import FilterError

from conftest import CASES, CORPUS
from strategies import Scenario, scenarios

pytestmark = pytest.mark.slow

T = FieldType
N = 20000
DB = "db"
STATUS, DAY, PAID, AMOUNT = (
    Field("status", T.ENUM),
    Field("day", T.DATE),
    Field("paid", T.BOOLEAN),
    Field("amount", T.NUMBER),
)
TEXT = JsonLayout(text_indexes=True)


# ---------------------------------------------------------------- the SQL and the advice (no database)
def test_forms_test_the_text_first_and_leave_out_other_kinds() -> None:
    eq = to_sql(Query(Compare(STATUS, Op.EQ, "x")), "postgres", TEXT)
    kinds = "NOT JSONB_TYPEOF(\"data\" -> 'status') IN ('number', 'boolean', 'array', 'object')"
    assert f"\"data\" ->> 'status' = %s AND {kinds}" in eq[0], eq
    assert eq[1] == ["x"]
    within = to_sql(Query(Compare(STATUS, Op.IN, ("x", "y"))), "postgres", TEXT)[0]
    assert f"\"data\" ->> 'status' IN (%s, %s) AND {kinds}" in within, within
    flag = to_sql(Query(Compare(PAID, Op.EQ, True)), "postgres", TEXT)[0]
    assert "\"data\" ->> 'paid' = 'true' AND NOT JSONB_TYPEOF(\"data\" -> 'paid') IN ('string')" in flag, flag
    day = to_sql(Query(Compare(DAY, Op.GTE, "2024-01-01")), "postgres", TEXT)[0]
    # the default collation (no COLLATE "C"), and the day check with [0-9] (\d is wider under ICU)
    assert "\"data\" ->> 'day' >= %s AND \"data\" ->> 'day' ~ '^(?!0000)([0-9]{4}-" in day, day
    assert 'COLLATE "C" >=' not in day and "\\d" not in day
    # numbers, sorts and text ranges keep their forms: no text index serves them exactly
    for q in (
        Query(Compare(AMOUNT, Op.GT, 5)),
        Query(sort=(SortKey(STATUS),)),
        Query(Compare(Field("name", T.STRING), Op.GT, "m")),
    ):
        assert to_sql(q, "postgres", TEXT) == to_sql(q, "postgres", JsonLayout())


def test_other_dialects_ignore_it_with_a_warning() -> None:
    q = Query(Compare(STATUS, Op.EQ, "x"))
    with pytest.warns(SqlLayoutWarning, match="writes no text_indexes forms"):
        got = to_sql(q, "sqlite", TEXT)
    assert got == to_sql(q, "sqlite", JsonLayout())


def test_advice_prints_the_habitual_index_for_what_it_serves() -> None:
    qs = [
        Query(Compare(STATUS, Op.EQ, "x")),
        Query(Compare(STATUS, Op.IN, ("x", "y"))),
        Query(Compare(DAY, Op.LT, "2024-01-01")),
        Query(Compare(PAID, Op.EQ, False)),
        Query(Compare(AMOUNT, Op.EQ, 5)),
    ]
    got = advise(qs, "postgres", TEXT).statements
    for key in ("status", "day", "paid"):
        assert any(f"((\"data\" ->> '{key}'));" in s for s in got), got
    assert any("((\"data\" -> 'amount'));" in s for s in got), got  # numbers: the jsonb value
    assert not any('COLLATE "C"));' in s for s in got), got
    default = advise(qs, "postgres", JsonLayout()).statements
    assert not any("->>" in s and "COLLATE" not in s for s in default), default


def test_mapping_file_declares_it(tmp_path: Any) -> None:
    from filterdsl.cli.convert import load_layout

    good = tmp_path / "lay.json"
    good.write_text(json.dumps({"tables": {"db": "orders"}, "text_indexes": True}))
    lay = load_layout("json", str(good))
    assert isinstance(lay, JsonLayout) and lay.text_indexes and lay.table_name("db") == "orders"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"text_indexes": "yes"}))
    with pytest.raises(FilterError) as e:
        load_layout("json", str(bad))
    assert e.value.errors[0].code == "bad-mapping"


def test_cli_indexes_prints_the_text_index_with_the_mapping(tmp_path: Any, capsys: Any) -> None:
    from filterdsl.ast.json import to_json
    from filterdsl.cli import main

    f = tmp_path / "rare.ast"
    f.write_text(json.dumps(to_json(Query(Compare(STATUS, Op.EQ, "rare"), database=DB))))
    lay = tmp_path / "lay.json"
    lay.write_text(json.dumps({"tables": {DB: "orders"}, "text_indexes": True}))
    with pytest.raises(SystemExit) as ex:
        main(["indexes", "--mapping", str(lay), str(f)])
    out = capsys.readouterr().out
    assert ex.value.code == 0 and 'ON "orders" (("data" ->> \'status\'));' in out, out


# ---------------------------------------------------------------- plans on PostgreSQL
def _docs() -> list[dict[str, Any]]:
    """Rare values among common ones, and the traps a text index mixes up: the number 5 and the string
    "5", true and "true", days with a time or junk after them, text that is no day."""
    rnd = random.Random(2727)
    out = []
    for i in range(N):
        status: Any = (
            "rare" if i % 500 == 3 else "scarce" if i % 700 == 5 else ["new", "paid", "shipped"][i % 3]
        )
        if i % 401 == 7:
            status = rnd.choice([5, "5", True, "true", None, "", ["rare"], {"a": "rare"}])
        day: Any = f"20{10 + i % 13}-{1 + i % 12:02d}-{1 + i % 28:02d}"
        if i % 17 == 2:
            day += rnd.choice(["T10:00:00.000Z", "x", " ", "-", "\u0301", "١"])
        if i % 211 == 9:
            day = rnd.choice(["2015-02-30", "2015-6-1", "soon", 20150601, True, ""])
        paid: Any = i % 7 == 1 if i % 301 != 4 else rnd.choice(["true", "false", 1, 0])
        data: dict[str, Any] = {"status": status, "day": day, "paid": paid, "amount": i % 1000}
        if i % 97 == 3:
            del data["status"]
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
SERVED = [
    Query(Compare(STATUS, Op.EQ, "rare"), limit=100, database=DB),
    Query(Compare(STATUS, Op.IN, ("rare", "scarce")), limit=100, database=DB),
    Query(Compare(DAY, Op.EQ, "2015-04-04"), limit=100, database=DB),
    Query(Compare(DAY, Op.EQ, "2015-04-04"), database=DB, sort=(SortKey(DAY, True),)),
    Query(
        And((Compare(DAY, Op.GTE, "2015-04-01"), Compare(DAY, Op.LT, "2015-04-03"))), limit=100, database=DB
    ),
    Query(Compare(DAY, Op.GT, "2022-12-27"), limit=100, database=DB),
]
ALSO = [  # the answers, not the plans: trap values, wide ranges, booleans, numbers that look like strings
    Query(Compare(STATUS, Op.EQ, "5"), database=DB),
    Query(Compare(STATUS, Op.EQ, "true"), database=DB),
    Query(Compare(STATUS, Op.IN, ("5", "true", "rare")), database=DB),
    Query(Compare(PAID, Op.EQ, True), database=DB, limit=300),
    Query(Compare(PAID, Op.EQ, False), database=DB, limit=300, sort=(SortKey(PAID),)),
    Query(Compare(DAY, Op.LTE, "2011-01-01"), database=DB),
    Query(Compare(DAY, Op.LT, "2012-06-15"), database=DB, limit=500),
    Query(Compare(DAY, Op.GTE, "2015-06-01"), database=DB, skip=40, limit=100),
]


def _pg_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for p in plan.get("Plans", ()):
        yield from _pg_nodes(p)


@pytest.fixture(scope="module")
def habitual() -> Iterator[tuple[Any, str]]:
    """A table with only a DBA's habitual indexes: the text of status, day and paid."""
    url = require("postgres")
    import psycopg

    con = psycopg.connect(url, autocommit=True)
    t = f"hb_{secrets.token_hex(4)}"
    con.execute(
        f'CREATE TABLE "{t}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, '
        "removed_at TEXT, data JSONB NOT NULL)"
    )
    try:
        with con.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "{t}" VALUES (%s, %s, NULL, NULL, %s::jsonb)',
                [(d["id"], d["created_at"], json.dumps(d["data"])) for d in DOCS],
            )
        for key in ("status", "day", "paid"):
            con.execute(f'CREATE INDEX "{t}_{key}" ON "{t}" ((data ->> \'{key}\'))')
        con.execute(f'ANALYZE "{t}"')
        yield con, t
    finally:
        con.execute(f'DROP TABLE IF EXISTS "{t}"')
        con.close()


def _plan(con: Any, sql: str, params: Any) -> list[dict[str, Any]]:
    return list(_pg_nodes(con.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()[0][0]["Plan"]))


def test_habitual_indexes_serve_the_option_and_not_the_default(habitual: tuple[Any, str]) -> None:
    con, t = habitual
    on, off = JsonLayout(tables={DB: t}, text_indexes=True), JsonLayout(tables={DB: t})
    for q in SERVED:
        sql, params = to_sql(q, "postgres", on)
        nodes = _plan(con, sql, params)
        used = {n.get("Index Name") for n in nodes}
        assert used & {f"{t}_status", f"{t}_day"}, (q, [n["Node Type"] for n in nodes], sql)
        assert not any(n["Node Type"] == "Seq Scan" for n in nodes), (q, sql)
        sql, params = to_sql(q, "postgres", off)
        assert any(
            n["Node Type"] == "Seq Scan" and n["Relation Name"] == t for n in _plan(con, sql, params)
        ), q


def test_the_estimate_is_the_text_index_s_own(habitual: tuple[Any, str]) -> None:
    """The kind test beside the text equality is one the planner counts at nearly every row, so a
    common value is estimated as common (a page then reads the order index rather than sorting a third
    of the table); ``= CAST($1 AS JSONB)`` there was estimated at 0.5% of the text's rows."""
    con, t = habitual
    lay = JsonLayout(tables={DB: t}, text_indexes=True)
    for pred in (
        Compare(STATUS, Op.EQ, "new"),
        Compare(STATUS, Op.IN, ("new", "paid")),
        Compare(PAID, Op.EQ, False),
    ):
        q = Query(pred, database=DB)
        sql, params = to_sql(q, "postgres", lay)
        est = _plan(con, sql, params)[0]["Plan Rows"]
        actual = len(apply_query(q, {DB: DOCS}))
        assert actual / 2 < est < actual * 2, (pred, est, actual)


def test_answers_equal_memory_with_and_without(habitual: tuple[Any, str]) -> None:
    con, t = habitual
    for q in SERVED + ALSO:
        want = [d["id"] for d in apply_query(q, {DB: DOCS})]
        for lay in (JsonLayout(tables={DB: t}, text_indexes=True), JsonLayout(tables={DB: t})):
            sql, params = to_sql(q, "postgres", lay)
            assert [r[0] for r in con.execute(sql, params).fetchall()] == want, (q, lay)


def test_check_reports_habitual_indexes_as_serving_the_option(habitual: tuple[Any, str]) -> None:
    _, t = habitual
    url = require("postgres")
    assert url is not None
    queries = [(f"q{i}", q) for i, q in enumerate(SERVED[:3])]
    on = check(queries, url, JsonLayout(tables={DB: t}, text_indexes=True))
    assert all(c.served for c in on.checks), on.text()
    assert all(t in c.detail for c in on.checks), on.text()  # "uses <the habitual index>"
    off = check(queries, url, JsonLayout(tables={DB: t}))
    assert not any(c.served for c in off.checks), off.text()
    assert on.warnings == [] and "WARNING" not in on.text()  # C.UTF-8 orders day texts as "C" does


def test_check_warns_of_a_collation_that_orders_days_otherwise() -> None:
    """The probe --check runs for text_indexes: a default collation that disagrees with "C" on day texts
    (ICU numeric ordering) is named in the report; here through a session that answers as one would."""
    from filterdsl.backends.sql.index_check import _pg_collation_warnings

    class Numeric:
        def execute(self, sql: str, params: Any) -> Any:
            assert '(t >= d) <> (t COLLATE "C" >= d)' in sql and "2024-01-159" in params
            return self

        def fetchone(self) -> tuple[int]:
            return (1,)

    assert "not exact" in _pg_collation_warnings(Numeric(), TEXT)[0]
    assert _pg_collation_warnings(Numeric(), JsonLayout()) == []


def test_day_ranges_hold_in_collations_that_order_days_as_code_points() -> None:
    """The condition docs/sql.md states for day ranges in the default collation: every text that starts
    with a day compares with a day as under "C" in libc and ICU collations, not under ICU numeric
    ordering (``2024-01-159`` is after ``2024-01-16`` there)."""
    url = require("postgres")
    import psycopg

    rnd = random.Random(5)
    tails = [
        "",
        "T",
        "Z",
        " ",
        "-",
        ".",
        "0",
        "9",
        ":",
        "\u0301",
        "é",
        "١",
        "０",
        "\u200b",
        "\u00ad",
        "😀",
        "a",
        "x",
    ]
    texts = [
        f"2024-01-{d:02d}" + "".join(rnd.choice(tails) for _ in range(rnd.randrange(4)))
        for d in range(8, 14)
        for _ in range(60)
    ]
    days = [f"2024-01-{d:02d}" for d in range(7, 16)]
    with psycopg.connect(url, autocommit=True) as con:
        con.execute(
            "CREATE COLLATION IF NOT EXISTS pg_temp.numeric_icu (provider = icu, locale = 'und-u-kn-true')"
        )
        con.execute("CREATE TEMP TABLE p (t TEXT)")
        with con.cursor() as cur:
            cur.executemany("INSERT INTO p VALUES (%s)", [(x,) for x in texts])

        def disagreements(coll: str) -> int:
            sql = (
                f'SELECT count(*) FROM p, unnest(%s::text[]) d WHERE (t {coll} >= d) <> (t COLLATE "C" >= d) '
                f'OR (t {coll} < d) <> (t COLLATE "C" < d)'
            )
            return int(con.execute(sql, [days]).fetchone()[0])

        for coll in (
            "",
            'COLLATE "C.utf8"',
            'COLLATE "und-x-icu"',
            'COLLATE "en-x-icu"',
            'COLLATE "sv-x-icu"',
        ):
            assert disagreements(coll) == 0, coll
        assert disagreements("COLLATE pg_temp.numeric_icu") > 0


# ---------------------------------------------------------------- differential, with the option on
def _pg_ids(query: Query, dataset: dict[Any, list[dict[str, Any]]], catalog: Any) -> list[str]:
    """As runners.run_ids on PostgreSQL, with ``text_indexes`` on."""
    from filterdsl.backends.sql import runners

    main = runners._resolve(query, dataset)
    runners._refuse_nul(dataset, "postgres")
    tag = secrets.token_hex(5)
    tables = {db: f"fdsl_{tag}_{i}" for i, db in enumerate(dataset)}
    lay = JsonLayout(tables=tables, text_indexes=True)
    sql, params = to_sql(
        Query(query.predicate, query.sort, query.skip, query.limit, None, main), "postgres", lay, catalog
    )
    with runners._postgres(dataset, tables, require("postgres") or "") as con:
        with con.cursor() as cur:
            cur.execute(sql, params)
            return [r[0] for r in cur.fetchall()]


def test_differential_with_text_indexes() -> None:
    require("postgres")

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(scenarios(numbers="small"))
    def prop(sc: Scenario) -> None:
        want = [r["id"] for r in apply_query(sc.query, sc.dataset, sc.catalog)]
        try:
            got = _pg_ids(sc.query, sc.dataset, sc.catalog)
        except FilterError as e:  # a NUL PostgreSQL cannot hold: refused as without the option
            assert {d.code for d in e.errors} <= {"bad-value", "not-expressible"}, e
            return
        assert got == want

    prop()


def test_pixiebrix_differential_with_text_indexes() -> None:
    """PixieBrix equality on schemaless values: the strings "5" and "true" beside 5 and true."""
    pytest.importorskip("filterdsl.frontends.pixiebrix")
    from test_sql_pixiebrix import _case

    require("postgres")

    @settings(max_examples=80, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_case())
    def prop(case: Any) -> None:
        text, dataset = case
        try:
            query = parse(text, "pixiebrix", lookups="extended")
        except FilterError:
            return
        assert _pg_ids(query, dataset, None) == [r["id"] for r in apply_query(query, dataset)]

    prop()


CATALOG = load_catalog(CORPUS / "catalog.json")
GOOD = [c for c in CASES if not isinstance(c["expect"], dict)]


def test_corpus_with_text_indexes() -> None:
    """Every corpus case (datasets as tests/test_sql_corpus.py builds them)."""
    require("postgres")
    import importlib.util

    from test_sql_corpus import _dataset

    have_pb = importlib.util.find_spec("filterdsl.frontends.pixiebrix") is not None
    cases = [c for c in GOOD if have_pb or c["format"] != "pixiebrix"]
    for case in cases:
        dataset, catalog = _dataset(case)
        query = parse(case["input"], case["format"], catalog, case.get("database"))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SqlLayoutWarning)
            assert _pg_ids(query, dataset, catalog) == case["expect"], case["name"]
    assert len(cases) > 50
