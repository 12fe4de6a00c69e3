"""Keyset pagination (``Query.after``) on every SQL engine, in both layouts: walking all pages with the
cursor of each page's last row gives exactly the unpaged order of the in-memory reference engine."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from keyset_support import unpaged, walk
from sql_engines import ENGINES, lower_diverges, refuses_numbers, require
from test_sql_columns import _ambiguous, _load

from filterdsl.backends.memory import run
from filterdsl.backends.sql import to_sql
from filterdsl.backends.sql.runners import run_ids
from filterdsl.errors import FilterError

from strategies import Scenario, scenarios

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)


def _expected(sc: Scenario, dataset) -> list[str]:
    return [r["id"] for r in run(unpaged(sc.query), dataset, sc.catalog)]


@pytest.mark.parametrize("engine", ENGINES)
def test_json_layout_pages(engine: str) -> None:
    url = require(engine)

    @SETTINGS
    @given(scenarios(), st.integers(1, 4))
    def prop(sc: Scenario, size: int) -> None:
        if refuses_numbers(engine, sc.dataset):
            return  # the runner refuses the dataset (test_sql_differential pins that)
        by_id = {d["id"]: d for d in sc.dataset["main"]}
        expected = _expected(sc, sc.dataset)
        got = walk(lambda q: run_ids(q, sc.dataset, engine, url, sc.catalog), sc.query, size, by_id)
        if got != expected and lower_diverges(engine, sc.dataset):
            return  # documented lower() divergence (docs/sql.md)
        assert got == expected

    prop()


@pytest.mark.parametrize("engine", ENGINES)
def test_columns_layout_pages(engine: str) -> None:
    require(engine)

    @SETTINGS
    @given(scenarios().filter(lambda sc: not _ambiguous(sc.query)), st.integers(1, 4))
    def prop(sc: Scenario, size: int) -> None:
        con, layout, clean = _load(engine, sc)
        try:
            by_id = {d["id"]: d for d in clean["main"]}
            expected = _expected(sc, clean)

            def page(q):
                sql, params = to_sql(q, engine, layout)
                return [r[0] for r in con.run(sql, params)]

            got = walk(page, sc.query, size, by_id)
            if got != expected and lower_diverges(engine, clean):
                return
            assert got == expected
        finally:
            con.close()

    prop()


@pytest.mark.parametrize(
    "engine, layout", [("datafusion", "columns"), ("clickhouse", "columns"), ("clickhouse", "json")]
)
def test_columnar_pages(engine: str, layout: str) -> None:
    from test_sql_columnar import _clean, _ids, _lower_diverges, _refusal_explained, _require

    _require(engine)

    @SETTINGS
    @given(scenarios().filter(lambda sc: not _ambiguous(sc.query)), st.integers(1, 4))
    def prop(sc: Scenario, size: int) -> None:
        data = sc.dataset if layout == "json" else _clean(sc)
        if layout == "json" and refuses_numbers(engine, data):
            return
        by_id = {d["id"]: d for d in data["main"]}
        try:
            got = walk(lambda q: _ids(q, data, engine, layout, sc.catalog), sc.query, size, by_id)
        except FilterError as e:
            assert _refusal_explained(engine, e, sc.query, data, sc.catalog), e.diagnostics[0].message
            return
        expected = _expected(sc, data)
        if got != expected and _lower_diverges(engine, data):
            return  # documented lower() divergence (docs/sql.md)
        assert got == expected

    prop()


def test_a_cursor_that_does_not_fit_is_refused_before_compiling() -> None:
    from filterdsl import ast as A
    from filterdsl.semantics.cursor import cursor_of

    doc = {
        "id": "x",
        "created_at": "2020-01-01T00:00:00.000000Z",
        "updated_at": None,
        "removed_at": None,
        "data": {"n": 1},
    }
    q = A.Query(sort=(A.SortKey(A.Field("n", A.FieldType.NUMBER)),), limit=5)
    other = dataclasses.replace(q, sort=(A.SortKey(A.Field("n", A.FieldType.NUMBER), True),))
    for bad in (
        dataclasses.replace(other, after=cursor_of(q, doc)),  # made for another sort
        dataclasses.replace(q, after=A.Cursor((), doc["created_at"], "x")),  # no key for the sort
    ):
        with pytest.raises(FilterError) as e:
            to_sql(bad, "postgres")
        assert e.value.diagnostics[0].code == "bad-cursor"


def test_nul_in_a_cursor_is_refused_at_the_cursor() -> None:
    """A cursor's values are bound like the filter's, so the NUL rule holds for them, located in
    the cursor (not at the query's root) on engines that cannot hold a NUL; others compile it."""
    from filterdsl import next_cursor, parse

    q = parse("ordering=data__name", format="pixiebrix")
    row = {"id": "r\x001", "created_at": "2021-01-01T00:00:00Z", "data": {"name": "a\x00b"}}
    paged = parse(f"ordering=data__name&after={next_cursor(q, row)}", format="pixiebrix")
    with pytest.raises(FilterError) as e:
        to_sql(paged, dialect="postgres")
    assert [(d.code, d.location.pointer) for d in e.value.diagnostics] == [("bad-value", "/after/keys/0/1")]
    named = parse("ordering=created_at", format="pixiebrix")
    by_id = parse(f"ordering=created_at&after={next_cursor(named, row)}", format="pixiebrix")
    with pytest.raises(FilterError) as e:
        to_sql(by_id, dialect="postgres")
    assert [(d.code, d.location.pointer) for d in e.value.diagnostics] == [("bad-value", "/after/id")]
    sql, params = to_sql(paged, dialect="duckdb")  # DuckDB holds a NUL: compiled, the value bound (as JSON)
    assert '"a\\u0000b"' in params and "\x00" not in sql and "u0000" not in sql
