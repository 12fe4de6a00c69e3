"""``POST /api/compile``, the playground's configuration, its page and ``/openapi.json`` on the reference
server (Starlette's test client: no sockets). Outputs are compared with the library's own functions
and the records with the in-memory engine (the reference semantics), not with the endpoint itself."""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from filterdsl import apply, load_catalog, parse, to_format, to_mongo, to_sql
from filterdsl.compile_all import FORMAT_CHOICES, columns_layout, compile_all
from filterdsl.records import normalize_dataset
from filterdsl.server import create_app
from filterdsl.server.playground import CSP, asset

ROOT = Path(__file__).resolve().parent.parent
CAT = load_catalog(ROOT / "examples" / "catalog.json")
RECORDS = json.loads((ROOT / "examples" / "records.json").read_text(encoding="utf-8"))
ORDERS = "ixuPJwBRqtRP3GpoM"
STATUS = "Popw6SRW8pL2RqECF"


@pytest.fixture(scope="module")
def client() -> Any:
    app = create_app("sqlite:///:memory:", CAT)
    for db, docs in normalize_dataset(RECORDS, CAT).items():
        app.state.store.import_docs(str(db), docs)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def compile_(client: Any, text: str, **kw: Any) -> Any:
    return client.post("/api/compile", json={"input": text, "database": ORDERS, **kw})


def ids(rows: list[dict[str, Any]]) -> list[str]:
    return [r["id"] for r in rows]


PITCHLY = json.dumps({"fields": {STATUS: {"filters": [{"by": "is-any-of", "value": ["paid", "shipped"]}]}}})
INPUTS = [
    ("pitchly", PITCHLY),
    ("search", "deal|money, acme"),
    ("pixiebrix", f"data__{STATUS}=paid&ordering=-created_at"),
    ("text", f'`{STATUS}`:enum is "paid" or `59giDo5wnnLqurNpF`:number > 100'),
    ("ast", json.dumps(to_format(parse(PITCHLY, "pitchly", CAT, ORDERS), "ast"))),
]


@pytest.mark.parametrize("fmt,text", INPUTS, ids=[f for f, _ in INPUTS])
def test_each_format_is_detected_and_compiled_like_the_library(client: Any, fmt: str, text: str) -> None:
    r = compile_(client, text, sql={"dialect": "postgres", "layout": "json", "pretty": True})
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["format"], body["detected"]) == (fmt, True)
    q = parse(text.rstrip("\n"), fmt, CAT, ORDERS)  # type: ignore[arg-type]
    out = body["outputs"]
    sql, params = to_sql(q, "postgres", catalog=CAT, pretty=True)
    assert (out["sql"]["value"], out["sql"]["params"]) == (sql, json.loads(json.dumps(params)))
    assert out["sql"]["status"] == "executed" and "PostgreSQL" in out["sql"]["engine"]
    assert out["mongo"]["value"] == json.loads(json.dumps(to_mongo(q, CAT), default=str))
    for f in ("pitchly", "search", "pixiebrix", "text", "ast"):
        try:
            expected = to_format(q, f, catalog=CAT)  # type: ignore[call-overload]
        except Exception as e:
            assert out[f]["error"]["code"] == "not-expressible", (f, e)
        else:
            assert out[f]["value"] == expected
    assert out["explain"]["value"].startswith(f'QUERY database "{ORDERS}" (Orders)')
    assert "CREATE INDEX" in out["indexes"]["value"]
    rec = out["records"]
    expected_rows = apply(q, RECORDS, CAT)
    assert ids(rec["value"]) == ids(expected_rows)[:20]
    assert rec["count"] == len(expected_rows) and rec["engine"] == "sqlite" and rec["ms"] >= 0
    assert rec["total"] >= rec["count"]


def test_a_chosen_format_is_used_as_given(client: Any) -> None:
    r = compile_(client, "acme", format="text")
    assert r.status_code == 400 and r.json()["format"] == "text"
    assert r.json()["errors"][0]["code"] == "syntax-error"
    r = compile_(client, "acme", format="search")
    assert r.status_code == 200 and r.json()["detected"] is False


def _span(text: str, diag: dict[str, Any]) -> str:
    # spans are UTF-16 offsets: slice the UTF-16 encoding
    units = text.encode("utf-16-le")
    return units[2 * diag["span"]["start"] : 2 * diag["span"]["end"]].decode("utf-16-le")


