"""filterdsl.integrations.sqlalchemy: through SQLAlchemy (Core and ORM, sync and async) on SQLite,
PostgreSQL and MariaDB, every corpus case and a hypothesis sample give the in-memory engine's records,
in its order, in the JSON document layout and the columns layout."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import secrets
from typing import Any

import pytest

sa = pytest.importorskip("sqlalchemy")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from sql_engines import lower_diverges, require  # noqa: E402
from sqlalchemy import (  # noqa: E402
    Boolean,
    Column,
    Double,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    insert,
    select,
)
from sqlalchemy.dialects.postgresql import JSONB  # noqa: E402
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, aliased, mapped_column  # noqa: E402
from test_sql_columns import _ambiguous, _column_value, _well_typed  # noqa: E402
from test_sql_corpus import GOOD, _dataset, _query  # noqa: E402
from test_sql_differential import _folds  # noqa: E402

from filterdsl import FilterError, load_catalog, parse  # noqa: E402
from filterdsl.ast import FieldType, Query  # noqa: E402
from filterdsl.backends.memory import run  # noqa: E402
from filterdsl.integrations._sqltext import sorted_only as st_sorted  # noqa: E402
from filterdsl.integrations.sqlalchemy import apply, install_sqlite_lower, where  # noqa: E402

from conftest import CORPUS, mysql_url, postgres_url  # noqa: E402
from strategies import Scenario, scenarios  # noqa: E402

T = FieldType
ENGINES = ["sqlite", "postgres", "mysql"]


def _url(engine: str) -> str:
    if engine == "postgres":
        return postgres_url().replace("postgresql://", "postgresql+psycopg://", 1)
    if engine == "mysql":
        return mysql_url().replace("mysql://", "mysql+pymysql://", 1) + "?charset=utf8mb4"
    return "sqlite://"


class Env:
    """One SQLAlchemy engine and the tables it made (dropped at the end)."""

    def __init__(self, engine: str):
        require(engine)
        self.name = engine
        if engine == "sqlite":
            from sqlalchemy.pool import StaticPool

            self.engine = create_engine("sqlite://", poolclass=StaticPool)
            install_sqlite_lower(self.engine)
        else:
            self.engine = create_engine(_url(engine))
        self.md = MetaData()
        self.tag = secrets.token_hex(4)
        self.n = 0
        self.reuse: dict[Any, Table] = {}

    def _text(self) -> Any:
        return Text(collation="utf8mb4_bin") if self.name == "mysql" else Text()

    def _key(self) -> Any:
        if self.name == "mysql":
            return String(255, collation="utf8mb4_bin")
        return String(255, collation="C") if self.name == "postgres" else String(255)

    def _table(self, extra: list[Column[Any]], json_data: bool) -> Table:
        self.n += 1
        cols: list[Column[Any]] = [
            Column("id", self._key(), primary_key=True),
            Column("created_at", String(40)),
            Column("updated_at", String(40)),
            Column("removed_at", String(40)),
        ]
        if json_data:
            cols.append(Column("data", JSONB() if self.name == "postgres" else self._text()))
        kw = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"} if self.name == "mysql" else {}
        return Table(f"fdsl_sa_{self.tag}_{self.n}", self.md, *cols, *extra, **kw)

    def _fresh(self, key: Any, extra: list[Column[Any]], json_data: bool) -> Table:
        """A table for ``key`` (emptied when it exists: creating tables per example is slow on servers)."""
        t = self.reuse.get(key)
        if t is None:
            t = self.reuse[key] = self._table(extra, json_data)
            self.md.create_all(self.engine, tables=[t])
        else:
            with self.engine.begin() as con:
                con.execute(t.delete())
        return t

    def load_json(self, dataset: dict[Any, list[dict[str, Any]]]) -> dict[Any, Table]:
        """JSON document layout: one table per database, the canonical document's data as JSON."""
        tables = {db: self._fresh(("json", db), [], True) for db in dataset}
        with self.engine.begin() as con:
            for db, docs in dataset.items():
                rows = [
                    {
                        "id": d["id"],
                        "created_at": d["created_at"],
                        "updated_at": d["updated_at"],
                        "removed_at": d["removed_at"],
                        "data": d["data"]
                        if self.name == "postgres"
                        else json.dumps(d["data"], ensure_ascii=False, separators=(",", ":")),
                    }
                    for d in docs
                ]
                if rows:
                    con.execute(insert(tables[db]), rows)
        return tables

    def load_columns(
        self, sc: Scenario
    ) -> tuple[dict[Any, Table], dict[Any, dict[str, Any]], dict[str, list[Any]]]:
        """Columns layout (well-typed values only, as the layout assumes): tables, mappings, clean data."""
        tables: dict[Any, Table] = {}
        mappings: dict[Any, dict[str, Any]] = {}
        clean: dict[str, list[Any]] = {}
        for db, docs in sc.dataset.items():
            fields = sc.catalog.get(db).fields  # type: ignore[union-attr]
            extra: list[Column[Any]] = []
            mapping: dict[str, Any] = {}
            for i, f in enumerate(fields):
                if f.type in (T.NUMBER, T.CURRENCY):
                    typ: Any = Double()
                elif f.type is T.BOOLEAN:
                    typ = Boolean()
                elif f.type in (T.ENUM_TAGS, T.REF_MULTIPLE) and self.name == "postgres":
                    typ = JSONB(none_as_null=True)
                else:
                    typ = self._text()
                extra.append(Column(f"c{i}", typ))
                if f.type is T.CURRENCY:
                    extra.append(Column(f"k{i}", self._text()))
                    mapping[f.id] = {"column": f"c{i}", "currency": f"k{i}"}
                else:
                    mapping[f.id] = f"c{i}"
            tables[db] = self._fresh(("columns", db, tuple(f.type for f in fields)), extra, False)
            mappings[db] = mapping
            clean[db] = []
            rows = []
            for d in docs:
                data = {
                    f.id: d["data"][f.id]
                    for f in fields
                    if f.id in d["data"] and _well_typed(f.type, d["data"][f.id])
                }
                clean[db].append({**d, "data": data})
                row: dict[str, Any] = {
                    "id": d["id"],
                    "created_at": d["created_at"],
                    "updated_at": d["updated_at"],
                    "removed_at": d["removed_at"],
                }
                for i, f in enumerate(fields):
                    v = data.get(f.id)
                    val = None if v is None else _column_value(f.type, v)
                    if (
                        f.type in (T.ENUM_TAGS, T.REF_MULTIPLE)
                        and self.name == "postgres"
                        and val is not None
                    ):
                        val = json.loads(val)
                    row[f"c{i}"] = val
                    if f.type is T.CURRENCY:
                        row[f"k{i}"] = None if v is None else v.get("currency")
                rows.append(row)
            if rows:
                with self.engine.begin() as con:
                    con.execute(insert(tables[db]), rows)
        return tables, mappings, clean

    def ids(self, stmt: Any) -> list[str]:
        with self.engine.connect() as con:
            return [r[0] for r in con.execute(stmt)]

    def close(self) -> None:
        try:
            self.md.drop_all(self.engine)
        finally:
            self.engine.dispose()


