"""The one day regex (``semantics.days.DAY_PREFIX``) that SQL engines and MongoDB run says what
``day_of`` says: a text starts with a real ``YYYY-MM-DD`` (SPEC 1.4). Engines run it in their own regex
dialects (tests/test_sql_dates.py, the Mongo tests); here Python's ``re`` checks the pattern itself on
every month/day pair 00-99 of the years where the calendar rules change, on February 29 and 28 of every
year 0000-9999, and on random strings over the characters a day is made of."""

from __future__ import annotations

import random
import re

from filterdsl.backends.sql.dialects.columnar import DAY_PREFIX_NO_LOOKAHEAD
from filterdsl.semantics.days import DAY_PREFIX, day_of

RX = re.compile(DAY_PREFIX)
YEARS = [
    0,
    1,
    2,
    3,
    4,
    100,
    400,
    1582,
    1600,
    1700,
    1800,
    1900,
    1999,
    2000,
    2019,
    2020,
    2023,
    2024,
    2100,
    2400,
    9996,
    9999,
]


def agrees(text: str) -> bool:
    return bool(RX.match(text)) == (day_of(text) is not None)


def test_every_month_day_pair_of_the_rule_years() -> None:
    wrong = [
        f"{y:04d}-{m:02d}-{d:02d}"
        for y in YEARS
        for m in range(100)
        for d in range(100)
        if not agrees(f"{y:04d}-{m:02d}-{d:02d}")
    ]
    assert wrong == []


def test_february_of_every_year() -> None:
    texts = [f"{y:04d}-02-{d}" for y in range(10000) for d in ("28", "29", "30")]
    assert [t for t in texts if not agrees(t)] == []
    # the leap years the regex accepts are exactly the Gregorian ones (not 1900, 2100; 2000, 2400)
    assert RX.match("2000-02-29") and RX.match("2400-02-29") and RX.match("2024-02-29")
    assert not RX.match("1900-02-29") and not RX.match("2100-02-29") and not RX.match("2023-02-29")


def test_random_strings_and_suffixes() -> None:
    rnd = random.Random(20261202)
    alphabet = "0123456789-:T Z\n/x"
    texts = ["".join(rnd.choice(alphabet) for _ in range(rnd.randint(8, 14))) for _ in range(100_000)]
    texts += [
        "2020-01-23T10:00:00Z",
        "2020-01-23\n",
        "2020-01-23x",
        "2020-1-23",
        "０２０-01-23",
        "٢٠٢٠-01-23",
    ]
    assert [t for t in texts if not agrees(t)] == []


def test_columnar_variant_differs_only_in_year_0000() -> None:
    """Rust regex and re2 have no look-ahead: their regex also accepts year 0000 (refused there by
    ``text >= '0001'``) and nothing else."""
    rx = re.compile(DAY_PREFIX_NO_LOOKAHEAD)
    for y in YEARS:
        for m in range(1, 13):
            for d in (1, 28, 29, 30, 31):
                t = f"{y:04d}-{m:02d}-{d:02d}"
                assert bool(rx.match(t)) == (
                    bool(RX.match(t)) or (y == 0 and day_of(f"2000{t[4:]}") is not None)
                )
