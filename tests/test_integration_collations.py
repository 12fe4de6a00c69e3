"""MariaDB id collations a user can have: ``utf8mb4_nopad_bin`` (docs/sql.md's advice), ``utf8mb4_bin``
and the server's default, each beside a JSON ``data`` column as the ORM makes it (SQLAlchemy's
``JSON`` type and Django's ``JSONField`` create ``utf8mb4_bin`` text). Relational filters (the corpus'
and a set of nested ones) give the in-memory engine's records through both integrations, and the
referenced table is read through its id index (EXPLAIN: the primary key, one row per lookup).

Before ``same_text`` made the JSON side coercible, every relation on ``utf8mb4_nopad_bin`` ids failed
with MariaDB error 1267 (illegal mix of collations)."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

pytest.importorskip("sqlalchemy")
pytest.importorskip("django")

import test_integration_django as dj  # noqa: E402  (configures Django, MariaDB as alias "my")
from sql_engines import require  # noqa: E402
from sqlalchemy import JSON, Column, MetaData, String, Table, create_engine, insert, select  # noqa: E402
from test_integration_sqlalchemy import _url  # noqa: E402
from test_sql_corpus import GOOD, _dataset, _query  # noqa: E402

from filterdsl import ast as A  # noqa: E402
from filterdsl import parse  # noqa: E402
from filterdsl.backends.memory import run  # noqa: E402
from filterdsl.integrations.sqlalchemy import apply  # noqa: E402

ORD, CLI = "ixuPJwBRqtRP3GpoM", "uJL9XrebupC7eWvM3"
COLLATIONS = ["utf8mb4_nopad_bin", "utf8mb4_bin", None]  # None: the server's default
DATASET, CATALOG = _dataset(next(c for c in GOOD if c["format"] == "pitchly"))
# 400 trashed rows per table: no answer changes (a listing and a relation skip the trash), and the
# tables are large enough that a scan would cost more than the id index, so the plan shows the choice
PAD = [
    {
        "id": f"pad-{i:04d}",
        "created_at": "2020-01-01T00:00:00.000000Z",
        "updated_at": None,
        "removed_at": "2020-01-02T00:00:00.000000Z",
        "data": {},
    }
    for i in range(400)
]
DATASET = {db: [*docs, *PAD] for db, docs in DATASET.items()}


def _rel(name: str, f: dict[str, Any]) -> dict[str, Any]:
    return {"fields": {name: {"fields": f}}}


NESTED = [
    (ORD, _rel("RyM8SyrYrceRsrLJd", {"xEfek48BRpD3kAksh": {"filters": [{"by": "contains", "value": "a"}]}})),
    (ORD, _rel("McGDrXSRoEuXvnxZs", {"3H28yRvgANiQqHdZX": {"filters": [{"by": "is", "value": "Hardware"}]}})),
    (
        ORD,
        _rel(
            "RyM8SyrYrceRsrLJd",
            {
                "nzS3PxpdTR8nWqYPv": {
                    "fields": {"xEfek48BRpD3kAksh": {"filters": [{"by": "contains", "value": "o"}]}}
                }
            },
        ),
    ),
    (
        CLI,
        _rel(
            "nzS3PxpdTR8nWqYPv",
            {
                "i95WQsMoi7D93EN2H": {
                    "filters": [{"by": "is-any-of", "value": ["Paris", "Houston", "Las Vegas"]}]
                }
            },
        ),
    ),
    (
        ORD,
        {
            "conjunction": "or",
            "fields": {
                "McGDrXSRoEuXvnxZs": {
                    "fields": {"d3j5wrxjvfz8YDj34": {"filters": [{"by": "is-more-than", "value": 10}]}}
                },
                "RyM8SyrYrceRsrLJd": {
                    "fields": {"i95WQsMoi7D93EN2H": {"filters": [{"by": "is", "value": "Zürich"}]}}
                },
            },
        },
    ),
    (ORD, _rel("RyM8SyrYrceRsrLJd", {"xEfek48BRpD3kAksh": {"filters": [{"by": "is-not", "value": "Acme"}]}})),
    (
        ORD,
        _rel(
            "McGDrXSRoEuXvnxZs",
            {
                "3H28yRvgANiQqHdZX": {"filters": [{"by": "is", "value": "Software"}]},
                "d3j5wrxjvfz8YDj34": {"filters": [{"by": "is-less-than", "value": 1000}]},
            },
        ),
    ),
]
QUERIES = [parse(f, "pitchly", CATALOG, db) for db, f in NESTED] + [
    q
    for q in (_query(c) for c in GOOD if c["format"] == "pitchly")
    if any(isinstance(n, A.Relation) for n in A.walk(q.predicate))
]


def _expected(q: Any) -> list[str]:
    return [r["id"] for r in run(q, DATASET, CATALOG)]


def test_queries_select_records() -> None:
    assert len(QUERIES) >= 9 and sum(bool(_expected(q)) for q in QUERIES) >= 8


def _explain_uses_id_index(rows: list[dict[str, Any]], inner_tables: set[str]) -> None:
    """Every row of EXPLAIN that reads a referenced table reads it by its primary key."""
    inner = [r for r in rows if r["table"] in inner_tables]
    assert inner, rows
    for r in inner:
        assert r["key"] == "PRIMARY" and r["type"] in ("eq_ref", "ref", "unique_subquery"), rows


# ------------------------------------------------------------------ SQLAlchemy (JSON type: utf8mb4_bin data)
@pytest.fixture(scope="module", params=COLLATIONS, ids=lambda c: c or "server-default")
def sa_tables(request: Any) -> Any:
    require("mysql")
    engine = create_engine(_url("mysql"))
    md = MetaData()
    tag = secrets.token_hex(4)
    collation = request.param
    tables = {
        db: Table(
            f"fdsl_coll_{tag}_{i}",
            md,
            Column("id", String(64, collation=collation) if collation else String(64), primary_key=True),
            Column("created_at", String(40)),
            Column("updated_at", String(40)),
            Column("removed_at", String(40)),
            Column("data", JSON()),
            mysql_charset="utf8mb4",
        )
        for i, db in enumerate(DATASET)
    }
    md.create_all(engine)
    with engine.begin() as con:
        for db, docs in DATASET.items():
            con.execute(
                insert(tables[db]),
                [{k: d[k] for k in ("id", "created_at", "updated_at", "removed_at", "data")} for d in docs],
            )
        got = con.exec_driver_sql(
            "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            f"AND TABLE_NAME = '{tables[ORD].name}' AND COLUMN_NAME IN ('id', 'data') ORDER BY COLUMN_NAME"
        ).all()
    data_coll, id_coll = (r[0] for r in got)
    assert data_coll == "utf8mb4_bin"  # what SQLAlchemy's JSON type makes on MariaDB
    assert collation is None or id_coll == collation
    yield engine, tables
    md.drop_all(engine)
    engine.dispose()


@pytest.mark.parametrize("i", range(len(QUERIES)))
def test_sqlalchemy_relations(sa_tables: Any, i: int) -> None:
    engine, tables = sa_tables
    q = QUERIES[i]
    main = tables[q.database]
    related = {db: t for db, t in tables.items() if db != q.database}
    stmt = apply(select(main.c.id), q, main, catalog=CATALOG, related=related)
    with engine.connect() as con:
        assert [r[0] for r in con.execute(stmt)] == _expected(q)
        compiled = stmt.compile(engine)
        res = con.exec_driver_sql("EXPLAIN " + str(compiled), dict(compiled.params))
        rows = [dict(zip(res.keys(), r)) for r in res]
    inner = {
        f"r{k}" for k in range(1, 8)
    }  # filterdsl's aliases of the referenced tables (r0 is the main one, renamed here)
    _explain_uses_id_index(rows, inner)


# ------------------------------------------------------------------ Django (JSONField: utf8mb4_bin data)
def _django_models(collation: str | None) -> dict[str, Any]:
    from django.db import models

    from filterdsl.integrations.django import UnicodeJSONEncoder

    tag = secrets.token_hex(3)
    out = {}
    for i, db in enumerate(DATASET):
        id_field = models.CharField(primary_key=True, max_length=64, db_collation=collation)
        out[db] = type(
            f"Coll{tag}{i}",
            (models.Model,),
            {
                "__module__": "fdsl_djangoapp.models",
                "Meta": type(
                    "Meta", (), {"app_label": "fdsl_djangoapp", "db_table": f"fdsl_djcoll_{tag}_{i}"}
                ),
                "id": id_field,
                "created_at": models.CharField(max_length=40),
                "updated_at": models.CharField(max_length=40, null=True),
                "removed_at": models.CharField(max_length=40, null=True),
                "data": models.JSONField(encoder=UnicodeJSONEncoder),
            },
        )
    return out


@pytest.fixture(scope="module", params=COLLATIONS, ids=lambda c: c or "server-default")
def dj_models(request: Any) -> Any:
    require("mysql")
    from django.db import connections

    models = _django_models(request.param)
    con = connections["my"]
    with con.schema_editor() as editor:
        for m in models.values():
            editor.create_model(m)
    for db, docs in DATASET.items():
        models[db].objects.using("my").bulk_create(
            [
                models[db](**{k: d[k] for k in ("id", "created_at", "updated_at", "removed_at", "data")})
                for d in docs
            ]
        )
    with con.cursor() as cur:
        cur.execute(
            "SELECT COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME = %s AND COLUMN_NAME IN ('id', 'data') ORDER BY COLUMN_NAME",
            [models[ORD]._meta.db_table],
        )
        data_coll, id_coll = (r[0] for r in cur.fetchall())
    assert data_coll == "utf8mb4_bin"  # Django's JSONField on MariaDB
    assert request.param is None or id_coll == request.param
    yield models
    with con.schema_editor() as editor:
        for m in models.values():
            editor.delete_model(m)


@pytest.mark.parametrize("i", range(len(QUERIES)))
def test_django_relations(dj_models: Any, i: int) -> None:
    from django.db import connections

    q = QUERIES[i]
    model = dj_models[q.database]
    related = {db: m for db, m in dj_models.items() if db != q.database}
    qs = dj.filter_queryset(model.objects.using("my"), q, catalog=CATALOG, related=related)
    assert [r.pk for r in qs] == _expected(q)
    sql, params = qs.query.get_compiler(using="my").as_sql()
    with connections["my"].cursor() as cur:
        cur.execute("EXPLAIN " + sql, params)
        cols = [c[0] for c in cur.description]
        rows = [dict(zip(cols, r)) for r in cur.fetchall()]
    _explain_uses_id_index(rows, {f"r{k}" for k in range(1, 8)})


def test_nopad_ids_beside_bin_json_used_to_fail() -> None:
    """The SQL compares the referenced id with JSON text made coercible (the fix for error 1267)."""
    from filterdsl import to_sql

    sql, _ = to_sql(QUERIES[0], "mysql", catalog=CATALOG)
    assert "= JSON_UNQUOTE(JSON_QUOTE(" in sql
