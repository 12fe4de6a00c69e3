"""Index-served SQL: filterdsl's SQL against hand-written SQL of the same semantics, on indexed tables.

PostgreSQL and MariaDB (the local servers), ``--rows`` rows (default 1,000,000) in both layouts (JSON
document, one column per field). Every table gets the indexes ``filterdsl indexes`` advises plus the ones
a DBA writes for the hand-written queries (GIN ``jsonb_path_ops`` on the document, btree per column), so
both sides run against the same indexes. Each filter kind runs at 0.1% and 10% selectivity with the
default order and ``LIMIT 100``; printed: median ms of both, their ratio, the plan's access path, and the
SQL text sizes. Then the first-compile latency of a 10-condition filter (``sqlglotc`` is used when
installed: same API, compiled with mypyc).

The listing section (issue 27) runs a server's usual requests on orders, clients and regions tables with
only the indexes ``filterdsl indexes`` advises: sorted and default-order pages, skip 10,000, relations at
depth 1 and 2, and counts, each against the hand-written SQL (same ids asserted). Servers are read from
FILTERDSL_PG_URL / FILTERDSL_MYSQL_URL (default: the ``test`` databases).

The habitual section (issue 27 D3, PostgreSQL) runs the filters on a JSON table with only a DBA's habitual
indexes (``->>`` text, ``::numeric``): filterdsl's default SQL, its ``JsonLayout(text_indexes=True)`` SQL and
hand-written SQL, and each form's full scan without an index.

    python benchmarks/bench_indexes.py [--rows N] [--repeat R] [--engines postgres,mysql] [--layouts json,columns] [--sections filters,listing,habitual] [--keep]
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import functools
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from filterdsl.ast import TRUE, And, Compare, Field, FieldType, Op, Query, Relation, SortKey  # noqa: E402
from filterdsl.backends.sql import ColumnsLayout, JsonLayout, clear_sql_cache, to_sql  # noqa: E402
from filterdsl.backends.sql.indexes import advise  # noqa: E402
from filterdsl.semantics.cursor import cursor_of  # noqa: E402
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


PG_URL = os.environ.get("FILTERDSL_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
MYSQL_URL = os.environ.get("FILTERDSL_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")


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

    con = psycopg.connect(PG_URL, autocommit=True)
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

    from filterdsl.backends.sql.runners import _mysql_args

    con = pymysql.connect(**_mysql_args(MYSQL_URL), autocommit=True)
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


# ---------------------------------------------------------------- listing pages (issue 27)
NCLIENT_PER = 10  # one client per 10 orders
CLIENT, TIER, REGION, RNAME = (
    Field("client", T.REF),
    Field("tier", T.ENUM),
    Field("region", T.REF),
    Field("rname", T.STRING),
)
LCOLS: dict[str, dict[str, Any]] = {
    "orders": {
        "code": "code",
        # NOT NULL columns, declared (ColumnSpec.not_null): a keyset page after a descending amount
        # then needs no "OR amount IS NULL", and PostgreSQL's index walk starts at the cursor
        "amount": {"column": "amount", "not_null": True},
        "day": {"column": "day", "days": True, "not_null": True},
        "client": "client",
    },
    "clients": {"tier": "tier", "region": "region"},
    "regions": {"rname": "rname"},
}


#: --only: the listing requests measured (all when empty)
ONLY: tuple[str, ...] = ()


def listing_data(data: list[tuple[Any, ...]]) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    n = len(data)
    nc = max(1, n // NCLIENT_PER)
    orders = [(i, c, {**d, "client": f"c{int(i[1:]) * 7 % nc:07d}"}) for i, c, d in data]
    clients = [
        (
            f"c{j:07d}",
            f"2020-01-{1 + j % 28:02d}T00:00:00.000000Z",
            {"tier": "gold" if j % 1000 == 3 else "std", "region": f"g{j % 100:03d}"},
        )
        for j in range(nc)
    ]
    regions = [
        (f"g{k:03d}", "2020-01-01T00:00:00.000000Z", {"rname": "north" if k == 7 else f"r{k}"})
        for k in range(100)
    ]
    return {"orders": orders, "clients": clients, "regions": regions}


def listing_workloads(n: int) -> list[tuple[str, Query, bool]]:
    """(label, query, count): the requests of issue 27's table."""
    common = Compare(CODE, Op.EQ, "common")
    by_amount, by_day = (SortKey(AMOUNT, True),), (SortKey(DAY),)
    depth1 = Relation(CLIENT, "clients", Compare(TIER, Op.EQ, "gold"))
    depth2 = Relation(CLIENT, "clients", Relation(REGION, "regions", Compare(RNAME, Op.EQ, "north")))
    q = functools.partial(Query, database="orders")
    return [
        ("sort amount desc", q(TRUE, by_amount, 0, 100), False),
        ("filter + sort amount desc", q(common, by_amount, 0, 100), False),
        ("sort date asc", q(TRUE, by_day, 0, 100), False),
        ("default order", q(TRUE, (), 0, 100), False),
        ("skip 10,000, sort amount", q(TRUE, by_amount, 10000, 100), False),
        ("skip 10,000, sort date", q(TRUE, by_day, 10000, 100), False),
        ("skip 10,000, default order", q(TRUE, (), 10000, 100), False),
        # Query.after: the cursor of the 10,000th row of the same order (keyset_cursors fills it in)
        ("keyset after 10,000, sort amount", q(TRUE, by_amount, 0, 100), False),
        ("keyset after 10,000, sort date", q(TRUE, by_day, 0, 100), False),
        ("keyset after 10,000, default order", q(TRUE, (), 0, 100), False),
        ("relation depth 1", q(depth1, (), 0, 100), False),
        ("relation depth 2", q(depth2, (), 0, 100), False),
        ("count, relation depth 1", q(depth1), True),
        ("count, no filter", q(TRUE), True),
    ]


