"""The HTTP endpoints of the records API: one ``Api`` object holds what every request needs (catalog,
store, query cache, parse options) and has one method per route."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from filterdsl.ast import Query
from filterdsl.cursor import next_cursor
from filterdsl.embed import CompiledQuery, QueryCache, from_pitchly_variables, from_request_params
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.frontends.pitchly import _no_constants
from filterdsl.frontends.relaxed_json import parse_int
from filterdsl.options import ParseOptions
from filterdsl.records import dropped_keys, normalize_record
from filterdsl.schema import Catalog
from filterdsl.server.store import SAFE_ID, Doc, Store, excerpt

MAX_IMPORT_BYTES = 64 << 20  # an import body; filter bodies are bounded by Limits.max_input_bytes
MAX_LINKED_QUERY = 8 << 10  # a listing whose query string is longer has no Link header (X-Total-Count only)


def pixiebrix_record(doc: Doc) -> Doc:
    return {
        "id": doc["id"],
        "data": doc["data"],
        "created_at": doc["created_at"],
        "updated_at": doc["updated_at"],
    }


def pitchly_row(doc: Doc, fields: tuple[str, ...] | None) -> Doc:
    cols = []
    for key, value in doc["data"].items():
        if fields is not None and key not in fields:
            continue
        val = value if isinstance(value, dict) and "val" in value else {"val": value}
        cols.append({"fieldId": key, "value": val})
    return {
        "_id": doc["id"],
        "createdAt": doc["created_at"],
        "updatedAt": doc["updated_at"],
        "removedAt": doc["removed_at"],
        "cols": cols,
    }


#: what a spreadsheet reads as the start of a formula (OWASP "CSV injection"), with the fullwidth forms
#: some locales also accept; such a text cell is written with a leading ``'`` (shown, never evaluated)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(text: str) -> str:
    """A text cell safe to open in a spreadsheet: one starting like a formula gets a leading ``'``."""
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(records: list[Doc]) -> str:
    """Records as CSV; text cells (ids, dates, string values) neutralised by :func:`csv_cell`. Numbers
    and JSON values are written as JSON (a number such as ``-5`` is not a formula and stays a number)."""
    keys = sorted({k for r in records for k in r["data"]})
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(["id", "created_at", "updated_at", *(f"data__{k}" for k in keys)])
    for r in records:
        cells = []
        for k in keys:
            v = r["data"].get(k)
            cells.append(
                ""
                if k not in r["data"]
                else csv_cell(v)
                if isinstance(v, str)
                else json.dumps(v, ensure_ascii=False)
            )
        w.writerow([csv_cell(r["id"]), csv_cell(r["created_at"]), csv_cell(r["updated_at"] or ""), *cells])
    return buf.getvalue()


def is_json_media_type(media: str) -> bool:
    """``application/json`` or a ``+json`` type (``application/vnd.x+json``). A cross-site form can only
    send ``text/plain``, ``application/x-www-form-urlencoded`` or ``multipart/form-data`` without a CORS
    preflight (which this server never grants), so a write needs a JSON type."""
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


# ---------------------------------------------------------------------- the app


def _pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)


