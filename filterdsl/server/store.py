"""The records tables of the reference API: canonical documents in the SQL JSON document layout, one
connection per thread (an in-memory SQLite database: one shared, locked), the checks that keep
each listing readable, and the indexes that serve the forms the traffic asks (``auto_index``)."""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from filterdsl.ast import And, Node, Not, Or, Query, Relation, Search
from filterdsl.backends.sql.layout import default_table
from filterdsl.backends.sql.runners import py_lower
from filterdsl.backends.sql.shape import extract
from filterdsl.embed import CompiledQuery, QueryCache
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.records import check_storable

Doc = dict[str, Any]
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
log = logging.getLogger("filterdsl.server")

#: the most indexes (besides the primary key) the store creates on one table: each one costs every
#: write and some disk, and a client chooses the sorts, so past this the table gets no more
MAX_AUTO_INDEXES = 16
#: query forms waiting for the index worker; a request whose form finds the queue full is not indexed
_INDEX_QUEUE = 64
#: forms whose SQL is longer are not advised: the advisor costs ~0.5 ms a condition (a 2,900-condition
#: filter took 1.5 s, more than its compile), and a filter that long is no listing an index serves
MAX_ADVISED_SQL = 8 << 10
#: forms advised for one table; past this its traffic is taken to be generated, and it gets no more
MAX_ADVISED_FORMS = 256