def keyset_cursors(
    work: list[tuple[str, Query, bool]], ld: dict[str, list[Any]], dialect: str, lay: Any, con: Any
) -> list[tuple[str, Query, bool]]:
    """The keyset requests get the cursor of the 10,000th row of their order (as a client holds it
    after paging there: filterdsl.next_cursor of that row)."""
    docs = {
        i: {"id": i, "created_at": c, "updated_at": None, "removed_at": None, "data": d}
        for i, c, d in ld["orders"]
    }
    out = []
    for label, q, count in work:
        if label.startswith("keyset"):
            sql, params = to_sql(dataclasses.replace(q, skip=9999, limit=1), dialect, lay)
            last = execute(con, sql, params)[0][0]
            q = dataclasses.replace(q, after=cursor_of(q, docs[last]))
        out.append((label, q, count))
    return out


def listing_hand(engine: str, layout: str, label: str, q: Query, t: dict[str, str]) -> tuple[str, list[Any]]:
    """The same requests as a DBA writes them (the data has no wrong types and no NULLs, so plain
    orders and joins have SPEC 8's semantics here; the ids are asserted equal)."""
    pg = engine == "postgres"
    Q = (lambda x: f'"{x}"') if pg else (lambda x: f"`{x}`")
    o, c, r = Q(t["orders"]), Q(t["clients"]), Q(t["regions"])
    json_ = layout == "json"

    def v(k: str, tbl: str = "o") -> str:
        if not json_:
            return f"{tbl}.{k}"
        return f"({tbl}.data ->> '{k}')" if pg else f"JSON_VALUE({tbl}.data, '$.{k}')"

    cols = "o.id, o.created_at, o.updated_at, o.removed_at, " + (
        "o.data" if json_ else ", ".join(f"o.{k}" for k in LCOLS["orders"])
    )
    amount = "(o.data -> 'amount')" if json_ and pg else v("amount")
    tie = "o.created_at DESC, o.id"
    order = {
        "amount": f"{amount} DESC{' NULLS LAST' if pg else ''}, {tie}",
        "day": f"{v('day')}{' NULLS FIRST' if pg else ''}, {tie}",
        "": tie,
    }[q.sort[0].key.key if q.sort else ""]  # type: ignore[union-attr]
    page = f" LIMIT {q.limit} OFFSET {q.skip}" if q.limit else ""
    if q.after is not None:  # keyset as a DBA writes it (no NULLs, no wrong types in this data)
        cur = q.after
        ts, rid = cur.created_at, cur.id
        after_tie = "(o.created_at < %s OR (o.created_at = %s AND o.id > %s))"
        if not q.sort:
            where = "o.created_at <= %s AND (o.created_at < %s OR o.id > %s)"
            return f"SELECT {cols} FROM {o} o WHERE {where} ORDER BY {order}{page}", [ts, ts, rid]
        x: Any = cur.keys[0].value
        key = q.sort[0].key.key  # type: ignore[union-attr]
        if key == "amount":
            e, mark = amount, ("CAST(%s AS JSONB)" if json_ and pg else "%s")
            x = json.dumps(x) if json_ and pg else x
            if pg:  # the row comparison PostgreSQL's index takes as a start, then the tie
                where = f"({e}, o.created_at) <= ({mark}, %s) AND ({e} < {mark} OR o.created_at < %s OR o.id > %s)"
                ps = [x, ts, x, ts, rid]
            else:
                where = f"{e} <= %s AND ({e} < %s OR ({e} = %s AND {after_tie}))"
                ps = [x, x, x, ts, ts, rid]
        else:
            e = v("day")
            where = f"{e} >= %s AND ({e} > %s OR ({e} = %s AND {after_tie}))"
            ps = [x, x, x, ts, ts, rid]
        return f"SELECT {cols} FROM {o} o WHERE {where} ORDER BY {order}{page}", ps
    if "depth 1" in label:
        frm = f"{o} o JOIN {c} c ON c.id = {v('client')} AND c.removed_at IS NULL AND {v('tier', 'c')} = %s"
        params: list[Any] = ["gold"]
    elif "depth 2" in label:
        frm = (
            f"{o} o JOIN {c} c ON c.id = {v('client')} AND c.removed_at IS NULL "
            f"JOIN {r} g ON g.id = {v('region', 'c')} AND g.removed_at IS NULL AND {v('rname', 'g')} = %s"
        )
        params = ["north"]
    elif "filter +" in label:
        frm, params = f"{o} o WHERE {v('code')} = %s", ["common"]
    else:
        frm, params = f"{o} o", []
    if label.startswith("count"):
        return f"SELECT COUNT(*) FROM {frm}", params
    return f"SELECT {cols} FROM {frm} ORDER BY {order}{page}", params


