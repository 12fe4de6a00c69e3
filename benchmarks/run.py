"""filterdsl benchmarks: evaluation throughput, compile latency and compile memory, all in one run.

    python benchmarks/run.py [--quick] [--records N] [--repeat R] [--sections eval,compile,memory]

Prints tables of medians and ratios measured in the same run (see docs/performance.md):
1. in-memory evaluation, records/s over 200,000 canonical documents (``--quick``: 20,000) for six filters
   of increasing complexity: filterdsl's compiled predicate, a hand-written Python lambda with the same
   semantics (the physical limit for per-record Python), mongomock, mingo and sift (node) with the
   compiled Mongo filter, SQLite and DuckDB executing the compiled SQL, and Polars with ``to_polars``.
   Every engine's hit count is checked against the lambda's (``!`` marks a disagreement).
2. compile latency (median microseconds) of parse + validate and of each backend on top, per input
   format, for the corpus filters and for filters of 10, 100, 1,000 and 10,000 conditions (with
   microseconds per condition, to show linear growth).
3. peak memory (tracemalloc) of compiling the 10,000-condition filter.
Then the targets: predicate >= 0.8x lambda, parse+validate+to_sql(10 conditions) < 300 us, no
quadratic growth. mingo/sift are installed on first use with ``npm install`` into benchmarks/node/.
"""

from __future__ import annotations

import argparse
import functools
import gc
import importlib.util
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from workload import CATALOG, DB, FILTERS, Doc, make_docs, sized_filter, sized_pixiebrix, sized_search  # noqa: E402

from filterdsl import load_catalog, parse  # noqa: E402
from filterdsl.api import Format, ParseKwargs  # noqa: E402
from filterdsl.ast import Query, Relation, count_nodes, to_json, walk  # noqa: E402
from filterdsl.backends.memory import compile_predicate  # noqa: E402
from filterdsl.options import Limits  # noqa: E402

BIG = Limits(max_nodes=10**7, max_list=10**7, max_search_terms=10**7, max_input_bytes=1 << 28)
NA = "n/a"
Result = tuple[float, int] | str  # (median seconds, hits) or why not measured


def have(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


HAVE_MONGO = have("filterdsl.backends.mongo")
HAVE_SQL = have("filterdsl.backends.sql")
HAVE_POLARS = have("polars")


def median_of(
    fn: Callable[[], Any],
    min_time: float,
    min_runs: int = 5,
    max_runs: int = 1000,
    collect_each: bool = False,
) -> float:
    """Median seconds of one call; calls until ``min_time`` has passed and ``min_runs`` were made.

    ``collect_each``: collect (untimed) before every call, for the few calls on 10,000-condition
    filters, where one call leaves millions of garbage objects whose collection would otherwise be
    billed to the next call or the next stage.
    """
    times: list[float] = []
    gc.collect()  # a collection of earlier garbage is not this call's cost (matters for single runs)
    start = time.perf_counter()
    while len(times) < max_runs and (len(times) < min_runs or time.perf_counter() - start < min_time):
        if collect_each:
            gc.collect()
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# ---------------------------------------------------------------- 1. evaluation
def _frame_hits(frame: Any, expr: Any) -> int:
    return int(frame.filter(expr).height)


def to_mongo_filter(query: Query, catalog: Any) -> dict[str, Any]:
    """The ``find`` filter of the compiled Mongo query, whatever wrapper ``to_mongo`` returns it in."""
    from filterdsl.backends.mongo import to_mongo

    spec: Any = to_mongo(query, catalog=catalog)
    for _ in range(3):
        if isinstance(spec, dict) and "filter" in spec and isinstance(spec["filter"], dict):
            return spec["filter"]
        if isinstance(getattr(spec, "filter", None), dict):
            return spec.filter
        if isinstance(spec, tuple) and spec and isinstance(spec[0], dict):
            spec = spec[0]
            continue
        if isinstance(spec, dict) and not any(k in spec for k in ("pipeline", "sort", "skip", "limit")):
            return spec  # a bare filter
        break
    raise TypeError(f"no find filter in the to_mongo result ({type(spec).__name__})")


def time_python(fns: list[Callable[[Doc], bool]], docs: list[Doc], repeat: int) -> list[tuple[float, int]]:
    """Interleaved runs, so drift in machine load hits every function alike."""
    times: list[list[float]] = [[] for _ in fns]
    hits = [0] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            gc.collect()
            t0 = time.perf_counter()
            hits[i] = sum(1 for d in docs if fn(d))
            times[i].append(time.perf_counter() - t0)
    return [(statistics.median(t), h) for t, h in zip(times, hits)]


def sql_engines(docs: list[Doc]) -> dict[str, Any]:
    """SQLite and DuckDB connections holding the documents in the JSON layout (table ``records``)."""
    from filterdsl.backends.sql.runners import sqlite_connect

    rows = [
        (
            d["id"],
            d["created_at"],
            d["updated_at"],
            d["removed_at"],
            json.dumps(d["data"], ensure_ascii=False, separators=(",", ":")),
        )
        for d in docs
    ]
    cons: dict[str, Any] = {}
    con = sqlite_connect()
    con.execute(
        "CREATE TABLE records (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, "
        "removed_at TEXT, data TEXT NOT NULL)"
    )
    con.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?)", rows)
    cons["sqlite"] = con
    if have("duckdb"):
        import duckdb

        dcon = duckdb.connect()
        dcon.execute(
            "CREATE TABLE records (id VARCHAR PRIMARY KEY, created_at VARCHAR NOT NULL, updated_at VARCHAR, "
            "removed_at VARCHAR, data JSON NOT NULL)"
        )

        dcon.execute(
            "INSERT INTO records SELECT * FROM (SELECT UNNEST(?) AS id, UNNEST(?) AS c, UNNEST(?) AS u, "
            "UNNEST(?) AS r, UNNEST(?)::JSON AS data)",
            [list(c) for c in zip(*rows)],
        )
        cons["duckdb"] = dcon
    return cons


