"""Keyset pagination for the differential tests of every backend: walk all pages with ``after``.

``walk(run, query, size)`` pages ``query`` (its own skip and limit dropped) ``size`` rows at a time, each
page after the cursor of the previous page's last row, and returns the ids in order. It must equal the
ids of the unpaged query (``unpaged``) on every backend: that is the whole contract of ``after``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from filterdsl.ast import Query
from filterdsl.semantics.cursor import cursor_of

Doc = dict[str, Any]


def unpaged(query: Query) -> Query:
    return dataclasses.replace(query, skip=0, limit=None, after=None)


def walk(run: Callable[[Query], list[Doc]], query: Query, size: int, by_id: dict[str, Doc]) -> list[str]:
    """``run`` returns a page's documents (or ids: each is looked up in ``by_id``, the unprojected
    canonical documents, to make the next cursor)."""
    base = dataclasses.replace(unpaged(query), limit=size)
    out: list[str] = []
    q = base
    for _ in range(len(by_id) + 2):
        page = run(q)
        ids = [p if isinstance(p, str) else p["id"] for p in page]
        out += ids
        if len(ids) < size:
            return out
        q = dataclasses.replace(base, after=cursor_of(base, by_id[ids[-1]]))
    raise AssertionError(f"paging did not end: {out}")
