"""Issue 16 generators on Polars: relations 1-3 levels deep through ref and refMultiple, dangling ids,
trashed targets, negatives and include flags inside relations, objects/arrays/{} in any field (arrays and
objects tie in sorts, SPEC 8), keys with '.', '$', spaces, '=', non-ASCII and astral characters."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from filterdsl.backends.memory import run
from filterdsl.backends.polars import compiler as pb

from strategies import DeepBatch, deep_batches


@settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(deep_batches(queries=4, weird_keys=True))
def test_polars_deep_relations(b: DeepBatch) -> None:
    for q in b.queries:
        want = [r["id"] for r in run(q, b.dataset)]
        assert [r["id"] for r in pb.run(q, b.dataset, b.catalog)] == want, q