def excerpt(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


class Store:
    """Canonical documents in SQL tables; one connection per thread (an in-memory SQLite database:
    one shared, locked).

    With ``auto_index`` (the default), the first query of each form schedules the indexes the advisor
    (``filterdsl indexes``) prints for it, which a background thread creates, at most ``max_indexes``
    per table. Sorted pages then read limit+skip rows in index order instead of decoding and sorting
    every document, and ranges and equalities are index searches (docs/performance.md, "Load").
    Indexes never change an answer."""

    def __init__(
        self, url: str = "sqlite:///:memory:", auto_index: bool = True, max_indexes: int = MAX_AUTO_INDEXES
    ):
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
        self.auto_index, self.max_indexes = auto_index, max_indexes
        self._forms: set[str] = set()  # SQL texts whose indexes were scheduled
        self._full: set[str] = set()  # tables that reached max_indexes or MAX_ADVISED_FORMS
        self._advised: dict[str, int] = {}  # forms scheduled, by table
        self._made: set[str] = set()  # statements run (or failed) by this store
        self._index_jobs: queue.Queue[Query] = queue.Queue(_INDEX_QUEUE)
        self._index_worker: threading.Thread | None = None
        #: compiled counts by filter (``None``: compile every count, as ``filterdsl serve --no-cache``)
        self.count_cache: QueryCache | None = QueryCache()

    # ------------------------------------------------------------------ connections
    def _sqlite(self, shared: bool) -> Any:
        import sqlite3

        con = sqlite3.connect(
            self._path, check_same_thread=not shared, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT
        )
        con.create_function("lower", 1, py_lower, deterministic=True)  # SPEC 1.4 case folding
        if not shared:
            # readers never wait for a writer, nor a writer for readers (the mode is kept in the file)
            con.execute("PRAGMA journal_mode=WAL")
        return con

    @contextmanager
    def connection(self) -> Iterator[Any]:
        if self.dialect == "sqlite" and self._path == ":memory:":
            with self._lock:  # one in-memory database: one connection, used by one thread at a time
                if self._shared is None:
                    self._shared = self._sqlite(shared=True)
                yield self._shared
            return
        if self.dialect == "sqlite":
            # a file: one connection per thread, so queries run in parallel (sqlite3 lets go of the
            # GIL while SQLite works); one shared locked connection queued every request behind the
            # one before it (issue 26 load: p99 was that queue)
            con = getattr(self._local, "con", None)
            if con is None:
                con = self._local.con = self._sqlite(shared=False)
            yield con
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
            # ``doc``: the data's JSON text as imported. jsonb keeps numbers as decimals, so a float reads
            # back as an integer when it has no fraction (1e17) and -0.0 as 0.0; listings return ``doc``
            ddl = (
                f'CREATE TABLE IF NOT EXISTS {t} (id TEXT COLLATE "C" PRIMARY KEY, created_at TEXT NOT NULL, '
                "updated_at TEXT, removed_at TEXT, data JSONB NOT NULL, doc TEXT)"
            )
        self._execute(ddl)
        if self.dialect == "postgres":  # a table made before the column existed
            self._execute(f"ALTER TABLE {t} ADD COLUMN IF NOT EXISTS doc TEXT")
        self._tables.add(database)

    def import_docs(self, database: str, docs: list[Doc], base: str = "/records") -> int:
        """Insert or replace; FilterError (bad-record, located) for a document no engine could read back."""
        for i, d in enumerate(docs):
            check_storable(d, f"{base}/{i}")
        self.ensure_table(database)
        t = self._q(database)
        # one row per id: a batch naming an id twice stores its last record, counted once (an upsert)
        by_id: dict[str, tuple[Any, ...]] = {
            d["id"]: (
                d["id"],
                d["created_at"],
                d["updated_at"],
                d["removed_at"],
                json.dumps(d["data"], ensure_ascii=False, separators=(",", ":")),
            )
            for d in docs
        }
        rows = list(by_id.values())
        if self.dialect == "sqlite":
            sql = (
                f"INSERT INTO {t} VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "created_at = excluded.created_at, updated_at = excluded.updated_at, "
                "removed_at = excluded.removed_at, data = excluded.data"
            )
        else:
            rows = [(*r, r[4]) for r in rows]
            sql = (
                f"INSERT INTO {t} (id, created_at, updated_at, removed_at, data, doc) "
                "VALUES (%s, %s, %s, %s, CAST(%s AS JSONB), %s) ON CONFLICT (id) DO UPDATE SET "
                "created_at = EXCLUDED.created_at, updated_at = EXCLUDED.updated_at, "
                "removed_at = EXCLUDED.removed_at, data = EXCLUDED.data, doc = EXCLUDED.doc"
            )
        with self.connection() as con:
            cur = con.cursor()
            try:
                cur.executemany(sql, rows)
            finally:
                cur.close()
        return len(rows)

    def check_query(self, query: Query, where: Location) -> None:
        """The checks that need only the parsed query: run before it is compiled (issue 26, H5: a
        too-large filter used to be compiled for seconds before this refused it)."""
        if self.dialect == "sqlite" and sqlite_depth(query.predicate) > SQLITE_MAX_DEPTH:
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

    def check(self, compiled: CompiledQuery, where: Location) -> None:
        """FilterError for a query this store cannot run: a NUL character in a key (SQL text cannot
        hold it) or, on PostgreSQL, in any value (its text cannot either, so no stored value has one);
        on SQLite, more nested terms than its expression depth limit (1,000) allows."""
        self.check_query(compiled.query, where)
        values = list(compiled.params.values() if isinstance(compiled.params, dict) else compiled.params)
        if self.dialect == "postgres":  # bound JSON values are JSON text ("\u0000"): read the query's own
            values += extract(compiled.query)[1]
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
        self.index_for(compiled.query, compiled.sql)
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
        if self.dialect == "postgres" and out:
            # the data as imported (``doc``), not as jsonb reads it back: one lookup by primary key
            t = self._q(default_table(compiled.query.database))
            docs = dict(
                self._execute(f"SELECT id, doc FROM {t} WHERE id = ANY(%s)", ([d["id"] for d in out],))
            )
            for d in out:
                if docs.get(d["id"]) is not None:
                    d["data"] = json.loads(docs[d["id"]])
        return out

    def count_query(self, query: Query) -> CompiledQuery:
        """``SELECT COUNT(*)`` of ``query``'s filter (its sort, skip and limit play no part: no ORDER
        BY, no derived table; values stay bound parameters), from ``count_cache`` when that filter was
        counted before: a listing counts its filter on every page."""
        from filterdsl.backends.sql import to_sql
        from filterdsl.backends.sql.dialects import registry

        unpaged = Query(query.predicate, (), 0, None, None, query.database)

        def build() -> CompiledQuery:
            sql, params = to_sql(unpaged, self.dialect, paramstyle=self.paramstyle, count=True)
            return CompiledQuery(
                unpaged, sql, tuple(params) if isinstance(params, list) else params, self.dialect
            )

        if self.count_cache is None:
            return build()
        key = ("count", unpaged, self.dialect, registry.identity(self.dialect), self.paramstyle)
        return self.count_cache.get_or_compile(key, build)

    def count(self, compiled: CompiledQuery) -> int:
        """The number of records ``compiled``'s filter matches (see ``count_query``)."""
        counted = self.count_query(compiled.query)
        self.index_for(counted.query, counted.sql)
        rows = self._execute(counted.sql, counted.params)
        return int(rows[0][0])

    # ------------------------------------------------------------------ indexes
    def index_for(self, query: Query, sql: str) -> None:
        """Schedule the advised indexes of ``query``'s form (once per SQL text; the SQL holds no
        values). Costs a set lookup on the request path; the advice and the ``CREATE INDEX`` run on the
        index worker thread, so the request that first asks a form runs without them. Forms with SQL
        over ``MAX_ADVISED_SQL`` are not advised, nor any form of a table once ``MAX_ADVISED_FORMS`` of
        its forms were (bounded work for generated or hostile traffic)."""
        if not self.auto_index or sql in self._forms or len(sql) > MAX_ADVISED_SQL:
            return
        table = default_table(query.database)
        if table in self._full:
            return
        with self._lock:
            self._forms.add(sql)
            self._advised[table] = n = self._advised.get(table, 0) + 1
        if n >= MAX_ADVISED_FORMS:
            self._full.add(table)
        try:
            self._index_jobs.put_nowait(query)
        except queue.Full:
            self._forms.discard(sql)  # asked again later
            return
        with self._lock:
            if self._index_worker is None:
                self._index_worker = threading.Thread(
                    target=self._index_loop, name="filterdsl-index-worker", daemon=True
                )
                self._index_worker.start()

    def wait_for_indexes(self) -> None:
        """Block until every scheduled index is made (or failed): for tests and benchmarks."""
        self._index_jobs.join()

    def _index_loop(self) -> None:
        while True:
            query = self._index_jobs.get()
            try:
                self._make_indexes(query)
            except Exception as e:  # an index is an optimisation: log, never fail a request
                log.warning("index advice for %s failed: %s", excerpt(str(query.database)), e)
            finally:
                self._index_jobs.task_done()

    def advised_indexes(self, query: Query) -> list[str]:
        """The ``CREATE INDEX`` statements (and, on PostgreSQL, ``CREATE STATISTICS`` on an expression:
        the planner's estimate of a test) the advisor prints for ``query`` on this store's dialect,
        without extensions (the store never installs one, nor uses pg_trgm unless it is installed)
        and, on SQLite, without ``LOWER``: the
        store's ``lower`` is Python's, and an index built by it would be wrong for any other connection
        to the file (the sqlite3 shell's ``lower`` folds ASCII only) that writes to the table."""
        from filterdsl.backends.sql.indexes import advise

        out = [
            s
            for s in advise([query], self.dialect).statements
            if s.startswith(("CREATE INDEX ", "CREATE STATISTICS "))
            and not (self.dialect == "sqlite" and "LOWER(" in s.upper())
        ]
        if self.dialect == "postgres" and any("gin_trgm_ops" in s for s in out) and not self._has_trgm():
            out = [s for s in out if "gin_trgm_ops" not in s]  # pg_trgm is the operator's to install
        return out

    def _has_trgm(self) -> bool:
        return bool(self._execute("SELECT COUNT(*) FROM pg_extension WHERE extname = 'pg_trgm'")[0][0])

    def _index_count(self, table: str) -> int:
        if self.dialect == "sqlite":
            sql = (
                "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
            )
        else:
            sql = (
                "SELECT COUNT(*) FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid "
                "WHERE c.oid = to_regclass(quote_ident(%s)) AND NOT i.indisprimary"
            )
        return int(self._execute(sql, (table,))[0][0])

    def _make_indexes(self, query: Query) -> None:
        table = default_table(query.database)
        made = False
        for stmt in self.advised_indexes(query):
            if stmt in self._made:
                continue
            if self._index_count(table) >= self.max_indexes:
                self._full.add(table)
                log.info("table %s has %d indexes: no more are made", excerpt(table), self.max_indexes)
                break
            self._made.add(stmt)
            try:
                self._execute(stmt)
                made = True
            except Exception as e:  # e.g. another process made it meanwhile, or a lock timed out
                log.warning("could not create an advised index on %s: %s", excerpt(table), e)
        if made and self.dialect == "postgres":
            self._execute(f"ANALYZE {self._q(table)}")  # statistics for the new expressions

    def databases(self) -> list[str]:
        """The databases this store holds tables for (created by an import or a query)."""
        return sorted(self._tables)

    def drop_all(self) -> None:
        self.wait_for_indexes()
        for t in list(self._tables):
            self._execute(f"DROP TABLE IF EXISTS {self._q(t)}")
        self._tables.clear()
        self._forms.clear()
        self._made.clear()
        self._full.clear()
        self._advised.clear()


#: seconds a SQLite connection waits for another one's write lock before it fails ("database is locked")
SQLITE_BUSY_TIMEOUT = 30.0

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
