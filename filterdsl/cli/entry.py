"""The ``filterdsl`` command: run, validate, explain, convert, serve.

Exit codes are a contract (README "Command line", ``filterdsl --help``): 0 success (or valid),
1 invalid input (diagnostics on stderr, nothing on stdout), 2 usage error, 3 an engine failed (e.g. a
database server is unreachable), 4 a valid query the chosen target cannot express, 70 an internal
error (a bug), 141 stdout closed early (``| head``: quiet, as a Unix tool stopped by SIGPIPE).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from filterdsl.cli.common import (
    EXIT_CODES_HELP,
    EXIT_ENGINE,
    EXIT_INTERNAL,
    EXIT_INVALID,
    EXIT_NOT_EXPRESSIBLE,
    EXIT_PIPE,
    EXIT_USAGE,
    NOT_EXPRESSIBLE_CODES,
    USAGE_CODES,
    EngineError,
    SourceError,
    UsageError,
    _print_diags,
)
from filterdsl.cli.convert import cmd_convert
from filterdsl.cli.engines import DEFAULT_ENGINE, ENGINES
from filterdsl.cli.explain import cmd_explain
from filterdsl.cli.indexes import cmd_indexes
from filterdsl.cli.playground import DEFAULT_PORT, cmd_playground
from filterdsl.cli.run import cmd_run
from filterdsl.cli.schema import cmd_schema
from filterdsl.cli.serve import cmd_serve
from filterdsl.cli.validate import cmd_validate
from filterdsl.errors import FilterError

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
    from filterdsl import __version__

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
        "needs --schema), spark (a local session, or Spark Connect with --url sc://HOST:PORT), "
        "mongomock/mingo",
    )
    run.add_argument(
        "--url",
        help="database URL for the postgres and mysql engines (default: the local server, database test); "
        "for spark, a Spark Connect URL sc://HOST:PORT (default: a local session)",
    )
    run.add_argument(
        "--ids",
        action="store_true",
        help="print only record ids, one per line (default: JSON lines of projected documents)",
    )
    run.add_argument(
        "--next-cursor",
        action="store_true",
        help="also print, on stderr, the keyset token of the page after the last match (pass it back as "
        'PixieBrix after= or Pitchly "after"); nothing when the page is not full',
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
        "(json layout; \"text_indexes\": true for indexes on data ->> 'k', see docs/sql.md)",
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
        help="JSON file mapping field id -> column (columns layout) or renaming tables (json layout; "
        "\"text_indexes\": true for indexes on data ->> 'k', see docs/sql.md)",
    )
    idx.add_argument(
        "--all-fields",
        action="store_true",
        help="advise for every filterable field of --database (needs --schema), as well as for "
        "the given filters (default: only the filters)",
    )
    idx.add_argument(
        "--check",
        action="store_true",
        help="read the indexes the database at --url already has and report, from EXPLAIN, which of "
        "the given filters (and sorts) they serve; print the CREATE INDEX for those they do not",
    )
    idx.add_argument("--url", help="--check: the database, postgresql://... or mysql://...")

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
        "--no-auto-index",
        action="store_true",
        help="never create indexes (default: the store creates the indexes `filterdsl indexes` advises "
        "for each form of query it is asked, up to 16 a table)",
    )
    srv.add_argument(
        "--no-access-log",
        action="store_true",
        help="no line per request on standard output (default: uvicorn's access log, about 20 us a request)",
    )
    srv.add_argument(
        "--resolve-names",
        action="store_true",
        help="Pitchly bodies: field keys may be field names as well as ids (default: ids only)",
    )
    _options_args(srv)

    pg = command(
        "playground",
        "serve the playground page (and the records API) on the example catalog and records, or on "
        "--schema/--data; prints the URL (needs the 'server' extra)",
    )
    pg.add_argument("--schema", metavar="CATALOG.json", help="catalog JSON (default: the examples' catalog)")
    pg.add_argument("--data", metavar="RECORDS", help="records {databaseId: [rows]} (default: the examples')")
    pg.add_argument("--host", default="127.0.0.1", help="address to listen on")
    pg.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port to listen on (default: {DEFAULT_PORT}, or any free port when it is taken)",
    )
    pg.add_argument(
        "--no-browser",
        action="store_true",
        help="only print the URL (default: also open a browser when there is a display)",
    )

    sch = command(
        "schema",
        "write the JSON Schema (2020-12) of a database's Pitchly filters and variables, for editors, "
        "or the OpenAPI 3.1 document of the reference server",
    )
    kind = sch.add_mutually_exclusive_group(required=True)
    kind.add_argument(
        "--json-schema",
        action="store_true",
        help="the JSON Schema of --database's filter objects and data variables (docs/editors.md)",
    )
    kind.add_argument(
        "--openapi",
        action="store_true",
        help="the OpenAPI document `filterdsl serve` serves at /openapi.json",
    )
    sch.add_argument("--schema", metavar="CATALOG.json", help="catalog JSON (the Pitchly `databases` result)")
    sch.add_argument("--database", metavar="ID", help="--json-schema: the database _id")
    sch.add_argument("--output", "-o", metavar="FILE", help="write to FILE (default: standard output)")
    sch.add_argument(
        "--max-limit", type=int, default=None, metavar="N", help="maximum Pitchly limit (default: 100)"
    )
    sch.add_argument(
        "--lookups",
        choices=["strict", "extended"],
        default="strict",
        help="--openapi: the PixieBrix lookups the server accepts (serve --lookups)",
    )
    return ap


# ---------------------------------------------------------------- helpers


# ---------------------------------------------------------------- commands


COMMANDS = {
    "indexes": cmd_indexes,
    "serve": cmd_serve,
    "run": cmd_run,
    "validate": cmd_validate,
    "explain": cmd_explain,
    "convert": cmd_convert,
    "playground": cmd_playground,
    "schema": cmd_schema,
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
