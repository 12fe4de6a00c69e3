"""Date values compare by day only when their first 10 characters are a real ``YYYY-MM-DD`` (SPEC 1.4):
every engine's day validation agrees with ``records.valid_day`` on a grid of near-miss strings."""

from __future__ import annotations

import pytest
from sql_engines import ENGINES, require

from filterdsl.ast import Compare, Field, FieldType, Not, Op, Query, SortKey
from filterdsl.backends.memory import run
from filterdsl.backends.sql.runners import run_ids

YEARS = ["0000", "0001", "1900", "2000", "2019", "2020", "9999", "-020", "+020", " 202", "2O20"]
MONTHS = ["00", "01", "02", "04", "09", "12", "13", "1-"]
DAYS = ["00", "01", "28", "29", "30", "31", "32", " 1", "3a"]
VALUES: list[object] = [f"{y}-{m}-{d}" for y in YEARS for m in MONTHS for d in DAYS]
VALUES += [str(v) + "T23:59:59.999Z" for v in VALUES[::7]] + ["2020-1-5", "garbage", "", "2020-01-23"]
#: digits that are not ASCII (a regex \d matches them in some engines and locales): never a day
VALUES += ["٢٠٢٠-01-23", "２０２０-01-23", "2020-٠1-23", "2020-01-2٣", "𝟐𝟎𝟐𝟎-01-23"]
#: not strings: PostgreSQL and MariaDB test no JSON kind for dates (the text of any of these is JSON text,
#: which never starts with a day), so these show that none of them passes
VALUES += [20200123, 2020.5, -2020, True, False, None, ["2020-01-23"], {"d": "2020-01-23"}, [], {}]
DOCS = [
    {
        "id": f"r{i:04d}",
        "created_at": "2021-01-01T00:00:00.000000Z",
        "updated_at": None,
        "removed_at": None,
        "data": {"d": v},
    }
    for i, v in enumerate(VALUES)
]
DATASET = {"main": DOCS}
D = Field("d", FieldType.DATE)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "query",
    [
        Query(Compare(D, Op.GTE, "0001-01-01"), database="main"),
        Query(Not(Compare(D, Op.LT, "2020-01-01")), database="main"),
        Query(Compare(D, Op.EQ, "2020-02-29"), database="main"),
        Query(sort=(SortKey(D),), database="main"),
        Query(sort=(SortKey(D, True),), skip=3, limit=50, database="main"),
    ],
    ids=["valid", "not-before", "leap-day", "sort", "sort-desc-page"],
)
def test_day_validation_matches_memory(engine, query):
    url = require(engine)
    expected = [r["id"] for r in run(query, DATASET)]
    assert run_ids(query, DATASET, engine, url) == expected
