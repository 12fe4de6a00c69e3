"""``filterdsl validate``: stored filters checked in bulk, reported as text, JSON, GitHub annotations or SARIF."""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import sys

from filterdsl.api import parse_result
from filterdsl.cli.common import (
    EXIT_INTERNAL,
    UsageError,
    _catalog,
    _format,
    _options,
    _prepare,
    _read,
    expand_inputs,
)
from filterdsl.cli.report import FileResult
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.schema import Catalog


def _database_map(path: str | None) -> list[tuple[str, str]]:
    if not path:
        return []
    try:
        obj = json.loads(_read(path))
    except ValueError as e:
        raise UsageError(f"--database-map {path}: not valid JSON: {e}") from None
    if not isinstance(obj, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in obj.items()
    ):
        raise UsageError(f'--database-map {path}: expected an object {{"glob pattern": "databaseId"}}')
    return list(obj.items())


def display_path(path: str) -> str:
    """The path as reports show it and --database-map patterns see it: relative to the current directory
    when the file is under it (``./filters/a.json`` and ``/repo/filters/a.json`` are ``filters/a.json``),
    else normalised and absolute; ``/`` separators."""
    if path == "-":
        return path
    full = os.path.abspath(path)
    try:
        rel = os.path.relpath(full)
    except ValueError:  # another drive (Windows)
        rel = full
    out = full if rel == os.pardir or rel.startswith(os.pardir + os.sep) else rel
    return out.replace(os.sep, "/")


def _database_for(path: str, mapping: list[tuple[str, str]], default: str | None) -> str | None:
    posix = display_path(path)
    for pattern, db in mapping:
        pattern = pattern[2:] if pattern.startswith("./") else pattern
        if fnmatch.fnmatchcase(posix, pattern) or fnmatch.fnmatchcase(posix.rsplit("/", 1)[-1], pattern):
            return db
    return default


def validate_file(
    path: str, args: argparse.Namespace, catalog: Catalog | None, mapping: list[tuple[str, str]]
) -> FileResult:
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        d = Diagnostic("unreadable-file", f"cannot read the file: {e}", Location(line=1, column=1))
        return FileResult(display_path(path), "", (d,), False)
    fmt = _format(args, path)
    try:
        res = parse_result(
            _prepare(text, fmt), fmt, catalog, _database_for(path, mapping, args.database), **_options(args)
        )
    except FilterError as e:  # an argument problem (e.g. a --database-map id of the wrong kind)
        return FileResult(display_path(path), text, tuple(e.diagnostics), False)
    except Exception as e:  # a bug: this file's report says so, and every other file is still checked
        d = Diagnostic(
            "internal",
            f"internal error (please report it with this file): {type(e).__name__}: {e}",
            Location(line=1, column=1),
        )
        return FileResult(display_path(path), text, (d,), False)
    return FileResult(display_path(path), text, res.diagnostics, res.query is not None and not res.errors)


def cmd_validate(args: argparse.Namespace) -> int:
    from filterdsl.cli import report

    if args.quiet and args.output != "text":
        raise UsageError(f"--quiet is for the text output; --output {args.output} always reports everything")
    catalog = _catalog(args)
    mapping = _database_map(args.database_map)
    results = [validate_file(p, args, catalog, mapping) for p in expand_inputs(args.inputs)]
    strict = args.strict
    if args.output == "json":
        print(report.json_report(results, strict))
    elif args.output == "github":
        print(report.github_report(results, strict))
    elif args.output == "sarif":
        from filterdsl import __version__

        print(
            json.dumps(
                report.sarif_report(results, strict, __version__, root=os.getcwd()),
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        text = report.text_report(results, strict, args.quiet)
        if text:
            print(text)
    if any(d.code == "internal" for r in results for d in r.diagnostics):
        return EXIT_INTERNAL  # reported per file above; a bug, not the input
    return 1 if any(r.failed(strict) for r in results) else 0
