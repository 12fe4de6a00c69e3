"""filterdsl.integrations.django: filter_queryset and the DRF backend on SQLite, PostgreSQL and MariaDB give the
in-memory engine's records in its order (corpus, a hypothesis sample, JSON and columns layouts); bad
filters are HTTP 400 with located diagnostics. Django is configured here (settings.configure) with
a SQLite in-memory database, PostgreSQL database ``filterdsl_django_test`` (created if missing) and
the MariaDB database of ``FILTERDSL_MYSQL_URL`` (tables named with a per-process tag)."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from typing import Any
from urllib.parse import urlparse

import pytest

pytest.importorskip("django")
pytest.importorskip("rest_framework")

import django  # noqa: E402
from django.conf import settings  # noqa: E402
from hypothesis import HealthCheck, given  # noqa: E402
from hypothesis import settings as hsettings
from sql_engines import lower_diverges, require  # noqa: E402
from test_sql_columns import _well_typed  # noqa: E402
from test_sql_corpus import GOOD, _dataset, _query  # noqa: E402
from test_sql_differential import _folds  # noqa: E402

from filterdsl import FilterError, load_catalog, parse  # noqa: E402
from filterdsl.ast import FieldType, Query  # noqa: E402
from filterdsl.backends.memory import run  # noqa: E402
from filterdsl.records import normalize_dataset  # noqa: E402

from conftest import CORPUS, mysql_url, postgres_url  # noqa: E402
from strategies import Scenario, scenarios  # noqa: E402

PG_DB = "filterdsl_django_test"


def _pg() -> dict[str, Any]:
    u = urlparse(postgres_url())
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": PG_DB,
        "USER": u.username or "postgres",
        "PASSWORD": u.password or "",
        "HOST": u.hostname or "127.0.0.1",
        "PORT": str(u.port or 5432),
    }


def _my() -> dict[str, Any]:
    """MariaDB through Django's MySQL backend; PyMySQL stands in for mysqlclient when that is missing."""
    try:
        import MySQLdb  # noqa: F401
    except ImportError:
        import pymysql

        pymysql.version_info = (2, 2, 7, "final", 0)  # Django checks mysqlclient's version
        pymysql.install_as_MySQLdb()
    u = urlparse(mysql_url())
    return {
        "ENGINE": "django.db.backends.mysql",
        "NAME": u.path.lstrip("/") or "test",
        "USER": u.username or "root",
        "PASSWORD": u.password or "",
        "HOST": u.hostname or "127.0.0.1",
        "PORT": str(u.port or 3306),
        "OPTIONS": {"charset": "utf8mb4"},
    }


if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="filterdsl-tests",
        ALLOWED_HOSTS=["testserver"],
        USE_TZ=True,
        ROOT_URLCONF="fdsl_djangoapp.urls",
        INSTALLED_APPS=[
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "rest_framework",
            *(["django_filters"] if importlib.util.find_spec("django_filters") else []),
            "fdsl_djangoapp",
        ],
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
        STATIC_URL="/static/",
        DATABASES={
            "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
            "pg": _pg(),
            "my": _my(),
        },
        REST_FRAMEWORK={
            "DEFAULT_AUTHENTICATION_CLASSES": [],
            "DEFAULT_PERMISSION_CLASSES": [],
            "UNAUTHENTICATED_USER": None,
        },
    )
    django.setup()

from django.db import connections  # noqa: E402
from fdsl_djangoapp.models import (  # noqa: E402
    ALL_MODELS,
    JSON_MODELS,
    TYPED_COLUMNS,
    TYPED_DB,
    TYPED_FIELDS,
    PBRecord,
    Typed,
)
from rest_framework.test import APIClient  # noqa: E402

from filterdsl.integrations.django import filter_queryset, install_sqlite_lower  # noqa: E402

install_sqlite_lower()
CATALOG = load_catalog(CORPUS / "catalog.json")
ENGINE = {"default": "sqlite", "pg": "postgres", "my": "mysql"}


def _ensure_pg_database() -> None:
    import psycopg

    with psycopg.connect(postgres_url(), autocommit=True) as con:
        if con.execute("SELECT 1 FROM pg_database WHERE datname = %s", (PG_DB,)).fetchone() is None:
            try:
                con.execute(f'CREATE DATABASE "{PG_DB}"')
            except psycopg.errors.DuplicateDatabase:
                pass  # another run made it meanwhile


