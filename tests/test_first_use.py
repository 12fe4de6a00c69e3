"""Issue 19, "first use without friction": one test (or more) per point a newcomer hit.

Points 1 and 8 (install instructions, docs that match the output) are also held by
tests/test_docs_examples.py, which runs every example of README.md and docs/*.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from filterdsl.api import parse_result
from filterdsl.cli import common as cli_common
from filterdsl.cli import entry as cli

from conftest import CASES, CORPUS


# ---------------------------------------------------------------- 9. --django-compat never drops data__
@pytest.mark.parametrize(
    "qs",
    [
        "data__age__gt=4",
        "data__first_name__startswith=d",
        "data__address____city=Paris",
        "data__a__range=1,2",
        "data__isnull=true",
        "data__=x",
    ],
)
def test_django_compat_never_drops_a_data_param(qs: str) -> None:
    """Django applies these or fails; ignoring one would return a silent superset (SPEC 4 and 8)."""
    for compat in (False, True):
        res = parse_result(qs, "pixiebrix", django_compat=compat)
        assert res.query is None, (qs, compat)
        assert res.errors and all(d.location.param == qs.split("=")[0] for d in res.errors)
        assert not any("ignored" in d.message and "never ignored" not in d.message for d in res.diagnostics)


def test_django_compat_still_relaxes_other_params_and_range_is_a_lookup() -> None:
    res = parse_result("foo=1&data__a=1&data__a=2", "pixiebrix", django_compat=True)
    assert res.query is not None and sorted(d.code for d in res.warnings) == [
        "repeated-param",
        "unknown-param",
    ]
    # `range` names a Django lookup, so it is never taken for a key; `__exact` reaches a key named range
    res = parse_result("data__a__range=1", "pixiebrix", lookups="extended")
    assert [d.code for d in res.errors] == ["unsupported-lookup"]
    assert parse_result("data__range__exact=1", "pixiebrix").query is not None


# ---------------------------------------------------------------- 5. refusals say what to do
def test_pitchly_refusal_without_trash_condition_suggests_the_fix() -> None:
    from filterdsl import FilterError, parse, to_format

    q = parse('`Status`:enum is "paid"', format="text")
    with pytest.raises(FilterError) as e:
        to_format(q, "pitchly")
    (d,) = e.value.diagnostics
    assert d.code == "not-expressible" and "and not in trash" in d.message
    with pytest.raises(FilterError) as e:
        to_format(parse('`Status`:enum is "paid" and not in trash', format="text"), "pitchly")
    assert "add `limit 100`" in e.value.diagnostics[0].message
    fixed = parse('`Status`:enum is "paid" and not in trash limit 100', format="text")
    assert "removedAt" not in to_format(fixed, "pitchly")
    for fmt, text in (("pixiebrix", '`k`:json is "x"'), ("search", 'search(["x"])')):
        with pytest.raises(FilterError) as e:
            to_format(parse(text, format="text"), fmt)
        assert "and not in trash" in e.value.diagnostics[0].message


# ---------------------------------------------------------------- 3. syntax errors in the text form
def test_text_syntax_error_is_one_line_lists_every_expected_token_in_words() -> None:
    res = parse_result('a is "x" and b', "text")
    (d,) = res.errors
    assert "\n" not in d.message and "^" not in d.message
    assert d.message == (
        "unexpected end of text; expected one of: contains, ends, equals, has, in, is, "
        "references, starts, <, <=, >, >="
    )
    assert not any(name in d.message for name in ("CMP", "DIR", "CONTAINS", "$END"))
    # nothing cut: after `sort` every sort key spelling is offered
    res = parse_result('a is "x" sort', "text")
    assert res.errors[0].message.endswith("expected one of: a name, @created_at, @id, @updated_at, `key`")


@pytest.mark.parametrize("text", ['a is "x" and b', 'a is "x" and b\n', 'a is "x" and b\n\n  \n'])
def test_end_of_text_error_points_after_the_last_character(text: str) -> None:
    """A file ending in a newline reports 1:15, not 2:1 with an empty snippet."""
    (d,) = parse_result(text, "text").errors
    assert (d.location.line, d.location.column, d.location.offset) == (1, 15, 14)


def test_text_names_inside_a_relation_resolve_in_the_referenced_database() -> None:
    from filterdsl import load_catalog

    cat = load_catalog(CORPUS / "catalog.json")
    kw = {"catalog": cat, "database": "ixuPJwBRqtRP3GpoM", "resolve_names": True}
    res = parse_result('Client references "uJL9XrebupC7eWvM3" where (Name contains "x")', "text", **kw)
    assert res.query is not None, res.diagnostics
    rel = res.query.predicate
    assert (rel.field.key, rel.predicate.field.key, rel.predicate.field.type.value) == (
        "RyM8SyrYrceRsrLJd",
        "xEfek48BRpD3kAksh",
        "string",
    )
    (d,) = parse_result(
        'Status is "paid" and Client references "uJL9XrebupC7eWvM3" where (Nme is "x")', "text", **kw
    ).errors
    assert (
        d.code == "unknown-field"
        and "'Clients'" in d.message
        and (d.location.line, d.location.column) == (1, 67)
    )


# ---------------------------------------------------------------- the CLI
ORDERS = "ixuPJwBRqtRP3GpoM"
SCHEMA = ["--schema", str(CORPUS / "catalog.json")]
ROOT = Path(__file__).parent.parent


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as ex:
        cli.main(args)
    out, err = capsys.readouterr()
    return int(ex.value.code or 0), out, err


# ---------------------------------------------------------------- 2. paths in validate
NEEDS_DB = {"fields": {"Nb6uqwKdxh3BFX3De": {"filters": [{"by": "contains", "value": 5}]}}}


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "filters" / "orders").mkdir(parents=True)
    (tmp_path / "filters" / "orders" / "a.json").write_text(json.dumps(NEEDS_DB))
    (tmp_path / "filters" / "orders" / "my filter#1.json").write_text(json.dumps(NEEDS_DB))
    (tmp_path / "dbs.json").write_text(json.dumps({"filters/orders/*.json": ORDERS}))
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "spelling",
    [
        "filters/orders/a.json",
        "./filters/orders/a.json",
        "ABS",
        "./filters",
        "filters/../filters/orders/a.json",
    ],
)
def test_database_map_matches_however_the_path_is_spelled(repo: Path, spelling: str, capsys) -> None:
    path = str(repo / "filters" / "orders" / "a.json") if spelling == "ABS" else spelling
    code, out, _ = run(["validate", *SCHEMA, "--database-map", "dbs.json", "--output", "json", path], capsys)
    files = json.loads(out)["files"]
    assert code == 1 and files
    for f in files:
        assert not f["file"].startswith(("./", "/")), f["file"]
        (d,) = f["diagnostics"]
        assert d["code"] == "wrong-type", d  # checked against the schema: never missing-schema


def test_sarif_uris_are_relative_and_percent_encoded(repo: Path, capsys) -> None:
    code, out, _ = run(
        ["validate", *SCHEMA, "--database-map", "dbs.json", "--output", "sarif", str(repo / "filters")],
        capsys,
    )
    (run_,) = json.loads(out)["runs"]
    uris = sorted(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in run_["results"])
    assert uris == ["filters/orders/a.json", "filters/orders/my%20filter%231.json"]
    bases = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] for r in run_["results"]}
    assert bases == {"%SRCROOT%"}
    root = run_["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert root.startswith("file:///") and root.endswith("/") and " " not in root


def test_sarif_uri_outside_the_current_directory_is_a_file_uri(
    tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = tmp_path / "odd dir" / "x#1.search"
    f.parent.mkdir()
    f.write_text("a||b")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    code, out, _ = run(["validate", "--output", "sarif", str(f)], capsys)
    loc = json.loads(out)["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "file://" + str(tmp_path).replace(" ", "%20") + "/odd%20dir/x%231.search"}


# ---------------------------------------------------------------- 3. syntax errors through every report
def test_text_syntax_error_in_every_output(tmp_path: Path, capsys) -> None:
    f = tmp_path / "t.fdsl"
    f.write_text('a is "x" and b\n')
    code, out, _ = run(["validate", str(f)], capsys)
    lines = out.splitlines()
    assert code == 1 and lines[0].startswith(
        f"{f}:1:15: error syntax-error: unexpected end of text; expected"
    )
    assert lines[1:3] == ['    a is "x" and b', "    " + " " * 14 + "^"]
    code, out, _ = run(["validate", "--output", "json", str(f)], capsys)
    (d,) = json.loads(out)["files"][0]["diagnostics"]
    assert (d["line"], d["column"]) == (1, 15) and "\n" not in d["message"]
    code, out, _ = run(["validate", "--output", "github", str(f)], capsys)
    assert "%0A" not in out.splitlines()[0] and ",line=1,col=15," in out
    code, out, _ = run(["validate", "--output", "sarif", str(f)], capsys)
    assert "\n" not in json.loads(out)["runs"][0]["results"][0]["message"]["text"]


def test_expr_errors_show_the_line_and_a_caret(capsys) -> None:
    code, out, err = run(["explain", "--from", "text", "--expr", 'a is "x" and b'], capsys)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "<expr>: 1:15: error syntax-error: unexpected end of text; expected one of: contains, "
        "ends, equals, has, in, is, references, starts, <, <=, >, >=",
        '    a is "x" and b',
        "    " + " " * 14 + "^",
    ]


# ---------------------------------------------------------------- 4. serve has the flags its messages name
def test_serve_takes_the_parse_flags_the_messages_recommend() -> None:
    from filterdsl.api import parse_result

    (d,) = parse_result("data__a__icontains=x", "pixiebrix").errors
    assert "--lookups extended" in d.message
    args = cli.build_parser().parse_args(
        [
            "serve",
            "--lookups",
            "extended",
            "--django-compat",
            "--lenient",
            "--max-limit",
            "50",
            "--resolve-names",
        ]
    )
    assert cli_common._options(args) == {
        "strict": False,
        "resolve_names": True,
        "django_compat": True,
        "lookups": "extended",
        "max_limit": 50,
    }


def test_server_applies_the_options() -> None:
    pytest.importorskip("starlette")
    pytest.importorskip("httpx")
    from starlette.testclient import TestClient

    from filterdsl.server import create_app

    recs = [
        {"id": "a", "created_at": "2022-01-01", "data": {"name": "David"}},
        {"id": "b", "created_at": "2022-01-02", "data": {"name": "alice"}},
    ]
    for options, status in (({}, 400), ({"lookups": "extended"}, 200)):
        with TestClient(create_app(options=options)) as c:
            assert (
                c.post("/api/records/import", json={"databaseId": "pb", "records": recs}).status_code == 200
            )
            r = c.get("/api/databases/pb/records/?data__name__icontains=DAV")
            assert r.status_code == status, r.text
            if status == 200:
                assert [x["id"] for x in r.json()] == ["a"]


# ---------------------------------------------------------------- 6. exit codes
RUN = ["run", *SCHEMA, "--database", ORDERS, "--data", str(CORPUS / "records.json")]


def test_exit_2_for_an_unreadable_schema_and_columns_without_mapping(tmp_path: Path, capsys) -> None:
    code, out, err = run(
        ["run", "--schema", str(tmp_path / "nope.json"), "--data", "x", "--expr", "{}"], capsys
    )
    assert (code, out) == (2, "") and "cannot read" in err
    code, _, err = run(["convert", "--to", "sql", "--layout", "columns", "--expr", "{}"], capsys)
    assert code == 2 and "--mapping" in err
    code, _, err = run(
        [
            "convert",
            "--to",
            "sql",
            "--layout",
            "columns",
            "--mapping",
            str(tmp_path / "m.json"),
            "--expr",
            "{}",
        ],
        capsys,
    )
    assert code == 2 and "cannot read" in err
    code, _, err = run(["convert", "--to", "sql", "--dialect", "postgress", "--expr", "{}"], capsys)
    assert code == 2 and "unknown-dialect" in err


def test_exit_4_for_a_valid_query_the_target_cannot_express(capsys) -> None:
    code, out, err = run(
        ["convert", "--from", "text", "--to", "pixiebrix", "--expr", '`a`:json is "x" or `b`:json is "y"'],
        capsys,
    )
    assert (code, out) == (4, "") and "not-expressible" in err
    assert err.splitlines()[-1] == (
        "filterdsl: hint: the query is valid, but --to pixiebrix cannot express it; "
        "--to text and --to ast express every query"
    )
    # invalid input is still 1
    assert run(["convert", "--from", "text", "--to", "pixiebrix", "--expr", "a is"], capsys)[0] == 1


def test_exit_70_for_internal_errors_3_for_engines(capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(args: object) -> int:
        raise ZeroDivisionError("a bug")

    monkeypatch.setitem(cli.COMMANDS, "explain", boom)
    code, out, err = run(["explain", "--expr", "{}"], capsys)
    assert (code, out) == (70, "") and err.startswith("filterdsl: internal error (please report it)")
    code, out, err = run(
        [*RUN, "--engine", "postgres", "--url", "postgresql://127.0.0.1:9/nope", "--expr", "{}"], capsys
    )
    assert (code, out) == (3, "") and "engine postgres" in err


def test_a_closed_stdout_ends_quietly(tmp_path: Path) -> None:
    data = tmp_path / "big.json"
    data.write_text(
        json.dumps(
            [{"id": f"r{i}", "created_at": "2022-01-01", "data": {"k": "x" * 60}} for i in range(20_000)]
        )
    )
    cmd = [
        sys.executable,
        "-m",
        "filterdsl.cli",
        "run",
        "--engine",
        "memory",
        "--from",
        "pixiebrix",
        "--data",
        str(data),
        "--expr",
        "data__k=" + "x" * 60,
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # what `| head -1` does
    err = proc.stderr.read()
    assert proc.wait(timeout=120) == 141
    assert json.loads(first)["id"] == "r0" and err == b""


# ---------------------------------------------------------------- 7. help, version, conflicts
def _subparsers() -> dict[str, object]:
    import argparse

    ap = cli.build_parser()
    (sub,) = [a for a in ap._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(sub.choices)


@pytest.mark.parametrize(
    "command", ["run", "validate", "explain", "convert", "serve", "playground", "schema"]
)
def test_help_shows_every_options_meaning_and_default(command: str, capsys) -> None:
    parser = _subparsers()[command]
    for action in parser._actions:  # type: ignore[attr-defined]
        assert action.help, (command, action.option_strings)
    code, out, _ = run([command, "--help"], capsys)
    assert (
        code == 0
        and "exit codes:" in out
        and "70   internal error" in out
        and "4    the query is valid" in out
    )
    text = " ".join(out.split())
    for action in parser._actions:  # type: ignore[attr-defined]
        if (
            action.option_strings
            and action.default not in (None, False, "==SUPPRESS==")
            and action.dest != "help"
        ):
            assert f"(default: {action.default})" in text or "default" in (action.help or ""), action.dest


def test_top_level_help_and_version(capsys) -> None:
    from filterdsl import __version__

    code, out, _ = run(["--help"], capsys)
    assert code == 0 and "exit codes:" in out and "2    usage error" in out
    code, out, _ = run(["--version"], capsys)
    assert (code, out) == (0, f"filterdsl {__version__}\n")


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "--lenient", "--strict", "x.json"],
        ["validate", "--quiet", "--output", "json", "x.json"],
        ["convert", "--to", "text", "--dialect", "postgres", "--expr", "{}"],
        ["convert", "--to", "mongo", "--inline", "--expr", "{}"],
        ["convert", "--to", "search", "--keys", "names", *SCHEMA, "--expr", "{}"],
        ["convert", "--to", "text", "--keys", "names", "--expr", "{}"],
        ["run", "--engine", "memory", "--url", "postgresql://x", "--data", "x", "--expr", "{}"],
        ["explain", "--expr", "{}", "some-file.json"],
    ],
)
def test_conflicting_flags_are_refused(args: list[str], capsys) -> None:
    code, out, err = run(args, capsys)
    assert (code, out) == (2, "") and "error" in err


# ---------------------------------------------------------------- 8. readable forms use field names
def test_convert_to_text_with_names_reads_like_the_schema(tmp_path: Path, capsys) -> None:
    f = tmp_path / "f.json"
    f.write_text(
        json.dumps(
            {
                "filter": {
                    "fields": {
                        "pWDDLj5sxf5qYwtwv": {"filters": [{"by": "contains", "value": "rush"}]},
                        "59giDo5wnnLqurNpF": {"filters": [{"by": "is-more-than", "value": 5}]},
                    }
                },
                "sort": {"Popw6SRW8pL2RqECF": 1},
                "limit": 5,
            }
        )
    )
    code, out, _ = run(
        ["convert", *SCHEMA, "--database", ORDERS, "--to", "text", "--keys", "names", str(f)], capsys
    )
    assert code == 0
    assert out == (
        'Notes contains "rush" and `Order Amount` > 5 and not in trash sort Status asc limit 5 '
        f'database "{ORDERS}"\n'
    )
    back = tmp_path / "back.fdsl"
    back.write_text(out)
    _, ast_names, _ = run(["convert", *SCHEMA, "--resolve-names", "--to", "ast", str(back)], capsys)
    _, ast_ids, _ = run(["convert", *SCHEMA, "--database", ORDERS, "--to", "ast", str(f)], capsys)
    assert json.loads(ast_names) == json.loads(ast_ids)
    code, out, _ = run(["explain", *SCHEMA, "--database", ORDERS, str(f)], capsys)
    assert 'Notes contains "rush"' in out and "`Order Amount` > 5" in out and "Status asc" in out
    assert "pWDDLj5sxf5qYwtwv" not in out


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if c["format"] != "pixiebrix" and isinstance(c["expect"], list)],
    ids=lambda c: c["name"],
)
def test_text_with_names_round_trips_the_corpus(case: dict) -> None:
    from filterdsl import load_catalog, parse
    from filterdsl.ast import Query
    from filterdsl.emitters.text import to_text

    cat = load_catalog(CORPUS / "catalog.json")
    q = parse(case["input"], case["format"], catalog=cat, database=case["database"])
    q = Query(q.predicate, q.sort, q.skip, q.limit, q.fields, q.database or case["database"])
    text = to_text(q, cat, "names")
    assert parse(text, "text", catalog=cat, resolve_names=True) == q, text


def test_text_with_names_round_trips_generated_queries() -> None:
    """Generated catalogs name fields F0, F1, ... and give them ids like ``name``/``Name``: a name that
    would lead to another field keeps the canonical spelling, so the text still parses back exactly."""
    from hypothesis import HealthCheck, given, settings

    from filterdsl import parse
    from filterdsl.ast import Query
    from filterdsl.emitters.text import to_text

    from strategies import scenarios

    @settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(scenarios())
    def check(sc) -> None:  # type: ignore[no-untyped-def]
        q = (
            sc.query
            if sc.query.database
            else Query(
                sc.query.predicate, sc.query.sort, sc.query.skip, sc.query.limit, sc.query.fields, sc.database
            )
        )
        text = to_text(q, sc.catalog, "names")
        assert parse(text, "text", catalog=sc.catalog, resolve_names=True) == q, text

    check()


def test_untyped_text_key_with_a_schema_but_no_database_is_an_error() -> None:
    """With a catalog, an untyped key must be looked up; without a database it is not silently json."""
    from filterdsl import load_catalog

    cat = load_catalog(CORPUS / "catalog.json")
    (d,) = parse_result('Notes contains "rush"', "text", catalog=cat, resolve_names=True).errors
    assert (
        d.code == "missing-schema"
        and "--database" in d.message
        and (d.location.line, d.location.column) == (1, 1)
    )
    res = parse_result(
        'Notes contains "rush" database "ixuPJwBRqtRP3GpoM"', "text", catalog=cat, resolve_names=True
    )
    assert res.query is not None and res.query.predicate.field.key == "pWDDLj5sxf5qYwtwv"
    assert parse_result('Notes contains "rush"', "text").query is not None  # no schema: schemaless json


# ---------------------------------------------------------------- 10. the masked secretKey hides its length
@pytest.mark.parametrize("command", ["validate", "run"])
def test_masked_secret_key_does_not_show_its_length(command: str, tmp_path: Path, capsys) -> None:
    outputs = []
    for secret in ("ZQZ", "ZQZ" * 14):
        f = tmp_path / "v.json"
        f.write_text('{"secretKey": "' + secret + '", "limit": 1000}')
        args = (
            ["validate", str(f)]
            if command == "validate"
            else ["run", "--engine", "memory", "--data", str(CORPUS / "records.json"), str(f)]
        )
        code, out, err = run(args, capsys)
        shown = out + err
        assert code == 1 and '"secretKey": "' in shown and "ZQZ" not in shown
        lines = shown.splitlines()
        at = next(i for i, line in enumerate(lines) if "limit-too-large" in line)
        snippet, caret = lines[at + 1], lines[at + 2]
        assert snippet[caret.index("^") :].startswith('"limit"'), (
            snippet,
            caret,
        )  # the caret stays on its token
        outputs.append(snippet)
    # one mask, whatever the length (the header's column still counts the real characters: noted in
    # /work/notes/issue-19.md for the owner of the masking)
    assert outputs[0] == outputs[1]
