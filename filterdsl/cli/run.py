"""``filterdsl run``: a query over records, the matches as ids or projected documents."""

from __future__ import annotations

import argparse
import json
import sys

from filterdsl.cli.common import (
    SourceError,
    UsageError,
    _catalog,
    _parse_one,
    _read,
)
from filterdsl.cli.engines import check_loadable, engine_ids
from filterdsl.errors import FilterError
from filterdsl.records import load_data, normalize_dataset


def cmd_run(args: argparse.Namespace) -> int:
    if args.url is not None and args.engine not in ("postgres", "mysql", "spark"):
        raise UsageError(f"--url is for the postgres, mysql and spark engines, not {args.engine}")
    catalog = _catalog(args)
    query = _parse_one(args, catalog)
    data = _read(args.data)
    try:
        loaded = load_data(data)
        dataset = normalize_dataset(loaded, catalog)
        check_loadable(dataset, args.engine, isinstance(loaded, dict))
    except FilterError as e:
        raise SourceError(e, args.data, None) from None
    ids = engine_ids(query, dataset, args.engine, args.url, catalog)
    if getattr(args, "next_cursor", False) and ids and query.limit is not None and len(ids) == query.limit:
        from filterdsl.backends.memory import rows_for
        from filterdsl.cursor import next_cursor

        last = next(r for r in rows_for(query, dataset) if r["id"] == ids[-1])
        sys.stderr.write(f"next: {next_cursor(query, last)}\n")
    if args.ids:
        sys.stdout.write("".join(i + "\n" for i in ids))
        return 0
    from filterdsl.backends.memory import project, rows_for

    by_id = {r["id"]: r for r in rows_for(query, dataset)}
    for i in ids:
        print(json.dumps(project(by_id[i], query.fields), ensure_ascii=False))
    return 0
