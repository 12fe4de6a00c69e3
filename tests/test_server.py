"""The reference records API, on a real loopback port, driven by a real HTTP client (httpx)."""

from __future__ import annotations

import json
import logging
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn

from filterdsl import apply, load_catalog, parse
from filterdsl.frontends.pitchly import is_bare_filter
from filterdsl.server import create_app

from conftest import CASES, CORPUS, need, postgres_available, postgres_url

CAT = load_catalog(CORPUS / "catalog.json")
RECORDS = json.loads((CORPUS / "records.json").read_text())
PB_RECORDS = json.loads((CORPUS / "pixiebrix_records.json").read_text())
SECRET = "sk_TOPSECRET_42"


class Running:
    def __init__(self, app: Any):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="info", access_log=True))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.02)
        self.app = app
        self.base = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def _url(kind: str) -> str:
    """SQLite in memory, or a PostgreSQL schema of its own (parallel runs never share tables)."""
    if kind == "postgres":
        need(postgres_available(), "PostgreSQL is not reachable at " + postgres_url())
        import psycopg

        schema = f"fdsl_srv_{secrets.token_hex(4)}"
        with psycopg.connect(postgres_url(), autocommit=True) as con:
            con.execute(f"CREATE SCHEMA {schema}")
        SCHEMAS.append(schema)
        sep = "&" if "?" in postgres_url() else "?"
        return f"{postgres_url()}{sep}options=-csearch_path%3D{schema}"
    return "sqlite:///:memory:"


SCHEMAS: list[str] = []


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def servers(request: pytest.FixtureRequest) -> Iterator[tuple[Running, Running]]:
    url = _url(request.param)
    pitchly = Running(create_app(url, CORPUS / "catalog.json"))
    pb = Running(create_app(url))
    with httpx.Client(base_url=pitchly.base) as c:
        for db, rows in RECORDS.items():
            assert c.post("/api/records/import", json={"databaseId": db, "records": rows}).json() == {
                "imported": len(rows)
            }
    with httpx.Client(base_url=pb.base) as c:
        assert (
            c.post("/api/records/import", json={"databaseId": "pb", "records": PB_RECORDS}).status_code == 200
        )
    yield pitchly, pb
    for s in (pitchly, pb):
        s.app.state.store.drop_all()
        s.stop()
    while SCHEMAS:
        import psycopg

        with psycopg.connect(postgres_url(), autocommit=True) as con:
            con.execute(f"DROP SCHEMA IF EXISTS {SCHEMAS.pop()} CASCADE")


def body_for(case: dict) -> dict:
    if case["format"] == "search":
        return {"search": case["input"]}
    if isinstance(case["input"], dict) and is_bare_filter(case["input"]):
        return {"filter": case["input"]}
    return case["input"]


def memory_ids(case: dict) -> list[str]:
    if case["format"] == "pixiebrix":
        return [r["id"] for r in apply(parse(case["input"], "pixiebrix"), PB_RECORDS)]
    q = parse(case["input"], case["format"], catalog=CAT, database=case["database"])
    return [r["id"] for r in apply(q, RECORDS, catalog=CAT)]


POST_CASES = [c for c in CASES if c["format"] in ("pitchly", "search") and c.get("database")]
GET_CASES = [c for c in CASES if c["format"] == "pixiebrix"]


@pytest.mark.parametrize("case", POST_CASES, ids=[c["name"] for c in POST_CASES])
def test_data_endpoint_matches_memory(servers: tuple[Running, Running], case: dict) -> None:
    with httpx.Client(base_url=servers[0].base) as c:
        r = c.post(f"/api/databases/{case['database']}/data", json=body_for(case))
        if isinstance(case["expect"], dict):
            assert r.status_code == 400
            errs = r.json()["errors"]
            assert errs and all(e["code"] and e["location"] is not None for e in errs)
            return
        assert r.status_code == 200, r.text
        ids = [row["_id"] for row in r.json()["data"]]
        assert ids == memory_ids(case) == case["expect"]
        n = c.post(f"/api/databases/{case['database']}/data/count", json=body_for(case)).json()["count"]
        assert n >= len(ids)


@pytest.mark.parametrize("case", GET_CASES, ids=[c["name"] for c in GET_CASES])
def test_records_endpoint_matches_memory(servers: tuple[Running, Running], case: dict) -> None:
    with httpx.Client(base_url=servers[1].base) as c:
        r = c.get("/api/databases/pb/records/?" + case["input"].lstrip("?"))
        if isinstance(case["expect"], dict):
            assert r.status_code == 400 and r.json()["errors"][0]["location"]
            return
        assert r.status_code == 200, r.text
        assert [x["id"] for x in r.json()] == memory_ids(case) == case["expect"]