def listing_setup(engine: str, con: Any, ld: dict[str, list[Any]], layout: str, t: dict[str, str]) -> None:
    pg = engine == "postgres"
    for db, rows_ in ld.items():
        name = t[db]
        execute(con, f'DROP TABLE IF EXISTS "{name}"' if pg else f"DROP TABLE IF EXISTS `{name}`", None)
        cols = list(LCOLS[db])
        if pg:
            body = ", ".join(
                [
                    'id TEXT COLLATE "C" PRIMARY KEY',
                    "created_at TEXT NOT NULL",
                    "updated_at TEXT",
                    "removed_at TEXT",
                ]
                + (
                    ["data JSONB NOT NULL"]
                    if layout == "json"
                    else [
                        f"{k} {'DOUBLE PRECISION' if k == 'amount' else 'TEXT'}"
                        + (" NOT NULL" if k in ("amount", "day") else "")
                        for k in cols
                    ]
                )
            )
            execute(con, f'CREATE TABLE "{name}" ({body})', None)
            with con.cursor() as cur:
                spec = (
                    "(id, created_at, data)" if layout == "json" else f"(id, created_at, {', '.join(cols)})"
                )
                with cur.copy(f'COPY "{name}" {spec} FROM STDIN') as cp:
                    for i, c, d in rows_:
                        cp.write_row(
                            (i, c, json.dumps(d)) if layout == "json" else (i, c, *[d[k] for k in cols])
                        )
        else:
            body = ", ".join(
                [
                    "id VARCHAR(32) COLLATE utf8mb4_nopad_bin PRIMARY KEY",
                    "created_at VARCHAR(40) NOT NULL",
                    "updated_at VARCHAR(40)",
                    "removed_at VARCHAR(40)",
                ]
                + [
                    f"{k} {'DOUBLE' if k == 'amount' else 'VARCHAR(40)'}"
                    + (" NOT NULL" if k in ("amount", "day") else "")
                    for k in cols
                ]
            )
            execute(con, f"CREATE TABLE `{name}` ({body}) DEFAULT CHARSET=utf8mb4", None)
            for s0 in range(0, len(rows_), 5000):
                execute_many(
                    con,
                    f"INSERT INTO `{name}` (id, created_at, {', '.join(cols)}) VALUES "
                    f"({', '.join(['%s'] * (2 + len(cols)))})",
                    [(i, c, *[d[k] for k in cols]) for i, c, d in rows_[s0 : s0 + 5000]],
                )


