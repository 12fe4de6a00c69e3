"""Polars backend: every corpus case gives the reference ids in the reference order; layout and errors."""

from __future__ import annotations

import importlib.util
import json
import sys

import polars as pl
import pytest

from filterdsl import FilterError, load_catalog, parse
from filterdsl.ast import (
    And,
    Compare,
    Field,
    FieldState,
    FieldType,
    IdIn,
    Not,
    Op,
    Query,
    Relation,
    Search,
    State,
)
from filterdsl.backends.memory import compile_predicate, run
from filterdsl.backends.polars import compiler as pb
from filterdsl.records import normalize_dataset

from conftest import CASES, CORPUS

CATALOG = load_catalog(CORPUS / "catalog.json")
GOOD = [c for c in CASES if not isinstance(c["expect"], dict)]
HAVE_PIXIEBRIX = importlib.util.find_spec("filterdsl.frontends.pixiebrix") is not None


def _dataset(case):
    if case["format"] == "pixiebrix" or (case["format"] == "search" and case.get("database") is None):
        return normalize_dataset(json.loads((CORPUS / "pixiebrix_records.json").read_text())), None
    raw = json.loads((CORPUS / "records.json").read_text())
    return normalize_dataset(raw if isinstance(raw, dict) else {case["database"]: raw}, CATALOG), CATALOG


@pytest.mark.parametrize("case", GOOD, ids=[c["name"] for c in GOOD])
def test_corpus_case(case):
    if case["format"] == "pixiebrix" and not HAVE_PIXIEBRIX:
        pytest.skip("filterdsl.frontends.pixiebrix does not exist yet")
    dataset, catalog = _dataset(case)
    query = parse(case["input"], case["format"], catalog, case.get("database"))
    expected = [r["id"] for r in run(query, dataset, catalog)]
    assert expected == case["expect"]
    assert [r["id"] for r in pb.run(query, dataset, catalog)] == expected


def test_corpus_projection_is_the_reference():
    case = next(c for c in GOOD if c["format"] == "pitchly")
    dataset, catalog = _dataset(case)
    query = parse(case["input"], "pitchly", catalog, case["database"])
    first = next(iter(dataset[case["database"]][0]["data"]))
    from dataclasses import replace

    q = replace(query, fields=(first,))
    assert pb.run(q, dataset, catalog) == run(q, dataset, catalog)


def _docs(*values):
    """One canonical document per value of field ``k`` (MISSING for the string "<missing>")."""
    out = []
    for i, v in enumerate(values):
        data = {} if v == "<missing>" else {"k": v}
        out.append(
            {
                "id": f"r{i}",
                "created_at": "2021-01-01T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": data,
            }
        )
    return out


VALUES = (
    "<missing>",
    None,
    "",
    [],
    "x",
    5,
    5.0,
    True,
    "5",
    ["a", 1],
    {"val": 3, "currency": "USD"},
    2**62 + 1,
    0.5,
    "2020-01-23T10:00:00Z",
    "İlker",
)


@pytest.mark.parametrize("ftype", list(FieldType))
def test_frame_keeps_the_three_states_and_kinds(ftype):
    """Every state and every wrong-typed value stays distinguishable: FieldState and a negated compare
    agree with the reference on each value."""
    docs = _docs(*VALUES)
    f = Field("k", ftype)
    frame = pb.to_frame(docs, slots=[f])
    for state in State:
        node = FieldState(f, state)
        ref = [compile_predicate(node)(d) for d in docs]
        assert frame.select(pb.to_polars(node).alias("m"))["m"].to_list() == ref


@pytest.mark.parametrize(
    "node",
    [
        Compare(Field("k", FieldType.NUMBER), Op.GT, 2**53),
        Compare(Field("k", FieldType.NUMBER), Op.EQ, 5),
        Compare(Field("k", FieldType.NUMBER), Op.LTE, 0.5),
        Compare(Field("k", FieldType.NUMBER), Op.LT, 1.5e300),
        Compare(Field("k", FieldType.JSON), Op.EQ, True),
        Compare(Field("k", FieldType.JSON), Op.EQ, "5"),
        Compare(Field("k", FieldType.STRING), Op.CONTAINS, "ilker"),
        Compare(Field("k", FieldType.STRING), Op.CONTAINS, ""),
        Compare(Field("k", FieldType.DATE), Op.EQ, "2020-01-23"),
        Compare(Field("k", FieldType.ENUM_TAGS), Op.HAS_ANY, ("a",)),
        Compare(Field("k", FieldType.ENUM_TAGS), Op.HAS_EXACTLY, ("a",)),
    ],
)
def test_compare_and_its_negation(node):
    docs = _docs(*VALUES)
    frame = pb.to_frame(docs, slots=[node.field])
    for n in (node, Not(node)):
        ref = [compile_predicate(n)(d) for d in docs]
        assert frame.select(pb.to_polars(n).alias("m"))["m"].to_list() == ref


