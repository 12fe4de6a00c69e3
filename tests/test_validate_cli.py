"""`filterdsl validate` over repositories: discovery, formats by extension, located reports, exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from filterdsl import parse
from filterdsl.cli import main

from conftest import CORPUS

ORDERS = "ixuPJwBRqtRP3GpoM"
SCHEMA = ["--schema", str(CORPUS / "catalog.json")]
EXAMPLES = Path(__file__).parent.parent / "examples"
TYPO = '{\n  "limit": 5,\n  "conjuntion": "or"\n}\n'


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ex:
        main(args)
    out, err = capsys.readouterr()
    return int(ex.value.code or 0), out, err


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / "filters" / "deep").mkdir(parents=True)
    (tmp_path / "filters" / "node_modules").mkdir()
    (tmp_path / "filters" / "ok.json").write_text('{"limit": 5}')
    (tmp_path / "filters" / "typo.json").write_text(TYPO)
    (tmp_path / "filters" / "deep" / "s.search").write_text("deal|money, acme\n")
    (tmp_path / "filters" / "deep" / "empty.search").write_text("a||b\n")
    (tmp_path / "filters" / "notes.txt").write_text("not a filter")
    (tmp_path / "filters" / "node_modules" / "x.json").write_text("{broken")
    return tmp_path


def test_docs_object_literals_validate_as_they_are(capsys: pytest.CaptureFixture[str]) -> None:
    files = sorted(str(p) for p in (EXAMPLES / "docs").glob("*.json"))
    assert len(files) == 2
    code, out, _ = run(["validate", *SCHEMA, "--database", ORDERS, *files], capsys)
    assert code == 0, out
    # and they mean what their strict-JSON twin means
    strict = parse(
        (EXAMPLES / "michael-or-john.json").read_text(), catalog=CORPUS / "catalog.json", database=ORDERS
    )
    relaxed = parse(
        (EXAMPLES / "docs" / "client-name.json").read_text(), catalog=CORPUS / "catalog.json", database=ORDERS
    )
    assert strict.predicate == relaxed.predicate


def test_directory_recursion_skips_unknown_extensions_and_vendor_dirs(repo: Path, capsys) -> None:
    code, out, _ = run(
        ["validate", *SCHEMA, "--database", ORDERS, "--output", "json", str(repo / "filters")], capsys
    )
    report = json.loads(out)
    names = [Path(f["file"]).name for f in report["files"]]
    assert names == ["empty.search", "s.search", "ok.json", "typo.json"]
    assert code == 1 and report["summary"] == {"files": 4, "failed": 1, "errors": 1, "warnings": 1}


def test_text_report_has_file_line_col_and_caret(repo: Path, capsys) -> None:
    code, out, _ = run(
        ["validate", *SCHEMA, "--database", ORDERS, str(repo / "filters" / "typo.json")], capsys
    )
    lines = out.splitlines()
    assert code == 1
    assert lines[0].startswith(
        f"{repo / 'filters' / 'typo.json'}:3:3: error unknown-key: unknown key 'conjuntion'"
    )
    assert lines[1] == '      "conjuntion": "or"'
    assert lines[2] == "      ^"
    assert lines[-1] == "1 file(s) checked: 1 failed, 1 error(s), 0 warning(s)"


def test_glob_and_strict_and_quiet(repo: Path, capsys) -> None:
    pattern = str(repo / "filters" / "**" / "*.search")
    code, out, _ = run(["validate", pattern], capsys)
    assert code == 0 and "warning empty-term" in out and "2 file(s) checked" in out
    code, out, _ = run(["validate", "--strict", pattern], capsys)
    assert code == 1 and "--strict" in out
    code, out, _ = run(["validate", "--quiet", pattern], capsys)
    assert (code, out) == (0, "")


def test_database_from_variables_and_from_a_mapping_file(tmp_path: Path, capsys) -> None:
    bad_filter = {"fields": {"Nb6uqwKdxh3BFX3De": {"filters": [{"by": "contains", "value": 5}]}}}
    (tmp_path / "orders").mkdir()
    (tmp_path / "orders" / "f.json").write_text(json.dumps(bad_filter))
    (tmp_path / "v.json").write_text(json.dumps({"databaseId": ORDERS, "filter": bad_filter}))
    # databaseId inside a variables object picks the database
    code, out, _ = run(["validate", *SCHEMA, "--output", "json", str(tmp_path / "v.json")], capsys)
    assert code == 1 and json.loads(out)["files"][0]["diagnostics"][0]["code"] != "missing-schema"
    # without a database a field filter cannot be checked
    code, out, _ = run(["validate", *SCHEMA, "--output", "json", str(tmp_path / "orders" / "f.json")], capsys)
    assert json.loads(out)["files"][0]["diagnostics"][0]["code"] == "missing-schema"
    mapping = tmp_path / "dbs.json"
    mapping.write_text(json.dumps({"*/orders/*.json": ORDERS}))
    code, out, _ = run(
        [
            "validate",
            *SCHEMA,
            "--database-map",
            str(mapping),
            "--output",
            "json",
            str(tmp_path / "orders" / "f.json"),
        ],
        capsys,
    )
    diag = json.loads(out)["files"][0]["diagnostics"][0]
    column = json.dumps(bad_filter).index('"value"') + 1
    assert code == 1 and diag["code"] == "wrong-type" and (diag["line"], diag["column"]) == (1, column)


def test_github_annotations_escape_properties_and_messages(tmp_path: Path, capsys) -> None:
    f = tmp_path / "a,b:c.search"
    f.write_text('x "abc')
    code, out, _ = run(["validate", "--quoted", str(f)], capsys)
    code, out, _ = run(["validate", "--quoted", "--output", "github", str(f)], capsys)
    first = out.splitlines()[0]
    assert code == 1 and first.startswith("::error file=")
    assert "a%2Cb%3Ac.search,line=1,col=3,title=filterdsl syntax-error::" in first


def test_sarif_2_1_0_structure(repo: Path, capsys) -> None:
    code, out, _ = run(
        ["validate", *SCHEMA, "--database", ORDERS, "--output", "sarif", str(repo / "filters")], capsys
    )
    log = json.loads(out)
    assert code == 1 and log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (run_,) = log["runs"]
    rules = run_["tool"]["driver"]["rules"]
    assert run_["tool"]["driver"]["name"] == "filterdsl"
    assert [r["id"] for r in rules] == sorted({"unknown-key", "empty-term"})
    assert len(run_["results"]) == 2
    for res in run_["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        assert res["level"] in ("error", "warning") and res["message"]["text"]
        phys = res["locations"][0]["physicalLocation"]
        assert phys["artifactLocation"]["uri"].endswith((".json", ".search"))
        assert phys["region"]["startLine"] >= 1 and phys["region"]["startColumn"] >= 1


def test_secret_key_never_shown_in_snippets(tmp_path: Path, capsys) -> None:
    f = tmp_path / "v.json"
    f.write_text('{"secretKey": "TOPSECRET", "limit": 1000}')
    for fmt in ("text", "json", "github", "sarif"):
        code, out, err = run(["validate", "--output", fmt, str(f)], capsys)
        assert code == 1 and "limit-too-large" in out
        assert "TOPSECRET" not in out + err


def test_usage_errors(tmp_path: Path, capsys) -> None:
    assert run(["validate", str(tmp_path / "missing.json")], capsys)[0] == 2
    assert run(["validate", str(tmp_path / "*.nothing")], capsys)[0] == 2
    bad_map = tmp_path / "m.json"
    bad_map.write_text("[1]")
    (tmp_path / "a.search").write_text("x")
    assert run(["validate", "--database-map", str(bad_map), str(tmp_path / "a.search")], capsys)[0] == 2


def test_unreadable_file_is_a_diagnostic_not_a_crash(tmp_path: Path, capsys) -> None:
    f = tmp_path / "latin1.search"
    f.write_bytes("caf\xe9".encode("latin-1"))
    code, out, _ = run(["validate", str(f)], capsys)
    assert code == 1 and "unreadable-file" in out


def test_many_files(tmp_path: Path, capsys) -> None:
    src = EXAMPLES / "paid-orders.json"
    for i in range(200):
        shutil.copy(src, tmp_path / f"f{i:03}.json")
    code, out, _ = run(["validate", *SCHEMA, "--database", ORDERS, str(tmp_path)], capsys)
    assert code == 0 and out.strip() == "200 file(s) checked: 0 failed, 0 error(s), 0 warning(s)"
