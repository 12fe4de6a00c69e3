"""Models the Django integration tests query: JSON-document models (one per database the tests load),
a PixieBrix-like model without ``removed_at``, and one typed-columns model for a corpus database.

Table names carry a per-process tag so parallel runs sharing a PostgreSQL database never collide.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

from django.db import models

from filterdsl.integrations.django import UnicodeJSONEncoder

TAG = secrets.token_hex(4)
APP = "fdsl_djangoapp"
CORPUS = Path(__file__).resolve().parent.parent / "corpus"
CATALOG = json.loads((CORPUS / "catalog.json").read_text())
CORPUS_DBS: list[Any] = [*json.loads((CORPUS / "records.json").read_text()), None]


def _model(name: str, table: str, fields: dict[str, Any]) -> Any:
    attrs: dict[str, Any] = {
        "__module__": __name__,
        "Meta": type("Meta", (), {"app_label": APP, "db_table": f"fdsl_dj_{TAG}_{table}"}),
    }
    attrs.update(fields)
    return type(name, (models.Model,), attrs)


def _record_fields(removed: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": models.CharField(primary_key=True, max_length=64),
        "created_at": models.CharField(max_length=40),
        "updated_at": models.CharField(max_length=40, null=True),
    }
    if removed:
        out["removed_at"] = models.CharField(max_length=40, null=True)
    return out


#: JSON document layout, one model per database id (None: schemaless PixieBrix records)
JSON_MODELS: dict[Any, Any] = {}
for _i, _db in enumerate([*CORPUS_DBS, "main", "target"]):
    JSON_MODELS[_db] = _model(
        f"Json{_i}", f"json{_i}", {**_record_fields(), "data": models.JSONField(encoder=UnicodeJSONEncoder)}
    )

#: PixieBrix-like: no removed_at (nothing is ever trashed), an owner column the view filters on first
PBRecord = _model(
    "PBRecord",
    "pb",
    {
        **_record_fields(removed=False),
        "owner": models.CharField(max_length=20),
        "data": models.JSONField(encoder=UnicodeJSONEncoder),
    },
)

#: columns layout for one corpus database: a typed column per field
TYPED_DB = "ixuPJwBRqtRP3GpoM"
_TYPES = {
    "number": models.FloatField,
    "currency": models.FloatField,
    "boolean": models.BooleanField,
    "enumTags": models.JSONField,
    "refMultiple": models.JSONField,
}
TYPED_FIELDS = next(d["fields"] for d in CATALOG if d["_id"] == TYPED_DB)
TYPED_COLUMNS: dict[str, Any] = {}
_typed: dict[str, Any] = dict(_record_fields())
for _i, _f in enumerate(TYPED_FIELDS):
    _typed[f"c{_i}"] = _TYPES.get(_f["type"], models.TextField)(null=True)
    if _f["type"] == "currency":
        _typed[f"k{_i}"] = models.TextField(null=True)
        TYPED_COLUMNS[_f["_id"]] = {"column": f"c{_i}", "currency": f"k{_i}"}
    else:
        TYPED_COLUMNS[_f["_id"]] = f"c{_i}"
Typed = _model("Typed", "typed", _typed)

#: Django's default JSON encoding (keys as \\uXXXX escapes): pins the SQLite divergence
Escaped = _model("Escaped", "escaped", {**_record_fields(), "data": models.JSONField()})

ALL_MODELS = [*JSON_MODELS.values(), PBRecord, Typed, Escaped]
