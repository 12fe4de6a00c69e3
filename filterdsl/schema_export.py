"""Schemas generated from a catalog: a JSON Schema (2020-12) for one database's Pitchly filter objects
and ``data`` variables (for editors: ``filterdsl schema --json-schema``), the OpenAPI parameter list of
its PixieBrix record query params, and the OpenAPI 3.1 document of the reference server.

Everything here is derived from the tables the parsers use (``frontends.pitchly.OPERATORS``,
``options.Limits``), so the schema and ``filterdsl validate`` agree on operators, value types and
limits. A schema cannot check everything ``validate`` does (docs/editors.md lists what it leaves out:
real calendar days, nesting depth and node counts, relaxed-JSON syntax, search-string syntax, ...); it
is a first line in the editor, not a replacement for ``validate``.
"""

from __future__ import annotations

import re
from typing import Any

from filterdsl.ast import FieldType
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.frontends.pitchly import EMPTINESS, NOT_SORTABLE, OPERATORS, VARIABLES
from filterdsl.frontends.pixiebrix import EXTENDED
from filterdsl.options import Limits
from filterdsl.schema import REF_TYPES, Catalog, CatalogSource, Database, FieldDef, load_catalog

T = FieldType
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
#: records.parse_ts's timestamp (SPEC 8): a day, or a day and a time with an optional zone
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?$"
)
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_SAFE = re.compile(r"[A-Za-z0-9_-]{1,64}")


def _database(catalog: CatalogSource, database: str) -> tuple[Catalog, Database]:
    cat = load_catalog(catalog)
    db = cat.get(database) if isinstance(database, str) else None
    if db is None:
        raise FilterError(
            [
                Diagnostic(
                    "unknown-database",
                    f"no database {database!r} in the catalog; one of {', '.join(d.id for d in cat)}",
                    Location(param="database"),
                )
            ]
        )
    return cat, db


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """Pitchly reads a null variable or key as absent: ``null`` added to the schema's type (a ``$ref``
    names a definition that takes null itself), so validators report the real error, not "none of
    anyOf"."""
    if "$ref" in schema:
        return schema
    t = schema.get("type")
    if isinstance(t, str):
        return {**schema, "type": [t, "null"]}
    if isinstance(t, list):
        return {**schema, "type": [*t, "null"]}
    return {"anyOf": [schema, {"type": "null"}]}


