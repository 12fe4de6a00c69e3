"""Search strings (SPEC 3, 8): grammar, trimming, empty terms, quoted mode, limits, located errors."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filterdsl import FilterError, apply, parse
from filterdsl.api import parse_result
from filterdsl.ast import InTrash, Not, Search, walk

ORDERS = "ixuPJwBRqtRP3GpoM"


def clauses(text: str, **kw: object) -> tuple[tuple[str, ...], ...]:
    q = parse(text, "search", **kw)
    found = [n for n in walk(q.predicate) if isinstance(n, Search)]
    return found[0].clauses if found else ()


@pytest.mark.parametrize(
    "text, expected",
    [
        ("deal|money, acme", (("deal", "money"), ("acme",))),
        ("big client", (("big client",),)),  # inner spaces are part of the term
        ("  a  |\tb ,c ", (("a", "b"), ("c",))),
        ('say "hi"', (('say "hi"',),)),  # quotes are ordinary characters by default
        ("a||b,", (("a", "b"),)),
        (",,|,", ()),
        ("", ()),
        ("x\ny", (("x\ny",),)),
        ("100%_\\", (("100%_\\",),)),
    ],
)
def test_plain_terms(text: str, expected: tuple) -> None:
    assert clauses(text) == expected


def test_empty_terms_warn_with_their_position() -> None:
    res = parse_result("a||b,", "search")
    assert [(d.code, d.severity, d.location.line, d.location.column) for d in res.diagnostics] == [
        ("empty-term", "warning", 1, 3),
        ("empty-term", "warning", 1, 6),
    ]


def test_no_terms_means_no_constraint_but_trash_stays_excluded() -> None:
    assert parse(" , ", "search").predicate == Not(InTrash())


@pytest.mark.parametrize(
    "text, expected",
    [
        ('"x,y" | z', (("x,y", "z"),)),
        (r'"a\"b\\c"', (('a"b\\c',),)),
        ('pre "a|b" post', (("pre a|b post",),)),
        ('" padded "', ((" padded ",),)),  # quoted text is kept exactly
    ],
)
def test_quoted_mode(text: str, expected: tuple) -> None:
    assert clauses(text, quoted=True) == expected


def test_unterminated_quote_is_located() -> None:
    with pytest.raises(FilterError) as e:
        parse('ok,\nx "abc', "search", quoted=True)
    d = e.value.errors[0]
    assert (d.code, d.location.line, d.location.column, d.location.offset) == ("syntax-error", 2, 3, 6)


def test_term_limit_counts_non_empty_terms() -> None:
    parse("|".join(["t"] * 100) + "||,,", "search")
    with pytest.raises(FilterError) as e:
        parse("|".join(["t"] * 101), "search")
    assert e.value.errors[0].code == "too-large"


def test_unknown_database_is_an_error(catalog: object) -> None:
    with pytest.raises(FilterError) as e:
        parse("x", "search", catalog=catalog, database="nope")
    assert e.value.errors[0].code == "unknown-database"


def test_schema_limits_search_to_searchable_fields(catalog: object, records_json: dict) -> None:
    # "deal" occurs in Orders' searchable text; every hit really contains it in a searchable field.
    q = parse("deal", "search", catalog=catalog, database=ORDERS)
    hits = apply(q, records_json, catalog=catalog)
    assert hits and all("deal" in str(h["data"]).lower() for h in hits)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=40), st.booleans())
def test_only_filter_errors_escape(text: str, quoted: bool) -> None:
    try:
        q = parse(text, "search", quoted=quoted)
    except FilterError as e:
        assert all(d.code and d.location.line for d in e.diagnostics)
        return
    for node in walk(q.predicate):
        if isinstance(node, Search):
            assert all(t and t == t.strip() or quoted for c in node.clauses for t in c)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=' ab,|"\\\\', max_size=30), st.booleans())
def test_linear_scanner_agrees_with_the_grammar(text: str, quoted: bool) -> None:
    """The scanner (linear, issue 17 L2) reads exactly what grammar/search.lark's LALR parser reads."""
    from filterdsl.errors import Collector
    from filterdsl.frontends.search import split_terms

    c = Collector()
    got = split_terms(text, quoted, c)
    expected = _grammar_clauses(text, quoted)
    assert got == (expected if expected is not None else [])
    assert [d.code for d in c.items if d.is_error] == ([] if expected is not None else ["syntax-error"])


def _grammar_clauses(text: str, quoted: bool) -> list[list[str]] | None:
    """The clauses by the grammar file itself (the oracle): None for a syntax error."""
    from lark import Lark, Token
    from lark.exceptions import UnexpectedInput

    from filterdsl.frontends import grammar_path
    from filterdsl.frontends.search import _Piece, _term_text

    parser = Lark(
        grammar_path("search.lark").read_text(encoding="utf-8"),
        parser="lalr",
        start=["plain", "quoted"],
        maybe_placeholders=False,
    )
    try:
        tree = parser.parse(text, start="quoted" if quoted else "plain")
    except UnexpectedInput:
        return None
    clauses = []
    for node in tree.children:
        if isinstance(node, Token):
            continue
        terms = []
        for t in node.children:
            if isinstance(t, Token):
                continue
            term = _term_text(
                [_Piece(p.type, str(p), p.start_pos or 0) for p in t.children if isinstance(p, Token)]
            )
            if term:
                terms.append(term)
        if terms:
            clauses.append(terms)
    return clauses
