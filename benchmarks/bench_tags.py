"""enumTags on MariaDB/MySQL, JSON document layout: filterdsl's exact forms against the hand-written
``JSON_OVERLAPS`` / ``JSON_CONTAINS`` a DBA writes, same run, same ids asserted (the data has no escaped
strings or nested arrays, where those hand forms are not exact).

    python benchmarks/bench_tags.py [--rows N] [--repeat R]      (FILTERDSL_MYSQL_URL, default local root)

Results: docs/performance.md ("One CASE per sort item, enumTags in one pass").
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from filterdsl.ast import Compare, Field, FieldType, Op, Query  # noqa: E402
from filterdsl.backends.sql import JsonLayout, to_sql  # noqa: E402
from filterdsl.backends.sql.runners import DEFAULT_URLS, _mysql_args  # noqa: E402

TABLE = "bench_tags"
SEL = f"SELECT id, created_at, updated_at, removed_at, data FROM {TABLE} WHERE "
ORDER = " ORDER BY created_at DESC, id LIMIT 100"
CASES = [
    ("has-any gold,none", Op.HAS_ANY, ("gold", "none"), "JSON_OVERLAPS(JSON_EXTRACT(data, '$.tags'), %s)"),
    ("has-all gold,silver", Op.HAS_ALL, ("gold", "silver"), "JSON_CONTAINS(data, %s, '$.tags')"),
    (
        "has-exactly gold,silver,std",
        Op.HAS_EXACTLY,
        ("gold", "silver", "std"),
        "JSON_CONTAINS(data, %s, '$.tags') AND JSON_LENGTH(data, '$.tags') = 3",
    ),
]


def main() -> None:
    import os

    import pymysql

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    url = os.environ.get("FILTERDSL_MYSQL_URL", DEFAULT_URLS["mysql"])
    con = pymysql.connect(**_mysql_args(url), autocommit=True)
    cur = con.cursor()
    cur.execute(f"DROP TABLE IF EXISTS {TABLE}")
    cur.execute(
        f"CREATE TABLE {TABLE} (id VARCHAR(64) COLLATE utf8mb4_nopad_bin PRIMARY KEY, created_at VARCHAR(40) "
        "NOT NULL, updated_at VARCHAR(40), removed_at VARCHAR(40), data LONGTEXT NOT NULL)"
    )
    rnd = random.Random(3)
    rows = []
    for i in range(args.rows):
        tags = rnd.sample(["std", "red", "blue", "green", "x1", "x2", "x3"], 3)
        if i % 100 == 7:
            tags.append("gold")
        if i % 1000 == 9:
            tags += ["gold", "silver"]
        created = f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T00:00:00.000000Z"
        rows.append((f"r{i:07d}", created, json.dumps({"tags": tags, "n": i})))
    cur.executemany(f"INSERT INTO {TABLE} (id, created_at, data) VALUES (%s, %s, %s)", rows)
    cur.execute(f"CREATE INDEX {TABLE}_order ON {TABLE} (created_at DESC, id)")
    cur.execute(f"ANALYZE TABLE {TABLE}")
    cur.fetchall()
    lay = JsonLayout(tables={None: TABLE}, binary_id=True)

    def timed(sql: str, params: object) -> tuple[float, list[str]]:
        ts = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            cur.execute(sql, params)
            got = [r[0] for r in cur.fetchall()]
            ts.append(time.perf_counter() - t0)
        return statistics.median(ts) * 1000, got

    print(f"| request ({args.rows:,} rows) | filterdsl ms | hand-written ms | ratio |")
    print("|---|---:|---:|---:|")
    for label, op, needles, hand in CASES:
        sql, params = to_sql(
            Query(Compare(Field("tags", FieldType.ENUM_TAGS), op, needles), limit=100), "mysql", lay
        )
        a, ours = timed(sql, params)
        b, theirs = timed(SEL + hand + ORDER, [json.dumps(list(needles))])
        assert ours == theirs, label
        print(f"| {label} | {a:.1f} | {b:.1f} | {a / b:.2f} |")
    cur.execute(f"DROP TABLE {TABLE}")


if __name__ == "__main__":
    main()
