"""Schemaless paths (PixieBrix ``data__a__0__b``): object keys, canonical array indices only, JSON types
kept strict (a number never equals a string), NOT SET vs JSON null, on every engine vs memory."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sql_engines import ENGINES, require

from filterdsl.ast import And, Compare, Field, FieldState, FieldType, Node, Not, Op, Or, Query, SortKey, State
from filterdsl.backends.memory import run
from filterdsl.backends.sql.runners import run_ids

SEGS = ["a", "b", "0", "1", "01", "-1", "a.b", 'q"', "ü"]
SCALARS = st.sampled_from([None, "", "x", "X", "5", 5, 5.0, 0, True, False, "true", "a%b", "ü", "1e3", 1000])
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(SEGS), inner, max_size=3),
    max_leaves=8,
)


@st.composite
def _path(draw) -> Field:
    segs = draw(st.lists(st.sampled_from(SEGS), min_size=1, max_size=3))
    return Field(segs[0], FieldType.JSON, tuple(segs[1:]))


@st.composite
def _leaf(draw) -> Node:
    f = draw(_path())
    kind = draw(st.integers(0, 4))
    if kind == 0:
        return FieldState(f, draw(st.sampled_from(list(State))))
    if kind == 1:
        return Compare(f, Op.EQ, draw(st.sampled_from(["x", "X", "5", "", "true", "ü"])))
    if kind == 2:
        return Compare(
            f, draw(st.sampled_from([Op.EQ, Op.GT, Op.LTE])), draw(st.sampled_from([5, 0, 5.0, 999.5]))
        )
    if kind == 3:
        return Compare(f, Op.EQ, draw(st.booleans()))
    return Compare(
        f,
        draw(st.sampled_from([Op.CONTAINS, Op.IEQ, Op.STARTS_WITH, Op.ENDS_WITH])),
        draw(st.sampled_from(["x", "%", "a%b", "ü", "1e"])),
    )


@st.composite
def _case(draw):
    docs = [
        {
            "id": f"r{i}",
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": draw(st.dictionaries(st.sampled_from(SEGS), JSON, max_size=4)),
        }
        for i in range(draw(st.integers(1, 6)))
    ]
    leaves = draw(st.lists(_leaf(), min_size=1, max_size=3))
    node: Node = leaves[0] if len(leaves) == 1 else (And if draw(st.booleans()) else Or)(tuple(leaves))
    if draw(st.booleans()):
        node = Not(node)
    sort = (SortKey(draw(_path()), draw(st.booleans())),) if draw(st.booleans()) else ()
    return Query(node, sort), {None: docs}


@pytest.mark.parametrize("engine", ENGINES)
def test_paths_differential(engine):
    url = require(engine)

    @settings(
        max_examples=100,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_case())
    def prop(case):
        query, dataset = case
        assert run_ids(query, dataset, engine, url) == [r["id"] for r in run(query, dataset)]

    prop()


@pytest.mark.parametrize("engine", ENGINES)
def test_canonical_index_only(engine):
    url = require(engine)
    docs = [
        {
            "id": "arr",
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {"a": ["x", "y"]},
        },
        {
            "id": "obj",
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {"a": {"01": "y", "1": "y"}},
        },
        {
            "id": "str",
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {"a": "y"},
        },
    ]
    ds = {None: docs}
    # "1" indexes the array and names the object key; "01" only names a key; a string has no children
    for segs, expected in ((("a", "1"), ["arr", "obj"]), (("a", "01"), ["obj"]), (("a", "0"), [])):
        q = Query(Compare(Field(segs[0], FieldType.JSON, segs[1:]), Op.EQ, "y"))
        mem = [r["id"] for r in run(q, ds)]
        assert sorted(mem) == sorted(expected)
        assert run_ids(q, ds, engine, url) == mem
