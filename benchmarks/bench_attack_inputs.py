"""Time every input of the issue 17 attack (and the fuzz findings) through the library: each must end
in a result or a located FilterError, under 1 s for inputs under 1 MB (or be refused by a limit).

    python benchmarks/bench_attack_inputs.py [--repeat 3] [--cold-only]

Prints one row per input: its size, the median wall time of --repeat runs, and the outcome (``ok``
or the first diagnostic's code and location). Timings depend on the machine's load: the script prints
the load average next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import string
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from filterdsl import FilterError, load_catalog, parse
from filterdsl.api import Format, apply, parse_result, to_sql

ROOT = Path(__file__).resolve().parent.parent
CAT = load_catalog(ROOT / "tests" / "corpus" / "catalog.json")
ORDERS = "ixuPJwBRqtRP3GpoM"


def big_catalog() -> tuple[Any, list[str]]:
    rnd = random.Random(7)
    ids = ["".join(rnd.choices(string.ascii_letters + string.digits, k=17)) for _ in range(20_000)]
    fields = [{"_id": i, "name": f"Field {k}", "type": "string"} for k, i in enumerate(ids)]
    return load_catalog([{"_id": "db", "name": "DB", "fields": fields}]), ids


def cases() -> list[tuple[str, int, Callable[[], Any]]]:
    big, _ = big_catalog()
    three_k = parse(
        {
            "filter": {
                "fields": {
                    "Nb6uqwKdxh3BFX3De": {
                        "filters": [{"by": "contains", "value": f"v{i}"} for i in range(3_000)],
                        "conjunction": "or",
                    }
                }
            }
        },
        catalog=CAT,
        database=ORDERS,
    )
    unknown = {
        "fields": {
            "".join(random.Random(i).choices(string.ascii_letters, k=17)): {
                "filters": [{"by": "is", "value": "x"}]
            }
            for i in range(200)
        }
    }
    out: list[tuple[str, int, Callable[[], Any]]] = []

    def add(name: str, src: Any, fn: Callable[[], Any]) -> None:
        size = len(src.encode("utf-8", "surrogatepass")) if isinstance(src, str) else len(json.dumps(src))
        out.append((name, size, fn))

    def pq(src: Any, fmt: str = "pitchly", **kw: Any) -> Callable[[], Any]:
        return lambda: parse(src, cast(Format, fmt), **kw)

    s = "end_date=9999-12-31"
    add("H1 end_date=9999-12-31 (apply)", s, lambda: apply(parse("end_date=9999-12-31", "pixiebrix"), []))
    for s in ("page=9223372036854775808", "page=" + "9" * 5000):
        add(f"H2 {s[:30]}", s, pq(s, "pixiebrix"))
    s = '{"skip": ' + "9" * 5000 + "}"
    add("H2 JSON number of 5,000 digits", s, pq(s, catalog=CAT, database=ORDERS))
    for n in (500, 1000, 5000):
        s = "ordering=" + ",".join(f"data__k{i}" for i in range(n))
        add(f"H4 ordering with {n} keys", s, pq(s, "pixiebrix"))
    for n in (300, 2000, 100_000):
        s = "not " * n + "x is 1"
        add(f"H5 {n} nots (text)", s, pq(s, "text"))
    for n in (100_000, 200_000):
        s = "{" + "a:1," * n + "}"
        add(f"H6 {n:,} relaxed duplicate keys", s, pq(s, catalog=CAT, database=ORDERS))
    s = "{" + '"a":1,' * 150_000 + '"b":1}'
    add("H6 150,000 strict duplicate keys", s, pq(s, catalog=CAT, database=ORDERS))
    s = "[" + "1," * 500_000 + "1]"
    add("H6 array of 500,001 numbers", s, pq(s, catalog=CAT, database=ORDERS))
    s = json.dumps({"fields": {f"k{i}": {} for i in range(40_000)}})
    add("40,000 unknown field keys", s, pq(s, catalog=CAT, database=ORDERS))
    s = "{x:'a\\u{41}'}"
    add("M4 relaxed \\u{41}", s, pq(s, catalog=CAT, database=ORDERS))
    s = '"' * 900_000
    add("L2 900,000 quotes (quoted search)", s, pq(s, "search", quoted=True))
    s = '"' + 'a\\"' * 300_000 + '"'
    add("L2 one 900 KB quoted term", s, pq(s, "search", quoted=True))
    add(
        "L2 200 unknown keys, 20,000-field catalog",
        unknown,
        lambda: parse_result(unknown, catalog=big, database="db"),
    )
    add("L2 3,000 conditions to_sql postgres", "x" * 0, lambda: to_sql(three_k, "postgres", catalog=CAT))
    add("L2 3,000 conditions to_sql sqlite", "x" * 0, lambda: to_sql(three_k, "sqlite", catalog=CAT))
    return out


#: issue 26 (H5): the largest inputs within the limits, each compiled COLD (a fresh process: nothing
#: cached, sqlglot's dialects loaded at import) for every backend
COLD_INPUTS = {
    "9,990 contains (Pitchly, 450 KB)": "pitchly_or",
    "2,999 contains (Pitchly, at the SQL budget)": "pitchly_budget",
    "1,499 contains (at MySQL's budget: text tests count twice)": "pitchly_mysql_budget",
    "9,990 data__kN=v (PixieBrix, 140 KB)": "pixiebrix_keys",
    "search, 20,000-field catalog": "catalog_search",
}
COLD_BACKENDS = ("sqlite", "postgres", "mysql", "duckdb", "clickhouse", "spark", "mongo", "memory")
COLD_SCRIPT = r"""
import json, random, string, sys, time, warnings
warnings.simplefilter("ignore")
from filterdsl import FilterError, load_catalog, parse
from filterdsl.api import apply, to_mongo, to_sql
root, which, backend = sys.argv[1:4]
cat = load_catalog(root + "/tests/corpus/catalog.json")
db = "ixuPJwBRqtRP3GpoM"
def pitchly(n):
    fs = [{"by": "contains", "value": f"v{i}"} for i in range(n)]
    return parse({"filter": {"fields": {"Nb6uqwKdxh3BFX3De": {"filters": fs, "conjunction": "or"}}}},
                 catalog=cat, database=db)
