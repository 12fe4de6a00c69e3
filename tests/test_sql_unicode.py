"""Case folding on each engine vs Python's ``str.lower`` (SPEC 1.4), divergences pinned.

filterdsl lowers the *needle* in Python and the stored value with the engine's ``lower()``. SQLite's
``lower`` is overridden on connections filterdsl opens (Python's), so SQLite always agrees. The other
engines agree on accented Latin, Cyrillic and Greek letters, and differ on context-dependent mappings:
Greek final sigma (``Σ`` at a word end lowers to ``ς`` in Python, ``σ`` in DuckDB, PostgreSQL's
libc lower and MariaDB) and dotted capital ``İ`` (Python gives ``i̇``, i + U+0307; the others ``i``).
PostgreSQL with ``icu_lower=True`` (ICU root collation) agrees with Python on both.
"""

from __future__ import annotations

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
    """Pinned divergence (docs/sql.md): no final-sigma rule, İ lowers to plain i."""
    url = require(engine)
    assert run_ids(_q(FINAL_SIGMA), DATASET, engine, url) == []
    assert run_ids(_q("σίσυφοσ"), DATASET, engine, url) == ["g"]
    assert run_ids(_q(DOTTED_I[0]), DATASET, engine, url) == ["t"]
    assert run_ids(_q(DOTTED_I[1]), DATASET, engine, url) == []


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
