"""Issue 19, "first use without friction": one test (or more) per point a newcomer hit.

Points 1 and 8 (install instructions, docs that match the output) are also held by
tests/test_docs_examples.py, which runs every example of README.md and docs/*.md.
"""

from __future__ import annotations

import pytest

from filterdsl.api import parse_result

from conftest import CORPUS


# ---------------------------------------------------------------- 9. --django-compat never drops data__
@pytest.mark.parametrize("qs", ["data__age__gt=4", "data__first_name__startswith=d", "data__address____city=Paris",
                                "data__a__range=1,2", "data__isnull=true", "data__=x"])
def test_django_compat_never_drops_a_data_param(qs: str) -> None:
    """Django applies these or fails; ignoring one would return a silent superset (SPEC 4 and 8)."""
    for compat in (False, True):
        res = parse_result(qs, "pixiebrix", django_compat=compat)
        assert res.query is None, (qs, compat)
        assert res.errors and all(d.location.param == qs.split("=")[0] for d in res.errors)
        assert not any("ignored" in d.message and "never ignored" not in d.message for d in res.diagnostics)


def test_django_compat_still_relaxes_other_params_and_range_is_a_lookup() -> None:
    res = parse_result("foo=1&data__a=1&data__a=2", "pixiebrix", django_compat=True)
    assert res.query is not None and sorted(d.code for d in res.warnings) == ["repeated-param", "unknown-param"]
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
    assert d.message == ("unexpected end of text; expected one of: contains, ends, equals, has, in, is, "
                         "references, starts, <, <=, >, >=")
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
        "RyM8SyrYrceRsrLJd", "xEfek48BRpD3kAksh", "string")
    (d,) = parse_result('Status is "paid" and Client references "uJL9XrebupC7eWvM3" where (Nme is "x")', "text",
                        **kw).errors
    assert d.code == "unknown-field" and "'Clients'" in d.message and (d.location.line, d.location.column) == (1, 67)
