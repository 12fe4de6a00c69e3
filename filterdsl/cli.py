"""The ``filterdsl`` command: run, validate, explain, convert, serve.

Exit codes are a contract (README "Command line", ``filterdsl --help``): 0 success (or valid),
1 invalid input (diagnostics on stderr, nothing on stdout), 2 usage error, 3 an engine failed (e.g. a
database server is unreachable), 4 a valid query the chosen target cannot express, 70 an internal
error (a bug), 141 stdout closed early (``| head``: quiet, as a Unix tool stopped by SIGPIPE).
"""

from __future__ import annotations

import argparse
import fnmatch
import glob
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn, TextIO

from .api import parse_result
from .ast import Query, to_json
from .errors import Diagnostic, FilterError, Location
from .records import load_data, normalize_dataset
from .report import FileResult
from .schema import Catalog, load_catalog

EXT_FORMATS = {
    ".json": "pitchly",
    ".json5": "pitchly",
    ".search": "search",
    ".qs": "pixiebrix",
    ".fdsl": "text",
    ".ast": "ast",
}
ENGINES = (
    "memory",
    "sqlite",
    "duckdb",
    "postgres",
    "mysql",
    "datafusion",
    "clickhouse",
    "mongomock",
    "mingo",
)
DEFAULT_ENGINE = "sqlite"

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

