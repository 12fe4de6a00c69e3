"""The playground routes of the reference server: the page (``GET /``, its script and style, all local:
no CDN, no network), its configuration (``GET /api/playground``), ``POST /api/compile`` and the OpenAPI
document (``GET /openapi.json``).

``POST /api/compile`` takes ``{input, format, database, options, targets, sql, records}`` and answers
every target ``filterdsl.compile_all`` computes plus ``records``: the matches on this server's store,
with their count and the time the store took. Bad input is 400 with located diagnostics (each with a
``span`` in the input), an unknown database 404, never a 500; the body is bounded by the same limit as
every filter body (``Limits.max_input_bytes``), checked before it is read as JSON.
"""

from __future__ import annotations

import functools
import time
from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from filterdsl.ast import Query
from filterdsl.compile_all import (
    FORMAT_CHOICES,
    compile_all,
    field_list,
    parse_request,
    samples,
)
from filterdsl.embed import compile_query
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.schema_export import openapi_document
from filterdsl.server.routes import Api, pixiebrix_record

#: what the page may load: itself and this server's API, nothing else (no CDN, no network)
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
ASSETS = {
    "playground.html": "text/html; charset=utf-8",
    "playground.js": "text/javascript; charset=utf-8",
    "playground.css": "text/css; charset=utf-8",
}
DEFAULT_RECORDS = 20
MAX_SAMPLED = 50  # databases the page gets example inputs for


@functools.lru_cache(maxsize=len(ASSETS))
def asset(name: str) -> bytes:
    """A file of the page, shipped in the package (filterdsl/server/static/)."""
    return resources.files("filterdsl.server").joinpath("static").joinpath(name).read_bytes()


class Playground:
    def __init__(self, api: Api):
        self.api = api
        self._openapi: dict[str, Any] | None = None

    def page(self, name: str) -> Any:
        async def endpoint(request: Request) -> Response:
            return Response(
                asset(name),
                media_type=ASSETS[name],
                headers={"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"},
            )

        return endpoint

    def databases(self) -> list[dict[str, Any]]:
        if self.api.catalog is not None:
            return field_list(self.api.catalog)
        return [{"id": t, "name": t, "fields": []} for t in self.api.store.databases()]

    async def config(self, request: Request) -> Response:
        from filterdsl.backends.sql import dialect_names
        from filterdsl.backends.sql.status import EXECUTED

        opts = self.api.opts
        dbs = self.databases()
        return JSONResponse(
            {
                "databases": dbs,
                # the page opens on the richest database (the most fields: the most to try)
                "default_database": max(dbs, key=lambda d: len(d["fields"]))["id"] if dbs else None,
                "schemaless": self.api.catalog is None,
                "formats": list(FORMAT_CHOICES),
                "dialects": [
                    {"name": d, "executed": dict(EXECUTED.get(d, {}))}
                    for d in sorted(set(dialect_names()) | set(EXECUTED))
                    if d not in ("dax", "prql", "tableau")
                ],
                "store": self.api.store.dialect,
                "options": {
                    "strict": opts.get("strict", True),
                    "lookups": opts.get("lookups", "strict"),
                    "django_compat": opts.get("django_compat", False),
                    "quoted": opts.get("quoted", False),
                    "resolve_names": opts.get("resolve_names", False),
                },
                "max_input_bytes": self.api.max_body,
                "samples": {
                    "": samples(None, None),
                    **{d["id"]: samples(self.api.catalog, d["id"]) for d in dbs[:MAX_SAMPLED]},
                },
            }
        )

    async def openapi(self, request: Request) -> Response:
        if self._openapi is None:
            opts = self.api.opts
            self._openapi = openapi_document(
                self.api.catalog,
                lookups=opts.get("lookups", "strict"),
                max_limit=opts.get("max_limit"),
                max_page_size=opts.get("max_page_size"),
            )
        return JSONResponse(self._openapi)

    def compile(self, request: Request, raw: bytes) -> Response:
        """Through ``Api.guarded`` (the server's request checks; this runs in the threadpool): the
        body's size first, then its JSON and shape, then the compile."""
        req = parse_request(self.api.body_json(raw, self.api.max_body))
        if req["database"] is not None:
            missing = self.api.check_db(req["database"])
            if missing is not None:
                return missing
        return self._compile(req)

    def _compile(self, req: dict[str, Any]) -> Response:
        options = {**self.api.opts, **req["options"]}  # the page's switches over the server's defaults
        done = compile_all(
            req["input"],
            req["format"],
            self.api.catalog,
            req["database"],
            options,
            req["targets"],
            req["sql"],
        )
        if not done.ok:
            errors = [d for d in done.body["diagnostics"] if d["severity"] == "error"]
            return JSONResponse({"errors": errors, **done.body}, status_code=400)
        if "records" in req["targets"] and done.query is not None:
            done.body["outputs"]["records"] = self.records(done.query, req["records"])
        return JSONResponse(done.body)

    def records(self, query: Query, opts: dict[str, Any]) -> dict[str, Any]:
        """The matches on this server's store: the first ``limit`` of them, the query's count (its own
        skip and limit applied) and the total without paging, with the store's time."""
        limit = opts.get("limit", DEFAULT_RECORDS)
        if type(limit) is not int or not 0 <= limit <= 100:
            raise FilterError.one(
                "bad-value", "records.limit is an integer 0..100", Location(param="records")
            )
        if query.database is None:
            return {
                "error": Diagnostic(
                    "missing-schema", "choose a database to run the query on", Location(param="database")
                ).to_json()
            }
        missing = self.api.check_db(query.database)
        if missing is not None:
            return {
                "error": Diagnostic(
                    "unknown-database", f"no database {query.database!r} here", Location(param="database")
                ).to_json()
            }
        store, cache = self.api.store, self.api.cache
        try:
            compiled = compile_query(
                query,
                dialect=store.dialect,
                catalog=self.api.catalog,
                paramstyle=store.paramstyle,
                cache=cache,
            )
            store.check(compiled, Location(pointer=""))
            unpaged = compile_query(
                Query(query.predicate, (), 0, None, None, query.database),
                dialect=store.dialect,
                catalog=self.api.catalog,
                paramstyle=store.paramstyle,
                cache=cache,
            )
            store.ensure_table(query.database)
            start = time.perf_counter()
            docs = store.fetch(compiled)
            total = store.count(unpaged)
            ms = (time.perf_counter() - start) * 1000
        except FilterError as e:
            return {"error": e.diagnostics[0].to_json()}
        return {
            "value": [pixiebrix_record(d) for d in docs[:limit]],
            "count": len(docs),
            "total": total,
            "shown": min(limit, len(docs)),
            "ms": round(ms, 3),
            "engine": store.dialect,
        }


def playground_routes(api: Api) -> list[BaseRoute]:
    """The routes ``create_app`` adds: the page and its assets, its configuration, compile, OpenAPI."""
    pg = Playground(api)
    return [
        Route("/", pg.page("playground.html"), methods=["GET"]),
        Route("/playground.js", pg.page("playground.js"), methods=["GET"]),
        Route("/playground.css", pg.page("playground.css"), methods=["GET"]),
        Route("/api/playground", pg.config, methods=["GET"]),
        Route("/api/compile", api.guarded(pg.compile, body=True), methods=["POST"]),
        Route("/openapi.json", pg.openapi, methods=["GET"]),
    ]


__all__ = ["CSP", "Playground", "asset", "playground_routes"]