class _Builder:
    """Definitions for the databases reachable from one database (nested relational filters), named
    ``<prefix><kind>.<database>``; ``ref`` turns a name into a ``$ref`` under ``ref_base``."""

    def __init__(self, catalog: Catalog, ref_base: str, prefix: str, limits: Limits):
        self.catalog, self.ref_base, self.prefix, self.limits = catalog, ref_base, prefix, limits
        self.defs: dict[str, Any] = {}
        self.done: set[str] = set()

    def name(self, kind: str, db: Database) -> str:
        key = db.id if _SAFE.fullmatch(db.id) else f"db{self.catalog.databases.index(db)}"
        return f"{self.prefix}{kind}.{key}"

    def ref(self, name: str) -> dict[str, str]:
        return {"$ref": self.ref_base + name}

    # ------------------------------------------------------------------ filter objects
    def filter_object(self, db: Database) -> str:
        """The bare filter object ``{fields, conjunction}`` of ``db`` (and of every database it reaches)."""
        name = self.name("filter", db)
        if name in self.done:
            return name
        self.done.add(name)
        self.defs[name] = {
            "title": f"Pitchly filter on {db.name}",
            "description": f"A filter object on database {db.name} ({db.id}): field ids -> filters.",
            "type": ["object", "null"],
            "properties": {
                "fields": _nullable(self.ref(self.fields(db))),
                "conjunction": self.conjunction(),
            },
            "additionalProperties": False,
        }
        return name

    def conjunction(self) -> dict[str, Any]:
        return {
            "description": "how the entries combine (default and)",
            "enum": ["and", "or", None],
        }

    def fields(self, db: Database) -> str:
        name = self.name("fields", db)
        if name in self.done:
            return name
        self.done.add(name)
        props: dict[str, Any] = {}
        for f in db.fields:
            props[f.id] = {
                "title": f.name,
                "description": f"{f.name} ({f.type.value})"
                + (f" -> {self._db_name(f.database)}" if f.database else ""),
                **self.ref(self.entry(db, f)),
            }
        self.defs[name] = {
            "title": f"fields of {db.name}",
            "description": f"Field ids of database {db.name} ({db.id}); the field name is each one's title.",
            "type": ["object", "null"],
            "properties": props,
            "additionalProperties": False,
        }
        return name

    def _db_name(self, db_id: str) -> str:
        d = self.catalog.get(db_id)
        return d.name if d is not None else db_id

    def entry(self, db: Database, f: FieldDef) -> str:
        name = self.name("entry", db) + "." + (f.id if _SAFE.fullmatch(f.id) else str(db.fields.index(f)))
        props: dict[str, Any] = {"conjunction": self.conjunction(), "include": _nullable(self.include())}
        if f.type in REF_TYPES:
            props["filters"] = _nullable(
                {
                    "type": "array",
                    "maxItems": 0,
                    "description": f"{f.type.value} fields take no filters: filter through nested "
                    "'fields', or use 'include'",
                }
            )
            target = self.catalog.get(f.database) if f.database else None
            props["fields"] = _nullable(
                self.ref(self.fields(target))
                if target is not None
                else {"type": "object", "maxProperties": 0}
            )
        else:
            props["filters"] = _nullable(
                {"type": "array", "items": self.one_filter(f), "maxItems": self.limits.max_list}
            )
            props["fields"] = _nullable(
                {
                    "type": "object",
                    "maxProperties": 0,
                    "description": "only ref and refMultiple fields take nested fields",
                }
            )
        self.defs[name] = {
            "title": f.name,
            "type": "object",
            "properties": props,
            "additionalProperties": False,
        }
        return name

    def include(self) -> dict[str, Any]:
        return {
            "description": "also match records where the field is in one of these states",
            "type": "object",
            "properties": {k: {"type": ["boolean", "null"]} for k in EMPTINESS},
            "additionalProperties": False,
        }

    def one_filter(self, f: FieldDef) -> dict[str, Any]:
        """``{by, value}``: ``by`` one of the operators of the field's type, ``value`` of the type that
        operator takes (none for the emptiness operators)."""
        ops = list(OPERATORS[f.type])
        by_value: dict[str, list[str]] = {}
        for by, (op, _neg) in OPERATORS[f.type].items():
            key = _json_key(self.value(f, op.name))
            by_value.setdefault(key, []).append(by)
        conds: list[dict[str, Any]] = []
        for key, names in by_value.items():
            conds.append(
                {
                    "if": {"properties": {"by": {"enum": names}}, "required": ["by"]},
                    "then": {"properties": {"value": _unjson(key)}, "required": ["value"]},
                }
            )
        conds.append(
            {
                "if": {"properties": {"by": {"enum": list(EMPTINESS)}}, "required": ["by"]},
                "then": {"not": {"required": ["value"]}},
            }
        )
        return {
            "type": "object",
            "properties": {
                "by": {
                    "description": f"an operator of {f.type.value} fields",
                    "enum": ops + list(EMPTINESS),
                },
                "value": {},
            },
            "required": ["by"],
            "additionalProperties": False,
            "allOf": conds,
        }

    def value(self, f: FieldDef, op: str) -> dict[str, Any]:
        t = f.type
        restrict = list(f.restrict) if f.restrict is not None else None
        if t in (T.STRING, T.TEXT_BLOCK, T.ATTACHMENT) or (t is T.ENUM and op == "EQ"):
            return {"type": "string", **({"enum": restrict} if restrict is not None and t is T.ENUM else {})}
        if t in (T.NUMBER, T.CURRENCY):
            # no range: JSON Schema cannot tell 1.5e300 (a float, allowed) from an integer past 2^53
            num = {"type": "number"}
            if t is T.NUMBER:
                return num
            return {
                "anyOf": [
                    num,
                    {
                        "type": "object",
                        "properties": {"val": num, "currency": {"type": ["string", "null"]}},
                        "required": ["val"],
                        "additionalProperties": False,
                    },
                ]
            }
        if t is T.BOOLEAN:
            return {"type": "boolean"}
        if t is T.DATE:
            return {
                "type": "string",
                "pattern": TIMESTAMP_PATTERN,
                "description": 'a day "YYYY-MM-DD" or an ISO-8601 timestamp',
            }
        # enum lists and enumTags
        item: dict[str, Any] = {"type": "string", **({"enum": restrict} if restrict is not None else {})}
        return {"type": "array", "items": item, "minItems": 1, "maxItems": self.limits.max_list}

    # ------------------------------------------------------------------ variables
    def variables(self, db: Database) -> str:
        name = self.name("variables", db)
        if name in self.done:
            return name
        self.done.add(name)
        lim = self.limits
        sortable = [f for f in db.fields if f.type not in NOT_SORTABLE]
        props: dict[str, Any] = {
            "secretKey": {"type": ["string", "null"], "description": "read past and never echoed"},
            "databaseId": {"enum": [db.id, None], "description": f"{db.name}"},
            "filter": _nullable(self.ref(self.filter_object(db))),
            "sort": _nullable(
                {
                    "type": "object",
                    "description": "field id -> 1 (ascending) or -1 (descending)",
                    "properties": {f.id: {"title": f.name, "enum": [1, -1]} for f in sortable},
                    "additionalProperties": False,
                    "maxProperties": lim.max_sort_keys,
                }
            ),
            "limit": _nullable(
                {
                    "type": "integer",
                    "minimum": 0,
                    "maximum": lim.max_limit,
                    "default": min(100, lim.max_limit),
                }
            ),
            "skip": _nullable({"type": "integer", "minimum": 0, "maximum": lim.max_skip, "default": 0}),
            "after": _nullable(
                {
                    "type": "string",
                    "description": "[filterdsl] keyset pagination: the rows after this cursor token "
                    "(filterdsl.next_cursor of the previous page's last row; same sort)",
                }
            ),
            "in": _nullable({"type": "array", "items": {"type": "string"}, "maxItems": lim.max_list}),
            "fields": _nullable(
                {
                    "type": "array",
                    "description": "the projection: field ids to return",
                    "items": {"enum": [f.id for f in db.fields]},
                }
            ),
            "removedAt": {"type": ["boolean", "null"], "description": "true: the records in the trash"},
            "search": {"type": ["string", "null"], "description": "a Pitchly search string"},
            "modifiedSince": _nullable({"type": "string", "pattern": TIMESTAMP_PATTERN}),
        }
        assert set(props) == set(VARIABLES)
        self.defs[name] = {
            "title": f"Pitchly data variables on {db.name}",
            "type": "object",
            "properties": props,
            "additionalProperties": False,
        }
        return name