def test_exact_big_integers():
    """2**53 + 1 > 2**53 in Python; a Float64 cast would make them equal."""
    docs = _docs(2**53, 2**53 + 1, float(2**53), 2**63 - 1)
    node = Compare(Field("k", FieldType.NUMBER), Op.GT, 2**53)
    q = Query(node)
    assert (
        [r["id"] for r in pb.run(q, {None: docs})] == [r["id"] for r in run(q, {None: docs})] == ["r1", "r3"]
    )


def test_integer_beyond_64_bits_is_refused_not_wrong():
    with pytest.raises(FilterError) as err:
        pb.to_frame(_docs(2**70), slots=[Field("k", FieldType.NUMBER)])
    assert err.value.errors[0].code == "not-expressible"


def test_relation_needs_the_referenced_records():
    rel = Relation(Field("k", FieldType.REF), "other", Compare(Field("n", FieldType.STRING), Op.EQ, "a"))
    with pytest.raises(FilterError) as err:
        pb.to_polars(Query(rel))
    assert err.value.errors[0].code == "not-expressible"
    other = [
        {
            "id": "t1",
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {"n": "a"},
        }
    ]
    docs = _docs("t1", "t2", ["t1"])
    dataset = {"main": docs, "other": other}
    q = Query(And((rel, Not(FieldState(Field("k", FieldType.REF), State.NOT_SET)))), database="main")
    assert pb.run(q, dataset) == run(q, dataset) == [docs[0]]
    assert isinstance(pb.to_polars(q, dataset=dataset), pl.Expr)


def test_default_layout_from_catalog():
    raw = json.loads((CORPUS / "records.json").read_text())
    db = next(iter(raw)) if isinstance(raw, dict) else None
    rows = raw[db] if db else raw
    frame = pb.to_frame(rows, CATALOG, db)
    assert frame.height == len(rows)
    assert {"id", "created_at", "updated_at", "removed_at"} <= set(frame.columns)


def test_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "polars", None)
    with pytest.raises(ImportError, match=r"filterdsl\[polars\]"):
        pb.to_frame([])


def _doc(i, data, created="2021-01-01T00:00:00.000000Z"):
    return {"id": f"r{i}", "created_at": created, "updated_at": None, "removed_at": None, "data": data}


PATH_DOCS = [
    _doc(0, {"a": {"b": "x"}}),
    _doc(1, {"a": {"b": 5}}),
    _doc(2, {"a": [{"b": "x"}, "y"]}),
    _doc(3, {"a": {"b": None}}),
    _doc(4, {"a": "x"}),
    _doc(5, {}),
    _doc(6, {"a": {"b": ""}}),
    _doc(7, {"a": ["p", "q"]}),
    _doc(8, {"a": {"0": "p"}}),
]


@pytest.mark.parametrize(
    "node",
    [
        Compare(Field("a", FieldType.JSON, ("b",)), Op.EQ, "x"),
        Compare(Field("a", FieldType.JSON, ("0", "b")), Op.EQ, "x"),
        Compare(Field("a", FieldType.JSON, ("0",)), Op.EQ, "p"),
        Compare(Field("a", FieldType.JSON, ("01",)), Op.EQ, "q"),
        Compare(Field("a", FieldType.JSON, ("b",)), Op.GTE, 5),
        FieldState(Field("a", FieldType.JSON, ("b",)), State.NOT_SET),
        FieldState(Field("a", FieldType.JSON, ("b",)), State.EMPTY),
        Not(FieldState(Field("a", FieldType.JSON, ("b",)), State.HAS_VALUE)),
    ],
)
def test_schemaless_paths(node):
    """PixieBrix-style paths: object keys, canonical array indices, missing vs null (run builds the slots)."""
    q = Query(node)
    assert [r["id"] for r in pb.run(q, {None: PATH_DOCS})] == [r["id"] for r in run(q, {None: PATH_DOCS})]


