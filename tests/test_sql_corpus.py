"""Every corpus case on SQLite, DuckDB, PostgreSQL and MariaDB: ids and order identical to memory."""

from __future__ import annotations

import importlib.util
import json

import pytest
from sql_engines import ENGINES, require

from filterdsl import FilterError, load_catalog, parse
from filterdsl.backends.memory import run
from filterdsl.backends.sql.runners import run as sql_run
from filterdsl.backends.sql.runners import run_ids
from filterdsl.records import normalize_dataset

from conftest import CASES, CORPUS

CATALOG = load_catalog(CORPUS / "catalog.json")
GOOD = [c for c in CASES if not isinstance(c["expect"], dict)]
HAVE_PIXIEBRIX = importlib.util.find_spec("filterdsl.frontends.pixiebrix") is not None


def _dataset(case):
    if case["format"] == "pixiebrix" or (case["format"] == "search" and case.get("database") is None):
        return normalize_dataset(json.loads((CORPUS / "pixiebrix_records.json").read_text())), None
    raw = json.loads((CORPUS / "records.json").read_text())
    return normalize_dataset(raw if isinstance(raw, dict) else {case["database"]: raw}, CATALOG), CATALOG


def _query(case):
    if case["format"] == "pixiebrix" and not HAVE_PIXIEBRIX:
        pytest.skip("filterdsl.frontends.pixiebrix does not exist yet")
    _, catalog = _dataset(case)
    return parse(case["input"], case["format"], catalog, case.get("database"))


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("case", GOOD, ids=[c["name"] for c in GOOD])
def test_corpus_case(case, engine):
    url = require(engine)
    query = _query(case)
    dataset, catalog = _dataset(case)
    expected = [r["id"] for r in run(query, dataset, catalog)]
    assert expected == case["expect"]  # the corpus and the reference agree
    assert run_ids(query, dataset, engine, url, catalog) == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_projection_applied_after_fetch(engine):
    url = require(engine)
    case = next(c for c in GOOD if c["format"] == "pitchly")
    query = _query(case)
    dataset, catalog = _dataset(case)
    from dataclasses import replace

    first = next(iter(dataset[case["database"]][0]["data"]), "x")
    q = replace(query, fields=(first,))
    assert sql_run(q, dataset, engine, url, catalog) == run(q, dataset, catalog)


def test_error_cases_still_errors():
    """Error cases never reach SQL: they fail in the frontend with a diagnostic code."""
    for case in (c for c in CASES if isinstance(c["expect"], dict)):
        if case["format"] == "pixiebrix" and not HAVE_PIXIEBRIX:
            continue
        with pytest.raises(FilterError):
            _query(case)
