"""The ``filterdsl`` command: run, validate, explain, convert.

Exit codes are a contract: 0 success (or valid), 1 invalid input (diagnostics on stderr, nothing on
stdout), 2 usage error, 3 an engine failed (e.g. a database server is unreachable).
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

EXT_FORMATS = {".json": "pitchly", ".json5": "pitchly", ".search": "search", ".qs": "pixiebrix",
               ".fdsl": "text", ".ast": "ast"}
ENGINES = ("memory", "sqlite", "duckdb", "postgres", "mysql", "mongomock", "mingo")
DEFAULT_ENGINE = "sqlite"


class UsageError(Exception):
    pass


class EngineError(Exception):
    pass


def _common(p: argparse.ArgumentParser, inputs: str) -> None:
    p.add_argument("--from", dest="fmt", default=None,
                   choices=["pitchly", "search", "pixiebrix", "text", "ast"],
                   help="input format (default: from the file extension, else pitchly)")
    p.add_argument("--schema", help="catalog JSON (Pitchly `databases` result)")
    p.add_argument("--database", help="the queried database _id")
    p.add_argument("--resolve-names", action="store_true", help="field keys may be field names")
    p.add_argument("--lenient", action="store_true", help="unknown keys/params are warnings, not errors")
    p.add_argument("--quoted", action="store_true", help="search strings: allow \"...\" terms")
    p.add_argument("--django-compat", action="store_true", help="PixieBrix params: Django's lenient handling")
    p.add_argument("--lookups", choices=["strict", "extended"], default="strict",
                   help="PixieBrix params: accept extended lookups (__icontains, __gt, ...)")
    p.add_argument("--max-limit", type=int, default=None, help="maximum Pitchly limit (default 100)")
    if inputs == "one":
        p.add_argument("input", nargs="?", help="input file, or - for standard input")
        p.add_argument("--expr", help="the input given inline instead of a file")
    else:
        p.add_argument("inputs", nargs="+", help="files, directories (searched for known extensions) or globs")


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="filterdsl", description="Parse, validate, run and convert filters.")
    sub = ap.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="run a query over records and print the matches")
    _common(run, "one")
    run.add_argument("--data", required=True, help="records: JSON list, JSON lines, or {databaseId: [rows]}")
    run.add_argument("--engine", choices=ENGINES, default=DEFAULT_ENGINE)
    run.add_argument("--url", help="database URL for the postgres / mysql engines")
    run.add_argument("--ids", action="store_true", help="print only record ids, one per line")

    val = sub.add_parser("validate", help="validate stored filters; exit 1 when any is invalid")
    _common(val, "many")
    val.add_argument("--output", choices=["text", "json", "github", "sarif"], default="text",
                     help="report format: text (with caret snippets), json, github (workflow annotations), sarif")
    val.add_argument("--database-map", help="JSON file {\"glob pattern\": \"databaseId\"} choosing each file's database")
    val.add_argument("--strict", action="store_true", help="warnings fail too")
    val.add_argument("--quiet", action="store_true", help="text output: only failing diagnostics, no summary")

    exp = sub.add_parser("explain", help="print the parsed AST readably")
    _common(exp, "one")

    conv = sub.add_parser("convert", help="convert a filter to another format or backend")
    _common(conv, "one")
    conv.add_argument("--to", required=True,
                      choices=["pitchly", "search", "pixiebrix", "text", "ast", "sql", "mongo"])
    conv.add_argument("--dialect", default="sqlite", help="SQL dialect (any sqlglot dialect)")
    conv.add_argument("--layout", choices=["json", "columns"], default="json")
    conv.add_argument("--mapping", help="columns layout: JSON file mapping field id -> column")
    conv.add_argument("--inline", action="store_true", help="SQL: inline the parameters as literals")
    conv.add_argument("--keys", choices=["ids", "names"], default="ids", help="field keys in the output")
    srv = sub.add_parser("serve", help="run the reference records API (needs the 'server' extra)")
    srv.add_argument("--db", default="sqlite:///:memory:",
                     help="sqlite:///PATH, sqlite:///:memory: (default) or postgresql://...")
    srv.add_argument("--schema", help="catalog JSON; without it databases are schemaless (PixieBrix)")
    srv.add_argument("--data", help="records to load at start: {databaseId: [rows]}")
    srv.add_argument("--host", default="127.0.0.1")
    srv.add_argument("--port", type=int, default=8000)
    srv.add_argument("--no-cache", action="store_true", help="compile every request (no SQL cache)")
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
    opts: dict[str, Any] = {"strict": not args.lenient, "resolve_names": args.resolve_names,
                            "quoted": args.quoted, "django_compat": args.django_compat, "lookups": args.lookups}
    if args.max_limit is not None:
        opts["max_limit"] = args.max_limit
    return opts


def _catalog(args: argparse.Namespace) -> Catalog | None:
    return load_catalog(args.schema) if args.schema else None


def _print_diags(diags: Sequence[Diagnostic], label: str, out: TextIO) -> None:
    for d in diags:
        print(f"{label}: {d}", file=out)


def _parse_one(args: argparse.Namespace, catalog: Catalog | None) -> Query:
    text, label = _source(args)
    fmt = _format(args, label)
    res = parse_result(_prepare(text, fmt), fmt, catalog, args.database, **_options(args))
    if res.query is None or res.errors:
        raise FilterError(res.diagnostics)
    _print_diags(res.warnings, label, sys.stderr)
    return res.query


# ---------------------------------------------------------------- commands
def cmd_run(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    query = _parse_one(args, catalog)
    dataset = normalize_dataset(load_data(_read(args.data)), catalog)
    ids = execute(query, dataset, args.engine, args.url, catalog)
    if args.ids:
        sys.stdout.write("".join(i + "\n" for i in ids))
        return 0
    from .backends.memory import project, rows_for

    by_id = {r["id"]: r for r in rows_for(query, dataset)}
    for i in ids:
        print(json.dumps(project(by_id[i], query.fields), ensure_ascii=False))
    return 0


def execute(query: Query, dataset: dict[Any, list[dict[str, Any]]], engine: str, url: str | None,
            catalog: Catalog | None) -> list[str]:
    """Ids in result order, from the chosen engine."""
    if engine == "memory":
        from .backends.memory import run

        return [r["id"] for r in run(query, dataset, catalog)]
    try:
        if engine in ("sqlite", "duckdb", "postgres", "mysql"):
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
                found += [os.path.join(root, f) for f in files if os.path.splitext(f)[1].lower() in EXT_FORMATS]
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
    if not isinstance(obj, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in obj.items()):
        raise UsageError(f"--database-map {path}: expected an object {{\"glob pattern\": \"databaseId\"}}")
    return list(obj.items())


def _database_for(path: str, mapping: list[tuple[str, str]], default: str | None) -> str | None:
    posix = path.replace(os.sep, "/")
    for pattern, db in mapping:
        if fnmatch.fnmatchcase(posix, pattern) or fnmatch.fnmatchcase(os.path.basename(posix), pattern):
            return db
    return default


def validate_file(path: str, args: argparse.Namespace, catalog: Catalog | None,
                  mapping: list[tuple[str, str]]) -> FileResult:
    try:
        if path == "-":
            text = sys.stdin.read()
        else:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
    except (OSError, UnicodeDecodeError) as e:
        d = Diagnostic("unreadable-file", f"cannot read the file: {e}", Location())
        return FileResult(path, "", (d,), False)
    fmt = _format(args, path)
    res = parse_result(_prepare(text, fmt), fmt, catalog, _database_for(path, mapping, args.database),
                       **_options(args))
    return FileResult(path, text, res.diagnostics, res.query is not None and not res.errors)


def cmd_validate(args: argparse.Namespace) -> int:
    from . import report

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

        print(json.dumps(report.sarif_report(results, strict, __version__), ensure_ascii=False, indent=2))
    else:
        text = report.text_report(results, strict, args.quiet)
        if text:
            print(text)
    return 1 if any(r.failed(strict) for r in results) else 0


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import explain

    print(explain(_parse_one(args, _catalog(args))))
    return 0


def cmd_convert(args: argparse.Namespace) -> int:
    catalog = _catalog(args)
    query = _parse_one(args, catalog)
    to = args.to
    if to == "ast":
        print(json.dumps(to_json(query), ensure_ascii=False, indent=2))
    elif to == "sql":
        from .backends import sql_cli

        print(sql_cli.convert(query, dialect=args.dialect, layout=args.layout, mapping=args.mapping,
                              inline=args.inline, catalog=catalog))
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
        app = create_app(args.db, catalog, use_cache=not args.no_cache)
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


COMMANDS = {"serve": cmd_serve, "run": cmd_run, "validate": cmd_validate, "explain": cmd_explain, "convert": cmd_convert}


def main(argv: Sequence[str] | None = None) -> NoReturn:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = COMMANDS[args.command](args)
    except FilterError as e:
        label = getattr(args, "input", None) or "<input>"
        _print_diags(e.diagnostics, "<expr>" if getattr(args, "expr", None) is not None else label, sys.stderr)
        code = 1
    except UsageError as e:
        print(f"filterdsl: error: {e}", file=sys.stderr)
        code = 2
    except EngineError as e:
        print(f"filterdsl: {e}", file=sys.stderr)
        code = 3
    except KeyboardInterrupt:
        code = 130
    except Exception as e:  # a bug, not the user's input: one line, never a traceback
        print(f"filterdsl: internal error (please report it): {type(e).__name__}: {e}", file=sys.stderr)
        code = 3
    sys.stdout.flush()
    sys.exit(code)


if __name__ == "__main__":
    main()
