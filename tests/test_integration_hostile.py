"""Hostile values through the integrations: a NUL character, numbers past every engine's range, bytes
that are not UTF-8. Each gets the exact answer (the in-memory engine's) where the engine can be asked,
or a located FilterError (HTTP 400 through DRF), never a driver exception or an HTTP 500. PostgreSQL
text cannot hold a NUL and SQLite's JSON functions cut a string at one, so a NUL value is refused
there (MariaDB answers it exactly); a NUL in a key is refused everywhere (keys are SQL text)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

pytest.importorskip("django")
pytest.importorskip("rest_framework")
pytest.importorskip("sqlalchemy")

import test_integration_django as dj  # noqa: E402  (configures Django)
import test_integration_sqlalchemy as sa_tests  # noqa: E402
from sqlalchemy import select  # noqa: E402

from filterdsl import FilterError, parse  # noqa: E402
from filterdsl.backends.memory import run  # noqa: E402
from filterdsl.integrations.sqlalchemy import apply, where  # noqa: E402

alias, pb, env = (
    dj.alias,
    dj.pb,
    sa_tests.env,
)  # fixtures: Django on SQLite/PostgreSQL, SQLAlchemy on 3 engines

NUL_VALUE = ["data__first_name=a%00b", "data__first_name__in=david,a%00b", "data__first_name__icontains=%00"]
NUL_KEY = ["data__a%00b=x", "ordering=data__a%00b", "data__a%00b__isnull=true"]
HUGE = [
    "data__age__gt=1e400",
    "data__age__gte=" + "9" * 5000,
    "page=" + "9" * 30,
    "page_size=" + "9" * 5000,
    "data__age__lt=-9007199254740993",
]
BAD_UTF8 = ["data__first_name=%ff", "data__%c3=1", "ordering=data__%80"]


def _client() -> Any:
    from rest_framework.test import APIClient

    return APIClient()


def _memory(qs: str) -> list[str]:
    return [r["id"] for r in run(parse(qs, "pixiebrix", lookups="extended"), {None: dj.PB_DOCS})]


@pytest.mark.parametrize("qs", NUL_VALUE + NUL_KEY + HUGE + BAD_UTF8)
def test_drf_never_500(pb: str, qs: str) -> None:
    res = _client().get(f"/{pb}/records/?{qs}")
    assert res.status_code in (200, 400), res.content
    # a NUL value: refused on PostgreSQL and SQLite, answered exactly by MariaDB ("my")
    refused = qs in NUL_KEY or qs in HUGE or qs in BAD_UTF8 or (qs in NUL_VALUE and pb != "my")
    if refused:
        assert res.status_code == 400, res.content
        errors = res.json()["errors"]
        assert errors and all(e["location"].get("param") for e in errors), errors
        codes = {e["code"] for e in errors}
        expected = {
            **{q: {"bad-value"} for q in NUL_KEY + NUL_VALUE},
            **{q: {"invalid-encoding"} for q in BAD_UTF8},
        }.get(qs, {"bad-value", "number-out-of-range"})
        assert codes <= expected, codes
    else:
        assert res.status_code == 200, res.content
        assert [r["id"] for r in res.json()] == _memory(qs)


def test_drf_pitchly_body_with_nul(corpus: str) -> None:
    case = next(c for c in dj.GOOD if c["format"] == "pitchly")
    body = {"filter": {"fields": {"Nb6uqwKdxh3BFX3De": {"filters": [{"by": "is", "value": "a\x00b"}]}}}}
    res = _client().post(f"/{corpus}/databases/ixuPJwBRqtRP3GpoM/data", body, format="json")
    if corpus == "my":  # MariaDB stores and compares a NUL exactly
        assert res.status_code == 200 and res.json() == []
    else:  # PostgreSQL and SQLite cannot hold a NUL exactly
        assert res.status_code == 400
        assert res.json()["errors"][0]["code"] == "bad-value"
        assert res.json()["errors"][0]["location"]["pointer"].startswith("/predicate")
    assert case  # the corpus loaded (the corpus fixture) so a 200 is a real answer


corpus = dj.corpus


def test_filter_queryset_raises_located_filter_error(alias: str) -> None:
    q = parse("data__first_name=a%00b", "pixiebrix")
    qs = dj.JSON_MODELS["main"].objects.using(alias)
    if alias == "my":  # MariaDB stores and compares a NUL exactly
        assert list(dj.filter_queryset(qs, q)) == []
    else:  # PostgreSQL and SQLite cannot hold a NUL exactly
        with pytest.raises(FilterError) as e:
            dj.filter_queryset(qs, q)
        assert e.value.diagnostics[0].code == "bad-value"
        assert e.value.diagnostics[0].location.pointer == "/predicate/items/0"
    with pytest.raises(FilterError):
        dj.filter_queryset(qs, parse("data__a%00=1", "pixiebrix"))


# ------------------------------------------------------------------ SQLAlchemy on SQLite, PostgreSQL, MariaDB
def test_sqlalchemy_nul(env: Any) -> None:
    docs = dj.PB_DOCS
    tables = env.load_json({None: docs})
    t = tables[None]
    for qs in NUL_VALUE:
        q = parse(qs, "pixiebrix", lookups="extended")
        if env.name in ("postgres", "sqlite"):  # MariaDB stores and compares a NUL exactly
            with pytest.raises(FilterError) as e:
                env.ids(apply(select(t.c.id), q, t))
            assert e.value.diagnostics[0].code == "bad-value" and e.value.diagnostics[0].location.pointer
        else:
            assert env.ids(apply(select(t.c.id), q, t)) == [r["id"] for r in run(q, {None: docs})], qs
            unpaged = dataclasses.replace(q, skip=0, limit=None)
            assert set(env.ids(select(t.c.id).where(where(q, t)))) == {
                r["id"] for r in run(unpaged, {None: docs})
            }
    for qs in NUL_KEY:
        with pytest.raises(FilterError):
            env.ids(apply(select(t.c.id), parse(qs, "pixiebrix"), t))
