"""Case folding on each engine vs Python's ``str.lower`` (SPEC 1.4), divergences pinned.

filterdsl lowers the *needle* in Python and the stored value with the engine's ``lower()``. SQLite's
``lower`` is overridden on connections filterdsl opens (Python's), so SQLite always agrees. The other
engines agree on accented Latin, Cyrillic and Greek letters, and differ on context-dependent mappings:
Greek final sigma (``Σ`` at a word end lowers to ``ς`` in Python, ``σ`` in DuckDB, PostgreSQL's
libc lower and MariaDB) and dotted capital ``İ`` (Python gives ``i̇``, i + U+0307; the others ``i``).
PostgreSQL with ``icu_lower=True`` (ICU root collation) agrees with Python on both.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from sql_engines import require

from filterdsl.ast import Compare, Field, FieldType, Op, Query
from filterdsl.backends.memory import run
from filterdsl.backends.sql import to_sql
from filterdsl.backends.sql.runners import _postgres, run_ids

WORDS = {
    "g": "ΣΊΣΥΦΟΣ",
    "t": "İlker",
    "s": "Straße",
    "e": "ÉCOLE",
    "z": "ZÜRICH",
    "c": "МОСКВА",
    "a": "ǅemal",
}
DATASET = {
    "main": [
        {
            "id": k,
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {"name": v},
        }
        for k, v in WORDS.items()
    ]
}
AGREE = ["école", "zürich", "москва", "straße", "ǆemal", "ίσυ"]  # every engine agrees with Python
FINAL_SIGMA = "σίσυφος"  # Python: ΣΊΣΥΦΟΣ -> σίσυφος
DOTTED_I = ("ilker", "i̇lker")  # Python: İlker -> i̇lker (i + U+0307)


def _q(needle: str) -> Query:
    return Query(Compare(Field("name", FieldType.STRING), Op.CONTAINS, needle), database="main")


def _mem(needle: str) -> list[str]:
    return [r["id"] for r in run(_q(needle), DATASET)]


@pytest.mark.parametrize("engine", ["sqlite", "duckdb", "postgres", "mysql"])
def test_engines_agree_on_plain_letters(engine):
    url = require(engine)
    for needle in AGREE:
        assert run_ids(_q(needle), DATASET, engine, url) == _mem(needle), needle


def test_reference_behaviour():
    assert _mem(FINAL_SIGMA) == ["g"]
    assert _mem(DOTTED_I[0]) == [] and _mem(DOTTED_I[1]) == ["t"]
    assert _mem("strasse") == []  # lower(), not casefold(): ß stays ß


def test_sqlite_override_agrees_on_everything():
    for needle in (FINAL_SIGMA, *DOTTED_I, "strasse"):
        assert run_ids(_q(needle), DATASET, "sqlite") == _mem(needle)


@pytest.mark.parametrize("engine", ["duckdb", "postgres", "mysql"])
def test_divergence_final_sigma_and_dotted_i(engine):
    """Pinned divergence (docs/sql.md): no final-sigma rule; İ lowers to plain i (MariaDB: spelled out
    as i + U+0307 before LOWER, so it agrees with Python there, issue 26 M5)."""
    url = require(engine)
    assert run_ids(_q(FINAL_SIGMA), DATASET, engine, url) == []
    assert run_ids(_q("σίσυφοσ"), DATASET, engine, url) == ["g"]
    if engine == "mysql":
        assert run_ids(_q(DOTTED_I[0]), DATASET, engine, url) == _mem(DOTTED_I[0]) == []
        assert run_ids(_q(DOTTED_I[1]), DATASET, engine, url) == _mem(DOTTED_I[1]) == ["t"]
        return
    assert run_ids(_q(DOTTED_I[0]), DATASET, engine, url) == ["t"]
    assert run_ids(_q(DOTTED_I[1]), DATASET, engine, url) == []


#: M5's values: each is found by equality and by a case-insensitive test of itself, except where a
#: final sigma is lowered (MariaDB's LOWER has no final-sigma rule: pinned below)
M5_VALUES = ["İ", "İlker", "i̇", "xİy", "ΟΔΟΣ", "οδος", "ς", "Σ", "σ", "ΑΣ ΒΣ", "ΣΑ"]


@pytest.mark.parametrize("layout", ["json", "columns"])
@pytest.mark.parametrize("collation", ["utf8mb4_general_ci", "utf8mb4_unicode_520_ci", "utf8mb4_bin"])
def test_mariadb_values_find_themselves(layout: str, collation: str) -> None:
    """Issue 26 M5: on MariaDB (both layouts, text columns in several collations) every value is found
    by ``is`` and by contains/starts-with/ends-with of itself, as in memory; what a final sigma changes
    is pinned exactly."""
    import pymysql

    from filterdsl.backends.sql import ColumnsLayout, JsonLayout
    from filterdsl.backends.sql.runners import _mysql_args

    con = pymysql.connect(**_mysql_args(require("mysql")), autocommit=True)
    table = f"fdsl_m5_{layout}_{collation}"
    text = f"VARCHAR(100) CHARACTER SET utf8mb4 COLLATE {collation}"
    cur = con.cursor()
    try:
        data_type = "LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin" if layout == "json" else text
        cur.execute(f"DROP TABLE IF EXISTS `{table}`")
        cur.execute(
            f"CREATE TABLE `{table}` (id VARCHAR(10), created_at VARCHAR(40), updated_at VARCHAR(40), "
            f"removed_at VARCHAR(40), {'data' if layout == 'json' else 'name'} {data_type})"
        )
        for i, v in enumerate(M5_VALUES):
            cell = json.dumps({"name": v}, ensure_ascii=False) if layout == "json" else v
            cur.execute(f"INSERT INTO `{table}` VALUES (%s, '2021', NULL, NULL, %s)", (f"r{i:02d}", cell))
        lay: Any = (
            JsonLayout(tables={"main": table})
            if layout == "json"
            else ColumnsLayout(
                tables={"main": table},
                columns={"main": {"name": "name"}},
                ci_collation=collation if collation.endswith("_ci") else None,
            )
        )
        docs = {
            "main": [
                {
                    "id": f"r{i:02d}",
                    "created_at": "2021",
                    "updated_at": None,
                    "removed_at": None,
                    "data": {"name": v},
                }
                for i, v in enumerate(M5_VALUES)
            ]
        }
        wrong = []
        for v in M5_VALUES:
            for op in (Op.EQ, Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH):
                q = Query(Compare(Field("name", FieldType.STRING), op, v), database="main")
                sql, params = to_sql(q, "mysql", lay)
                cur.execute(sql, params)
                got = sorted(r[0] for r in cur.fetchall())
                want = sorted(r["id"] for r in run(q, docs))
                assert f"r{M5_VALUES.index(v):02d}" in got or "Σ" in v.upper(), (v, op)
                if got != want:
                    wrong.append((v, op.value))
        # only needles or values holding a sigma differ, and exactly these (MariaDB lowers every Σ to σ)
        assert all("σ" in v.lower() or "ς" in v.lower() for v, _ in wrong), wrong
        assert ("ΟΔΟΣ", "contains") in wrong and ("ς", "ends_with") in wrong
        assert not any(v.startswith(("İ", "i̇", "xİ")) for v, _ in wrong)
    finally:
        cur.execute(f"DROP TABLE IF EXISTS `{table}`")
        con.close()


def test_postgres_icu_lower_agrees_with_python():
    url = require("postgres")
    for needle in (FINAL_SIGMA, *DOTTED_I, *AGREE):
        sql, params = to_sql(_q(needle), "postgres", icu_lower=True)
        assert '"und-x-icu"' in sql
        with _postgres(DATASET, {"main": "main"}, url) as con:
            with con.cursor() as cur:
                cur.execute(sql, params)
                assert [r[0] for r in cur.fetchall()] == _mem(needle), needle


def test_sqlite_without_override_is_ascii_only():
    """Why filterdsl overrides lower(): a plain sqlite3 connection folds ASCII only."""
    import sqlite3

    con = sqlite3.connect(":memory:")
    assert con.execute("SELECT lower('ÉCOLE')").fetchone()[0] == "École"
