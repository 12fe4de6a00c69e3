"""The Pitchly frontend: shapes, every rule of SPEC 2/8, and located, collected diagnostics."""

from __future__ import annotations

import json

import pytest

from filterdsl import FilterError, load_catalog, parse, validate
from filterdsl.ast import And, Compare, Field, FieldState, FieldType, InTrash, Not, Op, Or, Relation, State

from conftest import CORPUS

CAT = load_catalog(CORPUS / "catalog.json")
ORDERS = "ixuPJwBRqtRP3GpoM"
ID, CLIENT, AMOUNT, PAID, DATE, STATUS, TAGS, PRODUCTS = (
    "Nb6uqwKdxh3BFX3De",
    "RyM8SyrYrceRsrLJd",
    "59giDo5wnnLqurNpF",
    "4fuB6sJxuvJ2jrZJj",
    "jA7HzNQYZS56LGCbj",
    "Popw6SRW8pL2RqECF",
    "NBWusiz6QiNXvK7j4",
    "McGDrXSRoEuXvnxZs",
)
NAME = "xEfek48BRpD3kAksh"


def p(obj, **kw):
    return parse(obj, catalog=CAT, database=ORDERS, **kw)


def errors(obj, **kw):
    with pytest.raises(FilterError) as e:
        p(obj, **kw)
    return [(d.code, d.location.pointer) for d in e.value.errors]


def f(fid, *filters, **entry):
    return {"fields": {fid: {"filters": list(filters), **entry}}}


def test_negative_operator_is_not_of_positive():
    q = p(f(ID, {"by": "is-not", "value": "x"}))
    assert q.predicate == And((Not(Compare(Field(ID, FieldType.STRING), Op.EQ, "x")), Not(InTrash())))


def test_include_adds_states_with_or():
    q = p(f(STATUS, {"by": "is", "value": "new"}, include={"is-empty": True, "is-not-set": True}))
    fld = Field(STATUS, FieldType.ENUM)
    assert q.predicate.items[0] == Or(
        (Compare(fld, Op.EQ, "new"), FieldState(fld, State.EMPTY), FieldState(fld, State.NOT_SET))
    )


def test_relational_nested_and_is_one_row():
    q = p(
        {
            "fields": {
                PRODUCTS: {
                    "fields": {
                        "3H28yRvgANiQqHdZX": {"filters": [{"by": "is", "value": "Software"}]},
                        "d3j5wrxjvfz8YDj34": {"filters": [{"by": "is-more-than", "value": 1}]},
                    }
                }
            }
        }
    )
    rel = q.predicate.items[0]
    assert (
        isinstance(rel, Relation) and rel.database == "LkfjQ9pq9f48K2vD8" and isinstance(rel.predicate, And)
    )


def test_empty_entry_dropped_with_warning():
    diags = validate({"fields": {ID: {"filters": []}}, "conjunction": "or"}, catalog=CAT, database=ORDERS)
    assert [(d.code, d.severity) for d in diags] == [("empty-entry", "warning")]
    # an empty entry inside an OR is dropped, not TRUE: the OR keeps its other member
    q = p(
        {
            "fields": {ID: {"filters": []}, PAID: {"filters": [{"by": "is", "value": True}]}},
            "conjunction": "or",
        }
    )
    assert q.predicate.items[0] == Compare(Field(PAID, FieldType.BOOLEAN), Op.EQ, True)


def test_all_errors_collected_with_pointers():
    got = errors(
        {
            "fields": {
                AMOUNT: {"filters": [{"by": "contains", "value": "5"}]},
                "nope": {},
                STATUS: {"filters": [{"by": "is", "value": "Shipped"}, {"by": "is-empty", "value": None}]},
                DATE: {"filters": [{"by": "is", "value": "2020-02-30"}]},
                CLIENT: {"filters": [{"by": "is", "value": "x"}]},
                ID: {"fields": {"a": {}}, "conjunction": "xor"},
            }
        }
    )
    assert ("operator-not-allowed", f"/fields/{AMOUNT}/filters/0/by") in got
    assert ("unknown-field", "/fields/nope") in got
    assert ("value-not-allowed", f"/fields/{STATUS}/filters/0/value") in got
    assert ("unexpected-value", f"/fields/{STATUS}/filters/1/value") in got
    assert ("bad-value", f"/fields/{DATE}/filters/0/value") in got
    assert ("filters-on-ref", f"/fields/{CLIENT}/filters") in got
    assert ("fields-on-non-ref", f"/fields/{ID}/fields") in got
    assert ("bad-conjunction", f"/fields/{ID}/conjunction") in got


def test_did_you_mean():
    with pytest.raises(FilterError) as e:
        p(f(ID, {"by": "contans", "value": "x"}))
    assert "did you mean 'contains'" in str(e.value)
    with pytest.raises(FilterError) as e:
        p({"fields": {"Status": {}}})
    assert "Popw6SRW8pL2RqECF" in e.value.errors[0].message


