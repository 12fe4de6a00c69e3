"""Issue 26 (load): the server's store creates the indexes the advisor prints for the forms it is asked,
and compiles a listing's count once per filter.

A sorted page over 2,000 JSON documents cost ~5 ms of SQLite (decode and sort every document); with the
advised index it reads limit rows in index order. These tests pin the behaviour (which indexes, how
many, the plans that use them, and that answers are unchanged); speed is measured in
benchmarks/bench_server_load.py.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import pytest

from filterdsl import apply, parse
from filterdsl.ast import Query
from filterdsl.embed import CompiledQuery, compile_query, from_pitchly_variables, from_request_params
from filterdsl.records import normalize_dataset, normalize_record
from filterdsl.schema import load_catalog
from filterdsl.server.store import Store

from conftest import CASES, CORPUS, need, postgres_available, postgres_url

CAT = load_catalog(CORPUS / "catalog.json")
RECORDS = json.loads((CORPUS / "records.json").read_text())
PB_RECORDS = json.loads((CORPUS / "pixiebrix_records.json").read_text())
ORDERS = "ixuPJwBRqtRP3GpoM"
AMOUNT, NAME = "59giDo5wnnLqurNpF", "Nb6uqwKdxh3BFX3De"
#: the load benchmark's sorted page: every order's name contains "order", sorted by amount
SORTED_PAGE = {
    "filter": {"fields": {NAME: {"filters": [{"by": "contains", "value": "order"}]}}},
    "sort": {AMOUNT: -1},
    "limit": 20,
}


def _store(kind: str, tmp_path: Path, **kw: Any) -> Store:
    if kind == "postgres":
        need(postgres_available(), "PostgreSQL is not reachable at " + postgres_url())
        return Store(postgres_url(), **kw)
    return Store(f"sqlite:///{tmp_path}/records.db", **kw)


def _load(store: Store, suffix: str, orders: int = 0) -> dict[str, str]:
    """The corpus in tables named ``<database>_<suffix>`` (PostgreSQL runs share a schema), with
    ``orders`` copies of the orders (new ids) when given: enough rows that a planner uses an index."""
    names = {}
    for db, docs in normalize_dataset(RECORDS, CAT).items():
        names[str(db)] = f"{db}_{suffix}" if suffix else str(db)
        if db == ORDERS and orders:
            docs = [{**docs[i % len(docs)], "id": f"{docs[i % len(docs)]['id']}-{i}"} for i in range(orders)]
        store.import_docs(names[str(db)], docs)
    names["pb"] = f"pb_{suffix}" if suffix else "pb"
    store.import_docs(names["pb"], [normalize_record(r, None, f"/{i}") for i, r in enumerate(PB_RECORDS)])
    return names


def _pitchly(store: Store, body: dict[str, Any], table: str) -> CompiledQuery:
    cq = from_pitchly_variables(body, catalog=CAT, database=ORDERS, dialect=store.dialect)
    q = cq.query
    return compile_query(
        Query(q.predicate, q.sort, q.skip, q.limit, q.fields, table),
        dialect=store.dialect,
        paramstyle=store.paramstyle,
    )


def _indexes(store: Store, table: str) -> set[str]:
    if store.dialect == "sqlite":
        rows = store._execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table,),
        )
    else:
        rows = store._execute(
            "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = %s "
            "AND indexname NOT LIKE %s",
            (table, "%pkey"),
        )
    return {r[0] for r in rows}


def _index_name(stmt: str) -> str:
    return stmt.split('"')[1]


def _plan(store: Store, compiled: CompiledQuery) -> str:
    if store.dialect == "sqlite":
        rows = store._execute("EXPLAIN QUERY PLAN " + compiled.sql, compiled.params)
        return "\n".join(str(r[3]) for r in rows)
    rows = store._execute("EXPLAIN " + compiled.sql, compiled.params)
    return "\n".join(str(r[0]) for r in rows)


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_sorted_page_gets_its_advised_index(kind: str, tmp_path: Path) -> None:
    store = _store(kind, tmp_path)
    suffix = secrets.token_hex(3)
    try:
        t = _load(store, suffix, orders=2000)[ORDERS]
        page = _pitchly(store, SORTED_PAGE, t)
        assert _indexes(store, t) == set()
        before = store.fetch(page)  # schedules the form's indexes; this request runs without them
        store.wait_for_indexes()
        advised = [s for s in store.advised_indexes(page.query) if s.startswith("CREATE INDEX")]
        assert advised and {_index_name(s) for s in advised} == _indexes(store, t)
        assert any("order" in _index_name(s) for s in advised)  # the sort's own index
        sort_index = _index_name(next(s for s in advised if "_order_" in s))
        if kind == "sqlite":
            assert sort_index in _plan(store, page)
        # PostgreSQL estimates the contains test matches ~1 row (no statistics on that expression) and
        # sorts; a page sorted alone reads the index
        sorted_only = _pitchly(store, {"sort": {AMOUNT: -1}, "limit": 20}, t)
        store.fetch(sorted_only)
        store.wait_for_indexes()
        assert sort_index in _plan(store, sorted_only)
        after = store.fetch(page)
        assert [d["id"] for d in after] == [d["id"] for d in before]
        rows = store._execute(f'SELECT id FROM "{t}"')
        assert len(rows) == 2000
        # the same form asked again schedules nothing new
        store.fetch(page)
        assert store._index_jobs.unfinished_tasks == 0
    finally:
        store.drop_all()


def test_no_index_without_auto_index(tmp_path: Path) -> None:
    store = _store("sqlite", tmp_path, auto_index=False)
    t = _load(store, "x")[ORDERS]
    store.fetch(_pitchly(store, SORTED_PAGE, t))
    store.wait_for_indexes()
    assert _indexes(store, t) == set()


def test_at_most_max_indexes_a_table(tmp_path: Path) -> None:
    """Clients choose the sorts: a table gets no more than max_indexes (each costs every write)."""
    store = _store("sqlite", tmp_path, max_indexes=3)
    t = _load(store, "x")["pb"]
    keys = ["first_name", "last_name", "age", "city", "email", "k1", "k2"]
    for k in keys:
        store.fetch(from_request_params(f"ordering=-data__{k}", database=t, dialect="sqlite"))
        store.wait_for_indexes()
    assert len(_indexes(store, t)) == 3
    assert t in store._full
    # answers stay those of the memory engine, indexed or not
    for k in keys:
        qs = f"ordering=-data__{k}&page_size=50"
        cq = from_request_params(qs, database=t, dialect="sqlite", paramstyle="qmark")
        want = [r["id"] for r in apply(parse(qs, "pixiebrix"), PB_RECORDS)]
        assert [d["id"] for d in store.fetch(cq)] == want


def test_sqlite_store_never_indexes_its_python_lower(tmp_path: Path) -> None:
    """An index over the store's Python ``lower`` would be wrong for another connection (the sqlite3
    shell folds ASCII only) that writes the table: such statements are never made."""
    store = _store("sqlite", tmp_path)
    for qs in ("data__name__icontains=ada", "data__name__iexact=ADA", "data__name__istartswith=a"):
        q = from_request_params(qs, database="pb", dialect="sqlite", lookups="extended").query
        assert all("LOWER(" not in s.upper() for s in store.advised_indexes(q))


def test_corpus_answers_unchanged_by_the_indexes(tmp_path: Path) -> None:
    """Every corpus case, before and after its indexes exist, gives the memory engine's records."""
    store = _store("sqlite", tmp_path)
    t = _load(store, "")  # relations name the other databases' tables
    cases = [c for c in CASES if not isinstance(c["expect"], dict)]
    compiled = []
    for c in cases:
        if c["format"] == "pixiebrix":
            cq = from_request_params(c["input"].lstrip("?"), database=t["pb"], dialect="sqlite")
        elif c["format"] in ("pitchly", "search") and c.get("database"):
            q = parse(c["input"], c["format"], catalog=CAT, database=c["database"])
            q = Query(q.predicate, q.sort, q.skip, q.limit, q.fields, t[c["database"]])
            cq = compile_query(q, dialect="sqlite", catalog=CAT, paramstyle="qmark")
        else:
            continue
        compiled.append((c, cq))
    assert len(compiled) > 20
    first = [[d["id"] for d in store.fetch(cq)] for _, cq in compiled]
    counts = [store.count(cq) for _, cq in compiled]
    store.wait_for_indexes()
    assert sum(len(_indexes(store, name)) for name in t.values()) >= 3
    for (c, cq), ids, n in zip(compiled, first, counts):
        assert [d["id"] for d in store.fetch(cq)] == ids == c["expect"], c["name"]
        assert store.count(cq) == n >= len(ids)


