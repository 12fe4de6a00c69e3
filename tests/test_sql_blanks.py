"""Whitespace is a value: ``" "`` is HAS VALUE, ``"a "`` is not ``"a"`` (MariaDB's PAD SPACE
collations say otherwise; filterdsl compares bytes and lengths there)."""

from __future__ import annotations

import pytest
from sql_engines import ENGINES, require

from filterdsl.ast import Compare, Field, FieldState, FieldType, Not, Op, Query, SortKey, State
from filterdsl.backends.memory import run
from filterdsl.backends.sql.runners import run_ids

VALUES = ["", " ", "  ", "a", "a ", " a", "\t", "\u00a0", "A "]
DATASET = {
    "main": [
        {
            "id": f"r{i}",
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {"s": v, "t": [v]},
        }
        for i, v in enumerate(VALUES)
    ]
}
S = Field("s", FieldType.STRING)
QUERIES = {
    "empty": FieldState(S, State.EMPTY),
    "has-value": FieldState(S, State.HAS_VALUE),
    "eq-a": Compare(S, Op.EQ, "a"),
    "eq-a-space": Compare(S, Op.EQ, "a "),
    "not-eq-a": Not(Compare(S, Op.EQ, "a")),
    "contains-space": Compare(S, Op.CONTAINS, " "),
    "contains-empty": Compare(S, Op.CONTAINS, ""),
    "ends-space": Compare(S, Op.ENDS_WITH, " "),
    "gt-a": Compare(S, Op.GT, "a"),
    "in": Compare(Field("s", FieldType.ENUM), Op.IN, ("a", " ")),
    "tags": Compare(Field("t", FieldType.ENUM_TAGS), Op.HAS_ANY, ("a",)),
}


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_blanks(engine, name):
    url = require(engine)
    query = Query(QUERIES[name], sort=(SortKey(S),), database="main")
    assert run_ids(query, DATASET, engine, url) == [r["id"] for r in run(query, DATASET)]
