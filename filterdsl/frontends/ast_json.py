"""The AST's own JSON form (``format="ast"``, ``--from ast``) as an input: checked like any other."""

from __future__ import annotations

import json
from typing import Any

from filterdsl.ast import from_json
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.frontends import Context, ParseResult
from filterdsl.options import check_limits


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
        problem = raw_problem(obj, opt.limits) if isinstance(source, (str, bytes)) else None
        if problem is not None:
            return ParseResult(None, (problem,))
        query = from_json(obj)
        problems = check_limits(query, opt.limits)
        return ParseResult(None if problems else query, tuple(problems))
    except FilterError as e:
        return ParseResult(None, tuple(e.diagnostics))
    except (ValueError, RecursionError) as e:
        return ParseResult(None, (Diagnostic("invalid-json", f"not valid JSON: {e}", Location(pointer="")),))
