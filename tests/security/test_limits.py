"""Limits (SPEC 6) hold before expensive work, and nothing reaches Python's recursion limit."""

from __future__ import annotations

import json

import pytest

from filterdsl import FilterError, parse
from filterdsl.api import parse_result
from filterdsl.ast import And, Compare, Field, FieldType, Not, Op, Or, Query, from_json, to_json
from filterdsl.backends.memory import MAX_DEPTH, compile_predicate
from filterdsl.options import Limits, max_ast_depth

from conftest import CORPUS

CAT = str(CORPUS / "catalog.json")
ORDERS = "ixuPJwBRqtRP3GpoM"
NUM = Field("a", FieldType.NUMBER)


def codes(src: object, fmt: str = "pitchly", **kw: object) -> list[str]:
    res = parse_result(src, fmt, CAT, ORDERS, **kw)
    assert res.query is None or not res.errors
    return [d.code for d in res.errors]


def chain(levels: int):
    n = Compare(NUM, Op.EQ, 1)
    for i in range(levels):
        n = Or((And((n, Not(Compare(NUM, Op.GT, i)))), Compare(NUM, Op.EQ, -i)))
    return n


@pytest.mark.parametrize("text", ["[" * 200_000, '{"a":' * 100_000, "{a:" * 50_000, "[{" * 50_000])
def test_deep_json_text(text: str) -> None:
    assert codes(text) == ["too-deep"]


def test_deep_python_objects() -> None:
    deep: dict = {}
    cur = deep
    for _ in range(100_000):
        cur["filter"] = {}
        cur = cur["filter"]
    assert codes(deep) == ["too-deep"]


def test_deep_relational_nesting_is_too_deep() -> None:
    client, parent = "RyM8SyrYrceRsrLJd", "nzS3PxpdTR8nWqYPv"
    entry: dict = {"filters": [{"by": "is", "value": "x"}]}
    inner = {"fields": {"xEfek48BRpD3kAksh": entry}}
    for _ in range(40):
        inner = {"fields": {parent: inner}}
    assert "too-deep" in codes({"fields": {client: inner}})


def test_input_bytes_limit_before_parsing() -> None:
    big = '{"in": [' + ",".join(['"x"'] * 300_000) + "]}"
    assert codes(big) == ["too-large"]
    assert codes("a" * (1 << 20) + "b", "search") == ["too-large"]
    assert codes(big, "ast") == ["too-large"]


def test_list_and_term_limits() -> None:
    assert codes({"in": ["x"] * 10_001}) == ["too-large"]
    assert codes({"in": ["x"] * 10_000}) == []
    assert codes("|".join("t" * 101), "search") == ["too-large"]
    assert codes({"in": ["x"] * 11}, limits=Limits(max_list=10)) == ["too-large"]


def test_ast_json_limits_and_cycles() -> None:
    deep = to_json(Query(chain(max_ast_depth(Limits()))))  # deeper than any frontend output
    assert codes(json.dumps(deep), "ast") == ["too-deep"]
    ok = to_json(Query(chain(30)))
    assert codes(json.dumps(ok), "ast") == []
    cyclic: dict = {"node": "not"}
    cyclic["item"] = cyclic
    assert codes({"filterdsl_ast": 1, "predicate": cyclic}, "ast") == ["bad-ast-json"]
    many = to_json(Query(Or(tuple(Compare(NUM, Op.EQ, i) for i in range(10_001)))))
    assert codes(many, "ast") == ["too-large"]


def test_ast_json_is_iterative() -> None:
    # 2,000 levels: far past Python's recursion limit for a recursive serialiser.
    n = Compare(NUM, Op.EQ, 1)
    for _ in range(2_000):
        n = Not(n)
    out = to_json(Query(n))
    back = from_json(out)
    for _ in range(2_000):
        assert isinstance(back.predicate, Not)
        back = Query(back.predicate.item)
    assert back.predicate == Compare(NUM, Op.EQ, 1)


def test_memory_compiler_refuses_beyond_its_depth() -> None:
    compile_predicate(chain((MAX_DEPTH - 2) // 2))
    with pytest.raises(FilterError) as e:
        compile_predicate(chain(MAX_DEPTH))
    assert e.value.errors[0].code == "too-deep"


def test_frontend_depth_stays_within_every_compiler() -> None:
    assert max_ast_depth(Limits()) < MAX_DEPTH


@pytest.mark.parametrize(
    "bad",
    [
        {
            "filterdsl_ast": 1,
            "predicate": {
                "node": "compare",
                "field": {"key": "a", "type": "number"},
                "op": "eq",
                "value": {"$ne": None},
            },
        },
        {"filterdsl_ast": 1, "predicate": {"node": "const", "value": "yes"}},
        {"filterdsl_ast": 1, "predicate": {"node": "const", "value": True}, "limit": "5"},
        {"filterdsl_ast": 1, "predicate": {"node": "const", "value": True}, "skip": -1},
        {
            "filterdsl_ast": 1,
            "predicate": {"node": "compare", "field": {"key": 5, "type": "number"}, "op": "eq", "value": 1},
        },
        {"filterdsl_ast": 1, "predicate": {"node": "and", "items": {"x": 1}}},
        {"filterdsl_ast": 2, "predicate": {"node": "const", "value": True}},
        [],
        "null",
        "{",
    ],
)
def test_bad_ast_json_is_a_filter_error(bad: object) -> None:
    with pytest.raises(FilterError):
        parse(bad, "ast")
