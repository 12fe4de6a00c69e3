"""``filterdsl explain``: the parsed query, readably."""

from __future__ import annotations

import argparse

from filterdsl.cli.common import (
    _catalog,
    _parse_one,
)


def cmd_explain(args: argparse.Namespace) -> int:
    from filterdsl.emitters.explain import explain

    catalog = _catalog(args)
    print(explain(_parse_one(args, catalog), catalog))
    return 0