@pytest.fixture(scope="module", params=["default", "pg", "my"])
def alias(request: Any) -> Any:
    if request.param == "pg":
        require("postgres")
        _ensure_pg_database()
    if request.param == "my":
        require("mysql")
    con = connections[request.param]
    with con.schema_editor() as editor:
        for m in ALL_MODELS:
            editor.create_model(m)
    yield request.param
    with con.schema_editor() as editor:
        for m in ALL_MODELS:
            editor.delete_model(m)
    con.close()


def _load(alias: str, model: Any, docs: list[dict[str, Any]], **extra: Any) -> None:
    model.objects.using(alias).all().delete()
    fields = {f.name for f in model._meta.concrete_fields}
    model.objects.using(alias).bulk_create(
        [model(**{k: v for k, v in d.items() if k in fields}, **extra) for d in docs]
    )


def _ids(qs: Any) -> list[str]:
    return [r.pk for r in qs]


def _filter_set(query: Query, dataset: Any, catalog: Any) -> set[str]:
    q = dataclasses.replace(query, sort=(), skip=0, limit=None)
    return {r["id"] for r in run(q, dataset, catalog)}


# ------------------------------------------------------------------ corpus, JSON document layout
@pytest.fixture(scope="module")
def corpus(alias: str) -> Any:
    pitchly, catalog = _dataset(next(c for c in GOOD if c["format"] == "pitchly"))
    pixiebrix, _ = _dataset(next(c for c in GOOD if c["format"] == "pixiebrix"))
    for db, docs in {**pitchly, **pixiebrix}.items():
        _load(alias, JSON_MODELS[db], docs)
    return alias


@pytest.fixture(params=["inline", "subquery"])
def embedding(request: Any, monkeypatch: Any) -> str:
    """Run a test both ways: the inline cut (used whenever it is provably safe) and the fallback."""
    if request.param == "subquery":
        from filterdsl.integrations import _sqltext

        real = _sqltext.analyse
        monkeypatch.setattr(_sqltext, "analyse", lambda *a: dataclasses.replace(real(*a), inline=False))
    return str(request.param)


@pytest.mark.parametrize("case", GOOD, ids=[c["name"] for c in GOOD])
def test_corpus_case(corpus: str, case: dict[str, Any], embedding: str) -> None:
    query = _query(case)
    dataset, catalog = _dataset(case)
    model = JSON_MODELS[query.database]
    related = {db: m for db, m in JSON_MODELS.items() if db != query.database}
    qs = filter_queryset(model.objects.using(corpus), query, catalog=catalog, related=related)
    assert _ids(qs) == case["expect"]
    assert set(
        _ids(
            filter_queryset(
                model.objects.using(corpus), query, catalog=catalog, related=related, paginate=False
            )
        )
    ) >= set(case["expect"])


# ------------------------------------------------------------------ corpus, columns layout (typed model)
def _typed_rows(docs: list[dict[str, Any]]) -> tuple[list[Any], list[dict[str, Any]]]:
    rows, clean = [], []
    for d in docs:
        data = {
            f["_id"]: d["data"][f["_id"]]
            for f in TYPED_FIELDS
            if f["_id"] in d["data"] and _well_typed(FieldType(f["type"]), d["data"][f["_id"]])
        }
        clean.append({**d, "data": data})
        cols: dict[str, Any] = {}
        for f in TYPED_FIELDS:
            v = data.get(f["_id"])
            spec = TYPED_COLUMNS[f["_id"]]
            if isinstance(spec, dict):
                cols[spec["column"]] = None if v is None else v["val"]
                cols[spec["currency"]] = None if v is None else v.get("currency")
            elif f["type"] == "attachment":
                cols[spec] = None if v is None else v["val"]
            else:
                cols[spec] = v
        rows.append(
            Typed(
                id=d["id"],
                created_at=d["created_at"],
                updated_at=d["updated_at"],
                removed_at=d["removed_at"],
                **cols,
            )
        )
    return rows, clean


TYPED_CASES = [c for c in GOOD if c["format"] == "pitchly" and c.get("database") == TYPED_DB]


