"""SPEC 4 "With a catalog": PixieBrix params on a database the catalog describes. The first path
segment names a field (unknown: ``unknown-field``, an error; a warning with ``django_compat``, the
parameter keeping its schemaless meaning); ``data__<field>=v`` on a number, currency, boolean, date,
enumTags or refMultiple field is that type's ``is`` (``has-any-of`` one value for the lists), a value
that does not parse is ``bad-value``; ordering keys name fields too; the trash is excluded. The
expected ids are computed here from the raw Pitchly rows, not by filterdsl."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sql_engines import ENGINES, require

from filterdsl import FilterError, load_catalog, parse
from filterdsl.api import parse_result
from filterdsl.ast import Compare, Field, FieldState, FieldType, Money, Op, SortKey, State, walk
from filterdsl.backends.memory import run
from filterdsl.backends.sql.runners import run_ids
from filterdsl.records import normalize_dataset

from conftest import CORPUS

CAT = load_catalog(CORPUS / "catalog.json")
RAW = json.loads((CORPUS / "records.json").read_text())
DATASET = normalize_dataset(RAW, CAT)
ORDERS = "ixuPJwBRqtRP3GpoM"
AMOUNT, PRICE, PAID, DAY, TAGS, PRODUCTS = (
    "59giDo5wnnLqurNpF",
    "d2Pye3HHyRRudrxXp",
    "4fuB6sJxuvJ2jrZJj",
    "jA7HzNQYZS56LGCbj",
    "NBWusiz6QiNXvK7j4",
    "McGDrXSRoEuXvnxZs",
)
STATUS, NOTES, CLIENT = "Popw6SRW8pL2RqECF", "pWDDLj5sxf5qYwtwv", "RyM8SyrYrceRsrLJd"


def _pb(qs: str, **kw: Any) -> Any:
    return parse(qs, "pixiebrix", catalog=CAT, database=ORDERS, **kw)


def _diags(qs: str, **kw: Any) -> list[tuple[str, str]]:
    r = parse_result(qs, "pixiebrix", catalog=CAT, database=ORDERS, **kw)
    return [(d.code, d.severity) for d in r.diagnostics]


def _leaves(q: Any) -> list[Any]:
    return [n for n in walk(q.predicate) if isinstance(n, (Compare, FieldState))]


def _val(row: dict[str, Any], field: str) -> Any:
    """The raw ``val`` of a Pitchly row's column (a sentinel when NOT SET)."""
    for c in row["cols"]:
        if c["fieldId"] == field:
            return "<not set>" if c["value"] is None else c["value"].get("val", "<not set>")
    return "<not set>"


def _live(pred: Any) -> set[str]:
    return {r["_id"] for r in RAW[ORDERS] if not r.get("removedAt") and pred(r)}


def _num(v: Any, n: float) -> bool:
    return type(v) in (int, float) and v == n


# ------------------------------------------------------------------ the AST each rule gives
def test_typed_fields_read_as_their_type() -> None:
    assert _leaves(_pb(f"data__{AMOUNT}=1000")) == [Compare(Field(AMOUNT, FieldType.NUMBER), Op.EQ, 1000)]
    assert _leaves(_pb(f"data__{AMOUNT}=-2.5")) == [Compare(Field(AMOUNT, FieldType.NUMBER), Op.EQ, -2.5)]
    assert _leaves(_pb(f"data__{PRICE}=5")) == [Compare(Field(PRICE, FieldType.CURRENCY), Op.EQ, Money(5))]
    assert _leaves(_pb(f"data__{PAID}=TRUE")) == [Compare(Field(PAID, FieldType.BOOLEAN), Op.EQ, True)]
    assert _leaves(_pb(f"data__{PAID}=false")) == [Compare(Field(PAID, FieldType.BOOLEAN), Op.EQ, False)]
    assert _leaves(_pb(f"data__{DAY}=2020-01-23")) == [
        Compare(Field(DAY, FieldType.DATE), Op.EQ, "2020-01-23")
    ]
    assert _leaves(_pb(f"data__{TAGS}=vip")) == [
        Compare(Field(TAGS, FieldType.ENUM_TAGS), Op.HAS_ANY, ("vip",))
    ]
    # a refMultiple value is a list of row ids: the same list test
    assert _leaves(_pb(f"data__{PRODUCTS}=abc")) == [
        Compare(Field(PRODUCTS, FieldType.ENUM_TAGS), Op.HAS_ANY, ("abc",))
    ]
    # __exact is the plain parameter
    assert _leaves(_pb(f"data__{AMOUNT}__exact=5")) == _leaves(_pb(f"data__{AMOUNT}=5"))