SPANS = [
    # (input, format, code, the text the span must cover)
    (
        '{"fields": {"Popw6SRW8pL2RqECF": {"filters": [{"by": "contans", "value": "paid"}]}}}',
        "auto",
        "unknown-operator",
        '"by": "contans"',
    ),
    (
        '{\n  "fields": {\n    "59giDo5wnnLqurNpF": {"filters": [{"by": "is", "value": "12"}]}\n  }\n}',
        "auto",
        "wrong-type",
        '"value": "12"',
    ),
    (
        "{fields: {Popw6SRW8pL2RqECF: {filters: [{by: 'is', value: 'Paid'}]}}}",
        "pitchly",
        "value-not-allowed",
        "value: 'Paid'",
    ),
    ('`Popw6SRW8pL2RqECF`:enum is "paid" and `nope` is "x"', "text", "unknown-field", "`nope`"),
    ('😀 `Popw6SRW8pL2RqECF`:enum is "paid" and `nope` is "x"', "text", "syntax-error", "😀"),
    (
        f"data__{STATUS}=paid&data__Nb6uqwKdxh3BFX3De__icontains=x&page=1",
        "pixiebrix",
        "unsupported-lookup",
        "data__Nb6uqwKdxh3BFX3De__icontains=x",
    ),
    ("data__nope=1&page=1", "pixiebrix", "unknown-field", "data__nope=1"),
    ('"unterminated', "search", "syntax-error", '"unterminated'),
    ('{"filterdsl_ast": 1, "predicate": [1}', "ast", "invalid-json", "}"),
]


@pytest.mark.parametrize("text,fmt,code,covered", SPANS, ids=[s[2] + "-" + s[1] for s in SPANS])
def test_errors_are_400_with_the_span_they_point_at(
    client: Any, text: str, fmt: str, code: str, covered: str
) -> None:
    opts = {"quoted": True} if fmt == "search" else {}
    r = compile_(client, text, format=fmt, options=opts)
    assert r.status_code == 400, r.text
    body = r.json()
    diag = next(d for d in body["errors"] if d["code"] == code)
    assert _span(text, diag) == covered
    assert "outputs" not in body


def test_warnings_come_with_outputs_and_a_span(client: Any) -> None:
    r = compile_(client, "deal||money")
    assert r.status_code == 200
    (w,) = r.json()["diagnostics"]
    assert (w["severity"], w["code"], _span("deal||money", w)) == ("warning", "empty-term", "|")
    r = compile_(client, '{"search": "a||b"}', format="pitchly")
    (w,) = r.json()["diagnostics"]
    assert (
        _span('{"search": "a||b"}', w) == "|" and w["span"]["start"] == 14
    )  # the second |, as in the search string alone


def test_the_switches_change_the_parse(client: Any) -> None:
    text = "data__Nb6uqwKdxh3BFX3De__icontains=x&foo=1"
    assert compile_(client, text).status_code == 400
    r = compile_(client, text, options={"lookups": "extended", "django_compat": True})
    assert r.status_code == 200, r.text
    assert [d["code"] for d in r.json()["diagnostics"]] == ["unknown-param"]
    by_name = '{"fields": {"Status": {"filters": [{"by": "is", "value": "paid"}]}}}'
    assert compile_(client, by_name).status_code == 400
    assert compile_(client, by_name, options={"resolve_names": True}).status_code == 200
    unknown_key = '{"filter": {}, "limt": 5}'
    assert compile_(client, unknown_key).status_code == 400
    assert compile_(client, unknown_key, options={"strict": False}).status_code == 200
    quoted = '"a,b"'
    plain = compile_(client, quoted, format="search").json()["outputs"]["explain"]["value"]
    with_quotes = compile_(client, quoted, format="search", options={"quoted": True}).json()
    assert (
        with_quotes["outputs"]["explain"]["value"] != plain
        and '"a,b"' in with_quotes["outputs"]["explain"]["value"]
    )


