"""filterdsl.integrations.spark on a classic local Spark session: every corpus case in both layouts
(``apply`` ids in order, ``where`` id sets), a hypothesis differential vs memory with relations 1-3
levels deep and sorts, VARIANT and ARRAY columns, the errors. One session for the module; needs
pyspark and Java 17 (skips without them locally, fails when CI=true). The same checks run on Spark
Connect in tests/test_integration_spark_connect.py."""

from __future__ import annotations

from typing import Any

import pytest
from spark_support import (
    GOOD,
    Corpus,
    check_corpus_columns,
    check_corpus_json,
    check_differential,
    spark_fixture,
)

pytestmark = pytest.mark.slow
spark = spark_fixture(remote=False)


@pytest.fixture(scope="module")
def corpus(spark: Any) -> Corpus:
    return Corpus(spark)


@pytest.mark.parametrize("case", GOOD, ids=[c["name"] for c in GOOD])
def test_corpus_json_layout(corpus: Corpus, case: dict[str, Any]) -> None:
    check_corpus_json(corpus, case)


def test_corpus_columns_layout(corpus: Corpus) -> None:
    executed = sum(check_corpus_columns(corpus, case) for case in GOOD)
    assert executed >= 38  # as many as DataFusion and ClickHouse execute in this layout


def test_differential_deep_relations(spark: Any) -> None:
    check_differential(spark, max_examples=8)