def time_sql(con: Any, engine: str, query: Query, catalog: Any, repeat: int) -> Result:
    from filterdsl.backends.sql import JsonLayout, to_sql

    sql, params = to_sql(query, engine, JsonLayout(tables={DB: "records"}), catalog)
    count = f"SELECT COUNT(*) FROM ({sql}) AS t"
    hits = con.execute(count, params).fetchone()[0]
    return median_of(lambda: con.execute(count, params).fetchone(), 0, repeat, repeat), int(hits)


def node_results(
    docs: list[Doc], mongo_filters: list[tuple[str, Any]], repeat: int
) -> dict[tuple[str, str], Result]:
    if shutil.which("node") is None or shutil.which("npm") is None:
        return {}
    nodedir = HERE / "node"
    if not (nodedir / "node_modules" / "mingo").exists() or not (nodedir / "node_modules" / "sift").exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", "--silent"],
            cwd=nodedir,
            check=True,
            capture_output=True,
            timeout=600,
        )
    with tempfile.TemporaryDirectory() as tmp:
        docs_path = Path(tmp) / "docs.json"
        docs_path.write_text(json.dumps(docs, ensure_ascii=False), encoding="utf-8")
        spec_path = Path(tmp) / "spec.json"
        spec_path.write_text(
            json.dumps(
                {
                    "docs": str(docs_path),
                    "repeat": repeat,
                    "filters": [{"name": n, "filter": f} for n, f in mongo_filters],
                }
            )
        )
        p = subprocess.run(
            ["node", str(nodedir / "bench.mjs"), str(spec_path)],
            capture_output=True,
            text=True,
            timeout=3600,
            check=True,
        )
    out: dict[tuple[str, str], Result] = {}
    for r in json.loads(p.stdout):
        out[(r["name"], r["engine"])] = (
            f"error: {r['error'][:40]}" if "error" in r else (r["median_s"], r["hits"])
        )
    return out


