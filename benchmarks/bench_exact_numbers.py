"""Issue 26 P2: what the exact number comparison costs on DuckDB and ClickHouse (JSON layout).

Runs each number filter and sort of ``workload``-like shape twice in the same process, over the same
table: as filterdsl compiles it now (doubles, then exact integer ties) and with the tie-break switched off
(``exact_int`` returning None, the SQL before issue 26). Prints medians and the same-run ratio.

    python benchmarks/bench_exact_numbers.py [--rows 100000] [--repeat 7]
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from filterdsl.ast import Compare, Const, Field, FieldType, Op, Query, SortKey
from filterdsl.backends.sql import JsonLayout, clear_sql_cache, to_sql
from filterdsl.backends.sql.dialects.base import Family

N = Field("amount", FieldType.NUMBER)
QUERIES = {
    "amount > 5000": Query(Compare(N, Op.GT, 5000), (), 0, 100, None, "t"),
    "amount = 4242": Query(Compare(N, Op.EQ, 4242), (), 0, 100, None, "t"),
    "amount <= 2.5e3": Query(Compare(N, Op.LTE, 2500.0), (), 0, 100, None, "t"),
    "sort amount": Query(Const(True), (SortKey(N, False),), 0, 100, None, "t"),
}


def _rows(n: int) -> list[tuple[str, str]]:
    rnd = random.Random(7)
    out = []
    for i in range(n):
        v: Any = rnd.choice([rnd.randint(0, 10_000), rnd.random() * 10_000, None, "x"])
        out.append((f"r{i:07d}", json.dumps({"amount": v} if v is not None else {})))
    return out


def _sql(q: Query, dialect: str, exact: bool) -> tuple[str, Any]:
    if exact:
        return to_sql(
            q,
            dialect,
            JsonLayout(tables={"t": "t"}),
            paramstyle="native" if dialect == "clickhouse" else None,
        )
    from filterdsl.backends.sql.dialects import columnar, duckdb

    families: list[type[Family]] = [duckdb.DuckDBFamily, columnar.ClickHouseJsonFamily]
    saved = {cls: cls.__dict__["exact_int"] for cls in families}
    for cls in families:
        setattr(cls, "exact_int", Family.exact_int)  # noqa: B010 - the SQL before issue 26
    try:
        clear_sql_cache()
        return to_sql(
            q,
            dialect,
            JsonLayout(tables={"t": "t"}),
            paramstyle="native" if dialect == "clickhouse" else None,
        )
    finally:
        for cls, fn in saved.items():
            setattr(cls, "exact_int", fn)  # noqa: B010
        clear_sql_cache()


def _median(run: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        run()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    rows = _rows(args.rows)
    engines: dict[str, Callable[[str, Any], Any]] = {}
    try:
        import duckdb

        con = duckdb.connect()
        con.execute(
            "CREATE TABLE t (id VARCHAR, created_at VARCHAR, updated_at VARCHAR, removed_at VARCHAR, data JSON)"
        )
        con.executemany("INSERT INTO t VALUES (?, '2021', NULL, NULL, ?)", rows)
        engines["duckdb"] = lambda sql, p: con.execute(sql, p).fetchall()
    except ImportError:
        pass
    try:
        from chdb import session

        s = session.Session()
        s.query(
            "CREATE TABLE t (id String, created_at String, updated_at Nullable(String), "
            "removed_at Nullable(String), data String) ENGINE = Memory"
        )
        lines = "\n".join(json.dumps({"id": i, "created_at": "2021", "data": d}) for i, d in rows)
        s.query("INSERT INTO t FORMAT JSONEachRow\n" + lines)
        engines["clickhouse"] = lambda sql, p: s.query(sql, "JSONCompact", params=p)
    except ImportError:
        pass
    print(
        f"{args.rows} rows, median of {args.repeat} (ms); ratio = exact / doubles only (same run)", flush=True
    )
    for engine, run in engines.items():
        for name, q in QUERIES.items():
            new = _sql(q, engine, True)
            old = _sql(q, engine, False)
            assert new[0] != old[0], "the tie-break is in the new SQL"
            if engine == "duckdb":  # same answer (no integer past 2^53 in this data)
                assert run(*new) == run(*old)
            t_old = _median(functools.partial(run, *old), args.repeat)
            t_new = _median(functools.partial(run, *new), args.repeat)
            print(
                f"{engine:10s} {name:18s} doubles {t_old:8.1f}  exact {t_new:8.1f}  ratio {t_new / t_old:5.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
