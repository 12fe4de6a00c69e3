"""A records API on SQLAlchemy (async ORM) + Starlette, filtered by filterdsl.

    pip install -e '.[sqlalchemy,server]' aiosqlite
    python examples/sqlalchemy_app/app.py            # http://127.0.0.1:8001, SQLite in memory
    python examples/sqlalchemy_app/app.py --db postgresql+psycopg://postgres@127.0.0.1:5432/test

    curl 'http://127.0.0.1:8001/api/databases/ixuPJwBRqtRP3GpoM/records/?data__Popw6SRW8pL2RqECF=paid&ordering=-id'
    curl -X POST http://127.0.0.1:8001/api/databases/ixuPJwBRqtRP3GpoM/data -d @examples/paid-orders.json

On start it creates one table per database of examples/catalog.json (the JSON document layout) and
loads examples/records.json. Bad filters answer 400 with every located diagnostic.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, Column, MetaData, String, Table, Text, insert, select
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import StaticPool
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

import filterdsl
from filterdsl.integrations.sqlalchemy import apply, install_sqlite_lower
from filterdsl.records import normalize_dataset

HERE = Path(__file__).resolve().parent.parent
CATALOG = filterdsl.load_catalog(HERE / "catalog.json")


def _dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False)  # SQLite JSON paths never match \\uXXXX-escaped keys


def build(url: str = "sqlite+aiosqlite://") -> Starlette:
    """The app: tables made and records loaded at startup, on ``url``."""
    kw: dict[str, Any] = {"json_serializer": _dumps}
    if url.startswith("sqlite"):
        kw["poolclass"] = StaticPool  # one in-memory database shared by every request
    engine: AsyncEngine = create_async_engine(url, **kw)
    if url.startswith("sqlite"):
        install_sqlite_lower(engine)
    md = MetaData()
    tables = {
        db.id: Table(
            f"example_{db.id}",
            md,
            Column("id", String(64), primary_key=True),
            Column("created_at", String(40), nullable=False),
            Column("updated_at", String(40)),
            Column("removed_at", String(40)),
            Column("data", JSON().with_variant(JSONB(), "postgresql").with_variant(Text(), "mysql")),
        )
        for db in CATALOG.databases
    }

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        data = normalize_dataset(json.loads((HERE / "records.json").read_text()), CATALOG)
        async with engine.begin() as con:
            await con.run_sync(md.drop_all)
            await con.run_sync(md.create_all)
            for db, docs in data.items():
                if docs:
                    await con.execute(
                        insert(tables[db]),
                        [
                            {k: d[k] for k in ("id", "created_at", "updated_at", "removed_at", "data")}
                            for d in docs
                        ],
                    )
        yield
        await engine.dispose()

    async def answer(request: Request, query: Any) -> JSONResponse:
        table = tables[request.path_params["database_id"]]
        related = {db: t for db, t in tables.items() if db != query.database}
        stmt = apply(select(table), query, table, catalog=CATALOG, related=related)
        try:
            async with engine.connect() as con:
                rows = (await con.execute(stmt)).mappings().all()
        except filterdsl.FilterError as e:  # e.g. a filter the layout cannot express
            return JSONResponse({"errors": [d.to_json() for d in e.diagnostics]}, status_code=400)
        return JSONResponse([_project(dict(r), query.fields) for r in rows])

    def _bad(e: filterdsl.FilterError) -> JSONResponse:
        return JSONResponse({"errors": [d.to_json() for d in e.diagnostics]}, status_code=400)

    async def records(request: Request) -> JSONResponse:
        """PixieBrix record query params."""
        db = request.path_params["database_id"]
        if db not in tables:
            return JSONResponse({"errors": [{"code": "unknown-database", "message": db}]}, status_code=404)
        try:
            query = filterdsl.parse(request.url.query, "pixiebrix", catalog=CATALOG, database=db)
        except filterdsl.FilterError as e:
            return _bad(e)
        return await answer(request, query)

    async def data(request: Request) -> JSONResponse:
        """A Pitchly ``data`` variables object."""
        db = request.path_params["database_id"]
        if db not in tables:
            return JSONResponse({"errors": [{"code": "unknown-database", "message": db}]}, status_code=404)
        try:
            query = filterdsl.parse(await request.body(), "pitchly", catalog=CATALOG, database=db)
        except filterdsl.FilterError as e:
            return _bad(e)
        return await answer(request, query)

    return Starlette(
        routes=[
            Route("/api/databases/{database_id}/records/", records),
            Route("/api/databases/{database_id}/data", data, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def _project(row: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    data = row["data"] if not isinstance(row["data"], str) else json.loads(row["data"])
    if fields is not None:
        data = {k: v for k, v in data.items() if k in fields}
    return {"id": row["id"], "created_at": row["created_at"], "updated_at": row["updated_at"], "data": data}


def main() -> None:
    import uvicorn

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--db", default="sqlite+aiosqlite://", help="async SQLAlchemy URL (default: SQLite in memory)"
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8001)
    args = ap.parse_args()
    uvicorn.run(build(args.db), host=args.host, port=args.port)


if __name__ == "__main__":
    main()