def test_pagination_link_header_and_csv(servers: tuple[Running, Running]) -> None:
    with httpx.Client(base_url=servers[1].base) as c:
        r = c.get("/api/databases/pb/records/", params={"page_size": 4, "page": 2})
        assert r.status_code == 200 and len(r.json()) == 4
        total = int(r.headers["X-Total-Count"])
        assert total == len(PB_RECORDS)
        links = {rel: url for url, rel in (p.split("; rel=") for p in r.headers["Link"].split(", "))}
        assert set(links) == {'"first"', '"prev"', '"next"', '"last"'}
        nxt = c.get(links['"next"'].strip("<>"))
        assert [x["id"] for x in nxt.json()] == [
            x["id"] for x in apply(parse("page_size=4&page=3", "pixiebrix"), PB_RECORDS)
        ]
        csv_r = c.get("/api/databases/pb/records/", params={"page_size": 4}, headers={"Accept": "text/csv"})
        assert csv_r.headers["content-type"].startswith("text/csv")
        lines = csv_r.text.splitlines()
        assert lines[0].startswith("id,created_at,updated_at,data__") and len(lines) == 5


def test_keyset_next_link_walks_the_listing(servers: tuple[Running, Running]) -> None:
    """A full page says X-Next-Cursor; with after= the next link carries the next token (relative)."""
    order = "-data__first_name,data__age"
    expected = [x["id"] for x in apply(parse(f"ordering={order}", "pixiebrix"), PB_RECORDS)]
    with httpx.Client(base_url=servers[1].base) as c:
        r = c.get("/api/databases/pb/records/", params={"page_size": 3, "ordering": order})
        seen = [x["id"] for x in r.json()]
        r = c.get(
            "/api/databases/pb/records/",
            params={"page_size": 3, "ordering": order, "after": r.headers["X-Next-Cursor"]},
        )
        while True:
            assert r.status_code == 200, r.text
            seen += [x["id"] for x in r.json()]
            links = dict(reversed(p.split("; rel=")) for p in r.headers.get("Link", "").split(", ") if p)
            if '"next"' not in links:
                break
            assert links['"next"'].startswith("</api/databases/pb/records/?") and "after=" in links['"next"']
            r = c.get(links['"next"'].strip("<>"))
        assert seen == expected
        bad = c.get(
            "/api/databases/pb/records/", params={"ordering": "id", "after": r.request.url.params["after"]}
        )
        assert bad.status_code == 400 and bad.json()["errors"][0]["code"] == "bad-cursor"


def test_bad_inputs_are_400_never_500(servers: tuple[Running, Running]) -> None:
    pitchly, pb = servers
    with httpx.Client(base_url=pitchly.base) as c:
        for body in (
            b"{bad",
            b"[]",
            b'{"filter": 5}',
            b'{"limit": "x"}',
            b"\xff\xfe",
            b'{"in": ' + b"[" * 5000 + b"]",
        ):
            r = c.post("/api/databases/ixuPJwBRqtRP3GpoM/data", content=body)
            assert r.status_code == 400 and r.json()["errors"][0]["code"]
        assert c.post("/api/databases/nope/data", json={}).status_code == 404
        assert (
            c.post(
                "/api/records/import", json={"databaseId": "ixuPJwBRqtRP3GpoM", "records": [{"cols": []}]}
            ).status_code
            == 400
        )
    with httpx.Client(base_url=pb.base) as c:
        for qs in ("data__a=1&data__a=2", "page=0", "start_date=2022-13-01", "nope=1", "data__=x", "%ff=1"):
            r = c.get("/api/databases/pb/records/?" + qs)
            assert r.status_code == 400, qs
            assert r.json()["errors"][0]["location"], qs
        assert c.get("/api/databases/a%20b/records/").status_code == 404


def test_concurrent_requests_and_cache(servers: tuple[Running, Running]) -> None:
    pitchly, _ = servers
    cases = [c for c in POST_CASES if isinstance(c["expect"], list)]
    expected = {c["name"]: memory_ids(c) for c in cases}

    def one(i: int) -> bool:
        case = cases[i % len(cases)]
        with httpx.Client(base_url=pitchly.base, timeout=60) as c:
            r = c.post(f"/api/databases/{case['database']}/data", json=body_for(case))
            return r.status_code == 200 and [x["_id"] for x in r.json()["data"]] == expected[case["name"]]

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(one, range(200)))
    assert all(results) and len(results) == 200
    stats = httpx.get(pitchly.base + "/api/stats").json()["cache"]
    assert stats["hits"] >= 200 - len(cases) and 0 < stats["hit_rate"] <= 1


def test_secret_key_never_in_responses_or_logs(
    servers: tuple[Running, Running], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    pitchly, _ = servers
    with httpx.Client(base_url=pitchly.base) as c:
        for body in (
            {"secretKey": SECRET, "limit": 2},
            {"secretKey": SECRET, "limit": 1000},
            {"secretKey": SECRET, "nope": 1},
        ):
            for path in ("data", "data/count"):
                r = c.post(f"/api/databases/ixuPJwBRqtRP3GpoM/{path}", json=body)
                assert SECRET not in r.text and SECRET not in str(r.headers)
    assert SECRET not in caplog.text
