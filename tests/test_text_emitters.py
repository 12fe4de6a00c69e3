"""The text form (parse_text(to_text(q)) == q) and the emitters: expressible ASTs round-trip to the same
records; the rest raise not-expressible (never something different)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from filterdsl import FilterError, parse
from filterdsl.api import parse_result
from filterdsl.backends.memory import run
from filterdsl.emitters import to_format
from filterdsl.emitters.text import to_text

from conftest import CASES, CORPUS
from strategies import scenarios


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(weird_keys=True))
def test_text_round_trips_every_ast(sc) -> None:  # type: ignore[no-untyped-def]
    text = to_text(sc.query)
    assert parse(text, "text") == sc.query
    assert to_text(parse(text, "text")) == text  # canonical


def ids(q, data) -> list[str]:  # type: ignore[no-untyped-def]
    return [r["id"] for r in run(q, data)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.sampled_from(["search", "pixiebrix", "pitchly"]))
def test_emitters_keep_meaning_or_refuse(sc, fmt: str) -> None:  # type: ignore[no-untyped-def]
    try:
        out = to_format(sc.query, fmt)
    except FilterError as e:
        assert e.diagnostics[0].code == "not-expressible"
        return
    typed = fmt in ("search", "pitchly")
    back = parse(out, fmt, catalog=sc.catalog if typed else None, database=sc.database if typed else None)
    from filterdsl.ast import Query

    back = Query(back.predicate, back.sort, back.skip, back.limit, back.fields, sc.database)
    assert ids(back, sc.dataset) == ids(sc.query, sc.dataset)


@pytest.mark.parametrize("case", [c for c in CASES if isinstance(c["expect"], list)], ids=lambda c: c["name"])
def test_corpus_through_every_emitter(case: dict) -> None:
    import json

    from filterdsl import apply, load_catalog

    cat = load_catalog(CORPUS / "catalog.json")
    pixie = case["format"] == "pixiebrix"
    kw = {} if pixie else {"catalog": cat, "database": case["database"]}
    records = json.loads((CORPUS / ("pixiebrix_records.json" if pixie else "records.json")).read_text())
    q = parse(case["input"], case["format"], **kw)
    assert parse(to_text(q), "text") == q
    assert [r["id"] for r in apply(parse(to_text(q), "text"), records, catalog=cat)] == case["expect"]
    for fmt in ("search", "pixiebrix", "pitchly"):
        try:
            out = to_format(q, fmt)
        except FilterError as e:
            assert e.diagnostics[0].code == "not-expressible"
            continue
        back = parse(out, fmt, **(kw if fmt in ("search", "pitchly") else {}))
        from filterdsl.ast import Query

        back = Query(back.predicate, back.sort, back.skip, back.limit, back.fields, q.database)
        assert [r["id"] for r in apply(back, records, catalog=cat)] == case["expect"], (fmt, out)


def test_pixiebrix_emitter_refuses_or_with_the_node_named() -> None:
    q = parse('x:json is "a" or y:json is "b"', "text")
    with pytest.raises(FilterError) as e:
        to_format(q, "pixiebrix")
    assert e.value.diagnostics[0].code == "not-expressible" and "Or" in e.value.diagnostics[0].message


@pytest.mark.parametrize(
    "text, line, col",
    [("a is", 1, 5), ('a:string is "x"\nand (b > 1', 2, 11), ('a:strng is "x"', 1, 3), ('`a is "x"', 1, 1)],
)
def test_text_errors_are_located_with_a_caret(text: str, line: int, col: int) -> None:
    res = parse_result(text, "text")
    (d,) = res.errors
    assert d.code == "syntax-error" and (d.location.line, d.location.column) == (line, col)
    # one-line messages: the CLI and the validate reports draw the caret under the located line
    assert "\n" not in d.message and "^" not in d.message


def test_text_fields_by_name_with_a_schema() -> None:
    from filterdsl import load_catalog

    cat = load_catalog(CORPUS / "catalog.json")
    q = parse(
        '`Order Amount` > 100 and Status is "paid"',
        "text",
        catalog=cat,
        database="ixuPJwBRqtRP3GpoM",
        resolve_names=True,
    )
    assert "`59giDo5wnnLqurNpF`:number > 100" in to_text(q)
    res = parse_result(
        'Statsu is "paid"', "text", catalog=cat, database="ixuPJwBRqtRP3GpoM", resolve_names=True
    )
    assert res.errors[0].code == "unknown-field" and "Status" in res.errors[0].message


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_text_parser_only_raises_filter_errors(text: str) -> None:
    res = parse_result(text, "text")
    for d in res.diagnostics:
        assert d.code and d.location.line


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_pitchly_emitter_on_pitchly_shaped_queries(sc) -> None:  # type: ignore[no-untyped-def]
    """Scenario predicates with Pitchly's options around them: round-trip or refuse, never differ."""
    from filterdsl.ast import Field, InTrash, Not, Query, and_

    q = Query(
        and_(sc.query.predicate, Not(InTrash())),
        tuple(s for s in sc.query.sort if isinstance(s.key, Field)),
        sc.query.skip,
        100,
        None,
        sc.database,
    )
    try:
        out = to_format(q, "pitchly")
    except FilterError as e:
        assert e.diagnostics[0].code == "not-expressible"
        return
    back = parse(out, "pitchly", catalog=sc.catalog, database=sc.database)
    assert ids(back, sc.dataset) == ids(q, sc.dataset)