@pytest.fixture(scope="module", params=ENGINES)
def env(request: Any) -> Any:
    e = Env(request.param)
    yield e
    e.close()


def _expected(query: Query, dataset: Any, catalog: Any) -> list[str]:
    return [r["id"] for r in run(query, dataset, catalog)]


def _filter_ids(query: Query, dataset: Any, catalog: Any) -> set[str]:
    return set(_expected(dataclasses.replace(query, sort=(), skip=0, limit=None), dataset, catalog))


def _check(
    env: Env, query: Query, dataset: Any, catalog: Any, tables: dict[Any, Table], layout: Any = None
) -> None:
    main = tables[query.database if query.database in tables else next(iter(tables))]
    related = {db: t for db, t in tables.items() if db != query.database}
    lay = None if layout is None else layout
    got = env.ids(apply(select(main.c.id), query, main, catalog=catalog, layout=lay, related=related))
    expected = _expected(query, dataset, catalog)
    got_set = set(
        env.ids(select(main.c.id).where(where(query, main, catalog=catalog, layout=lay, related=related)))
    )
    if (
        (got != expected or got_set != _filter_ids(query, dataset, catalog))
        and env.name != "sqlite"
        and _folds_query(query)
        and lower_diverges(env.name, dataset)
    ):
        return  # documented: this engine's lower() differs from str.lower() on a stored string (docs/sql.md)
    assert got == expected, f"memory {expected}, plain to_sql {_raw(env, query, catalog, tables, layout)}"
    assert got_set == _filter_ids(query, dataset, catalog)