def test_a_filter_is_compiled_for_counting_once(tmp_path: Path) -> None:
    """Every listing page counts its filter: the COUNT SQL is compiled once per filter, whatever the
    page's sort, skip and limit, and the count is the memory engine's."""
    from filterdsl.server import create_app

    store = _store("sqlite", tmp_path)
    t = _load(store, "")["pb"]
    pages = [
        f"data__first_name=David&ordering={o}&page={p}&page_size=1"
        for o in ("created_at", "-data__age")
        for p in (1, 2)
    ]
    compiled = [from_request_params(qs, database=t, dialect="sqlite") for qs in pages]
    want = len(apply(parse("data__first_name=David", "pixiebrix"), PB_RECORDS))
    assert want >= 1
    assert {store.count(cq) for cq in compiled} == {want}
    assert store.count_query(compiled[0].query) is store.count_query(compiled[-1].query)
    assert store.count_cache is not None and store.count_cache.stats().misses == 1
    # filterdsl serve --no-cache: every count is compiled
    assert create_app(use_cache=False).state.store.count_cache is None


def test_serve_flags_reach_uvicorn_and_the_store(monkeypatch: pytest.MonkeyPatch) -> None:
    """`filterdsl serve --no-auto-index --no-access-log --no-cache`: a store that creates no index and
    compiles every count, uvicorn without its access log, and always h11 (see UVICORN_OPTIONS)."""
    import uvicorn

    from filterdsl.cli import entry as cli
    from filterdsl.cli.serve import cmd_serve

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    parser = cli.build_parser()
    assert cmd_serve(parser.parse_args(["serve", "--no-auto-index", "--no-access-log", "--no-cache"])) == 0
    store = seen["app"].state.store
    assert seen["access_log"] is False and seen["http"] == "h11"
    assert store.auto_index is False and store.count_cache is None
    assert cmd_serve(parser.parse_args(["serve"])) == 0
    assert seen["access_log"] is True and seen["app"].state.store.auto_index is True


