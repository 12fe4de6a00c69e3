"""The example apps start with their one documented command and answer filtered requests with the
in-memory engine's records: examples/sqlalchemy_app (in-process, Starlette's test client, its
lifespan loading the data) and examples/django_app (``manage.py demo`` started as a process)."""

from __future__ import annotations

import importlib.util
import json
import os
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


#: requests every app answers as the reference server does (status; body, or the error codes)
REQUESTS: list[tuple[str, Any]] = [
    (f"/api/databases/{ORDERS}/records/?{PIXIEBRIX}", None),
    (f"/api/databases/{ORDERS}/records/?data__59giDo5wnnLqurNpF=250", None),  # a number field (catalog)
    (f"/api/databases/{ORDERS}/records/?data__nope=1", None),  # unknown-field
    (f"/api/databases/{ORDERS}/records/?data__59giDo5wnnLqurNpF=abc", None),  # bad-value
    (f"/api/databases/{ORDERS}/records/?data__Nb6uqwKdxh3BFX3De__icontains=a", None),  # strict lookups
    (f"/api/databases/{ORDERS}/records/?data__x__regex=1&page=0", None),
    ("/api/databases/nope/records/", None),  # unknown-database, 404
    (f"/api/databases/{ORDERS}/data", PITCHLY),
    (f"/api/databases/{ORDERS}/data", {**PITCHLY, "fields": ["Popw6SRW8pL2RqECF"]}),
    (f"/api/databases/{ORDERS}/data", {**PITCHLY, "limit": 1000}),
    ("/api/databases/nope/data", PITCHLY),
]
#: red-team inputs: a NUL in values and keys, numbers past every range, bytes that are not UTF-8
HOSTILE = [
    "data__Nb6uqwKdxh3BFX3De=a%00b",
    "data__a%00b=x",
    "ordering=data__Nb6uqwKdxh3BFX3De%00",
    "data__59giDo5wnnLqurNpF=1e400",
    "data__59giDo5wnnLqurNpF=" + "9" * 5000,
    "page=" + "9" * 40,
    "page_size=" + "9" * 5000,
    "data__Nb6uqwKdxh3BFX3De=%ff",
    "data__%c3%28=1",
    "ordering=data__%80",
]


#: red-team Pitchly bodies: not UTF-8, a number past every range, a NUL, a huge limit, deep nesting
HOSTILE_BODIES = [
    b"\xff\xfe{}",
    b'{"filter": {"fields": {"59giDo5wnnLqurNpF": {"filters": [{"by": "is", "value": 1e400}]}}}}',
    b'{"filter": {"fields": {"59giDo5wnnLqurNpF": {"filters": [{"by": "is", "value": 1'
    + b"0" * 5000
    + b"}]}}}}",
    b'{"limit": 99999999999999999999999999}',
    b"[" * 5000 + b"]" * 5000,
]


def _raw(body: Any) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def _hostile(ask: Any, reference: Any) -> None:
    """0 HTTP 500: every red-team input is an answer or a 400, as the reference server's."""
    for qs in HOSTILE:
        status, got = ask(f"/api/databases/{ORDERS}/records/?{qs}")
        assert status in (200, 400), (qs, status, got)
        ref_status, ref = reference(f"/api/databases/{ORDERS}/records/?{qs}")
        assert status == ref_status, (qs, got, ref)
        if status == 400:
            assert {e["code"] for e in got["errors"]} == {e["code"] for e in ref["errors"]}, qs
    for body in HOSTILE_BODIES:
        status, got = ask(f"/api/databases/{ORDERS}/data", body)
        assert status == 400, (body[:60], status, got)
        assert got["errors"] and reference(f"/api/databases/{ORDERS}/data", body)[0] == 400


def _hostile_no_500(ask: Any) -> None:
    """On PostgreSQL (the reference runs on SQLite, where a NUL value has an answer): no 500."""
    for qs in HOSTILE:
        status, got = ask(f"/api/databases/{ORDERS}/records/?{qs}")
        assert status in (200, 400), (qs, status, got)
    for body in HOSTILE_BODIES + [
        b'{"filter": {"fields": {"Nb6uqwKdxh3BFX3De": {"filters": [{"by": "is", "value": "a\\u0000b"}]}}}}'
    ]:
        status, got = ask(f"/api/databases/{ORDERS}/data", body)
        assert status == 400, (body[:60], status, got)


def _shape(status: int, body: Any) -> tuple[int, Any]:
    """What must agree: the body of a success, the error codes (and where they point) of a failure."""
    if status < 400:
        if isinstance(body, dict) and "data" in body:  # Pitchly rows: cols in any order (jsonb sorts keys)
            rows = [{**r, "cols": sorted(r["cols"], key=lambda c: c["fieldId"])} for r in body["data"]]
            return status, {**body, "data": rows}
        return status, body
    return status, sorted(
        (e["code"], e["location"].get("param", e["location"].get("pointer"))) for e in body["errors"]
    )


