"""Polars backend vs the in-memory reference: random trap-laden scenarios give the same ordered ids."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from filterdsl.backends import polars as pb
from filterdsl.backends.memory import run
from filterdsl.errors import FilterError

from strategies import Scenario, scenarios

#: Scenarios the Polars backend refused as not-expressible (none expected: the layout covers every node).
REFUSED: list[Scenario] = []
CHECKED: list[Scenario] = []


def _check(sc: Scenario) -> None:
    expected = [r["id"] for r in run(sc.query, sc.dataset, sc.catalog)]
    try:
        got = [r["id"] for r in pb.run(sc.query, sc.dataset, sc.catalog)]
    except FilterError as e:
        assert [d.code for d in e.errors] == ["not-expressible"], e
        REFUSED.append(sc)
        return
    CHECKED.append(sc)
    assert got == expected


@settings(max_examples=200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios())
def test_differential(sc: Scenario) -> None:
    _check(sc)


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(scenarios(weird_keys=True))
def test_differential_weird_keys(sc: Scenario) -> None:
    _check(sc)


def test_refusals_counted() -> None:
    """Runs after the two properties (file order): nothing the strategies draw is refused."""
    assert CHECKED, "the differential tests ran first"
    assert not REFUSED, f"{len(REFUSED)} of {len(REFUSED) + len(CHECKED)} scenarios refused: {REFUSED[:1]}"
