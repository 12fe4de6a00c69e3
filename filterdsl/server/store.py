"""The records tables of the reference API: canonical documents in the SQL JSON document layout, one
connection per thread (an in-memory SQLite database: one shared, locked), and the checks that keep
each listing readable."""

from __future__ import annotations

import json
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
from filterdsl.embed import CompiledQuery
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.records import check_storable

Doc = dict[str, Any]
SAFE_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def excerpt(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


class Store:
    """Canonical documents in SQL tables; one connection per thread (an in-memory SQLite database:
    one shared, locked)."""

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

    def count(self, compiled: CompiledQuery) -> int:
        # COUNT(*) of the query's filter, compiled as such (no ORDER BY, no derived table); values stay
        # bound parameters
        from filterdsl.backends.sql import to_sql

        sql, params = to_sql(compiled.query, self.dialect, paramstyle=self.paramstyle, count=True)
        rows = self._execute(sql, params)
        return int(rows[0][0])

    def databases(self) -> list[str]:
        """The databases this store holds tables for (created by an import or a query)."""
        return sorted(self._tables)

    def drop_all(self) -> None:
        for t in list(self._tables):
            self._execute(f"DROP TABLE IF EXISTS {self._q(t)}")
        self._tables.clear()


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
