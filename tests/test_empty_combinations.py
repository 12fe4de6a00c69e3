"""An AND of nothing holds and an OR of nothing does not, on every backend (the AST form can carry
``{"node": "and", "items": []}``; the memory engine once read it as a falsy empty tuple, and the SQL
compiler raised ValueError on it)."""

from __future__ import annotations

import pytest
from sql_engines import ENGINES, require

from filterdsl.ast import And, Compare, Field, FieldType, Not, Op, Or, Query
from filterdsl.backends.memory import run
from filterdsl.backends.mongo import runners as mongo_exec
from filterdsl.backends.sql.runners import run_ids

DB = "db"
DOCS = [
    {
        "id": i,
        "created_at": "2021-01-01T00:00:00.000000Z",
        "updated_at": None,
        "removed_at": None,
        "data": {"n": n},
    }
    for i, n in (("a", 1), ("b", 2))
]
ONE = Compare(Field("n", FieldType.NUMBER), Op.EQ, 1)
# (predicate, ids): written down by hand, not computed by a backend
CASES = [
    (And(()), ["a", "b"]),
    (Or(()), []),
    (Not(And(())), ["a", "b"][:0]),
    (Not(Or(())), ["a", "b"]),
    (And((ONE, And(()))), ["a"]),
    (Or((ONE, Or(()))), ["a"]),
    (Or((And(()),)), ["a", "b"]),
]


@pytest.mark.parametrize(("pred", "want"), CASES)
def test_memory(pred: object, want: list[str]) -> None:
    assert [d["id"] for d in run(Query(pred, database=DB), {DB: DOCS})] == want  # type: ignore[arg-type]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("pred", "want"), CASES)
def test_sql(engine: str, pred: object, want: list[str]) -> None:
    url = require(engine)
    assert run_ids(Query(pred, database=DB), {DB: DOCS}, engine, url) == want  # type: ignore[arg-type]


@pytest.mark.parametrize(("pred", "want"), CASES)
def test_mongomock(pred: object, want: list[str]) -> None:
    pytest.importorskip("mongomock")
    docs = mongo_exec.run(Query(pred, database=DB), {DB: DOCS}, "mongomock")  # type: ignore[arg-type]
    assert [d["id"] for d in docs] == want
