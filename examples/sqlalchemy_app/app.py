"""A records API on SQLAlchemy (async ORM) + Starlette, filtered by filterdsl.

    pip install -e '.[sqlalchemy,server]' aiosqlite
    python examples/sqlalchemy_app/app.py            # http://127.0.0.1:8001, SQLite in memory

    pip install -e '.[sqlalchemy,server,postgres]'   # PostgreSQL: a database of its own (it drops and
    createdb filterdsl_example                        # re-creates its example_* tables there)
    python examples/sqlalchemy_app/app.py --db postgresql+psycopg://postgres@127.0.0.1:5432/filterdsl_example

    curl 'http://127.0.0.1:8001/api/databases/ixuPJwBRqtRP3GpoM/records/?data__Popw6SRW8pL2RqECF=paid&ordering=-id'
    curl -X POST http://127.0.0.1:8001/api/databases/ixuPJwBRqtRP3GpoM/data -d @examples/paid-orders.json

On start it creates one table per database of examples/catalog.json (the JSON document layout) and
loads examples/records.json. It answers as the reference server (``filterdsl serve``) does: the same
parse options (strict lookups; the catalog's typed fields), ``GET .../records/`` a list of PixieBrix
records, ``POST .../data`` ``{"data": [Pitchly rows]}``, and every error ``{"errors": [diagnostics]}``
(400 for a bad filter, 404 for an unknown database).
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
from filterdsl.errors import Diagnostic, Location
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

    async def rows(database: str, query: Any) -> list[dict[str, Any]] | JSONResponse:
        table = tables[database]
        related = {db: t for db, t in tables.items() if db != query.database}
        stmt = apply(select(table), query, table, catalog=CATALOG, related=related)
        try:  # the SQL compiles when it runs: a filter no engine can be asked about raises here
            async with engine.connect() as con:
                return [_doc(dict(r)) for r in (await con.execute(stmt)).mappings().all()]
        except filterdsl.FilterError as e:
            return _bad(e)

    def _bad(e: filterdsl.FilterError, status: int = 400) -> JSONResponse:
        return JSONResponse({"errors": [d.to_json() for d in e.diagnostics]}, status_code=status)

    def _unknown(db: str) -> JSONResponse | None:
        if db in tables:
            return None
        where = Location(param="database")
        return _bad(
            filterdsl.FilterError([Diagnostic("unknown-database", f"no database {db[:40]!r}", where)]), 404
        )

    async def records(request: Request) -> JSONResponse:
        """PixieBrix record query params: a list of PixieBrix records."""
        db = request.path_params["database_id"]
        missing = _unknown(db)
        if missing is not None:
            return missing
        try:  # the raw bytes: %-escapes that are not UTF-8 are an error, not a guess
            query = filterdsl.parse(request.scope["query_string"], "pixiebrix", catalog=CATALOG, database=db)
        except filterdsl.FilterError as e:
            return _bad(e)
        got = await rows(db, query)
        if isinstance(got, JSONResponse):
            return got
        return JSONResponse([{k: d[k] for k in ("id", "data", "created_at", "updated_at")} for d in got])

    async def data(request: Request) -> JSONResponse:
        """A Pitchly ``data`` variables object: ``{"data": [Pitchly rows]}``."""
        db = request.path_params["database_id"]
        missing = _unknown(db)
        if missing is not None:
            return missing
        try:
            query = filterdsl.parse(await request.body(), "pitchly", catalog=CATALOG, database=db)
        except filterdsl.FilterError as e:
            return _bad(e)
        got = await rows(db, query)
        if isinstance(got, JSONResponse):
            return got
        return JSONResponse({"data": [pitchly_row(d, query.fields) for d in got]})

    return Starlette(
        routes=[
            Route("/api/databases/{database_id}/records/", records),
            Route("/api/databases/{database_id}/data", data, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def _doc(row: dict[str, Any]) -> dict[str, Any]:
    data = row["data"] if not isinstance(row["data"], str) else json.loads(row["data"])
    return {**row, "data": data}


def pitchly_row(doc: dict[str, Any], fields: tuple[str, ...] | None) -> dict[str, Any]:
    """A row as Pitchly's ``data`` query returns it (and the reference server): ``cols`` of value objects."""
    cols = [
        {"fieldId": k, "value": v if isinstance(v, dict) and "val" in v else {"val": v}}
        for k, v in doc["data"].items()
        if fields is None or k in fields
    ]
    return {
        "_id": doc["id"],
        "createdAt": doc["created_at"],
        "updatedAt": doc["updated_at"],
        "removedAt": doc["removed_at"],
        "cols": cols,
    }


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
