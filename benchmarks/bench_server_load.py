"""Load test of the reference server with hostile traffic (issue 17): latency, status codes, server errors.

    python benchmarks/bench_server_load.py [--requests 1000] [--clients 32] [--rows 2000] [--stores sqlite,postgres]

For each store (a SQLite file; PostgreSQL in a schema of its own), starts two `filterdsl serve`
processes on it: one with the corpus catalog and records (padded to --rows orders), one schemaless
for PixieBrix records. It then sends --requests requests from --clients concurrent clients: a fixed, shuffled mix of
good requests (filtered pages, counts, PixieBrix listings, CSV) and bad ones (each finding of the
issue 17 attack: huge pages, 1,000 ordering keys, 9999-12-31, NaN and 1e400 imports, lone surrogates,
deep and huge bodies, duplicate keys, 2,000 nots are not HTTP but the rest is). It prints p50/p99
latency per kind and the status codes; a 5xx or a transport error is a server error (expected: 0).

Then the cheap-while-expensive check: while one expensive request runs (900 OR-ed conditions: parsed,
compiled to SQL, run over every row), cheap requests (`/api/stats` and a one-condition
page) are timed against the same server process; their median and max are printed next to the expensive request's
duration. The server and the clients share the machine's cores: numbers compare within one run.
"""

from __future__ import annotations