def test_resolve_names_opt_in():
    q = p({"fields": {"Status": {"filters": [{"by": "is", "value": "new"}]}}}, resolve_names=True)
    assert q.predicate.items[0] == Compare(Field(STATUS, FieldType.ENUM), Op.EQ, "new")


@pytest.mark.parametrize(
    "value,code",
    [
        (2**53 + 1, "number-out-of-range"),
        (1e400, "number-out-of-range"),
        ("5", "wrong-type"),
        (True, "wrong-type"),
    ],
)
def test_number_values(value, code):
    text = (
        json.dumps(f(AMOUNT, {"by": "is", "value": 0})).replace("0}", json.dumps(value) + "}")
        if value != 1e400
        else json.dumps(f(AMOUNT, {"by": "is", "value": 0})).replace(": 0}", ": 1e400}")
    )
    with pytest.raises(FilterError) as e:
        p(text)
    assert e.value.errors[0].code == code


def test_variables_object_options():
    q = p(
        {
            "secretKey": "s3cr3t",
            "databaseId": ORDERS,
            "sort": {AMOUNT: -1},
            "limit": 5,
            "skip": 2,
            "in": ["a"],
            "fields": [ID],
            "removedAt": True,
            "modifiedSince": "2021-07-01",
        }
    )
    assert (q.limit, q.skip, q.fields, q.sort[0].descending) == (5, 2, (ID,), True)
    assert InTrash() in q.predicate.items
    assert "s3cr3t" not in repr(q) and "s3cr3t" not in json.dumps(__import__("filterdsl").ast.to_json(q))


@pytest.mark.parametrize(
    "variables,code",
    [
        ({"limit": 101}, "limit-too-large"),
        ({"limit": -1}, "bad-value"),
        ({"skip": 1.5}, "bad-value"),
        ({"sort": {TAGS: 1}}, "sort-not-allowed"),
        ({"sort": {AMOUNT: 1.0}}, "bad-value"),
        ({"sort": {AMOUNT: "asc"}}, "bad-value"),
        ({"databaseId": "uJL9XrebupC7eWvM3"}, "database-mismatch"),
        ({"removedAt": "yes"}, "wrong-type"),
        ({"modifiedSince": "yesterday"}, "bad-value"),
        ({"conjuntion": "or"}, "unknown-key"),
        ({"in": "a"}, "wrong-type"),
    ],
)
def test_variable_errors(variables, code):
    assert code in [c for c, _ in errors(variables)]


def test_secret_key_never_echoed_in_errors():
    with pytest.raises(FilterError) as e:
        p({"secretKey": "TOPSECRET", "limit": "x", "nope": 1})
    assert "TOPSECRET" not in str(e.value) + repr([d.to_json() for d in e.value.diagnostics])


def test_lenient_mode_turns_unknown_keys_into_warnings():
    q = parse({"limit": 3, "extra": 1}, catalog=CAT, database=ORDERS, strict=False)
    assert q.limit == 3
    diags = validate({"limit": 3, "extra": 1}, catalog=CAT, database=ORDERS, strict=False)
    assert [(d.code, d.severity) for d in diags] == [("unknown-key", "warning")]


def test_limit_configurable_for_servers():
    assert p({"limit": 500}, max_limit=1000).limit == 500


def test_limits_depth_and_size():
    deep: dict = {}
    cur = deep
    for _ in range(5000):
        cur["fields"] = {}
        cur = cur["fields"]
    assert errors(deep)[0][0] == "too-deep"
    assert errors('{"fields":' * 5000 + "{}" + "}" * 5000)[0][0] == "too-deep"
    big = {"in": ["x"] * 10_001}
    assert errors(big)[0][0] == "too-large"
    assert errors("[" * 100_000 + "]" * 100_000)[0][0] in ("too-deep", "too-large")


def test_relational_depth_limit():
    inner: dict = {"filters": [{"by": "is", "value": "x"}]}
    for _ in range(40):
        inner = {"fields": {"nzS3PxpdTR8nWqYPv": inner}}
    with pytest.raises(FilterError) as e:
        parse({"fields": {"nzS3PxpdTR8nWqYPv": inner}}, catalog=CAT, database="uJL9XrebupC7eWvM3")
    assert "too-deep" in [d.code for d in e.value.errors]


def test_invalid_json_located():
    with pytest.raises(FilterError) as e:
        p('{"fields": {,}}')
    d = e.value.errors[0]
    assert (d.code, d.location.line, d.location.column) == ("invalid-json", 1, 13)


def test_no_schema_is_a_clear_error():
    with pytest.raises(FilterError) as e:
        parse(f(ID, {"by": "is", "value": "x"}))
    assert e.value.errors[0].code == "missing-schema"
