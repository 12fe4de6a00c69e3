"""FilterdslFilter beside DRF's own pieces: SearchFilter, OrderingFilter, django-filter's
DjangoFilterBackend and the three paginators (PageNumberPagination, LimitOffsetPagination,
CursorPagination), alone and together. Each parameter goes to its owner (read from the view), the
paginator pages and counts (filterdsl never slices then), and the records are the in-memory engine's
on the rows the other backends keep. Also: the OpenAPI parameters in DRF's generated schema, the
browsable API's filter form, and the DRF-shaped error body."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

pytest.importorskip("django")
pytest.importorskip("rest_framework")
pytest.importorskip("django_filters")

import test_integration_django as dj  # noqa: E402  (configures Django)
from test_integration_django import OWNERS, PB_DOCS  # noqa: E402

from filterdsl import parse  # noqa: E402
from filterdsl.backends.memory import run  # noqa: E402

alias, pb = dj.alias, dj.pb  # the fixtures: the models' tables on SQLite and PostgreSQL, the records loaded


def _client() -> Any:
    from rest_framework.test import APIClient  # after test_integration_django configured Django

    return APIClient()


FILTER = "data__first_name__isnull=false&ordering=-data__first_name"  # filterdsl's part: most records, its own order


def _docs(owner: str | None = None, search: str | None = None) -> list[dict[str, Any]]:
    out = []
    for d, o in zip(PB_DOCS, OWNERS):
        if owner is not None and o != owner:
            continue
        if search is not None and search.lower() not in o.lower():
            continue
        out.append(d)
    return out


def _expected(qs: str, docs: list[dict[str, Any]]) -> list[str]:
    q = dataclasses.replace(parse(qs, "pixiebrix", lookups="extended"), skip=0, limit=None)
    return [r["id"] for r in run(q, {None: docs})]


def _get(db: str, combo: str, qs: str) -> Any:
    return _client().get(f"/{db}/combo/{combo}/?{qs}")


def _ids(body: Any) -> list[str]:
    rows = body["results"] if isinstance(body, dict) else body
    return [r["id"] for r in rows]


def test_expectations_are_not_trivial() -> None:
    full = _expected(FILTER, _docs())
    assert 4 <= len(full) < len(PB_DOCS)
    assert _expected(FILTER, _docs("me")) != full


# ------------------------------------------------------------------ filter backends, alone and together
def test_search_filter_owns_search(pb: str) -> None:
    res = _get(pb, "search", f"search=me&{FILTER}")
    assert res.status_code == 200, res.content
    assert _ids(res.json()) == _expected(FILTER, _docs(search="me"))[:1000]


def test_ordering_filter_owns_ordering(pb: str) -> None:
    res = _get(pb, "ordering", "data__first_name__isnull=false&ordering=-id")
    assert res.status_code == 200, res.content
    assert _ids(res.json()) == sorted(_expected("data__first_name__isnull=false", _docs()), reverse=True)
    # filterdsl's order stays the tie-breaker after OrderingFilter's key (FilterdslFilter runs last)
    res = _get(pb, "ordering", "data__first_name__isnull=false&ordering=owner")
    rows = _expected("data__first_name__isnull=false", _docs())
    owner = dict(zip((d["id"] for d in PB_DOCS), OWNERS))
    assert _ids(res.json()) == sorted(rows, key=lambda i: owner[i])  # stable: filterdsl's order within


def test_ordering_without_ordering_filter_is_filterdsls(pb: str) -> None:
    res = _get(pb, "search", FILTER)
    assert _ids(res.json()) == _expected(FILTER, _docs())


def test_django_filter_owns_its_fields(pb: str) -> None:
    res = _get(pb, "djf", f"owner=me&{FILTER}")
    assert res.status_code == 200, res.content
    assert _ids(res.json()) == _expected(FILTER, _docs("me"))


def test_format_is_drf_s(pb: str) -> None:
    res = _get(pb, "search", f"{FILTER}&format=json")
    assert res.status_code == 200 and _ids(res.json()) == _expected(FILTER, _docs())


def test_unknown_params_are_still_errors(pb: str) -> None:
    res = _get(pb, "search+ordering+djf", f"{FILTER}&serch=me")
    assert res.status_code == 400
    assert [(e["code"], e["location"]["param"]) for e in res.json()["errors"]] == [("unknown-param", "serch")]
    # located in the raw query string although other backends' parameters were set aside
    res = _get(pb, "search", "search=me&bogus=1")
    assert res.json()["errors"][0]["location"]["column"] == len("search=me&") + 1


# ------------------------------------------------------------------ paginators: they page, counts stay right
def test_page_number_pagination(pb: str) -> None:
    full = _expected(FILTER, _docs())
    res = _get(pb, "none~pages", f"{FILTER}&page=2&page_size=2")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["count"] == len(full)
    assert _ids(body) == full[2:4]
    assert body["next"] and "page=3" in body["next"] and "data__first_name__isnull=false" in body["next"]
    res = _get(pb, "none~pages", f"{FILTER}&page=2")  # the paginator's page size (3)
    assert _ids(res.json()) == full[3:6]


def test_page_size_not_taken_by_the_paginator_is_an_error(pb: str) -> None:
    res = _get(pb, "none~pages_fixed", f"{FILTER}&page_size=2")
    assert res.status_code == 400
    err = res.json()["errors"][0]
    assert (err["code"], err["location"]["param"]) == ("unknown-param", "page_size")
    assert "PagesFixed" in err["message"]


def test_limit_offset_pagination(pb: str) -> None:
    full = _expected(FILTER, _docs())
    res = _get(pb, "none~offsets", f"{FILTER}&limit=2&offset=1")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["count"] == len(full) and _ids(body) == full[1:3]


def test_cursor_pagination_walks_every_record(pb: str) -> None:
    expected = sorted(_expected("data__first_name__isnull=false", _docs()))  # the paginator's own order: id
    url: str | None = f"/{pb}/combo/none~cursor/?data__first_name__isnull=false"
    got: list[str] = []
    pages = 0
    while url:
        res = _client().get(url)
        assert res.status_code == 200, res.content
        body = res.json()
        got += _ids(body)
        url = body["next"]
        if url:
            u = urlparse(url)
            assert parse_qs(u.query)["data__first_name__isnull"] == ["false"]
            url = f"{u.path}?{u.query}"
        pages += 1
    assert got == expected and pages >= 2


@pytest.mark.parametrize("pager", ["pages", "offsets"])
def test_everything_together(pb: str, pager: str) -> None:
    paging = "page=1&page_size=2" if pager == "pages" else "limit=2&offset=0"
    qs = f"search=me&owner=me&ordering=-id&data__first_name__isnull=false&{paging}&format=json"
    res = _get(pb, f"search+ordering+djf~{pager}", qs)
    assert res.status_code == 200, res.content
    body = res.json()
    full = sorted(_expected("data__first_name__isnull=false", _docs("me")), reverse=True)
    assert body["count"] == len(full) and _ids(body) == full[:2]


def test_filterdsl_first_then_ordering_filter(pb: str) -> None:
    """Backends run in the view's order: OrderingFilter after FilterdslFilter re-orders, which is
    DRF's rule; the paginator still counts every match."""
    res = _get(pb, "fdsl-first+ordering~pages", "data__first_name__isnull=false&ordering=id&page_size=50")
    body = res.json()
    assert _ids(body) == sorted(_expected("data__first_name__isnull=false", _docs()))
    assert body["count"] == len(body["results"])


