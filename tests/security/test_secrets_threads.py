"""secretKey never leaks; compiled objects are shareable across threads; outputs are deterministic."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from filterdsl import FilterError, apply, load_catalog, parse, to_predicate
from filterdsl.api import parse_result
from filterdsl.ast import to_json
from filterdsl.cli import main
from filterdsl.emitters.explain import explain

from conftest import CASES, CORPUS

ORDERS = "ixuPJwBRqtRP3GpoM"
CAT = load_catalog(CORPUS / "catalog.json")
RECORDS = json.loads((CORPUS / "records.json").read_text())
SECRET = "sk_live_TOPSECRET_0123"
ROOT = Path(__file__).resolve().parents[2]


def variables(**extra: object) -> dict:
    return {
        "secretKey": SECRET,
        "databaseId": ORDERS,
        "limit": 5,
        "filter": {"fields": {"Nb6uqwKdxh3BFX3De": {"filters": [{"by": "contains", "value": "order"}]}}},
        **extra,
    }


def test_secret_key_absent_from_ast_repr_json_explain(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    q = parse(variables(), catalog=CAT, database=ORDERS)
    for text in (repr(q), str(q), json.dumps(to_json(q)), explain(q), caplog.text):
        assert SECRET not in text and "secretKey" not in text


@pytest.mark.parametrize("bad", [{"limit": "x"}, {"nope": 1}, {"filter": 5}, {"in": "x"}, {"sort": {"x": 2}}])
def test_secret_key_absent_from_errors(bad: dict) -> None:
    with pytest.raises(FilterError) as e:
        parse(variables(**bad), catalog=CAT, database=ORDERS)
    blob = str(e.value) + repr(e.value.diagnostics) + json.dumps([d.to_json() for d in e.value.diagnostics])
    assert SECRET not in blob


def test_secret_key_as_text_input_with_syntax_error() -> None:
    res = parse_result('{"secretKey": "' + SECRET + '", "limit": }', catalog=CAT, database=ORDERS)
    assert res.errors and SECRET not in repr(res.diagnostics)


@pytest.mark.parametrize(
    "command",
    [
        ["explain"],
        ["convert", "--to", "ast"],
        ["validate", "--output", "json"],
        ["run", "--data", str(CORPUS / "records.json")],
    ],
)
def test_secret_key_absent_from_cli_output(command: list[str], tmp_path: Path, capsys) -> None:
    f = tmp_path / "v.json"
    f.write_text(json.dumps(variables()))
    for payload in (variables(), variables(limit=1000)):
        f.write_text(json.dumps(payload))
        with pytest.raises(SystemExit):
            main(
                [
                    command[0],
                    "--schema",
                    str(CORPUS / "catalog.json"),
                    "--database",
                    ORDERS,
                    *command[1:],
                    str(f),
                ]
            )
        out, err = capsys.readouterr()
        assert SECRET not in out + err and (out + err)


def _cases() -> list[dict]:
    return [c for c in CASES if c["format"] == "pitchly" and isinstance(c["expect"], list)]


def test_threads_share_compiled_predicates_and_compile_concurrently() -> None:
    cases = _cases()
    single = {
        c["name"]: [
            r["id"]
            for r in apply(parse(c["input"], catalog=CAT, database=c["database"]), RECORDS, catalog=CAT)
        ]
        for c in cases
    }
    shared = {
        c["name"]: to_predicate(
            parse(c["input"], catalog=CAT, database=c["database"]), catalog=CAT, related=RECORDS
        )
        for c in cases
    }
    rows = RECORDS[ORDERS]
    expected_shared = {name: [bool(p(r)) for r in rows] for name, p in shared.items()}

    def work(i: int) -> tuple[dict, dict]:
        got, preds = {}, {}
        for c in cases[i % len(cases) :] + cases[: i % len(cases)]:  # different orders per thread
            q = parse(c["input"], catalog=CAT, database=c["database"])
            got[c["name"]] = [r["id"] for r in apply(q, RECORDS, catalog=CAT)]
            preds[c["name"]] = [bool(shared[c["name"]](r)) for r in rows]
        return got, preds

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(32)))
    for got, preds in results:
        assert got == single
        assert preds == expected_shared


DETERMINISM_SCRIPT = r"""
import json, sys
from filterdsl import load_catalog, parse
from filterdsl.ast import to_json
from filterdsl.emitters.explain import explain
cases = json.loads(sys.stdin.read())
cat = load_catalog(sys.argv[1])
out = []
for c in cases:
    q = parse(c["input"], c["format"], catalog=cat, database=c["database"])
    item = {"ast": json.dumps(to_json(q)), "explain": explain(q)}
    for name, fn in (("sql", "to_sql"), ("mongo", "to_mongo"), ("text", "to_format")):
        try:
            import filterdsl
            f = getattr(filterdsl, fn)
            item[name] = repr(f(q, "text", catalog=cat) if name == "text" else f(q, catalog=cat))
        except ImportError as e:
            item[name] = "n/a"
        except Exception as e:
            item[name] = type(e).__name__ + ": " + str(e)
    out.append(item)
print(json.dumps(out, sort_keys=True))
"""


def test_outputs_are_byte_identical_across_processes() -> None:
    cases = [c for c in CASES if isinstance(c["expect"], list) and c["format"] in ("pitchly", "search")]
    outs = []
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        proc = subprocess.run(
            [sys.executable, "-c", DETERMINISM_SCRIPT, str(CORPUS / "catalog.json")],
            input=json.dumps(cases),
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        outs.append(proc.stdout)
    assert outs[0] == outs[1] == outs[2]
    assert len(json.loads(outs[0])) == len(cases)