def _raw(env: Env, query: Query, catalog: Any, tables: dict[Any, Table], layout: Any) -> list[str]:
    """The same query through plain ``to_sql`` on the same tables (tells integration bugs from backend ones)."""
    from filterdsl import to_sql
    from filterdsl.backends.sql import JsonLayout

    names = {db: t.name for db, t in tables.items()}
    lay = JsonLayout(tables=names) if layout is None else dataclasses.replace(layout, tables=names)
    sql, params = to_sql(
        query, {"postgres": "postgres", "mysql": "mysql"}.get(env.name, "sqlite"), lay, catalog
    )
    with env.engine.connect() as con:
        return [r[0] for r in con.exec_driver_sql(sql, tuple(params))]


def _folds_query(query: Query) -> bool:
    return _folds(Scenario(None, "", {}, query))  # type: ignore[arg-type]


# ------------------------------------------------------------------ corpus, JSON document layout
@pytest.fixture(scope="module")
def corpus_tables(env: Env) -> Any:
    pitchly, catalog = _dataset(next(c for c in GOOD if c["format"] == "pitchly"))
    pixiebrix, _ = _dataset(next(c for c in GOOD if c["format"] == "pixiebrix"))
    return {
        "pitchly": (pitchly, env.load_json(pitchly), catalog),
        "pixiebrix": (pixiebrix, env.load_json(pixiebrix), None),
    }


@pytest.fixture(params=["inline", "subquery"])
def embedding(request: Any, monkeypatch: Any) -> str:
    """Run a test both ways: the inline cut (used whenever it is provably safe) and the fallback."""
    if request.param == "subquery":
        from filterdsl.integrations import _sqltext

        real = _sqltext.analyse
        monkeypatch.setattr(_sqltext, "analyse", lambda *a: dataclasses.replace(real(*a), inline=False))
    return str(request.param)


@pytest.mark.parametrize("case", GOOD, ids=[c["name"] for c in GOOD])
def test_corpus_case(env: Env, corpus_tables: Any, case: dict[str, Any], embedding: str) -> None:
    query = _query(case)
    kind = (
        "pixiebrix"
        if case["format"] == "pixiebrix" or (case["format"] == "search" and case.get("database") is None)
        else "pitchly"
    )
    dataset, tables, catalog = corpus_tables[kind]
    assert _expected(query, dataset, catalog) == case["expect"]
    _check(env, query, dataset, catalog, tables)


