"""Index-served SQL: filterdsl's SQL against hand-written SQL of the same semantics, on indexed tables.

PostgreSQL and MariaDB (the local servers), ``--rows`` rows (default 1,000,000) in both layouts (JSON
document, one column per field). Every table gets the indexes ``filterdsl indexes`` advises plus the ones
a DBA writes for the hand-written queries (GIN ``jsonb_path_ops`` on the document, btree per column), so
both sides run against the same indexes. Each filter kind runs at 0.1% and 10% selectivity with the
default order and ``LIMIT 100``; printed: median ms of both, their ratio, the plan's access path, and the
SQL text sizes. Then the first-compile latency of a 10-condition filter (``sqlglotc`` is used when
installed: same API, compiled with mypyc).

    python benchmarks/bench_indexes.py [--rows N] [--repeat R] [--engines postgres,mysql] [--layouts json,columns] [--keep]
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from filterdsl.ast import And, Compare, Field, FieldType, Op, Query  # noqa: E402
from filterdsl.backends.sql import ColumnsLayout, JsonLayout, clear_sql_cache, to_sql  # noqa: E402
from filterdsl.backends.sql.indexes import advise  # noqa: E402
from filterdsl.semantics.days import next_day  # noqa: E402

T = FieldType
DB = "db"
CODE, AMOUNT, VIP, ACTIVE, DAY, NAME = (
    Field("code", T.STRING),
    Field("amount", T.NUMBER),
    Field("vip", T.BOOLEAN),
    Field("active", T.BOOLEAN),
    Field("day", T.DATE),
    Field("name", T.STRING),
)
COLS = {"code": "code", "amount": "amount", "vip": "vip", "active": "active", "day": "day", "name": "name"}
DAYS = 2740  # 2019-01-01 + i % DAYS


def rows(n: int) -> list[tuple[Any, ...]]:
    """(id, created_at, data dict) with exact selectivities: code "rare" 0.1%, "common" 10%, vip 0.1%,
    active 10%; amount a permutation of 0..n-1; day spread over DAYS days; name a permutation."""
    rnd = random.Random(5)
    perm = list(range(n))
    rnd.shuffle(perm)
    perm2 = perm[:]
    rnd.shuffle(perm2)
    base = datetime.date(2019, 1, 1)
    out = []
    for i in range(n):
        p = perm[i]
        code = "rare" if p % 1000 == 0 else ("common" if p % 10 == 1 else f"v{p % 887}")
        data = {
            "code": code,
            "amount": perm2[i],
            "vip": p % 1000 == 3,
            "active": p % 10 == 4,
            "day": (base + datetime.timedelta(days=p % DAYS)).isoformat(),
            "name": f"name-{p:07d}",
        }
        out.append((f"r{i:07d}", f"2021-{1 + i % 12:02d}-{1 + i % 28:02d}T{i % 24:02d}:00:00.000000Z", data))
    return out


def cases(n: int) -> list[tuple[str, str, Any]]:
    """(kind, selectivity, predicate)."""
    last = datetime.date(2019, 1, 1) + datetime.timedelta(days=DAYS - 1)
    after = {
        s: (last - datetime.timedelta(days=round(DAYS * f))).isoformat()
        for s, f in (("0.1%", 0.001), ("10%", 0.1))
    }
    return [
        ("string is", "0.1%", Compare(CODE, Op.EQ, "rare")),
        ("string is", "10%", Compare(CODE, Op.EQ, "common")),
        ("is-any-of", "0.1%", Compare(CODE, Op.IN, ("rare", "none"))),
        ("is-any-of", "10%", Compare(CODE, Op.IN, ("common", "none"))),
        ("number >=", "0.1%", Compare(AMOUNT, Op.GTE, n - n // 1000)),
        ("number >=", "10%", Compare(AMOUNT, Op.GTE, n - n // 10)),
        ("boolean is", "0.1%", Compare(VIP, Op.EQ, True)),
        ("boolean is", "10%", Compare(ACTIVE, Op.EQ, True)),
        ("date is-after", "0.1%", Compare(DAY, Op.GT, after["0.1%"])),
        ("date is-after", "10%", Compare(DAY, Op.GT, after["10%"])),
        ("starts-with", "0.1%", Compare(NAME, Op.STARTS_WITH, f"name-{(n - 1) // 1000:04d}")),
        ("starts-with", "10%", Compare(NAME, Op.STARTS_WITH, f"name-{(n - 1) // 100000:02d}")),
    ]


def hand(engine: str, layout: str, pred: Compare, table: str) -> tuple[str, list[Any]]:
    """What a DBA writes for the same semantics (type-strict, code-point text, ``""`` never matches)."""
    k, op = pred.field.key, pred.op
    v: Any = pred.value  # the case list pairs each operator with its value type
    if engine == "postgres":
        sel = f'SELECT id, created_at, updated_at, removed_at, {"data" if layout == "json" else ", ".join(COLS)} FROM "{table}"'
        order = " ORDER BY created_at DESC, id LIMIT 100"
        if layout == "json":
            if op is Op.EQ and pred.field.type in (T.STRING, T.BOOLEAN):
                return f"{sel} WHERE data @> %s::jsonb{order}", [json.dumps({k: v})]
            if op is Op.IN:
                return f"{sel} WHERE data -> '{k}' IN ({', '.join(['%s::jsonb'] * len(v))}){order}", [
                    json.dumps(x) for x in v
                ]
            if op is Op.GTE:
                return (
                    f"{sel} WHERE data -> '{k}' >= %s::jsonb AND jsonb_typeof(data -> '{k}') = 'number'{order}",
                    [json.dumps(v)],
                )
            if op is Op.GT:
                nd = next_day(v)
                return (
                    f"{sel} WHERE (data ->> '{k}') COLLATE \"C\" >= %s AND jsonb_typeof(data -> '{k}') = 'string'"
                    f"{order}"
                ), [nd]
            return (
                f"{sel} WHERE lower(data ->> '{k}') LIKE %s AND jsonb_typeof(data -> '{k}') = 'string'{order}",
                [v.lower() + "%"],
            )
        if op is Op.EQ:
            return f"{sel} WHERE {k} = %s{order}", [v]
        if op is Op.IN:
            return f"{sel} WHERE {k} IN ({', '.join(['%s'] * len(v))}){order}", list(v)
        if op is Op.GTE:
            return f"{sel} WHERE {k} >= %s{order}", [v]
        if op is Op.GT:
            nd = next_day(v)
            return f'{sel} WHERE {k} COLLATE "C" >= %s{order}', [nd]
        return f"{sel} WHERE lower({k}) LIKE %s{order}", [v.lower() + "%"]
    sel = f"SELECT id, created_at, updated_at, removed_at, {'data' if layout == 'json' else ', '.join(COLS)} FROM `{table}`"
    order = " ORDER BY created_at DESC, id LIMIT 100"
    if layout == "json":
        col = f"JSON_VALUE(data, '$.{k}')"
        if op is Op.EQ and pred.field.type is T.BOOLEAN:
            return f"{sel} WHERE JSON_EXTRACT(data, '$.{k}') = true{order}", []
        if op is Op.EQ:
            return f"{sel} WHERE {col} = %s{order}", [v]
        if op is Op.IN:
            return f"{sel} WHERE {col} IN ({', '.join(['%s'] * len(v))}){order}", list(v)
        if op is Op.GTE:
            return f"{sel} WHERE JSON_EXTRACT(data, '$.{k}') >= %s{order}", [v]
        if op is Op.GT:
            return f"{sel} WHERE {col} > %s{order}", [v + "~"]
        return f"{sel} WHERE {col} LIKE %s{order}", [v + "%"]
    if op is Op.EQ:
        return f"{sel} WHERE {k} = %s{order}", [v]
    if op is Op.IN:
        return f"{sel} WHERE {k} IN ({', '.join(['%s'] * len(v))}){order}", list(v)
    if op is Op.GTE:
        return f"{sel} WHERE {k} >= %s{order}", [v]
    if op is Op.GT:
        return f"{sel} WHERE {k} > %s{order}", [v + "~"]
    return f"{sel} WHERE {k} LIKE %s{order}", [v + "%"]


# ---------------------------------------------------------------- engines
def pg_setup(data: list[tuple[Any, ...]], tables: dict[str, str]) -> Any:
    import psycopg

    con = psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True)
    tj, tc = tables["json"], tables["columns"]
    for t in (tj, tc):
        con.execute(f'DROP TABLE IF EXISTS "{t}"')
    con.execute(
        f'CREATE TABLE "{tj}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, '
        "removed_at TEXT, data JSONB NOT NULL)"
    )
    con.execute(
        f'CREATE TABLE "{tc}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, '
        "removed_at TEXT, code TEXT, amount DOUBLE PRECISION, vip BOOLEAN, active BOOLEAN, day TEXT, name TEXT)"
    )
    with con.cursor() as cur:
        with cur.copy(f'COPY "{tj}" (id, created_at, data) FROM STDIN') as cp:
            for i, c, d in data:
                cp.write_row((i, c, json.dumps(d)))
        with cur.copy(f'COPY "{tc}" (id, created_at, code, amount, vip, active, day, name) FROM STDIN') as cp:
            for i, c, d in data:
                cp.write_row((i, c, d["code"], d["amount"], d["vip"], d["active"], d["day"], d["name"]))
    return con


def my_setup(data: list[tuple[Any, ...]], tables: dict[str, str]) -> Any:
    import pymysql

    con = pymysql.connect(host="127.0.0.1", user="root", database="test", charset="utf8mb4", autocommit=True)
    tj, tc = tables["json"], tables["columns"]
    with con.cursor() as cur:
        for t in (tj, tc):
            cur.execute(f"DROP TABLE IF EXISTS `{t}`")
        cur.execute(
            f"CREATE TABLE `{tj}` (id VARCHAR(32) COLLATE utf8mb4_bin PRIMARY KEY, created_at VARCHAR(40) NOT "
            "NULL, updated_at VARCHAR(40), removed_at VARCHAR(40), data LONGTEXT COLLATE utf8mb4_bin NOT NULL) "
            "DEFAULT CHARSET=utf8mb4"
        )
        cur.execute(
            f"CREATE TABLE `{tc}` (id VARCHAR(32) COLLATE utf8mb4_bin PRIMARY KEY, created_at VARCHAR(40) NOT "
            "NULL, updated_at VARCHAR(40), removed_at VARCHAR(40), code VARCHAR(32), amount DOUBLE, "
            "vip BOOLEAN, active BOOLEAN, day VARCHAR(40), name VARCHAR(32)) DEFAULT CHARSET=utf8mb4"
        )
        for s in range(0, len(data), 5000):
            chunk = data[s : s + 5000]
            cur.executemany(
                f"INSERT INTO `{tj}` (id, created_at, data) VALUES (%s, %s, %s)",
                [(i, c, json.dumps(d)) for i, c, d in chunk],
            )
            cur.executemany(
                f"INSERT INTO `{tc}` (id, created_at, code, amount, vip, active, day, name) VALUES "
                "(%s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (i, c, d["code"], d["amount"], d["vip"], d["active"], d["day"], d["name"])
                    for i, c, d in chunk
                ],
            )
    return con


def execute(con: Any, sql: str, params: Any) -> list[Any]:
    with con.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall()) if cur.description else []


def plan(engine: str, con: Any, sql: str, params: Any) -> str:
    with con.cursor() as cur:
        cur.execute("EXPLAIN " + sql, params)
        rows_ = cur.fetchall()
    if engine == "postgres":
        lines = [r[0].strip().lstrip("-> ").split("  (")[0] for r in rows_]
        scans = [ln for ln in lines if "Scan" in ln]
        return scans[-1].split(" on ")[0] if scans else lines[0]
    cols = [c[0] for c in cur.description]
    first = dict(zip(cols, rows_[0]))
    return f"{first['type']}" + (f" {first['key']}" if first.get("key") else "")


def median_ms(a: Callable[[], Any], b: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Medians of ``a`` and ``b``, run alternately so load from elsewhere falls on both alike."""
    a(), b()  # warm
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(repeat):
        for fn, out in ((a, ta), (b, tb)):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
    return statistics.median(ta), statistics.median(tb)


