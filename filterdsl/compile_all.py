"""One filter, every output: what the playground (``POST /api/compile``) shows while the user types.

``compile_all(text, format, catalog, database, options, targets, sql)`` parses ``text`` in the given
format (or detects it), and returns a JSON-ready dict: the diagnostics, each with the ``span`` of the
input it points at, and per target either ``{"value": ...}`` or ``{"error": diagnostic}`` (a format
that cannot express the query says why: ``not-expressible``). Targets: ``explain``, the five formats,
``sql`` (for a dialect and layout, pretty, with its params and whether CI executes that dialect or only
parse-checks it), ``mongo`` and ``indexes``; ``records`` is the caller's (the server runs the query on
its own store). A bad input never raises: ``ok`` is False and the diagnostics say where.

Spans are ``[start, end)`` offsets in UTF-16 code units (what a browser's ``String`` indexes), so a
page can highlight them without recounting.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from filterdsl.api import parse_result
from filterdsl.ast import Query
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.frontends import ParseResult
from filterdsl.options import ParseOptions
from filterdsl.schema import Catalog, FieldDef

FORMATS = ("pitchly", "search", "pixiebrix", "text", "ast")
FORMAT_CHOICES = ("auto", *FORMATS)
OPTION_NAMES = ("strict", "lookups", "django_compat", "quoted", "resolve_names")
TARGETS = ("explain", *FORMATS, "sql", "mongo", "indexes", "records")
_PB_NAME = re.compile(r"^\??(data__|start_date=|end_date=|page=|page_size=|ordering=)")


@dataclass
class Compiled:
    """What ``compile_all`` found: ``ok`` (the input parsed), the body to answer, and the query."""

    ok: bool
    body: dict[str, Any]
    query: Query | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)


# ---------------------------------------------------------------------- format detection


def detect_format(text: str, catalog: Catalog | None = None, database: str | None = None) -> str:
    """``ast`` for JSON holding ``filterdsl_ast``; ``pitchly`` for any other object (JSON or the relaxed
    object-literal syntax); ``pixiebrix`` when the first parameter is a PixieBrix name (``data__...``,
    ``start_date=``, ``page=``, ...); ``text`` when the text form's grammar reads it (schema errors
    aside); else ``search`` (any text is a search string)."""
    s = text.strip()
    if s.startswith("{"):
        try:
            obj = json.loads(s)
        except (ValueError, RecursionError):
            return "ast" if '"filterdsl_ast"' in s[:200] else "pitchly"
        return "ast" if isinstance(obj, dict) and "filterdsl_ast" in obj else "pitchly"
    if _PB_NAME.match(s):
        return "pixiebrix"
    if not s:
        return "search"
    res = parse_result(s, "text", catalog, database)
    if any(d.code in ("syntax-error", "invalid-encoding") for d in res.errors):
        return "search"
    return "text"


# ---------------------------------------------------------------------- spans


def _utf16(text: str, offset: int) -> int:
    """A code-point offset as UTF-16 code units."""
    head = text[:offset]
    return len(head) + sum(1 for ch in head if ord(ch) > 0xFFFF)


_WORD = re.compile(r"[^\s,|&()\[\]{}:\"'`]+")


def _json_value_end(text: str, i: int) -> int:
    """End of the JSON (or relaxed) value starting at ``i``: a string, a container, or a bare token."""
    n = len(text)
    ch = text[i]
    if ch in "\"'":
        j = i + 1
        while j < n and text[j] != ch:
            j += 2 if text[j] == "\\" else 1
        return min(j + 1, n)
    if ch in "{[":
        depth, j, quote = 0, i, ""
        while j < n:
            c = text[j]
            if quote:
                if c == "\\":
                    j += 1
                elif c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
            elif c in "{[":
                depth += 1
            elif c in "}]":
                depth -= 1
                if depth == 0:
                    return j + 1
            j += 1
        return n
    m = re.compile(r"[^\s,}\]]+").match(text, i)
    return m.end() if m else i + 1


def _member_value(text: str, i: int) -> int | None:
    """Where the value of the object member whose key starts at ``i`` starts (None: not a member)."""
    n = len(text)
    if i >= n:
        return None
    if text[i] in "\"'":
        j = _json_value_end(text, i)
    else:
        m = re.compile(r"[A-Za-z0-9_$]+").match(text, i)
        if m is None:
            return None
        j = m.end()
    m = re.compile(r"\s*:\s*").match(text, j)
    return m.end() if m and m.end() < n else None


def span_of(text: str, fmt: str, loc: Location) -> tuple[int, int] | None:
    """``[start, end)`` (code points) of what a diagnostic points at, or None when it has no place in
    the text (a whole-input problem still gets the first character)."""
    off = loc.offset
    if off is None:
        return None
    n = len(text)
    if off >= n:
        return (n, n)
    if fmt == "pixiebrix":
        end = text.find("&", off)
        return (off, n if end < 0 else end)
    ch = text[off]
    if fmt == "pitchly" and loc.pointer == "/search" and ch not in "\"'":  # inside the search string
        m = _WORD.match(text, off)
        return (off, m.end() if m else off + 1)
    if fmt in ("pitchly", "ast"):
        value = _member_value(text, off) if loc.pointer else None  # a member: its key and value
        return (off, _json_value_end(text, value if value is not None else off))
    if ch in "\"'`":  # text form and quoted search strings
        j = off + 1
        while j < n and text[j] != ch:
            j += 2 if text[j] == "\\" else 1
        return (off, min(j + 1, n))
    m = _WORD.match(text, off)
    return (off, m.end() if m else off + 1)


def _locate(text: str, fmt: str, diags: list[Diagnostic], limits: Any) -> list[Diagnostic]:
    """Give a line and column to pointer-only diagnostics of a JSON text (the AST form's, the search
    string inside a Pitchly variables object)."""
    from filterdsl.frontends import relaxed_json

    if fmt not in ("pitchly", "ast"):
        return diags
    want = {
        d.location.pointer
        for d in diags
        if d.location.pointer is not None and (d.location.line is None or d.location.pointer == "/search")
    }
    if not want:
        return diags
    try:
        positions = relaxed_json.positions_of(text, want, limits.max_json_values)
    except FilterError:
        return diags
    out = []
    for d in diags:
        loc = d.location
        if loc.pointer is not None and loc.pointer == "/search" and fmt == "pitchly":
            pos = positions.get("/search")
            start = _member_value(text, pos[2]) if pos is not None else None
            if start is not None and loc.offset is not None:  # offset inside the search string
                at = start + 1 + loc.offset
                line = text.count("\n", 0, at) + 1
                col = at - (text.rfind("\n", 0, at) + 1) + 1
                loc = Location(pointer=loc.pointer, line=line, column=col, offset=at)
        elif loc.pointer is not None and loc.line is None:
            pos = relaxed_json.locate(loc.pointer, positions)
            if pos is not None:
                loc = Location(pointer=loc.pointer, line=pos[0], column=pos[1], offset=pos[2])
        out.append(Diagnostic(d.code, d.message, loc, d.severity))
    return out


def diagnostic_json(text: str, fmt: str, d: Diagnostic) -> dict[str, Any]:
    out = d.to_json()
    span = span_of(text, fmt, d.location)
    if span is not None:
        out["span"] = {"start": _utf16(text, span[0]), "end": _utf16(text, span[1])}
    return out


# ---------------------------------------------------------------------- targets


def _error(e: FilterError) -> dict[str, Any]:
    d = (e.errors or e.diagnostics or [Diagnostic("internal", str(e))])[0]
    return {"error": d.to_json()}


def _internal(e: Exception) -> dict[str, Any]:
    return {
        "error": Diagnostic(
            "internal", f"a bug in filterdsl (please report it): {type(e).__name__}: {e}", Location()
        ).to_json()
    }


def _snake(name: str) -> str:
    s = re.sub(r"[^0-9a-zA-Z]+", "_", name).strip("_").lower()
    return s or "field"


def columns_layout(catalog: Catalog | None) -> Any:
    """The playground's columns layout: one column per catalog field, named after the field (snake
    case; a currency field adds ``<name>_currency``), one table per database (its id)."""
    from filterdsl.backends.sql import ColumnsLayout

    if catalog is None:
        raise FilterError.one(
            "missing-mapping",
            "the columns layout needs a catalog (one column per field)",
            Location(param="layout"),
        )
    columns: dict[Any, dict[str, Any]] = {}
    for db in catalog:
        used: set[str] = set()
        cols: dict[str, Any] = {}
        for f in db.fields:
            col = _unique(_snake(f.name), used)
            cols[f.id] = (
                {"column": col, "currency": _unique(col + "_currency", used)}
                if f.type.value == "currency"
                else col
            )
        columns[db.id] = cols
    return ColumnsLayout(columns=columns)


def _unique(name: str, used: set[str]) -> str:
    base = name if name not in ("id", "created_at", "updated_at", "removed_at", "data") else name + "_"
    out, k = base, 2
    while out in used:
        out, k = f"{base}_{k}", k + 1
    used.add(out)
    return out


def _sql(query: Query, catalog: Catalog | None, sql: dict[str, Any]) -> dict[str, Any]:
    from filterdsl.backends.sql import ColumnsLayout, JsonLayout, UnverifiedDialectWarning, to_sql
    from filterdsl.backends.sql.status import EXECUTED, unverified_message

    dialect = str(sql.get("dialect") or "sqlite").lower()
    layout_name = str(sql.get("layout") or "json")
    pretty = sql.get("pretty", True) is not False
    if layout_name not in ("json", "columns"):
        raise FilterError.one(
            "bad-layout", f"unknown layout {layout_name!r} (json or columns)", Location(param="layout")
        )
    layout = JsonLayout() if layout_name == "json" else columns_layout(catalog)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        text, params = to_sql(query, dialect, layout, catalog, pretty=pretty)
    notes = [str(w.message) for w in caught if not isinstance(w.message, UnverifiedDialectWarning)]
    executed = EXECUTED.get(dialect, {}).get(layout_name)
    out: dict[str, Any] = {
        "value": text,
        "params": params,
        "dialect": dialect,
        "layout": layout_name,
        "status": "executed" if executed else "parse-checked",
        "engine": executed,
        "warnings": notes,
    }
    if not executed:
        out["note"] = (unverified_message(dialect, layout_name) or "").removeprefix("unverified-dialect: ")
    if isinstance(layout, ColumnsLayout):
        out["columns"] = dict(layout.field_columns(query.database))
    return out


def _indexes(query: Query, catalog: Catalog | None, sql: dict[str, Any]) -> dict[str, Any]:
    from filterdsl.backends.sql import JsonLayout
    from filterdsl.backends.sql.indexes import advise

    dialect = str(sql.get("dialect") or "sqlite").lower()
    layout = JsonLayout() if (sql.get("layout") or "json") == "json" else columns_layout(catalog)
    return {"value": advise([query], dialect, layout).text(), "dialect": dialect}


def _target(name: str, query: Query, catalog: Catalog | None, sql: dict[str, Any]) -> dict[str, Any]:
    if name == "explain":
        from filterdsl.emitters.explain import explain

        return {"value": explain(query, catalog)}
    if name in FORMATS:
        from filterdsl.emitters import to_format

        return {"value": to_format(query, name, catalog=catalog)}
    if name == "sql":
        return _sql(query, catalog, sql)
    if name == "mongo":
        from filterdsl.backends.mongo import to_mongo

        return {"value": json.loads(json.dumps(to_mongo(query, catalog=catalog), default=str))}
    if name == "indexes":
        return _indexes(query, catalog, sql)
    raise FilterError.one("unknown-format", f"unknown target {name!r}", Location(param="targets"))


# ---------------------------------------------------------------------- the whole request


def _bad(code: str, message: str, param: str) -> FilterError:
    return FilterError.one(code, message, Location(param=param))


def parse_request(body: Any) -> dict[str, Any]:
    """Check a ``POST /api/compile`` body's shape (FilterError located at the member's name)."""
    if not isinstance(body, dict):
        raise FilterError.one("wrong-type", "the body is a JSON object {input, format, options, targets}")
    allowed = ("input", "format", "database", "options", "targets", "sql", "records")
    for k in body:
        if k not in allowed:
            raise _bad("unknown-key", f"unknown member {k!r}; allowed: {', '.join(allowed)}", k)
    text = body.get("input")
    if not isinstance(text, str):
        raise _bad("wrong-type", "input is the filter as a string", "input")
    fmt = body.get("format") or "auto"
    if fmt not in FORMAT_CHOICES:
        raise _bad("unknown-format", f"unknown format {fmt!r}; one of {', '.join(FORMAT_CHOICES)}", "format")
    database = body.get("database")
    if database is not None and not isinstance(database, str):
        raise _bad("wrong-type", "database is a database id string", "database")
    options = body.get("options")
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise _bad("wrong-type", "options is an object", "options")
    for k in options:
        if k not in OPTION_NAMES:
            raise _bad("unknown-key", f"unknown option {k!r}; one of {', '.join(OPTION_NAMES)}", k)
    targets = body.get("targets")
    if targets is None:
        targets = list(TARGETS)
    if not isinstance(targets, list) or not all(isinstance(t, str) and t in TARGETS for t in targets):
        raise _bad("wrong-type", f"targets is a list of: {', '.join(TARGETS)}", "targets")
    for name in ("sql", "records"):
        if body.get(name) is not None and not isinstance(body[name], dict):
            raise _bad("wrong-type", f"{name} is an object", name)
    sql: dict[str, Any] = body["sql"] if body.get("sql") is not None else {}
    for k, v in sql.items():
        if (
            k not in ("dialect", "layout", "pretty")
            or (k == "pretty" and type(v) is not bool)
            or (k != "pretty" and not isinstance(v, str))
        ):
            raise _bad("wrong-type", "sql is {dialect: string, layout: json|columns, pretty: boolean}", "sql")
    return {
        "input": text,
        "format": fmt,
        "database": database,
        "options": dict(options),
        "targets": targets,
        "sql": sql,
        "records": body.get("records") if body.get("records") is not None else {},
    }


def compile_all(
    text: str,
    fmt: str = "auto",
    catalog: Catalog | None = None,
    database: str | None = None,
    options: dict[str, Any] | None = None,
    targets: list[str] | tuple[str, ...] = TARGETS,
    sql: dict[str, Any] | None = None,
) -> Compiled:
    """Parse ``text`` and compile it to every requested target (see the module's docstring).

    The parse options' size limits are checked before anything else (the text's size, then each
    frontend's own limits)."""
    opts = dict(options or {})
    limits = ParseOptions.from_kwargs(**opts).limits
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_input_bytes:
        d = Diagnostic("too-large", f"input exceeds {limits.max_input_bytes} bytes", Location(pointer=""))
        return Compiled(False, {"format": fmt, "diagnostics": [d.to_json()]}, None, [d])
    detected = fmt == "auto"
    if detected:
        fmt = detect_format(text, catalog, database)
    source: Any = text.rstrip("\r\n") if fmt in ("search", "pixiebrix") else text
    res: ParseResult = parse_result(source, fmt, catalog, database, **opts)  # type: ignore[arg-type]
    diags = list(res.diagnostics)
    if fmt == "ast" and res.query is None:
        diags = _ast_json_position(text, diags)
    diags = _locate(text, fmt, diags, limits)
    body: dict[str, Any] = {
        "format": fmt,
        "detected": detected,
        "database": res.query.database if res.query is not None else database,
        "diagnostics": [diagnostic_json(text, fmt, d) for d in diags],
    }
    if res.query is None or res.errors:
        return Compiled(False, body, None, diags)
    outputs: dict[str, Any] = {}
    for name in targets:
        if name == "records":
            continue
        try:
            outputs[name] = _target(name, res.query, catalog, sql or {})
        except FilterError as e:
            outputs[name] = _error(e)
        except Exception as e:  # a bug: say so in that output, and still answer the others
            outputs[name] = _internal(e)
    body["outputs"] = outputs
    return Compiled(True, body, res.query, diags)


def _ast_json_position(text: str, diags: list[Diagnostic]) -> list[Diagnostic]:
    """The AST form's ``invalid-json`` has no position: read it from Python's JSON error."""
    out = []
    for d in diags:
        if d.code == "invalid-json" and d.location.line is None:
            try:
                json.loads(text)
            except json.JSONDecodeError as e:
                d = Diagnostic(
                    d.code,
                    f"not valid JSON: {e.msg}",
                    Location(pointer="", line=e.lineno, column=e.colno, offset=e.pos),
                    d.severity,
                )
            except (ValueError, RecursionError):
                pass
        out.append(d)
    return out


def field_list(catalog: Catalog) -> list[dict[str, Any]]:
    """Databases and their fields for a page's pickers."""
    return [
        {
            "id": db.id,
            "name": db.name,
            "fields": [_field_json(f) for f in db.fields],
        }
        for db in catalog
    ]


def _field_json(f: FieldDef) -> dict[str, Any]:
    return {
        "id": f.id,
        "name": f.name,
        "type": f.type.value,
        **({"restrict": list(f.restrict)} if f.restrict is not None else {}),
        **({"database": f.database} if f.database else {}),
    }


def samples(catalog: Catalog | None, database: str | None) -> dict[str, str]:
    """One example input per format for ``database`` (a page's starting points): a Pitchly filter on
    its first enum (or string) field, and the same query in the other formats where they can say it."""
    from filterdsl.emitters import to_format

    out = {
        "search": "deal|money, acme",
        "pixiebrix": "data__status=paid&ordering=-created_at",
        "text": '`status`:json is "paid"',
    }
    db = catalog.get(database) if catalog is not None and database is not None else None
    if db is None:
        return out
    enum = next((f for f in db.fields if f.type.value == "enum" and f.restrict), None)
    string = next((f for f in db.fields if f.type.value == "string"), None)
    if enum is not None and enum.restrict is not None:
        flt = {"by": "is-any-of", "value": list(enum.restrict[:2])}
        fid, word = enum.id, enum.restrict[0]
    elif string is not None:
        flt, fid, word = {"by": "contains", "value": "a"}, string.id, "a"
    else:
        return out
    obj = {"fields": {fid: {"filters": [flt]}}}
    out["pitchly"] = json.dumps(obj, indent=2, ensure_ascii=False)
    out["search"] = word
    out["pixiebrix"] = f"data__{fid}={word}&ordering=-created_at"
    try:
        from filterdsl.api import parse

        q = parse(obj, "pitchly", catalog, database)
        out["text"] = str(to_format(q, "text", catalog=catalog))
        out["ast"] = json.dumps(to_format(q, "ast"), indent=2, ensure_ascii=False)
    except FilterError:
        pass
    return out
