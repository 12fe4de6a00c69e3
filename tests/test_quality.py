"""The code base stays ruff- and mypy-clean (the style rules of the project are checked, not hoped for)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_ruff_clean() -> None:
    proc = run("ruff", "check", "filterdsl", "tests", "benchmarks")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format_clean() -> None:
    proc = run("ruff", "format", "--check", "filterdsl", "tests", "benchmarks", "examples")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_clean() -> None:
    proc = run("mypy")  # files and settings from pyproject.toml
    assert proc.returncode == 0, proc.stdout + proc.stderr
