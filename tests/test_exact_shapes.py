"""Issue 26, P1-P4: the shapes an outside generator found (integers past 2^53 and past 64 bits, -0.0,
the two-character lowering of ``İ``), pinned on every engine that runs here.

Each test states the in-memory engine's answer by hand (Python's exact ``int``/``float`` comparison and
``str.lower``), then checks each engine gives it, or refuses loudly where docs/semantics.md says so.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from filterdsl.ast import Compare, Const, Field, FieldType, Money, Node, Op, Query, Search, SortKey
from filterdsl.backends import memory
from filterdsl.backends.mongo import lower_regex
from filterdsl.backends.mongo import runners as mongo_exec
from filterdsl.backends.mongo.compiler import _str_regex
from filterdsl.records import normalize_records
from filterdsl.schema import load_catalog

from conftest import need, node_available

T = FieldType
CAT = load_catalog(
    [
        {
            "_id": "main",
            "name": "Main",
            "fields": [
                {"_id": "n", "name": "N", "type": "number"},
                {"_id": "s", "name": "S", "type": "string"},
                {"_id": "c", "name": "C", "type": "currency"},
            ],
        }
    ]
)


def dataset(values: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    rows = [
        {"id": f"m{i:02d}", "created_at": "2021-03-01T10:00:00.000000Z", "data": v}
        for i, v in enumerate(values)
    ]
    return {"main": normalize_records(rows, CAT.get("main"))}


def query(pred: Node, *sort: tuple[str, T, bool]) -> Query:
    return Query(pred, tuple(SortKey(Field(k, t), d) for k, t, d in sort), 0, None, None, "main")


def memory_ids(q: Query, ds: dict[str, list[dict[str, Any]]]) -> list[str]:
    return [d["id"] for d in memory.run(q, ds, CAT)]


# ---------------------------------------------------------------- P3: İ's lowering pieces in Mongo
_HAYS = ["İ", "xİ", "İx", "i̇", "I", "i", "ıi", "İİ", "aİb", "\u0307", "x\u0307", "ΑΣ", "ΑΣΑ"]
_NEEDLES = ["i", "I", "İ", "\u0307", "i\u0307", "\u0307x", "xi", "ai", "a", "İb", "bİ", "i\u0307b", "\u0307b"]
_HOLDS = {
    Op.CONTAINS: lambda n, h: n in h,
    Op.STARTS_WITH: lambda n, h: h.startswith(n),
    Op.ENDS_WITH: lambda n, h: h.endswith(n),
    Op.IEQ: lambda n, h: n == h,
}


@pytest.mark.parametrize("op", list(_HOLDS), ids=lambda o: o.value)
def test_mongo_regex_matches_pieces_of_dotted_i(op: Op) -> None:
    """Every needle against every text, as Python's ``str.lower`` on both sides says."""
    for needle in _NEEDLES:
        for hay in _HAYS:
            want = _HOLDS[op](needle.lower(), hay.lower())
            assert bool(re.search(_str_regex(op, needle), hay)) == want, (needle, hay, op)


def test_lower_regex_names_the_pieces() -> None:
    assert re.fullmatch(lower_regex("i"), "İ")  # İ.lower() = "i" + U+0307 holds "i"
    assert re.fullmatch(lower_regex("\u0307"), "İ")
    assert not re.search(lower_regex("i", open_end=False), "İ")  # ends-with: the match ends inside İ
    assert not re.search(lower_regex("\u0307", open_start=False), "İ")


_MONGO_STRINGS = ["İ", "xİy", "i", "I\u0307", "ilker", "İLKER", "Ⅻ"]
_MONGO_QUERIES = [
    Compare(Field("s", T.STRING), Op.CONTAINS, "i"),
    Compare(Field("s", T.STRING), Op.CONTAINS, "I"),
    Compare(Field("s", T.STRING), Op.STARTS_WITH, "xi"),
    Compare(Field("s", T.STRING), Op.ENDS_WITH, "\u0307y"),
    Compare(Field("s", T.STRING), Op.ENDS_WITH, "i"),
    Compare(Field("s", T.STRING), Op.CONTAINS, "i\u0307l"),
    Search((("I",),), (Field("s", T.STRING),)),
    Search((("I",),), None),
]
_MONGO_EXPECT = [
    ["m00", "m01", "m02", "m03", "m04", "m05"],
    ["m00", "m01", "m02", "m03", "m04", "m05"],
    ["m01"],
    ["m01"],
    ["m02"],
    ["m05"],
    ["m00", "m01", "m02", "m03", "m04", "m05"],
    ["m00", "m01", "m02", "m03", "m04", "m05"],
]


