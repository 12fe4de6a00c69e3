"""Spark (local session, VARIANT JSON family): corpus cases and a differential sample vs memory.

Marked ``slow``: a local Spark session takes seconds to start. Needs ``pyspark`` >= 4.0 and Java 17.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sql_engines import refuses_numbers

from filterdsl import load_catalog, parse
from filterdsl.ast import Query
from filterdsl.backends.memory import run
from filterdsl.backends.sql import JsonLayout, to_sql

from conftest import CASES, CORPUS
from strategies import Scenario, scenarios

pyspark = pytest.importorskip(
    "pyspark", reason="pyspark is not installed (pip install pyspark; needs Java 17)"
)
pytestmark = pytest.mark.slow

CATALOG = load_catalog(CORPUS / "catalog.json")
GOOD = [c for c in CASES if not isinstance(c["expect"], dict)]


@pytest.fixture(scope="module")
def spark() -> Any:
    from pyspark.sql import SparkSession

    s = (
        SparkSession.builder.master("local[1]")
        .appName("filterdsl-tests")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "1")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def spark_ids(spark: Any, query: Query, dataset: dict[Any, list[dict[str, Any]]]) -> list[str]:
    """``to_sql`` text run as printed (the integration's own path is tests/test_integration_spark.py)."""
    from spark_support import json_frames

    tables = {db: f"t{i}" for i, db in enumerate(dataset)}
    for db, df in json_frames(spark, dataset).items():
        df.createOrReplaceTempView(tables[db])
    main = query.database if query.database in dataset else next(iter(dataset))
    q = Query(query.predicate, query.sort, query.skip, query.limit, None, main)
    sql, params = to_sql(q, "spark", JsonLayout(tables=tables))
    return [r[0] for r in spark.sql(sql, args=params).collect()]


def _dataset(case: dict[str, Any]) -> tuple[Any, Any]:
    from spark_support import case_dataset

    _, dataset, catalog = case_dataset(case)
    return dataset, catalog


@pytest.mark.parametrize("case", GOOD, ids=[c["name"] for c in GOOD])
def test_corpus_on_spark(spark: Any, case: dict[str, Any]) -> None:
    dataset, catalog = _dataset(case)
    query = parse(case["input"], case["format"], catalog, case.get("database"))
    assert (
        spark_ids(spark, query, dataset) == [r["id"] for r in run(query, dataset, catalog)] == case["expect"]
    )


def test_differential_on_spark(spark: Any) -> None:
    @settings(
        max_examples=40,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
    @given(scenarios(weird_keys=True))
    def prop(sc: Scenario) -> None:
        if refuses_numbers("spark", sc.dataset):  # Spark reads JSON numbers as doubles (semantics.md §9)
            return
        assert spark_ids(spark, sc.query, sc.dataset) == [
            r["id"] for r in run(sc.query, sc.dataset, sc.catalog)
        ]

    prop()


def test_dates_on_spark(spark: Any) -> None:
    from test_sql_dates import DATASET, D

    from filterdsl.ast import Compare, Op, SortKey

    for query in (
        Query(Compare(D, Op.GTE, "0001-01-01"), database="main"),
        Query(sort=(SortKey(D, True),), skip=3, limit=50, database="main"),
    ):
        assert spark_ids(spark, query, DATASET) == [r["id"] for r in run(query, DATASET)]