def dba_indexes(engine: str, layout: str, t: dict[str, str]) -> list[str]:
    """The indexes a DBA writes for the hand-written requests (so both sides have their own)."""
    pg = engine == "postgres"
    if pg and layout == "json":
        parts = {
            "orders": [
                "(data -> 'amount') DESC NULLS LAST, created_at DESC, id",
                "(data ->> 'day') NULLS FIRST, created_at DESC, id",
                "(data ->> 'client')",
                "(data ->> 'code')",
            ],
            "clients": ["(data ->> 'tier')", "(data ->> 'region')"],
            "regions": ["(data ->> 'rname')"],
        }
    else:
        nl, nf = (" NULLS LAST", " NULLS FIRST") if pg else ("", "")
        parts = {
            "orders": [
                f"amount DESC{nl}, created_at DESC, id",
                f"day{nf}, created_at DESC, id",
                "client",
                "code",
            ],
            "clients": ["tier", "region"],
            "regions": ["rname"],
        }
    out = []
    for db, ps in parts.items():
        for k, body in enumerate(ps):
            name = f"dba_{t[db]}_{k}"
            out.append(
                f'CREATE INDEX "{name}" ON "{t[db]}" ({body})'
                if pg
                else f"CREATE INDEX `{name}` ON `{t[db]}` ({body})"
            )
    return out


def listing_connect(engine: str) -> Any:
    if engine == "postgres":
        import psycopg

        return psycopg.connect(PG_URL, autocommit=True)
    import pymysql

    from filterdsl.backends.sql.runners import _mysql_args

    return pymysql.connect(**_mysql_args(MYSQL_URL), autocommit=True)


def execute_many(con: Any, sql: str, rows_: list[Any]) -> None:
    with con.cursor() as cur:
        cur.executemany(sql, rows_)


def run_listing(
    engine: str, con: Any, data: list[tuple[Any, ...]], layouts: list[str], repeat: int, keep: bool
) -> None:
    ld = listing_data(data)
    dialect = "postgres" if engine == "postgres" else "mysql"
    work = [w for w in listing_workloads(len(data)) if not ONLY or any(o in w[0] for o in ONLY)]
    print(f"## {engine}: listing pages, relations and counts (issue 27), on the advised indexes only\n")
    print("| layout | request | filterdsl ms | hand-written ms | ratio | filterdsl plan | hand plan | rows |")
    print("|---|---|---:|---:|---:|---|---|---:|")
    for layout in layouts:
        if engine != "postgres" and layout == "json":
            continue  # MariaDB indexes no JSON value: the JSON layout is a scan either way
        t = {db: f"bl_{layout[0]}_{db}_{engine}" for db in ld}
        t0 = time.perf_counter()
        listing_setup(engine, con, ld, layout, t)
        load = time.perf_counter() - t0
        lay: JsonLayout | ColumnsLayout = (
            JsonLayout(tables=t)
            if layout == "json"
            else ColumnsLayout(tables=t, columns=LCOLS, binary_id=True)
        )
        t0 = time.perf_counter()
        for stmt in advise([w[1] for w in work], dialect, lay).statements + dba_indexes(engine, layout, t):
            execute(con, stmt, None)
        for name in t.values():
            execute(con, f'ANALYZE "{name}"' if engine == "postgres" else f"ANALYZE TABLE `{name}`", None)
        print(f"<!-- {layout}: load {load:.1f} s, advised indexes {time.perf_counter() - t0:.1f} s -->")
        for label, q, count in keyset_cursors(work, ld, dialect, lay, con):
            sql, params = to_sql(q, dialect, lay, count=count)
            hsql, hparams = listing_hand(engine, layout, label, q, t)
            ours, theirs = execute(con, sql, params), execute(con, hsql, hparams)
            same = [r[0] for r in ours] == [r[0] for r in theirs]
            assert same, (engine, layout, label, ours[:3], theirs[:3])
            a, b = median_ms(
                functools.partial(execute, con, sql, params),
                functools.partial(execute, con, hsql, hparams),
                repeat,
            )
            print(
                f"| {layout} | {label} | {a:.2f} | {b:.2f} | {a / b:.2f} | {plan(engine, con, sql, params)} | "
                f"{plan(engine, con, hsql, hparams)} | {ours[0][0] if count else len(ours)} |"
            )
        if not keep:
            for name in t.values():
                execute(
                    con,
                    f'DROP TABLE IF EXISTS "{name}"'
                    if engine == "postgres"
                    else f"DROP TABLE IF EXISTS `{name}`",
                    None,
                )
    print()