class Api:
    def __init__(
        self,
        store: Store,
        catalog: Catalog | None,
        cache: QueryCache | None,
        options: dict[str, Any],
        max_import: int = MAX_IMPORT_BYTES,
    ):
        self.store, self.catalog, self.cache, self.opts = store, catalog, cache, dict(options)
        self.max_body = ParseOptions.from_kwargs(**self.opts).limits.max_input_bytes
        self.max_import = max_import

    def bad(self, diags: list[Diagnostic], status: int = 400) -> Response:
        return JSONResponse({"errors": [d.to_json() for d in diags]}, status_code=status)

    def check_db(self, database: str) -> Response | None:
        where = Location(param="database")  # the path parameter
        if self.catalog is not None:
            if self.catalog.get(database) is None:
                return self.bad(
                    [Diagnostic("unknown-database", f"no database {excerpt(database)}", where)], 404
                )
        elif not SAFE_ID.fullmatch(database):
            return self.bad(
                [Diagnostic("unknown-database", "database ids are 1-64 letters, digits, _ or -", where)], 404
            )
        return None

    def body_json(self, raw: bytes, limit: int) -> Any:
        """Strict JSON, read with the same guards as the Pitchly frontend (runs in the threadpool)."""
        if len(raw) > limit:
            raise FilterError(
                [Diagnostic("too-large", f"request body exceeds {limit} bytes", Location(pointer=""))]
            )
        try:
            return json.loads(raw, parse_constant=_no_constants, parse_int=parse_int)
        except (ValueError, RecursionError) as e:
            raise FilterError(
                [
                    Diagnostic(
                        "invalid-json",
                        f"request body is not valid JSON: {type(e).__name__}",
                        Location(pointer=""),
                    )
                ]
            ) from None

    def guarded(
        self, handler: Callable[[Request, bytes], Response], body: bool = False
    ) -> Callable[[Request], Awaitable[Response]]:
        """Checks and reading on the event loop; parsing, compiling and the database in the threadpool,
        so one expensive request never stalls the others."""

        async def endpoint(request: Request) -> Response:
            target = len(request.scope.get("raw_path", b"")) + len(request.scope.get("query_string", b""))
            if target > self.max_body:  # the URL alone is over the input limit: 414, before any work
                return self.bad(
                    [
                        Diagnostic(
                            "too-large",
                            f"the URL exceeds {self.max_body} bytes (send a large filter as a POST body)",
                            Location(param="url"),
                        )
                    ],
                    414,
                )
            database = request.path_params.get("database")
            if database is not None:
                missing = self.check_db(database)
                if missing is not None:
                    return missing
            raw = await request.body() if body else b""
            try:
                return await run_in_threadpool(handler, request, raw)
            except FilterError as e:
                return self.bad(e.diagnostics)

        return endpoint

    def records(self, request: Request, _: bytes) -> Response:
        database = request.path_params["database"]
        compiled = from_request_params(
            request.url.query,
            database=database,
            catalog=self.catalog,
            dialect=self.store.dialect,
            paramstyle=self.store.paramstyle,
            cache=self.cache,
            before_compile=self.precheck,
            **self.opts,
        )
        pairs = _pairs(request.url.query)
        nul = [i for i, (k, v) in enumerate(pairs) if "\x00" in k + v]
        self.store.check(
            compiled,
            Location(param=pairs[nul[0]][0].replace("\x00", "\\0"), index=nul[0])
            if nul
            else Location(pointer=""),
        )
        self.store.ensure_table(database)
        docs = self.store.fetch(compiled)
        q = compiled.query
        total = self.store.count(compiled)  # the filter's count: the page's sort, skip and limit play no part
        page_size = q.limit or 1
        page = q.skip // page_size + 1
        last = max(1, -(-total // page_size))
        links = []
        # relative (RFC 8288: resolved against the request's URL): the Host header is never echoed; the
        # request's params but page, encoded once, then page=n (what urlencode writes for that pair)
        target = request.url.path + "?" + urlencode([(k, v) for k, v in pairs if k != "page"])
        target += "&" if not target.endswith("?") else ""

        def link(n: int, rel: str) -> None:
            links.append(f'<{target}page={n}>; rel="{rel}"')

        # keyset pagination: the token of the page after this one (a full page may have a next)
        token = (
            next_cursor(q, docs[-1], secret=self.opts.get("cursor_secret"))
            if docs and q.limit is not None and len(docs) == q.limit
            else None
        )
        if len(request.url.query) <= MAX_LINKED_QUERY:  # four copies of a huge query are no header
            if q.after is not None:  # paging by cursor: the next page is after this page's last row
                if token is not None:
                    keep = [(k, v) for k, v in pairs if k not in ("page", "after")]
                    after = request.url.path + "?" + urlencode([*keep, ("after", token)])
                    links.append(f'<{after}>; rel="next"')
            else:
                link(1, "first")
                if page > 1:
                    link(min(page - 1, last), "prev")
                if page < last:
                    link(page + 1, "next")
                link(last, "last")
        headers = {"X-Total-Count": str(total)}
        if token is not None:
            headers["X-Next-Cursor"] = token
        if links:
            headers["Link"] = ", ".join(links)
        out = [pixiebrix_record(d) for d in docs]
        if "text/csv" in request.headers.get("accept", ""):
            return Response(to_csv(out), media_type="text/csv; charset=utf-8", headers=headers)
        return JSONResponse(out, headers=headers)

    def precheck(self, query: Query) -> None:
        """The store's limits on the parsed query, before it is compiled (a refusal costs no SQL)."""
        self.store.check_query(query, Location(pointer=""))

    def variables_query(self, database: str, body: Any) -> CompiledQuery:
        if not isinstance(body, dict):
            raise FilterError(
                [
                    Diagnostic(
                        "wrong-type", "the body is the Pitchly data variables object", Location(pointer="")
                    )
                ]
            )
        return from_pitchly_variables(
            body,
            catalog=self.catalog,
            database=database,
            dialect=self.store.dialect,
            paramstyle=self.store.paramstyle,
            cache=self.cache,
            before_compile=self.precheck,
            **self.opts,
        )

    def data(self, request: Request, raw: bytes) -> Response:
        database = request.path_params["database"]
        compiled = self.variables_query(database, self.body_json(raw, self.max_body))
        self.store.check(compiled, Location(pointer=""))
        self.store.ensure_table(database)
        rows = [pitchly_row(d, compiled.query.fields) for d in self.store.fetch(compiled)]
        return JSONResponse({"data": rows})

    def count(self, request: Request, raw: bytes) -> Response:
        database = request.path_params["database"]
        compiled = self.variables_query(database, self.body_json(raw, self.max_body))
        self.store.ensure_table(database)
        counted = self.store.count_query(compiled.query)
        self.store.check(counted, Location(pointer=""))
        return JSONResponse({"count": self.store.count(counted)})

    def import_records(self, request: Request, raw: bytes) -> Response:
        media = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if not is_json_media_type(media):  # a form or text/plain post from any web page: CSRF
            return self.bad(
                [
                    Diagnostic(
                        "unsupported-media-type",
                        "an import is sent as application/json (Content-Type), not "
                        + (repr(media[:60]) if media else "without a Content-Type"),
                        Location(param="Content-Type"),
                    )
                ],
                415,
            )
        body = self.body_json(raw, self.max_import)
        if (
            not isinstance(body, dict)
            or not isinstance(body.get("databaseId"), str)
            or not isinstance(body.get("records"), list)
        ):
            raise FilterError(
                [
                    Diagnostic(
                        "wrong-type",
                        'expected {"databaseId": string, "records": [records]}',
                        Location(pointer=""),
                    )
                ]
            )
        database = body["databaseId"]
        missing = self.check_db(database)
        if missing is not None:
            return missing
        db = self.catalog.get(database) if self.catalog is not None else None
        docs = [normalize_record(r, db, f"/records/{i}") for i, r in enumerate(body["records"])]
        imported = self.store.import_docs(database, docs)
        dropped = [p for i, r in enumerate(body["records"]) for p in dropped_keys(r, db, f"/records/{i}")]
        if not dropped:
            return JSONResponse({"imported": imported})
        # nothing is lost silently: a value object's extra keys are dropped by SPEC 1.2, so say where
        warning = {
            "code": "dropped-keys",
            "message": f"{len(dropped)} value object(s) of plain-typed fields kept only their val",
            "pointers": dropped[:20],
        }
        return JSONResponse({"imported": imported, "warnings": [warning]})

    async def stats(self, request: Request) -> Response:
        s = self.cache.stats() if self.cache is not None else None
        return JSONResponse(
            {
                "cache": None
                if s is None
                else {
                    "hits": s.hits,
                    "misses": s.misses,
                    "size": s.size,
                    "maxsize": s.maxsize,
                    "hit_rate": s.hit_rate,
                }
            }
        )
