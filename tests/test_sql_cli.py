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
    args = [
        "run",
        "--from",
        "pitchly",
        "--schema",
        str(CORPUS / "catalog.json"),
        "--database",
        CASE["database"],
        "--data",
        str(CORPUS / "records.json"),
        "--ids",
        _input(tmp_path, CASE["input"]),
    ]
    code, out, err = _cli(capsys, *args, "--engine", engine, *(["--url", url] if url else []))
    assert code == 0, err
    assert out.splitlines() == CASE["expect"]


def test_convert_prints_sql_then_params(tmp_path, capsys):
    f = {"fields": {NAME_FIELD: {"filters": [{"by": "contains", "value": "o'b%"}]}}}
    code, out, err = _cli(
        capsys,
        "convert",
        "--from",
        "pitchly",
        "--to",
        "sql",
        "--dialect",
        "postgres",
        "--schema",
        str(CORPUS / "catalog.json"),
        "--database",
        CLIENTS,
        _input(tmp_path, f),
    )
    assert code == 0, err
    sql, params = out.rstrip("\n").split("\n")
    # PostgreSQL binds contains as a LIKE pattern escaped with \ (LIKE's default escape character, so
    # no ESCAPE '\' literal, which standard_conforming_strings=off would misread); pg_trgm serves it
    assert "o'b" not in sql and json.loads(params)[-1] == "%o'b\\%%" and "LIKE %s" in sql
    assert "ESCAPE" not in sql and "\\" not in sql
    assert sql.count("%s") == len(json.loads(params))


def test_convert_inline_is_escaped(tmp_path, capsys):
    f = {"fields": {NAME_FIELD: {"filters": [{"by": "is", "value": "x'; DROP TABLE t; --"}]}}}
    code, out, _ = _cli(
        capsys,
        "convert",
        "--from",
        "pitchly",
        "--to",
        "sql",
        "--dialect",
        "mysql",
        "--inline",
        "--schema",
        str(CORPUS / "catalog.json"),
        "--database",
        CLIENTS,
        _input(tmp_path, f),
    )
    assert code == 0
    assert "'x''; DROP TABLE t; --'" in out
    assert len(sqlglot.parse(out.strip(), read="mysql")) == 1  # still one statement


def test_convert_columns_layout(tmp_path, capsys):
    mapping = tmp_path / "map.json"
    mapping.write_text(json.dumps({NAME_FIELD: "client_name"}))
    f = {"fields": {NAME_FIELD: {"filters": [{"by": "starts-with", "value": "a"}]}}}
    code, out, err = _cli(
        capsys,
        "convert",
        "--from",
        "pitchly",
        "--to",
        "sql",
        "--dialect",
        "tsql",
        "--layout",
        "columns",
        "--mapping",
        str(mapping),
        "--schema",
        str(CORPUS / "catalog.json"),
        "--database",
        CLIENTS,
        _input(tmp_path, f),
    )
    assert code == 0, err
    assert "[client_name]" in out and "LIKE" not in out.upper()


def test_convert_not_expressible_is_a_clean_error(tmp_path, capsys):
    f = {"fields": {NAME_FIELD: {"filters": [{"by": "contains", "value": "a"}]}}}
    code, out, err = _cli(
        capsys,
        "convert",
        "--from",
        "pitchly",
        "--to",
        "sql",
        "--dialect",
        "tsql",
        "--schema",
        str(CORPUS / "catalog.json"),
        "--database",
        CLIENTS,
        _input(tmp_path, f),
    )
    assert code == 4 and out == ""  # 4: a valid query the chosen target cannot express (issue 19)
    assert "not-expressible" in err and "Traceback" not in err


def test_convert_pretty_is_the_same_statement(tmp_path, capsys):
    f = {"fields": {NAME_FIELD: {"filters": [{"by": "is", "value": "Acme"}]}}}
    args = [
        "convert",
        "--from",
        "pitchly",
        "--to",
        "sql",
        "--dialect",
        "postgres",
        "--schema",
        str(CORPUS / "catalog.json"),
        "--database",
        CLIENTS,
        _input(tmp_path, f),
    ]
    code, flat, err = _cli(capsys, *args)
    assert code == 0, err
    code, pretty, err = _cli(capsys, *args, "--pretty")
    assert code == 0, err
    flat_sql, flat_params = flat.rstrip("\n").rsplit("\n", 1)
    pretty_sql, pretty_params = pretty.rstrip("\n").rsplit("\n", 1)
    assert pretty_sql.count("\n") > 3 and flat_params == pretty_params
    norm = [
        sqlglot.parse_one(s.rstrip(";").replace("%s", "NULL"), read="postgres").sql("postgres")
        for s in (flat_sql, pretty_sql)
    ]
    assert norm[0] == norm[1]
    code, _, err = _cli(capsys, *args[:4], "--to", "text", *args[8:], "--pretty")
    assert code == 2 and "--pretty" in err  # SQL-only flag with another target: refused, not ignored


def test_indexes_command(tmp_path, capsys):
    f = {"fields": {NAME_FIELD: {"filters": [{"by": "contains", "value": "ac"}]}}}
    base = ["indexes", "--schema", str(CORPUS / "catalog.json"), "--database", CLIENTS]
    code, out, err = _cli(capsys, *base, "--dialect", "postgres", _input(tmp_path, f))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "CREATE EXTENSION IF NOT EXISTS pg_trgm;"
    assert any("USING gin ((LOWER(\"data\" ->> 'xEfek48BRpD3kAksh')) gin_trgm_ops)" in ln for ln in lines)
    code, out, err = _cli(capsys, *base, "--dialect", "mysql", _input(tmp_path, f))
    assert code == 0 and not [ln for ln in out.splitlines() if ln.startswith("CREATE")]
    assert "no index" in out or "generated column" in out
    code, out, err = _cli(capsys, *base, "--dialect", "sqlite", "--all-fields")
    assert code == 0 and out.count("CREATE INDEX") >= 2, out
    code, _, err = _cli(capsys, "indexes", "--schema", str(CORPUS / "catalog.json"), "--all-fields")
    assert code == 2 and "--database" in err
