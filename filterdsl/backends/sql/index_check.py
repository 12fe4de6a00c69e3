"""``filterdsl indexes --check``: which stored filters and sorts the indexes a database already has serve.

A runner (it picks the driver and reads the engine's plan format, so it names engines): it reads the
existing indexes (``pg_indexes``; ``information_schema.statistics``), then EXPLAINs filterdsl's own SQL for
each stored query and reports, from the plan and never from guessing, whether it is index-served: no
full scan of the queried table and no sort of more than ``limit + skip`` rows. For those that are not,
it prints the ``CREATE INDEX`` statements ``advise`` gives for that query.

PostgreSQL is asked with ``enable_seqscan`` and ``enable_sort`` off (``SET LOCAL``, in a transaction
that changes nothing): the question is whether an index *can* serve the query, which on a small or unanalysed table
the planner would not show. MariaDB has no such switch: its real plan is read, so check against a table
of production size with statistics (``ANALYZE TABLE``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from filterdsl.ast import Query
from filterdsl.backends.sql import ColumnsLayout, JsonLayout, to_sql
from filterdsl.backends.sql.indexes import advise
from filterdsl.errors import Diagnostic, FilterError, Location


@dataclass
class QueryCheck:
    label: str
    served: bool
    #: what the plan does: the indexes it uses, or the full scan / sort that makes it not served
    detail: str
    #: the advised statements for this query (printed when it is not served)
    statements: list[str] = field(default_factory=list)


@dataclass
class CheckReport:
    engine: str
    #: (table, index name, definition) of every index on the queried tables
    existing: list[tuple[str, str, str]]
    checks: list[QueryCheck]
    #: what the database makes inexact in the declared layout (printed first)
    warnings: list[str] = field(default_factory=list)

    def text(self) -> str:
        out = [f"-- WARNING: {w}" for w in self.warnings]
        out += [f"-- existing indexes ({self.engine}):"]
        out += [f"--   {t}: {n} {d}" for t, n, d in self.existing] or ["--   none"]
        for c in self.checks:
            if c.served:
                out.append(f"-- {c.label}: served ({c.detail})")
            else:
                out.append(f"-- {c.label}: NOT served ({c.detail}); these indexes serve it:")
                out += c.statements or [
                    "--   (no index serves this form: see the notes of filterdsl indexes)"
                ]
        return "\n".join(out)


def engine_of(url: str) -> str:
    scheme = urlparse(url).scheme.split("+")[0]
    if scheme in ("postgres", "postgresql"):
        return "postgres"
    if scheme in ("mysql", "mariadb"):
        return "mysql"
    raise FilterError(
        [
            Diagnostic(
                "bad-url",
                f"--check reads PostgreSQL (postgresql://) or MariaDB/MySQL (mysql://) databases, not {scheme!r}",
                Location(param="url"),
            )
        ]
    )


def _pg_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for p in plan.get("Plans", ()):
        yield from _pg_nodes(p)


def check(
    queries: Sequence[tuple[str, Query]],
    url: str,
    layout: JsonLayout | ColumnsLayout | None = None,
) -> CheckReport:
    """``queries`` as (label, query); the report of which the database's existing indexes serve."""
    engine = engine_of(url)
    lay = layout if layout is not None else JsonLayout()
    tables = sorted({lay.table_name(q.database) for _, q in queries})
    if engine == "postgres":
        return _check_pg(queries, url, lay, tables)
    return _check_mysql(queries, url, lay, tables)


#: texts that start with a day, against days: the default collation must order them as "C" does for
#: JsonLayout(text_indexes=True)'s day ranges (ICU numeric ordering reads 2024-01-159 after 2024-01-16)
_DAY_PROBES = [
    ("2024-01-159", "2024-01-16"),
    ("2024-01-15T10:00:00Z", "2024-01-15"),
    ("2024-01-15 x", "2024-01-16"),
    ("2024-01-15-", "2024-01-15"),
    ("2024-01-09", "2024-01-10"),
]


def _pg_collation_warnings(con: Any, lay: JsonLayout | ColumnsLayout) -> list[str]:
    """``text_indexes`` declared on a database whose default collation orders day texts otherwise."""
    if not (isinstance(lay, JsonLayout) and lay.text_indexes):
        return []
    values = ", ".join(["(%s, %s)"] * len(_DAY_PROBES))
    row = con.execute(
        f'SELECT count(*) FROM (VALUES {values}) p(t, d) WHERE (t >= d) <> (t COLLATE "C" >= d)',
        [x for pair in _DAY_PROBES for x in pair],
    ).fetchone()
    if row is None or not row[0]:
        return []
    return [
        "the database's default collation orders texts that start with a day unlike code points (ICU "
        "numeric ordering?): text_indexes day ranges are not exact here; leave text_indexes out "
        "(docs/sql.md, Habitual indexes)"
    ]