def _json_key(schema: dict[str, Any]) -> str:
    import json

    return json.dumps(schema, sort_keys=True)


def _unjson(key: str) -> Any:
    import json

    return json.loads(key)


def _limits(max_limit: int | None) -> Limits:
    return Limits() if max_limit is None else Limits(max_limit=max_limit)


def json_schema(catalog: CatalogSource, database: str, max_limit: int | None = None) -> dict[str, Any]:
    """JSON Schema 2020-12 for a Pitchly filter object or ``data`` variables object on ``database``.

    Field ids are the keys (field names are their titles); each field type allows its operators with
    the value type each takes; ``restrict`` values are enums; nested ``fields`` of ref fields follow
    the referenced database. FilterError ``unknown-database`` for a database not in the catalog."""
    cat, db = _database(catalog, database)
    b = _Builder(cat, "#/$defs/", "", _limits(max_limit))
    filt = b.filter_object(db)
    var = b.variables(db)
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:filterdsl:pitchly:{db.id}",
        "title": f"Pitchly filter or data variables: {db.name} ({db.id})",
        "description": "Generated by `filterdsl schema --json-schema`. A bare filter object "
        "{fields, conjunction} or the whole data variables object {filter, sort, limit, ...}. "
        "`filterdsl validate` checks more (docs/editors.md).",
        # SPEC 8: an object whose keys are within {fields, conjunction}, with an object "fields", is a
        # bare filter; anything else is a variables object (if/then/else, so editors name the real error)
        "if": {
            "type": "object",
            "propertyNames": {"enum": ["fields", "conjunction"]},
            "properties": {"fields": {"type": "object"}},
            "required": ["fields"],
        },
        "then": b.ref(filt),
        "else": b.ref(var),
        "$defs": dict(sorted(b.defs.items())),
    }