def test_corpus_columns_layout(corpus: str) -> None:
    dataset, catalog = _dataset(TYPED_CASES[0])
    rows, clean = _typed_rows(dataset[TYPED_DB])
    Typed.objects.using(corpus).all().delete()
    Typed.objects.using(corpus).bulk_create(rows)
    clean_ds = {**dataset, TYPED_DB: clean}
    checked = 0
    for case in TYPED_CASES:
        query = _query(case)
        try:
            qs = filter_queryset(Typed.objects.using(corpus), query, catalog=catalog, layout=TYPED_COLUMNS)
        except FilterError as e:  # NOT SET vs EMPTY, or a relation into databases without a mapping
            assert e.diagnostics[0].code in ("layout-ambiguous", "not-expressible"), (case["name"], e)
            continue
        assert _ids(qs) == [r["id"] for r in run(query, clean_ds, catalog)], case["name"]
        checked += 1
    assert checked >= len(TYPED_CASES) // 2  # most cases run, not only refusals


# ------------------------------------------------------------------ hypothesis differential (JSON layout)
def test_differential_json_layout(alias: str) -> None:
    engine = ENGINE[alias]

    @hsettings(
        max_examples=30 if alias == "default" else 20,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
    # SQLite reads integers past 64 bits as REAL (docs/semantics.md section 9)
    @given(scenarios(numbers="int64" if engine == "sqlite" else "all"))
    def prop(sc: Scenario) -> None:
        for db, docs in sc.dataset.items():
            _load(alias, JSON_MODELS[db], docs)
        qs = JSON_MODELS["main"].objects.using(alias)
        got = _ids(
            filter_queryset(qs, sc.query, catalog=sc.catalog, related={"target": JSON_MODELS["target"]})
        )
        expected = [r["id"] for r in run(sc.query, sc.dataset, sc.catalog)]
        if got != expected and engine != "sqlite" and _folds(sc) and lower_diverges(engine, sc.dataset):
            return  # documented: this engine's lower() differs from str.lower() on a stored string
        assert got == expected, f"memory {expected}, plain to_sql {_raw(alias, sc)}"

    prop()


def _raw(alias: str, sc: Scenario) -> list[str]:
    """The same query through plain ``to_sql`` on the same tables (tells integration bugs from backend ones)."""
    from filterdsl import to_sql
    from filterdsl.backends.sql import JsonLayout

    layout = JsonLayout(tables={db: JSON_MODELS[db]._meta.db_table for db in sc.dataset})
    sql, params = to_sql(sc.query, ENGINE[alias], layout, sc.catalog, paramstyle="format")
    with connections[alias].cursor() as cur:
        cur.execute(sql, params)
        return [r[0] for r in cur.fetchall()]


# ------------------------------------------------------------------ DRF: PixieBrix params, Pitchly variables
PB_DOCS = normalize_dataset(json.loads((CORPUS / "pixiebrix_records.json").read_text()))[None]
OWNERS = ["me" if i % 2 else "you" for i in range(len(PB_DOCS))]


@pytest.fixture(scope="module")
def pb(alias: str) -> str:
    PBRecord.objects.using(alias).all().delete()
    PBRecord.objects.using(alias).bulk_create(
        [
            PBRecord(
                id=d["id"], created_at=d["created_at"], updated_at=d["updated_at"], data=d["data"], owner=o
            )
            for d, o in zip(PB_DOCS, OWNERS)
        ]
    )
    return alias


@pytest.mark.parametrize(
    "qs",
    [
        "data__first_name=david",
        "page_size=2&page=2",
        "ordering=-data__age,id",
        "data__age__gte=30",
        "data__nickname__isnull=true",
        "data__first_name__icontains=DÁV",
        "start_date=2020-01-01&end_date=2030-01-01&ordering=created_at",
    ],
)
def test_drf_pixiebrix_params(pb: str, qs: str) -> None:
    res = APIClient().get(f"/{pb}/records/?{qs}")
    assert res.status_code == 200, res.content
    q = parse(qs, "pixiebrix", lookups="extended")
    assert [r["id"] for r in res.json()] == [r["id"] for r in run(q, {None: PB_DOCS})]
    mine = [d for d, o in zip(PB_DOCS, OWNERS) if o == "me"]
    res = APIClient().get(f"/{pb}/records/?{qs}", HTTP_X_OWNER="me")  # paging after the view's own filter
    assert [r["id"] for r in res.json()] == [r["id"] for r in run(q, {None: mine})]


def test_drf_keyset_after_param(pb: str) -> None:
    """PixieBrix ``after=`` through the DRF backend: the rows after the cursor, as the memory engine."""
    from filterdsl import next_cursor

    first = parse("ordering=-data__age,id&page_size=3", "pixiebrix", lookups="extended")
    page = run(first, {None: PB_DOCS})
    qs = f"ordering=-data__age,id&page_size=3&after={next_cursor(first, page[-1])}"
    res = APIClient().get(f"/{pb}/records/?{qs}")
    assert res.status_code == 200, res.content
    q = parse(qs, "pixiebrix", lookups="extended")
    assert [r["id"] for r in res.json()] == [r["id"] for r in run(q, {None: PB_DOCS})] != []
    bad = APIClient().get(f"/{pb}/records/?ordering=id&after={next_cursor(first, page[-1])}")
    assert bad.status_code == 400


def test_drf_bad_params_are_400_with_locations(pb: str) -> None:
    res = APIClient().get(f"/{pb}/records/?data__name__regex=x&page=0&bogus=1")
    assert res.status_code == 400
    errors = res.json()["errors"]
    assert len(errors) >= 2
    assert all(e["code"] and e["message"] and e["location"] for e in errors)
    assert {e["location"]["param"] for e in errors} == {"data__name__regex", "page", "bogus"}
    assert [e["location"]["column"] for e in errors] == [1, 21, 28]  # located in the raw query string


def test_drf_pitchly_variables(corpus: str) -> None:
    for case in [c for c in GOOD if c["format"] == "pitchly"][:12]:
        dataset, catalog = _dataset(case)
        res = APIClient().post(f"/{corpus}/databases/{case['database']}/data", case["input"], format="json")
        assert res.status_code == 200, (case["name"], res.content)
        assert [r["id"] for r in res.json()] == case["expect"], case["name"]


def test_drf_bad_pitchly_is_400_with_pointer(corpus: str) -> None:
    body = {
        "filter": {"fields": {"Popw6SRW8pL2RqECF": {"filters": [{"by": "contans", "value": "paid"}]}}},
        "limit": 1000,
    }
    res = APIClient().post(f"/{corpus}/databases/{TYPED_DB}/data", body, format="json")
    assert res.status_code == 400
    errors = res.json()["errors"]
    codes = {e["code"] for e in errors}
    assert {"unknown-operator", "limit-too-large"} <= codes
    pointers = {e["location"].get("pointer") for e in errors}
    assert "/filter/fields/Popw6SRW8pL2RqECF/filters/0/by" in pointers and "/limit" in pointers


def test_sqlite_escaped_keys_need_the_unicode_encoder(alias: str) -> None:
    """Pinned divergence: Django's default JSONField encoding stores non-ASCII keys as \\uXXXX escapes,
    which SQLite's and MariaDB's JSON paths never match; ``UnicodeJSONEncoder`` stores them as they are."""
    from fdsl_djangoapp.models import Escaped

    doc = {
        "id": "e1",
        "created_at": "2021-01-01T00:00:00.000000Z",
        "updated_at": None,
        "removed_at": None,
        "data": {"日本": "x"},
    }
    q = parse({"data__日本": "x"}, "pixiebrix")
    assert [r["id"] for r in run(q, {None: [doc]})] == ["e1"]
    _load(alias, Escaped, [doc])
    plain = JSON_MODELS["main"]  # (the differential test reloads it for every example)
    _load(alias, plain, [doc])
    assert _ids(filter_queryset(plain.objects.using(alias), q)) == ["e1"]
    escaped = _ids(filter_queryset(Escaped.objects.using(alias), q))
    assert escaped == (["e1"] if alias == "pg" else [])  # PostgreSQL's jsonb decodes keys; MariaDB does not


def test_existing_order_by_stays_first(pb: str) -> None:
    """filterdsl's order comes after the queryset's explicit ordering; paging applies to the combination."""
    q = parse("page_size=3&page=2&ordering=-data__age", "pixiebrix")
    full = run(dataclasses.replace(q, skip=0, limit=None), {None: PB_DOCS})
    owner = dict(zip((d["id"] for d in PB_DOCS), OWNERS))
    expected = [r["id"] for r in sorted(full, key=lambda r: owner[r["id"]])][3:6]
    assert _ids(filter_queryset(PBRecord.objects.using(pb).order_by("owner"), q)) == expected