@pytest.mark.parametrize("engine", mongo_exec.ENGINES)
def test_mongo_dotted_i_on_both_oracles(engine: str) -> None:
    """Name ``İ``, search ``I`` / contains ``i``: the issue's repro, on mongomock and mingo."""
    if engine == "mingo":
        need(node_available(), "node/npm are not installed (mingo runs through node)")
    ds = dataset([{"s": s} for s in _MONGO_STRINGS])
    for pred, want in zip(_MONGO_QUERIES, _MONGO_EXPECT):
        q = query(pred)
        assert memory_ids(q, ds) == want, pred
        assert [d["id"] for d in mongo_exec.run(q, ds, engine, CAT)] == want, pred


# ---------------------------------------------------------------- P4: -0.0 ties with 0 (DataFusion)
def test_datafusion_negative_zero_ties_with_zero() -> None:
    pytest.importorskip("datafusion")
    from filterdsl.backends.sql.columnar_runners import fetch_ids

    ds = dataset(
        [
            {"n": 0, "c": {"val": 0}},
            {"n": -0.0, "c": {"val": -0.0}},
            {"n": 0.0, "c": {"val": 0.0}},
            {"n": -0.0, "c": {"val": -0.0}},
            {"n": -1.5, "c": {"val": -1}},
            {"n": None},
        ]
    )
    # SPEC 8: -0.0 == 0, so the four zeros tie and the default order (created_at desc, id asc) decides
    asc = ["m05", "m04", "m00", "m01", "m02", "m03"]
    desc = ["m00", "m01", "m02", "m03", "m04", "m05"]
    for key in ("n", "c"):
        t = T.NUMBER if key == "n" else T.CURRENCY
        for descending, want in ((False, asc), (True, desc)):
            q = query(Const(True), (key, t, descending))
            assert memory_ids(q, ds) == want
            assert fetch_ids(q, ds, "datafusion", CAT, "main") == want, (key, descending)


# ---------------------------------------------------------------- P1/P2: integers past 2^53 and 64 bits
N = Field("n", T.NUMBER)
C = Field("c", T.CURRENCY)
#: numbers every exact engine holds (within 64 bits; floats below 2^53 or from 1e21, as ClickHouse reads
#: them back), with pairs whose doubles are equal: 2^53 and 2^53 + 1, 2^63 and 2^63 + 1 (as doubles)
WITHIN_64 = [
    9007199254740993,
    9007199254740992,
    2**63 - 1,
    -(2**63),
    2**64 - 1,
    2**64 - 1000,
    9007199254740992.0,
    -9007199254740993,
    -(2**63) + 1,
    1e308,
    -0.0,
    0,
    0.5,
    1e21,
]
WITHIN_64_DATA = [{"n": v, "c": {"val": v}} for v in WITHIN_64] + [{"n": "9007199254740992"}, {"n": None}]
NUMBER_QUERIES: list[tuple[Node, tuple[tuple[str, T, bool], ...]]] = [
    (Compare(N, Op.EQ, 9007199254740992), ()),
    (Compare(N, Op.GT, 9007199254740992), ()),
    (Compare(N, Op.GTE, 9007199254740992), ()),
    (Compare(N, Op.LT, -9007199254740992), ()),
    (Compare(N, Op.LTE, float(2**64)), ()),
    (Compare(N, Op.GT, float(2**63)), ()),
    (Compare(N, Op.EQ, 1e21), ()),
    (Compare(C, Op.EQ, Money(9007199254740992)), ()),
    (Compare(C, Op.GT, Money(9007199254740992)), ()),
    (Const(True), (("n", T.NUMBER, False),)),
    (Const(True), (("n", T.NUMBER, True),)),
    (Const(True), (("c", T.CURRENCY, False),)),
    (Const(True), (("c", T.CURRENCY, True),)),
]


def _sql_ids(engine: str, q: Query, ds: Any) -> list[str]:
    from sql_engines import require

    from filterdsl.backends.sql.runners import run_ids

    return run_ids(q, ds, engine, require(engine), CAT)


def test_issue_repro_by_hand() -> None:
    """The issue's repro: ``is 9007199254740992`` matches only ...992; ...993 sorts after it."""
    ds = dataset([{"n": 9007199254740993}, {"n": 9007199254740992}])
    assert memory_ids(query(Compare(N, Op.EQ, 9007199254740992)), ds) == ["m01"]
    assert memory_ids(query(Const(True), ("n", T.NUMBER, False)), ds) == ["m01", "m00"]
    ds = dataset([{"n": 123000000000000000000000000000}, {"n": 5}])
    assert memory_ids(query(Compare(N, Op.GT, 1000000)), ds) == ["m00"]


