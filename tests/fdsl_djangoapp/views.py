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
