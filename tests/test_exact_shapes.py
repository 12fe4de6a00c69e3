"""Issue 26, P1-P4: the shapes an outside generator found (integers past 2^53 and past 64 bits, -0.0,
the two-character lowering of ``İ``), pinned on every engine that runs here.

Each test states the in-memory engine's answer by hand (Python's exact ``int``/``float`` comparison and
``str.lower``), then checks each engine gives it, or refuses loudly where docs/semantics.md says so.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from filterdsl.ast import Compare, Const, Field, FieldType, Node, Op, Query, Search, SortKey
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
