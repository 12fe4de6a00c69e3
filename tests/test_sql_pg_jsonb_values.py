"""PostgreSQL binds a JSON value as its JSON text cast to jsonb (``CAST($1 AS JSONB)``, folded once by
the planner) instead of ``to_jsonb($1)`` (STABLE: evaluated on every row). The text must be the jsonb
``to_jsonb`` made, or an equality or range would move: checked on PostgreSQL itself for doubles with
long and short expansions, integers past 2^53, non-finite doubles and strings with escapes."""

from __future__ import annotations

import pytest
from sql_engines import _conn, require

from filterdsl.ast import Compare, Field, FieldType, Op, Query
from filterdsl.backends.sql import to_sql
from filterdsl.backends.sql.shape import json_number

NUMBERS = [0, 5, -5, 0.1, 0.30000000000000004, 1e300, -0.0, 5e-324, 2**53, 2**53 + 1, 10**30 + 1, 1 / 3, 1e-7]
NUMBERS += [float("inf"), float("-inf"), float("nan"), 10**400]
STRINGS = ["x", " ", 'quote " and \\ backslash', "é", "\U0001d11e astral", "line\nbreak\ttab", "\x01"]


def test_json_number_without_a_server() -> None:
    assert (
        json_number(5) == "5.0"
        and json_number(0.1) == "0.1"
        and json_number(2**53 + 1) == "9007199254740992.0"
    )
    assert json_number(10**400) == str(10**400)  # too large for a double: kept exact, no OverflowError
    assert (json_number(float("inf")), json_number(float("nan"))) == ('"Infinity"', '"NaN"')


@pytest.mark.parametrize("value", NUMBERS, ids=repr)
def test_number_text_is_what_to_jsonb_made(value) -> None:
    require("postgres")
    with _conn("postgres").cursor() as cur:
        if isinstance(value, int) and abs(value) > 10**300:  # no double holds it: to_jsonb cannot either
            cur.execute(
                "SELECT CAST(%s AS JSONB) = CAST(%s AS NUMERIC)::text::jsonb",
                [json_number(value), str(value)],
            )
        else:
            cur.execute(
                "SELECT to_jsonb(CAST(%s AS DOUBLE PRECISION)) = CAST(%s AS JSONB)",
                [value, json_number(value)],
            )
        assert cur.fetchone() == (True,)


@pytest.mark.parametrize("value", STRINGS, ids=repr)
def test_string_text_is_what_to_jsonb_made(value) -> None:
    require("postgres")
    sql, params = to_sql(Query(Compare(Field("k", FieldType.STRING), Op.EQ, value), database="d"), "postgres")
    assert "CAST(%s AS JSONB)" in sql and "to_jsonb" not in sql.lower()
    with _conn("postgres").cursor() as cur:
        cur.execute("SELECT to_jsonb(CAST(%s AS TEXT)) = CAST(%s AS JSONB)", [value, params[0]])
        assert cur.fetchone() == (True,)
