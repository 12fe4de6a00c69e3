"""Keyset pagination (``Query.after``) on MongoDB (mongomock and mingo) and Polars vs the memory engine.

The hand-checked orders of tests/test_keyset.py (SPEC 8: NOT SET/EMPTY first ascending, wrong types by
kind after the well-typed values, ties by created_at descending then id ascending), where the page after
every row must be exactly the rest of the order; then hypothesis: walking every page with cursors
(tests/keyset_support.walk) gives the memory engine's unpaged order. mingo runs through node, so its
pages are batched: every row's cursor in one process (the same contract, checked row by row).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sql_engines import refuses_numbers

from filterdsl import ast as A
from filterdsl import next_cursor, parse, to_mongo
from filterdsl.backends.memory import run as memory_run
from filterdsl.backends.mongo import runners as mongo_exec
from filterdsl.backends.polars import compiler as pb
from filterdsl.errors import FilterError
from filterdsl.records import normalize_dataset
from filterdsl.semantics.cursor import cursor_of
from filterdsl.semantics.paths import MISSING
from tests.keyset_support import unpaged, walk
from tests.test_keyset import NUMBERS, q, rec

from conftest import CORPUS, need, node_available
from strategies import Scenario, scenarios

T = A.FieldType
Doc = dict[str, Any]


def ids(docs: list[Doc]) -> list[str]:
    return [d["id"] for d in docs]


def engine_run(engine: str, query: A.Query, data: dict[Any, list[Doc]]) -> list[str]:
    if engine == "polars":
        return ids(pb.run(query, data))
    return ids(mongo_exec.run(query, data, engine=engine))


def mingo_many(jobs: list[tuple[A.Query, dict[Any, list[Doc]]]]) -> list[list[str] | str]:
    """(query, dataset) pairs in one node process, each job's collections under its own prefix."""
    specs, collections = [], {}
    for i, (query, data) in enumerate(jobs):
        names = {db: f"j{i}_{name}" for db, name in mongo_exec.collections_for(query, data).items()}
        specs.append(to_mongo(query, collections=names))
        collections.update({names[db]: docs for db, docs in data.items()})
    return mongo_exec.mingo_batch(specs, collections)


def cursor_jobs(query: A.Query, docs: list[Doc], order: list[str], size: int | None = None):
    """The page after each row of ``order`` (``size`` rows, or all): (query, expected ids)."""
    base = dataclasses.replace(unpaged(query), limit=size)
    by_id = {d["id"]: d for d in docs}
    jobs = [(base, order[:size])]
    for i, rid in enumerate(order):
        end = None if size is None else i + 1 + size
        jobs.append((dataclasses.replace(base, after=cursor_of(base, by_id[rid])), order[i + 1 : end]))
    return jobs


# ---------------------------------------------------------------- hand-checked orders
def _dates() -> list[Doc]:
    return [
        rec("d1", "2020-01-05T23:00:00Z"),
        rec("d2", "2020-01-05", created="2020-01-03"),
        rec("d3", "2020-01-04T00:00:00.000Z"),
        rec("d4", "2020-13-01"),
        rec("d5", "abc"),
        rec("d6", None),
        rec("d7", 20200101),
    ]


def _attrs() -> list[Doc]:
    docs = [rec(f"r{i}", created=f"2020-01-0{1 + i % 3}") for i in range(7)]
    docs[2]["updated_at"] = "2021-01-01T00:00:00.000000Z"
    docs[5]["updated_at"] = "2020-06-01T00:00:00.000000Z"
    return docs