@pytest.mark.parametrize("engine", ["sqlite", "duckdb", "postgres", "clickhouse"])
def test_integers_within_64_bits_are_exact(engine: str) -> None:
    """Filters and sorts on integers past 2^53 (within 64 bits) give the in-memory answer."""
    if engine == "clickhouse":
        pytest.importorskip("chdb")
    data = WITHIN_64_DATA
    if engine == "sqlite":  # SQLite holds signed 64-bit integers (beyond: refused, test below)
        data = [d for d in data if not (type(d.get("n")) is int and d["n"] > 2**63 - 1)]
    ds = dataset(data)
    for pred, sort in NUMBER_QUERIES:
        q = query(pred, *sort)
        assert _sql_ids(engine, q, ds) == memory_ids(q, ds), (pred, sort)
    eq = memory_ids(query(Compare(N, Op.EQ, 9007199254740992)), ds)
    # the integer and the float 2^53; not 2^53 + 1, not the string
    assert eq == (["m01", "m04"] if engine == "sqlite" else ["m01", "m06"])


BEYOND_64 = [
    10**30,
    10**30 + 1,
    -(10**30),
    123000000000000000000000000000,
    2**64,
    2**64 + 1,
    2**127 + 1,
    10**40,
    1e308,
    float(2**64),
    1e20,
    -1e20,
]


def test_duckdb_is_exact_beyond_64_bits() -> None:
    """DuckDB compares through VARINT: exact at any size (the P1 repro included)."""
    pytest.importorskip("duckdb")
    ds = dataset([{"n": v, "c": {"val": v}} for v in WITHIN_64 + BEYOND_64])
    queries = [
        *NUMBER_QUERIES,
        (Compare(N, Op.GT, 1000000), ()),
        (Compare(N, Op.EQ, float(2**64)), ()),
        (Compare(N, Op.GT, float(2**64)), ()),
        (Compare(N, Op.LTE, 1e30), ()),
    ]
    for pred, sort in queries:
        q = query(pred, *sort)
        assert _sql_ids("duckdb", q, ds) == memory_ids(q, ds), (pred, sort)
    p1 = query(Compare(N, Op.GT, 1000000))
    assert "m14" in memory_ids(p1, ds)  # 10**30 (P1: ClickHouse answered [])


@pytest.mark.parametrize(
    "engine, value",
    [
        ("sqlite", 2**64),
        ("sqlite", -(2**63) - 1),
        ("mysql", 2**53 + 1),
        ("mysql", -(2**53) - 1),
        ("clickhouse", 2**64),
        ("clickhouse", 123000000000000000000000000000),
        ("clickhouse", 1e20),
        ("clickhouse", float(2**63)),
        ("mingo", 2**53 + 1),
    ],
)
def test_engines_refuse_what_they_cannot_compare(engine: str, value: int | float) -> None:
    """A dataset holding a number the engine reads inexactly is refused when loaded, located at it
    (docs/semantics.md section 9), whatever the query; a dataset without one runs."""
    from filterdsl.errors import FilterError

    ds = dataset([{"s": "a"}, {"c": {"val": 1, "currency": "USD"}}, {"c": {"val": value}}])
    q = query(Compare(Field("s", T.STRING), Op.EQ, "a"))

    def run() -> list[str]:
        if engine == "mingo":
            need(node_available(), "node/npm are not installed (mingo runs through node)")
            return [d["id"] for d in mongo_exec.run(q, ds, "mingo", CAT)]
        if engine == "clickhouse":
            pytest.importorskip("chdb")
        return _sql_ids(engine, q, ds)

    with pytest.raises(FilterError) as e:
        run()
    (d,) = e.value.errors
    assert d.code == "not-expressible" and d.location.pointer == "/2/data/c/val", d
    assert f"--engine {engine}" in d.message and "exactly" in d.message
    ds["main"][2]["data"]["c"]["val"] = 2**53 if type(value) is int else 2.0**53
    assert run() == ["m00"]


def test_cli_exit_4_on_refused_numbers(tmp_path: Any, capsys: Any) -> None:
    import json

    from filterdsl.cli import main

    records = tmp_path / "r.json"
    records.write_text(
        json.dumps([{"id": "a", "created_at": "2021-01-01", "data": {"n": 18446744073709551617}}])
    )
    with pytest.raises(SystemExit) as e:
        main(
            ["run", "--engine", "sqlite", "--data", str(records), "--ids", "--from", "search", "--expr", "x"]
        )
    assert e.value.code == 4
    err = capsys.readouterr().err
    assert "not-expressible" in err and "/0/data/n" in err