# ---------------------------------------------------------------------- PixieBrix params (OpenAPI)


#: what ``data__<field>=v`` means per field type with a catalog (SPEC 4), and the value's schema
_PB_EQUALS: dict[FieldType, tuple[str, dict[str, Any]]] = {
    T.NUMBER: ("equal to this number", {"type": "number"}),
    T.CURRENCY: ("amount equal to this number (any currency)", {"type": "number"}),
    T.BOOLEAN: ("true or false", {"type": "boolean"}),
    T.DATE: ("on this day (YYYY-MM-DD)", {"type": "string", "format": "date", "pattern": DAY_PATTERN}),
    T.ENUM_TAGS: ("the tags hold this value", {"type": "string"}),
    T.REF_MULTIPLE: ("the list of referenced ids holds this id", {"type": "string"}),
}


def _param(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


def pixiebrix_parameters(
    catalog: CatalogSource | None = None,
    database: str | None = None,
    lookups: str = "strict",
    max_page_size: int | None = None,
) -> list[dict[str, Any]]:
    """OpenAPI 3.1 query-parameter objects for the PixieBrix record query params of one database:
    ``data__<field>`` (and ``data__<field>__isnull``; with ``lookups="extended"`` every extended lookup)
    for each catalog field, then ``start_date``, ``end_date``, ``page``, ``page_size``, ``ordering``, ``after``.
    Without a catalog (schemaless) there are no per-field names: a ``data__<path>`` note is added to
    ``ordering``'s neighbour list instead. Also usable by DRF's ``get_schema_operation_parameters``."""
    page_max = Limits().max_page_size if max_page_size is None else max_page_size
    out: list[dict[str, Any]] = []
    if catalog is not None and database is not None:
        _, db = _database(catalog, database)
        for f in db.fields:
            label = f"{f.name} ({f.type.value})"
            how, value = _PB_EQUALS.get(
                f.type, ("equal to this text (JSON-string equality)", {"type": "string"})
            )
            value = dict(value)
            if f.restrict is not None and f.type in (T.ENUM, T.ENUM_TAGS):
                value["enum"] = list(f.restrict)
            out.append(_param(f"data__{f.id}", value, f"{label}: {how}"))
            out.append(
                _param(
                    f"data__{f.id}__isnull",
                    {"type": "string", "enum": ["true", "false"]},
                    f"{label}: true when the key is absent, false when present",
                )
            )
            if lookups == "extended":
                for lk in EXTENDED:
                    out.append(
                        _param(
                            f"data__{f.id}__{lk}",
                            {"type": "string"},
                            f"{label}: Django's __{lk} lookup"
                            + (" (comma-separated values)" if lk == "in" else ""),
                        )
                    )
    out += [
        _param(
            "start_date",
            {"type": "string", "format": "date", "pattern": DAY_PATTERN},
            "created on or after this day (YYYY-MM-DD, UTC)",
        ),
        _param(
            "end_date",
            {"type": "string", "format": "date", "pattern": DAY_PATTERN},
            "created on or before this day (YYYY-MM-DD, UTC)",
        ),
        _param("page", {"type": "integer", "minimum": 1, "default": 1}, "1-based page number"),
        _param(
            "page_size",
            {"type": "integer", "minimum": 1, "maximum": page_max, "default": page_max},
            "records per page",
        ),
        _param(
            "ordering",
            {"type": "string"},
            "comma-separated keys: created_at, id or data__<path>; - for descending (e.g. -created_at,id)",
        ),
        _param(
            "after",
            {"type": "string", "pattern": "^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)?$"},
            "[filterdsl] keyset pagination: the records after the previous page's last one, as the token "
            "the server gave (next link); same filter and ordering; page then counts from it",
        ),
    ]
    if catalog is None or database is None:
        out[0]["description"] += (
            "; filters are data__<path>=value, data__<path>__isnull=true|false"
            + (" and the extended lookups" if lookups == "extended" else "")
            + " (schemaless: any key)"
        )
    return out


# ---------------------------------------------------------------------- OpenAPI (reference server)

_DIAGNOSTIC = {
    "type": "object",
    "description": "A located problem (docs/errors.md lists the codes).",
    "properties": {
        "severity": {"enum": ["error", "warning"]},
        "code": {"type": "string", "description": "stable code, e.g. unknown-operator"},
        "message": {"type": "string"},
        "location": {
            "type": "object",
            "description": "a JSON Pointer, a line:column, or a query parameter and its position",
            "properties": {
                "pointer": {"type": "string"},
                "line": {"type": "integer"},
                "column": {"type": "integer"},
                "offset": {"type": "integer"},
                "param": {"type": "string"},
                "index": {"type": "integer"},
            },
        },
    },
    "required": ["severity", "code", "message", "location"],
}


def _error_response(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
    }


def _json_response(description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}, **extra}


