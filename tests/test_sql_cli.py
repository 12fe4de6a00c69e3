"""``filterdsl convert --to sql`` and ``filterdsl run --engine sqlite|duckdb|postgres|mysql``."""

from __future__ import annotations

import json

import pytest
import sqlglot
from sql_engines import ENGINES, require

from filterdsl.cli import main

from conftest import CASES, CORPUS

CASE = next(c for c in CASES if c["name"] == "seed-example-2-relational-or")
NAME_FIELD = "xEfek48BRpD3kAksh"  # Clients.Name
CLIENTS = "uJL9XrebupC7eWvM3"


def _cli(capsys, *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ex:
        main(list(args))
    out, err = capsys.readouterr()
    return int(ex.value.code or 0), out, err


def _input(tmp_path, obj) -> str:
    p = tmp_path / "filter.json"
    p.write_text(json.dumps(obj))
    return str(p)


@pytest.mark.parametrize("engine", ENGINES)
def test_run_engine_matches_memory(engine, tmp_path, capsys):
    url = require(engine)
    args = ["run", "--from", "pitchly", "--schema", str(CORPUS / "catalog.json"), "--database", CASE["database"],
            "--data", str(CORPUS / "records.json"), "--ids", _input(tmp_path, CASE["input"])]
    code, out, err = _cli(capsys, *args, "--engine", engine, *(["--url", url] if url else []))
    assert code == 0, err
    assert out.splitlines() == CASE["expect"]


def test_convert_prints_sql_then_params(tmp_path, capsys):
    f = {"fields": {NAME_FIELD: {"filters": [{"by": "contains", "value": "o'b%"}]}}}
    code, out, err = _cli(capsys, "convert", "--from", "pitchly", "--to", "sql", "--dialect", "postgres", "--schema",
                          str(CORPUS / "catalog.json"), "--database", CLIENTS, _input(tmp_path, f))
    assert code == 0, err
    sql, params = out.rstrip("\n").split("\n")
    # PostgreSQL binds contains as an escaped LIKE pattern (ESCAPE '\\'), which pg_trgm indexes serve
    assert "o'b" not in sql and json.loads(params)[-1] == "%o'b\\%%" and "ESCAPE '\\'" in sql
    assert sql.count("%s") == len(json.loads(params))


def test_convert_inline_is_escaped(tmp_path, capsys):
    f = {"fields": {NAME_FIELD: {"filters": [{"by": "is", "value": "x'; DROP TABLE t; --"}]}}}
    code, out, _ = _cli(capsys, "convert", "--from", "pitchly", "--to", "sql", "--dialect", "mysql", "--inline",
                        "--schema", str(CORPUS / "catalog.json"), "--database", CLIENTS, _input(tmp_path, f))
    assert code == 0
    assert "'x''; DROP TABLE t; --'" in out
    assert len(sqlglot.parse(out.strip(), read="mysql")) == 1  # still one statement


def test_convert_columns_layout(tmp_path, capsys):
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({NAME_FIELD: "client_name"}))
    f = {"fields": {NAME_FIELD: {"filters": [{"by": "starts-with", "value": "a"}]}}}
    code, out, err = _cli(capsys, "convert", "--from", "pitchly", "--to", "sql", "--dialect", "tsql", "--layout",
                          "columns", "--mapping", str(mapping), "--schema", str(CORPUS / "catalog.json"),
                          "--database", CLIENTS, _input(tmp_path, f))
    assert code == 0, err
    assert "[client_name]" in out and "LIKE" not in out.upper()


def test_convert_not_expressible_is_a_clean_error(tmp_path, capsys):
    f = {"fields": {NAME_FIELD: {"filters": [{"by": "contains", "value": "a"}]}}}
    code, out, err = _cli(capsys, "convert", "--from", "pitchly", "--to", "sql", "--dialect", "tsql", "--schema",
                          str(CORPUS / "catalog.json"), "--database", CLIENTS, _input(tmp_path, f))
    assert code == 4 and out == ""  # 4: a valid query the chosen target cannot express (issue 19)
    assert "not-expressible" in err and "Traceback" not in err
