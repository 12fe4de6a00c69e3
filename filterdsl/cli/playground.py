"""``filterdsl playground``: the reference server on the example catalog and records, with its
playground page at ``/``; prints the URL (and opens a browser where there is a display)."""

from __future__ import annotations

import argparse
import os
import socket
import sys
import threading
from pathlib import Path

from filterdsl.cli.common import UsageError, _read
from filterdsl.records import load_data, normalize_dataset


def example_files() -> tuple[Path, Path]:
    """The example catalog and records: ``filterdsl/examples/`` in a wheel, ``examples/`` in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for base in (here / "examples", here.parent / "examples"):
        if (base / "catalog.json").is_file() and (base / "records.json").is_file():
            return base / "catalog.json", base / "records.json"
    raise UsageError(
        "the example catalog and records are missing from this installation; pass --schema and --data"
    )


def _has_display() -> bool:
    return sys.platform in ("darwin", "win32") or bool(
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    )


def _socket(host: str, port: int, fallback: bool) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as e:
        if not fallback:
            sock.close()
            raise UsageError(f"cannot listen on {host}:{port}: {e}") from None
        sock.bind((host, 0))  # the default port is taken: any free one
    return sock


def cmd_playground(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from filterdsl.server import create_app
    except ImportError as e:
        raise UsageError(
            f"playground needs the server extra (pip install 'filterdsl[server]'): {e}"
        ) from None
    from filterdsl.schema import load_catalog

    if (args.schema is None) != (args.data is None):
        raise UsageError("give both --schema and --data, or neither (the examples)")
    if args.schema is None:
        cat_path, data_path = example_files()
        schema, data_file = str(cat_path), str(data_path)
    else:
        schema, data_file = args.schema, args.data
    catalog = load_catalog(_read(schema))
    app = create_app("sqlite:///:memory:", catalog)
    data = load_data(_read(data_file))
    if not isinstance(data, dict):
        raise UsageError("--data for playground is {databaseId: [rows]}")
    for db_id, docs in normalize_dataset(data, catalog).items():
        app.state.store.import_docs(str(db_id), docs)
    sock = _socket(args.host, args.port, fallback=args.port == DEFAULT_PORT)
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    print(f"filterdsl playground on {Path(schema).name} and {Path(data_file).name}: {url}  (Ctrl+C stops it)")
    sys.stdout.flush()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    if not args.no_browser and _has_display():
        import webbrowser

        def open_when_started() -> None:
            for _ in range(200):
                if server.started:
                    webbrowser.open(url)
                    return
                threading.Event().wait(0.05)

        threading.Thread(target=open_when_started, daemon=True).start()
    server.run(sockets=[sock])
    return 0


DEFAULT_PORT = 8000
