"""A reference records API over a real database (``filterdsl serve``): an ASGI app on Starlette.

The endpoints are in ``routes``, the tables in ``store``; see filterdsl/server/__init__.py."""

from __future__ import annotations

from typing import Any

from filterdsl.embed import QueryCache
from filterdsl.schema import Catalog, CatalogSource, load_catalog
from filterdsl.server.playground import playground_routes
from filterdsl.server.routes import MAX_IMPORT_BYTES, Api
from filterdsl.server.store import Store

#: the request head uvicorn's h11 parser buffers: a target up to the 1 MiB input limit plus 64 KiB of
#: headers is read whole, so the app answers 414 (``too-large``) for a longer URL instead of the
#: parser dropping the connection mid-request (a reset, no HTTP status). Pass these to uvicorn.
MAX_REQUEST_HEAD = (1 << 20) + (64 << 10)
#: ``http="h11"`` even where httptools is installed (uvicorn's "auto" would pick it, e.g. with
#: ``uvicorn[standard]``): httptools drops such a URL with "Invalid HTTP request" and no status.
UVICORN_OPTIONS: dict[str, Any] = {"h11_max_incomplete_event_size": MAX_REQUEST_HEAD, "http": "h11"}


def create_app(
    url: str = "sqlite:///:memory:",
    catalog: CatalogSource | None = None,
    cache: QueryCache | None = None,
    use_cache: bool = True,
    options: dict[str, Any] | None = None,
    max_import: int = MAX_IMPORT_BYTES,
    auto_index: bool = True,
) -> Any:
    """The Starlette app; ``app.state.store``, ``app.state.cache`` and ``app.state.api`` are exposed for
    embedding/tests.

    ``options`` are parse options for every request (``lookups="extended"``, ``django_compat=True``,
    ``strict=False``, ...), as ``filterdsl serve --lookups/--django-compat/--lenient`` pass them.
    ``auto_index``: the store creates the advised indexes of the forms it is asked (``Store``;
    ``filterdsl serve --no-auto-index`` turns it off)."""
    from starlette.applications import Starlette
    from starlette.routing import Route

    cat: Catalog | None = load_catalog(catalog) if catalog is not None else None
    store = Store(url, auto_index=auto_index)
    if not use_cache:
        store.count_cache = None
    api = Api(store, cat, (cache or QueryCache()) if use_cache else None, options or {}, max_import)
    app = Starlette(
        routes=[
            Route("/api/databases/{database}/records/", api.guarded(api.records), methods=["GET"]),
            Route("/api/databases/{database}/data", api.guarded(api.data, body=True), methods=["POST"]),
            Route(
                "/api/databases/{database}/data/count", api.guarded(api.count, body=True), methods=["POST"]
            ),
            Route("/api/records/import", api.guarded(api.import_records, body=True), methods=["POST"]),
            Route("/api/stats", api.stats, methods=["GET"]),
            *playground_routes(api),  # the page, POST /api/compile, /openapi.json (docs/playground.md)
        ]
    )
    app.state.store = store
    app.state.cache = api.cache
    app.state.api = api  # the route handlers (benchmarks/bench_server_load.py --breakdown calls them)
    return app


def serve(
    url: str, catalog: CatalogSource | None, host: str, port: int, use_cache: bool = True
) -> None:  # pragma: no cover
    import uvicorn

    uvicorn.run(
        create_app(url, catalog, use_cache=use_cache),
        host=host,
        port=port,
        log_level="info",
        **UVICORN_OPTIONS,
    )