def first_compile_us(repeat: int = 30) -> float:
    fields = [Field(f"f{i}", T.STRING if i % 2 else T.NUMBER) for i in range(10)]
    times = []
    for r in range(repeat):
        pred = And(tuple(Compare(f, Op.EQ, "x" if f.type is T.STRING else r) for f in fields))
        clear_sql_cache()
        t0 = time.perf_counter()
        to_sql(Query(pred, database=DB), "postgres")
        times.append((time.perf_counter() - t0) * 1e6)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--engines", default="postgres,mysql")
    ap.add_argument("--layouts", default="json,columns", help="which layouts to measure")
    ap.add_argument("--keep", action="store_true", help="keep the tables (to read plans by hand)")
    args = ap.parse_args()
    n = args.rows
    data = rows(n)
    cs = cases(n)
    print(f"# bench_indexes: {n:,} rows, median of {args.repeat}, LIMIT 100, default order\n")
    for engine in args.engines.split(","):
        tables = {"json": f"bix_json_{engine}", "columns": f"bix_cols_{engine}"}
        t0 = time.perf_counter()
        con = (pg_setup if engine == "postgres" else my_setup)(data, tables)
        load = time.perf_counter() - t0
        t0 = time.perf_counter()
        # MariaDB's text columns have its default collation, utf8mb4_general_ci: declared, so that a
        # case-insensitive prefix gets the LIKE its index serves
        ci = "utf8mb4_general_ci" if engine == "mysql" else None
        layouts: dict[str, JsonLayout | ColumnsLayout] = {
            "json": JsonLayout(tables={DB: tables["json"]}),
            "columns": ColumnsLayout(tables={DB: tables["columns"]}, columns={DB: COLS}, ci_collation=ci),
        }
        layouts = {k: v for k, v in layouts.items() if k in args.layouts.split(",")}
        dialect = "postgres" if engine == "postgres" else "mysql"
        for lay_name, lay in layouts.items():
            stmts = advise([Query(p, database=DB) for _, _, p in cs], dialect, lay).statements
            t = tables[lay_name]
            if engine == "postgres" and lay_name == "json":
                stmts.append(f'CREATE INDEX IF NOT EXISTS "{t}_gin" ON "{t}" USING gin (data jsonb_path_ops)')
            if lay_name == "columns":
                q = '"' if engine == "postgres" else "`"
                stmts += [f"CREATE INDEX {q}{t}_{c}{q} ON {q}{t}{q} ({c})" for c in COLS]
                if engine == "postgres":
                    stmts.append(f'CREATE INDEX "{t}_order" ON "{t}" (created_at DESC, id)')
            if engine == "mysql":
                stmts.append(f"CREATE INDEX `{t}_order` ON `{t}` (created_at, id)")
            for s in stmts:
                try:
                    execute(con, s, None)
                except Exception as e:  # noqa: BLE001 - the same index under two names
                    if "exists" not in str(e).lower() and "duplicate" not in str(e).lower():
                        raise
            execute(con, f'ANALYZE "{t}"' if engine == "postgres" else f"ANALYZE TABLE `{t}`", None)
        index_time = time.perf_counter() - t0
        print(f"## {engine}: load {load:.1f} s, indexes {index_time:.1f} s\n")
        print(
            "| layout | filter | selectivity | filterdsl ms | hand-written ms | ratio | filterdsl plan | hand plan | rows |"
        )
        print("|---|---|---|---:|---:|---:|---|---|---:|")
        for lay_name, lay in layouts.items():
            for kind, sel, pred in cs:
                sql, params = to_sql(Query(pred, limit=100, database=DB), dialect, lay)
                hsql, hparams = hand(engine, lay_name, pred, tables[lay_name])
                ours = execute(con, sql, params)
                theirs = execute(con, hsql, hparams)
                assert [r[0] for r in ours] == [r[0] for r in theirs], (engine, lay_name, kind, sel)
                a, b = median_ms(
                    functools.partial(execute, con, sql, params),
                    functools.partial(execute, con, hsql, hparams),
                    args.repeat,
                )
                print(
                    f"| {lay_name} | {kind} | {sel} | {a:.2f} | {b:.2f} | {a / b:.2f} | "
                    f"{plan(engine, con, sql, params)} | {plan(engine, con, hsql, hparams)} | {len(ours)} |"
                )
        print()
        print("| layout | one-condition filter | filterdsl SQL chars | hand-written chars | ratio |")
        print("|---|---|---:|---:|---:|")
        for lay_name, lay in layouts.items():
            for kind, sel, pred in cs:
                if sel != "0.1%":
                    continue
                sql, _ = to_sql(Query(pred, limit=100, database=DB), dialect, lay)
                hsql, _ = hand(engine, lay_name, pred, tables[lay_name])
                print(f"| {lay_name} | {kind} | {len(sql)} | {len(hsql)} | {len(sql) / len(hsql):.2f} |")
        print()
        for t in () if args.keep else tables.values():
            execute(
                con,
                f'DROP TABLE IF EXISTS "{t}"' if engine == "postgres" else f"DROP TABLE IF EXISTS `{t}`",
                None,
            )
        con.close()
    print(
        f"first compile, 10 conditions, PostgreSQL: {first_compile_us():.0f} us (median of 30 fresh shapes)"
    )


if __name__ == "__main__":
    main()
