"""A reference records API over a real database (``filterdsl serve``): an ASGI app on Starlette.

Records live in the SQL JSON document layout (one table per database: id, created_at, updated_at,
removed_at, data) in SQLite (default; a file or memory) or PostgreSQL (by URL). Endpoints:

- ``GET  /api/databases/{id}/records/``: PixieBrix params; JSON list, or CSV with ``Accept: text/csv``;
  pagination by ``page``/``page_size`` with a ``Link`` header (RFC 8288) and ``X-Total-Count``;
- ``POST /api/databases/{id}/data`` and ``.../data/count``: the Pitchly ``data`` variables object;
- ``POST /api/records/import``: ``{"databaseId": id, "records": [Pitchly rows or PixieBrix records]}``.

Bad input is HTTP 400 with the diagnostics as JSON (code, message, location); an unknown database
is 404. Request bodies are never logged (they may carry ``secretKey``). Parsing, compiling and the
database work run in Starlette's threadpool, never on the event loop; request cost is bounded by the
parse limits (body size, sort keys, page range); imported documents are checked so that every later
listing can read them back.
"""

from __future__ import annotations

import csv
import io
import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlencode, urlparse

from .ast import And, Node, Not, Or, Query, Relation, Search
from .backends.sql_exec import py_lower
from .embed import CompiledQuery, QueryCache, from_pitchly_variables, from_request_params
from .errors import Diagnostic, FilterError, Location
from .frontends.pitchly import _no_constants
from .frontends.relaxed_json import parse_int
from .options import ParseOptions
from .records import check_storable, normalize_record
from .schema import Catalog, load_catalog

Doc = dict[str, Any]
_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
MAX_IMPORT_BYTES = 64 << 20  # an import body; filter bodies are bounded by Limits.max_input_bytes