if which == "pitchly_or":
    q = pitchly(9_990)
elif which == "pitchly_budget":
    q = pitchly(2_999)
elif which == "pitchly_mysql_budget":
    q = pitchly(1_499)
elif which == "pixiebrix_keys":
    q = parse("&".join(f"data__k{i}=v{i}" for i in range(9_990)), "pixiebrix")
else:
    rnd = random.Random(7)
    ids = ["".join(rnd.choices(string.ascii_letters + string.digits, k=17)) for _ in range(20_000)]
    fields = [{"_id": i, "name": f"Field {k}", "type": "string"} for k, i in enumerate(ids)]
    cat = load_catalog([{"_id": "db", "name": "DB", "fields": fields}])
    db = "db"
    q = parse({"search": "order, a|b"}, catalog=cat, database=db)
rows = [{"_id": f"r{i}", "createdAt": "2020-01-01T00:00:00Z", "cols": []} for i in range(100)]
import filterdsl.backends.memory, filterdsl.backends.mongo, filterdsl.backends.sql  # a server's startup
w, c = time.perf_counter(), time.process_time()
try:
    if backend == "mongo":
        to_mongo(q, catalog=cat)
    elif backend == "memory":
        apply(q, {db: rows}, catalog=cat)
    else:
        to_sql(q, backend, catalog=cat)
    out = "ok"
except FilterError as e:
    out = e.diagnostics[0].code
print(json.dumps([time.perf_counter() - w, time.process_time() - c, out]))
"""


def cold_table() -> None:
    import subprocess
    import sys

    print("\ncold compile, one fresh process per cell: wall s / CPU s, or the refusal's code")
    print("| input | " + " | ".join(COLD_BACKENDS) + " |")
    print("|---|" + "---:|" * len(COLD_BACKENDS))
    for name, which in COLD_INPUTS.items():
        cells = []
        for backend in COLD_BACKENDS:
            proc = subprocess.run(
                [sys.executable, "-c", COLD_SCRIPT, str(ROOT), which, backend],
                capture_output=True,
                text=True,
                timeout=600,
            )
            if proc.returncode:
                cells.append("CRASH " + proc.stderr.strip().splitlines()[-1][:60])
                continue
            wall, cpu, out = json.loads(proc.stdout)
            cells.append(f"{wall:.2f} / {cpu:.2f}" + ("" if out == "ok" else f" {out}"))
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cold-only", action="store_true", help="only the cold per-backend table")
    args = ap.parse_args()
    if args.cold_only:
        print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        cold_table()
        return
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print("| input | bytes | median s | outcome |")
    print("|---|---:|---:|---|")
    for name, size, fn in cases():
        times, outcome = [], ""
        for i in range(args.repeat):
            if name.startswith("L2 3,000 conditions") and i == 0:
                from filterdsl.backends.sql import clear_sql_cache

                clear_sql_cache()  # cold: the SQL shape cache would make later calls a lookup
            t0 = time.perf_counter()
            try:
                fn()
                outcome = "ok"
            except FilterError as e:
                d = e.errors[0] if e.errors else e.diagnostics[0]
                outcome = f"{d.code} at {d.location.to_json()}"
            except Exception as e:  # what the issue is about: must never happen
                outcome = f"UNEXPECTED {type(e).__name__}: {e}"
            times.append(time.perf_counter() - t0)
            if name.startswith("L2 3,000 conditions"):
                break  # cold compile only
        print(f"| {name} | {size:,} | {statistics.median(times):.3f} | {outcome[:90]} |")
    cold_table()


if __name__ == "__main__":
    main()
