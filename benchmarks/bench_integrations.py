"""What the ORM integrations cost next to hand-spliced ``to_sql``, measured in the same run.

For the six workload filters (sorted by amount, limit 100) over N documents in the JSON layout, the
median time of one request:
  raw      ``to_sql`` + the DB-API cursor (the SQL filterdsl verifies, spliced by hand);
  sa       ``apply(select(t.c.id), q, t)`` executed through SQLAlchemy (ids joined to
           ``ROW_NUMBER() OVER (filterdsl's ORDER BY)``);
  django   ``filter_queryset(Model.objects.all(), q)`` (``pk IN (...)`` + filterdsl's ORDER BY keys on
           the queryset's rows, sliced);
with the ratios to raw, on SQLite (in memory) and PostgreSQL (when reachable). Also the cost of
building and compiling a statement without executing it (the integration's own overhead).

    python benchmarks/bench_integrations.py [--rows 20000] [--min-time 0.5]
"""

from __future__ import annotations

import argparse
import json
import secrets
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

sys.path.insert(0, str(Path(__file__).resolve().parent))

from workload import CATALOG, DB, FILTERS, make_docs  # noqa: E402

import filterdsl  # noqa: E402
from filterdsl.api import Dialect

PG = "postgresql://postgres@127.0.0.1:5432/test"


def median_of(fn: Callable[[], Any], min_time: float, min_runs: int = 5) -> float:
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < min_runs or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def queries(catalog: Any) -> list[tuple[str, Any]]:
    out = []
    for name, src, _ in FILTERS:
        body = dict(src) if "filter" in src else {"filter": src}
        body.update({"sort": {"amount": -1}, "limit": 100})
        out.append((name, filterdsl.parse(body, "pitchly", catalog, DB)))
    return out


def sqlalchemy_env(url: str, docs: list[dict[str, Any]]) -> tuple[Any, Any, Any]:
    from sqlalchemy import Column, MetaData, String, Table, Text, create_engine, insert
    from sqlalchemy.dialects.postgresql import JSONB
    from sqlalchemy.pool import StaticPool

    from filterdsl.integrations.sqlalchemy import install_sqlite_lower

    sqlite = url.startswith("sqlite")
    engine = create_engine(url, poolclass=StaticPool) if sqlite else create_engine(url)
    if sqlite:
        install_sqlite_lower(engine)
    md = MetaData()
    t = Table(
        f"bench_int_{secrets.token_hex(3)}",
        md,
        Column("id", String(64), primary_key=True),
        Column("created_at", String(40)),
        Column("updated_at", String(40)),
        Column("removed_at", String(40)),
        Column("data", Text() if sqlite else JSONB()),
    )
    md.create_all(engine)
    with engine.begin() as con:
        con.execute(
            insert(t),
            [
                {
                    **{k: d[k] for k in ("id", "created_at", "updated_at", "removed_at")},
                    "data": json.dumps(d["data"], ensure_ascii=False) if sqlite else d["data"],
                }
                for d in docs
            ],
        )
    return engine, md, t