def test_string_like_deeper_isnull_and_extended_keep_schemaless_rules() -> None:
    for field in (
        STATUS,
        NOTES,
        CLIENT,
        "Nb6uqwKdxh3BFX3De",
        "WgaekrMMvHWqeCz7M",
    ):  # enum textBlock ref string attachment
        assert _leaves(_pb(f"data__{field}=5")) == [Compare(Field(field, FieldType.JSON), Op.EQ, "5")]
    assert _leaves(_pb(f"data__{PRICE}__val=5")) == [
        Compare(Field(PRICE, FieldType.JSON, ("val",)), Op.EQ, "5")
    ]
    assert _leaves(_pb(f"data__{AMOUNT}__isnull=true")) == [
        FieldState(Field(AMOUNT, FieldType.JSON), State.NOT_SET)
    ]
    assert _leaves(_pb(f"data__{AMOUNT}__gt=5", lookups="extended")) == [
        Compare(Field(AMOUNT, FieldType.JSON), Op.GT, 5)
    ]


@pytest.mark.parametrize(
    "qs",
    [
        f"data__{AMOUNT}=abc",
        f"data__{AMOUNT}=",
        f"data__{AMOUNT}=1,000",
        f"data__{AMOUNT}=0x10",
        f"data__{PRICE}=5 USD",
        f"data__{PAID}=yes",
        f"data__{PAID}=1",
        f"data__{DAY}=2020-02-30",
        f"data__{DAY}=2020-01-23T00:00:00Z",
    ],
)
def test_unparseable_value_is_bad_value_in_both_modes(qs: str) -> None:
    assert _diags(qs) == [("bad-value", "error")]
    assert _diags(qs, django_compat=True) == [("bad-value", "error")]


def test_out_of_range_numbers_and_huge_values_are_located_errors() -> None:
    for value in ("9007199254740993", "1e400", "9" * 5000, "1" + "0" * 100_000):
        r = parse_result(f"data__{AMOUNT}={value}", "pixiebrix", catalog=CAT, database=ORDERS)
        assert [d.code for d in r.diagnostics] == ["number-out-of-range"]
        assert r.diagnostics[0].location.param == f"data__{AMOUNT}"
    # the extended lookups read numbers the same way (int() of 5,000 digits would raise)
    r = parse_result("data__n__gt=" + "9" * 5000, "pixiebrix", lookups="extended")
    assert [d.code for d in r.diagnostics] == ["number-out-of-range"]


def test_enum_tags_value_outside_restrict_is_an_error() -> None:
    assert _diags(f"data__{TAGS}=VIP") == [("value-not-allowed", "error")]


def test_unknown_field_strict_error_lenient_warning_keeps_schemaless_meaning() -> None:
    r = parse_result("data__nope=1&data__Status=paid", "pixiebrix", catalog=CAT, database=ORDERS)
    assert [(d.code, d.location.param) for d in r.diagnostics] == [
        ("unknown-field", "data__nope"),
        ("unknown-field", "data__Status"),
    ]
    assert "Popw6SRW8pL2RqECF" in r.diagnostics[1].message  # did you mean the id
    lenient = parse_result("data__nope=1", "pixiebrix", catalog=CAT, database=ORDERS, django_compat=True)
    assert [(d.code, d.severity) for d in lenient.diagnostics] == [("unknown-field", "warning")]
    assert lenient.query is not None
    assert _leaves(lenient.query) == [Compare(Field("nope", FieldType.JSON), Op.EQ, "1")]
    assert run(lenient.query, DATASET, CAT) == []  # a missing path matches nothing
    for qs in ("data__nope__isnull=true", "data__nope__a=1"):
        assert _diags(qs) == [("unknown-field", "error")]


def test_names_with_resolve_names() -> None:
    q = _pb("data__Order Amount=250&data__Status=paid&ordering=-data__Order Amount", resolve_names=True)
    assert set(_leaves(q)) == {
        Compare(Field(AMOUNT, FieldType.NUMBER), Op.EQ, 250),
        Compare(Field(STATUS, FieldType.JSON), Op.EQ, "paid"),
    }
    assert q.sort == (SortKey(Field(AMOUNT, FieldType.JSON), True),)


def test_ordering_on_unknown_field() -> None:
    assert _diags("ordering=-data__nope,id") == [("unknown-field", "error")]
    assert [c for c, _ in _diags("ordering=data__nope", django_compat=True)] == ["unknown-field"]
    assert _pb(f"ordering=data__{AMOUNT}").sort == (SortKey(Field(AMOUNT, FieldType.JSON)),)