MIXED = [
    rec("r1", "b", n=1),
    rec("r2", "a", n=1),
    rec("r3", "a", n=2),
    rec("r4", "b", n=2),
    rec("r5", "a"),
    rec("r6", MISSING, n=9),
    rec("r7", "b", n="z"),
    rec("r8", "a", n=2, created="2019-12-31"),
]
MONEY = [
    rec("m1", {"val": 5, "currency": "USD"}),
    rec("m2", {"val": 5, "currency": "EUR"}),
    rec("m3", {"val": 2.5}),
    rec("m4", {"val": "x"}),
    rec("m5", 7),
    rec("m6"),
]
REFS = [rec("x1", "t2"), rec("x2", "t10"), rec("x3", "t1"), rec("x4", [])]
BOOLS = [rec("b1", True), rec("b2", False), rec("b3"), rec("b4", 1), rec("b5", "true"), rec("b6", False)]
NESTED = [
    rec("p1", {"a": 2}),
    rec("p2", {"a": [1]}),
    rec("p3", {"b": 1}),
    rec("p4", [{"a": 0}]),
    rec("p5", {"a": "x"}),
    rec("p6", {"a": -1.5}),
]
ATTR = A.RecordAttr

#: (name, query, documents, the order): the orders are the hand-checked ones of tests/test_keyset.py,
#: then booleans, strings and JSON (every value wrong typed) over the same trap rows, a schemaless path,
#: and record attributes (a sort key that repeats the default order's created_at).
CASES: list[tuple[str, A.Query, list[Doc], list[str]]] = [
    ("number asc", q(("k", T.NUMBER, False)), NUMBERS, ["a", "b", "k", "c", "e", "d", "j", "f", "g", "h", "l", "i"]),
    ("number desc", q(("k", T.NUMBER, True)), NUMBERS, ["i", "h", "l", "g", "f", "j", "e", "d", "c", "a", "b", "k"]),
    ("string asc", q(("k", T.STRING, False)), NUMBERS, ["a", "b", "k", "j", "f", "c", "e", "d", "g", "h", "l", "i"]),
    ("json desc", q(("k", T.JSON, True)), NUMBERS, ["i", "h", "l", "g", "f", "j", "e", "d", "c", "a", "b", "k"]),
    ("mixed directions", q(("k", T.STRING, False), ("n", T.NUMBER, True)), MIXED, ["r6", "r3", "r8", "r2", "r5", "r7", "r4", "r1"]),
    ("dates by day", q(("k", T.DATE, False)), _dates(), ["d6", "d3", "d2", "d1", "d7", "d4", "d5"]),
    ("currency desc", q(("k", T.CURRENCY, True)), MONEY, ["m4", "m5", "m1", "m2", "m3", "m6"]),
    ("ref asc", q(("k", T.REF, False)), REFS, ["x4", "x3", "x2", "x1"]),
    ("boolean asc", q(("k", T.BOOLEAN, False)), BOOLS, ["b3", "b2", "b6", "b1", "b4", "b5"]),
    ("boolean desc", q(("k", T.BOOLEAN, True)), BOOLS, ["b5", "b4", "b1", "b2", "b6", "b3"]),
    ("path k.a asc", A.Query(sort=(A.SortKey(A.Field("k", T.NUMBER, ("a",)), False),)), NESTED, ["p3", "p4", "p6", "p1", "p5", "p2"]),
    ("default order", A.Query(), _attrs(), ["r2", "r5", "r1", "r4", "r0", "r3", "r6"]),
    ("updated_at desc", A.Query(sort=(A.SortKey(ATTR("updated_at"), True),)), _attrs(), ["r2", "r5", "r1", "r4", "r0", "r3", "r6"]),
    ("updated_at asc", A.Query(sort=(A.SortKey(ATTR("updated_at"), False),)), _attrs(), ["r1", "r4", "r0", "r3", "r6", "r5", "r2"]),
    ("created_at asc", A.Query(sort=(A.SortKey(ATTR("created_at"), False),)), _attrs(), ["r0", "r3", "r6", "r1", "r4", "r2", "r5"]),
    ("id desc", A.Query(sort=(A.SortKey(ATTR("id"), True),)), _attrs(), ["r6", "r5", "r4", "r3", "r2", "r1", "r0"]),
    ("field then updated_at", A.Query(sort=(A.SortKey(A.Field("k", T.NUMBER), True), A.SortKey(ATTR("updated_at"), False))), _attrs(), ["r1", "r4", "r0", "r3", "r6", "r5", "r2"]),
]  # fmt: skip
CASE_IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, query, docs, order", CASES, ids=CASE_IDS)
def test_the_orders_are_the_reference(name: str, query: A.Query, docs: list[Doc], order: list[str]) -> None:
    assert ids(memory_run(query, {None: docs})) == order


