"""The JSON Schema for editors (``filterdsl schema --json-schema``) and the server's OpenAPI document,
checked with the reference validators (``jsonschema``, ``openapi-spec-validator``) against the corpus
and against what ``filterdsl.validate`` says about the same inputs."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, Phase, assume, given, settings

from filterdsl import FilterError, load_catalog, to_format, validate
from filterdsl.schema_export import json_schema, openapi_document, pixiebrix_parameters

from conftest import CASES, CORPUS
from strategies import scenarios

ROOT = Path(__file__).resolve().parent.parent
CAT = load_catalog(CORPUS / "catalog.json")
ORDERS = "ixuPJwBRqtRP3GpoM"
CLIENTS = "uJL9XrebupC7eWvM3"
# Orders fields (tests/corpus/catalog.json)
ID, AMOUNT, PAID, DATE, STATUS, TAGS, CLIENT, PRODUCTS = (
    "Nb6uqwKdxh3BFX3De",
    "59giDo5wnnLqurNpF",
    "4fuB6sJxuvJ2jrZJj",
    "jA7HzNQYZS56LGCbj",
    "Popw6SRW8pL2RqECF",
    "NBWusiz6QiNXvK7j4",
    "RyM8SyrYrceRsrLJd",
    "McGDrXSRoEuXvnxZs",
)
_VALIDATORS: dict[str, Any] = {}


def validator(database: str = ORDERS) -> jsonschema.Draft202012Validator:
    if database not in _VALIDATORS:
        schema = json_schema(CAT, database)
        jsonschema.Draft202012Validator.check_schema(schema)
        _VALIDATORS[database] = jsonschema.Draft202012Validator(schema)
    return _VALIDATORS[database]


def schema_ok(obj: Any, database: str = ORDERS) -> bool:
    return validator(database).is_valid(obj)


def one(field: str, by: str, value: Any = ..., **entry: Any) -> dict[str, Any]:
    flt: dict[str, Any] = {"by": by}
    if value is not ...:
        flt["value"] = value
    return {"fields": {field: {"filters": [flt], **entry}}}


def test_the_schema_is_a_valid_2020_12_schema_with_titles_and_enums() -> None:
    schema = json_schema(CAT, ORDERS)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    fields = schema["$defs"][f"fields.{ORDERS}"]["properties"]
    assert fields[STATUS]["title"] == "Status" and fields[AMOUNT]["title"] == "Order Amount"
    assert set(fields) == {f.id for f in CAT.get(ORDERS).fields}  # type: ignore[union-attr]
    status = json.dumps(schema["$defs"][f"entry.{ORDERS}.{STATUS}"])
    for value in ("new", "paid", "shipped", "cancelled"):
        assert f'"{value}"' in status
    # nested relational filters follow the referenced database
    assert f"fields.{CLIENTS}" in schema["$defs"]


VALID_CASES = [
    c
    for c in CASES
    if c["format"] == "pitchly" and not (isinstance(c["expect"], dict) and c["expect"].get("error"))
]
INVALID_CASES = [
    c
    for c in CASES
    if c["format"] == "pitchly" and isinstance(c["expect"], dict) and c["expect"].get("error")
]


@pytest.mark.parametrize("case", VALID_CASES, ids=[c["name"] for c in VALID_CASES])
def test_every_valid_corpus_filter_passes(case: dict[str, Any]) -> None:
    assert not [d for d in validate(case["input"], "pitchly", CAT, case["database"]) if d.is_error]
    errors = [e.message for e in validator(case["database"]).iter_errors(case["input"])]
    assert not errors, errors


@pytest.mark.parametrize("case", INVALID_CASES, ids=[c["name"] for c in INVALID_CASES])
def test_the_invalid_corpus_filters_fail(case: dict[str, Any]) -> None:
    assert not schema_ok(case["input"], case["database"])


def test_the_corpus_holds_both_kinds() -> None:
    assert len(VALID_CASES) >= 40 and len(INVALID_CASES) >= 2


#: inputs a schema can refuse, with the code filterdsl.validate gives them: the two must agree
CATCHABLE = [
    ("unknown-operator", one(ID, "contans", "x")),
    ("operator-not-allowed", one(AMOUNT, "contains", "5")),
    ("operator-not-allowed", one(TAGS, "is", "gift")),
    ("wrong-type", one(AMOUNT, "is", "5")),
    ("wrong-type", one(ID, "is", 5)),
    ("wrong-type", one(PAID, "is", "yes")),
    ("wrong-type", one(STATUS, "is-any-of", "paid")),
    ("wrong-type", one(TAGS, "has-any-of", [1])),
    ("bad-value", one(DATE, "is", "23/01/2020")),
    ("unknown-field", one("zzzzzzzzzzzzzzzzz", "is", "x")),
    ("value-not-allowed", one(STATUS, "is", "Shipped")),
    ("value-not-allowed", one(TAGS, "has-any-of", ["gift", "nope"])),
    ("empty-list", one(STATUS, "is-any-of", [])),
    ("missing-value", one(ID, "is")),
    ("missing-value", one(ID, "is", None)),
    ("unexpected-value", one(ID, "is-empty", None)),
    ("missing-operator", {"fields": {ID: {"filters": [{"value": "x"}]}}}),
    ("bad-conjunction", {"fields": {ID: {"filters": [{"by": "is", "value": "x"}]}}, "conjunction": "xor"}),
    ("unknown-key", {"fields": {ID: {"filters": [{"by": "is", "value": "x", "extra": 1}]}}}),
    ("unknown-key", {"filter": {}, "limt": 5}),
    ("filters-on-ref", one(CLIENT, "is", "x")),
    ("filters-on-ref", one(CLIENT, "is-empty")),
    ("fields-on-non-ref", {"fields": {ID: {"fields": {AMOUNT: {"filters": []}}}}}),
    ("unknown-field", {"fields": {CLIENT: {"fields": {AMOUNT: {"filters": [{"by": "is", "value": 1}]}}}}}),
    ("limit-too-large", {"limit": 1000}),
    ("bad-value", {"limit": -1}),
    ("bad-value", {"sort": {AMOUNT: "asc"}}),
    ("sort-not-allowed", {"sort": {TAGS: 1}}),
    ("unknown-field", {"sort": {"nope": 1}}),
    ("database-mismatch", {"databaseId": CLIENTS}),
    ("wrong-type", {"removedAt": "yes"}),
    ("wrong-type", {"in": ["a", 1]}),
    ("bad-value", {"modifiedSince": "yesterday"}),
    ("unknown-field", {"fields": [ID, "nope"]}),
]


@pytest.mark.parametrize("code,obj", CATCHABLE, ids=[f"{c}-{i}" for i, (c, _) in enumerate(CATCHABLE)])
def test_invalid_filters_a_schema_can_catch_fail_both(code: str, obj: Any) -> None:
    codes = {d.code for d in validate(obj, "pitchly", CAT, ORDERS) if d.is_error}
    assert code in codes, codes
    assert not schema_ok(obj)


#: what only ``filterdsl validate`` catches (docs/editors.md lists these): the schema lets them through
ONLY_VALIDATE = [
    ("bad-value", one(DATE, "is", "2020-02-30")),  # not a real calendar day
    ("bad-value", {"modifiedSince": "2021-13-01T00:00:00Z"}),  # month 13
    ("number-out-of-range", one(AMOUNT, "is", 2**53 + 2)),  # JSON Schema cannot tell 1.5e300 from an int
    ("too-deep", {"fields": {"x": {}}}),  # placeholder, replaced below
]


def _deep(levels: int) -> dict[str, Any]:
    inner: dict[str, Any] = {"filters": [{"by": "is", "value": "a"}]}
    obj = {"fields": {"xEfek48BRpD3kAksh": inner}}
    for _ in range(levels):
        obj = {"fields": {"nzS3PxpdTR8nWqYPv": obj}}
    return {"databaseId": CLIENTS, "filter": obj}


ONLY_VALIDATE[-1] = ("too-deep", _deep(40))


@pytest.mark.parametrize("code,obj", ONLY_VALIDATE, ids=[c for c, _ in ONLY_VALIDATE])
def test_what_only_validate_catches(code: str, obj: Any) -> None:
    db = obj.get("databaseId", ORDERS) if isinstance(obj, dict) else ORDERS
    codes = {d.code for d in validate(obj, "pitchly", CAT, db) if d.is_error}
    assert code in codes, codes
    assert schema_ok(obj, db)


def test_names_are_refused_unless_resolve_names() -> None:
    by_name = {"fields": {"Status": {"filters": [{"by": "is", "value": "paid"}]}}}
    assert not schema_ok(by_name)  # the schema describes ids, as validate does by default
    assert not [d for d in validate(by_name, "pitchly", CAT, ORDERS, resolve_names=True) if d.is_error]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.reuse, Phase.generate],  # no shrinking: a failure prints its scenario
)
@given(scenarios(weird_keys=True))
def test_every_pitchly_object_the_emitter_writes_validates(s: Any) -> None:
    """Generated queries on generated catalogs (odd field ids included), written as Pitchly objects:
    the schema accepts each one filterdsl itself accepts."""
    try:
        obj = to_format(s.query, "pitchly", catalog=s.catalog)
    except FilterError:
        assume(False)
    assert not [d for d in validate(obj, "pitchly", s.catalog, s.database) if d.is_error]
    schema = json_schema(s.catalog, s.database)
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in jsonschema.Draft202012Validator(schema).iter_errors(obj)
    ]
    assert not errors, errors


def test_mutating_an_operator_or_a_value_type_is_caught() -> None:
    """Each valid corpus filter with its first operator misspelt, or its first value of the wrong type,
    fails the schema (and validate)."""
    mutated = 0
    for case in VALID_CASES:
        obj = case["input"]
        flt = obj.get("filter", obj) if isinstance(obj, dict) else None
        fields = flt.get("fields") if isinstance(flt, dict) else None
        if not isinstance(fields, dict):
            continue
        for entry in fields.values():
            for f in entry.get("filters") or []:
                bad = copy.deepcopy(obj)
                target = bad.get("filter", bad)
                key = next(
                    k for k, e in target["fields"].items() if e is not None and f in (e.get("filters") or [])
                )
                i = target["fields"][key]["filters"].index(f)
                target["fields"][key]["filters"][i] = {**f, "by": f["by"] + "x"}
                assert not schema_ok(bad, case["database"]), case["name"]
                if "value" in f:
                    wrong = {"x": 1} if not isinstance(f["value"], dict) else "x"
                    target["fields"][key]["filters"][i] = {**f, "value": wrong}
                    assert not schema_ok(bad, case["database"]), case["name"]
                    assert [d for d in validate(bad, "pitchly", CAT, case["database"]) if d.is_error]
                mutated += 1
                break
            break
    assert mutated >= 25


# ---------------------------------------------------------------------- OpenAPI


def test_the_openapi_document_validates_with_and_without_a_catalog() -> None:
    from openapi_spec_validator import validate as validate_spec

    with_catalog = openapi_document(CAT)
    validate_spec(with_catalog)
    validate_spec(openapi_document(None))
    validate_spec(openapi_document(CAT, lookups="extended", playground=False))
    assert with_catalog["openapi"] == "3.1.0"
    path = with_catalog["paths"][f"/api/databases/{ORDERS}/records/"]["get"]
    names = [p["name"] for p in path["parameters"]]
    assert f"data__{STATUS}" in names and f"data__{STATUS}__isnull" in names and "ordering" in names
    status = next(p for p in path["parameters"] if p["name"] == f"data__{STATUS}")
    assert status["schema"]["enum"] == ["new", "paid", "shipped", "cancelled"]
    assert "Status" in status["description"]
    body = with_catalog["paths"][f"/api/databases/{ORDERS}/data"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {
        "$ref": f"#/components/schemas/Pitchly.variables.{ORDERS}"
    }
    assert path["responses"]["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }


def test_the_openapi_body_schema_is_the_json_schema() -> None:
    """The variables body in the OpenAPI document accepts and refuses what the JSON Schema does."""
    doc = openapi_document(CAT)
    schemas = doc["components"]["schemas"]
    root = {"$ref": f"#/components/schemas/Pitchly.variables.{ORDERS}", "components": doc["components"]}
    v = jsonschema.Draft202012Validator(root)
    for case in VALID_CASES:
        if case["database"] == ORDERS and not set(case["input"]) <= {"fields", "conjunction"}:
            assert v.is_valid(case["input"]), case["name"]
    assert not v.is_valid({"filter": one(ID, "contans", "x")})
    assert not v.is_valid({"limit": 1000})
    assert f"Pitchly.fields.{CLIENTS}" in schemas


def test_pixiebrix_parameters_for_reuse() -> None:
    """The per-database parameter list (for DRF's get_schema_operation_parameters as well)."""
    strict = pixiebrix_parameters(CAT, ORDERS)
    extended = pixiebrix_parameters(CAT, ORDERS, lookups="extended")
    names = {p["name"] for p in extended} - {p["name"] for p in strict}
    assert f"data__{AMOUNT}__gte" in names and f"data__{ID}__icontains" in names
    schemaless = pixiebrix_parameters()
    assert [p["name"] for p in schemaless] == [
        "start_date",
        "end_date",
        "page",
        "page_size",
        "ordering",
        "after",
    ]
    assert all(p["in"] == "query" for p in strict)


# ---------------------------------------------------------------------- the command


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "filterdsl.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )


def test_the_command_writes_the_schema(tmp_path: Path) -> None:
    out = tmp_path / "orders.schema.json"
    r = _cli(
        "schema",
        "--json-schema",
        "--schema",
        "tests/corpus/catalog.json",
        "--database",
        ORDERS,
        "-o",
        str(out),
    )
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text(encoding="utf-8")) == json_schema(CAT, ORDERS)
    r = _cli("schema", "--json-schema", "--schema", "tests/corpus/catalog.json", "--database", "nope")
    assert r.returncode == 1 and "unknown-database" in r.stderr and not r.stdout
    r = _cli("schema", "--json-schema", "--schema", "tests/corpus/catalog.json")
    assert r.returncode == 2 and "--database" in r.stderr
    r = _cli("schema", "--openapi", "--schema", "tests/corpus/catalog.json")
    assert r.returncode == 0 and json.loads(r.stdout)["openapi"] == "3.1.0"


EXAMPLES = [
    "examples/paid-orders.json",
    "examples/michael-or-john.json",
    "examples/filters/orders/large.json",
]


@pytest.mark.parametrize("path", EXAMPLES)
def test_the_example_filters_pass_the_examples_schema(path: str) -> None:
    """The repository's own example filters (strict JSON ones) against the example catalog's schema."""
    catalog = load_catalog(ROOT / "examples" / "catalog.json")
    obj = json.loads((ROOT / path).read_text(encoding="utf-8"))
    assert not [d for d in validate(obj, "pitchly", catalog, ORDERS) if d.is_error]
    errors = [
        e.message for e in jsonschema.Draft202012Validator(json_schema(catalog, ORDERS)).iter_errors(obj)
    ]
    assert not errors, errors