def test_without_a_catalog_nothing_changes() -> None:
    q = parse(f"data__{AMOUNT}=1000&data__nope=1", "pixiebrix")
    assert set(_leaves(q)) == {
        Compare(Field(AMOUNT, FieldType.JSON), Op.EQ, "1000"),
        Compare(Field("nope", FieldType.JSON), Op.EQ, "1"),
    }


def test_lenient_page_size_is_clamped_with_a_warning() -> None:
    q = parse("page_size=5000", "pixiebrix", django_compat=True)
    assert q.limit == 1000
    assert _diags("page_size=5000", django_compat=True) == [("bad-value", "warning")]
    assert [c for c, _ in _diags("page_size=5000")] == ["bad-value"]


# ------------------------------------------------------------------ the records each rule selects
def _trashed() -> set[str]:
    return {r["_id"] for r in RAW[ORDERS] if r.get("removedAt")}


TYPED_CASES = [
    (f"data__{AMOUNT}=5", lambda r: _num(_val(r, AMOUNT), 5)),
    (f"data__{AMOUNT}=250", lambda r: _num(_val(r, AMOUNT), 250)),
    (f"data__{AMOUNT}=99.99", lambda r: _num(_val(r, AMOUNT), 99.99)),
    (f"data__{PRICE}=5", lambda r: _num(_val(r, PRICE), 5)),  # the amount, in any currency
    (f"data__{PAID}=true", lambda r: _val(r, PAID) is True),
    (f"data__{PAID}=False", lambda r: _val(r, PAID) is False),
    (
        f"data__{DAY}=2020-01-23",
        lambda r: isinstance(_val(r, DAY), str) and _val(r, DAY)[:10] == "2020-01-23",
    ),
    (f"data__{TAGS}=vip", lambda r: isinstance(_val(r, TAGS), list) and "vip" in _val(r, TAGS)),
    (
        f"data__{PRODUCTS}=NHg4mAP5pEZKr5Ty4",
        lambda r: (
            isinstance(_val(r, PRODUCTS), list)
            and any(isinstance(e, dict) and e.get("_id") == "NHg4mAP5pEZKr5Ty4" for e in _val(r, PRODUCTS))
        ),
    ),
    (f"data__{STATUS}=paid", lambda r: _val(r, STATUS) == "paid"),
]


@pytest.mark.parametrize("qs, pred", TYPED_CASES, ids=[c[0] for c in TYPED_CASES])
def test_typed_params_select_the_typed_records(qs: str, pred: Any) -> None:
    got = [d["id"] for d in run(_pb(qs), DATASET, CAT)]
    assert set(got) == _live(pred)
    assert got  # each case selects something, so an always-empty answer fails
    assert not set(got) & _trashed()


@pytest.mark.parametrize("engine", ENGINES)
def test_engines_agree_with_memory(engine: str) -> None:
    url = require(engine)
    for qs, _ in TYPED_CASES:
        q = _pb(qs + "&ordering=-id")
        assert run_ids(q, DATASET, engine, url, CAT) == [d["id"] for d in run(q, DATASET, CAT)], qs


def test_errors_raise_filter_error() -> None:
    with pytest.raises(FilterError) as e:
        _pb("data__nope=1")
    assert e.value.diagnostics[0].code == "unknown-field"


def test_reference_server_applies_the_catalog_rules() -> None:
    pytest.importorskip("starlette")
    from starlette.testclient import TestClient

    from filterdsl.server import create_app

    with TestClient(create_app("sqlite:///:memory:", CORPUS / "catalog.json")) as client:
        res = client.post("/api/records/import", json={"databaseId": ORDERS, "records": RAW[ORDERS]})
        assert res.status_code == 200
        base = f"/api/databases/{ORDERS}/records/"
        res = client.get(f"{base}?data__{AMOUNT}=250")
        assert res.status_code == 200
        assert {r["id"] for r in res.json()} == _live(lambda r: _num(_val(r, AMOUNT), 250)) != set()
        for qs, code in (("data__nope=1", "unknown-field"), (f"data__{AMOUNT}=abc", "bad-value")):
            res = client.get(f"{base}?{qs}")
            assert res.status_code == 400
            assert [e["code"] for e in res.json()["errors"]] == [code]
        res = client.get(f"{base}?ordering=data__nope")
        assert res.status_code == 400 and res.json()["errors"][0]["code"] == "unknown-field"