def test_dialects_layouts_and_their_status(client: Any) -> None:
    q = parse(PITCHLY, "pitchly", CAT, ORDERS)
    trino = compile_(client, PITCHLY, sql={"dialect": "trino", "layout": "columns"}).json()["outputs"]["sql"]
    assert (
        trino["status"] == "parse-checked" and trino["engine"] is None and "never executed" in trino["note"]
    )
    assert trino["value"] == to_sql(q, "trino", columns_layout(CAT), pretty=True)[0]
    json_trino = compile_(client, PITCHLY, sql={"dialect": "trino"}).json()["outputs"]["sql"]
    assert json_trino["error"]["code"] == "not-expressible"  # no JSON functions known for trino: says so
    cols = compile_(client, PITCHLY, sql={"dialect": "duckdb", "layout": "columns", "pretty": False}).json()
    sql = cols["outputs"]["sql"]
    assert sql["status"] == "executed" and sql["layout"] == "columns" and '"status"' in sql["value"]
    assert sql["columns"][STATUS] == "status" and "\n" not in sql["value"]
    bad = compile_(client, PITCHLY, sql={"dialect": "postgress"}).json()["outputs"]
    assert bad["sql"]["error"]["code"] == "unknown-dialect" and "value" in bad["pitchly"]
    assert (
        compile_(client, PITCHLY, sql={"layout": "rows"}).json()["outputs"]["sql"]["error"]["code"]
        == "bad-layout"
    )


BAD_BODIES: list[Any] = [
    b"not json",
    b"[1, 2]",
    b'{"input": 5}',
    b'{"input": "x", "format": "csv"}',
    b'{"input": "x", "options": {"strict": "yes"}}',
    b'{"input": "x", "options": {"limits": 1}}',
    b'{"input": "x", "options": []}',
    b'{"input": "x", "targets": ["sql", "nope"]}',
    b'{"input": "x", "sql": {"pretty": "yes"}}',
    b'{"input": "x", "records": {"limit": 1000}}',
    b'{"input": "x", "database": 5}',
    b'{"input": "x", "extra": 1}',
    b'{"input": "\\ud800"}',
    b'{"input": "{\\"fields\\": {\\"x\\": {\\"filters\\": [{\\"by\\": \\"is\\", \\"value\\": \\"\\\\u0000\\"}]}}}"}',
    json.dumps({"input": "{" * 5000}).encode(),
    json.dumps({"input": "(" * 5000 + "a"}).encode(),
    json.dumps({"input": "data__a=" + "%ff"}).encode(),
]


