"""``compile_parts``, the SQL backend's structured hand-off to the integrations: its text is
``to_sql``'s (paramstyle named) byte for byte, and the positions it gives are right: every placeholder,
every qualifier of the main table (an empty span for a bare top-level column), the WHERE predicate and
each ORDER BY key with its direction. On the corpus (sorted and unsorted) and hypothesis scenarios, in
the four verified dialects, in the JSON and the columns layout."""

from __future__ import annotations

import dataclasses
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from test_sql_corpus import GOOD, _query

from filterdsl import to_sql
from filterdsl.backends.sql import ColumnsLayout
from filterdsl.backends.sql.parts import compile_parts

from strategies import Scenario, scenarios

DIALECTS = ["sqlite", "postgres", "mysql", "duckdb"]
QUOTED_ALIAS = {'"r0"', "`r0`"}


def _check(query: Any, dialect: str, layout: Any = None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text, params = to_sql(query, dialect, layout, paramstyle="named")
        parts, got = compile_parts(query, dialect, layout)
    assert parts.text == text
    assert got == params
    assert sorted(name for _, _, name in parts.placeholders) == sorted(params)
    for s, e, name in parts.placeholders:
        assert text[s:e] == ":" + name
    for s, e in parts.alias_refs:
        assert text[s:e] in QUOTED_ALIAS | {""}
        if s == e:  # a bare column: an identifier follows
            assert text[s] in '"`'
    assert text[parts.from_at : parts.from_at + 5] == "FROM "
    assert parts.first_end <= parts.from_at
    if parts.where_body is not None:
        assert text[parts.where_body - len("WHERE ") : parts.where_body] == "WHERE "
        assert parts.where_end is not None and parts.where_end <= len(text)
    keys = parts.order
    assert (parts.order_at is None) == (not keys) == (not query.sort and "ORDER BY" not in text)
    for i, o in enumerate(keys):
        tail = text[o.end : keys[i + 1].start] if i + 1 < len(keys) else text[o.end :]
        assert tail.startswith(" DESC") == o.descending
    assert parts.inline


@pytest.mark.parametrize("dialect", DIALECTS)
def test_corpus_parts(dialect: str) -> None:
    n = 0
    for case in GOOD:
        q = _query(case)
        for variant in (q, dataclasses.replace(q, skip=0, limit=None), dataclasses.replace(q, sort=())):
            _check(variant, dialect)
            n += 1
    assert n == 3 * len(GOOD)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_generated_parts(dialect: str) -> None:
    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(scenarios())
    def prop(sc: Scenario) -> None:
        _check(sc.query, dialect)
        try:
            layout = ColumnsLayout(
                columns={
                    db.id: {f.id: f"c{i}" for i, f in enumerate(db.fields)}
                    for db in sc.catalog.databases  # type: ignore[union-attr]
                }
            )
            to_sql(sc.query, dialect, layout, paramstyle="named")
        except Exception:
            return  # a filter the columns layout refuses: nothing to hand over
        _check(sc.query, dialect, layout)

    prop()


def test_parts_are_cached_per_shape() -> None:
    from filterdsl import parse
    from filterdsl.backends.sql import parts

    parts._cache.clear()
    a, pa = compile_parts(parse("data__a=1&ordering=-id", "pixiebrix"), "sqlite")
    b, pb = compile_parts(parse("data__a=2&ordering=-id", "pixiebrix"), "sqlite")
    assert a is b and len(parts._cache) == 1  # one shape, one entry
    assert list(pa.values()) != list(pb.values())  # each query's own values