#: kept equal to filterdsl.backends.sql.status.EXECUTED (tests/test_sql_columnar.py checks)
DIALECT_STATUS_HELP = """SQL dialect status (--to sql):
  executed in CI, results compared with the in-memory engine:
    sqlite, duckdb, postgres, mysql (MariaDB)  JSON document and columns layouts
    clickhouse (chDB, in process)              JSON document and columns layouts
    spark                                      JSON document layout (local Spark 4)
    datafusion (in process)                    columns layout
  every other sqlglot dialect, and the layouts not listed above: parse-checked only (the SQL is read
  back by sqlglot, never run); compiling for one prints a warning unverified-dialect"""


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Every option's default in its help (unless it has none, or the help names it already)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default" in text
            or default in (None, False, argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        return text + " (default: %(default)s)"


class UsageError(Exception):
    pass


class EngineError(Exception):
    pass


def _options_args(p: argparse.ArgumentParser, lenient_into: Any = None) -> None:
    """The parse options, shared by every command that parses (serve included)."""
    (lenient_into or p).add_argument(
        "--lenient",
        action="store_true",
        help="Pitchly: unknown keys are warnings, not errors (default: errors; for PixieBrix params "
        "see --django-compat)",
    )
    p.add_argument(
        "--django-compat",
        action="store_true",
        help="PixieBrix params: Django's lenient handling (the last repeated value wins, unknown "
        "non-data__ parameters are ignored with a warning, page_size is clamped); a data__ "
        "parameter is never ignored (default: off)",
    )
    p.add_argument(
        "--lookups",
        choices=["strict", "extended"],
        default="strict",
        help="PixieBrix params: strict accepts __exact and __isnull; extended adds __iexact, "
        "__icontains, __istartswith, __iendswith, __gt, __gte, __lt, __lte, __in",
    )
    p.add_argument(
        "--max-limit", type=int, default=None, metavar="N", help="maximum Pitchly limit (default: 100)"
    )


def _common(p: argparse.ArgumentParser, inputs: str) -> Any:
    """Input and parse options; returns the group --lenient is in (validate adds --strict to it)."""
    p.add_argument(
        "--from",
        dest="fmt",
        default=None,
        choices=["pitchly", "search", "pixiebrix", "text", "ast"],
        help="input format (default: from the file extension: .json/.json5 pitchly, .search, "
        ".qs pixiebrix, .fdsl text, .ast; else pitchly)",
    )
    p.add_argument(
        "--schema",
        metavar="CATALOG.json",
        help="catalog JSON (the Pitchly `databases` result); needed for Pitchly field filters "
        "(default: none, schemaless)",
    )
    p.add_argument(
        "--database",
        metavar="ID",
        help="the queried database _id (default: from the input's databaseId, if any)",
    )
    p.add_argument(
        "--resolve-names",
        action="store_true",
        help="field keys may be field names as well as ids (default: ids only)",
    )
    p.add_argument(
        "--quoted",
        action="store_true",
        help='search strings: "..." pieces may hold , and | (default: " is an ordinary character)',
    )
    group = p.add_mutually_exclusive_group()  # validate: --lenient and --strict contradict each other
    _options_args(p, group)
    if inputs == "one":
        p.add_argument("input", nargs="?", help="input file, or - for standard input")
        p.add_argument("--expr", metavar="TEXT", help="the input given inline instead of a file")
    elif inputs == "some":
        p.add_argument(
            "inputs", nargs="*", help="files, directories (searched for known extensions) or globs"
        )
    else:
        p.add_argument(
            "inputs", nargs="+", help="files, directories (searched for known extensions) or globs"
        )
    return group


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

    fmt = _HelpFormatter
    ap = argparse.ArgumentParser(
        prog="filterdsl",
        description="Parse, validate, run and convert filters.",
        epilog=EXIT_CODES_HELP,
        formatter_class=fmt,
    )
    ap.add_argument("--version", action="version", version=f"filterdsl {__version__}")
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, text: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, help=text, description=text, epilog=EXIT_CODES_HELP, formatter_class=fmt)

    run = command("run", "run a query over records and print the matches")
    _common(run, "one")
    run.add_argument(
        "--data",
        required=True,
        metavar="RECORDS",
        help="records: a JSON list, JSON lines, or {databaseId: [rows]} (relational filters)",
    )
    run.add_argument(
        "--engine",
        choices=ENGINES,
        default=DEFAULT_ENGINE,
        help="where the query runs: memory (the reference), sqlite/duckdb (in memory), postgres/"
        "mysql (--url), clickhouse (chDB, in process), datafusion (in process, columns layout: "
        "needs --schema), "
        "mongomock/mingo",
    )
    run.add_argument(
        "--url",
        help="database URL for the postgres and mysql engines (default: the local server, database test)",
    )
    run.add_argument(
        "--ids",
        action="store_true",
        help="print only record ids, one per line (default: JSON lines of projected documents)",
    )

    val = command("validate", "validate stored filters; exit 1 when any is invalid")
    group = _common(val, "many")
    val.add_argument(
        "--output",
        choices=["text", "json", "github", "sarif"],
        default="text",
        help="report format: text (with caret snippets), json, github (workflow annotations), "
        "sarif (SARIF 2.1.0 for code scanning)",
    )
    val.add_argument(
        "--database-map",
        metavar="FILE",
        help='JSON file {"glob pattern": "databaseId"} choosing each file\'s database; patterns '
        "match the path relative to the current directory or the file name, first match wins "
        "(default: --database for every file)",
    )
    group.add_argument("--strict", action="store_true", help="warnings fail too (default: only errors fail)")
    val.add_argument(
        "--quiet",
        action="store_true",
        help="text output: only failing diagnostics, no summary (default: everything)",
    )

    exp = command("explain", "print the parsed query readably, with field names when --schema is given")
    _common(exp, "one")

    conv = command("convert", "convert a filter to another format or backend")
    conv.epilog = DIALECT_STATUS_HELP + "\n\n" + EXIT_CODES_HELP
    _common(conv, "one")
    conv.add_argument(
        "--to",
        required=True,
        choices=["pitchly", "search", "pixiebrix", "text", "ast", "sql", "mongo"],
        help="output: an input format, sql (SQL then its params as JSON) or mongo (find spec or pipeline)",
    )
    conv.add_argument(
        "--dialect",
        default=None,
        help="--to sql: any sqlglot dialect, or datafusion; see the status table below (default: sqlite)",
    )
    conv.add_argument(
        "--layout",
        choices=["json", "columns"],
        default=None,
        help="--to sql: json (one JSON document column) or columns (needs --mapping) (default: json)",
    )
    conv.add_argument(
        "--mapping",
        metavar="FILE",
        help="--to sql: JSON file mapping field id -> column (columns layout) or renaming tables "
        "(json layout)",
    )
    conv.add_argument(
        "--inline",
        action="store_true",
        help="--to sql: values as SQL literals instead of bound params (default: params)",
    )
    conv.add_argument(
        "--pretty",
        action="store_true",
        help="--to sql: print the SQL through sqlglot's pretty printer (default: one line)",
    )
    conv.add_argument(
        "--keys",
        choices=["ids", "names"],
        default="ids",
        help="--to pitchly or text: write field ids, or the schema's field names (names need "
        "--schema; read them back with --resolve-names)",
    )

    idx = command(
        "indexes",
        "print the CREATE INDEX statements (and extensions) that let a database serve "
        "stored filters from indexes, and say which forms no index serves",
    )
    _common(idx, "some")
    idx.add_argument("--dialect", default="postgres", help="SQL dialect of the database (default: postgres)")
    idx.add_argument(
        "--layout",
        choices=["json", "columns"],
        default="json",
        help="json (one JSON document column) or columns (needs --mapping) (default: json)",
    )
    idx.add_argument(
        "--mapping",
        metavar="FILE",
        help="JSON file mapping field id -> column (columns layout) or renaming tables (json layout)",
    )
    idx.add_argument(
        "--all-fields",
        action="store_true",
        help="advise for every filterable field of --database (needs --schema), as well as for "
        "the given filters (default: only the filters)",
    )

    srv = command("serve", "run the reference records API (needs the 'server' extra)")
    srv.add_argument(
        "--db",
        default="sqlite:///:memory:",
        help="where records live: sqlite:///PATH, sqlite:///:memory: or postgresql://...",
    )
    srv.add_argument(
        "--schema",
        metavar="CATALOG.json",
        help="catalog JSON (default: none; databases are schemaless, as in PixieBrix)",
    )
    srv.add_argument("--data", metavar="RECORDS", help="records to load at start: {databaseId: [rows]}")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on")
    srv.add_argument("--port", type=int, default=8000, help="port to listen on")
    srv.add_argument(
        "--no-cache",
        action="store_true",
        help="compile every request (default: compiled SQL is cached by query)",
    )
    srv.add_argument(
        "--resolve-names",
        action="store_true",
        help="Pitchly bodies: field keys may be field names as well as ids (default: ids only)",
    )
    _options_args(srv)
    return ap


