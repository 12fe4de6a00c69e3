"""Record shapes and time values: everything normalises to the canonical document (SPEC 1.2).

Canonical timestamps are fixed-width UTC strings ``YYYY-MM-DDTHH:MM:SS.ffffffZ``, so comparing them as
strings compares instants, in Python, in SQL and in Mongo alike.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import re
from collections.abc import Iterable, Mapping
from typing import Any

from filterdsl.ast import FieldType
from filterdsl.errors import Diagnostic, FilterError, Location, pointer
from filterdsl.schema import Catalog, Database

_TS = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:T([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:\.([0-9]+))?)?(Z|[+-][0-9]{2}:[0-9]{2})?)?\Z"
)


def parse_ts(text: str) -> _dt.datetime:
    """Parse a SPEC 8 timestamp (or a bare date: midnight UTC) to an aware UTC datetime."""
    m = _TS.match(text) if isinstance(text, str) else None
    if not m:
        raise ValueError(f"not an ISO-8601 timestamp: {text!r}")
    y, mo, d, hh, mm, ss, frac, zone = m.groups()
    micro = int((frac or "0")[:6].ljust(6, "0"))
    tz = _dt.timezone.utc
    if zone and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        oh, om = int(zone[1:3]), int(zone[4:6])
        if oh > 23 or om > 59:
            raise ValueError(f"bad UTC offset in {text!r}")
        tz = _dt.timezone(sign * _dt.timedelta(hours=oh, minutes=om))
    try:
        value = _dt.datetime(
            int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0), micro, tzinfo=tz
        )
        return value.astimezone(_dt.timezone.utc)
    except (ValueError, OverflowError) as e:
        raise ValueError(f"invalid timestamp {text!r}: {e}") from None


def format_ts(value: _dt.datetime) -> str:
    return (
        value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        if value.year >= 1000
        else (f"{value.year:04d}" + value.strftime("-%m-%dT%H:%M:%S.%fZ"))
    )


def canonical_ts(text: str) -> str:
    """The canonical fixed-width UTC form of a timestamp; ValueError when it is not one."""
    return format_ts(parse_ts(text))


# ---------------------------------------------------------------- records
def _bad(msg: str, ptr: str) -> FilterError:
    return FilterError([Diagnostic("bad-record", msg, Location(pointer=ptr))])


def _plain_value(value: Any, ftype: FieldType | None) -> Any:
    """Pitchly value object -> canonical plain value (SPEC 1.2)."""
    if not isinstance(value, dict):
        return value  # raw value given directly
    val = value.get("val")
    if val is None or val == "" or val == []:
        return val
    if (
        ftype is FieldType.CURRENCY
        or ftype is FieldType.ATTACHMENT
        or (ftype is None and ("currency" in value or "size" in value or "type" in value))
    ):
        # an object value: every key is kept (filters read val and currency), so a stored record
        # reads back as it was imported (issue 26, M3)
        return dict(value)
    return _ref_id(val) if ftype in (FieldType.REF, FieldType.REF_MULTIPLE, None) else val


def dropped_keys(rec: Any, database: Database | None = None, ptr: str = "") -> list[str]:
    """Pointers of Pitchly value objects whose keys besides ``val`` normalisation drops (SPEC 1.2).

    Importers report them, so a user learns that ``{"val": "x", "note": 1}`` on a string field is
    stored as ``"x"`` instead of finding out on export (issue 26, M3)."""
    out: list[str] = []
    cols = rec.get("cols") if isinstance(rec, Mapping) else None
    if not isinstance(cols, list):
        return out
    for i, col in enumerate(cols):
        if not isinstance(col, Mapping) or not isinstance(col.get("value"), dict):
            continue
        value = col["value"]
        if set(value) <= {"val"}:
            continue
        fd = (
            database.field(col["fieldId"])
            if database is not None and isinstance(col.get("fieldId"), str)
            else None
        )
        kept = _plain_value(value, fd.type if fd else None)
        if not isinstance(kept, dict):
            out.append(ptr + pointer(["cols", i, "value"]))
    return out


def _ref_id(val: Any) -> Any:
    if isinstance(val, dict) and "_id" in val:
        return val["_id"]
    if isinstance(val, list):
        return [e["_id"] if isinstance(e, dict) and "_id" in e else e for e in val]
    return val


def _ts_or_none(rec: Mapping[str, Any], names: tuple[str, ...], ptr: str, required: bool) -> str | None:
    for n in names:
        if n in rec and rec[n] is not None:
            v = rec[n]
            try:
                return canonical_ts(v)
            except ValueError as e:
                raise _bad(str(e), ptr + pointer([n])) from None
    if required:
        raise _bad(f"record has no {names[0]}", ptr)
    return None


def normalize_record(rec: Any, database: Database | None = None, ptr: str = "") -> dict[str, Any]:
    """Any accepted record shape -> canonical document; FilterError (bad-record) otherwise."""
    if not isinstance(rec, Mapping):
        raise _bad("a record is a JSON object", ptr)
    if "cols" in rec:
        rid = rec.get("_id", rec.get("id"))
        cols = rec["cols"]
        if not isinstance(cols, list):
            raise _bad("cols must be a list", ptr + "/cols")
        data: dict[str, Any] = {}
        for i, col in enumerate(cols):
            if not isinstance(col, Mapping) or not isinstance(col.get("fieldId"), str):
                raise _bad("a column needs a string fieldId", ptr + pointer(["cols", i]))
            value = col.get("value")
            if value is None:
                continue  # NOT SET
            fd = database.field(col["fieldId"]) if database is not None else None
            data[col["fieldId"]] = _plain_value(value, fd.type if fd else None)
        names = (("createdAt", "created_at"), ("updatedAt", "updated_at"), ("removedAt", "removed_at"))
    elif "data" in rec:
        rid = rec.get("id", rec.get("_id"))
        data = rec["data"]
        if not isinstance(data, Mapping):
            raise _bad("data must be a JSON object", ptr + "/data")
        data = dict(data)
        if database is not None:
            for f in database.fields:
                if f.type in (FieldType.REF, FieldType.REF_MULTIPLE) and f.id in data:
                    data[f.id] = _ref_id(data[f.id])
        names = (("created_at", "createdAt"), ("updated_at", "updatedAt"), ("removed_at", "removedAt"))
    else:
        raise _bad("not a record: expected a Pitchly row (cols) or a document with data", ptr)
    if not isinstance(rid, str):
        raise _bad("a record needs a string id", ptr)
    return {
        "id": rid,
        "created_at": _ts_or_none(rec, names[0], ptr, True),
        "updated_at": _ts_or_none(rec, names[1], ptr, False),
        "removed_at": _ts_or_none(rec, names[2], ptr, False),
        "data": data,
    }


_LONE_SURROGATE = re.compile("[\ud800-\udfff\x00]")  # and NUL: PostgreSQL text and jsonb cannot hold it
#: Nesting of stored data: SQLite's JSON functions stop at 1,000 levels, PostgreSQL at its stack depth.
MAX_STORED_DEPTH = 200


def check_storable(doc: Mapping[str, Any], ptr: str = "") -> None:
    """FilterError (bad-record, located) unless every engine can store ``doc`` and read it back.

    A store must refuse what it cannot answer for later: numbers that are not finite (NaN, and
    ``1e400`` read as infinity), text with lone surrogates (not UTF-8-encodable) or NUL (PostgreSQL
    cannot store it), non-string keys,
    and nesting past what SQL JSON functions read. Accepting one would make every later listing of
    that database fail. Iterative, so a deep document costs no recursion.
    """
    stack: list[tuple[Any, str, int]] = [
        (doc.get(k), ptr + pointer([k]), 1) for k in ("id", "created_at", "updated_at", "removed_at")
    ]
    stack.append((doc.get("data"), ptr + "/data", 1))
    while stack:
        value, where, depth = stack.pop()
        if isinstance(value, str):
            if _LONE_SURROGATE.search(value):
                raise _bad(
                    "text holds a lone surrogate or a NUL character (PostgreSQL cannot store either)", where
                )
        elif isinstance(value, float):
            if not math.isfinite(value):
                raise _bad(f"numbers are finite and within float range, not {value}", where)
        elif isinstance(value, (dict, list)):
            if depth > MAX_STORED_DEPTH:
                raise _bad(f"data nested deeper than {MAX_STORED_DEPTH} levels", where)
            items = value.items() if isinstance(value, dict) else enumerate(value)
            for k, v in items:
                if isinstance(value, dict):
                    if not isinstance(k, str):
                        raise _bad(f"object keys are strings, not {type(k).__name__}", where)
                    if _LONE_SURROGATE.search(k):  # located at the object: the key itself cannot be echoed
                        raise _bad("a key of this object holds a lone surrogate or a NUL character", where)
                stack.append((v, where + pointer([k]), depth + 1))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > FLOAT_MAX_INT:
            raise _bad("numbers are finite and within float range (this integer is beyond it)", where)


FLOAT_MAX_INT = int(1.7976931348623157e308)


def normalize_records(rows: Iterable[Any], database: Database | None = None) -> list[dict[str, Any]]:
    return [normalize_record(r, database, pointer([i])) for i, r in enumerate(rows)]


def load_data(text: str) -> list[Any] | dict[str, list[Any]]:
    """Parse RECORDS text: a JSON list, JSON lines, or ``{"<databaseId>": [rows]}``."""
    stripped = text.strip()
    if not stripped:
        return []
    try:
        obj = json.loads(stripped)
        if isinstance(obj, list):
            return obj
        if isinstance(obj, dict) and obj and all(isinstance(v, list) for v in obj.values()):
            return obj
        if isinstance(obj, dict):
            return [obj]
    except ValueError:
        pass
    rows = []
    for n, line in enumerate(stripped.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except ValueError as e:
            raise FilterError(
                [
                    Diagnostic(
                        "invalid-json", f"records: line {n} is not JSON: {e}", Location(line=n, column=1)
                    )
                ]
            ) from None
    return rows


def normalize_dataset(data: Any, catalog: Catalog | None = None) -> dict[str | None, list[dict[str, Any]]]:
    """Records for every database: ``{db_id: canonical docs}``; a plain list goes under None."""
    if isinstance(data, Mapping):
        out: dict[str | None, list[dict[str, Any]]] = {}
        for db_id, rows in data.items():
            db = catalog.get(db_id) if catalog is not None else None
            out[db_id] = normalize_records(rows, db)
        return out
    return {None: normalize_records(data)}


def check_run_args(query: Any, dataset: Any) -> None:
    """The arguments of the engine runners (``backends.sql.runners.run``, ``backends.mongo.runners.run``)
    checked where they enter: a parsed Query and ``{database id: [canonical documents]}``; anything else
    is ``wrong-type`` located at the argument (never an AttributeError deep in a runner)."""
    from filterdsl.ast import Query

    def wrong(name: str, what: str, value: Any, ptr: str | None = None) -> FilterError:
        return FilterError(
            [
                Diagnostic(
                    "wrong-type",
                    f"{name} is {what}, not {type(value).__name__}",
                    Location(param=name, pointer=ptr),
                )
            ]
        )

    if not isinstance(query, Query):
        raise wrong("query", "a filterdsl Query (from parse)", query)
    if not isinstance(dataset, Mapping):
        raise wrong("dataset", "a mapping {database_id: [documents]}", dataset)
    for db, docs in dataset.items():
        if not isinstance(docs, list):
            raise wrong("dataset", "a list of documents for each database", docs, pointer([str(db)]))
        for i, d in enumerate(docs):
            if not isinstance(d, Mapping):
                raise wrong("dataset", "documents (objects: see normalize_dataset)", d, pointer([str(db), i]))
