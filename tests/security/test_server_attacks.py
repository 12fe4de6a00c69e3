"""Issue 17, server side: no 500 on hostile requests, stored data always readable, no blocking loop."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator

import httpx
import pytest
from test_server import SCHEMAS, Running, _url

from filterdsl.server import create_app

from conftest import CORPUS

ORDERS = "ixuPJwBRqtRP3GpoM"


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def pb(request: pytest.FixtureRequest) -> Iterator[Running]:
    url = _url(request.param)
    server = Running(create_app(url))
    with httpx.Client(base_url=server.base) as c:
        rec = [
            {"id": f"r{i}", "created_at": f"2022-05-{i + 1:02d}T00:00:00Z", "data": {"n": i, "s": f"v{i}"}}
            for i in range(5)
        ]
        assert c.post("/api/records/import", json={"databaseId": "pb", "records": rec}).status_code == 200
    yield server
    server.app.state.store.drop_all()
    server.stop()
    while SCHEMAS:
        import psycopg

        from conftest import postgres_url

        with psycopg.connect(postgres_url(), autocommit=True) as con:
            con.execute(f"DROP SCHEMA IF EXISTS {SCHEMAS.pop()} CASCADE")


def listing_ok(c: httpx.Client) -> None:
    r = c.get("/api/databases/pb/records/", params={"page_size": 100})
    assert r.status_code == 200, r.text
    assert {x["id"] for x in r.json()} >= {f"r{i}" for i in range(5)}


@pytest.mark.parametrize(
    "body",
    [
        b'{"databaseId": "pb", "records": [{"id": "x", "created_at": "2022-01-01", "data": {"n": NaN}}]}',
        b'{"databaseId": "pb", "records": [{"id": "x", "created_at": "2022-01-01", "data": {"n": 1e400}}]}',
        b'{"databaseId": "pb", "records": [{"id": "x", "created_at": "2022-01-01", "data": {"n": -Infinity}}]}',
        b'{"databaseId": "pb", "records": [{"id": "x", "created_at": "2022-01-01", "data": {"n": 1'
        + b"0" * 400
        + b"}}]}",
        b'{"databaseId": "pb", "records": [{"id": "x", "created_at": "2022-01-01", "data": {"s": "\\ud800"}}]}',
        b'{"databaseId": "pb", "records": [{"id": "x\\udfff", "created_at": "2022-01-01", "data": {}}]}',
        b'{"databaseId": "pb", "records": [{"id": "x", "created_at": "2022-01-01", "data": {"\\ud800": 1}}]}',
        b'{"databaseId": "pb", "records": [{"id": "x", "created_at": "2022-01-01", "data": {"s": "a\\u0000"}}]}',
        b'{"databaseId": "pb", "records": [{"id": "x", "created_at": "2022-01-01", "data": {"\\u0000": 1}}]}',
        b'{"databaseId": "pb", "records": [{"id": "x", "created_at": "2022-01-01", "data": {"d": '
        + b"[" * 300
        + b"]" * 300
        + b"}}]}",
    ],
)
def test_import_refuses_what_a_listing_could_not_read_back(pb: Running, body: bytes) -> None:
    """H3 and M5: the import used to answer 200, and every later listing 500."""
    with httpx.Client(base_url=pb.base) as c:
        r = c.post("/api/records/import", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 400, r.text
        err = r.json()["errors"][0]
        assert err["code"] in ("bad-record", "invalid-json") and err["location"]
        listing_ok(c)


@pytest.mark.parametrize(
    "qs",
    [
        "page=9223372036854775808",
        "page=" + "9" * 5000,
        "end_date=9999-12-31",
        "ordering=" + ",".join(f"data__k{i}" for i in range(1000)),
        "data__s=%ED%A0%80",
        "data__a%00b=1",
        "ordering=-data__a%00",
        "data__s=a%00b",
    ],
)
def test_hostile_listings_are_400_or_200_never_500(pb: Running, qs: str) -> None:
    """H1, H2, H4: the listing answered 500 (OverflowError, datatype mismatch, too many ORDER BY terms)."""
    with httpx.Client(base_url=pb.base) as c:
        r = c.get("/api/databases/pb/records/?" + qs)
        assert r.status_code in (200, 400), r.text
        if r.status_code == 400:
            assert all(e["location"] for e in r.json()["errors"])
        elif "%00" in qs:
            assert r.json() == []  # SQLite can run it; no stored record holds a NUL (imports refuse it)
        else:
            assert [x["id"] for x in r.json()] == [f"r{i}" for i in range(4, -1, -1)]


def test_unknown_database_404_is_located(pb: Running) -> None:
    with httpx.Client(base_url=pb.base) as c:
        r = c.get("/api/databases/a%20b/records/")
        assert r.status_code == 404 and r.json()["errors"][0]["location"] == {"param": "database"}


def test_oversized_filter_body_is_too_large(pb: Running) -> None:
    app = create_app("sqlite:///:memory:", CORPUS / "catalog.json")
    srv = Running(app)
    try:
        with httpx.Client(base_url=srv.base) as c:
            r = c.post(f"/api/databases/{ORDERS}/data", content=b'{"in": [' + b'"x",' * 300_000 + b'"x"]}')
            assert r.status_code == 400 and r.json()["errors"][0]["code"] == "too-large"
            r = c.post(f"/api/databases/{ORDERS}/data", content=json.dumps({"skip": 2**63}).encode())
            assert r.status_code == 400 and r.json()["errors"][0]["location"] == {"pointer": "/skip"}
    finally:
        srv.stop()


def test_blocking_work_runs_off_the_event_loop() -> None:
    """H4: a cheap request is answered while an expensive one is still running (not after it)."""
    app = create_app("sqlite:///:memory:")
    store = app.state.store
    release, entered = threading.Event(), threading.Event()
    real_fetch = store.fetch

    def slow_fetch(compiled):  # stands in for a long query: holds its worker thread until released
        entered.set()
        assert release.wait(30)
        return real_fetch(compiled)

    store.fetch = slow_fetch
    srv = Running(app)
    try:
        results: list[int] = []
        t = threading.Thread(
            target=lambda: results.append(
                httpx.get(srv.base + "/api/databases/pb/records/", timeout=60).status_code
            )
        )
        t.start()
        assert entered.wait(30)
        cheap = httpx.get(srv.base + "/api/stats", timeout=20)  # before the slow one is released
        assert cheap.status_code == 200 and not results
        release.set()
        t.join(30)
        assert results == [200]
    finally:
        release.set()
        srv.stop()


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
def test_a_filter_too_deep_for_sqlite_is_refused_not_a_500(store: str) -> None:
    """1,500 OR-ed conditions: SQLite's parser stops at 1,000 nested terms (HTTP 500 before)."""
    url = _url(store)
    srv = Running(create_app(url, CORPUS / "catalog.json"))
    try:
        body = {
            "filter": {
                "fields": {
                    "Nb6uqwKdxh3BFX3De": {
                        "filters": [{"by": "contains", "value": f"zz{i}"} for i in range(1_500)],
                        "conjunction": "or",
                    }
                }
            }
        }
        r = httpx.post(f"{srv.base}/api/databases/{ORDERS}/data", json=body, timeout=120)
        if store == "sqlite":
            assert r.status_code == 400 and r.json()["errors"][0]["code"] == "too-large"
            assert r.json()["errors"][0]["location"] == {"pointer": ""}
        else:
            assert r.status_code == 200 and r.json() == {"data": []}
        small = {
            **body,
            "filter": {
                "fields": {
                    "Nb6uqwKdxh3BFX3De": {
                        **body["filter"]["fields"]["Nb6uqwKdxh3BFX3De"],
                        "filters": body["filter"]["fields"]["Nb6uqwKdxh3BFX3De"]["filters"][:800],
                    }
                }
            },
        }
        assert (
            httpx.post(f"{srv.base}/api/databases/{ORDERS}/data", json=small, timeout=120).status_code == 200
        )
    finally:
        srv.app.state.store.drop_all()
        srv.stop()
        if store == "postgres":
            import psycopg

            from conftest import postgres_url

            with psycopg.connect(postgres_url(), autocommit=True) as con:
                con.execute(f"DROP SCHEMA IF EXISTS {SCHEMAS.pop()} CASCADE")