# ---------------------------------------------------------------- helpers
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


def _format(args: argparse.Namespace, label: str) -> str:
    if args.fmt:
        return str(args.fmt)
    return EXT_FORMATS.get(os.path.splitext(label)[1].lower(), "pitchly")


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
    from .report import Redacted, position

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
    fmt = _format(args, label)
    res = parse_result(_prepare(text, fmt), fmt, catalog, args.database, **_options(args))
    if res.query is None or res.errors:
        raise SourceError(FilterError(res.diagnostics), label, text)
    _print_diags(res.warnings, label, sys.stderr, text)
    return res.query


# ---------------------------------------------------------------- commands
def cmd_run(args: argparse.Namespace) -> int:
    if args.url is not None and args.engine not in ("postgres", "mysql"):
        raise UsageError(f"--url is for the postgres and mysql engines, not {args.engine}")
    catalog = _catalog(args)
    query = _parse_one(args, catalog)
    data = _read(args.data)
    try:
        dataset = normalize_dataset(load_data(data), catalog)
    except FilterError as e:
        raise SourceError(e, args.data, None) from None
    ids = execute(query, dataset, args.engine, args.url, catalog)
    if args.ids:
        sys.stdout.write("".join(i + "\n" for i in ids))
        return 0
    from .backends.memory import project, rows_for

    by_id = {r["id"]: r for r in rows_for(query, dataset)}
    for i in ids:
        print(json.dumps(project(by_id[i], query.fields), ensure_ascii=False))
    return 0


