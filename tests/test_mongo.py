"""The Mongo backend on two independent engines (mongomock, mingo) vs the in-memory engine.

What each engine verifies (docs/mongo.md): mingo runs every spec; mongomock has no ``$lookup`` with
``let``/``pipeline`` (relations inside relations) and no ``$getField`` (keys a dotted path cannot name), and
the tests assert that these are the only things it refuses, loudly.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sql_engines import refuses_numbers

from filterdsl import load_catalog, parse
from filterdsl.ast import Field, FieldType, Query, Relation, Search, walk
from filterdsl.backends.memory import run
from filterdsl.backends.mongo import lower_regex, to_mongo
from filterdsl.backends.mongo import runners as mongo_exec
from filterdsl.errors import FilterError
from filterdsl.records import normalize_dataset

from conftest import CASES, CORPUS, need, node_available
from strategies import scenarios

CAT = load_catalog(CORPUS / "catalog.json")
DATA = normalize_dataset(json.loads((CORPUS / "records.json").read_text()), CAT)
PB = normalize_dataset(json.loads((CORPUS / "pixiebrix_records.json").read_text()))
RUN_CASES = [c for c in CASES if isinstance(c["expect"], list)]


def _undotted(key: str) -> bool:
    return key == "" or "." in key or key.startswith("$")


def mongomock_lacks(q: Query) -> bool:
    """Specs mongomock cannot run: a relation inside a relation needs ``$lookup`` with ``let``/``pipeline``,
    a key a dotted path cannot name needs ``$getField``."""
    nodes = list(walk(q.predicate))
    keys = [s for n in nodes if isinstance(getattr(n, "field", None), Field) for s in n.field.segments]
    keys += [s for sk in q.sort if isinstance(sk.key, Field) for s in sk.key.segments]
    keys += [f.key for n in nodes if isinstance(n, Search) and n.fields for f in n.fields]
    return nested_relation(q) or any(_undotted(k) for k in keys)


def case_query(c: dict) -> tuple[Query, dict]:
    if c["format"] == "pixiebrix":
        return parse(c["input"], "pixiebrix"), PB
    return parse(c["input"], c["format"], catalog=CAT, database=c["database"]), DATA


@pytest.mark.parametrize("case", RUN_CASES, ids=[c["name"] for c in RUN_CASES])
def test_corpus_on_mongomock(case: dict) -> None:
    q, data = case_query(case)
    try:
        got = [d["id"] for d in mongo_exec.run(q, data, engine="mongomock")]
    except mongo_exec.EngineUnsupported:
        assert mongomock_lacks(q)
        return
    assert got == case["expect"]


def mingo_many(jobs: list[tuple[Query, dict]]) -> list[list[str] | str]:
    """Run (query, dataset) pairs in one node process: each job's collections under its own prefix."""
    specs, collections = [], {}
    for i, (q, data) in enumerate(jobs):
        names = {db: f"j{i}_{name}" for db, name in mongo_exec.collections_for(q, data).items()}
        specs.append(to_mongo(q, collections=names))
        collections.update({names[db]: docs for db, docs in data.items()})
    return mongo_exec.mingo_batch(specs, collections)


def test_corpus_on_mingo() -> None:
    need(node_available(), "node/npm are not installed (mingo runs through node)")
    jobs = [case_query(c) for c in RUN_CASES]
    for c, got in zip(RUN_CASES, mingo_many(jobs)):
        assert got == c["expect"], c["name"]


def memory_ids(sc) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["id"] for r in run(sc.query, sc.dataset)]


def nested_relation(q: Query) -> bool:
    return any(
        isinstance(n, Relation) and any(isinstance(m, Relation) for m in walk(n.predicate))
        for n in walk(q.predicate)
    )


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_differential_mongomock(sc) -> None:  # type: ignore[no-untyped-def]
    try:
        got = [d["id"] for d in mongo_exec.run(sc.query, sc.dataset, engine="mongomock")]
    except mongo_exec.EngineUnsupported:
        assert mongomock_lacks(sc.query)  # the only things mongomock may refuse (they run on mingo)
        return
    assert not mongomock_lacks(sc.query)
    assert got == memory_ids(sc)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(scenarios(), min_size=6, max_size=6))
def test_differential_mingo(scs) -> None:  # type: ignore[no-untyped-def]
    """150 scenarios, six per node process; one holding an integer past 2^53 is refused (JavaScript
    numbers are doubles: docs/semantics.md section 9)."""
    need(node_available(), "node/npm are not installed (mingo runs through node)")
    refused = [sc for sc in scs if refuses_numbers("mingo", sc.dataset)]
    for sc in refused[:1]:
        with pytest.raises(FilterError) as e:
            mongo_exec.run(sc.query, sc.dataset, engine="mingo")
        assert [d.code for d in e.value.errors] == ["not-expressible"]
    scs = [sc for sc in scs if not refuses_numbers("mingo", sc.dataset)]
    for sc, got in zip(scs, mingo_many([(sc.query, sc.dataset) for sc in scs])):
        assert got == memory_ids(sc), sc


