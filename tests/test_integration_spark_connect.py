"""filterdsl.integrations.spark on Spark Connect: a local Spark Connect server started in this process
(``SparkSession.builder.remote("local[1]")``, the server a cluster runs), reached through pyspark's
gRPC client as any ``sc://`` server is. Every corpus case in both layouts and the deep-relations
differential, as on the classic session (tests/test_integration_spark.py). Needs pyspark's Connect
client (the ``spark`` / ``test`` extras) and Java 17; skips without them locally, fails when CI=true."""

from __future__ import annotations

from typing import Any

import pytest
from spark_support import (
    GOOD,
    Corpus,
    check_corpus_columns,
    check_corpus_json,
    check_date_columns,
    check_differential,
    check_keyset_pages,
    check_negations_pushed,
    check_sort_keys_projected,
    is_connect,
    spark_fixture,
)

pytestmark = pytest.mark.slow
spark = spark_fixture(remote=True)


@pytest.fixture(scope="module")
def corpus(spark: Any) -> Corpus:
    assert is_connect(spark)  # a Connect session, not a classic one under another name
    return Corpus(spark)


@pytest.mark.parametrize("case", GOOD, ids=[c["name"] for c in GOOD])
def test_corpus_json_layout(corpus: Corpus, case: dict[str, Any]) -> None:
    check_corpus_json(corpus, case)


def test_corpus_columns_layout(corpus: Corpus) -> None:
    executed = sum(check_corpus_columns(corpus, case) for case in GOOD)
    assert executed >= 38


def test_differential_deep_relations(spark: Any) -> None:
    check_differential(spark, max_examples=4)


def test_negations_pushed_into_parquet(spark: Any, tmp_path: Any) -> None:
    check_negations_pushed(spark, str(tmp_path / "neg"))


def test_sort_keys_computed_once_per_row(spark: Any) -> None:
    check_sort_keys_projected(spark)


def test_date_columns_are_days(spark: Any, tmp_path: Any) -> None:
    check_date_columns(spark, str(tmp_path / "days"))


def test_keyset_pages(spark: Any) -> None:
    check_keyset_pages(spark)


def test_runner_corpus(spark: Any) -> None:
    """``filterdsl run --engine spark --url ...``'s runner on Spark Connect: every corpus case, ids in
    order, through the session the command gets (``session(url)`` returns this Connect session)."""
    from spark_support import case_dataset

    from filterdsl import parse
    from filterdsl.backends.sql import spark_runners
    from filterdsl.backends.sql.runners import run_ids

    assert spark_runners.session("local[1]") is spark
    for case in GOOD:
        _, dataset, catalog = case_dataset(case)
        query = parse(case["input"], case["format"], catalog, case.get("database"))
        assert run_ids(query, dataset, "spark", "local[1]", catalog) == case["expect"], case["name"]
