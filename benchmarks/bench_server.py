"""Requests per second of the reference server for a typical filtered page, compile cache on vs off.

    python benchmarks/bench_server.py [--requests 2000] [--seconds 30] [--concurrency 8]

Starts `filterdsl serve` (SQLite in memory, the corpus loaded, then padded to --rows records) in a
subprocess on a loopback port for each mode, drives it with a thread pool of httpx clients (bounded by
count and time), and prints the median of three runs per mode and the ratio. The server and the load
generator share the machine's cores, so absolute numbers are for comparison within one run only.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
ORDERS = "ixuPJwBRqtRP3GpoM"
#: A typical filtered page: a text filter, an amount range, sorting, paging.
BODY = {
    "filter": {
        "fields": {
            "Nb6uqwKdxh3BFX3De": {"filters": [{"by": "contains", "value": "order"}]},
            "59giDo5wnnLqurNpF": {"filters": [{"by": "is-at-least", "value": 10}]},
        }
    },
    "sort": {"59giDo5wnnLqurNpF": -1},
    "limit": 20,
    "skip": 0,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def dataset(rows: int) -> dict:
    data = json.loads((CORPUS / "records.json").read_text())
    base = data[ORDERS]
    out = []
    for i in range(rows):
        r = json.loads(json.dumps(base[i % len(base)]))
        r["_id"] = f"{r['_id']}-{i}"
        out.append(r)
    data[ORDERS] = out
    return data


def start(data_file: str, cache: bool) -> tuple[subprocess.Popen, str]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "filterdsl.cli",
        "serve",
        "--schema",
        str(CORPUS / "catalog.json"),
        "--data",
        data_file,
        "--port",
        str(port),
    ] + ([] if cache else ["--no-cache"])
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            httpx.get(base + "/api/stats", timeout=1)
            return proc, base
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not start")


def load(base: str, requests: int, seconds: float, concurrency: int) -> float:
    deadline = time.perf_counter() + seconds
    per_worker = requests // concurrency

    def worker(_: int) -> int:
        done = 0
        with httpx.Client(base_url=base, timeout=30) as c:
            for _ in range(per_worker):
                if time.perf_counter() > deadline:
                    break
                # vary skip so pages differ, as real traffic does; the AST repeats every 5 pages
                body = {**BODY, "skip": 20 * (done % 5)}
                r = c.post(f"/api/databases/{ORDERS}/data", json=body)
                assert r.status_code == 200, r.text
                done += 1
        return done

    t0 = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        total = sum(pool.map(worker, range(concurrency)))
    return total / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(dataset(args.rows), fh)
    results: dict[str, list[float]] = {"cache on": [], "cache off": []}
    try:
        for _ in range(args.runs):  # interleaved, so drift hits both modes alike
            for mode in results:
                proc, base = start(fh.name, mode == "cache on")
                try:
                    load(base, 100, 10, args.concurrency)  # warm-up
                    results[mode].append(load(base, args.requests, args.seconds, args.concurrency))
                    if mode == "cache on":
                        stats = httpx.get(base + "/api/stats").json()["cache"]
                finally:
                    proc.terminate()
                    proc.wait(10)
    finally:
        os.unlink(fh.name)
    on, off = (statistics.median(v) for v in results.values())
    print(
        f"reference server, SQLite in memory, {args.rows} orders, {args.concurrency} client threads, "
        f"{os.cpu_count()} cores"
    )
    print(f"| mode | requests/s (median of {args.runs}) |")
    print("|---|---:|")
    print(f"| compile cache on | {on:,.0f} |")
    print(f"| compile cache off | {off:,.0f} |")
    print(f"ratio on/off: {on / off:.2f}; cache hit rate after a run: {stats['hit_rate']:.3f}")


if __name__ == "__main__":
    main()