def test_postgres_reads_floats_as_their_shortest_decimal() -> None:
    """Pinned divergence (docs/semantics.md section 9): jsonb holds the float 2.0**63 as the decimal
    9223372036854776000 (its shortest round-trip text), so an integer between the double's value
    (9223372036854775808) and that decimal compares the other way round on PostgreSQL."""
    ds = dataset([{"n": 2**63 + 1}, {"n": float(2**63)}])
    q = query(Compare(N, Op.LTE, float(2**63)))
    assert memory_ids(q, ds) == ["m01"]
    assert _sql_ids("postgres", q, ds) == ["m00", "m01"]
    s = query(Const(True), ("n", T.NUMBER, False))
    assert memory_ids(s, ds) == ["m01", "m00"]
    assert _sql_ids("postgres", s, ds) == ["m00", "m01"]


# ---------------------------------------------------------------- a generator aimed at number ties
def _number_cases() -> Any:
    from hypothesis import strategies as st

    from strategies import BIG_POOLS, NUMBERS

    stored = st.sampled_from(BIG_POOLS["all"] + [1, 0.5, -3])
    values = st.lists(
        st.one_of(
            stored.map(lambda v: {"n": v}),
            stored.map(lambda v: {"c": {"val": v}}),
            st.sampled_from([{"n": "9007199254740992"}, {"n": None}, {}]),
        ),
        min_size=2,
        max_size=8,
    )
    filters = st.sampled_from([*NUMBERS, 2**53, -(2**53), float(2**63), float(2**64), 1e21])
    ops = st.sampled_from([Op.EQ, Op.GT, Op.GTE, Op.LT, Op.LTE])
    preds = st.one_of(
        st.builds(lambda op, v: Compare(N, op, v), ops, filters),
        st.builds(lambda op, v: Compare(C, op, Money(v)), ops, filters),
        st.just(Const(True)),
    )
    sorts = st.sampled_from(
        [(), (("n", T.NUMBER, False),), (("n", T.NUMBER, True),), (("c", T.CURRENCY, False),)]
    )
    return st.tuples(values, preds, sorts)


_NUMBER_ENGINES = ["sqlite", "duckdb", "postgres", "mysql", "clickhouse", "mongomock", "mingo", "polars"]


def _straddles(ds: Any, pred: Node) -> bool:
    """PostgreSQL's pinned divergence: an integer past 2^53 between a float's value and its shortest
    decimal (the float stored or the filter's)."""
    from decimal import Decimal

    nums = [v for d in ds["main"] for v in (d["data"].get("n"), (d["data"].get("c") or {}).get("val"))]
    if isinstance(pred, Compare):
        nums.append(pred.value.amount if isinstance(pred.value, Money) else pred.value)
    floats = [f for f in nums if type(f) is float and abs(f) > 2**53]
    ints = [i for i in nums if type(i) is int and abs(i) > 2**53]
    return any(
        min(Decimal(f), Decimal(repr(f))) <= i <= max(Decimal(f), Decimal(repr(f)))
        for f in floats
        for i in ints
    )


@pytest.mark.parametrize("engine", _NUMBER_ENGINES)
def test_number_ties_differential(engine: str) -> None:
    """Random near-ties (2^53 and 2^53 + 1, 2^63 - 1 and 2.0**63, ...) in number and currency fields,
    filtered and sorted: each engine answers as memory, or refuses the records it cannot read exactly."""
    from hypothesis import HealthCheck, given, settings
    from sql_engines import refuses_numbers

    from filterdsl.errors import FilterError

    if engine == "mingo":
        need(node_available(), "node/npm are not installed (mingo runs through node)")
    if engine in ("clickhouse", "polars", "duckdb"):
        pytest.importorskip({"clickhouse": "chdb"}.get(engine, engine))

    def ids(q: Query, ds: Any) -> list[str]:
        if engine in ("mongomock", "mingo"):
            return [d["id"] for d in mongo_exec.run(q, ds, engine, CAT)]
        if engine == "polars":
            from filterdsl.backends.polars import compiler as pb

            return [d["id"] for d in pb.run(q, ds, CAT)]
        return _sql_ids(engine, q, ds)

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_number_cases())
    def prop(case: Any) -> None:
        values, pred, sort = case
        ds = dataset(values)
        q = query(pred, *sort)
        want = memory_ids(q, ds)
        if engine == "polars" and refuses_numbers("polars", ds):
            return  # refused when the query reads such a field (test_polars_differential)
        if refuses_numbers(engine, ds):
            with pytest.raises(FilterError) as e:
                ids(q, ds)
            assert [d.code for d in e.value.errors] == ["not-expressible"]
            return
        got = ids(q, ds)
        if engine == "postgres" and got != want and _straddles(ds, pred):
            return  # pinned: test_postgres_reads_floats_as_their_shortest_decimal
        assert got == want

    prop()