import argparse
import json
import json as json_mod
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
ORDERS = "ixuPJwBRqtRP3GpoM"
PG_URL = os.environ.get("FILTERDSL_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
Request = tuple[str, str, str, dict[str, Any]]  # kind, method, path, httpx keyword arguments

GOOD: list[Request] = [
    (
        "good",
        "POST",
        f"/api/databases/{ORDERS}/data",
        {
            "json": {
                "filter": {
                    "fields": {"Nb6uqwKdxh3BFX3De": {"filters": [{"by": "contains", "value": "order"}]}}
                },
                "sort": {"59giDo5wnnLqurNpF": -1},
                "limit": 20,
            }
        },
    ),
    (
        "good",
        "POST",
        f"/api/databases/{ORDERS}/data/count",
        {
            "json": {
                "filter": {"fields": {"59giDo5wnnLqurNpF": {"filters": [{"by": "is-at-least", "value": 10}]}}}
            }
        },
    ),
    ("good", "POST", f"/api/databases/{ORDERS}/data", {"json": {"search": "order|client, 2", "limit": 10}}),
    ("good", "GET", "/api/databases/pb/records/?data__first_name=Ada&page_size=10", {}),
    ("good", "GET", "/api/databases/pb/records/?ordering=-created_at,data__age&page=2&page_size=5", {}),
    ("good", "GET", "/api/databases/pb/records/?start_date=2020-01-01&end_date=9999-12-31", {}),
    ("good", "GET", "/api/databases/pb/records/?page_size=5", {"headers": {"Accept": "text/csv"}}),
    ("good", "GET", "/api/stats", {}),
]
BAD: list[Request] = [
    ("bad", "GET", "/api/databases/pb/records/?page=9223372036854775808", {}),
    ("bad", "GET", "/api/databases/pb/records/?page=" + "9" * 5000, {}),
    ("bad", "GET", "/api/databases/pb/records/?ordering=" + ",".join(f"data__k{i}" for i in range(1000)), {}),
    ("bad", "GET", "/api/databases/pb/records/?data__a%00b=1", {}),
    ("bad", "GET", "/api/databases/pb/records/?data__a=1&data__a=2&%ff=1", {}),
    ("bad", "GET", "/api/databases/a%20b/records/", {}),
    ("bad", "POST", f"/api/databases/{ORDERS}/data", {"content": b'{"skip": ' + b"9" * 5000 + b"}"}),
    ("bad", "POST", f"/api/databases/{ORDERS}/data", {"content": b'{"skip": 9223372036854775808}'}),
    ("bad", "POST", f"/api/databases/{ORDERS}/data", {"content": b"{" + b'"a":1,' * 20_000 + b'"b":1}'}),
    (
        "bad",
        "POST",
        f"/api/databases/{ORDERS}/data",
        {"content": b'{"in": ' + b"[" * 5000 + b"]" * 5000 + b"}"},
    ),
    ("bad", "POST", f"/api/databases/{ORDERS}/data", {"content": b'{"search": "\\ud800"}'}),
    ("bad", "POST", f"/api/databases/{ORDERS}/data", {"content": b"{bad"}),
    (
        "bad",
        "POST",
        f"/api/databases/{ORDERS}/data/count",
        {"json": {"sort": {f"k{i}": 1 for i in range(500)}}},
    ),
    (
        "bad",
        "POST",
        "/api/records/import",
        {
            "headers": {"content-type": "application/json"},
            "content": b'{"databaseId": "pb", "records": [{"id": "x", '
            b'"created_at": "2022-01-01", "data": {"n": NaN}}]}',
        },
    ),
    (
        "bad",
        "POST",
        "/api/records/import",
        {
            "headers": {"content-type": "application/json"},
            "content": b'{"databaseId": "pb", "records": [{"id": "x", '
            b'"created_at": "2022-01-01", "data": {"n": 1e400}}]}',
        },
    ),
    (
        "bad",
        "POST",
        "/api/records/import",
        {
            "headers": {"content-type": "application/json"},
            "content": b'{"databaseId": "pb", "records": [{"id": "x", '
            b'"created_at": "2022-01-01", "data": {"s": "\\udfff"}}]}',
        },
    ),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dataset(rows: int) -> dict[str, Any]:
    data = json.loads((CORPUS / "records.json").read_text())
    base = data[ORDERS]
    padded = []
    for i in range(rows):
        r = json.loads(json.dumps(base[i % len(base)]))
        r["_id"] = f"{r['_id']}-{i}"
        padded.append(r)
    data[ORDERS] = padded
    return data


def pg_schema() -> tuple[str, str]:
    import psycopg

    schema = f"fdsl_load_{secrets.token_hex(4)}"
    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}", schema


def drop_schema(schema: str) -> None:
    import psycopg

    with psycopg.connect(PG_URL, autocommit=True) as con:
        con.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def start(db_url: str, data_file: str | None) -> tuple[subprocess.Popen[bytes], str]:
    """`filterdsl serve`: with the catalog and the Pitchly records, or schemaless (data_file None)."""
    port = free_port()
    cmd = [sys.executable, "-m", "filterdsl.cli", "serve", "--db", db_url, "--port", str(port)]
    if data_file is not None:
        cmd += ["--schema", str(CORPUS / "catalog.json"), "--data", data_file]
    # stderr to a file: a pipe nobody reads would stop the server once its log filled the pipe
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(base + "/api/stats", timeout=1)
            return proc, base
        except httpx.HTTPError:
            if proc.poll() is not None:
                log.seek(0)
                raise RuntimeError("server exited: " + log.read().decode()[-2000:]) from None
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def schemaless(req: Request) -> bool:
    """PixieBrix traffic goes to the schemaless server, Pitchly traffic to the one with the catalog."""
    _, _, path, kw = req
    return (
        "/databases/pb/" in path
        or "a%20b" in path
        or path == "/api/stats"
        or (path == "/api/records/import" and b'"pb"' in kw.get("content", b""))
    )


Result = tuple[str, int, float, str]  # kind, status, seconds, the request's method and path


class RawClient:
    """A keep-alive HTTP/1.1 client on one socket, for ``--client raw``: a fraction of httpx's CPU per
    request, so the clients, which share the server's cores, take less of them. Same interface as the
    part of ``httpx.Client`` that ``send`` uses; a transport failure is an ``httpx.TransportError``."""

    def __init__(self, base_url: str, timeout: float = 120):
        u = urlparse(base_url)
        self.host, self.port, self.timeout = u.hostname or "127.0.0.1", u.port or 80, timeout
        self.sock: socket.socket | None = None

    def __enter__(self) -> RawClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _connect(self) -> None:
        self.sock = socket.create_connection((self.host, self.port), timeout=self.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.rfile = self.sock.makefile("rb")

    def request(
        self,
        method: str,
        path: str,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> SimpleNamespace:
        body = content if content is not None else b"" if json is None else json_mod.dumps(json).encode()
        head = {"host": f"{self.host}:{self.port}", "content-length": str(len(body))}
        if json is not None:
            head["content-type"] = "application/json"
        head.update({k.lower(): v for k, v in (headers or {}).items()})
        data = (
            f"{method} {path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in head.items()) + "\r\n"
        ).encode("latin-1") + body
        for attempt in (0, 1):
            reused = self.sock is not None
            try:
                if self.sock is None:
                    self._connect()
                assert self.sock is not None
                self.sock.sendall(data)
                return SimpleNamespace(status_code=self._response())
            except (OSError, ValueError, IndexError) as e:
                self.close()
                if attempt or not reused:  # a kept-alive connection the server closed: once more
                    raise httpx.TransportError(f"{type(e).__name__}: {e}") from None
        raise AssertionError("unreachable")

    def _response(self) -> int:
        line = self.rfile.readline()
        if not line:
            raise OSError("connection closed")
        status = int(line.split()[1])
        length, chunked, close = 0, False, False
        while (line := self.rfile.readline()) not in (b"\r\n", b""):
            key, _, value = line.partition(b":")
            key = key.strip().lower()
            if key == b"content-length":
                length = int(value)
            elif key == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif key == b"connection":
                close = value.strip().lower() == b"close"
        if chunked:
            while (size := int(self.rfile.readline().split(b";")[0], 16)) > 0:
                self.rfile.read(size + 2)
            self.rfile.readline()
        elif len(self.rfile.read(length)) != length:
            raise OSError("short body")
        if close:
            self.close()
        return status


def label(req: Request) -> str:
    """The request in a table: method, path (cut) and a POST's JSON body (cut)."""
    _, method, path, kw = req
    body = " " + json.dumps(kw["json"], separators=(",", ":"))[:60] if "json" in kw else ""
    return f"{method} {path[:64]}{body}"


def send(clients: tuple[Any, Any], req: Request) -> Result:
    kind, method, path, kw = req
    c = clients[1] if schemaless(req) else clients[0]
    t0 = time.perf_counter()
    try:
        status = c.request(method, path, **kw).status_code
    except httpx.HTTPError:
        status = 599  # a transport failure counts as a server error
    return kind, status, time.perf_counter() - t0, label(req)


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return (
        ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] if ordered else float("nan")
    )


def load(
    bases: tuple[str | list[str], str | list[str]],
    requests: int,
    clients: int,
    seed: int,
    good_only: bool = False,
    duration: float = 0,
    raw: bool = False,
) -> list[Result]:
    """``requests`` requests (half good, half bad; or good only) from ``clients`` threads that never
    pause; with ``duration`` > 0 each client cycles through its share until that many seconds passed.
    ``raw``: the clients are ``RawClient``s (one socket each, little CPU) instead of httpx."""
    rnd = random.Random(seed)
    if good_only:
        mix = [GOOD[i % len(GOOD)] for i in range(requests)]
    else:
        mix = [GOOD[i % len(GOOD)] if i % 2 == 0 else BAD[(i // 2) % len(BAD)] for i in range(requests)]
    rnd.shuffle(mix)
    chunks = [mix[i::clients] for i in range(clients)]

    client: Any = RawClient if raw else httpx.Client
    pitchly = [bases[0]] if isinstance(bases[0], str) else bases[0]
    pixiebrix = [bases[1]] if isinstance(bases[1], str) else bases[1]

    def worker(n: int, reqs: list[Request]) -> list[Result]:
        # client n talks to server process n (mod the number of processes) of each kind
        with (
            client(base_url=pitchly[n % len(pitchly)], timeout=120) as c,
            client(base_url=pixiebrix[n % len(pixiebrix)], timeout=120) as d,
        ):
            if duration <= 0:
                return [send((c, d), r) for r in reqs]
            out, end, i = [], time.perf_counter() + duration, 0
            while time.perf_counter() < end:
                out.append(send((c, d), reqs[i % len(reqs)]))
                i += 1
            return out

    with ThreadPoolExecutor(clients) as pool:
        return [x for part in pool.map(worker, range(clients), chunks) for x in part]


def cheap_while_expensive(base: str, pb_base: str) -> dict[str, float]:
    """Latency of cheap requests while one expensive request is being served."""
    # 900 OR-ed conditions (a count no other request uses, so no compile cache helps): parsed, compiled
    # to SQL and run over every row while the cheap requests are timed
    n = 900 + random.randrange(50)
    body = json.dumps(
        {
            "filter": {
                "fields": {
                    "Nb6uqwKdxh3BFX3De": {
                        "filters": [{"by": "contains", "value": f"zz{i}"} for i in range(n)],
                        "conjunction": "or",
                    }
                }
            }
        }
    ).encode()
    done = threading.Event()
    took: list[float] = []

    def expensive() -> None:
        t0 = time.perf_counter()
        httpx.post(f"{base}/api/databases/{ORDERS}/data", content=body, timeout=120)
        took.append(time.perf_counter() - t0)
        done.set()

    cheap: list[float] = []
    cheap_body = {
        "filter": {"fields": {"Nb6uqwKdxh3BFX3De": {"filters": [{"by": "is", "value": "order-2883"}]}}},
        "limit": 1,
    }
    with httpx.Client(base_url=base, timeout=60) as c:
        t = threading.Thread(target=expensive)
        t.start()
        time.sleep(0.05)  # let the expensive request reach the server first
        while not done.is_set() and len(cheap) < 200:  # same server process as the expensive request
            for payload in (None, cheap_body):
                t0 = time.perf_counter()
                if payload is None:
                    c.get("/api/stats")
                else:
                    c.post(f"/api/databases/{ORDERS}/data", json=payload)
                cheap.append(time.perf_counter() - t0)
        t.join()
    return {
        "expensive_s": took[0],
        "cheap_n": len(cheap),
        "cheap_p50_ms": 1000 * statistics.median(cheap) if cheap else float("nan"),
        "cheap_max_ms": 1000 * max(cheap) if cheap else float("nan"),
    }


def run_store(store: str, args: argparse.Namespace, data_file: str, pb_records: list[Any]) -> None:
    schema = None
    tmp = tempfile.mkdtemp()
    url = f"sqlite:///{tmp}/load.db"  # a file: the two server processes share it
    if store == "postgres":
        url, schema = pg_schema()
    started = [start(url, data_file) for _ in range(args.processes)]
    pb_started = [start(url, None) for _ in range(args.processes)]
    base, pb_base = started[0][1], pb_started[0][1]
    procs = [p for p, _ in started + pb_started]
    try:
        assert (
            httpx.post(
                pb_base + "/api/records/import", json={"databaseId": "pb", "records": pb_records}, timeout=60
            ).status_code
            == 200
        )
        bases = ([b for _, b in started], [b for _, b in pb_started])
        load(bases, 64, 8, 0, args.good_only)  # warm-up
        cpu0 = [cpu_seconds(p.pid) for p in procs]
        load0, t0, client0 = os.getloadavg()[0], time.perf_counter(), time.process_time()
        results = load(
            bases,
            args.requests,
            args.clients,
            1,
            args.good_only,
            args.duration,
            args.client == "raw",
        )
        wall = time.perf_counter() - t0
        client_cpu = time.process_time() - client0
        cpu = [cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0)]
        load1 = os.getloadavg()[0]
        check = cheap_while_expensive(base, pb_base)
    finally:
        for p in procs:
            p.terminate()
            p.wait(10)
        if schema:
            drop_schema(schema)
    statuses = Counter(r[1] for r in results)
    server_errors = sum(n for s, n in statuses.items() if s >= 500)
    print(
        f"\n### {store}: {len(results)} {'good ' if args.good_only else ''}requests, {args.clients} {args.client} clients, "
        f"{wall:.1f} s ({len(results) / wall:.0f} requests/s), {args.rows} orders; load average "
        f"{load0:.1f} at start, {load1:.1f} at end"
    )
    print(
        f"server CPU ({len(procs)} processes, user + system): {sum(cpu):.2f} s = "
        f"{1000 * sum(cpu) / len(results):.2f} ms per request ({sum(cpu) / wall:.2f} cores busy); the "
        f"clients' process: {1000 * client_cpu / len(results):.2f} ms per request ({client_cpu / wall:.2f} cores)"
    )
    print("| requests | n | p50 ms | p95 ms | p99 ms | max ms |")
    print("|---|---:|---:|---:|---:|---:|")
    for kind in ("good", "bad", "all"):
        lat = [r[2] * 1000 for r in results if kind in (r[0], "all")]
        if lat:
            print(
                f"| {kind} | {len(lat)} | {pct(lat, 50):.1f} | {pct(lat, 95):.1f} | {pct(lat, 99):.1f} "
                f"| {max(lat):.1f} |"
            )
    if args.by_request:
        print("\n| request | n | p50 ms | p99 ms |")
        print("|---|---:|---:|---:|")
        for label in sorted({r[3] for r in results if r[0] == "good"}):
            lat = [r[2] * 1000 for r in results if r[3] == label]
            print(f"| `{label}` | {len(lat)} | {pct(lat, 50):.1f} | {pct(lat, 99):.1f} |")
    print(
        "status codes: "
        + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
        + f"; server errors (5xx or transport): {server_errors}"
    )
    print(
        f"cheap while expensive: expensive request {check['expensive_s']:.2f} s; {check['cheap_n']:.0f} cheap "
        f"requests meanwhile, p50 {check['cheap_p50_ms']:.1f} ms, max {check['cheap_max_ms']:.1f} ms"
    )


def breakdown(rows: int, runs: int) -> None:
    """Where each good request's time goes, one request at a time: in process (no HTTP), its SQL
    (execute and fetch) and the Python around it (parse, compile-cache lookup, checks, decoding, the
    response body), without and with the store's advised indexes; then, from real `filterdsl serve`
    processes, the server's whole CPU per request (the rest is the HTTP stack: uvicorn, h11, Starlette,
    the threadpool hop, the access log). Medians of ``runs``."""
    from starlette.requests import Request as StarletteRequest

    from filterdsl.records import normalize_dataset, normalize_record
    from filterdsl.schema import load_catalog
    from filterdsl.server import create_app

    catalog = json.loads((CORPUS / "catalog.json").read_text())
    pb_records = json.loads((CORPUS / "pixiebrix_records.json").read_text())
    data = normalize_dataset(dataset(rows), load_catalog(catalog))
    goods = [g for g in GOOD if g[2] != "/api/stats"]
    table: dict[str, dict[str, float]] = {label(g): {} for g in goods}
    for indexed in (False, True):
        url = f"sqlite:///{tempfile.mkdtemp()}/breakdown.db"
        apps = create_app(url, catalog, auto_index=indexed), create_app(url, None, auto_index=indexed)
        for db_id, docs in data.items():
            apps[0].state.store.import_docs(str(db_id), docs)
        apps[1].state.store.import_docs(
            "pb", [normalize_record(r, None, f"/{i}") for i, r in enumerate(pb_records)]
        )
        spent = [0.0]
        for app in apps:
            store = app.state.store
            plain = store._execute

            def timed(sql: str, params: Any = (), plain: Any = plain, spent: list[float] = spent) -> Any:
                t0 = time.thread_time()  # CPU, not wall: other processes on the cores do not count
                try:
                    return plain(sql, params)
                finally:
                    spent[0] += time.thread_time() - t0

            store._execute = timed
        for g in goods:
            _, method, path, kw = g
            api = apps[1].state.api if schemaless(g) else apps[0].state.api
            route, _, query = path.partition("?")
            scope = {
                "type": "http",
                "method": method,
                "path": route,
                "query_string": query.encode(),
                "headers": [(k.lower().encode(), v.encode()) for k, v in kw.get("headers", {}).items()],
                "path_params": {"database": route.split("/")[3]},
            }
            raw = json.dumps(kw["json"]).encode() if "json" in kw else b""
            handler = api.records if method == "GET" else api.count if route.endswith("/count") else api.data
            handler(StarletteRequest(scope), raw)  # compiles the form and schedules its indexes
            for a in apps:
                a.state.store.wait_for_indexes()
            totals, sqls = [], []
            for _ in range(runs):
                spent[0] = 0.0
                t0 = time.thread_time()
                handler(StarletteRequest(scope), raw)
                totals.append(time.thread_time() - t0)
                sqls.append(spent[0])
            row = table[label(g)]
            key = "indexed" if indexed else "plain"
            row[f"sql_{key}"] = 1000 * statistics.median(sqls)
            row[f"py_{key}"] = 1000 * (statistics.median(totals) - statistics.median(sqls))
    # the whole server process's CPU per request, sequential requests over HTTP (indexes made)
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(dataset(rows), fh)
    url = f"sqlite:///{tempfile.mkdtemp()}/breakdown.db"
    proc, base = start(url, fh.name)
    pb_proc, pb_base = start(url, None)
    try:
        httpx.post(
            pb_base + "/api/records/import", json={"databaseId": "pb", "records": pb_records}, timeout=60
        )
        with RawClient(base) as c, RawClient(pb_base) as d:
            for g in GOOD:
                p = pb_proc if schemaless(g) else proc
                for _ in range(5):
                    send((c, d), g)
                time.sleep(0.2)  # the index worker
                c0 = cpu_seconds(p.pid)
                for _ in range(runs):
                    send((c, d), g)
                table.setdefault(label(g), {})["server"] = 1000 * (cpu_seconds(p.pid) - c0) / runs
    finally:
        for p in (proc, pb_proc):
            p.terminate()
            p.wait(10)
        os.unlink(fh.name)
    print(
        f"\n### one request at a time, {rows} orders, median of {runs} (ms; load average {os.getloadavg()[0]:.1f})"
    )
    print(
        "| request | SQL, no index | Python, no index | SQL, indexed | Python, indexed | server CPU over HTTP |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    nan = float("nan")
    for name, r in table.items():
        print(
            f"| `{name}` | {r.get('sql_plain', nan):.2f} | {r.get('py_plain', nan):.2f} | "
            f"{r.get('sql_indexed', nan):.2f} | {r.get('py_indexed', nan):.2f} | {r.get('server', nan):.2f} |"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--stores", default="sqlite,postgres")
    ap.add_argument(
        "--duration", type=float, default=0, help="seconds each client sends for (default: --requests in all)"
    )
    ap.add_argument(
        "--good-only", action="store_true", help="only the good (corpus) requests, no attack traffic"
    )
    ap.add_argument(
        "--client",
        choices=("httpx", "raw"),
        default="httpx",
        help="httpx clients (default), or raw keep-alive sockets that take less of the shared CPU",
    )
    ap.add_argument(
        "--processes",
        type=int,
        default=1,
        help="server processes of each kind (Pitchly catalog, schemaless) on the one database (default 1)",
    )
    ap.add_argument("--by-request", action="store_true", help="also p50/p99 of each good request")
    ap.add_argument(
        "--breakdown",
        type=int,
        metavar="RUNS",
        help="only: each good request's SQL, Python and server CPU time, one at a time (median of RUNS)",
    )
    args = ap.parse_args()
    if args.breakdown:
        breakdown(args.rows, args.breakdown)
        return
    pb_records = json.loads((CORPUS / "pixiebrix_records.json").read_text())
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(dataset(args.rows), fh)
    print(
        f"reference server under mixed good/bad traffic; {os.cpu_count()} cores shared by server and clients; "
        f"load average at start {os.getloadavg()[0]:.1f}"
    )
    try:
        for store in args.stores.split(","):
            run_store(store, args, fh.name, pb_records)
    finally:
        os.unlink(fh.name)


if __name__ == "__main__":
    main()
