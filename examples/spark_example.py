"""A filterdsl query on Spark DataFrames: orders whose client is named Michael or John, newest first.

    pip install -e '.[spark]'                                    # pyspark + its Spark Connect client
    python examples/spark_example.py                             # a local session (needs Java 17+)
    python examples/spark_example.py --url sc://localhost:15002  # a Spark Connect server

The records of examples/records.json (two databases: Clients and Orders) become two DataFrames in the
JSON document layout; the Pitchly filter examples/michael-or-john.json reaches Clients from Orders
through the Client ref field, so the Clients DataFrame is passed as ``related``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pyspark.sql import SparkSession

import filterdsl
from filterdsl.integrations.spark import apply
from filterdsl.records import normalize_dataset

HERE = Path(__file__).resolve().parent
ORDERS, CLIENTS = "ixuPJwBRqtRP3GpoM", "uJL9XrebupC7eWvM3"
COLUMNS = "id STRING, created_at STRING, updated_at STRING, removed_at STRING, data STRING"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", help="a Spark Connect URL (sc://host:port); default: a local session")
    args = ap.parse_args()
    builder = SparkSession.builder.appName("filterdsl-example")
    spark = (builder.remote(args.url) if args.url else builder.master("local[1]")).getOrCreate()

    catalog = filterdsl.load_catalog(HERE / "catalog.json")
    dataset = normalize_dataset(json.loads((HERE / "records.json").read_text()), catalog)
    frames = {
        db: spark.createDataFrame(
            [
                (d["id"], d["created_at"], d["updated_at"], d["removed_at"], json.dumps(d["data"]))
                for d in docs
            ],
            COLUMNS,
        )
        for db, docs in dataset.items()
    }
    query = filterdsl.parse(
        json.loads((HERE / "michael-or-john.json").read_text()), "pitchly", catalog, ORDERS
    )
    page = apply(frames[ORDERS], query, related={CLIENTS: frames[CLIENTS]})
    for row in page.collect():
        print(row["id"])
    spark.stop()


if __name__ == "__main__":
    main()
