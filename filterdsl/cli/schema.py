"""``filterdsl schema``: the JSON Schema of a database's Pitchly filters (for editors), or the OpenAPI
document of the reference server."""

from __future__ import annotations

import argparse
import json
import sys

from filterdsl.cli.common import UsageError, _catalog


def cmd_schema(args: argparse.Namespace) -> int:
    from filterdsl.schema_export import json_schema, openapi_document

    catalog = _catalog(args)
    if args.json_schema:
        if catalog is None or not args.database:
            raise UsageError("--json-schema needs --schema CATALOG and --database ID")
        doc = json_schema(catalog, args.database, max_limit=args.max_limit)
    else:
        doc = openapi_document(catalog, lookups=args.lookups, max_limit=args.max_limit)
    text = json.dumps(doc, ensure_ascii=False, indent=2) + "\n"
    if args.output:
        try:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        except OSError as e:
            raise UsageError(f"cannot write {args.output}: {e}") from None
    else:
        sys.stdout.write(text)
    return 0
