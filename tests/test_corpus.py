"""Every corpus case, through the API (in-memory engine) and through the CLI contract."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from filterdsl import FilterError, apply, load_catalog, parse
from filterdsl.cli import main

from conftest import CASES, CORPUS

CATALOG = load_catalog(CORPUS / "catalog.json")


def _records(case):
    if case["format"] == "pixiebrix" or (case["format"] == "search" and case.get("database") is None):
        return json.loads((CORPUS / "pixiebrix_records.json").read_text()), None
    return json.loads((CORPUS / "records.json").read_text()), CATALOG


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_api(case):
    records, catalog = _records(case)
    if isinstance(case["expect"], dict):
        with pytest.raises(FilterError) as err:
            parse(case["input"], case["format"], catalog, case.get("database"))
        assert err.value.errors and all(d.code for d in err.value.errors)
        return
    query = parse(case["input"], case["format"], catalog, case.get("database"))
    assert [r["id"] for r in apply(query, records, catalog)] == case["expect"]


def _cli_args(case, tmp_path):
    path = tmp_path / "input"
    path.write_text(case["input"] if isinstance(case["input"], str) else json.dumps(case["input"]))
    args = ["run", "--from", case["format"], "--engine", "memory", "--ids"]
    if case["format"] == "pixiebrix" or (case["format"] == "search" and case.get("database") is None):
        args += ["--data", str(CORPUS / "pixiebrix_records.json")]
    else:
        args += [
            "--schema",
            str(CORPUS / "catalog.json"),
            "--database",
            case["database"],
            "--data",
            str(CORPUS / "records.json"),
        ]
    return [*args, str(path)]


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_cli(case, tmp_path, capsys):
    with pytest.raises(SystemExit) as ex:
        main(_cli_args(case, tmp_path))
    out, err = capsys.readouterr()
    if isinstance(case["expect"], dict):
        assert ex.value.code == 1
        assert out == ""
        assert "error" in err
    else:
        assert ex.value.code == 0, err
        assert out.splitlines() == case["expect"]


@pytest.mark.parametrize(
    "name", ["seed-example-2-relational-or", "error-unknown-field", "secret-key-dropped"]
)
def test_console_script(name, tmp_path):
    """The installed ``filterdsl`` entry point honours the same contract as main()."""
    case = next(c for c in CASES if c["name"] == name)
    p = subprocess.run(
        [sys.executable, "-m", "filterdsl.cli", *_cli_args(case, tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    if isinstance(case["expect"], dict):
        assert (p.returncode, p.stdout) == (1, "")
    else:
        assert p.returncode == 0, p.stderr
        assert p.stdout.splitlines() == case["expect"]
    assert "s3cr3t" not in p.stdout + p.stderr