def section_eval(n: int, repeat: int) -> list[float]:
    cat = load_catalog(CATALOG)
    docs = make_docs(n)
    queries = [
        replace(parse(flt, catalog=cat, database=DB), limit=None, skip=0, sort=()) for _, flt, _ in FILTERS
    ]
    engines = ["predicate", "lambda", "mongomock", "mingo", "sift", "sqlite", "duckdb", "polars"]
    res: dict[tuple[str, str], Result] = {}
    notes: list[str] = []

    for (name, _, lam), q in zip(FILTERS, queries):
        timed = time_python([compile_predicate(q.predicate), lam], docs, repeat)
        res[(name, "predicate")], res[(name, "lambda")] = timed[0], timed[1]

    if HAVE_MONGO:
        mongo = []
        for (name, _, _), q in zip(FILTERS, queries):
            try:
                mongo.append((name, to_mongo_filter(q, cat)))
            except Exception as err:  # noqa: BLE001 - reported as a table cell
                for engine in ("mongomock", "mingo", "sift"):
                    res[(name, engine)] = f"error: to_mongo: {str(err)[:40]}"
        import mongomock

        sub = docs[: min(len(docs), 20_000)]
        coll = mongomock.MongoClient().db.records
        coll.insert_many([{**d, "_id": d["id"]} for d in sub])
        lambdas = {name: lam for name, _, lam in FILTERS}
        for name, flt in mongo:
            try:
                hits = coll.count_documents(flt)
                t = median_of(
                    functools.partial(coll.count_documents, flt), 0, max(1, repeat // 2), max(1, repeat // 2)
                )
                same = hits == sum(1 for d in sub if lambdas[name](d))  # checked on the same subset
                ref_hits = res[(name, "lambda")]
                assert isinstance(ref_hits, tuple)
                res[(name, "mongomock")] = (t * len(docs) / len(sub), ref_hits[1] if same else -1)
            except Exception as err:  # noqa: BLE001 - a failing engine is a table cell, not a crash
                res[(name, "mongomock")] = f"error: {str(err)[:40]}"
        if len(sub) < len(docs):
            notes.append(
                f"mongomock measured on the first {len(sub):,} documents (it is slow), rate scaled; "
                "its hits are checked against the lambda on that subset"
            )
        res.update(node_results(docs, mongo, repeat))
        if shutil.which("node") is None:
            notes.append("mingo/sift: n/a (node not installed)")
    else:
        for name, _, _ in FILTERS:
            for e in ("mongomock", "mingo", "sift"):
                res[(name, e)] = "n/a: backend not landed"

    if HAVE_SQL:
        t0 = time.perf_counter()
        cons = sql_engines(docs)
        notes.append(
            f"SQL load (JSON layout, not timed in the table): {time.perf_counter() - t0:.1f} s for both engines"
        )
        for (name, _, _), q in zip(FILTERS, queries):
            for engine, con in cons.items():
                try:
                    res[(name, engine)] = time_sql(con, engine, q, cat, repeat)
                except Exception as err:  # noqa: BLE001
                    res[(name, engine)] = f"error: {str(err)[:40]}"
    if HAVE_POLARS:
        from filterdsl.backends.polars import to_frame, to_polars

        t0 = time.perf_counter()
        frame = to_frame(docs, cat, DB, sort=False)
        notes.append(
            f"Polars frame build (to_frame, not timed in the table): {time.perf_counter() - t0:.2f} s, "
            f"{frame.width} columns, {frame.estimated_size() / 2**20:.0f} MiB"
        )
        for (name, _, _), q in zip(FILTERS, queries):
            expr = to_polars(q, cat)
            hits = frame.filter(expr).height
            res[(name, "polars")] = (
                median_of(functools.partial(_frame_hits, frame, expr), 0, repeat, repeat),
                hits,
            )

    print(
        f"\n## 1. Evaluation: records/s over {n:,} canonical documents (median of {repeat}, {os.cpu_count()} cores)\n"
    )
    width = 12
    print(f"| {'filter':<20} | " + " | ".join(f"{e:>{width}}" for e in engines) + f" | {'hits':>7} |")
    print("|" + "-" * 22 + "|" + "|".join("-" * (width + 2) for _ in engines) + "|---------|")
    ratios: list[float] = []
    for name, _, _ in FILTERS:
        ref = res[(name, "lambda")]
        assert isinstance(ref, tuple)
        cells = []
        for e in engines:
            r = res.get((name, e), NA)
            if isinstance(r, str):
                cells.append(f"{'n/a' if r.startswith('n/a') else 'error':>{width}}")
                if not r.startswith("n/a"):
                    notes.append(f"{name} / {e}: {r}")
                continue
            mark = "" if r[1] == ref[1] else "!"
            cells.append(f"{mark}{n / r[0]:>{width - len(mark)},.0f}")
        print(f"| {name:<20} | " + " | ".join(cells) + f" | {ref[1]:>7} |")
    print("\nRatio to the hand-written lambda (>1 = faster than the lambda):\n")
    print(f"| {'filter':<20} | " + " | ".join(f"{e:>{width}}" for e in engines if e != "lambda") + " |")
    print("|" + "-" * 22 + "|" + "|".join("-" * (width + 2) for e in engines if e != "lambda") + "|")
    for name, _, _ in FILTERS:
        ref = res[(name, "lambda")]
        assert isinstance(ref, tuple)
        cells = []
        for e in engines:
            if e == "lambda":
                continue
            r = res.get((name, e), NA)
            cells.append(f"{'n/a':>{width}}" if isinstance(r, str) else f"{ref[0] / r[0]:>{width}.2f}")
            if e == "predicate" and not isinstance(r, str):
                ratios.append(ref[0] / r[0])
        print(f"| {name:<20} | " + " | ".join(cells) + " |")
    if not HAVE_MONGO:
        notes.append("mongomock, mingo, sift: n/a: backend not landed (filterdsl.backends.mongo)")
    for note in dict.fromkeys(notes):
        print(f"- {note}")
    return ratios


# ---------------------------------------------------------------- 2. compile latency
def backends(catalog: Any) -> dict[str, Callable[[Query], Any]]:
    out: dict[str, Callable[[Query], Any]] = {"memory": lambda q: compile_predicate(q.predicate)}
    if HAVE_SQL:
        from filterdsl.backends.sql import clear_sql_cache, to_sql

        # a first compile of the shape (the per-shape SQL cache is emptied before each call), which is
        # what grows with filter size; a request with a known shape takes the "sql hit" path instead
        def cold(dialect: str) -> Callable[[Query], Any]:
            def compile_cold(q: Query) -> Any:
                clear_sql_cache()
                return to_sql(q, dialect, catalog=catalog)

            return compile_cold

        out["sql:sqlite"] = cold("sqlite")
        out["sql:postgres"] = cold("postgres")
        out["sql hit"] = lambda q: to_sql(q, "sqlite", catalog=catalog)
    if HAVE_MONGO:
        from filterdsl.backends.mongo import to_mongo

        out["mongo"] = lambda q: to_mongo(q, catalog=catalog)
    if HAVE_POLARS:
        from filterdsl.backends.polars import to_polars

        out["polars"] = lambda q: to_polars(q, catalog)
    return out


def corpus_inputs() -> tuple[Any, dict[str, list[tuple[Any, str | None, Any]]]]:
    """Per format: (input, database, catalog) of every valid corpus case."""
    corpus = HERE.parent / "tests" / "corpus"
    cat = load_catalog(json.loads((corpus / "catalog.json").read_text()))
    cases = [c for c in json.loads((corpus / "cases.json").read_text()) if not isinstance(c["expect"], dict)]
    out: dict[str, list[tuple[Any, str | None, Any]]] = {}
    for c in cases:
        fmt = c["format"]
        if fmt == "pixiebrix" and not have("filterdsl.frontends.pixiebrix"):
            continue
        catalog = None if fmt == "pixiebrix" or (fmt == "search" and c.get("database") is None) else cat
        out.setdefault(fmt, []).append((c["input"], c.get("database"), catalog))
        if fmt == "pitchly":
            q = parse(c["input"], "pitchly", catalog, c.get("database"))
            out.setdefault("ast", []).append((json.dumps(to_json(q)), c.get("database"), catalog))
    return cat, out


def _kept(fn: Callable[[Query], Any], q: Query) -> bool:
    """Whether a second call of ``fn`` (to_sql) was served from the per-shape cache."""
    from filterdsl.backends.sql import sql_cache_info

    hits = sql_cache_info().hits
    fn(q)
    return sql_cache_info().hits > hits


def _stage_times(
    fmt: str,
    src: Any,
    db: str | None,
    catalog: Any,
    min_time: float,
    runs: int,
    backs: Callable[[Any], dict[str, Callable[[Query], Any]]],
) -> dict[str, float | None]:
    """Median us of parse+validate, and of each backend alone on the parsed query (None: refused)."""
    kw: ParseKwargs = {"limits": BIG}
    q = parse(src, cast(Format, fmt), catalog, db, **kw)
    each = min_time == 0  # the largest filters: a few calls, each one's garbage collected before the next
    out: dict[str, float | None] = {
        "parse": median_of(
            lambda: parse(src, cast(Format, fmt), catalog, db, **kw), min_time, runs, collect_each=each
        )
        * 1e6
    }
    for name, fn in backs(catalog).items():
        if name == "polars" and any(isinstance(n, Relation) for n in walk(q.predicate)):
            out[name] = None  # relations need the referenced records (resolved to id sets at compile time)
            continue
        try:
            fn(q)
        except Exception:  # noqa: BLE001 - a refusal (not-expressible) is reported as n/a
            out[name] = None
            continue
        if name == "sql hit" and not _kept(fn, q):
            out[name] = None  # heavier than the cache keeps: every call would be a first compile
            continue
        out[name] = median_of(functools.partial(fn, q), min_time, runs, collect_each=each) * 1e6
    return out


def _num(v: float | None, div: float, spec: str, missing: str) -> str:
    return missing if v is None else format(v / div, spec)


def section_compile(quick: bool) -> tuple[float | None, list[str]]:
    min_time = 0.02 if quick else 0.1
    bench_cat = load_catalog(CATALOG)
    names = list(backends(bench_cat))
    cols = ["parse", *names]
    warn: list[str] = []

    print(
        "\n## 2. Compile latency, median microseconds (parse+validate; each backend alone on the parsed query)\n"
    )
    cat, inputs = corpus_inputs()
    print("Corpus filters (median over the cases of each case's median):\n")
    print(f"| {'format':<10} | {'cases':>5} | " + " | ".join(f"{c:>12}" for c in cols) + " |")
    print("|------------|-------|" + "|".join("-" * 14 for _ in cols) + "|")
    for fmt, items in inputs.items():
        per = [_stage_times(fmt, s, db, c, min_time / 10, 5, backends) for s, db, c in items]
        cells = []
        for col in cols:
            vals: list[float] = [v for p in per if (v := p.get(col)) is not None]
            refused = sum(1 for p in per if p.get(col, 0) is None)
            cell = f"{statistics.median(vals):,.0f}" if vals else "n/a"
            cells.append(f"{cell + (f' ({refused}r)' if refused else ''):>12}")
        print(f"| {fmt:<10} | {len(items):>5} | " + " | ".join(cells) + " |")
    print(
        "\n(Nr) = N cases the backend cannot compile alone: relational filters need the referenced records "
        "(memory and Polars resolve them to id sets at compile time)."
    )

    sizes = [10, 100, 1000, 10000]
    sized: dict[str, Callable[[int], Any]] = {
        "pitchly": sized_filter,
        "search": sized_search,
        "ast": lambda n: json.dumps(
            to_json(parse(sized_filter(n), catalog=bench_cat, database=DB, limits=BIG))
        ),
    }
    if have("filterdsl.frontends.pixiebrix"):
        sized["pixiebrix"] = sized_pixiebrix
    print("\nFilters of N conditions (us; below each, us per condition):\n")
    print(f"| {'format':<8} | {'N':>6} | {'nodes':>6} | " + " | ".join(f"{c:>12}" for c in cols) + " |")
    print("|----------|--------|--------|" + "|".join("-" * 14 for _ in cols) + "|")
    not_kept: list[str] = []
    for fmt, make in sized.items():
        prev: dict[str, float] = {}
        for n in sizes:
            src = make(n)
            runs = 5 if n <= 1000 else (1 if quick else 3)
            cat, db = (None, None) if fmt == "pixiebrix" else (bench_cat, DB)
            t = _stage_times(fmt, src, db, cat, min_time if n <= 1000 else 0, runs, backends)
            nodes = count_nodes(parse(src, cast(Format, fmt), cat, db, limits=BIG).predicate)
            if "sql hit" in t and t["sql hit"] is None and t.get("sql:sqlite") is not None:
                not_kept.append(f"{fmt} {n:,}")
            print(
                f"| {fmt:<8} | {n:>6,} | {nodes:>6,} | "
                + " | ".join(f"{_num(t.get(c), 1, ',.0f', 'n/a'):>12}" for c in cols)
                + " |"
            )
            print(
                f"| {'':<8} | {'/cond':>6} | {'':>6} | "
                + " | ".join(f"{_num(t.get(c), n, ',.1f', ''):>12}" for c in cols)
                + " |"
            )
            for c in cols:
                v = t.get(c)
                if v is None:
                    continue
                if c in prev and n >= 1000 and (v / n) / (prev[c] / (n // 10)) > 2.0:
                    warn.append(
                        f"{fmt} {c}: {prev[c] / (n // 10):.1f} -> {v / n:.1f} us/condition from {n // 10:,} "
                        f"to {n:,} conditions (super-linear)"
                    )
                prev[c] = v
    if not_kept:
        print(
            f"\n`sql hit` n/a ({', '.join(not_kept)} conditions): the SQL of those filters is "
            "heavier than an eighth of the per-shape cache's weight budget, so it is not kept and every call "
            "is a first compile (docs/sql.md, the compiled-SQL cache)."
        )
    target = request_latency(bench_cat, min_time) if HAVE_SQL else None
    return target, warn


def request_latency(cat: Any, min_time: float) -> float:
    """parse+validate+to_sql of a 10-condition Pitchly filter with new values on every call.

    That is a request handler's case: users send the same kinds of filters with their own values, so
    the query shape repeats and its SQL comes from the per-shape cache while the parameters are bound
    from this call's values. The first compile of a shape is measured too (cache emptied each call).
    """
    from filterdsl.backends.sql import clear_sql_cache, sql_cache_info, to_sql

    variants = [sized_filter(10, k) for k in range(1, 65)]
    it = itertools.count()

    def one() -> Any:
        q = parse(variants[next(it) % len(variants)], "pitchly", cat, DB, limits=BIG)
        return to_sql(q, "sqlite", catalog=cat)

    def cold() -> Any:
        clear_sql_cache()
        return one()

    first = median_of(cold, min_time, 20) * 1e6
    one()
    before = sql_cache_info()
    warm = median_of(one, min_time, 200) * 1e6
    after = sql_cache_info()
    assert after.misses == before.misses, "the variants should share one shape"
    compiled = [to_sql(parse(v, "pitchly", cat, DB, limits=BIG), "sqlite", catalog=cat) for v in variants[:8]]
    texts = {text for text, _ in compiled}
    params = {repr(ps) for _, ps in compiled}
    print(
        "\nRequest latency, 10-condition Pitchly filter, new values on every call (parse+validate+to_sql, us):\n"
    )
    print("| path | median us |\n|---|---|")
    print(f"| shape seen before (SQL from the per-shape cache, params bound) | {warm:,.0f} |")
    print(f"| first compile of the shape (cache emptied each call) | {first:,.0f} |")
    print(f"\n(8 variants: {len(texts)} SQL text, {len(params)} distinct parameter lists)")
    return warm


# ---------------------------------------------------------------- 3. memory
def section_memory() -> None:
    cat = load_catalog(CATALOG)
    src = sized_filter(10_000)
    print("\n## 3. Peak memory (tracemalloc) of compiling the 10,000-condition Pitchly filter\n")
    print("| stage | peak MiB |\n|---|---|")
    tracemalloc.start()
    q = parse(src, catalog=cat, database=DB, limits=BIG)
    _, peak = tracemalloc.get_traced_memory()
    print(f"| parse+validate | {peak / 2**20:.1f} |")
    for name, fn in backends(cat).items():
        gc.collect()
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        out = fn(q)
        _, peak = tracemalloc.get_traced_memory()
        print(f"| {name} | {(peak - base) / 2**20:.1f} |")
        del out
    tracemalloc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="20,000 records, fewer repeats")
    ap.add_argument("--records", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=None)
    ap.add_argument("--sections", default="eval,compile,memory")
    args = ap.parse_args()
    n = args.records or (20_000 if args.quick else 200_000)
    repeat = args.repeat or (3 if args.quick else 5)
    sections = set(args.sections.split(","))
    import platform

    print(
        f"# filterdsl benchmarks: Python {platform.python_version()}, {os.cpu_count()} cores, {platform.machine()}"
    )
    ratios: list[float] = []
    target: float | None = None
    warn: list[str] = []
    if "eval" in sections:
        ratios = section_eval(n, repeat)
    if "compile" in sections:
        target, warn = section_compile(args.quick)
    if "memory" in sections:
        section_memory()
    print("\n## Targets\n")
    if ratios:
        ok = min(ratios) >= 0.8
        print(
            f"- predicate >= 0.8x lambda on every filter: {'PASS' if ok else 'FAIL'} (min {min(ratios):.2f}x)"
        )
    if target is not None:
        print(
            f"- parse+validate+to_sql (10 conditions, new values each call) < 300 us: "
            f"{'PASS' if target < 300 else 'FAIL'} ({target:,.0f} us)"
        )
    if "compile" in sections:
        print(f"- nothing quadratic (us/condition at most 2x from N/10 to N): {'FAIL' if warn else 'PASS'}")
        for w in warn:
            print(f"  - {w}")


if __name__ == "__main__":
    main()
