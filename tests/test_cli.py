"""The CLI contract: outputs and exit codes (0 ok, 1 invalid input, 2 usage, 3 engine failure, 4 not
expressible, 70 internal error; more in tests/test_first_use.py)."""

from __future__ import annotations

import json

import pytest

from filterdsl.cli import main

from conftest import CORPUS

ORDERS = "ixuPJwBRqtRP3GpoM"
BASE = ["--schema", str(CORPUS / "catalog.json"), "--database", ORDERS]


def run(args, capsys, stdin=None, monkeypatch=None):
    if stdin is not None:
        import io

        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    with pytest.raises(SystemExit) as ex:
        main(args)
    out, err = capsys.readouterr()
    return ex.value.code, out, err


def test_run_prints_json_lines_with_projection(capsys):
    code, out, _ = run(
        [
            "run",
            *BASE,
            "--engine",
            "memory",
            "--data",
            str(CORPUS / "records.json"),
            "--expr",
            json.dumps({"in": ["a5hzm9xChLDKrxneG"], "fields": ["Nb6uqwKdxh3BFX3De"]}),
        ],
        capsys,
    )
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in rows] == ["a5hzm9xChLDKrxneG"]
    assert rows[0]["data"] == {"Nb6uqwKdxh3BFX3De": "order-2883"}


def test_run_reads_stdin_and_json_lines(tmp_path, capsys, monkeypatch):
    rows = json.loads((CORPUS / "pixiebrix_records.json").read_text())
    data = tmp_path / "r.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows))
    code, out, _ = run(
        ["run", "--engine", "memory", "--data", str(data), "--ids", "-"], capsys, "{}", monkeypatch
    )
    assert code == 0 and len(out.splitlines()) == len(rows)


@pytest.mark.parametrize("engine", ["memory", "sqlite"])
def test_run_next_cursor_pages_by_keyset(tmp_path, capsys, monkeypatch, engine):
    """--next-cursor prints the next page's token on stderr (stdout stays the ids); after= pages on."""
    data = tmp_path / "r.json"
    data.write_text(
        json.dumps(
            [
                {"id": k, "created_at": "2020-01-01T00:00:00Z", "data": {"n": n}}
                for k, n in [("a", 1), ("b", 2), ("c", 3)]
            ]
        )
    )
    args = ["run", "--from", "pixiebrix", "--engine", engine, "--data", str(data), "--ids", "-"]
    code, out, err = run([*args, "--next-cursor"], capsys, "ordering=-data__n&page_size=2", monkeypatch)
    assert code == 0 and out == "c\nb\n" and err.startswith("next: ")
    token = err.split()[1]
    code, out, err = run(
        [*args, "--next-cursor"], capsys, f"ordering=-data__n&page_size=2&after={token}", monkeypatch
    )
    assert code == 0 and out == "a\n" and err == ""  # the last page is not full: no token


def test_invalid_input_exit_1_nothing_on_stdout(capsys):
    code, out, err = run(
        [
            "run",
            *BASE,
            "--engine",
            "memory",
            "--data",
            str(CORPUS / "records.json"),
            "--expr",
            '{"limit": 1000}',
        ],
        capsys,
    )
    assert (code, out) == (1, "")
    assert "limit-too-large" in err and "/limit" in err


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["run"],
        ["run", "--data", "x"],
        ["bogus"],
        ["run", "--data", "/nonexistent", "--expr", "{}"],
        ["run", "--data", "/dev/null", "--engine", "nope", "--expr", "{}"],
    ],
)
def test_usage_errors_exit_2(args, capsys):
    assert run(args, capsys)[0] == 2


def test_validate_files_text_and_json(tmp_path, capsys):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text('{"limit": 5}')
    bad.write_text('{"fields": {"59giDo5wnnLqurNpF": {"filters": [{"by": "contains", "value": "5"}]}}}')
    assert run(["validate", *BASE, str(good)], capsys)[0] == 0
    code, out, _ = run(["validate", *BASE, "--output", "json", str(good), str(bad)], capsys)
    assert code == 1
    report = json.loads(out)["files"]
    assert [r["valid"] for r in report] == [True, False]
    assert report[1]["diagnostics"][0]["code"] == "operator-not-allowed"
    assert report[1]["diagnostics"][0]["location"]["pointer"] == "/fields/59giDo5wnnLqurNpF/filters/0/by"


def test_explain_and_convert_ast(capsys):
    expr = '{"fields": {"Popw6SRW8pL2RqECF": {"filters": [{"by": "is-not", "value": "paid"}]}}}'
    code, out, _ = run(["explain", *BASE, "--expr", expr], capsys)
    assert code == 0 and "NOT" in out and 'Status is "paid"' in out
    code, out, _ = run(["convert", *BASE, "--to", "ast", "--expr", expr], capsys)
    assert code == 0 and json.loads(out)["filterdsl_ast"] == 1


def test_bad_schema_is_exit_1(tmp_path, capsys):
    s = tmp_path / "s.json"
    s.write_text('[{"_id": "d", "fields": [{"_id": "f", "type": "strng"}]}]')
    code, _, err = run(["validate", "--schema", str(s), str(s)], capsys)
    assert code == 1 and "unknown-type" in err and "did you mean 'string'" in err


def test_bad_records_exit_1(tmp_path, capsys):
    d = tmp_path / "d.json"
    d.write_text('[{"id": "x", "data": {}}]')
    code, out, err = run(["run", "--engine", "memory", "--data", str(d), "--expr", "{}"], capsys)
    assert (code, out) == (1, "") and "bad-record" in err


def test_default_engine_is_sqlite_and_agrees_with_memory(capsys, monkeypatch):
    from filterdsl.cli import engines
    from filterdsl.cli import run as run_cmd

    assert engines.DEFAULT_ENGINE == "sqlite"
    calls = []
    real = engines.engine_ids
    monkeypatch.setattr(
        run_cmd,
        "engine_ids",
        lambda q, d, engine, url, cat: calls.append(engine) or real(q, d, engine, url, cat),
    )
    args = [*BASE, "--data", str(CORPUS / "records.json"), "--ids", "--expr", '{"search": "deal|money"}']
    code, out_default, _ = run(["run", *args], capsys)
    code2, out_memory, _ = run(["run", "--engine", "memory", *args], capsys)
    assert (code, code2) == (0, 0) and calls == ["sqlite", "memory"]
    assert out_default == out_memory and len(out_default.split()) == 6
