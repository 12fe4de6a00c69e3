"""Issue 16 generators on SQL: SQLite against the in-memory engine on relations 1-3 levels deep through
ref and refMultiple (self references, cycles), dangling ids, trashed targets, negatives and include
flags inside relations, objects/arrays/{} in any field, keys with '.', '$', spaces, '=', non-ASCII and
astral characters (``strategies.deep_batches``).

One disagreement is known and pinned by a strict xfail (the lead owns the SQL backend): a date compare
whose AST value is a full timestamp rather than a day."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings

from filterdsl.ast import Compare, Field, FieldType, Op, Query, walk
from filterdsl.backends.memory import run
from filterdsl.backends.sql_exec import execute_ids
from filterdsl.schema import load_catalog

from strategies import DeepBatch, deep_batches


def _timestamp_date_value(q: Query) -> bool:
    """A date compare whose value is not a bare day: frontends reduce timestamps to their UTC day, but the
    AST JSON form (format "ast") carries any string, and SQL disagrees there (xfail below)."""
    return any(isinstance(n, Compare) and n.field.type is FieldType.DATE and len(str(n.value)) != 10
               for n in walk(q.predicate))


@settings(max_examples=40, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(deep_batches(queries=4, weird_keys=True))
def test_sqlite_deep_relations(b: DeepBatch) -> None:
    for q in b.queries:
        if _timestamp_date_value(q):
            continue  # known SQL divergence, pinned by test_sqlite_date_compare_with_a_timestamp_value
        want = [r["id"] for r in run(q, b.dataset)]
        assert execute_ids(q, b.dataset, "sqlite", None, b.catalog) == want, q


@pytest.mark.xfail(strict=True, reason="SQL date_cmp with a full-timestamp AST value (not a 10-character day): "
                   "memory compares stored[:10] <op> value as strings (as Mongo's _day_range does), so "
                   "'2021-01-01' <= '2020-01-23T23:59:59.999Z' is false; SQLite returns the row for <= and =, "
                   "and not for >. Frontends never produce such a value; AST JSON input can.")
@pytest.mark.parametrize("op", [Op.LTE, Op.EQ, Op.GT])
def test_sqlite_date_compare_with_a_timestamp_value(op: Op) -> None:
    cat = load_catalog([{"_id": "d0", "name": "D0", "fields": [{"_id": "u", "name": "F", "type": "date"}]}])
    docs = {"d0": [{"id": "a", "created_at": "2021-01-01T00:00:00.000000Z", "updated_at": None, "removed_at": None,
                    "data": {"u": "2021-01-01"}}]}
    q = Query(Compare(Field("u", FieldType.DATE), op, "2020-01-23T23:59:59.999Z"), database="d0")
    want = {Op.LTE: [], Op.EQ: [], Op.GT: ["a"]}[op]  # by hand: "2021-01-01" vs "2020-01-23T23:59:59.999Z"
    assert [r["id"] for r in run(q, docs)] == want
    assert execute_ids(q, docs, "sqlite", None, cat) == want
