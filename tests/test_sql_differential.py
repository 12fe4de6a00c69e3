"""Hypothesis differential test: random trap-laden records and random ASTs give the same ordered ids
on SQLite, DuckDB, PostgreSQL and MariaDB as on the in-memory reference engine."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from sql_engines import ENGINES, lower_diverges, refuses_numbers, require

from filterdsl.ast import Compare, Op, Search, walk
from filterdsl.backends.memory import run
from filterdsl.backends.sql.runners import run_ids
from filterdsl.errors import FilterError

from strategies import Scenario, scenarios

_CI_OPS = (Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH, Op.IEQ)


def _folds(sc: Scenario) -> bool:
    return any(
        isinstance(n, Search) or (isinstance(n, Compare) and n.op in _CI_OPS)
        for n in walk(sc.query.predicate)
    )


def _check(engine: str, url: str | None, sc: Scenario) -> None:
    expected = [r["id"] for r in run(sc.query, sc.dataset, sc.catalog)]
    if refuses_numbers(engine, sc.dataset):  # a number the engine reads inexactly: refused, located
        with pytest.raises(FilterError) as e:
            run_ids(sc.query, sc.dataset, engine, url, sc.catalog)
        assert [d.code for d in e.value.errors] == ["not-expressible"] and "/data/" in str(e.value)
        return
    got = run_ids(sc.query, sc.dataset, engine, url, sc.catalog)
    if got != expected and _folds(sc) and lower_diverges(engine, sc.dataset):
        return  # documented: this engine's lower() differs from str.lower() on a stored string (docs/sql.md)
    assert got == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_differential(engine: str) -> None:
    url = require(engine)

    @settings(
        max_examples=150,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(scenarios())
    def prop(sc: Scenario) -> None:
        _check(engine, url, sc)

    prop()


@pytest.mark.parametrize("engine", ENGINES)
def test_differential_weird_keys(engine: str) -> None:
    """Keys with JSON-path metacharacters (``a.b``, ``$dollar``, ``a[0]``) are just keys."""
    url = require(engine)

    @settings(
        max_examples=50,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(scenarios(weird_keys=True))
    def prop(sc: Scenario) -> None:
        _check(engine, url, sc)

    prop()
