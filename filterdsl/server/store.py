"""The records tables of the reference API: canonical documents in the SQL JSON document layout, one
connection per thread (SQLite: one shared, locked), and the checks that keep each listing readable."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

from filterdsl.ast import And, Node, Not, Or, Relation, Search
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
        rows: list[tuple[Any, ...]] = [
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