# ---------------------------------------------------------------- habitual indexes (issue 27 D3)
def habitual_cases(n: int) -> list[tuple[str, str, Any]]:
    """The filters a DBA's text indexes can serve (and one they cannot: numbers), as ``cases``."""
    first = datetime.date(2019, 1, 1)
    one_day = Compare(DAY, Op.EQ, (first + datetime.timedelta(days=100)).isoformat())
    return [c for c in cases(n) if c[0] != "starts-with"] + [("date is", "0.04%", one_day)]


def habitual_hand(pred: Compare, table: str) -> tuple[str, list[Any]]:
    """What a DBA writes for the same semantics on their habitual indexes (``->>`` text, ``::numeric``)."""
    k, op, v = pred.field.key, pred.op, cast(Any, pred.value)
    sel = f'SELECT id, created_at, updated_at, removed_at, data FROM "{table}"'
    order = " ORDER BY created_at DESC, id LIMIT 100"
    kind = "boolean" if pred.field.type is T.BOOLEAN else "number" if op is Op.GTE else "string"
    typed = f" AND jsonb_typeof(data -> '{k}') = '{kind}'"
    if op is Op.EQ and pred.field.type is T.BOOLEAN:
        return f"{sel} WHERE data ->> '{k}' = %s{typed}{order}", [json.dumps(v)]
    if op is Op.EQ and pred.field.type is T.DATE:
        return f"{sel} WHERE data ->> '{k}' >= %s AND data ->> '{k}' < %s{typed}{order}", [v, next_day(v)]
    if op is Op.EQ:
        return f"{sel} WHERE data ->> '{k}' = %s{typed}{order}", [v]
    if op is Op.IN:
        return f"{sel} WHERE data ->> '{k}' IN ({', '.join(['%s'] * len(v))}){typed}{order}", list(v)
    if op is Op.GTE:  # the cast raises on text that is no number: only a table it indexes holds none
        return f"{sel} WHERE (data ->> '{k}')::numeric >= %s{typed}{order}", [v]
    return f"{sel} WHERE data ->> '{k}' >= %s{typed}{order}", [next_day(v)]


