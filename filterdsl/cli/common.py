"""What every command shares: reading inputs and options, parsing one input, printing located diagnostics, and the exit-code contract."""

from __future__ import annotations

import argparse
import glob
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO, cast

from filterdsl.api import Format, parse_result
from filterdsl.ast import Query
from filterdsl.errors import Diagnostic, FilterError
from filterdsl.schema import Catalog, load_catalog

EXT_FORMATS = {
    ".json": "pitchly",
    ".json5": "pitchly",
    ".search": "search",
    ".qs": "pixiebrix",
    ".fdsl": "text",
    ".ast": "ast",
}


EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_ENGINE, EXIT_NOT_EXPRESSIBLE = 0, 1, 2, 3, 4


EXIT_INTERNAL = 70  # EX_SOFTWARE (sysexits.h)


EXIT_PIPE = 141  # 128 + SIGPIPE, what a shell reports for a tool stopped by a closed pipe


#: diagnostics about the command line rather than the input (a bad option value): usage errors
USAGE_CODES = frozenset(
    {
        "schema-unreadable",
        "missing-mapping",
        "bad-layout",
        "unknown-dialect",
        "bad-paramstyle",
        "unknown-engine",
    }
)


#: a valid query that the chosen target (format, dialect, layout, engine) cannot say
NOT_EXPRESSIBLE_CODES = frozenset({"not-expressible", "unsupported", "layout-ambiguous"})


EXIT_CODES_HELP = """exit codes:
  0    success (validate: every file valid)
  1    invalid input: diagnostics on stderr, nothing on stdout
  2    usage error: bad options, unreadable --schema/--data/--mapping files, conflicting flags
  3    an engine failed (a database server unreachable, a driver missing)
  4    the query is valid but the chosen target cannot express it (not-expressible)
  70   internal error: a bug in filterdsl, please report it with the input
  141  stdout was closed early (e.g. | head -1); nothing more is printed"""


class UsageError(Exception):
    pass


class EngineError(Exception):
    pass


def _read(path: str) -> str:
    try:
        if path == "-":
            return sys.stdin.read()
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    except (OSError, UnicodeDecodeError) as e:
        raise UsageError(f"cannot read {path}: {e}") from None


def _source(args: argparse.Namespace) -> tuple[str, str]:
    """(text, label) of the single input."""
    if args.expr is not None:
        if args.input is not None:
            raise UsageError("give either an input file or --expr, not both")
        return args.expr, "<expr>"
    if args.input is None:
        raise UsageError("an input file (or - for stdin, or --expr TEXT) is required")
    return _read(args.input), ("<stdin>" if args.input == "-" else args.input)


def _format(args: argparse.Namespace, label: str) -> Format:
    """``--from``, else the file extension's format (argparse's choices and EXT_FORMATS hold only formats)."""
    fmt = args.fmt or EXT_FORMATS.get(os.path.splitext(label)[1].lower(), "pitchly")
    return cast(Format, fmt)


def _prepare(text: str, fmt: str) -> Any:
    # A trailing newline from a file is not part of a search string or a query string.
    return text.rstrip("\r\n") if fmt in ("search", "pixiebrix") else text


def _options(args: argparse.Namespace) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "strict": not args.lenient,
        "resolve_names": args.resolve_names,
        "django_compat": args.django_compat,
        "lookups": args.lookups,
    }
    if getattr(args, "quoted", False):
        opts["quoted"] = True
    if args.max_limit is not None:
        opts["max_limit"] = args.max_limit
    return opts


class SourceError(FilterError):
    """A FilterError about one source (the input, the schema, the data): printed with that source's
    label and, where a diagnostic has a line and column, the offending line with a caret under it."""

    def __init__(self, error: FilterError, label: str, text: str | None):
        super().__init__(error.diagnostics)
        self.label, self.text = label, text


def _catalog(args: argparse.Namespace) -> Catalog | None:
    if not args.schema:
        return None
    text = _read(args.schema)  # unreadable: a usage error (exit 2), like any file named by an option
    try:
        return load_catalog(text)
    except FilterError as e:
        raise SourceError(e, args.schema, text) from None


def _print_diags(diags: Sequence[Diagnostic], label: str, out: TextIO, text: str | None = None) -> None:
    from filterdsl.cli.report import Redacted, position

    masked = Redacted(text) if text else None
    for d in diags:
        print(f"{label}: {d}", file=out)
        pos = position(d, text) if text else None
        shown = masked.snippet(*pos) if masked is not None and pos else None
        if shown is not None:
            print("    " + shown[0].expandtabs(1), file=out)
            print("    " + " " * (shown[1] - 1) + "^", file=out)


def _parse_one(args: argparse.Namespace, catalog: Catalog | None) -> Query:
    text, label = _source(args)
    return parse_source(args, catalog, text, label)


def parse_source(
    args: argparse.Namespace, catalog: Catalog | None, text: str, label: str, warn: bool = True
) -> Query:
    """One input's query; its errors raise SourceError (shown with the input's label and line)."""
    fmt = _format(args, label)
    res = parse_result(_prepare(text, fmt), fmt, catalog, args.database, **_options(args))
    if res.query is None or res.errors:
        raise SourceError(FilterError(res.diagnostics), label, text)
    if warn:
        _print_diags(res.warnings, label, sys.stderr, text)
    return res.query


SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox"}


GLOB_CHARS = set("*?[")


def expand_inputs(inputs: Sequence[str]) -> list[str]:
    """Files, directories (recursively: files with a known extension) and globs, in a stable order."""
    out: list[str] = []
    for item in inputs:
        if item == "-" or os.path.isfile(item):
            out.append(item)
        elif os.path.isdir(item):
            found = []
            for root, dirs, files in os.walk(item):
                dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS)
                found += [
                    os.path.join(root, f) for f in files if os.path.splitext(f)[1].lower() in EXT_FORMATS
                ]
            out += sorted(found)
        elif GLOB_CHARS & set(item):
            matches = sorted(m for m in glob.glob(item, recursive=True) if os.path.isfile(m))
            if not matches:
                raise UsageError(f"no files match {item!r}")
            out += matches
        else:
            raise UsageError(f"no such file or directory: {item}")
    seen: set[str] = set()
    return [p for p in out if not (p in seen or seen.add(p))]  # type: ignore[func-returns-value]
