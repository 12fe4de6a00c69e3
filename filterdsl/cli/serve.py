"""``filterdsl serve``: the reference records API under uvicorn."""

from __future__ import annotations

import argparse

from filterdsl.cli.common import (
    UsageError,
    _catalog,
    _options,
    _read,
)
from filterdsl.records import load_data, normalize_dataset


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from filterdsl.server import create_app
        from filterdsl.server.app import UVICORN_OPTIONS
    except ImportError as e:
        raise UsageError(f"serve needs the server extra (pip install 'filterdsl[server]'): {e}") from None
    catalog = _catalog(args)
    try:
        app = create_app(
            args.db,
            catalog,
            use_cache=not args.no_cache,
            options=_options(args),
            auto_index=not args.no_auto_index,
        )
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.data:
        data = load_data(_read(args.data))
        if not isinstance(data, dict):
            raise UsageError("--data for serve is {databaseId: [rows]}")
        for db_id, docs in normalize_dataset(data, catalog).items():
            app.state.store.import_docs(str(db_id), docs)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        access_log=not args.no_access_log,
        **UVICORN_OPTIONS,
    )
    return 0
