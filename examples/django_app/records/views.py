"""DRF list endpoints filtered by filterdsl: PixieBrix params (GET) and Pitchly variables (POST)."""

from pathlib import Path
from typing import Any

from django.http import Http404
from rest_framework import serializers
from rest_framework.generics import ListAPIView

from filterdsl import load_catalog
from filterdsl.integrations.django import FilterdslFilter

from .models import MODELS

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "catalog.json")


class RecordSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.CharField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField(allow_null=True)
    data = serializers.JSONField()


class RecordList(ListAPIView):  # type: ignore[type-arg]
    """GET /api/databases/<id>/records/?data__<field>=...&ordering=...&page=...&page_size=..."""

    serializer_class = RecordSerializer
    filter_backends = [FilterdslFilter]
    pagination_class = None  # page/page_size are part of the filter (PixieBrix semantics)
    filterdsl_catalog = CATALOG
    filterdsl_options = {"lookups": "extended"}

    @property
    def filterdsl_related(self) -> Any:
        return {db: m for db, m in MODELS.items() if db != self.kwargs["database_id"]}

    def get_queryset(self) -> Any:
        model = MODELS.get(self.kwargs["database_id"])
        if model is None:
            raise Http404("unknown database")
        return model.objects.all()


class DataList(RecordList):
    """POST /api/databases/<id>/data with a Pitchly ``data`` variables object."""

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        return self.list(request, *args, **kwargs)