def run_engine(
    label: str,
    url: str,
    docs: list[dict[str, Any]],
    qs: list[tuple[str, Any]],
    min_time: float,
    django_alias: str | None,
) -> None:
    from sqlalchemy import select

    from filterdsl.backends.sql import JsonLayout
    from filterdsl.integrations.sqlalchemy import apply

    engine, md, t = sqlalchemy_env(url, docs)
    dialect = "sqlite" if url.startswith("sqlite") else "postgres"
    layout = JsonLayout(tables={DB: t.name})
    model = None
    if django_alias is not None:
        model = django_model(django_alias, docs)
    print(f"\n{label}, {len(docs):,} documents: median ms per request (ids of the first page of 100)")
    print(f"{'filter':<22} {'raw':>8} {'sa':>8} {'django':>8} {'sa/raw':>7} {'dj/raw':>7}")
    try:
        with engine.connect() as con:
            dbapi = con.connection.driver_connection
            for name, q in qs:

                def raw(q: Any = q) -> list[Any]:
                    sql, params = filterdsl.to_sql(q, cast(Dialect, dialect), layout, CATALOG)
                    cur = dbapi.cursor()
                    cur.execute(sql, params)
                    return [r[0] for r in cur.fetchall()]

                def sa(q: Any = q) -> list[Any]:
                    return [r[0] for r in con.execute(apply(select(t.c.id), q, t, catalog=CATALOG))]

                expected = raw()
                assert sa() == expected, name
                r, s = median_of(raw, min_time), median_of(sa, min_time)
                dj = float("nan")
                if model is not None:
                    from filterdsl.integrations.django import filter_queryset

                    def djq(q: Any = q) -> list[Any]:
                        return list(
                            filter_queryset(
                                model.objects.using(django_alias), q, catalog=CATALOG
                            ).values_list("pk", flat=True)
                        )

                    assert djq() == expected, name
                    dj = median_of(djq, min_time)
                print(
                    f"{name:<22} {r * 1e3:>8.2f} {s * 1e3:>8.2f} {dj * 1e3:>8.2f} {s / r:>7.2f} {dj / r:>7.2f}"
                )
            name, q = qs[4]
            from sqlalchemy.dialects import postgresql, sqlite

            d = sqlite.dialect() if dialect == "sqlite" else postgresql.dialect()
            build = median_of(
                lambda: str(apply(select(t.c.id), q, t, catalog=CATALOG).compile(dialect=d)), min_time
            )
            tosql = median_of(lambda: filterdsl.to_sql(q, cast(Dialect, dialect), layout, CATALOG), min_time)
            print(
                f"build + compile the SQLAlchemy statement of '{name}': {build * 1e6:.0f} us "
                f"(to_sql alone, cached shape: {tosql * 1e6:.0f} us)"
            )
    finally:
        md.drop_all(engine)
        engine.dispose()
        if model is not None:
            from django.db import connections

            with connections[django_alias].schema_editor() as editor:
                editor.delete_model(model)


_models: dict[str, Any] = {}


def django_setup(pg: bool) -> None:
    import django
    from django.conf import settings

    dbs: dict[str, Any] = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}
    if pg:
        dbs["pg"] = {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": "test",
            "USER": "postgres",
            "HOST": "127.0.0.1",
            "PORT": "5432",
        }
    settings.configure(INSTALLED_APPS=["django.contrib.contenttypes"], DATABASES=dbs, USE_TZ=True)
    django.setup()
    from filterdsl.integrations.django import install_sqlite_lower

    install_sqlite_lower()


def django_model(alias: str, docs: list[dict[str, Any]]) -> Any:
    from django.db import connections, models

    from filterdsl.integrations.django import UnicodeJSONEncoder

    meta = type("Meta", (), {"app_label": "contenttypes", "db_table": f"bench_dj_{secrets.token_hex(3)}"})
    model: Any = type(
        f"BenchDoc{alias}",
        (models.Model,),
        {
            "__module__": __name__,
            "Meta": meta,
            "id": models.CharField(primary_key=True, max_length=64),
            "created_at": models.CharField(max_length=40),
            "updated_at": models.CharField(max_length=40, null=True),
            "removed_at": models.CharField(max_length=40, null=True),
            "data": models.JSONField(encoder=UnicodeJSONEncoder),
        },
    )
    with connections[alias].schema_editor() as editor:
        editor.create_model(model)
    model.objects.using(alias).bulk_create([model(**d) for d in docs], batch_size=2000)
    return model


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=20000)
    ap.add_argument("--min-time", type=float, default=0.5)
    args = ap.parse_args()
    catalog = filterdsl.load_catalog(CATALOG)
    docs = make_docs(args.rows)
    qs = queries(catalog)
    try:
        import psycopg

        psycopg.connect(PG, connect_timeout=3).close()
        pg = True
    except Exception:
        pg = False
    try:
        import django  # noqa: F401

        django_setup(pg)
        have_django = True
    except ImportError:
        have_django = False
    run_engine("SQLite", "sqlite://", docs, qs, args.min_time, "default" if have_django else None)
    if pg:
        run_engine(
            "PostgreSQL",
            PG.replace("postgresql://", "postgresql+psycopg://"),
            docs,
            qs,
            args.min_time,
            "pg" if have_django else None,
        )
    else:
        print("\nPostgreSQL not reachable: skipped")


if __name__ == "__main__":
    main()
