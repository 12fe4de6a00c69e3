"""PixieBrix query strings (schemaless paths, extended lookups, ordering, paging, date ranges) on the
Polars backend vs memory: the path slots, JSON-typed columns and sort ranks of the Polars layout."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from filterdsl import FilterError, parse
from filterdsl.backends.memory import run
from filterdsl.backends.polars import compiler as pb

from strategies import pixiebrix_cases

KEYS = ["a", "b", "0", "first name", "-x", "k'q", '["a"]#str']
SCALARS = [
    None,
    "",
    "x",
    "X",
    "david",
    "David",
    "5",
    5,
    5.0,
    0,
    12,
    2**53 + 1,
    0.5,
    True,
    "true",
    "a%b",
    "ü",
    "ΣΊΣΥΦΟΣ",
    "2021-01-01",
]
LOOKUPS = [
    "",
    "__exact",
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
    "__in",
]
VALUES = [
    "x",
    "david",
    "DAVID",
    "5",
    "0",
    "12",
    "0.5",
    "a%b",
    "ü",
    "σίσυφος",
    "",
    "x,david",
    "true",
    "2021-01-01",
]


def _case():  # type: ignore[no-untyped-def]
    return pixiebrix_cases(KEYS, SCALARS, LOOKUPS, VALUES)


def test_pixiebrix_differential():
    counts = {"checked": 0, "refused": 0}

    @settings(
        max_examples=150,
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
        try:
            got = [r["id"] for r in pb.run(query, dataset)]
        except FilterError as e:
            assert [d.code for d in e.errors] == ["not-expressible"], e
            counts["refused"] += 1
            return
        counts["checked"] += 1
        assert got == [r["id"] for r in run(query, dataset)]

    prop()
    assert counts["checked"] > 0 and counts["refused"] == 0, counts
