"""Coverage-guided fuzzing of every frontend with atheris (long runs, outside the test suite).

    pip install atheris
    python tests/fuzz/atheris_frontends.py -max_total_time=600      # or -runs=1000000

Each input is split by its first byte into a frontend choice and a body; the body goes through
``parse_result`` with and without a schema. Anything but a FilterError-free ParseResult or a
FilterError is a crash that atheris reports with the input that caused it. Every diagnostic must
carry a code and a location.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris

with atheris.instrument_imports():
    import importlib

    from filterdsl import FilterError, load_catalog
    from filterdsl.api import parse_result

    # Frontends are imported lazily by parse_result: import them here so they are instrumented.
    for _name in ("pitchly", "relaxed_json", "search", "pixiebrix", "text"):
        try:
            importlib.import_module(f"filterdsl.frontends.{_name}")
        except ModuleNotFoundError:
            pass

CATALOG = load_catalog(Path(__file__).resolve().parent.parent / "corpus" / "catalog.json")
DB = "ixuPJwBRqtRP3GpoM"
CHOICES = [
    ("pitchly", {}),
    ("search", {}),
    ("search", {"quoted": True}),
    ("pixiebrix", {}),
    ("pixiebrix", {"django_compat": True, "lookups": "extended"}),
    ("text", {}),
    ("ast", {}),
]


def check(fmt: str, body: str, opts: dict, with_schema: bool) -> None:
    try:
        res = parse_result(body, fmt, CATALOG if with_schema else None, DB if with_schema else None, **opts)
    except FilterError as e:
        diags = e.diagnostics
    except ModuleNotFoundError:  # a frontend not built in this checkout
        return
    else:
        diags = list(res.diagnostics)
        if res.query is not None:
            json.dumps(res.query.__class__.__name__)
    for d in diags:
        assert d.code and d.message, d
        loc = d.location
        assert (
            loc.pointer is not None
            or loc.line is not None
            or loc.param is not None
            or loc.offset is not None
            or d.code in ("unknown-format",)
        ), d


def one_input(data: bytes) -> None:
    if not data:
        return
    fmt, opts = CHOICES[data[0] % len(CHOICES)]
    body = data[1:].decode("utf-8", "replace")
    check(fmt, body, opts, bool(data[0] & 0x80))


if __name__ == "__main__":
    atheris.Setup(sys.argv, one_input)
    atheris.Fuzz()
