"""Shared test fixtures: the corpus, and services that skip locally but must exist in CI."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

HERE = Path(__file__).parent
CORPUS = HERE / "corpus"
IN_CI = os.environ.get("CI", "").lower() == "true"


def need(available: bool, reason: str) -> None:
    """Skip with ``reason`` when a service is missing, but fail in CI (CI must never silently skip)."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(reason)


def load_json(name: str) -> Any:
    return json.loads((CORPUS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def catalog_json() -> Any:
    return load_json("catalog.json")


@pytest.fixture(scope="session")
def catalog(catalog_json: Any) -> Any:
    from filterdsl import load_catalog

    return load_catalog(catalog_json)


@pytest.fixture(scope="session")
def records_json() -> Any:
    return load_json("records.json")


@pytest.fixture(scope="session")
def pixiebrix_json() -> Any:
    return load_json("pixiebrix_records.json")


CASES = load_json("cases.json")


def postgres_url() -> str:
    return os.environ.get("FILTERDSL_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


def mysql_url() -> str:
    return os.environ.get("FILTERDSL_MYSQL_URL", "mysql://root@127.0.0.1:3306/test")


def postgres_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(postgres_url(), connect_timeout=3):
            return True
    except Exception:
        return False


def mysql_available() -> bool:
    try:
        import pymysql

        pymysql.connect(
            host="127.0.0.1", port=3306, user="root", password="", database="test", connect_timeout=3
        ).close()
        return True
    except Exception:
        return False


def node_available() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None