def openapi_document(
    catalog: CatalogSource | None = None,
    lookups: str = "strict",
    max_limit: int | None = None,
    max_page_size: int | None = None,
    playground: bool = True,
    title: str = "filterdsl reference records API",
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``filterdsl serve`` (served at ``/openapi.json``): with a catalog,
    one path per database with its PixieBrix params (``data__<field>`` per field) and its Pitchly
    variables body (the JSON Schema of ``json_schema``, under ``components/schemas``); without one, the
    schemaless ``{database}`` paths. ``playground`` adds ``/`` and ``POST /api/compile``."""
    from filterdsl import __version__

    cat = load_catalog(catalog) if catalog is not None else None
    b = _Builder(cat or Catalog(()), "#/components/schemas/", "Pitchly.", _limits(max_limit))
    schemas: dict[str, Any] = {
        "Diagnostic": _DIAGNOSTIC,
        "ErrorBody": {
            "type": "object",
            "description": "HTTP 400 (bad input) and 404 (unknown database): every diagnostic",
            "properties": {"errors": {"type": "array", "items": {"$ref": "#/components/schemas/Diagnostic"}}},
            "required": ["errors"],
        },
        "PixieBrixRecord": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                "data": {"type": "object"},
                "created_at": {"type": "string"},
                "updated_at": {"type": ["string", "null"]},
            },
            "required": ["id", "data", "created_at", "updated_at"],
        },
        "PitchlyRow": {
            "type": "object",
            "properties": {
                "_id": {"type": "string"},
                "createdAt": {"type": "string"},
                "updatedAt": {"type": ["string", "null"]},
                "removedAt": {"type": ["string", "null"]},
                "cols": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"fieldId": {"type": "string"}, "value": {}},
                        "required": ["fieldId", "value"],
                    },
                },
            },
            "required": ["_id", "createdAt", "cols"],
        },
        "AnyVariables": {
            "type": "object",
            "description": "a Pitchly data variables object (schemaless database: field filters need "
            "a catalog)",
        },
    }
    bad = _error_response("bad input: located diagnostics")
    missing = _error_response("unknown database")
    records_ok = {
        "description": "the page of matching records",
        "headers": {
            "Link": {"schema": {"type": "string"}, "description": "first/prev/next/last (RFC 8288)"},
            "X-Total-Count": {"schema": {"type": "integer"}, "description": "matches on every page"},
        },
        "content": {
            "application/json": {
                "schema": {"type": "array", "items": {"$ref": "#/components/schemas/PixieBrixRecord"}}
            },
            "text/csv": {"schema": {"type": "string"}},
        },
    }
    paths: dict[str, Any] = {}

    def database_paths(
        path_id: str, db: Database | None, params: list[dict[str, Any]], shared: list[dict[str, Any]]
    ) -> None:
        label = f"{db.name} ({db.id})" if db is not None else "a schemaless database"
        op = db.id if db is not None and _SAFE.fullmatch(db.id) else "database"
        body = (
            {"$ref": b.ref_base + b.variables(db)}
            if db is not None
            else {"$ref": "#/components/schemas/AnyVariables"}
        )
        request = {"required": True, "content": {"application/json": {"schema": body}}}
        base = f"/api/databases/{path_id}"
        paths[f"{base}/records/"] = {
            **({"parameters": shared} if shared else {}),
            "get": {
                "operationId": f"records_{op}",
                "summary": f"records of {label}, filtered by PixieBrix params",
                "parameters": params,
                "responses": {"200": records_ok, "400": bad, "404": missing},
            },
        }
        paths[f"{base}/data"] = {
            **({"parameters": shared} if shared else {}),
            "post": {
                "operationId": f"data_{op}",
                "summary": f"Pitchly data query on {label}",
                "requestBody": request,
                "responses": {
                    "200": _json_response(
                        "the rows (projected by fields)",
                        {
                            "type": "object",
                            "properties": {
                                "data": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/PitchlyRow"},
                                }
                            },
                            "required": ["data"],
                        },
                    ),
                    "400": bad,
                    "404": missing,
                },
            },
        }
        paths[f"{base}/data/count"] = {
            **({"parameters": shared} if shared else {}),
            "post": {
                "operationId": f"count_{op}",
                "summary": f"count of the Pitchly data query on {label} (skip and limit ignored)",
                "requestBody": request,
                "responses": {
                    "200": _json_response(
                        "the count",
                        {
                            "type": "object",
                            "properties": {"count": {"type": "integer"}},
                            "required": ["count"],
                        },
                    ),
                    "400": bad,
                    "404": missing,
                },
            },
        }

    if cat is not None:
        for db in cat:
            database_paths(db.id, db, pixiebrix_parameters(cat, db.id, lookups, max_page_size), [])
    else:
        path_param = {
            "name": "database",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
        }
        database_paths(
            "{database}", None, pixiebrix_parameters(None, None, lookups, max_page_size), [path_param]
        )
    paths["/api/records/import"] = {
        "post": {
            "operationId": "import_records",
            "summary": "insert or replace records (upsert by id)",
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "databaseId": {"type": "string"},
                                "records": {
                                    "type": "array",
                                    "items": {"type": "object"},
                                    "description": "Pitchly rows or PixieBrix records",
                                },
                            },
                            "required": ["databaseId", "records"],
                        }
                    }
                },
            },
            "responses": {
                "200": _json_response(
                    "how many were imported; warnings name value objects whose extra keys were dropped",
                    {
                        "type": "object",
                        "properties": {
                            "imported": {"type": "integer"},
                            "warnings": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "code": {"type": "string", "enum": ["dropped-keys"]},
                                        "message": {"type": "string"},
                                        "pointers": {"type": "array", "items": {"type": "string"}},
                                    },
                                    "required": ["code", "message", "pointers"],
                                },
                            },
                        },
                        "required": ["imported"],
                    },
                ),
                "400": bad,
                "404": missing,
            },
        }
    }
    paths["/api/stats"] = {
        "get": {
            "operationId": "stats",
            "summary": "the compile cache's hits, misses and hit rate",
            "responses": {"200": _json_response("cache statistics", {"type": "object"})},
        }
    }
    paths["/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "this document",
            "responses": {"200": _json_response("OpenAPI 3.1", {"type": "object"})},
        }
    }
    if playground:
        schemas.update(_compile_schemas(cat))
        paths["/"] = {
            "get": {
                "operationId": "playground",
                "summary": "the playground page (HTML, no network access)",
                "responses": {
                    "200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}
                },
            }
        }
        paths["/api/playground"] = {
            "get": {
                "operationId": "playground_config",
                "summary": "what the playground offers: databases (with fields), formats, dialects, limits",
                "responses": {"200": _json_response("the configuration", {"type": "object"})},
            }
        }
        paths["/api/compile"] = {
            "post": {
                "operationId": "compile",
                "summary": "parse a filter in any format and compile it to every target",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CompileRequest"}}
                    },
                },
                "responses": {
                    "200": _json_response("the outputs", {"$ref": "#/components/schemas/CompileResponse"}),
                    "400": _error_response(
                        "bad input: located diagnostics (each with a span in the input); the body also "
                        "holds format and diagnostics"
                    ),
                    "404": missing,
                },
            }
        }
    schemas.update(b.defs)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": JSON_SCHEMA_DIALECT,
        "info": {
            "title": title,
            "version": __version__,
            "description": "The records API of `filterdsl serve` (docs/openapi.md). Bad input is HTTP 400 "
            "with located diagnostics, never a 500.",
        },
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items()))},
    }


def _compile_schemas(cat: Catalog | None) -> dict[str, Any]:
    from filterdsl.compile_all import FORMAT_CHOICES, OPTION_NAMES, TARGETS

    return {
        "CompileRequest": {
            "type": "object",
            "properties": {
                "input": {"type": "string", "description": "the filter, as typed"},
                "format": {"enum": list(FORMAT_CHOICES), "default": "auto"},
                "database": {
                    "type": ["string", "null"],
                    **({"enum": [d.id for d in cat] + [None]} if cat is not None else {}),
                },
                "options": {
                    "type": "object",
                    "properties": {
                        name: ({"enum": ["strict", "extended"]} if name == "lookups" else {"type": "boolean"})
                        for name in OPTION_NAMES
                    },
                    "additionalProperties": False,
                },
                "targets": {"type": "array", "items": {"enum": list(TARGETS)}},
                "sql": {
                    "type": "object",
                    "properties": {
                        "dialect": {"type": "string", "default": "sqlite"},
                        "layout": {"enum": ["json", "columns"], "default": "json"},
                        "pretty": {"type": "boolean", "default": True},
                    },
                    "additionalProperties": False,
                },
                "records": {
                    "type": "object",
                    "properties": {"limit": {"type": "integer", "minimum": 0, "maximum": 100}},
                    "additionalProperties": False,
                },
            },
            "required": ["input"],
            "additionalProperties": False,
        },
        "CompileResponse": {
            "type": "object",
            "properties": {
                "format": {"type": "string", "description": "the format read (detected when auto)"},
                "detected": {"type": "boolean"},
                "database": {"type": ["string", "null"]},
                "diagnostics": {"type": "array", "items": {"$ref": "#/components/schemas/Diagnostic"}},
                "outputs": {
                    "type": "object",
                    "description": "one entry per target: {value} or {error: Diagnostic}",
                    "properties": {t: {"type": "object"} for t in TARGETS},
                },
            },
            "required": ["format", "diagnostics", "outputs"],
        },
    }