def _excerpt(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


class Store:
    """Canonical documents in SQL tables; one connection per thread (SQLite: one shared, locked)."""

    def __init__(self, url: str = "sqlite:///:memory:"):
        u = urlparse(url)
        if u.scheme == "sqlite":
            self.dialect, self.paramstyle = "sqlite", "qmark"
            self._path = url[len("sqlite://") :].lstrip("/") if url != "sqlite:///:memory:" else ":memory:"
            if url.startswith("sqlite:////"):
                self._path = "/" + self._path
        elif u.scheme in ("postgres", "postgresql"):
            self.dialect, self.paramstyle = "postgres", "format"
        else:
            raise ValueError(
                f"unsupported database URL {url!r}: use sqlite:///PATH, sqlite:///:memory: or "
                "postgresql://..."
            )
        self.url = url
        self._local = threading.local()
        self._lock = threading.RLock()
        self._shared: Any = None
        self._tables: set[str] = set()

    # ------------------------------------------------------------------ connections
    def _sqlite(self) -> Any:
        import sqlite3

        if self._shared is None:
            con = sqlite3.connect(self._path, check_same_thread=False, isolation_level=None)
            con.create_function("lower", 1, py_lower, deterministic=True)  # SPEC 1.4 case folding
            self._shared = con
        return self._shared

    @contextmanager
    def connection(self) -> Iterator[Any]:
        if self.dialect == "sqlite":
            with self._lock:  # sqlite3 connections are not safe for concurrent use
                yield self._sqlite()
            return
        con = getattr(self._local, "con", None)
        if con is None or con.closed:
            import psycopg

            con = psycopg.connect(self.url, autocommit=True)
            self._local.con = con
        yield con

    def _execute(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        with self.connection() as con:
            cur = con.cursor()
            try:
                cur.execute(sql, params)
                return list(cur.fetchall()) if cur.description is not None else []
            finally:
                cur.close()

    # ------------------------------------------------------------------ tables
    @staticmethod
    def _q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def ensure_table(self, database: str) -> None:
        if database in self._tables:
            return
        t = self._q(database)
        if self.dialect == "sqlite":
            ddl = (
                f"CREATE TABLE IF NOT EXISTS {t} (id TEXT PRIMARY KEY, created_at TEXT NOT NULL, "
                "updated_at TEXT, removed_at TEXT, data TEXT NOT NULL)"
            )
        else:
            ddl = (
                f'CREATE TABLE IF NOT EXISTS {t} (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, '
                "updated_at TEXT, removed_at TEXT, data JSONB NOT NULL)"
            )
        self._execute(ddl)
        self._tables.add(database)

    def import_docs(self, database: str, docs: list[Doc], base: str = "/records") -> int:
        """Insert or replace; FilterError (bad-record, located) for a document no engine could read back."""
        for i, d in enumerate(docs):
            check_storable(d, f"{base}/{i}")
        self.ensure_table(database)
        t = self._q(database)
        rows = [
            (
                d["id"],
                d["created_at"],
                d["updated_at"],
                d["removed_at"],
                json.dumps(d["data"], ensure_ascii=False, separators=(",", ":")),
            )
            for d in docs
        ]
        if self.dialect == "sqlite":
            sql = (
                f"INSERT INTO {t} VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "created_at = excluded.created_at, updated_at = excluded.updated_at, "
                "removed_at = excluded.removed_at, data = excluded.data"
            )
        else:
            sql = (
                f"INSERT INTO {t} VALUES (%s, %s, %s, %s, CAST(%s AS JSONB)) ON CONFLICT (id) DO UPDATE SET "
                "created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, "
                "removed_at = EXCLUDED.removed_at, data = EXCLUDED.data"
            )
        with self.connection() as con:
            cur = con.cursor()
            try:
                cur.executemany(sql, rows)
            finally:
                cur.close()
        return len(rows)

    def check(self, compiled: CompiledQuery, where: Location) -> None:
        """FilterError for a query this store cannot run: a NUL character in a key (SQL text cannot
        hold it) or, on PostgreSQL, in any value (its text cannot either, so no stored value has one);
        on SQLite, more nested terms than its expression depth limit (1,000) allows."""
        if self.dialect == "sqlite" and sqlite_depth(compiled.query.predicate) > SQLITE_MAX_DEPTH:
            raise FilterError(
                [
                    Diagnostic(
                        "too-large",
                        "the filter combines more terms than SQLite evaluates in one "
                        f"expression (about {SQLITE_MAX_DEPTH} nested terms); split it into "
                        "several requests",
                        where,
                    )
                ]
            )
        values = compiled.params.values() if isinstance(compiled.params, dict) else compiled.params
        if "\x00" in compiled.sql or (
            self.dialect == "postgres" and any(isinstance(v, str) and "\x00" in v for v in values)
        ):
            raise FilterError(
                [
                    Diagnostic(
                        "bad-value",
                        "the filter holds a NUL character, which this store cannot "
                        "query (no stored record can hold one)",
                        where,
                    )
                ]
            )

    def fetch(self, compiled: CompiledQuery) -> list[Doc]:
        out = []
        for row in self._execute(compiled.sql, compiled.params):
            data = row[4]
            out.append(
                {
                    "id": row[0],
                    "created_at": row[1],
                    "updated_at": row[2],
                    "removed_at": row[3],
                    "data": json.loads(data) if isinstance(data, (str, bytes)) else data,
                }
            )
        return out

    def count(self, compiled: CompiledQuery) -> int:
        # Our own SQL (the unpaged query) wrapped: values stay bound parameters.
        rows = self._execute(f"SELECT COUNT(*) FROM ({compiled.sql}) AS filterdsl_count", compiled.params)
        return int(rows[0][0])

    def drop_all(self) -> None:
        for t in list(self._tables):
            self._execute(f"DROP TABLE IF EXISTS {self._q(t)}")
        self._tables.clear()


#: SQLite refuses expressions deeper than 1,000 ("Expression tree is too large"); it chains AND/OR
#: terms one level per term. Keep a margin for the levels around each condition.
SQLITE_MAX_DEPTH = 900
_LEAF_DEPTH = 6  # a condition: AND of a type test and a comparison over LOWER(JSON_EXTRACT(...))


def sqlite_depth(node: Node) -> int:
    """An upper estimate of the SQLite expression depth of a predicate's SQL (iterative)."""
    best = 0
    stack: list[tuple[Node, int]] = [(node, 0)]
    while stack:
        n, d = stack.pop()
        if isinstance(n, (And, Or)):
            stack.extend((c, d + len(n.items)) for c in n.items)
        elif isinstance(n, (Not, Relation)):
            stack.append((n.children()[0], d + 2))
        elif isinstance(n, Search):
            width = max(1, len(n.fields or ()))
            best = max(best, d + sum(len(cl) * width for cl in n.clauses) + _LEAF_DEPTH)
        else:
            best = max(best, d + _LEAF_DEPTH)
    return best


# ---------------------------------------------------------------------- shapes
def pixiebrix_record(doc: Doc) -> Doc:
    return {
        "id": doc["id"],
        "data": doc["data"],
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
    }


def pitchly_row(doc: Doc, fields: tuple[str, ...] | None) -> Doc:
    cols = []
    for key, value in doc["data"].items():
        if fields is not None and key not in fields:
            continue
        val = value if isinstance(value, dict) and "val" in value else {"val": value}
        cols.append({"fieldId": key, "value": val})
    return {
        "_id": doc["id"],
        "createdAt": doc["created_at"],
        "updatedAt": doc["updated_at"],
        "removedAt": doc["removed_at"],
        "cols": cols,
    }


def to_csv(records: list[Doc]) -> str:
    keys = sorted({k for r in records for k in r["data"]})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["id", "created_at", "updated_at", *(f"data__{k}" for k in keys)])
    for r in records:
        cells = []
        for k in keys:
            v = r["data"].get(k)
            cells.append(
                "" if k not in r["data"] else v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)
            )
        w.writerow([r["id"], r["created_at"], r["updated_at"] or "", *cells])
    return buf.getvalue()


