"""PixieBrix record query params (SPEC 4 and 8): decoding, paths, lookups, dates, paging, modes, errors."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filterdsl import FilterError, apply, parse
from filterdsl.api import parse_result
from filterdsl.ast import (
    Compare,
    CreatedAt,
    Field,
    FieldState,
    FieldType,
    Op,
    RecordAttr,
    SortKey,
    State,
    walk,
)

from conftest import CORPUS

RECORDS = json.loads((CORPUS / "pixiebrix_records.json").read_text())
J = FieldType.JSON


def preds(qs: object, **kw: object) -> list:
    q = parse(qs, "pixiebrix", **kw)
    return [n for n in walk(q.predicate) if isinstance(n, (Compare, FieldState, CreatedAt))]


def codes(qs: object, **kw: object) -> list[tuple[str, str]]:
    return [(d.code, d.severity) for d in parse_result(qs, "pixiebrix", **kw).diagnostics]


def ids(qs: str, records: list | None = None) -> list[str]:
    return [r["id"] for r in apply(parse(qs, "pixiebrix"), records or RECORDS)]


@pytest.mark.parametrize(
    "qs, key, path, value",
    [
        ("data__first_name=david", "first_name", (), "david"),
        ("?data__first_name=david", "first_name", (), "david"),
        ("data__user%20email=david%40pixiebrix.com", "user email", (), "david@pixiebrix.com"),
        ("data__a+b=c+d", "a b", (), "c d"),
        ("data__a__b__0=x", "a", ("b", "0"), "x"),
        ("data__k=", "k", (), ""),
        ("data__k", "k", (), ""),  # a piece without '=' is a name with value ""
        ("data__k=100%", "k", (), "100%"),  # malformed % stays literal
        ("data__k=%zz%4", "k", (), "%zz%4"),
        ("data__k=%C3%A9", "k", (), "é"),
        ("data__k__exact=v", "k", (), "v"),
        ("data__%C3%BCber=1", "über", (), "1"),
    ],
)
def test_decoding_and_paths(qs: str, key: str, path: tuple, value: str) -> None:
    assert preds(qs) == [Compare(Field(key, J, path), Op.EQ, value)]


def test_empty_pieces_are_skipped_and_several_data_params_are_anded() -> None:
    assert preds("&&data__a=1&&data__b=2&") == [
        Compare(Field("a", J), Op.EQ, "1"),
        Compare(Field("b", J), Op.EQ, "2"),
    ]


def test_equality_is_json_string_only() -> None:
    recs = [
        {"id": str(i), "created_at": "2022-01-01T00:00:00Z", "data": {"age": v}}
        for i, v in enumerate(["5", 5, 5.0, None, True, ["5"], {"x": "5"}, "5 "])
    ]
    recs.append({"id": "missing", "created_at": "2022-01-01T00:00:00Z", "data": {}})
    assert ids("data__age=5", recs) == ["0"]


def test_isnull_is_about_presence_not_json_null() -> None:
    recs = [
        {"id": "null", "created_at": "2022-01-02T00:00:00Z", "data": {"k": None}},
        {"id": "empty", "created_at": "2022-01-03T00:00:00Z", "data": {"k": ""}},
        {"id": "missing", "created_at": "2022-01-01T00:00:00Z", "data": {}},
    ]
    assert ids("data__k__isnull=true", recs) == ["missing"]
    assert ids("data__k__isnull=FALSE", recs) == ["empty", "null"]
    assert preds("data__k__isnull=True") == [FieldState(Field("k", J), State.NOT_SET)]
    assert codes("data__k__isnull=yes") == [("bad-value", "error")]


def test_array_index_segments_are_canonical() -> None:
    recs = [
        {"id": "a", "created_at": "2022-01-01T00:00:00Z", "data": {"t": ["x", "y"]}},
        {"id": "b", "created_at": "2022-01-02T00:00:00Z", "data": {"t": {"01": "y", "1": "y"}}},
    ]
    assert ids("data__t__1=y", recs) == ["b", "a"]
    assert ids("data__t__01=y", recs) == ["b"]


def test_dates_are_inclusive_whole_utc_days() -> None:
    (c,) = preds("start_date=2022-05-18&end_date=2022-05-19")
    assert c == CreatedAt("2022-05-18T00:00:00.000000Z", "2022-05-20T00:00:00.000000Z")
    for bad in ("2022-13-01", "2022-02-30", "20220519", "2022-5-9", "2022-05-19T00:00:00", "garbage", ""):
        assert codes(f"start_date={bad}") == [("bad-value", "error")], bad
    assert ("empty-range", "warning") in codes("start_date=2022-05-20&end_date=2022-05-19")
    assert ids("start_date=2022-05-20&end_date=2022-05-19") == []


def test_paging_and_ordering() -> None:
    q = parse("page=3&page_size=4&ordering=-data__last_name, id", "pixiebrix")
    assert (q.skip, q.limit) == (8, 4)
    assert q.sort == (SortKey(Field("last_name", J), True), SortKey(RecordAttr("id")))
    assert parse("", "pixiebrix").limit == 1000
    for bad in (
        "page=0",
        "page=-1",
        "page=x",
        "page=１",
        "page_size=1001",
        "page_size=0",
        "ordering=name",
        "ordering=--id",
        "ordering=id,",
        "ordering=data__",
        "ordering=data__a__isnull",
    ):
        assert any(s == "error" for _, s in codes(bad)), bad
    assert parse("page_size=5000", "pixiebrix", max_page_size=5000).limit == 5000
    assert ids("page=99") == []


def test_strict_mode_errors_name_the_parameter_and_position() -> None:
    res = parse_result("data__a=1&foo=bar&data__a=2", "pixiebrix")
    errs = [(d.code, d.location.param, d.location.index, d.location.column) for d in res.errors]
    assert errs == [("repeated-param", "data__a", 2, 19), ("unknown-param", "foo", 1, 11)]
    for bad in (
        "data__=x",
        "data__a____b=x",
        "data__a__=x",
        "data__isnull=true",
        "Data__x=1",
        "START_DATE=2022-01-01",
        "data__a__contains=x",
        "data__a__icontains=x",
        "data__a__regex=.*",
    ):
        assert any(s == "error" for _, s in codes(bad)), bad


def test_django_compat_mode_last_wins_and_ignores_unknowns_with_warnings() -> None:
    q = parse("data__a=1&foo=bar&data__a=2&page_size=5000", "pixiebrix", django_compat=True)
    assert [n for n in walk(q.predicate) if isinstance(n, Compare)] == [Compare(Field("a", J), Op.EQ, "2")]
    assert q.limit == 1000
    assert sorted(codes("data__a=1&foo=bar&data__a=2", django_compat=True)) == [
        ("repeated-param", "warning"),
        ("unknown-param", "warning"),
    ]


def test_encoded_equals_warns_with_the_fix() -> None:
    res = parse_result("data__user%20email%3Ddavid%40pixiebrix.com", "pixiebrix")
    (d,) = res.diagnostics
    assert d.code == "encoded-equals" and not d.is_error
    assert "data__user email=david@pixiebrix.com" in d.message
    assert preds("data__user%20email%3Ddavid%40pixiebrix.com") == [
        Compare(Field("user email=david@pixiebrix.com", J), Op.EQ, "")
    ]


def test_extended_lookups() -> None:
    kw = {"lookups": "extended"}
    assert preds("data__n__gt=5", **kw) == [Compare(Field("n", J), Op.GT, 5)]
    assert preds("data__n__lte=2.5", **kw) == [Compare(Field("n", J), Op.LTE, 2.5)]
    assert preds("data__s__gte=abc", **kw) == [Compare(Field("s", J), Op.GTE, "abc")]
    assert preds("data__s__in=a, b,c", **kw) == [Compare(Field("s", J), Op.IN, ("a", "b", "c"))]
    assert preds("data__s__icontains=Dav", **kw) == [Compare(Field("s", J), Op.CONTAINS, "Dav")]
    assert preds("data__s__iexact=DAVID", **kw) == [Compare(Field("s", J), Op.IEQ, "DAVID")]
    assert codes("data__n__gt=1e400", **kw) == [("number-out-of-range", "error")]
    assert codes("data__s__regex=x", **kw)[0] == ("unsupported-lookup", "error")
    with pytest.raises(FilterError):
        parse("data__first_name__iexact=DAVID", "pixiebrix")
    hits = [r["id"] for r in apply(parse("data__first_name__iexact=DAVID", "pixiebrix", **kw), RECORDS)]
    want = {
        r["id"]
        for r in RECORDS
        if isinstance(r["data"].get("first_name"), str) and r["data"]["first_name"].lower() == "david"
    }
    assert set(hits) == want and len(want) > len(ids("data__first_name=david"))


@pytest.mark.parametrize(
    "source",
    [
        {"data__first_name": "david"},
        [("data__first_name", "david")],
        {"data__first_name": ["david"]},
        b"data__first_name=david",
    ],
)
def test_mappings_pairs_and_bytes(source: object) -> None:
    assert preds(source) == [Compare(Field("first_name", J), Op.EQ, "david")]


def test_bad_encodings_and_types() -> None:
    assert codes("data__k=%ff") == [("invalid-encoding", "error")]
    assert codes(b"data__k=\xff") == [("invalid-encoding", "error")]
    assert codes({"data__k": 5})[0] == ("wrong-type", "error")
    assert codes(42)[0] == ("wrong-type", "error")
    assert codes("&".join(f"data__k{i}=v" for i in range(10_001)))[0] == ("too-large", "error")


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            list("data_&=%+?,-2FfAz é")
            + ["__", "data__", "isnull", "%3D", "%ff", "page=", "ordering=", "start_date=", "2022-05-19"]
        ),
        max_size=20,
    ).map("".join),
    st.booleans(),
    st.booleans(),
)
def test_only_filter_errors_escape(text: str, compat: bool, extended: bool) -> None:
    res = parse_result(text, "pixiebrix", django_compat=compat, lookups="extended" if extended else "strict")
    for d in res.diagnostics:
        assert d.code and (
            d.location.param is not None or d.location.offset is not None or d.location.index is not None
        )
    if res.query is not None:
        apply(res.query, RECORDS)


def test_empty_value_matches_the_empty_string_only() -> None:
    """SPEC 4: ``data__k=`` matches the JSON string "" (and not null, missing or other strings)."""
    recs = [
        {"id": "e", "created_at": "2022-01-03T00:00:00Z", "data": {"k": ""}},
        {"id": "n", "created_at": "2022-01-02T00:00:00Z", "data": {"k": None}},
        {"id": "x", "created_at": "2022-01-01T00:00:00Z", "data": {"k": "x"}},
        {"id": "m", "created_at": "2022-01-01T00:00:00Z", "data": {}},
    ]
    assert ids("data__k=", recs) == ["e"]
    assert ids("data__k=&data__j__isnull=true", recs) == ["e"]
    assert [r["id"] for r in apply(parse("data__k__iexact=", "pixiebrix", lookups="extended"), recs)] == ["e"]
    assert [r["id"] for r in apply(parse("data__k__icontains=", "pixiebrix", lookups="extended"), recs)] == [
        "x"
    ]


@pytest.mark.parametrize("engine", ["sqlite", "duckdb", "postgres", "mysql"])
def test_empty_value_equality_on_sql_engines(engine: str) -> None:
    from filterdsl.backends.sql import runners as sql_exec
    from filterdsl.records import normalize_dataset

    from conftest import mysql_available, need, postgres_available

    if engine == "postgres":
        need(postgres_available(), "PostgreSQL is not reachable")
    if engine == "mysql":
        need(mysql_available(), "MariaDB/MySQL is not reachable")
    recs = [
        {"id": i, "created_at": "2022-01-01T00:00:00Z", "data": {"k": v}}
        for i, v in (("e", ""), ("s", " "), ("x", "x"), ("n", None))
    ]
    for qs in ("data__k=", "data__k__iexact=", "data__k=%20"):
        q = parse(qs, "pixiebrix", lookups="extended")
        want = [r["id"] for r in apply(q, recs)]
        assert [d["id"] for d in sql_exec.run(q, normalize_dataset(recs), engine=engine)] == want, qs
