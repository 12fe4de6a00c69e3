"""AST -> each input format. ``to_format`` raises FilterError ``not-expressible`` (naming the node and
why) when the target cannot say what the AST means; it never emits something that means less or more.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

from filterdsl.ast import Node, Query, node_pointer, to_json
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.schema import CatalogSource

OUTPUT_FORMATS = ("pitchly", "text", "ast", "search", "pixiebrix")
#: The query being emitted, so a refusal can point at its node (a JSON Pointer into the AST JSON form).
_ROOT: ContextVar[Query | None] = ContextVar("filterdsl_emit_root", default=None)


def not_expressible(fmt: str, node: Any, why: str) -> FilterError:
    name = type(node).__name__
    root = _ROOT.get()
    where = Location(pointer=node_pointer(root, node) if root is not None else "")
    return FilterError([Diagnostic("not-expressible", f"cannot express {name} in {fmt}: {why}", where)])


def to_format(query: Query | Node, fmt: str, catalog: CatalogSource | None = None, keys: str = "ids") -> Any:
    """``text``, ``search`` and ``pixiebrix`` give strings; ``pitchly`` the variables object and ``ast`` the
    versioned JSON object. ``keys="names"`` writes Pitchly field names instead of ids (needs the catalog)."""
    q = query if isinstance(query, Query) else Query(query)
    token = _ROOT.set(q)
    try:
        return _emit(q, fmt, catalog, keys)
    finally:
        _ROOT.reset(token)


def _emit(q: Query, fmt: str, catalog: CatalogSource | None, keys: str) -> Any:
    if q.after is not None and fmt in ("text", "search"):
        raise FilterError(
            [
                Diagnostic(
                    "not-expressible", f"cannot express a cursor (after) in {fmt}", Location(pointer="/after")
                )
            ]
        )
    if fmt == "text":
        from filterdsl.emitters.text import to_text
        from filterdsl.schema import load_catalog

        return to_text(q, None if catalog is None else load_catalog(catalog), keys)
    if fmt == "ast":
        return to_json(q)
    if fmt == "pitchly":
        from filterdsl.emitters.pitchly import to_pitchly
        from filterdsl.schema import load_catalog

        return to_pitchly(q, None if catalog is None else load_catalog(catalog), keys)
    if fmt == "search":
        from filterdsl.emitters.search import to_search

        return to_search(q)
    if fmt == "pixiebrix":
        from filterdsl.emitters.pixiebrix import to_pixiebrix

        return to_pixiebrix(q)
    raise FilterError(
        [
            Diagnostic(
                "unknown-format",
                f"cannot emit {fmt!r}; one of {', '.join(OUTPUT_FORMATS)}",
                Location(param="fmt"),
            )
        ]
    )