@pytest.mark.parametrize(
    "needle, hay, expected",
    [
        ("école", "ÉCOLE DE PARIS", True),
        ("straße", "STRASSE", False),
        ("σίσυφος", "ΣΊΣΥΦΟΣ", True),
        ("i̇lker", "İLKER", True),
        ("ilker", "İLKER", False),
        ("ǆ", "ǅ", True),
        ("k", "K", True),
        ("k", "\u212a", True),
        ("a.b", "axb", False),
        ("(y)", "(Y)", True),
        ("$^", "x$^", True),
        ("[x]", "[X]", True),
        ("100%", "100%", True),
    ],
)
def test_lower_regex_agrees_with_str_lower(needle: str, hay: str, expected: bool) -> None:
    import re

    assert (needle.lower() in hay.lower()) == expected
    assert bool(re.search(lower_regex(needle), hay)) == expected


def test_operator_injection_values_stay_operands() -> None:
    docs = {
        "db": [
            {
                "id": f"r{i}",
                "created_at": "2021-01-01T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": {"k": v},
            }
            for i, v in enumerate(
                ["$ne", {"$ne": None}, "x", None, ["$where"], "$where", "function(){return true}"]
            )
        ]
    }
    for qs in (
        "data__k=%24ne",
        "data__k=%24where",
        "data__k=function(){return true}",
        "data__%24where=1",
        "data__k__isnull=false",
    ):
        try:
            q = parse(qs, "pixiebrix")
        except FilterError:
            continue
        q = Query(q.predicate, database="db")
        spec = to_mongo(q)
        text = json.dumps(spec)
        assert "$where" not in text.replace('"$where"', "") and "$function" not in text
        if qs.startswith(
            "data__%24"
        ):  # a key starting with '$' is only ever a $getField operand, as a $literal
            assert '{"$getField": {"field": {"$literal": "$where"}' in text
        want = [r["id"] for r in run(q, docs)]
        try:
            got = [d["id"] for d in mongo_exec.run(q, docs, engine="mongomock")]
        except mongo_exec.EngineUnsupported as e:
            assert qs.startswith("data__%24") and "$getField" in str(e)
            continue
        assert got == want, qs


def test_nul_keys_are_refused() -> None:
    """BSON field names are C strings: a key holding NUL cannot be stored, so no spec names it."""
    from filterdsl.ast import Compare, Op

    with pytest.raises(FilterError) as e:
        to_mongo(Compare(Field("a\x00b", FieldType.STRING), Op.EQ, "x"))
    assert e.value.diagnostics[0].code == "not-expressible" and "NUL" in e.value.diagnostics[0].message


def test_regex_metacharacters_are_literal_and_linear() -> None:
    from filterdsl.ast import Compare, Op

    evil = "(a+)+$" + "a" * 30
    spec = to_mongo(Compare(Field("k", FieldType.STRING), Op.CONTAINS, evil))
    docs = {
        None: [
            {
                "id": "x",
                "created_at": "2021-01-01T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": {"k": "a" * 5000 + "!"},
            }
        ]
    }
    assert "(?:a|A)" in json.dumps(spec)
    assert mongo_exec.run(Query(Compare(Field("k", FieldType.STRING), Op.CONTAINS, evil)), docs) == []


def test_day_ranges_agree_with_head_comparison() -> None:
    """The string bounds used for date operators equal ``stored[:10] <op> value`` for any value."""
    import itertools

    from filterdsl.ast import Op
    from filterdsl.backends.mongo.compiler import _day_range

    stored = [
        "2020-01-22",
        "2020-01-23",
        "2020-01-23T00:00:00Z",
        "2020-01-23T23:59:59.999Z",
        "2020-01-24",
        "2020-01-2",
    ]
    stored = [s for s in stored if len(s) >= 10]
    values = [
        "2020-01-23",
        "2020-01-23T23:59:59.999Z",
        "2020-01-23T00:00:00Z",
        "2020",
        "2020-01-23x",
        "",
        "2021",
    ]
    ops = {
        Op.EQ: lambda a, b: a == b,
        Op.LT: lambda a, b: a < b,
        Op.LTE: lambda a, b: a <= b,
        Op.GT: lambda a, b: a > b,
        Op.GTE: lambda a, b: a >= b,
    }
    for s, v, (op, fn) in itertools.product(stored, values, ops.items()):
        rng = _day_range(op, v)
        got = rng is not None and all(
            {"$lt": s < b, "$gte": s >= b}[k] for k, b in [(k, b) for k, b in rng.items()]
        )
        assert got == fn(s[:10], v), (s, v, op)
