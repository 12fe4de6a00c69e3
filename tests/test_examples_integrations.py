"""The example apps start with their one documented command and answer filtered requests with the
in-memory engine's records: examples/sqlalchemy_app (in-process, Starlette's test client, its
lifespan loading the data) and examples/django_app (``manage.py demo`` started as a process)."""

from __future__ import annotations

import importlib.util
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

import filterdsl

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
CATALOG = filterdsl.load_catalog(EXAMPLES / "catalog.json")
DATA = json.loads((EXAMPLES / "records.json").read_text())
ORDERS = "ixuPJwBRqtRP3GpoM"
PIXIEBRIX = "data__Popw6SRW8pL2RqECF=paid&ordering=-id"
PITCHLY = json.loads((EXAMPLES / "paid-orders.json").read_text())


def _expected(source: Any, fmt: str) -> list[str]:
    q = filterdsl.parse(source, fmt, catalog=CATALOG, database=ORDERS)
    return [d["id"] for d in filterdsl.apply(q, DATA, CATALOG)]


def test_expectations_are_not_empty() -> None:
    assert _expected(PIXIEBRIX, "pixiebrix") and _expected(PITCHLY, "pitchly")


def test_sqlalchemy_app() -> None:
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("aiosqlite")
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    spec = importlib.util.spec_from_file_location(
        "fdsl_sqlalchemy_app", EXAMPLES / "sqlalchemy_app" / "app.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    with TestClient(mod.build()) as client:  # runs the lifespan: tables made, records loaded
        res = client.get(f"/api/databases/{ORDERS}/records/?{PIXIEBRIX}")
        assert res.status_code == 200
        assert [r["id"] for r in res.json()] == _expected(PIXIEBRIX, "pixiebrix")
        res = client.post(f"/api/databases/{ORDERS}/data", content=json.dumps(PITCHLY))
        assert [r["id"] for r in res.json()] == _expected(PITCHLY, "pitchly")
        res = client.get(f"/api/databases/{ORDERS}/records/?data__x__regex=1")
        assert res.status_code == 400 and res.json()["errors"][0]["location"]["param"] == "data__x__regex"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(url: str, body: Any = None) -> tuple[int, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"} if data else {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_django_app_one_command() -> None:
    pytest.importorskip("django")
    pytest.importorskip("rest_framework")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "django_app" / "manage.py"), "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    try:
        base = f"http://127.0.0.1:{port}/api/databases/{ORDERS}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"the Django example did not start:\n{out}")
                time.sleep(0.2)
        status, body = _request(f"{base}/records/?{PIXIEBRIX}")
        assert status == 200 and [r["id"] for r in body] == _expected(PIXIEBRIX, "pixiebrix")
        status, body = _request(f"{base}/data", PITCHLY)
        assert status == 200 and [r["id"] for r in body] == _expected(PITCHLY, "pitchly")
        status, body = _request(f"{base}/data", {**PITCHLY, "limit": 1000})
        assert status == 400 and body["errors"][0]["code"] == "limit-too-large"
        assert body["errors"][0]["location"]["pointer"] == "/limit"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