@pytest.mark.parametrize("engine", ["mongomock", "polars"])
@pytest.mark.parametrize("name, query, docs, order", CASES, ids=CASE_IDS)
def test_every_cursor(engine: str, name: str, query: A.Query, docs: list[Doc], order: list[str]) -> None:
    for page, expected in cursor_jobs(query, docs, order):
        assert engine_run(engine, page, {None: docs}) == expected, page.after


def test_every_cursor_on_mingo() -> None:
    need(node_available(), "node/npm are not installed (mingo runs through node)")
    jobs = [(j, docs) for _, query, docs, order in CASES for j in cursor_jobs(query, docs, order, 2)]
    got = mingo_many([(page, {None: docs}) for (page, _), docs in jobs])
    for ((page, expected), _), g in zip(jobs, got):
        assert g == expected, page


def test_after_with_filter_skip_and_limit() -> None:
    docs = [rec(f"r{i}", i) for i in range(10)]
    base = q(("k", T.NUMBER, False), predicate=A.Compare(A.Field("k", T.NUMBER), A.Op.GTE, 2))
    page = dataclasses.replace(base, after=cursor_of(base, docs[4]), skip=1, limit=2)
    gone = dataclasses.replace(base, after=cursor_of(base, docs[0]), limit=2)  # not selected by the filter
    for engine in ("mongomock", "polars"):
        assert engine_run(engine, page, {None: docs}) == ["r6", "r7"]
        assert engine_run(engine, gone, {None: docs}) == ["r2", "r3"]
        assert engine_run(engine, dataclasses.replace(page, limit=0), {None: docs}) == []
    if node_available():
        assert mingo_many([(page, {None: docs}), (gone, {None: docs})]) == [["r6", "r7"], ["r2", "r3"]]


def test_exact_numbers_past_2_53() -> None:
    """Ties and neighbours past 2^53 (a double cannot tell them apart): mongomock compares Python
    numbers, Polars its exact (float, residual) sort columns."""
    big = 2**53
    docs = [rec("n1", big + 1), rec("n2", float(big)), rec("n3", big), rec("n4", big + 2), rec("n5", big - 1)]
    query = q(("k", T.NUMBER, True))
    order = ["n4", "n1", "n2", "n3", "n5"]
    assert ids(memory_run(query, {None: docs})) == order
    for engine in ("mongomock", "polars"):
        for page, expected in cursor_jobs(query, docs, order):
            assert engine_run(engine, page, {None: docs}) == expected, (engine, page.after)


def test_find_form_is_index_ranges() -> None:
    """Without a field sort the cursor is ``$or`` of equalities plus one range on the stored fields, in
    the order's own key order: what an index on (created_at -1, id 1) serves as bounds."""
    doc = _attrs()[3]
    base = A.Query(limit=2)
    spec = to_mongo(dataclasses.replace(base, after=cursor_of(base, doc)))
    c = doc["created_at"]
    assert spec["filter"] == {
        "$or": [{"created_at": {"$lt": c}}, {"$and": [{"created_at": c}, {"id": {"$gt": "r3"}}]}]
    }
    assert spec["sort"] == [["created_at", -1], ["id", 1]]
    by_updated = A.Query(sort=(A.SortKey(ATTR("updated_at"), True),))
    spec = to_mongo(dataclasses.replace(by_updated, after=cursor_of(by_updated, doc)))  # updated_at null
    assert spec["filter"]["$or"][0] == {"$and": [{"updated_at": None}, {"created_at": {"$lt": c}}]}


def test_key_a_dotted_path_cannot_name() -> None:
    """A sort key needing ``$getField``: mingo pages it, mongomock refuses it loudly (docs/mongo.md)."""
    docs = [rec("w1", 3, key="a.b"), rec("w2", 1, key="a.b"), rec("w3", key="a.b")]
    query = q(("a.b", T.NUMBER, False))
    jobs = cursor_jobs(query, docs, ["w3", "w2", "w1"])
    with pytest.raises(mongo_exec.EngineUnsupported, match="getField"):
        engine_run("mongomock", jobs[1][0], {None: docs})
    for page, expected in jobs:
        assert engine_run("polars", page, {None: docs}) == expected
    need(node_available(), "node/npm are not installed (mingo runs through node)")
    assert mingo_many([(p, {None: docs}) for p, _ in jobs]) == [e for _, e in jobs]