def test_schemaless_search():
    docs = [
        _doc(0, {"a": "Big DEAL"}),
        _doc(1, {"a": ["x", "deal"]}),
        _doc(2, {"a": {"n": "deal"}}),
        _doc(3, {"a": 5, "b": "ΣΊΣΥΦΟΣ"}),
        _doc(4, {}),
    ]
    for clauses in ((("deal",),), (("deal", "σίσυφος"),), (("deal",), ("big",)), (("",),)):
        q = Query(Search(clauses, None))
        assert [r["id"] for r in pb.run(q, {None: docs})] == [r["id"] for r in run(q, {None: docs})]


def test_sort_exact_on_big_and_mixed_numbers():
    """Sort keys stay exact past 2**53 and order wrong types number < string < boolean < other."""
    from filterdsl.ast import SortKey

    values = [
        2**53 + 1,
        float(2**53),
        2**53,
        2**53 - 1,
        0.5,
        -3,
        "5",
        True,
        None,
        [1],
        {"v": 1},
        "",
        -(2**62),
    ]
    docs = [_doc(i, {"k": v}, f"2021-01-0{1 + i % 3}T00:00:00.000000Z") for i, v in enumerate(values)]
    for t in (FieldType.NUMBER, FieldType.JSON, FieldType.STRING, FieldType.CURRENCY):
        for desc in (False, True):
            q = Query(sort=(SortKey(Field("k", t), desc),))
            assert [r["id"] for r in pb.run(q, {None: docs})] == [r["id"] for r in run(q, {None: docs})]


@pytest.mark.parametrize("where", ["record", "filter"])
def test_lone_surrogates_are_refused_not_replaced(where):
    """Polars strings are UTF-8: a lone surrogate would become U+FFFD and could match wrongly."""
    docs = [_doc(0, {"k": "x\ufffd\ufffd\ufffdy" if where == "filter" else "x\ud800y"})]
    q = Query(Compare(Field("k", FieldType.STRING), Op.CONTAINS, "\ud800" if where == "filter" else "x"))
    with pytest.raises(FilterError) as err:
        pb.run(q, {None: docs})
    assert err.value.errors[0].code == "not-expressible"


def test_query_frame_on_a_frame_built_once():
    """The build-once workflow: one to_frame, many queries; same ids and order as the reference."""
    dataset, catalog = _dataset(next(c for c in GOOD if c["format"] == "pitchly"))
    frame = None
    for case in GOOD:
        if case["format"] != "pitchly" or case["database"] != GOOD[0]["database"]:
            continue
        query = parse(case["input"], "pitchly", catalog, case["database"])
        if frame is None:
            frame = pb.to_frame(dataset[case["database"]], catalog, case["database"])
        got = pb.query_frame(query, frame, catalog, dataset).get_column("id").to_list()
        assert got == [r["id"] for r in run(query, dataset, catalog)], case["name"]


@pytest.mark.parametrize(
    "node",
    [
        Search((("\ud800",),), None),
        IdIn(("r\udfff",)),
        FieldState(Field("k\ud800", FieldType.JSON), State.NOT_SET),
        Compare(Field("k", FieldType.ENUM), Op.IN, ("a", "\ud800")),
    ],
)
def test_lone_surrogates_anywhere_in_the_query_are_refused(node):
    with pytest.raises(FilterError) as err:
        pb.to_polars(Query(node))
    assert err.value.errors[0].code == "not-expressible"


@pytest.mark.parametrize("op", [Op.EQ, Op.IEQ, Op.CONTAINS, Op.GTE])
@pytest.mark.parametrize("ftype", [FieldType.JSON, FieldType.STRING])
def test_empty_string_values(op, ftype):
    """``data__k=`` (JSON equality) matches the string ""; typed string operators never match EMPTY."""
    docs = _docs("", "x", None, "<missing>", 0)
    node = Compare(Field("k", ftype), op, "")
    for n in (node, Not(node)):
        q = Query(n)
        assert [r["id"] for r in pb.run(q, {None: docs})] == [r["id"] for r in run(q, {None: docs})]