def median3(fns: list[Callable[[], Any]], repeat: int) -> list[float]:
    """Medians of each of ``fns``, run in turn so load from elsewhere falls on all alike."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, out in zip(fns, times):
            t0 = time.perf_counter()
            fn()
            out.append((time.perf_counter() - t0) * 1000)
    return [statistics.median(t) for t in times]


def run_habitual(data: list[tuple[Any, ...]], repeat: int, keep: bool) -> None:
    """PostgreSQL JSON layout with only a DBA's habitual indexes: ``((data ->> 'k'))`` per filtered key,
    ``(((data ->> 'amount')::numeric))``, and the listing's ``(created_at DESC, id)``. filterdsl's
    default SQL, its ``JsonLayout(text_indexes=True)`` SQL and the hand-written SQL, same ids asserted.
    Statements are never prepared, so each run is planned with its values, as the printed plan is (after
    five runs psycopg prepares, and PostgreSQL may switch to a generic plan the printed one is not)."""
    import psycopg

    con = psycopg.connect(PG_URL, autocommit=True, prepare_threshold=None)
    t = "bix_habitual"
    con.execute(f'DROP TABLE IF EXISTS "{t}"')
    con.execute(
        f'CREATE TABLE "{t}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, updated_at TEXT, '
        "removed_at TEXT, data JSONB NOT NULL)"
    )
    t0 = time.perf_counter()
    with con.cursor() as cur:
        with cur.copy(f'COPY "{t}" (id, created_at, data) FROM STDIN') as cp:
            for i, c, d in data:
                cp.write_row((i, c, json.dumps(d)))
    default, option = JsonLayout(tables={DB: t}), JsonLayout(tables={DB: t}, text_indexes=True)
    con.execute(f'ANALYZE "{t}"')
    scans = []  # the per-row cost of each form without an index: a count is a full scan either way
    for kind, sel, pred in habitual_cases(len(data)):
        if kind != "number >=" and sel != "0.04%":
            q = Query(pred, database=DB)
            counts = [to_sql(q, "postgres", lay, count=True) for lay in (default, option)]
            assert execute(con, *counts[0]) == execute(con, *counts[1]), (kind, sel)
            a, b = median3([functools.partial(execute, con, s, p) for s, p in counts], max(3, repeat // 3))
            scans.append(f"{kind} {sel}: {a:.0f} / {b:.0f} ms ({b / a:.2f})")
    for k in ("code", "vip", "active", "day"):
        con.execute(f'CREATE INDEX "{t}_{k}" ON "{t}" ((data ->> \'{k}\'))')
    con.execute(f'CREATE INDEX "{t}_amount" ON "{t}" (((data ->> \'amount\')::numeric))')
    con.execute(f'CREATE INDEX "{t}_order" ON "{t}" (created_at DESC, id)')
    con.execute(f'ANALYZE "{t}"')
    print(
        f"## postgres: habitual indexes, JSON layout (load, scans, indexes {time.perf_counter() - t0:.1f} s)\n"
    )
    print(
        "| filter | selectivity | default ms | text_indexes ms | hand-written ms | text_indexes / hand | "
        "default / text_indexes | plans (default; text_indexes; hand) | rows |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---|---:|")
    work = [(k, s, p) for k, s, p in habitual_cases(len(data))]
    # then the day index with a finer histogram: a 0.1% range is estimated from 100 buckets otherwise
    work += [(f"{k}, day index STATISTICS 1000", s, p) for k, s, p in work if k.startswith("date")]
    for kind, sel, pred in work:
        if kind == "date is-after, day index STATISTICS 1000" and sel == "0.1%":
            con.execute(f'ALTER INDEX "{t}_day" ALTER COLUMN 1 SET STATISTICS 1000')
            con.execute(f'ANALYZE "{t}"')
        q = Query(pred, limit=100, database=DB)
        runs = [to_sql(q, "postgres", default), to_sql(q, "postgres", option), habitual_hand(pred, t)]
        ids = [[r[0] for r in execute(con, s, p)] for s, p in runs]
        assert ids[0] == ids[1] == ids[2], (kind, sel)
        a, b, c = median3([functools.partial(execute, con, s, p) for s, p in runs], repeat)
        plans = "; ".join(plan("postgres", con, s, p) for s, p in runs)
        print(
            f"| {kind} | {sel} | {a:.2f} | {b:.2f} | {c:.2f} | {b / c:.2f} | {a / b:.1f} | {plans} | {len(ids[0])} |"
        )
    print("\nWithout an index (a count, a full scan either way), default / text_indexes:", "; ".join(scans))
    print()
    if not keep:
        con.execute(f'DROP TABLE IF EXISTS "{t}"')
    con.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--engines", default="postgres,mysql")
    ap.add_argument("--layouts", default="json,columns", help="which layouts to measure")
    ap.add_argument("--keep", action="store_true", help="keep the tables (to read plans by hand)")
    ap.add_argument(
        "--sections",
        default="filters,listing",
        help="filters (one condition each), listing (issue 27), habitual (PostgreSQL: a DBA's ->> indexes)",
    )
    ap.add_argument(
        "--only", default="", help="listing requests whose label contains one of these (comma-separated)"
    )
    args = ap.parse_args()
    global ONLY
    ONLY = tuple(w for w in args.only.split(",") if w)
    sections = args.sections.split(",")
    n = args.rows
    data = rows(n)
    cs = cases(n)
    print(f"# bench_indexes: {n:,} rows, median of {args.repeat}, LIMIT 100, default order\n")
    if "habitual" in sections:
        run_habitual(data, args.repeat, args.keep)
        if sections == ["habitual"]:
            return
    for engine in args.engines.split(","):
        if "filters" not in sections:
            run_listing(
                engine, listing_connect(engine), data, args.layouts.split(","), args.repeat, args.keep
            )
            continue
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
        if "listing" in sections:
            run_listing(engine, con, data, args.layouts.split(","), args.repeat, args.keep)
        con.close()
    print(
        f"first compile, 10 conditions, PostgreSQL: {first_compile_us():.0f} us (median of 30 fresh shapes)"
    )


if __name__ == "__main__":
    main()