# ------------------------------------------------------------------ hypothesis differential
def test_differential_json_layout(env: Env) -> None:
    @settings(
        max_examples=40 if env.name == "sqlite" else 25,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
    # stored numbers each engine compares exactly (docs/semantics.md section 9: SQLite within 64 bits,
    # MariaDB within 2^53)
    @given(scenarios(numbers={"sqlite": "int64", "mysql": "small"}.get(env.name, "all")))
    def prop(sc: Scenario) -> None:
        tables = env.load_json(sc.dataset)
        _check(env, sc.query, sc.dataset, sc.catalog, tables)

    prop()


def test_keyset_json_layout(env: Env) -> None:
    """Query.after through the integration: apply() pages after the cursor, where() keeps the rows after
    it (the keyset condition is part of the WHERE), both as the in-memory engine."""
    from hypothesis import strategies as hst

    from filterdsl.semantics.cursor import cursor_of

    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
    @given(scenarios(numbers={"sqlite": "int64", "mysql": "small"}.get(env.name, "all")), hst.integers(0, 11))
    def prop(sc: Scenario, k: int) -> None:
        unpaged = dataclasses.replace(sc.query, skip=0, limit=None)
        order = _expected(unpaged, sc.dataset, sc.catalog)
        if not order:
            return
        by_id = {d["id"]: d for d in sc.dataset["main"]}
        q = dataclasses.replace(sc.query, after=cursor_of(sc.query, by_id[order[k % len(order)]]))
        tables = env.load_json(sc.dataset)
        main = tables["main"]
        related = {db: t for db, t in tables.items() if db != "main"}
        got = env.ids(apply(select(main.c.id), q, main, catalog=sc.catalog, related=related))
        rest = set(_expected(dataclasses.replace(q, skip=0, limit=None), sc.dataset, sc.catalog))
        got_set = set(env.ids(select(main.c.id).where(where(q, main, catalog=sc.catalog, related=related))))
        expected = _expected(q, sc.dataset, sc.catalog)
        if (got != expected or got_set != rest) and env.name != "sqlite" and _folds_query(q):
            if lower_diverges(env.name, sc.dataset):
                return  # documented lower() divergence (docs/sql.md)
        assert got == expected
        assert got_set == rest

    prop()


def test_differential_columns_layout(env: Env) -> None:
    @settings(
        max_examples=30 if env.name == "sqlite" else 20,
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
    # number columns are doubles: integers within 2^53 (docs/semantics.md section 9)
    @given(scenarios(numbers="small"))
    def prop(sc: Scenario) -> None:
        from filterdsl.backends.sql import ColumnsLayout

        tables, mappings, clean = env.load_columns(sc)
        layout = ColumnsLayout(columns=mappings)
        try:
            _check(env, sc.query, clean, sc.catalog, tables, layout)
        except FilterError as e:
            assert e.diagnostics[0].code == "layout-ambiguous" and _ambiguous(sc.query)

    prop()


# ------------------------------------------------------------------ ORM, aliases, paging after own filters
class Base(DeclarativeBase):
    pass


class Record(Base):
    """A PixieBrix-like model: no removed_at column (no record is ever in the trash)."""

    __tablename__ = "fdsl_sa_orm_records"
    pk: Mapped[str] = mapped_column("id", String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[str] = mapped_column(String(40))
    updated_at: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text)


PB = json.loads((CORPUS / "pixiebrix_records.json").read_text())


def _pb_docs() -> list[dict[str, Any]]:
    from filterdsl.records import normalize_dataset

    return normalize_dataset(PB)[None]


def _orm_rows() -> list[Record]:
    return [
        Record(
            pk=d["id"],
            owner="me" if i % 2 else "you",
            created_at=d["created_at"],
            updated_at=d["updated_at"],
            data=json.dumps(d["data"]),
        )
        for i, d in enumerate(_pb_docs())
    ]


def test_orm_model_sync_session_paging_after_own_where() -> None:
    engine = create_engine("sqlite://")
    install_sqlite_lower(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all(_orm_rows())
        s.commit()
        docs = _pb_docs()
        mine = [d for i, d in enumerate(docs) if i % 2]
        for qs in ["data__name=david", "page_size=2&page=2", "ordering=-id", "data__age__isnull=true"]:
            q = parse(qs, "pixiebrix")
            got = [r.pk for r in s.scalars(apply(select(Record).where(Record.owner == "me"), q, Record))]
            assert got == [r["id"] for r in run(q, {None: mine})]
            alias = aliased(Record)
            got_alias = s.scalars(select(alias.pk).where(where(q, alias))).all()
            assert set(got_alias) == _filter_ids(q, {None: docs}, None)
            # a self-join: the filter's columns are qualified, so they are never ambiguous or rebound
            other = aliased(Record)
            joined = s.scalars(
                select(Record.pk).join(other, other.pk == Record.pk).where(where(q, Record))
            ).all()
            assert set(joined) == _filter_ids(q, {None: docs}, None)
    engine.dispose()


def test_orm_async_session_aiosqlite() -> None:
    pytest.importorskip("aiosqlite")
    from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

    async def main() -> list[list[str]]:
        engine = create_async_engine("sqlite+aiosqlite://")
        install_sqlite_lower(engine)
        async with engine.begin() as con:
            await con.run_sync(Base.metadata.create_all)
        out = []
        async with AsyncSession(engine) as s:
            s.add_all(_orm_rows())
            await s.commit()
            for qs in ["data__name=david&ordering=created_at", "page_size=3", "data__city__isnull=false"]:
                out.append(
                    [r.pk for r in (await s.scalars(apply(select(Record), parse(qs, "pixiebrix"), Record)))]
                )
        await engine.dispose()
        return out

    got = asyncio.run(main())
    docs = _pb_docs()
    assert got == [
        [r["id"] for r in run(parse(qs, "pixiebrix"), {None: docs})]
        for qs in ["data__name=david&ordering=created_at", "page_size=3", "data__city__isnull=false"]
    ]


def test_unicode_lower_needs_the_override() -> None:
    """Without install_sqlite_lower, SQLite folds ASCII only: the documented reason for the helper."""
    engine = create_engine("sqlite://")
    Base.metadata.create_all(engine)
    rec = Record(
        pk="x",
        owner="me",
        created_at="2021-01-01T00:00:00.000000Z",
        updated_at=None,
        data=json.dumps({"name": "ÉCOLE"}),
    )
    with Session(engine) as s:
        s.add(rec)
        s.commit()
        q = parse("data__name__icontains=école", "pixiebrix", lookups="extended")
        assert s.scalars(select(Record.pk).where(where(q, Record))).all() == []
    engine.dispose()
    engine2 = create_engine("sqlite://")
    install_sqlite_lower(engine2)
    Base.metadata.create_all(engine2)
    with Session(engine2) as s:
        s.add(
            Record(
                pk="x",
                owner="me",
                created_at="2021-01-01T00:00:00.000000Z",
                updated_at=None,
                data=json.dumps({"name": "ÉCOLE"}),
            )
        )
        s.commit()
        assert s.scalars(select(Record.pk).where(where(q, Record))).all() == ["x"]


def test_bad_filter_is_filter_error() -> None:
    catalog = load_catalog(CORPUS / "catalog.json")
    with pytest.raises(FilterError) as e:
        parse(
            {"fields": {"nope": {"filters": [{"by": "is", "value": 1}]}}},
            "pitchly",
            catalog,
            next(iter(json.loads((CORPUS / "records.json").read_text()))),
        )
    assert e.value.diagnostics[0].location is not None
    with pytest.raises(FilterError):
        where("data__a=1", Record)  # type: ignore[arg-type]  # not parsed: refused, not guessed


def test_layout_ambiguous_is_filter_error_at_execution() -> None:
    """A filter the columns layout cannot answer raises FilterError, unwrapped, when executed."""
    from filterdsl.ast import Field, FieldState, State

    md = MetaData()
    t = Table(
        "t",
        md,
        Column("id", String, primary_key=True),
        Column("created_at", String),
        Column("updated_at", String),
        Column("removed_at", String),
        Column("name", Text),
    )
    engine = create_engine("sqlite://")
    md.create_all(engine)
    q = Query(FieldState(Field("name", T.STRING), State.EMPTY), database="main")
    with engine.connect() as con, pytest.raises(FilterError) as e:
        con.execute(select(t.c.id).where(where(q, t, layout={"name": "name"})))
    assert e.value.diagnostics[0].code == "layout-ambiguous"


def test_values_are_bound_parameters() -> None:
    """Hostile values never reach the SQL text: they are in the compiled statement's parameters."""
    hostile = "x'); DROP TABLE t; --"
    q = parse({"data__name": hostile}, "pixiebrix")
    md = MetaData()
    t = Table(
        "records",
        md,
        Column("id", String, primary_key=True),
        Column("created_at", String),
        Column("updated_at", String),
        Column("removed_at", String),
        Column("data", Text),
    )
    for dialect in ("sqlite", "postgresql", "mysql"):
        from sqlalchemy.dialects import mysql, postgresql, sqlite

        d = {"sqlite": sqlite, "postgresql": postgresql, "mysql": mysql}[dialect].dialect()
        compiled = select(t.c.id).where(where(q, t)).compile(dialect=d)
        assert hostile not in str(compiled)
        # PostgreSQL binds a JSON value as its JSON text (CAST(... AS JSONB))
        bound = json.dumps(hostile) if dialect == "postgresql" else hostile
        assert bound in compiled.params.values()


def test_existing_order_by_stays_first() -> None:
    """filterdsl's order comes after the select's own ORDER BY; paging applies to the combination."""
    engine = create_engine("sqlite://")
    install_sqlite_lower(engine)
    Base.metadata.create_all(engine)
    rows = _orm_rows()
    owner = {r.pk: r.owner for r in rows}
    q = parse("page_size=3&page=2&ordering=-data__age", "pixiebrix")
    full = run(dataclasses.replace(q, skip=0, limit=None), {None: _pb_docs()})
    expected = [r["id"] for r in sorted(full, key=lambda r: owner[r["id"]])][3:6]
    with Session(engine) as s:
        s.add_all(rows)
        s.commit()
        assert s.scalars(apply(select(Record.pk).order_by(Record.owner), q, Record)).all() == expected
    engine.dispose()


def test_sql_beyond_the_parts_cache(monkeypatch: Any) -> None:
    """SQL longer than the parts cache keeps (``CACHE_MAX_CHARS``: thousands of conditions) is built
    on every call, with the same results."""
    from filterdsl.backends.sql import parts

    monkeypatch.setattr(parts, "CACHE_MAX_CHARS", 100)
    parts._cache.clear()
    docs = _pb_docs()
    q = parse("data__first_name=david&ordering=-data__age", "pixiebrix")
    engine = create_engine("sqlite://")
    install_sqlite_lower(engine)
    Base.metadata.create_all(engine)
    with Session(engine) as s:
        s.add_all(_orm_rows())
        s.commit()
        for _ in range(2):
            assert s.scalars(apply(select(Record.pk), q, Record)).all() == [
                r["id"] for r in run(q, {None: docs})
            ]
    assert len(parts._cache) == 0
    engine.dispose()


def test_cut_rewrites_alias_and_bare_columns_only() -> None:
    """The main table's qualifiers are re-pointed and its bare top-level columns qualified; string
    literals (a key named like the alias) and the subqueries' own columns are left as they are."""
    from filterdsl.integrations._sqltext import Param, Raw, compile_cut, order_keys, predicate

    catalog = load_catalog(CORPUS / "catalog.json")
    orders = "ixuPJwBRqtRP3GpoM"

    def text(pieces: Any) -> str:
        return "".join(
            p if isinstance(p, str) else p.sql if isinstance(p, Raw) else "?" for p in pieces or []
        )

    plain = parse('data__r0="r0"&ordering=-data__r0', "pixiebrix")
    cut = compile_cut(st_sorted(plain), "postgres", __import__("filterdsl").backends.sql.JsonLayout(), None)
    assert cut.a.inline
    where = text(predicate(cut, Raw("o")))
    assert 'o."data"' in where and "'r0'" in where and '"r0"' not in where.replace("'", "")
    assert [p for p in predicate(cut, Raw("o")) or [] if isinstance(p, Param)] == [Param(json.dumps('"r0"'))]
    keys = [(text(k), d) for k, d, _ in order_keys(cut, Raw("o"))]
    assert keys[-1] == ('o."id" COLLATE "C"', False) and all(
        k.startswith("o.") or 'o."' in k for k, _ in keys
    )
    rel = parse(
        {
            "fields": {
                "RyM8SyrYrceRsrLJd": {
                    "fields": {"xEfek48BRpD3kAksh": {"filters": [{"by": "is", "value": "x"}]}}
                }
            }
        },
        "pitchly",
        catalog,
        orders,
    )
    cut = compile_cut(st_sorted(rel), "mysql", __import__("filterdsl").backends.sql.JsonLayout(), catalog)
    where = text(predicate(cut, Raw("`o`")))
    assert "`r0`" not in where and "`o`.`data`" in where and "`r1`.`id`" in where  # the subquery's own


# ------------------------------------------------------------------ every corpus case through async engines
ASYNC_DRIVERS = {"sqlite": "aiosqlite", "postgres": "psycopg", "mysql": "aiomysql"}


@pytest.mark.parametrize("engine", ENGINES)
def test_corpus_async(engine: str, tmp_path: Any) -> None:
    """Every corpus case through an async engine (aiosqlite, psycopg's async mode, aiomysql): the
    same ids in the same order as the in-memory engine, as the sync tests check."""
    pytest.importorskip(ASYNC_DRIVERS[engine])
    from sqlalchemy.ext.asyncio import create_async_engine

    env = Env(engine)
    if engine == "sqlite":  # a file both engines open (an in-memory database is per connection)
        env.engine.dispose()
        env.engine = create_engine(f"sqlite:///{tmp_path / 'corpus.db'}")
        install_sqlite_lower(env.engine)
        url = f"sqlite+aiosqlite:///{tmp_path / 'corpus.db'}"
    elif engine == "postgres":
        url = _url("postgres")  # postgresql+psycopg: psycopg's async mode under create_async_engine
    else:
        url = _url("mysql").replace("mysql+pymysql://", "mysql+aiomysql://", 1)
    pitchly, catalog = _dataset(next(c for c in GOOD if c["format"] == "pitchly"))
    pixiebrix, _ = _dataset(next(c for c in GOOD if c["format"] == "pixiebrix"))
    loaded = {"pitchly": (env.load_json(pitchly), catalog), "pixiebrix": (env.load_json(pixiebrix), None)}

    async def main() -> list[tuple[str, list[str], list[str]]]:
        aengine = create_async_engine(url)
        if engine == "sqlite":
            install_sqlite_lower(aengine)
        out = []
        try:
            async with aengine.connect() as con:
                for case in GOOD:
                    kind = (
                        "pixiebrix"
                        if case["format"] == "pixiebrix"
                        or (case["format"] == "search" and case.get("database") is None)
                        else "pitchly"
                    )
                    tables, cat = loaded[kind]
                    query = _query(case)
                    main_t = tables[query.database if query.database in tables else next(iter(tables))]
                    related = {db: t for db, t in tables.items() if db != query.database}
                    stmt = apply(select(main_t.c.id), query, main_t, catalog=cat, related=related)
                    got = [r[0] for r in (await con.execute(stmt))]
                    out.append((case["name"], got, case["expect"]))
        finally:
            await aengine.dispose()
        return out

    try:
        results = asyncio.run(main())
    finally:
        env.close()
    assert len(results) == len(GOOD)
    for name, got, expected in results:
        assert got == expected, name
