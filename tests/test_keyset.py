"""Keyset pagination (``Query.after``, semantics.cursor) in the reference engine, and the cursor token.

Hand-checked orders (SPEC 8: NOT SET and EMPTY first ascending, wrong types after well-typed values,
ties by created_at descending then id ascending): the page after every row is exactly the rest of the
order. Then a differential property: walking every page with cursors gives the unpaged sequence.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import filterdsl
from filterdsl import ast as A
from filterdsl.backends.memory import run
from filterdsl.cursor import decode, encode, next_cursor, with_after
from filterdsl.errors import FilterError
from filterdsl.semantics.cursor import cursor_of, cursor_problem, representative, sort_point
from filterdsl.semantics.paths import MISSING
from tests.keyset_support import unpaged, walk
from tests.strategies import scenarios

T = A.FieldType


def rec(rid, value=MISSING, created="2020-01-01", key="k", **more):
    data = {} if value is MISSING else {key: value}
    data.update(more)
    return {
        "id": rid,
        "created_at": f"{created}T00:00:00.000000Z",
        "updated_at": None,
        "removed_at": None,
        "data": data,
    }


def q(*keys, **kw):
    return A.Query(sort=tuple(A.SortKey(A.Field(k, t), d) for k, t, d in keys), **kw)


def ids(docs):
    return [d["id"] for d in docs]


def check_every_cursor(query, docs, expected):
    """The full order is ``expected``; the page after each row is the rest of it."""
    assert ids(run(query, {None: docs})) == expected
    by_id = {d["id"]: d for d in docs}
    for i, rid in enumerate(expected):
        after = dataclasses.replace(query, after=cursor_of(query, by_id[rid]))
        assert ids(run(after, {None: docs})) == expected[i + 1 :], rid


NUMBERS = [
    rec("a", created="2020-01-02"),  # NOT SET
    rec("b", None),  # EMPTY: ties with NOT SET, created_at decides
    rec("c", 3),
    rec("d", 5),
    rec("e", 5.0, created="2020-01-02"),  # ties with 5: created_at descending puts it first
    rec("f", "x"),
    rec("g", True),
    rec("h", [1]),
    rec("i", {}),
    rec("j", "a"),
    rec("k", ""),  # EMPTY
    rec("l", [2, 3]),  # ties with h: id decides
]


def test_number_ascending_every_cursor():
    query = q(("k", T.NUMBER, False))
    check_every_cursor(query, NUMBERS, ["a", "b", "k", "c", "e", "d", "j", "f", "g", "h", "l", "i"])


def test_number_descending_every_cursor():
    query = q(("k", T.NUMBER, True))
    # groups and values reversed; ties still created_at descending, then id ascending
    check_every_cursor(query, NUMBERS, ["i", "h", "l", "g", "f", "j", "e", "d", "c", "a", "b", "k"])


def test_mixed_directions_two_keys():
    docs = [
        rec("r1", "b", n=1),
        rec("r2", "a", n=1),
        rec("r3", "a", n=2),
        rec("r4", "b", n=2),
        rec("r5", "a"),
        rec("r6", MISSING, n=9),
        rec("r7", "b", n="z"),
        rec("r8", "a", n=2, created="2019-12-31"),
    ]
    query = q(("k", T.STRING, False), ("n", T.NUMBER, True))
    # k ascending (missing first); inside, n descending: wrong types first, then numbers, empties last
    check_every_cursor(query, docs, ["r6", "r3", "r8", "r2", "r5", "r7", "r4", "r1"])


def test_dates_by_day_bad_text_after():
    docs = [
        rec("d1", "2020-01-05T23:00:00Z"),
        rec("d2", "2020-01-05", created="2020-01-03"),  # the same day as d1: created_at decides
        rec("d3", "2020-01-04T00:00:00.000Z"),
        rec("d4", "2020-13-01"),  # not a day: a wrong-typed string, after the days
        rec("d5", "abc"),
        rec("d6", None),
        rec("d7", 20200101),  # a number: wrong typed, before the strings
    ]
    query = q(("k", T.DATE, False))
    check_every_cursor(query, docs, ["d6", "d3", "d2", "d1", "d7", "d4", "d5"])
    assert sort_point(T.DATE, "2020-01-05T23:00:00Z") == A.CursorKey(1, "2020-01-05")
    assert sort_point(T.DATE, "2020-13-01") == A.CursorKey(3, "2020-13-01")


def test_currency_by_amount_and_ref_by_id():
    docs = [
        rec("m1", {"val": 5, "currency": "USD"}),
        rec("m2", {"val": 5, "currency": "EUR"}),  # same amount: a tie, id decides
        rec("m3", {"val": 2.5}),
        rec("m4", {"val": "x"}),  # an object without an amount: wrong typed, last
        rec("m5", 7),  # a bare number: wrong typed, before the object
        rec("m6"),
    ]
    check_every_cursor(q(("k", T.CURRENCY, True)), docs, ["m4", "m5", "m1", "m2", "m3", "m6"])
    refs = [rec("x1", "t2"), rec("x2", "t10"), rec("x3", "t1"), rec("x4", [])]
    check_every_cursor(q(("k", T.REF, False)), refs, ["x4", "x3", "x2", "x1"])


def test_record_attributes_and_default_order():
    docs = [rec(f"r{i}", created=f"2020-01-0{1 + i % 3}") for i in range(7)]
    docs[2]["updated_at"] = "2021-01-01T00:00:00.000000Z"
    docs[5]["updated_at"] = "2020-06-01T00:00:00.000000Z"
    # no sort: the default order itself (created_at descending, id ascending)
    check_every_cursor(A.Query(), docs, ["r2", "r5", "r1", "r4", "r0", "r3", "r6"])
    by_updated = A.Query(sort=(A.SortKey(A.RecordAttr("updated_at"), True),))
    check_every_cursor(by_updated, docs, ["r2", "r5", "r1", "r4", "r0", "r3", "r6"])
    by_updated_asc = A.Query(sort=(A.SortKey(A.RecordAttr("updated_at"), False),))
    check_every_cursor(by_updated_asc, docs, ["r1", "r4", "r0", "r3", "r6", "r5", "r2"])


def test_after_combines_with_filter_skip_and_limit():
    docs = [rec(f"r{i}", i) for i in range(10)]
    base = q(("k", T.NUMBER, False), predicate=A.Compare(A.Field("k", T.NUMBER), A.Op.GTE, 2))
    cur = cursor_of(base, docs[4])
    page = dataclasses.replace(base, after=cur, skip=1, limit=2)
    assert ids(run(page, {None: docs})) == ["r6", "r7"]
    # a cursor row the filter no longer selects still places the page
    gone = dataclasses.replace(base, after=cursor_of(base, docs[0]), limit=2)
    assert ids(run(gone, {None: docs})) == ["r2", "r3"]


def test_representative_has_the_same_place():
    for t, v in [
        (T.NUMBER, 5),
        (T.NUMBER, "x"),
        (T.NUMBER, [1]),
        (T.NUMBER, {"a": 1}),
        (T.CURRENCY, {"val": 3, "currency": "USD"}),
        (T.DATE, "2020-01-01T10:00Z"),
        (T.STRING, True),
        (T.JSON, "s"),
    ]:
        p = sort_point(t, v)
        assert sort_point(t, representative(t, p)) == p
    assert representative(T.NUMBER, sort_point(T.NUMBER, None)) is MISSING


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.integers(1, 4))
def test_walking_pages_gives_the_unpaged_order(sc, size):
    """Every backend's differential test does the same (tests/keyset_support.walk)."""
    data = sc.dataset
    by_id = {d["id"]: d for d in data["main"]}
    expected = ids(run(unpaged(sc.query), data))
    assert walk(lambda qq: run(qq, data), sc.query, size, by_id) == expected