def test_owned_params_read_from_the_view() -> None:
    from fdsl_djangoapp.models import PBRecord
    from fdsl_djangoapp.views import combo

    from filterdsl.integrations.django import owned_params

    view = combo("search+ordering+djf~cursor")()
    owned = owned_params(view, PBRecord.objects.all())
    assert {"search", "ordering", "owner", "cursor", "format"} <= set(owned)
    assert "page" not in owned and "data__age" not in owned
    assert owned["search"] == "SearchFilter" and owned["cursor"] == "Cursor"
    assert "ordering" not in owned_params(combo("search~pages")())


# ------------------------------------------------------------------ error body shaped as DRF's
def test_drf_error_body(pb: str) -> None:
    res = _client().get(f"/{pb}/drf-errors/?data__a__regex=1&page=0")
    assert res.status_code == 400
    body = res.json()
    assert set(body) == {"data__a__regex", "page"}
    assert all(isinstance(v, list) and all(isinstance(m, str) for m in v) for v in body.values())


# ------------------------------------------------------------------ OpenAPI and the browsable API
def _check_typed_listing(params: dict[str, Any]) -> None:
    """The orders view's typed parameters, which DRF and drf-spectacular both read from the backend."""
    assert params["data__59giDo5wnnLqurNpF"]["schema"] == {"type": "number"}
    assert params["data__jA7HzNQYZS56LGCbj"]["schema"] == {
        "type": "string",
        "format": "date",
        "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    }
    # the same listing as schema_export.pixiebrix_parameters: __isnull and enums too
    assert params["data__59giDo5wnnLqurNpF__isnull"]["schema"] == {
        "type": "string",
        "enum": ["true", "false"],
    }
    assert params["data__Popw6SRW8pL2RqECF"]["schema"]["enum"] == ["new", "paid", "shipped", "cancelled"]


def _check_mixed_listing(schema: dict[str, Any]) -> None:
    """A view with OrderingFilter and offsets: ordering listed once (OrderingFilter's), no page."""
    mixed = [p["name"] for p in schema["paths"]["/mixed/"]["get"]["parameters"]]
    assert mixed.count("ordering") == 1 and mixed.count("search") == 1
    assert {"limit", "offset", "start_date"} <= set(mixed) and "page" not in mixed


def test_openapi_parameters_in_drf_schema() -> None:
    pytest.importorskip("uritemplate")
    from django.urls import path
    from fdsl_djangoapp.views import CatalogRecords, combo
    from rest_framework.schemas.openapi import SchemaGenerator

    patterns = [
        path("orders/", CatalogRecords.as_view()),
        path("mixed/", combo("search+ordering~offsets").as_view()),
    ]
    schema = SchemaGenerator(patterns=patterns, title="t").get_schema(request=None, public=True)
    params = {p["name"]: p for p in schema["paths"]["/orders/"]["get"]["parameters"]}
    assert params["data__4fuB6sJxuvJ2jrZJj"]["schema"] == {"type": "boolean"}
    _check_typed_listing(params)
    assert "Order Amount" in params["data__59giDo5wnnLqurNpF"]["description"]
    assert {"start_date", "end_date", "ordering", "page", "page_size"} <= set(params)  # page: the paginator's
    _check_mixed_listing(schema)


def test_browsable_api_filter_form(pb: str) -> None:
    res = _client().get(f"/{pb}/combo/search~pages/?search=me&format=api", HTTP_ACCEPT="text/html")
    assert res.status_code == 200
    html = res.content.decode()
    assert 'name="start_date"' in html and 'name="ordering"' in html
    assert '<input type="hidden" name="search" value="me">' in html


def test_openapi_parameters_in_drf_spectacular_schema() -> None:
    """drf-spectacular calls the same get_schema_operation_parameters on list views."""
    pytest.importorskip("drf_spectacular")
    from django.urls import path
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.openapi import AutoSchema
    from fdsl_djangoapp.views import CatalogRecords, combo

    class Orders(CatalogRecords):  # type: ignore[misc,valid-type]
        schema = AutoSchema()

    class Mixed(combo("search+ordering~offsets")):  # type: ignore[misc]
        schema = AutoSchema()

    patterns = [path("orders/", Orders.as_view()), path("mixed/", Mixed.as_view())]
    schema = SchemaGenerator(patterns=patterns, title="t").get_schema(request=None, public=True)
    params = {p["name"]: p for p in schema["paths"]["/orders/"]["get"]["parameters"]}
    _check_typed_listing(params)
    assert {"start_date", "end_date", "ordering"} <= set(params)
    _check_mixed_listing(schema)
