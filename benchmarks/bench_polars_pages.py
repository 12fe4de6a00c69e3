"""Listing pages on the Polars backend: page 1, offset pages and keyset pages (``after``), same run.

    python benchmarks/bench_polars_pages.py [--records N] [--depth D] [--repeat R]

On one frame (``to_frame``, built once) of the benchmark workload (benchmarks/workload.py), for a few
sorts with and without a filter: the median time of ``query_frame`` for page 1 (limit 100), the page at
offset ``depth`` (skip), and the same page reached by a cursor (after the row at ``depth``), each as a
ratio to page 1 (the four run in turns, medians), and the eager form ``frame.filter(...).sort(...)`` then slice (what ``query_frame`` did
before it went lazy). The skip page and the keyset page are asserted to hold the same ids.
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import CATALOG, DB, make_docs  # noqa: E402

from filterdsl import ast as A  # noqa: E402
from filterdsl import load_catalog  # noqa: E402
from filterdsl.backends.polars import query_frame, sort_exprs, to_frame, to_polars  # noqa: E402
from filterdsl.semantics.cursor import cursor_of  # noqa: E402

T = A.FieldType


def interleaved(jobs: dict[str, tuple[Any, ...]], repeat: int) -> dict[str, float]:
    """Median seconds of each ``(fn, *args)`` job, run in turns (a busy machine slows all alike)."""
    times: dict[str, list[float]] = {k: [] for k in jobs}
    for _ in range(repeat):
        for k, (fn, *args) in jobs.items():
            t = time.perf_counter()
            fn(*args)
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def eager(query: A.Query, frame: Any, catalog: Any) -> Any:
    by, desc = sort_exprs(query)
    hits = frame.filter(to_polars(query, catalog)).sort(
        by, descending=desc, nulls_last=False, maintain_order=True
    )
    return hits.slice(query.skip, query.limit)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--depth", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    catalog = load_catalog(CATALOG)
    docs = make_docs(args.records)
    by_id = {d["id"]: d for d in docs}
    frame = to_frame(docs, catalog, DB)
    paid = A.Compare(A.Field("status", T.ENUM), A.Op.EQ, "paid")
    sorts = {
        "default order": (),
        "amount desc": (A.SortKey(A.Field("amount", T.NUMBER), True),),
        "date asc": (A.SortKey(A.Field("date", T.DATE), False),),
        "status asc, amount desc": (
            A.SortKey(A.Field("status", T.ENUM), False),
            A.SortKey(A.Field("amount", T.NUMBER), True),
        ),
    }
    print(f"{args.records:,} records, depth {args.depth:,}, limit 100, median of {args.repeat} (ms)")
    print(
        f"{'sort':26} {'filter':7} {'page 1':>8} {'skip':>8} {'keyset':>8} {'skip/p1':>8} {'keyset/p1':>9} {'eager p1':>9}"
    )
    for name, sort in sorts.items():
        for flt in (None, paid):
            page1 = A.Query(predicate=flt or A.TRUE, sort=sort, limit=100, database=DB)
            deep = dataclasses.replace(page1, skip=args.depth)
            last = query_frame(dataclasses.replace(page1, limit=args.depth), frame, catalog).get_column("id")[
                -1
            ]
            keyset = dataclasses.replace(page1, after=cursor_of(page1, by_id[last]))
            got = query_frame(keyset, frame, catalog).get_column("id").to_list()
            assert got == query_frame(deep, frame, catalog).get_column("id").to_list(), name
            assert got == eager(deep, frame, catalog).get_column("id").to_list(), name
            t = interleaved(
                {
                    "page1": (query_frame, page1, frame, catalog),
                    "skip": (query_frame, deep, frame, catalog),
                    "keyset": (query_frame, keyset, frame, catalog),
                    "eager": (eager, page1, frame, catalog),
                },
                args.repeat,
            )
            t1, ts, tk, te = t["page1"], t["skip"], t["keyset"], t["eager"]
            print(
                f"{name:26} {'paid' if flt else '-':7} {t1 * 1e3:8.1f} {ts * 1e3:8.1f} {tk * 1e3:8.1f} "
                f"{ts / t1:8.2f} {tk / t1:9.2f} {te * 1e3:9.1f}"
            )


if __name__ == "__main__":
    main()