# ---------------------------------------------------------------- tokens and validation
QN = q(("k", T.NUMBER, True))


def test_token_round_trip_and_public_helper():
    doc = rec("z", 5, created="2020-01-02")
    token = filterdsl.next_cursor(QN, doc)
    assert decode(token) == cursor_of(QN, doc)
    assert "=" not in token and "+" not in token and "/" not in token
    # any accepted record shape: a PixieBrix record
    pb = {"id": "z", "created_at": "2020-01-02T00:00:00Z", "data": {"k": 5}}
    assert next_cursor(QN, pb) == token
    assert with_after(QN, token).after == cursor_of(QN, doc)


def test_signed_tokens():
    doc = rec("z", 5)
    token = next_cursor(QN, doc, secret="s3cret")
    assert with_after(QN, token, "s3cret").after == cursor_of(QN, doc)
    body, mac = token.split(".")
    for bad in (
        body,
        body + "." + mac[:-1] + ("A" if mac[-1] != "A" else "B"),
        next_cursor(QN, doc, secret="other"),
    ):
        with pytest.raises(FilterError) as e:
            with_after(QN, bad, "s3cret")
        assert e.value.diagnostics[0].code == "bad-cursor"
        assert e.value.diagnostics[0].location.param == "after"
    # a tampered body under the old signature
    forged = encode(dataclasses.replace(cursor_of(QN, doc), id="y")) + "." + mac
    with pytest.raises(FilterError, match="signature"):
        with_after(QN, forged, "s3cret")


