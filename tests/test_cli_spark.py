"""``filterdsl run --engine spark``: a local session, Spark Connect (``--url local[1]`` starts a Spark
Connect server in the command's process; ``--url sc://host:port`` reaches a running one the same way),
and the CLI contract when the engine cannot run (exit 3) or cannot answer exactly (exit 4). Each run is
a fresh process with its own JVM, so only a few cases run here; every corpus case goes through the
same runner in process in tests/test_integration_spark.py (test_runner_corpus)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from spark_support import require_connect, require_pyspark, require_spark

from conftest import CASES, CORPUS

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
RELATIONAL = next(c for c in CASES if c["name"] == "seed-example-2-relational-or")


def _run(tmp_path: Path, case: dict[str, Any], *extra: str, env: dict[str, str] | None = None) -> Any:
    f = tmp_path / "filter.json"
    f.write_text(json.dumps(case["input"]))
    e = dict(os.environ if env is None else env)
    e["PYTHONPATH"] = os.pathsep.join([str(ROOT), e.get("PYTHONPATH", "")])
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "filterdsl.cli",
            "run",
            "--from",
            case["format"],
            "--schema",
            str(CORPUS / "catalog.json"),
            "--database",
            case["database"],
            "--data",
            str(CORPUS / "records.json"),
            "--ids",
            "--engine",
            "spark",
            *extra,
            str(f),
        ],
        capture_output=True,
        text=True,
        env=e,
        timeout=900,
    )


def test_local_session(tmp_path: Path) -> None:
    require_spark()
    p = _run(tmp_path, RELATIONAL)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == RELATIONAL["expect"]


def test_spark_connect(tmp_path: Path) -> None:
    require_connect()
    p = _run(tmp_path, RELATIONAL, "--url", "local[1]")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == RELATIONAL["expect"]


def test_engine_failure_is_exit_3(tmp_path: Path) -> None:
    """No Java (JAVA_HOME names nothing, no java on PATH): the engine fails, not the user's input."""
    require_pyspark()
    env = {k: v for k, v in os.environ.items() if k not in ("SPARK_HOME",)}
    env["JAVA_HOME"] = str(tmp_path / "no-java")
    env["PATH"] = os.path.dirname(sys.executable)
    p = _run(tmp_path, RELATIONAL, env=env)
    assert p.returncode == 3, (p.returncode, p.stderr)
    assert "engine spark failed" in p.stderr
    assert p.stdout == ""


def test_inexact_number_is_exit_4(tmp_path: Path) -> None:
    """A stored integer beyond 2^53 would be compared as a double (docs/semantics.md): refused before
    Spark starts."""
    data = tmp_path / "records.json"
    data.write_text(
        json.dumps([{"_id": "a", "createdAt": "2021-01-01T00:00:00.000Z", "data": {"n": 2**53 + 1}}])
    )
    p = subprocess.run(
        [
            sys.executable,
            "-m",
            "filterdsl.cli",
            "run",
            "--data",
            str(data),
            "--engine",
            "spark",
            "--ids",
            "--expr",
            "data__n=1",
            "--from",
            "pixiebrix",
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=300,
    )
    assert p.returncode == 4, (p.returncode, p.stderr)
    assert "not-expressible" in p.stderr


def test_documented_example_in_one_command() -> None:
    """README "Scaling out": ``python examples/spark_example.py`` prints what ``filterdsl run`` prints
    for the same filter (the README's example, on the default engine)."""
    require_spark()
    p = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "spark_example.py")],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=900,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == [
        "fzsEYQSCqHaADLpz2",
        "ErZMnPQqdeNBzkCZY",
        "Q42ggoNpiWzhJ9GDZ",
        "a5hzm9xChLDKrxneG",
    ]