def execute(
    query: Query,
    dataset: dict[Any, list[dict[str, Any]]],
    engine: str,
    url: str | None,
    catalog: Catalog | None,
) -> list[str]:
    """Ids in result order, from the chosen engine."""
    if engine == "memory":
        from .backends.memory import run

        return [r["id"] for r in run(query, dataset, catalog)]
    try:
        if engine in ("sqlite", "duckdb", "postgres", "mysql", "datafusion", "clickhouse"):
            from .backends import sql_exec

            docs = sql_exec.execute(query, dataset, engine=engine, url=url, catalog=catalog)
        else:
            from .backends import mongo_exec

            docs = mongo_exec.execute(query, dataset, engine=engine, catalog=catalog)
        return [d["id"] for d in docs]
    except FilterError:
        raise
    except ImportError as e:
        raise EngineError(f"engine {engine} is not available: {e}") from None
    except Exception as e:  # a server down, a driver missing: not the user's input
        raise EngineError(f"engine {engine} failed: {type(e).__name__}: {e}") from None


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
    from . import report

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
        from . import __version__

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


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain

    catalog = _catalog(args)
    print(explain(_parse_one(args, catalog), catalog))
    return 0


def _check_convert_flags(args: argparse.Namespace) -> None:
    """Flags that cannot apply to the chosen output are refused, never silently ignored."""
    sql_only = [
        flag
        for flag, given in (
            ("--dialect", args.dialect is not None),
            ("--layout", args.layout is not None),
            ("--mapping", args.mapping is not None),
            ("--inline", args.inline),
            ("--pretty", args.pretty),
        )
        if given
    ]
    if args.to != "sql" and sql_only:
        raise UsageError(f"{', '.join(sql_only)} apply to --to sql only, not --to {args.to}")
    if args.keys == "names" and args.to not in ("pitchly", "text"):
        raise UsageError(f"--keys names applies to --to pitchly and --to text only, not --to {args.to}")
    if args.keys == "names" and not args.schema:
        raise UsageError("--keys names needs --schema (field names come from the catalog)")
    if args.layout == "columns" and args.mapping is None:
        raise UsageError("--layout columns needs --mapping FILE ({field id: column name, ...})")
    if args.mapping is not None:
        _read(args.mapping)  # unreadable: a usage error, like --schema


