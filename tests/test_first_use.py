"""Issue 19, "first use without friction": one test (or more) per point a newcomer hit.

Points 1 and 8 (install instructions, docs that match the output) are also held by
tests/test_docs_examples.py, which runs every example of README.md and docs/*.md.
"""

from __future__ import annotations

import pytest

from filterdsl.api import parse_result


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
