"""DRF list endpoints filtered by filterdsl, answering as the reference server (``filterdsl serve``):
PixieBrix params (GET ``.../records/``: a list of PixieBrix records) and Pitchly variables (POST
``.../data``: ``{"data": [Pitchly rows]}``); every error is ``{"errors": [diagnostics]}`` (400 for a bad
filter, 404 for an unknown database). The browsable API is on: add ``?format=api``."""

from pathlib import Path
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import APIException
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from filterdsl import load_catalog
from filterdsl.errors import Diagnostic, Location
from filterdsl.integrations.django import FilterdslFilter

from .models import MODELS

CATALOG = load_catalog(Path(__file__).resolve().parents[2] / "catalog.json")


class UnknownDatabase(APIException):
    status_code = 404

    def __init__(self, database: str):
        super().__init__("unknown database")
        where = Location(param="database")
        self.detail = {
            "errors": [Diagnostic("unknown-database", f"no database {database[:40]!r}", where).to_json()]
        }


class RecordSerializer(serializers.Serializer):  # type: ignore[type-arg]
    id = serializers.CharField()
    data = serializers.JSONField()
    created_at = serializers.CharField()
    updated_at = serializers.CharField(allow_null=True)


class RecordList(ListAPIView):  # type: ignore[type-arg]
    """GET /api/databases/<id>/records/?data__<field>=...&ordering=...&page=...&page_size=..."""

    serializer_class = RecordSerializer
    filter_backends = [FilterdslFilter]
    pagination_class = None  # page/page_size are part of the filter (PixieBrix semantics)
    filterdsl_catalog = CATALOG  # the same parse options as the reference server: strict lookups

    @property
    def filterdsl_related(self) -> Any:
        return {db: m for db, m in MODELS.items() if db != self.kwargs["database_id"]}

    def get_queryset(self) -> Any:
        model = MODELS.get(self.kwargs["database_id"])
        if model is None:
            raise UnknownDatabase(self.kwargs["database_id"])
        return model.objects.all()


def pitchly_row(record: Any, fields: Any) -> dict[str, Any]:
    """A row as Pitchly's ``data`` query returns it (and the reference server): ``cols`` of value objects."""
    cols = [
        {"fieldId": k, "value": v if isinstance(v, dict) and "val" in v else {"val": v}}
        for k, v in record.data.items()
        if fields is None or k in fields
    ]
    return {
        "_id": record.id,
        "createdAt": record.created_at,
        "updatedAt": record.updated_at,
        "removedAt": record.removed_at,
        "cols": cols,
    }


class DataList(RecordList):
    """POST /api/databases/<id>/data with a Pitchly ``data`` variables object."""

    def post(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        records = self.filter_queryset(self.get_queryset())
        fields = request.filterdsl_query.fields  # the query FilterdslFilter parsed
        return Response({"data": [pitchly_row(r, fields) for r in records]})
