"""JSON with positions, and the relaxed object-literal syntax of the Pitchly docs.

``loads(text)`` returns the value and a map from JSON Pointer to (line, column, offset), so a
diagnostic located by pointer can also be shown at its place in the file. Strict JSON is read by
the same grammar, so positions are exact either way.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from lark import Lark, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from ..errors import Diagnostic, FilterError, Location, pointer

Position = tuple[int, int, int]  # line, column (1-based), offset


def grammar_path(name: str) -> Path:
    """``filterdsl/grammar/<name>`` in a wheel, ``<repo>/grammar/<name>`` in a checkout."""
    here = Path(__file__).resolve().parent.parent
    for candidate in (here / "grammar" / name, here.parent / "grammar" / name):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"grammar {name} not found")


@functools.cache
def _parser() -> Lark:
    return Lark(grammar_path("json.lark").read_text(encoding="utf-8"), parser="lalr",
                propagate_positions=True, maybe_placeholders=False)


_NESTING = re.compile(r"[\[\]{}]")


def _too_deep(text: str, limit: int) -> bool:
    """Cheap upper bound on bracket nesting (brackets inside strings only make it stricter)."""
    depth = 0
    for m in _NESTING.finditer(text):
        depth += 1 if m.group() in "[{" else -1
        if depth > limit:
            return True
    return False


def _string(tok: Any) -> str:
    raw = str(tok)
    if raw[0] == "'":
        body = raw[1:-1].replace('\\"', '"').replace("\\'", "'").replace('"', '\\"')
        raw = '"' + body + '"'
    return json.loads(raw)


def _number(tok: Any) -> int | float:
    text = str(tok)
    value = json.loads(text) if re.fullmatch(r"-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?", text) else float(text)
    return value


def loads(text: str, max_depth: int = 512) -> tuple[Any, dict[str, Position]]:
    """Parse strict or relaxed JSON; FilterError (invalid-json / too-deep) with line:column otherwise."""
    if _too_deep(text, max_depth):
        raise FilterError([Diagnostic("too-deep", f"JSON nested deeper than {max_depth}", Location(pointer=""))])
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        what = "unexpected end of input" if isinstance(e, UnexpectedEOF) else (
            f"unexpected character {text[e.pos_in_stream]!r}" if isinstance(e, UnexpectedCharacters)
            and e.pos_in_stream is not None and e.pos_in_stream < len(text) else
            f"unexpected {getattr(getattr(e, 'token', None), 'type', 'token')}")
        line, col = getattr(e, "line", None), getattr(e, "column", None)
        at_end = getattr(getattr(e, "token", None), "type", None) == "$END"
        if at_end:
            what = "unexpected end of input"
        if isinstance(e, UnexpectedEOF) or at_end or line in (None, -1):
            line = text.count("\n") + 1
            col = len(text) - (text.rfind("\n") + 1) + 1
        raise FilterError([Diagnostic("invalid-json", f"not valid JSON: {what}",
                                      Location(pointer="", line=line, column=col,
                                               offset=getattr(e, "pos_in_stream", None)))]) from None
    except LarkError as e:
        raise FilterError([Diagnostic("invalid-json", f"not valid JSON: {e}", Location(pointer=""))]) from None
    positions: dict[str, Position] = {}
    # Iterative construction: (node, path, setter) work items, so depth never reaches Python's stack.
    root: list[Any] = [None]
    work: list[tuple[Any, list[str | int], Any, Any]] = [(tree, [], root, 0)]
    while work:
        node, path, holder, slot = work.pop()
        if isinstance(node, Tree):
            meta = node.meta
            if not meta.empty:  # keys were placed at their key already; keep that
                positions.setdefault(pointer(path), (meta.line, meta.column, meta.start_pos))
            kind = node.data
            if kind == "object":
                obj: dict[str, Any] = {}
                holder[slot] = obj
                for pair in node.children:
                    key_node, value_node = pair.children
                    key = _string(key_node.children[0]) if isinstance(key_node, Tree) and key_node.data == "string" \
                        else str(key_node.children[0] if isinstance(key_node, Tree) else key_node)
                    obj[key] = None
                    positions.setdefault(pointer([*path, key]), (pair.meta.line, pair.meta.column, pair.meta.start_pos))
                    work.append((value_node, [*path, key], obj, key))
            elif kind == "array":
                arr: list[Any] = [None] * len(node.children)
                holder[slot] = arr
                for i, child in enumerate(node.children):
                    work.append((child, [*path, i], arr, i))
            elif kind == "string":
                holder[slot] = _string(node.children[0])
            elif kind == "number":
                holder[slot] = _number(node.children[0])
            elif kind in ("true", "false", "null"):
                holder[slot] = {"true": True, "false": False, "null": None}[kind]
        else:  # a bare token (cannot happen with this grammar, kept for safety)
            holder[slot] = str(node)
    return root[0], positions


def locate(pointer_text: str, positions: dict[str, Position]) -> Position | None:
    """Position of a pointer, or of its nearest ancestor present in the text."""
    p = pointer_text
    while True:
        if p in positions:
            return positions[p]
        if not p:
            return None
        p = p[: p.rfind("/")]