def test_bad_cursor_is_refused_before_compiling() -> None:
    base = q(("k", T.NUMBER, False))
    bad = dataclasses.replace(
        base, after=A.Cursor((A.CursorKey(1, "5"),), "2020-01-01T00:00:00.000000Z", "x")
    )
    for compile_ in (to_mongo, pb.to_polars):
        with pytest.raises(FilterError) as e:
            compile_(bad)
        assert [(d.code, d.location.pointer) for d in e.value.errors] == [("bad-cursor", "/after/keys/0")]


def test_polars_after_expr_with_query_frame() -> None:
    """``to_polars`` carries the cursor, so ``frame.filter(to_polars(q))`` with ``sort_exprs`` pages too."""
    query = q(("k", T.NUMBER, True))
    frame = pb.to_frame(NUMBERS, slots=pb.slots_for(query))
    paged = dataclasses.replace(query, after=cursor_of(query, NUMBERS[3]), limit=3)  # after d (5)
    assert pb.query_frame(paged, frame).get_column("id").to_list() == ["c", "a", "b"]


# ---------------------------------------------------------------- differential: walking the pages
@st.composite
def keyset_scenarios(draw: Any, weird_keys: bool = False) -> Scenario:
    """``scenarios()`` with sorts on every type: its own, a field read as JSON (every value wrong
    typed), a schemaless path, record attributes, mixed directions. ``weird_keys``: keys a dotted Mongo
    path cannot name too (mingo and Polars; mongomock refuses them)."""
    sc = draw(scenarios(weird_keys=weird_keys))
    fields = [(f.id, f.type) for f in sc.catalog.get("main").fields]  # type: ignore[union-attr]
    if draw(st.booleans()):
        keys: list[A.Field | A.RecordAttr] = []
        for _ in range(draw(st.integers(1, 3))):
            k, t = draw(st.sampled_from(fields))
            form = draw(st.sampled_from(["own", "own", "json", "path", "attr"]))
            if form == "json":
                keys.append(A.Field(k, T.JSON))
            elif form == "path":
                keys.append(A.Field(k, draw(st.sampled_from([T.NUMBER, T.STRING, T.JSON])), ("val",)))
            elif form == "attr":
                keys.append(A.RecordAttr(draw(st.sampled_from(["id", "created_at", "updated_at"]))))
            else:
                keys.append(A.Field(k, t))
        unique = list(dict.fromkeys(keys))
        sort = tuple(A.SortKey(key, draw(st.booleans())) for key in unique)
        sc = dataclasses.replace(sc, query=dataclasses.replace(sc.query, sort=sort))
    return sc


def _strings(v: Any) -> list[str]:
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return [s for x in v for s in _strings(x)]
    if isinstance(v, dict):
        return [s for x in v.values() for s in _strings(x)]
    return []


def utf16_order_differs(dataset: dict[Any, list[Doc]]) -> bool:
    """Strings whose UTF-16 order (mingo) may differ from code-point order: an astral character and one
    in U+E000-U+FFFF (SPEC 8, docs/mongo.md)."""
    chars = {ord(c) for docs in dataset.values() for d in docs for s in _strings(d["data"]) for c in s}
    return any(c > 0xFFFF for c in chars) and any(0xE000 <= c <= 0xFFFF for c in chars)


