"""Issue 26, M3: what the reference server imports, it lists back exactly, on both stores.

PostgreSQL's jsonb keeps numbers as decimals: a float without a fraction (``1e17``) read back as an
integer and ``-0.0`` as ``0.0``; the store now lists the data's JSON text as imported. A Pitchly currency
or attachment value object keeps every key (it used to keep only val/currency and val/type/size).
"""

from __future__ import annotations

import json
import secrets
import tempfile
from pathlib import Path
from typing import Any

import pytest

from filterdsl.ast import Compare, Field, FieldType, Op, Query, SortKey
from filterdsl.ast import Const as TrueConst
from filterdsl.embed import compile_query
from filterdsl.records import normalize_record
from filterdsl.schema import load_catalog
from filterdsl.server.store import Store

from conftest import need, postgres_available, postgres_url

CAT = load_catalog(
    [
        {
            "_id": "db",
            "name": "DB",
            "fields": [
                {"_id": "n", "name": "N", "type": "number"},
                {"_id": "c", "name": "C", "type": "currency"},
                {"_id": "a", "name": "A", "type": "attachment"},
            ],
        }
    ]
)
#: values jsonb would change: floats without a fraction, -0.0, extremes, integers past 2^53 and 64 bits
NUMBERS: list[Any] = [1e17, 1e16, 1e308, -0.0, 0.0, 1.5, 2.0**63, 2**53 + 1, 10**30, -(10**30), 5, 1e-300]


def _docs() -> list[dict[str, Any]]:
    docs = [
        {
            "id": f"r{i:02d}",
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {"n": v, "nested": {"x": [v, {"y": v}]}, "c": {"val": v, "currency": "USD"}},
        }
        for i, v in enumerate(NUMBERS)
    ]
    row = {
        "_id": "pitchly",
        "createdAt": "2021-01-02T00:00:00Z",
        "cols": [
            {"fieldId": "c", "value": {"val": 12.0, "currency": "EUR", "rate": 1.1, "note": {"k": [1e17]}}},
            {"fieldId": "a", "value": {"val": "https://x.test/f.pdf", "type": "pdf", "size": 3, "name": "F"}},
            {"fieldId": "n", "value": {"val": -0.0}},
        ],
    }
    docs.append(normalize_record(row, CAT.get("db")))
    return docs


def _exact(value: Any) -> str:
    """JSON text that tells 1e17 from 100000000000000000 and -0.0 from 0.0."""
    return json.dumps(value, sort_keys=True)


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: Any) -> Any:
    if request.param == "sqlite":
        s = Store("sqlite:///:memory:")
    else:
        need(postgres_available(), "PostgreSQL is not reachable at " + postgres_url())
        s = Store(postgres_url())
    yield s
    s.drop_all()


def test_pitchly_object_values_keep_every_key() -> None:
    doc = _docs()[-1]
    assert doc["data"]["c"] == {"val": 12.0, "currency": "EUR", "rate": 1.1, "note": {"k": [1e17]}}
    assert doc["data"]["a"] == {"val": "https://x.test/f.pdf", "type": "pdf", "size": 3, "name": "F"}
    assert _exact(doc["data"]["n"]) == "-0.0"


def test_import_lists_back_exactly(store: Store) -> None:
    db = f"m3_{secrets.token_hex(3)}"
    docs = _docs()
    assert store.import_docs(db, docs) == len(docs)
    q = Query(TrueConst(True), (SortKey(Field("n", FieldType.NUMBER), False),), 0, None, None, db)
    got = store.fetch(compile_query(q, dialect=store.dialect, paramstyle=store.paramstyle, cache=None))
    assert sorted(d["id"] for d in got) == sorted(d["id"] for d in docs)
    by_id = {d["id"]: d for d in got}
    for d in docs:
        assert _exact(by_id[d["id"]]["data"]) == _exact(d["data"]), d["id"]
    # filters still read the values as numbers (the jsonb column on PostgreSQL)
    f = Query(Compare(Field("n", FieldType.NUMBER), Op.GTE, 1e17), (), 0, None, None, db)
    ids = [d["id"] for d in store.fetch(compile_query(f, dialect=store.dialect, paramstyle=store.paramstyle))]
    assert sorted(ids) == ["r00", "r02", "r06", "r08"]
    # a re-import replaces the stored text too
    docs[0]["data"] = {"n": 2.5}
    store.import_docs(db, docs[:1])
    got = store.fetch(compile_query(q, dialect=store.dialect, paramstyle=store.paramstyle, cache=None))
    assert _exact({d["id"]: d for d in got}["r00"]["data"]) == '{"n": 2.5}'


def test_postgres_table_without_doc_column_still_lists() -> None:
    """A table made before the ``doc`` column existed gains it; rows without it read jsonb's data."""
    need(postgres_available(), "PostgreSQL is not reachable at " + postgres_url())
    import psycopg

    db = f"m3old_{secrets.token_hex(3)}"
    with psycopg.connect(postgres_url(), autocommit=True) as con:
        con.execute(
            f'CREATE TABLE "{db}" (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, '
            "updated_at TEXT, removed_at TEXT, data JSONB NOT NULL)"
        )
        con.execute(f"""INSERT INTO "{db}" VALUES ('old', '2021-01-01', NULL, NULL, '{{"n": 1}}')""")
    s = Store(postgres_url())
    s._tables.discard(db)
    try:
        s.import_docs(db, _docs()[:1])
        q = Query(TrueConst(True), (), 0, None, None, db)
        got = {d["id"]: d["data"] for d in s.fetch(compile_query(q, dialect="postgres", paramstyle="format"))}
        assert got == {"old": {"n": 1}, "r00": _docs()[0]["data"]}
        assert _exact(got["r00"]["n"]) == "1e+17"
    finally:
        s._tables.add(db)
        s.drop_all()


def test_import_reports_the_keys_a_plain_value_loses() -> None:
    """SPEC 1.2 reduces a plain-typed value object to its val; the import answer says where (M3)."""
    from starlette.testclient import TestClient

    from filterdsl.server import create_app

    catalog = [
        {
            "_id": "w",
            "name": "W",
            "fields": [{"_id": "s", "type": "string"}, {"_id": "c", "type": "currency"}],
        }
    ]
    path = Path(tempfile.mkdtemp()) / "catalog.json"
    path.write_text(json.dumps(catalog))
    rows = [
        {
            "_id": "r1",
            "createdAt": "2021-01-01",
            "cols": [{"fieldId": "s", "value": {"val": "x", "note": 1}}],
        },
        {
            "_id": "r2",
            "createdAt": "2021-01-01",
            "cols": [{"fieldId": "c", "value": {"val": 3, "currency": "EUR", "rate": 2}}],
        },
        {"_id": "r3", "createdAt": "2021-01-01", "cols": [{"fieldId": "s", "value": {"val": "y"}}]},
    ]
    with TestClient(create_app("sqlite:///:memory:", path)) as client:
        body = client.post("/api/records/import", json={"databaseId": "w", "records": rows}).json()
        assert body["imported"] == 3
        assert body["warnings"] == [
            {
                "code": "dropped-keys",
                "message": "1 value object(s) of plain-typed fields kept only their val",
                "pointers": ["/records/0/cols/0/value"],
            }
        ]
        clean = client.post("/api/records/import", json={"databaseId": "w", "records": rows[1:]}).json()
        assert clean == {"imported": 2}
