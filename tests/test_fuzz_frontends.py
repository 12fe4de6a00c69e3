"""Arbitrary input never escapes as anything but FilterError, and every diagnostic is located."""

from __future__ import annotations

import json
import os

from hypothesis import given, settings
from hypothesis import strategies as st

from filterdsl import FilterError, load_catalog, parse

from conftest import CORPUS

CAT = load_catalog(CORPUS / "catalog.json")
#: A long run: FILTERDSL_FUZZ_EXAMPLES=20000 python -m pytest tests/test_fuzz_frontends.py
LONG = int(os.environ.get("FILTERDSL_FUZZ_EXAMPLES", "0"))


def examples(n: int) -> int:
    return LONG or n


KEYS = st.sampled_from(
    [
        "fields",
        "filters",
        "by",
        "value",
        "conjunction",
        "include",
        "filter",
        "sort",
        "limit",
        "skip",
        "in",
        "removedAt",
        "search",
        "modifiedSince",
        "databaseId",
        "secretKey",
        "Nb6uqwKdxh3BFX3De",
        "RyM8SyrYrceRsrLJd",
        "59giDo5wnnLqurNpF",
        "McGDrXSRoEuXvnxZs",
        "xEfek48BRpD3kAksh",
        "is",
        "contains",
        "is-empty",
        "has-any-of",
        "$ne",
        "",
        "val",
    ]
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(["and", "or", "is", "contains", "is-empty", "2020-01-23", "x", 1, -1])
)
JSONISH = st.recursive(
    SCALARS, lambda c: st.lists(c, max_size=4) | st.dictionaries(KEYS, c, max_size=4), max_leaves=40
)


def _check(source):
    try:
        parse(source, catalog=CAT, database="ixuPJwBRqtRP3GpoM")
    except FilterError as e:
        assert e.diagnostics
        for d in e.diagnostics:
            assert d.code and d.message
            assert d.location.pointer is not None or d.location.line is not None


@settings(max_examples=examples(400), deadline=None)
@given(JSONISH)
def test_pitchly_objects(obj):
    _check(obj)


@settings(max_examples=examples(200), deadline=None)
@given(JSONISH)
def test_pitchly_json_text(obj):
    try:
        text = json.dumps(obj)
    except ValueError:
        return
    _check(text)


@settings(max_examples=examples(200), deadline=None)
@given(st.text(max_size=60))
def test_pitchly_arbitrary_text(text):
    _check(text)


def test_huge_input_rejected_before_parsing():
    try:
        parse(" " * (1 << 20) + "{}", catalog=CAT, database="ixuPJwBRqtRP3GpoM")
    except FilterError as e:
        assert e.errors[0].code == "too-large"
    else:
        raise AssertionError("expected too-large")


RELAXED = st.text(alphabet="{}[],:\"'/*\n\t -.0123456789eEtrufalsnxyz_$\\", max_size=80)


@settings(max_examples=examples(400), deadline=None)
@given(RELAXED)
def test_relaxed_json_text(text):
    _check(text)


@settings(max_examples=examples(200), deadline=None)
@given(JSONISH)
def test_relaxed_rendering_of_objects(obj):
    """Objects written the docs' way (unquoted keys, trailing commas, comments) parse like their JSON."""
    import re

    try:
        strict = json.dumps(obj)
    except ValueError:
        return

    def relax(m: re.Match) -> str:
        tok = m.group()
        if tok in "}]":
            return "," + tok  # a trailing comma (strings are matched whole, so never touched)
        key = re.fullmatch(r'"([A-Za-z_][A-Za-z0-9_]*)"\s*:', tok)
        return f"{key.group(1)}: // c\n" if key else tok

    relaxed = re.sub(r'"(?:[^"\\]|\\.)*"\s*:|"(?:[^"\\]|\\.)*"|[}\]]', relax, strict)
    relaxed = relaxed.replace("{,", "{").replace("[,", "[")
    from filterdsl.api import parse_result

    a = parse_result(strict, catalog=CAT, database="ixuPJwBRqtRP3GpoM")
    b = parse_result(relaxed, catalog=CAT, database="ixuPJwBRqtRP3GpoM")
    assert a.query == b.query
    assert [d.code for d in a.diagnostics] == [d.code for d in b.diagnostics]