@pytest.mark.parametrize("token", ["", "!!!", "eyJ2IjoyfQ", "bm90IGpzb24", "e30", "W10"])
def test_garbage_tokens(token):
    with pytest.raises(FilterError) as e:
        with_after(QN, token)
    assert [d.code for d in e.value.diagnostics] == ["bad-cursor"]


def test_cursor_for_another_sort_is_refused():
    token = next_cursor(QN, rec("z", 5))
    other = q(("k", T.NUMBER, False))
    with pytest.raises(FilterError, match="another sort"):
        with_after(other, token)


@pytest.mark.parametrize(
    "keys, where",
    [
        ((), "/after/keys"),
        ((A.CursorKey(1, "5"),), "/after/keys/0"),  # a string is not a number's value
        ((A.CursorKey(2, 5),), "/after/keys/0"),  # a number is never wrong typed for a number field
        ((A.CursorKey(1, True),), "/after/keys/0"),
        ((A.CursorKey(0, 1),), "/after/keys/0"),
        ((A.CursorKey(7),), "/after/keys/0"),
        ((A.CursorKey(5, [1]),), "/after/keys/0"),
        ((A.CursorKey(1, float("nan")),), "/after/keys/0"),
    ],
)
def test_cursor_shapes_are_checked(keys, where):
    bad = dataclasses.replace(QN, after=A.Cursor(keys, "2020-01-01T00:00:00.000000Z", "x"))
    assert cursor_problem(bad)[0] == where
    with pytest.raises(FilterError) as e:
        run(bad, {None: []})
    assert e.value.diagnostics[0].code == "bad-cursor"


def test_bad_created_at_and_ast_json():
    good = cursor_of(QN, rec("z", 5))
    assert cursor_problem(dataclasses.replace(QN, after=dataclasses.replace(good, created_at="yesterday")))[
        0
    ] == ("/after/created_at")
    paged = dataclasses.replace(QN, after=good, limit=10)
    j = A.to_json(paged)
    assert j["after"] == {"keys": [[1, 5]], "created_at": good.created_at, "id": "z", "sort": good.sort}
    assert A.from_json(json.loads(json.dumps(j))) == paged
    assert "after" not in A.to_json(QN)  # unchanged JSON form without a cursor
    # through the AST frontend: validated like any input (a located bad-cursor)
    j["after"]["keys"] = [[1, "five"]]
    diags = filterdsl.validate(j, "ast")
    assert [(d.code, d.location.pointer) for d in diags] == [("bad-cursor", "/after/keys/0")]
    j["after"] = {"keys": "x"}
    assert [d.code for d in filterdsl.validate(j, "ast")] == ["bad-ast-json"]