@pytest.fixture(scope="module")
def reference() -> Any:
    """The reference server (``filterdsl serve --schema examples/catalog.json``) with the same records."""
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from filterdsl.server import create_app

    with TestClient(create_app("sqlite:///:memory:", EXAMPLES / "catalog.json")) as client:
        for db, rows in DATA.items():
            assert (
                client.post("/api/records/import", json={"databaseId": db, "records": rows}).status_code
                == 200
            )

        def ask(path: str, body: Any = None) -> tuple[int, Any]:
            res = client.get(path) if body is None else client.post(path, content=_raw(body))
            return res.status_code, res.json()

        yield ask


def _agrees(ask: Any, reference: Any) -> None:
    for path, body in REQUESTS:
        assert _shape(*ask(path, body)) == _shape(*reference(path, body)), path
    status, got = ask(f"/api/databases/{ORDERS}/records/?{PIXIEBRIX}")
    assert [r["id"] for r in got] == _expected(PIXIEBRIX, "pixiebrix")
    status, got = ask(f"/api/databases/{ORDERS}/data", PITCHLY)
    assert [r["_id"] for r in got["data"]] == _expected(PITCHLY, "pitchly")
    _hostile(ask, reference)


def _sqlalchemy_app(url: str | None = None) -> Any:
    spec = importlib.util.spec_from_file_location(
        "fdsl_sqlalchemy_app", EXAMPLES / "sqlalchemy_app" / "app.py"
    )
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.build() if url is None else mod.build(url)


def test_sqlalchemy_app(reference: Any) -> None:
    pytest.importorskip("sqlalchemy")
    pytest.importorskip("aiosqlite")
    from starlette.testclient import TestClient

    with TestClient(_sqlalchemy_app()) as client:  # runs the lifespan: tables made, records loaded

        def ask(path: str, body: Any = None) -> tuple[int, Any]:
            res = client.get(path) if body is None else client.post(path, content=_raw(body))
            return res.status_code, res.json()

        _agrees(ask, reference)


def test_sqlalchemy_app_on_postgres(reference: Any) -> None:
    """The documented PostgreSQL command, on a database of the test's own (never ``test``)."""
    pytest.importorskip("sqlalchemy")
    from starlette.testclient import TestClient

    url = _example_pg_database("filterdsl_example_sa")
    with TestClient(_sqlalchemy_app(url.replace("postgresql://", "postgresql+psycopg://", 1))) as client:

        def ask(path: str, body: Any = None) -> tuple[int, Any]:
            res = client.get(path) if body is None else client.post(path, content=_raw(body))
            return res.status_code, res.json()

        for path, body in REQUESTS:  # the reference server on SQLite: same answers
            assert _shape(*ask(path, body)) == _shape(*reference(path, body)), path
        _hostile_no_500(ask)
        status, got = ask(f"/api/databases/{ORDERS}/records/?data__Nb6uqwKdxh3BFX3De=a%00b")
        assert status == 400 and got["errors"][0]["code"] == "bad-value"  # PostgreSQL text holds no NUL


def _example_pg_database(name: str) -> str:
    from urllib.parse import urlparse, urlunparse

    from conftest import need, postgres_available, postgres_url

    need(postgres_available(), "PostgreSQL is not reachable at " + postgres_url())
    import psycopg

    with psycopg.connect(postgres_url(), autocommit=True) as con:
        if con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is None:
            try:
                con.execute(f'CREATE DATABASE "{name}"')
            except psycopg.errors.DuplicateDatabase:
                pass
    return urlunparse(urlparse(postgres_url())._replace(path="/" + name))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _request(url: str, body: Any = None, accept: str | None = None) -> tuple[int, Any]:
    data = None if body is None else _raw(body)
    headers = {"Content-Type": "application/json"} if data else {}
    if accept:
        headers["Accept"] = accept
    req = urllib.request.Request(url, data=data, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, raw.decode() if accept else json.loads(raw)
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_django_app_one_command(reference: Any, engine: str) -> None:
    pytest.importorskip("django")
    pytest.importorskip("rest_framework")
    env = dict(os.environ)
    if engine == "postgres":
        env["FILTERDSL_DJANGO_DB"] = _example_pg_database("filterdsl_example_django")
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / "django_app" / "manage.py"), "demo", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        env=env,
    )
    try:
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
        base = f"http://127.0.0.1:{port}"

        def ask(path: str, body: Any = None) -> tuple[int, Any]:
            return _request(base + path, body)

        if engine == "sqlite":
            _agrees(ask, reference)
        else:
            for path, body in REQUESTS:
                assert _shape(*ask(path, body)) == _shape(*reference(path, body)), path
            _hostile_no_500(ask)
            status, got = ask(f"/api/databases/{ORDERS}/records/?data__Nb6uqwKdxh3BFX3De=a%00b")
            assert status == 400 and got["errors"][0]["code"] == "bad-value"
        # the browsable API
        status, html = _request(
            f"{base}/api/databases/{ORDERS}/records/?{PIXIEBRIX}&format=api", accept="text/html"
        )
        assert status == 200 and "<html" in html and 'name="start_date"' in html
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