def _paged(q: Query) -> Query:
    """A stored filter is served as a page: its own limit, or the usual 100."""
    if q.limit is not None:
        return q
    return Query(q.predicate, q.sort, q.skip, 100, q.fields, q.database)


def _check_pg(
    queries: Sequence[tuple[str, Query]], url: str, lay: JsonLayout | ColumnsLayout, tables: list[str]
) -> CheckReport:
    import psycopg

    con = psycopg.connect(url, autocommit=True)
    try:
        existing = [
            (r[0], r[1], r[2])
            for r in con.execute(
                "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = "
                "COALESCE(%s, current_schema()) AND tablename = ANY(%s) ORDER BY tablename, indexname",
                [lay.schema, tables],
            ).fetchall()
        ]
        warnings = _pg_collation_warnings(con, lay)
        checks = []
        for label, q in queries:
            page = _paged(q)
            sql, params = to_sql(page, "postgres", lay)
            table = lay.table_name(q.database)
            with con.transaction():
                con.execute("SET LOCAL enable_seqscan = off")
                con.execute("SET LOCAL enable_sort = off")
                row = con.execute("EXPLAIN (FORMAT JSON) " + sql, params).fetchone()
                assert row is not None  # EXPLAIN always returns its plan
                plan = row[0][0]["Plan"]
            nodes = list(_pg_nodes(plan))
            bad = [
                f"Seq Scan on {n['Relation Name']}"
                for n in nodes
                if n["Node Type"] == "Seq Scan" and n.get("Relation Name") == table
            ]
            bad += [
                f"Sort of about {n['Plan Rows']} rows"
                for n in nodes
                if "Sort" in n["Node Type"] and n["Plan Rows"] > (page.limit or 0) + page.skip
            ]
            used = sorted({n["Index Name"] for n in nodes if n.get("Index Name")})
            detail = "; ".join(bad) if bad else ("uses " + ", ".join(used) if used else "no table scan")
            stmts = [] if not bad else advise([q], "postgres", lay).statements
            checks.append(QueryCheck(label, not bad, detail, stmts))
        return CheckReport("postgres", existing, checks, warnings)
    finally:
        con.close()


def _check_mysql(
    queries: Sequence[tuple[str, Query]], url: str, lay: JsonLayout | ColumnsLayout, tables: list[str]
) -> CheckReport:
    import pymysql

    from filterdsl.backends.sql.runners import _mysql_args

    con = pymysql.connect(**_mysql_args(url), autocommit=True)
    try:
        with con.cursor() as cur:
            marks = ", ".join(["%s"] * len(tables))
            cur.execute(
                "SELECT TABLE_NAME, INDEX_NAME, GROUP_CONCAT(CONCAT(COLUMN_NAME, IF(COLLATION = 'D', ' DESC', '')) "
                "ORDER BY SEQ_IN_INDEX SEPARATOR ', ') FROM information_schema.statistics WHERE TABLE_SCHEMA = "
                f"COALESCE(%s, DATABASE()) AND TABLE_NAME IN ({marks}) GROUP BY TABLE_NAME, INDEX_NAME "
                "ORDER BY TABLE_NAME, INDEX_NAME",
                [lay.schema, *tables],
            )
            existing = [(r[0], r[1], f"({r[2]})") for r in cur.fetchall()]
            checks = []
            for label, q in queries:
                page = _paged(q)
                sql, params = to_sql(page, "mysql", lay)
                cur.execute("EXPLAIN " + sql, params)
                cols = [c[0] for c in cur.description]
                rows = [dict(zip(cols, r)) for r in cur.fetchall()]
                main = [r for r in rows if r["table"] in ("r0", lay.table_name(q.database))][:1] or rows[:1]
                bad = []
                for r in main:
                    if r["type"] == "ALL":
                        bad.append(f"full scan of {lay.table_name(q.database)} (about {r['rows']} rows)")
                    if (
                        "filesort" in (r.get("Extra") or "")
                        and int(r["rows"] or 0) > (page.limit or 0) + page.skip
                    ):
                        bad.append(f"filesort of about {r['rows']} rows")
                used = sorted({str(r["key"]) for r in rows if r.get("key")})
                detail = "; ".join(bad) if bad else ("uses " + ", ".join(used) if used else "no table scan")
                stmts = [] if not bad else advise([q], "mysql", lay).statements
                checks.append(QueryCheck(label, not bad, detail, stmts))
        return CheckReport("mysql", existing, checks)
    finally:
        con.close()
