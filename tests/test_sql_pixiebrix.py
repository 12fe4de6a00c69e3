"""PixieBrix query strings (extended lookups, ordering, paging, date ranges) on every SQL engine vs memory."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from sql_engines import ENGINES, require

from filterdsl import FilterError, parse
from filterdsl.backends.memory import run
from filterdsl.backends.sql.runners import run_ids

from strategies import pixiebrix_cases

pytest.importorskip("filterdsl.frontends.pixiebrix")

KEYS = ["a", "b", "0", "first name", "-x", "k'q"]
SCALARS = [None, "", "x", "X", "david", "David", "5", 5, 5.0, 0, 12, True, "true", "a%b", "ü", "2021-01-01"]
LOOKUPS = [
    "",
    "__exact",
    "__isnull",
    "__isnull",
    "__isnull",
    "__iexact",
    "__icontains",
    "__istartswith",
    "__iendswith",
    "__gt",
    "__gte",
    "__lt",
    "__lte",
    "__gte",
    "__lt",
    "__in",
]
VALUES = [
    "x",
    "david",
    "DAVID",
    "5",
    "0",
    "12",
    "5",
    "0",
    "a%b",
    "ü",
    "",
    "x,david",
    "true",
    "false",
    "2021-01-01",
]


def _case():  # type: ignore[no-untyped-def]
    # two-segment filter paths start with "a" or "b" only, as this test has drawn them since ae1d3e5
    return pixiebrix_cases(KEYS, SCALARS, LOOKUPS, VALUES, nested_under=("a", "b"))


@pytest.mark.parametrize("engine", ENGINES)
def test_pixiebrix_differential(engine):
    url = require(engine)

    @settings(
        max_examples=80,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_case())
    def prop(case):
        text, dataset = case
        try:
            query = parse(text, "pixiebrix", lookups="extended")
        except FilterError:
            return  # e.g. a repeated parameter name: the frontend's business
        assert run_ids(query, dataset, engine, url) == [r["id"] for r in run(query, dataset)]

    prop()


@pytest.mark.parametrize("engine", ENGINES)
def test_pixiebrix_keyset_pages(engine):
    """``ordering`` on nested data__ paths (arrays, objects, wrong types) paged with ``after``: the walk
    equals the unpaged order on every engine."""
    from keyset_support import walk

    url = require(engine)

    @settings(
        max_examples=50,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(_case())
    def prop(case):
        text, dataset = case
        try:
            query = parse(text, "pixiebrix", lookups="extended")
        except FilterError:
            return
        by_id = {d["id"]: d for d in dataset[None]}
        expected = [r["id"] for r in run(query.__class__(query.predicate, query.sort), dataset)]
        assert walk(lambda q: run_ids(q, dataset, engine, url), query, 2, by_id) == expected

    prop()
