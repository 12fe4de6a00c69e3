"""The fuzz pipeline: one input through a frontend, then every backend (shared by the atheris driver
tests/fuzz/atheris_pipeline.py and the bounded fuzz in the suite, tests/test_fuzz_pipeline.py).

The first input byte picks a frontend (and its options, and whether a schema is given); the rest is the
body, parsed with ``parse_result``. A query that parses is run by the in-memory engine over the corpus,
compiled to a Mongo spec, and emitted back to the text form, which must parse back equal; a fixed
sample (``FILTERDSL_FUZZ_SQL_SHARE``, default 1 in 10, chosen by a hash of the input) is also compiled
to SQL for SQLite and PostgreSQL and executed on SQLite (same ids as memory, or a finding).

With ``FILTERDSL_FUZZ_SECRETS=1`` (the default; ``0`` turns it off) every input is also checked with a
secret planted in it (tests/fuzz/planted.py: a ``secretKey`` member or a near-miss name, in one of many
malformed or well-formed forms, at a place where a member can go, chosen by a hash of the input): no
output about the planted input (diagnostics, the four validate reports, CLI snippets, the server's error
body, emitted formats) may contain it; a leak is a ``secret-leak`` finding.

A finding is any exception other than FilterError, a diagnostic without a location, or a mismatch.
Findings do not stop a run: each distinct one (exception type and the filterdsl frame it came from) is
kept in ``FOUND`` and appended to ``FILTERDSL_FUZZ_FINDINGS`` (JSON lines) with its input.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import traceback
import zlib
from pathlib import Path
from typing import Any

from filterdsl import FilterError, load_catalog
from filterdsl.api import parse_result, to_format, to_mongo, to_sql
from filterdsl.backends.memory import run
from filterdsl.backends.mongo import relations
from filterdsl.backends.sql import runners as sql_exec
from filterdsl.records import normalize_dataset

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CATALOG = load_catalog(CORPUS / "catalog.json")
DB = "ixuPJwBRqtRP3GpoM"
PITCHLY = normalize_dataset(json.loads((CORPUS / "records.json").read_text()), CATALOG)
PIXIE = normalize_dataset({None: json.loads((CORPUS / "pixiebrix_records.json").read_text())})
CHOICES = [
    ("pitchly", {}),
    ("search", {}),
    ("search", {"quoted": True}),
    ("pixiebrix", {}),
    ("pixiebrix", {"django_compat": True, "lookups": "extended"}),
    ("text", {}),
    ("ast", {}),
    ("pitchly", {"resolve_names": True, "strict": False}),
]
FINDINGS = os.environ.get("FILTERDSL_FUZZ_FINDINGS")
SQL_SHARE = int(os.environ.get("FILTERDSL_FUZZ_SQL_SHARE", "10"))
SECRETS = os.environ.get("FILTERDSL_FUZZ_SECRETS", "1") != "0"
SEEN: set[str] = set()
FOUND: list[dict[str, str]] = []
STATS = {"inputs": 0, "parsed": 0, "findings": 0, "planted": 0, "sql": 0, "sql_compared": 0}


def _sqlite_tables(dataset: dict[Any, list[dict[str, Any]]]) -> tuple[sqlite3.Connection, dict[Any, str]]:
    """One connection per dataset, loaded once (sql_exec would rebuild the tables per call)."""
    tables = {db: ("records" if db is None else str(db)) for db in dataset}
    con = sql_exec.sqlite_connect()
    for db, t in tables.items():
        con.execute(
            f'CREATE TABLE "{t}" (id TEXT, created_at TEXT, updated_at TEXT, removed_at TEXT, data TEXT)'
        )
        con.executemany(
            f'INSERT INTO "{t}" VALUES (?, ?, ?, ?, ?)', [sql_exec._row(d) for d in docs_of(dataset, db)]
        )
    return con, tables


def docs_of(dataset: dict[Any, list[dict[str, Any]]], db: Any) -> list[dict[str, Any]]:
    return dataset[db]


SQLITE = {"schema": _sqlite_tables(PITCHLY), "none": _sqlite_tables(PIXIE)}


def finding(kind: str, where: str, body: str, fmt: str, detail: str) -> None:
    key = f"{kind}|{where}"
    if key in SEEN:
        return
    SEEN.add(key)
    STATS["findings"] += 1
    item = {"kind": kind, "where": where, "format": fmt, "input": body[:2000], "detail": detail[:2000]}
    FOUND.append(item)
    line = json.dumps(item)
    print("FINDING " + line, file=sys.stderr, flush=True)
    if FINDINGS:
        with open(FINDINGS, "a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def _frame(e: BaseException) -> str:
    frames = [f for f in traceback.extract_tb(e.__traceback__) if "filterdsl" in f.filename]
    f = frames[-1] if frames else traceback.extract_tb(e.__traceback__)[-1]
    return f"{type(e).__name__}@{Path(f.filename).name}:{f.lineno}"


def check_diags(diags: list[Any], fmt: str, body: str) -> None:
    for d in diags:
        if not (d.code and d.message) or not d.location.to_json():
            finding("unlocated", d.code, body, fmt, str(d))


def backends(query: Any, with_schema: bool, fmt: str, body: str, sql: bool) -> None:
    cat = CATALOG if with_schema else None
    data = PITCHLY if with_schema else PIXIE
    try:  # the datasets are normalised once (apply would normalise them again on every call)
        mem = [r["id"] for r in run(query, data, cat)]
    except FilterError as e:
        check_diags(e.diagnostics, fmt, body)
        mem = None
    con, tables = SQLITE["schema" if with_schema else "none"]
    try:
        if not sql:
            raise FilterError([])
        if not relations(query) <= set(tables):
            raise FilterError([])  # a relation to a database without records: memory said missing-data
        main = query.database if query.database in tables else next(iter(tables))
        q = type(query)(query.predicate, query.sort, query.skip, query.limit, None, main)
        sql, params = to_sql(q, "sqlite", sql_exec.JsonLayout(tables=tables), cat)
        STATS["sql"] += 1
        got = [r[0] for r in con.execute(sql, params).fetchall()]
        if mem is not None:
            STATS["sql_compared"] += 1
        if mem is not None and got != mem and not (query.skip or 0) > 2**40:
            finding("mismatch-sqlite", fmt, body, fmt, f"memory {mem[:10]} sqlite {got[:10]}")
    except FilterError as e:
        check_diags(e.diagnostics, fmt, body)
    steps = [lambda: to_sql(query, "postgres", catalog=cat)] if sql else []
    for step in (*steps, lambda: to_mongo(query, catalog=cat)):
        try:
            step()
        except FilterError as e:
            check_diags(e.diagnostics, fmt, body)
    try:
        text = to_format(query, "text")
        back = parse_result(text, "text")
        if back.query != query:
            finding(
                "text-roundtrip", fmt, body, fmt, f"{text[:300]} -> {[str(d) for d in back.diagnostics][:3]}"
            )
    except FilterError as e:
        check_diags(e.diagnostics, fmt, body)


def _save_stats() -> None:
    """With FILTERDSL_FUZZ_FINDINGS, the counters go to ``<findings>.stats.<pid>`` every 5,000 inputs
    (libFuzzer ends a run without atexit handlers, so a long run is counted from these files)."""
    if FINDINGS:
        with open(f"{FINDINGS}.stats.{os.getpid()}", "w", encoding="utf-8") as fh:
            fh.write(json.dumps(STATS))


def one_input(data: bytes) -> None:
    if not data:
        return
    STATS["inputs"] += 1
    if STATS["inputs"] % 5000 == 0:
        _save_stats()
    fmt, opts = CHOICES[data[0] % len(CHOICES)]
    with_schema = bool(data[0] & 0x80)
    body = data[1:].decode("utf-8", "surrogateescape" if data[0] & 0x40 else "replace")
    try:
        try:
            res = parse_result(
                body, fmt, CATALOG if with_schema else None, DB if with_schema else None, **opts
            )
        except FilterError as e:
            check_diags(e.diagnostics, fmt, body)
            return
        check_diags(list(res.diagnostics), fmt, body)
        if res.query is not None:
            STATS["parsed"] += 1
            # sqlglot compiles in milliseconds: SQL runs on a fixed 1-in-SQL_SHARE sample of the inputs
            # (by a hash of the input, so a given input always takes the same path; coverage stays stable)
            backends(res.query, with_schema, fmt, body, zlib.crc32(data) % SQL_SHARE == 0)
    except Exception as e:  # a finding: record it and go on
        finding("exception", _frame(e), body, fmt, f"{type(e).__name__}: {e}")
    if SECRETS:
        planted_check(data, fmt, opts, with_schema, body)


def planted_check(data: bytes, fmt: str, opts: dict[str, Any], with_schema: bool, body: str) -> None:
    """The input with a secret planted (tests/fuzz/planted.py): no output may show it."""
    import planted

    STATS["planted"] += 1
    text, secrets = planted.plant(body, fmt, zlib.crc32(data) >> 3)
    try:
        got = planted.leaks(
            text, fmt, CATALOG if with_schema else None, DB if with_schema else None, opts, ["TOPSECRET9"]
        )
    except Exception as e:  # the planted input itself crashed something: a finding like any other
        finding("exception", _frame(e), text, fmt, f"{type(e).__name__}: {e}")
        return
    if got is not None:
        finding("secret-leak", fmt, text, fmt, got)
