"""The versioned AST JSON form round-trips exactly, and rejects malformed input with FilterError."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filterdsl import FilterError
from filterdsl.ast import FALSE, TRUE, And, IdIn, InTrash, Not, Or, Query, and_, from_json, not_, or_, to_json

from strategies import scenarios


@settings(max_examples=150, deadline=None)
@given(scenarios(weird_keys=True))
def test_round_trip_exact(sc):
    q = sc.query
    text = json.dumps(to_json(q), ensure_ascii=False)
    back = from_json(json.loads(text))
    assert back == q
    assert hash(back) == hash(q)
    assert json.dumps(to_json(back), ensure_ascii=False) == text  # byte-identical (deterministic)


@settings(max_examples=200, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=5),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
        max_leaves=20,
    )
)
def test_from_json_garbage_raises_filter_error_only(obj):
    try:
        from_json(obj if isinstance(obj, dict) else {"x": obj})
    except FilterError as e:
        assert e.diagnostics[0].code == "bad-ast-json"


def test_builders_flatten_and_absorb():
    a, b = IdIn(("x",)), Not(InTrash())
    assert and_(And((a, b)), TRUE) == And((a, b))
    assert or_(a, TRUE) == TRUE
    assert and_(a, FALSE) == FALSE
    assert or_() == FALSE and and_() == TRUE
    assert not_(not_(a)) == a
    assert isinstance(or_(Or((a, b)), a), Or) and len(or_(Or((a, b)), a).items) == 3


def test_version_checked():
    with pytest.raises(FilterError):
        from_json({**to_json(Query()), "filterdsl_ast": 99})