@pytest.mark.parametrize("raw", BAD_BODIES, ids=range(len(BAD_BODIES)))
def test_bad_requests_are_located_400s_never_500(client: Any, raw: bytes) -> None:
    r = client.post("/api/compile", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 400, (r.status_code, r.text[:300])
    errors = r.json()["errors"]
    assert errors and all({"code", "message", "location"} <= set(e) for e in errors)


def test_the_size_limit_is_checked_before_compiling(client: Any) -> None:
    big = json.dumps({"input": "a" * (1 << 20)})
    r = client.post("/api/compile", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["errors"][0]["code"] == "too-large"


def test_an_unknown_database_is_404(client: Any) -> None:
    r = client.post("/api/compile", json={"input": "x", "database": "nope"})
    assert r.status_code == 404 and r.json()["errors"][0]["code"] == "unknown-database"


def test_the_page_and_its_assets_are_local(client: Any) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CSP and "connect-src 'self'" in CSP
    for name in ("playground.js", "playground.css"):
        r = client.get("/" + name)
        assert r.status_code == 200 and r.content == asset(name)
    for name in ("playground.html", "playground.js", "playground.css"):
        text = asset(name).decode("utf-8")
        # no CDN, no absolute URL, no inline script or style attribute the CSP would block
        assert not re.search(r"https?://|(?:src|href)\s*=\s*[\"']//|@import|url\(", text), name
        assert not re.search(r"<script>|<style|\son[a-z]+=|\sstyle=", text), name
    assert len(b"".join(asset(n) for n in ("playground.html", "playground.js", "playground.css"))) < 40_000


def test_the_configuration(client: Any) -> None:
    cfg = client.get("/api/playground").json()
    assert [d["id"] for d in cfg["databases"]] == [d.id for d in CAT]
    assert cfg["default_database"] == ORDERS  # the most fields
    dialects = {d["name"]: d["executed"] for d in cfg["dialects"]}
    assert set(dialects["sqlite"]) == {"json", "columns"} and dialects["trino"] == {}
    assert cfg["samples"][ORDERS]["pitchly"] and cfg["store"] == "sqlite"
    for fmt, text in cfg["samples"][ORDERS].items():  # every example compiles in its format
        assert compile_(client, text, format=fmt).status_code == 200, (fmt, text)


def test_openapi_json_is_the_documents_and_validates(client: Any) -> None:
    from openapi_spec_validator import validate as validate_spec

    from filterdsl.schema_export import openapi_document

    doc = client.get("/openapi.json").json()
    validate_spec(doc)
    assert doc == json.loads(json.dumps(openapi_document(CAT)))
    assert "/api/compile" in doc["paths"]


def test_a_schemaless_server() -> None:
    app = create_app("sqlite:///:memory:")
    app.state.store.import_docs(
        "people",
        [
            {
                "id": "r1",
                "created_at": "2022-05-19T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": {"name": "david"},
            }
        ],
    )
    with TestClient(app, raise_server_exceptions=False) as c:
        cfg = c.get("/api/playground").json()
        assert cfg["schemaless"] and [d["id"] for d in cfg["databases"]] == ["people"]
        r = c.post("/api/compile", json={"input": "data__name=david", "database": "people"})
        assert r.status_code == 200 and ids(r.json()["outputs"]["records"]["value"]) == ["r1"]
        r = c.post("/api/compile", json={"input": "data__name=david"})
        assert r.json()["outputs"]["records"]["error"]["code"] == "missing-schema"


# ---------------------------------------------------------------------- filterdsl playground


def test_the_playground_command_serves_the_examples() -> None:
    import subprocess
    import sys

    import httpx

    proc = subprocess.Popen(
        [sys.executable, "-m", "filterdsl.cli", "playground", "--no-browser", "--port", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = re.search(r"on catalog\.json and records\.json: (http://127\.0\.0\.1:\d+/)", line)
        assert m, line
        url = m.group(1)
        for _ in range(200):  # the URL is printed just before the server starts listening
            try:
                page = httpx.get(url, timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert page.status_code == 200 and "filterdsl playground" in page.text
        cfg = httpx.get(url + "api/playground", timeout=10).json()
        assert cfg["default_database"] == ORDERS
        r = httpx.post(url + "api/compile", json={"input": PITCHLY, "database": ORDERS}, timeout=30)
        q = parse(PITCHLY, "pitchly", CAT, ORDERS)
        assert ids(r.json()["outputs"]["records"]["value"]) == ids(apply(q, RECORDS, CAT))
    finally:
        proc.terminate()
        proc.wait(20)


def test_the_playground_port_falls_back_only_from_the_default() -> None:
    from filterdsl.cli.common import UsageError
    from filterdsl.cli.playground import _socket

    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    try:
        other = _socket("127.0.0.1", port, fallback=True)
        assert other.getsockname()[1] not in (port, 0)
        other.close()
        with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1:{port}"):
            _socket("127.0.0.1", port, fallback=False)
    finally:
        taken.close()


_PIECES = st.sampled_from(
    ['{"fields": {', '"Popw6SRW8pL2RqECF"', ': ', '{"filters": [', '{"by": "is", "value": ', '"paid"', "}", "]",
     "data__", "=", "&", "`", ":enum", " is ", '"', "|", ",", "\n", "😀", "filterdsl_ast", "\\", "null", "1e400"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(st.one_of(_PIECES, st.text(max_size=4)), max_size=12).map("".join),
    st.sampled_from(FORMAT_CHOICES),
)
def test_any_text_in_any_format_answers_with_spans_inside_the_input(text: str, fmt: str) -> None:
    """compile_all never raises and never reports an internal error; every span lies in the input."""
    done = compile_all(text, fmt, CAT, ORDERS, targets=["explain", "pitchly", "search", "text", "sql"])
    units = len(text.encode("utf-16-le", "surrogatepass")) // 2
    for d in done.body["diagnostics"]:
        assert d["code"] != "internal", d
        if "span" in d:
            assert 0 <= d["span"]["start"] <= d["span"]["end"] <= units, d
    assert done.ok == ("outputs" in done.body)
    for out in done.body.get("outputs", {}).values():
        assert "value" in out or out["error"]["code"] != "internal", out
