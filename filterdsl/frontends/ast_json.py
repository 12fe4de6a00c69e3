"""The AST's own JSON form (``format="ast"``, ``--from ast``) as an input: checked like any other."""

from __future__ import annotations

import json
from typing import Any

from filterdsl.ast import from_json
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.frontends import Context, ParseResult
from filterdsl.options import check_limits


def _surrogate(obj: Any, budget: int = 1_000_000) -> Diagnostic | None:
    """A lone surrogate in a Python object's keys or strings (no engine can store or bind one, and the
    emitters cannot encode it), located; cycles and sizes are left to ``from_json``."""
    from filterdsl.errors import pointer
    from filterdsl.frontends.pitchly import _SURROGATE, _escape_one

    seen: set[int] = set()
    stack: list[tuple[Any, list[str | int]]] = [(obj, [])]
    while stack and budget > 0:
        o, path = stack.pop()
        budget -= 1
        if isinstance(o, str):
            if _SURROGATE.search(o):
                where = _SURROGATE.sub(_escape_one, pointer(path))
                return Diagnostic(
                    "invalid-encoding",
                    "string holds a lone surrogate (not valid Unicode)",
                    Location(pointer=where),
                )
            continue
        if not isinstance(o, (dict, list, tuple)) or id(o) in seen:
            continue
        seen.add(id(o))
        items = o.items() if isinstance(o, dict) else enumerate(o)
        for k, v in items:
            if isinstance(k, str) and _SURROGATE.search(k):
                where = _SURROGATE.sub(_escape_one, pointer([*path, k]))
                return Diagnostic(
                    "invalid-encoding",
                    "key holds a lone surrogate (not valid Unicode)",
                    Location(pointer=where),
                )
            stack.append((v, [*path, k]))
    return None


def parse_ast(source: Any, ctx: Context) -> ParseResult:
    """JSON text or an already-loaded object; the catalog does not apply (the AST carries field types)."""
    opt = ctx.options
    try:
        if isinstance(source, (str, bytes)) and len(source) > opt.limits.max_input_bytes:
            return ParseResult(
                None,
                (
                    Diagnostic(
                        "too-large", f"input exceeds {opt.limits.max_input_bytes} bytes", Location(pointer="")
                    ),
                ),
            )
        obj = json.loads(source) if isinstance(source, (str, bytes)) else source
        from filterdsl.frontends.pitchly import raw_problem

        # JSON text: depth, size and lone surrogates before the walk (Python objects may be cyclic:
        # from_json reports those)
        problem = raw_problem(obj, opt.limits) if isinstance(source, (str, bytes)) else _surrogate(obj)
        if problem is not None:
            return ParseResult(None, (problem,))
        query = from_json(obj)
        problems = check_limits(query, opt.limits)
        return ParseResult(None if problems else query, tuple(problems))
    except FilterError as e:
        return ParseResult(None, tuple(e.diagnostics))
    except (ValueError, RecursionError) as e:
        return ParseResult(None, (Diagnostic("invalid-json", f"not valid JSON: {e}", Location(pointer="")),))