TERMS = st.text(alphabet=st.sampled_from(list("abcXYZ éÉß%_\\") + ["Σ", "日"]), min_size=1, max_size=4).map(
    str.strip
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.lists(st.lists(TERMS.filter(bool), min_size=1, max_size=3), min_size=1, max_size=3))
def test_search_emitter_round_trips(sc, clauses) -> None:  # type: ignore[no-untyped-def]
    from filterdsl.ast import InTrash, Not, Query, Search, and_

    fields = sc.catalog.get(sc.database).searchable()
    q = Query(
        and_(Search(tuple(tuple(c) for c in clauses), fields), Not(InTrash())),
        limit=100,
        database=sc.database,
    )
    back = parse(to_format(q, "search"), "search", catalog=sc.catalog, database=sc.database)
    assert back == q


PB_PARTS = st.sampled_from(
    [
        "data__a=x",
        "data__a=",
        "data__b__c=%C3%A9",
        "data__a__isnull=true",
        "data__b__isnull=false",
        "start_date=2022-05-18",
        "end_date=2022-05-19",
        "ordering=-id,data__a",
        "ordering=created_at",
        "page_size=4",
        "page=2",
        "data__t__0=y",
        "data__user%20email=d%40x.com",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(PB_PARTS, max_size=6, unique_by=lambda p: p.split("=")[0]))
def test_pixiebrix_emitter_round_trips(parts) -> None:  # type: ignore[no-untyped-def]
    q = parse("&".join(parts), "pixiebrix")
    assert parse(to_format(q, "pixiebrix"), "pixiebrix") == q


def test_pitchly_emitter_contradicting_trash_is_refused() -> None:
    """Found by hypothesis: `in trash and not in trash` once emitted removedAt: true (all trashed rows)."""
    from filterdsl.ast import And, InTrash, Not, Query

    with pytest.raises(FilterError) as e:
        to_format(Query(And((InTrash(), Not(InTrash()))), limit=100), "pitchly")
    assert e.value.diagnostics[0].code == "not-expressible"


def test_pitchly_emitter_negated_states_become_the_other_two() -> None:
    """NOT SET, EMPTY and HAS VALUE partition a field, so `not <state>` is the OR of the other two
    (filters on a typed field, include flags on a ref field); each selects what the negation selects."""
    from filterdsl import load_catalog
    from filterdsl.ast import Field, FieldState, FieldType, InTrash, Not, Query, State, and_

    cat, db = load_catalog(CORPUS / "catalog.json"), "ixuPJwBRqtRP3GpoM"
    name, client = Field("Nb6uqwKdxh3BFX3De", FieldType.STRING), Field("RyM8SyrYrceRsrLJd", FieldType.REF)
    out = to_format(Query(and_(Not(InTrash()), Not(FieldState(name, State.NOT_SET))), limit=100), "pitchly")
    assert out == {
        "filter": {
            "fields": {
                name.key: {"filters": [{"by": "is-empty"}, {"by": "has-any-value"}], "conjunction": "or"}
            }
        }
    }
    docs = [
        {
            "id": i,
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {name.key: v, client.key: v} if v != "-" else {},
        }
        for i, v in [("a", "-"), ("b", None), ("c", ""), ("d", "x")]
    ]
    for f in (name, client):
        for state in State:
            q = Query(and_(Not(InTrash()), Not(FieldState(f, state))), limit=100, database=db)
            back = parse(to_format(q, "pitchly"), "pitchly", catalog=cat, database=db)
            got, want = ids(back, {db: docs}), ids(q, {db: docs})
            expect = {
                State.NOT_SET: ["b", "c", "d"],
                State.EMPTY: ["a", "d"],
                State.HAS_VALUE: ["a", "b", "c"],
            }
            assert got == want == expect[state], (f, state)