COUNTS: Counter[str] = Counter()


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(keyset_scenarios(), st.integers(1, 4))
def test_walk_on_mongomock(sc: Scenario, size: int) -> None:
    data = sc.dataset
    by_id = {d["id"]: d for d in data["main"]}
    expected = ids(memory_run(unpaged(sc.query), data))
    got = walk(lambda qq: ids(mongo_exec.run(qq, data, engine="mongomock")), sc.query, size, by_id)
    assert got == expected


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.one_of(keyset_scenarios(), keyset_scenarios(weird_keys=True)), st.integers(1, 4))
def test_walk_on_polars(sc: Scenario, size: int) -> None:
    data = sc.dataset
    by_id = {d["id"]: d for d in data["main"]}
    expected = ids(memory_run(unpaged(sc.query), data))
    try:
        got = walk(lambda qq: ids(pb.run(qq, data)), sc.query, size, by_id)
    except FilterError as e:  # an integer past 64 bits the query reads (docs/semantics.md section 9)
        assert refuses_numbers("polars", data), e
        assert [d.code for d in e.errors] == ["not-expressible"], e
        return
    assert got == expected


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    st.lists(
        st.tuples(st.one_of(keyset_scenarios(), keyset_scenarios(weird_keys=True)), st.integers(1, 4)),
        min_size=5,
        max_size=5,
    )
)
def test_every_cursor_on_mingo_differential(batch: list[tuple[Scenario, int]]) -> None:
    """Five scenarios per node process; each row's cursor must give the next ``size`` rows of the
    memory engine's unpaged order (numbers past 2^53 are refused by mingo's runner, and strings whose
    UTF-16 order differs from code-point order are SPEC 8's documented mingo divergence)."""
    need(node_available(), "node/npm are not installed (mingo runs through node)")
    runs = [
        (sc, size)
        for sc, size in batch
        if not refuses_numbers("mingo", sc.dataset) and not utf16_order_differs(sc.dataset)
    ]
    assume(runs)
    jobs = []
    for sc, size in runs:
        order = ids(memory_run(unpaged(sc.query), sc.dataset))
        jobs += [
            (page, exp, sc.dataset) for page, exp in cursor_jobs(sc.query, sc.dataset["main"], order, size)
        ]
    got = mingo_many([(page, data) for page, _, data in jobs])
    for (page, expected, _), g in zip(jobs, got):
        assert g == expected, page


def test_mingo_refuses_a_cursor_number_past_2_53() -> None:
    """Such a cursor comes from records mingo's runner refuses; a crafted one is refused the same way
    (before node runs), never compared approximately."""
    query = q(("k", T.NUMBER, False))
    paged = dataclasses.replace(query, after=cursor_of(query, rec("z", 2**53 + 1)))
    with pytest.raises(FilterError) as e:
        mongo_exec.run(paged, {None: [rec("a", 1)]}, engine="mingo")
    assert [(d.code, d.location.pointer) for d in e.value.errors] == [("not-expressible", "/after/keys/0")]


# ---------------------------------------------------------------- end to end: PixieBrix after= tokens
PB_ORDERINGS = [
    "ordering=-data__age",
    "ordering=data__first_name,-data__age",
    "ordering=data__address__city",
    "ordering=-data__user email",
    "ordering=created_at,-id",
    "data__status__isnull=true&ordering=data__tags",
    "",
]


@pytest.mark.parametrize("engine", ["mongomock", "mingo", "polars"])
@pytest.mark.parametrize("params", PB_ORDERINGS)
def test_pixiebrix_after_tokens_walk_the_listing(engine: str, params: str) -> None:
    """The whole path: the PixieBrix corpus records, ``after=<token>`` (filterdsl.next_cursor of each
    page's last record), parsed by the frontend and run on the engine: the pages are the memory
    engine's unpaged listing (schemaless keys read as JSON: every value is placed by kind)."""
    if engine == "mingo":
        need(node_available(), "node/npm are not installed (mingo runs through node)")
    data = normalize_dataset(json.loads((CORPUS / "pixiebrix_records.json").read_text()))
    docs = next(iter(data.values()))
    by_id = {d["id"]: d for d in docs}
    sep = "&" if params else ""
    first = parse(f"{params}{sep}page_size=3", "pixiebrix")
    expected = ids(memory_run(dataclasses.replace(first, limit=None), data))
    seen, query = [], first
    for _ in range(len(docs)):
        page = engine_run(engine, query, data)
        seen += page
        if len(page) < 3:
            break
        token = next_cursor(first, by_id[page[-1]])
        query = parse(f"{params}{sep}page_size=3&after={token}", "pixiebrix")
    assert seen == expected