def test_projection_without_the_sort_key_cannot_make_a_cursor():
    projected = dataclasses.replace(QN, fields=("other",))
    with pytest.raises(FilterError, match="not among the query's fields"):
        next_cursor(projected, rec("z", MISSING, other=1))


# ---------------------------------------------------------------- frontends and emitters
RECS = [{"id": str(i), "created_at": "2020-01-01T00:00:00Z", "data": {"n": i % 3}} for i in range(7)]


def test_pixiebrix_after_param_walks_the_listing():
    first = filterdsl.parse("ordering=-data__n&page_size=2", "pixiebrix")
    seen, q = [], first
    while True:
        page = filterdsl.apply(q, RECS)
        seen += ids(page)
        if len(page) < 2:
            break
        q = filterdsl.parse(
            f"ordering=-data__n&page_size=2&after={next_cursor(first, page[-1])}", "pixiebrix"
        )
    assert seen == ids(filterdsl.apply(dataclasses.replace(first, limit=None), RECS))
    # emitted back with its token, and parsed to the same query
    text = filterdsl.to_format(q, "pixiebrix")
    assert "after=" in text and filterdsl.parse(text, "pixiebrix") == q
    # page counts from the cursor
    paged = filterdsl.parse(text + "&page=2", "pixiebrix")
    assert paged.after == q.after and paged.skip == 2


def test_pixiebrix_after_errors_are_located():
    token = next_cursor(filterdsl.parse("ordering=-data__n", "pixiebrix"), RECS[0])
    diags = filterdsl.validate(f"ordering=data__n&after={token}", "pixiebrix")
    assert [(d.code, d.location.param) for d in diags] == [("bad-cursor", "after")]
    assert [d.code for d in filterdsl.validate("after=nope", "pixiebrix")] == ["bad-cursor"]
    signed = next_cursor(filterdsl.parse("ordering=-data__n", "pixiebrix"), RECS[0], secret="k")
    ok = filterdsl.parse(f"ordering=-data__n&after={signed}", "pixiebrix", cursor_secret="k")
    assert ok.after is not None
    bad = filterdsl.validate(f"ordering=-data__n&after={signed[:-2]}", "pixiebrix", cursor_secret="k")
    assert [d.code for d in bad] == ["bad-cursor"]


def test_pitchly_after_option():
    catalog = {
        "databases": [{"_id": "db", "name": "DB", "fields": [{"_id": "n", "name": "N", "type": "number"}]}]
    }
    first = filterdsl.parse({"databaseId": "db", "sort": {"n": -1}, "limit": 2}, "pitchly", catalog)
    page = filterdsl.apply(first, RECS, catalog)
    token = next_cursor(first, page[-1])
    q = filterdsl.parse(
        {"databaseId": "db", "sort": {"n": -1}, "limit": 2, "after": token}, "pitchly", catalog
    )
    assert (
        ids(filterdsl.apply(q, RECS, catalog))
        == ids(filterdsl.apply(dataclasses.replace(first, limit=None), RECS, catalog))[2:4]
    )
    out = filterdsl.to_format(q, "pitchly")
    assert out["after"] == token and filterdsl.parse(out, "pitchly", catalog) == q
    diags = filterdsl.validate({"databaseId": "db", "sort": {"n": 1}, "after": token}, "pitchly", catalog)
    assert [(d.code, d.location.pointer) for d in diags] == [("bad-cursor", "/after")]
    wrong = filterdsl.validate({"databaseId": "db", "after": 5}, "pitchly", catalog)
    assert [d.code for d in wrong] == ["bad-cursor"]


def test_explain_shows_the_cursor_place():
    from filterdsl.emitters.explain import explain

    first = filterdsl.parse("ordering=-data__n&page_size=2", "pixiebrix")
    q = with_after(first, next_cursor(first, RECS[2]))
    assert "  AFTER rank 2 2, @created_at 2020-01-01T00:00:00.000000Z, @id '2'" in explain(q).splitlines()