@pytest.mark.parametrize(
    "query",
    [
        "page_size=1",
        "data__first_name=David&page=2&page_size=1&ordering=-data__age",
        "data__first_name=d%C3%A1vid&page_size=1&page=1",
        "page=2&page_size=2&data__first_name__isnull=false",
    ],
)
def test_link_header_is_the_request_params_with_each_page(query: str) -> None:
    """The Link targets are built once per request (the params but page, encoded once): each must be
    what urlencode writes for the request's params followed by page=n."""
    from urllib.parse import parse_qsl, urlencode

    from starlette.testclient import TestClient

    from filterdsl.server import create_app

    app = create_app()
    with TestClient(app) as c:
        assert (
            c.post("/api/records/import", json={"databaseId": "pb", "records": PB_RECORDS}).status_code == 200
        )
        r = c.get("/api/databases/pb/records/?" + query)
    assert r.status_code == 200, r.text
    params = [(k, v) for k, v in parse_qsl(query, keep_blank_values=True) if k != "page"]
    links = dict(reversed(p.split("; rel=")) for p in r.headers["Link"].split(", "))
    assert links and set(links) <= {'"first"', '"prev"', '"next"', '"last"'}
    for target in links.values():
        n = target.rsplit("page=", 1)[1].rstrip(">")
        assert target == f"</api/databases/pb/records/?{urlencode([*params, ('page', n)])}>"


def test_advice_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The advisor costs ~0.5 ms a condition, so a long form is not advised, and a table stops being
    advised after MAX_ADVISED_FORMS forms (generated or hostile traffic costs no unbounded work)."""
    from filterdsl.server import store as store_mod

    store = _store("sqlite", tmp_path)
    t = _load(store, "")["pb"]
    long_or = "&".join(f"data__k{i}=v" for i in range(300))
    cq = from_request_params(long_or, database=t, dialect="sqlite")
    assert len(cq.sql) > store_mod.MAX_ADVISED_SQL
    store.fetch(cq)
    assert cq.sql not in store._forms and store._index_jobs.unfinished_tasks == 0
    monkeypatch.setattr(store_mod, "MAX_ADVISED_FORMS", 3)
    for k in ("a", "b", "c", "d", "e"):
        store.fetch(from_request_params(f"data__{k}=1", database=t, dialect="sqlite"))
    store.wait_for_indexes()
    assert store._advised[t] == 3 and t in store._full


def test_postgres_store_makes_the_advised_statistics(tmp_path: Path) -> None:
    """On PostgreSQL the advisor also prints CREATE STATISTICS on an expression (the planner's estimate
    of an upper bound's type test); the store makes those too."""
    store = _store("postgres", tmp_path)
    suffix = secrets.token_hex(3)
    try:
        t = _load(store, suffix)[ORDERS]
        body = {"filter": {"fields": {AMOUNT: {"filters": [{"by": "is-at-most", "value": 100}]}}}}
        cq = _pitchly(store, body, t)
        stats = [s for s in store.advised_indexes(cq.query) if s.startswith("CREATE STATISTICS")]
        assert stats, store.advised_indexes(cq.query)
        store.fetch(cq)
        store.wait_for_indexes()
        made = {r[0] for r in store._execute("SELECT stxname FROM pg_statistic_ext")}
        assert {_index_name(s) for s in stats} <= made
    finally:
        store.drop_all()
