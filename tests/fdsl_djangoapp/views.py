"""DRF list endpoints as PixieBrix (GET, record query params) and Pitchly (POST, data variables) serve them."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers
from rest_framework.generics import ListAPIView

from filterdsl.integrations.django import FilterdslFilter

from .models import CATALOG, JSON_MODELS, PBRecord


class PBSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    class Meta:
        model = PBRecord
        fields = ["id", "data", "created_at", "updated_at"]


class RecordList(ListAPIView):  # type: ignore[type-arg]
    """GET /<alias>/records/?data__name=david&page_size=2 (PixieBrix); rows of the PBRecord model."""

    serializer_class = PBSerializer
    filter_backends = [FilterdslFilter]
    pagination_class = None
    filterdsl_options = {"lookups": "extended"}

    def get_queryset(self) -> Any:
        owner = self.request.headers.get("X-Owner")
        qs = PBRecord.objects.using(self.kwargs["alias"])
        return qs.filter(owner=owner) if owner else qs


class DataList(ListAPIView):  # type: ignore[type-arg]
    """POST /<alias>/databases/<database_id>/data with a Pitchly variables object."""

    filter_backends = [FilterdslFilter]
    pagination_class = None
    filterdsl_catalog = CATALOG

    @property
    def filterdsl_related(self) -> Any:
        return {db: m for db, m in JSON_MODELS.items() if db != self.kwargs["database_id"]}

    def get_queryset(self) -> Any:
        return JSON_MODELS[self.kwargs["database_id"]].objects.using(self.kwargs["alias"])

    def get_serializer_class(self) -> Any:
        model = JSON_MODELS[self.kwargs["database_id"]]
        return type(
            "S",
            (serializers.ModelSerializer,),
            {"Meta": type("Meta", (), {"model": model, "fields": ["id", "data"]})},
        )

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.list(request, *args, **kwargs)


# ------------------------------------------------------------------ composition with DRF's own pieces
from rest_framework.filters import OrderingFilter, SearchFilter  # noqa: E402
from rest_framework.pagination import (  # noqa: E402
    CursorPagination,
    LimitOffsetPagination,
    PageNumberPagination,
)

try:
    from django_filters.rest_framework import DjangoFilterBackend
except ImportError:  # pragma: no cover - django-filter is in the test extra
    DjangoFilterBackend = None


class Pages(PageNumberPagination):
    page_size = 3
    page_size_query_param = "page_size"


class PagesFixed(PageNumberPagination):
    page_size = 3  # no page_size parameter: filterdsl's page_size is then an error, not silently ignored


class Offsets(LimitOffsetPagination):
    default_limit = 3


class Cursor(CursorPagination):
    page_size = 2
    ordering = "id"


PAGINATORS: dict[str, Any] = {
    "none": None,
    "pages": Pages,
    "pages_fixed": PagesFixed,
    "offsets": Offsets,
    "cursor": Cursor,
}
BACKENDS: dict[str, Any] = {"search": SearchFilter, "ordering": OrderingFilter, "djf": DjangoFilterBackend}


def combo(name: str) -> Any:
    """A RecordList whose backends and paginator a URL names: ``search+ordering+djf+fdsl-first/pages``
    (backends joined by '+', in order; ``fdsl-first`` puts FilterdslFilter first, else it is last)."""
    backends_part, _, pager = name.partition("~")
    names = [n for n in backends_part.split("+") if n not in ("", "none", "fdsl-first")]
    backends = [BACKENDS[n] for n in names]
    if "fdsl-first" in backends_part:
        backends = [FilterdslFilter, *backends]
    else:
        backends = [*backends, FilterdslFilter]
    attrs: dict[str, Any] = {
        "filter_backends": backends,
        "pagination_class": PAGINATORS[pager or "none"],
        "search_fields": ["owner"],
        "ordering_fields": ["id", "created_at", "owner"],
        "filterset_fields": ["owner"],
    }
    return type("Combo", (RecordList,), attrs)


class ComboList(ListAPIView):  # type: ignore[type-arg]
    """Dispatches to ``combo(kwargs['combo'])``."""

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        views: dict[str, Any] = {}

        def view(request: Any, *args: Any, **kwargs: Any) -> Any:
            name = kwargs["combo"]
            if name not in views:
                views[name] = combo(name).as_view()
            return views[name](request, *args, **kwargs)

        return view


class DrfErrors(RecordList):
    filterdsl_errors = "drf"


class CatalogRecords(ListAPIView):  # type: ignore[type-arg]
    """A view on one catalog database, named by the view (its OpenAPI lists the fields)."""

    filter_backends = [FilterdslFilter]
    pagination_class = Pages
    filterdsl_catalog = CATALOG
    filterdsl_database = "ixuPJwBRqtRP3GpoM"

    def get_queryset(self) -> Any:
        return JSON_MODELS["ixuPJwBRqtRP3GpoM"].objects.using(self.kwargs.get("alias", "default"))

    def get_serializer_class(self) -> Any:
        model = JSON_MODELS["ixuPJwBRqtRP3GpoM"]
        return type(
            "S",
            (serializers.ModelSerializer,),
            {"Meta": type("Meta", (), {"model": model, "fields": ["id", "data"]})},
        )
