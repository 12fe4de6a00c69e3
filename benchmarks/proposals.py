"""Proposed fixes for hot spots in files this benchmark does not own, measured side by side.

``closure_predicate`` is ``filterdsl.backends.memory.compile_predicate`` with the constants bound as
closure cells instead of keyword-only defaults (CPython fills every keyword-only default on every
call). It reuses the memory backend's code generator, so it has exactly its semantics; it is used
only by ``benchmarks/run.py --proposals``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from filterdsl.ast import Node


def closure_predicate(node: Node) -> Callable[[dict[str, Any]], bool]:
    from filterdsl.backends import memory

    gen = memory._Codegen(None)
    body = gen.expr(node)
    consts = [k for k in gen.ns if k.startswith("c")] + ["_NUM", "_M", "_get_path", "_vh"]
    src = (f"def _make({', '.join(consts)}):\n    def _pred(r):\n        d = r['data']\n        return {body}\n"
           "    return _pred\n")
    ns = dict(gen.ns)
    exec(compile(src, "<closure predicate>", "exec"), ns)  # noqa: S102 - same generator as memory.py
    fn: Callable[[dict[str, Any]], bool] = ns["_make"](*[ns[k] for k in consts])
    return fn