def cmd_convert(args: argparse.Namespace) -> int:
    _check_convert_flags(args)
    catalog = _catalog(args)
    query = _parse_one(args, catalog)
    to = args.to
    if to == "ast":
        print(json.dumps(to_json(query), ensure_ascii=False, indent=2))
    elif to == "sql":
        import warnings

        from .backends import sql_cli
        from .backends.sql import UnverifiedDialectWarning

        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            text = sql_cli.convert(
                query,
                dialect=args.dialect or "sqlite",
                layout=args.layout or "json",
                mapping=args.mapping,
                inline=args.inline,
                catalog=catalog,
                pretty=args.pretty,
            )
        for w in caught:
            if isinstance(w.message, UnverifiedDialectWarning):  # SQL never executed: say so, as a diagnostic
                msg = str(w.message).removeprefix(UnverifiedDialectWarning.code + ": ")
                _print_diags(
                    [Diagnostic(UnverifiedDialectWarning.code, msg, Location(), "warning")],
                    f"--dialect {args.dialect or 'sqlite'}",
                    sys.stderr,
                )
            else:
                warnings.showwarning(w.message, w.category, w.filename, w.lineno)
        print(text)
    elif to == "mongo":
        from .backends import mongo_cli

        print(mongo_cli.convert(query, catalog=catalog))
    else:
        from .emitters import to_format

        out = to_format(query, to, catalog=catalog, keys=args.keys)
        print(out if isinstance(out, str) else json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from .server import create_app
    except ImportError as e:
        raise UsageError(f"serve needs the server extra (pip install 'filterdsl[server]'): {e}") from None
    catalog = _catalog(args)
    try:
        app = create_app(args.db, catalog, use_cache=not args.no_cache, options=_options(args))
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.data:
        data = load_data(_read(args.data))
        if not isinstance(data, dict):
            raise UsageError("--data for serve is {databaseId: [rows]}")
        for db_id, docs in normalize_dataset(data, catalog).items():
            app.state.store.import_docs(str(db_id), docs)
    uvicorn.run(app, host=args.host, port=args.port, log_level="info")
    return 0


def cmd_indexes(args: argparse.Namespace) -> int:
    from .backends import sql_cli

    catalog = _catalog(args)
    if not args.inputs and not args.all_fields:
        raise UsageError("give filter files, or --all-fields (with --schema and --database)")
    fields: list[tuple[str | None, Any]] = []
    if args.all_fields:
        db = catalog.get(args.database) if catalog is not None and args.database else None
        if db is None:
            raise UsageError("--all-fields needs --schema and the --database whose fields to index")
        fields = [(db.id, f) for f in sql_cli.filterable_fields(db)]
    queries = []
    for path in expand_inputs(args.inputs):
        text = _read(path)
        fmt = _format(args, path)
        res = parse_result(_prepare(text, fmt), fmt, catalog, args.database, **_options(args))
        if res.query is None or res.errors:
            raise SourceError(FilterError(res.diagnostics), path, text)
        queries.append(res.query)
    print(sql_cli.indexes(queries, args.dialect, args.layout, args.mapping, fields))
    return 0


COMMANDS = {
    "indexes": cmd_indexes,
    "serve": cmd_serve,
    "run": cmd_run,
    "validate": cmd_validate,
    "explain": cmd_explain,
    "convert": cmd_convert,
}


def _exit_code(e: FilterError) -> int:
    codes = {d.code for d in e.diagnostics if d.is_error}
    if "internal" in codes:
        return EXIT_INTERNAL
    if codes and codes <= USAGE_CODES:
        return EXIT_USAGE
    if codes and codes <= NOT_EXPRESSIBLE_CODES:
        return EXIT_NOT_EXPRESSIBLE
    return EXIT_INVALID


def _other_target(args: argparse.Namespace) -> str:
    """What to try when the query is valid but the chosen target cannot say it."""
    if args.command == "run":
        return (
            f"the query is valid, but --engine {args.engine} cannot run it; --engine memory runs every query"
        )
    if getattr(args, "to", None) == "sql":
        return (
            "the query is valid, but this SQL dialect or layout cannot express it; try another --dialect, "
            "--layout json, or --to text / --to ast (they express every query)"
        )
    if getattr(args, "to", None) is not None:
        return f"the query is valid, but --to {args.to} cannot express it; --to text and --to ast express every query"
    return "the query is valid, but the chosen target cannot express it"


def _stdout_closed() -> NoReturn:
    """The reader went away (``| head -1``): stop quietly, as a Unix tool stopped by SIGPIPE does."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's last flush has nowhere to fail
    except (OSError, ValueError):
        pass
    sys.exit(EXIT_PIPE)


def main(argv: Sequence[str] | None = None) -> NoReturn:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = COMMANDS[args.command](args)
        sys.stdout.flush()
    except BrokenPipeError:
        _stdout_closed()
    except FilterError as e:
        if isinstance(e, SourceError):
            label, text = e.label, e.text
        else:
            label, text = (
                (
                    "<expr>"
                    if getattr(args, "expr", None) is not None
                    else getattr(args, "input", None) or "<input>"
                ),
                None,
            )
        _print_diags(e.diagnostics, label, sys.stderr, text)
        code = _exit_code(e)
        if code == EXIT_NOT_EXPRESSIBLE:
            print(f"filterdsl: hint: {_other_target(args)}", file=sys.stderr)
    except UsageError as e:
        print(f"filterdsl: error: {e}", file=sys.stderr)
        code = EXIT_USAGE
    except EngineError as e:
        print(f"filterdsl: {e}", file=sys.stderr)
        code = EXIT_ENGINE
    except KeyboardInterrupt:
        code = 130
    except Exception as e:  # a bug, not the user's input: one line, never a traceback
        print(f"filterdsl: internal error (please report it): {type(e).__name__}: {e}", file=sys.stderr)
        code = EXIT_INTERNAL
    sys.exit(code)


if __name__ == "__main__":
    main()