# ---------------------------------------------------------------------- the app
def create_app(
    url: str = "sqlite:///:memory:",
    catalog: Any = None,
    cache: QueryCache | None = None,
    use_cache: bool = True,
    options: dict[str, Any] | None = None,
    max_import: int = MAX_IMPORT_BYTES,
) -> Any:
    """The Starlette app; ``app.state.store`` and ``app.state.cache`` are exposed for embedding/tests.

    ``options`` are parse options for every request (``lookups="extended"``, ``django_compat=True``,
    ``strict=False``, ...), as ``filterdsl serve --lookups/--django-compat/--lenient`` pass them."""
    from starlette.applications import Starlette
    from starlette.concurrency import run_in_threadpool
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    cat: Catalog | None = load_catalog(catalog) if catalog is not None else None
    store = Store(url)
    qcache = (cache or QueryCache()) if use_cache else None
    opts = dict(options or {})
    max_body = ParseOptions.from_kwargs(**opts).limits.max_input_bytes

    def bad(diags: list[Diagnostic], status: int = 400) -> Any:
        return JSONResponse({"errors": [d.to_json() for d in diags]}, status_code=status)

    def check_db(database: str) -> Any:
        where = Location(param="database")  # the path parameter
        if cat is not None:
            if cat.get(database) is None:
                return bad([Diagnostic("unknown-database", f"no database {_excerpt(database)}", where)], 404)
        elif not _SAFE_ID.fullmatch(database):
            return bad(
                [Diagnostic("unknown-database", "database ids are 1-64 letters, digits, _ or -", where)], 404
            )
        return None

    def body_json(raw: bytes, limit: int) -> Any:
        """Strict JSON, read with the same guards as the Pitchly frontend (runs in the threadpool)."""
        if len(raw) > limit:
            raise FilterError(
                [Diagnostic("too-large", f"request body exceeds {limit} bytes", Location(pointer=""))]
            )
        try:
            return json.loads(raw, parse_constant=_no_constants, parse_int=parse_int)
        except (ValueError, RecursionError) as e:
            raise FilterError(
                [
                    Diagnostic(
                        "invalid-json",
                        f"request body is not valid JSON: {type(e).__name__}",
                        Location(pointer=""),
                    )
                ]
            ) from None

    def guarded(handler: Callable[[Request, bytes], Any], body: bool = False) -> Callable[[Request], Any]:
        """Checks and reading on the event loop; parsing, compiling and the database in the threadpool,
        so one expensive request never stalls the others."""

        async def endpoint(request: Request) -> Any:
            database = request.path_params.get("database")
            if database is not None:
                missing = check_db(database)
                if missing is not None:
                    return missing
            raw = await request.body() if body else b""
            try:
                return await run_in_threadpool(handler, request, raw)
            except FilterError as e:
                return bad(e.diagnostics)

        return endpoint

    def records(request: Request, _: bytes) -> Any:
        database = request.path_params["database"]
        compiled = from_request_params(
            request.url.query,
            database=database,
            catalog=cat,
            dialect=store.dialect,
            paramstyle=store.paramstyle,
            cache=qcache,
            **opts,
        )
        nul = [i for i, (k, v) in enumerate(_pairs(request.url.query)) if "\x00" in k + v]
        store.check(
            compiled,
            Location(param=_pairs(request.url.query)[nul[0]][0].replace("\x00", "\\0"), index=nul[0])
            if nul
            else Location(pointer=""),
        )
        store.ensure_table(database)
        docs = store.fetch(compiled)
        q = compiled.query
        unpaged = Query(q.predicate, q.sort, 0, None, q.fields, q.database)
        from .embed import compile_query

        total = store.count(
            compile_query(
                unpaged, dialect=store.dialect, catalog=cat, paramstyle=store.paramstyle, cache=qcache
            )
        )
        page_size = q.limit or 1
        page = q.skip // page_size + 1
        last = max(1, -(-total // page_size))
        links = []
        params = [(k, v) for k, v in _pairs(request.url.query) if k != "page"]

        def link(n: int, rel: str) -> None:
            links.append(
                f'<{request.url.replace(query=urlencode([*params, ("page", str(n))]))}>; rel="{rel}"'
            )

        link(1, "first")
        if page > 1:
            link(min(page - 1, last), "prev")
        if page < last:
            link(page + 1, "next")
        link(last, "last")
        headers = {"Link": ", ".join(links), "X-Total-Count": str(total)}
        out = [pixiebrix_record(d) for d in docs]
        if "text/csv" in request.headers.get("accept", ""):
            return Response(to_csv(out), media_type="text/csv; charset=utf-8", headers=headers)
        return JSONResponse(out, headers=headers)

    def variables_query(database: str, body: Any) -> CompiledQuery:
        if not isinstance(body, dict):
            raise FilterError(
                [
                    Diagnostic(
                        "wrong-type", "the body is the Pitchly data variables object", Location(pointer="")
                    )
                ]
            )
        return from_pitchly_variables(
            body,
            catalog=cat,
            database=database,
            dialect=store.dialect,
            paramstyle=store.paramstyle,
            cache=qcache,
            **opts,
        )

    def data(request: Request, raw: bytes) -> Any:
        database = request.path_params["database"]
        compiled = variables_query(database, body_json(raw, max_body))
        store.check(compiled, Location(pointer=""))
        store.ensure_table(database)
        rows = [pitchly_row(d, compiled.query.fields) for d in store.fetch(compiled)]
        return JSONResponse({"data": rows})

    def count(request: Request, raw: bytes) -> Any:
        database = request.path_params["database"]
        compiled = variables_query(database, body_json(raw, max_body))
        q = compiled.query
        from .embed import compile_query

        store.ensure_table(database)
        unpaged = compile_query(
            Query(q.predicate, (), 0, None, None, q.database),
            dialect=store.dialect,
            catalog=cat,
            paramstyle=store.paramstyle,
            cache=qcache,
        )
        store.check(unpaged, Location(pointer=""))
        return JSONResponse({"count": store.count(unpaged)})

    def import_records(request: Request, raw: bytes) -> Any:
        body = body_json(raw, max_import)
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("databaseId"), str)
            or not isinstance(body.get("records"), list)
        ):
            raise FilterError(
                [
                    Diagnostic(
                        "wrong-type",
                        'expected {"databaseId": string, "records": [records]}',
                        Location(pointer=""),
                    )
                ]
            )
        database = body["databaseId"]
        missing = check_db(database)
        if missing is not None:
            return missing
        db = cat.get(database) if cat is not None else None
        docs = [normalize_record(r, db, f"/records/{i}") for i, r in enumerate(body["records"])]
        return JSONResponse({"imported": store.import_docs(database, docs)})

    async def stats(request: Request) -> Any:
        s = qcache.stats() if qcache is not None else None
        return JSONResponse(
            {
                "cache": None
                if s is None
                else {
                    "hits": s.hits,
                    "misses": s.misses,
                    "size": s.size,
                    "maxsize": s.maxsize,
                    "hit_rate": s.hit_rate,
                }
            }
        )

    app = Starlette(
        routes=[
            Route("/api/databases/{database}/records/", guarded(records), methods=["GET"]),
            Route("/api/databases/{database}/data", guarded(data, body=True), methods=["POST"]),
            Route("/api/databases/{database}/data/count", guarded(count, body=True), methods=["POST"]),
            Route("/api/records/import", guarded(import_records, body=True), methods=["POST"]),
            Route("/api/stats", stats, methods=["GET"]),
        ]
    )
    app.state.store = store
    app.state.cache = qcache
    return app


def _pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)


def serve(url: str, catalog: Any, host: str, port: int, use_cache: bool = True) -> None:  # pragma: no cover
    import uvicorn

    uvicorn.run(create_app(url, catalog, use_cache=use_cache), host=host, port=port, log_level="info")
