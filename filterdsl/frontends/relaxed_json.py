"""JSON with positions, and the relaxed object-literal syntax of the Pitchly docs.

``loads(text)`` returns the value and a map from JSON Pointer to (line, column, offset), so a
diagnostic located by pointer can also be shown at its place in the file. Strict JSON is read by
the same reader, so positions are exact either way. The reader is one regular-expression token scan
and an explicit stack (no parser generator, no recursion): linear in the input, whatever its shape.
"""

from __future__ import annotations

import bisect
import json
import re
from typing import Any

from filterdsl.errors import Diagnostic, FilterError, Location

Position = tuple[int, int, int]  # line, column (1-based), offset


_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\n\r\f]+)
  | (?P<comment>//[^\n]*|/\*(?:[^*]|\*(?!/))*\*/)
  | (?P<dq>"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*")
  | (?P<sq>'(?:[^'\\\x00-\x1f]|\\['"\\/bfnrt]|\\u[0-9a-fA-F]{4})*')
  | (?P<num>[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[A-Za-z_$][A-Za-z0-9_$-]*)
  | (?P<punct>[{}\[\],:])
""",
    re.X,
)
_KEYWORDS = {"true": True, "false": False, "null": None}
# Fast paths (most of a large input): a whole `key: scalar,` member or `scalar,` element in one match.
_WS = r"[ \t\n\r\f]*"
_DQ = r'"(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*"'
_SCALAR = (
    r"(" + _DQ + r"|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?|true|false|null"
    r"|\{[ \t\n\r\f]*\}|\[[ \t\n\r\f]*\])(?![A-Za-z0-9_$.+-])"
)
_MEMBER = re.compile(
    _WS + r"(" + _DQ + r"|[A-Za-z_$][A-Za-z0-9_$-]*)" + _WS + ":" + _WS + _SCALAR + _WS + "(,?)"
)
_ELEMENT = re.compile(_WS + _SCALAR + _WS + "(,?)")
#: Integers longer than this are far outside every range filterdsl accepts; they become floats (so a
#: later range check reports them) instead of reaching int()'s 4,300-digit limit (a ValueError).
MAX_INT_DIGITS = 300


def parse_int(text: str) -> int | float:
    """``json.loads`` parse_int hook: a huge integer becomes a float, refused later by range checks."""
    return int(text) if len(text) <= MAX_INT_DIGITS else float(text)


def _string(raw: str) -> str:
    if "\\" not in raw:
        return raw[1:-1]
    if raw[0] == "'":
        body = raw[1:-1].replace('\\"', '"').replace("\\'", "'").replace('"', '\\"')
        raw = '"' + body + '"'
    value: str = json.loads(raw)
    return value


def _number(text: str) -> int | float:
    """JSON's reading of a number (an integer stays an int); relaxed forms (``+1``, ``.5``) are floats."""
    if text.isdigit() or (text[0] == "-" and text[1:].isdigit()):
        if (text[0] == "0" or text[:2] == "-0") and len(text.lstrip("-")) > 1:
            return float(text)  # a leading zero is not a JSON integer: the relaxed reading
        return parse_int(text)
    return float(text)


def _fast_value(raw: str) -> Any:
    """The value of a fast-path token: a keyword, a string, a number or an empty container."""
    first = raw[0]
    if first == '"':
        return _string(raw)
    if first == "{":
        return {}
    if first == "[":
        return []
    return _KEYWORDS[raw] if raw in _KEYWORDS else _number(raw)


class _Frame:
    """An open object or array: its value, its pointer, and what the reader expects next in it."""

    __slots__ = ("value", "ptr", "start", "key", "state")

    def __init__(self, value: Any, ptr: str, start: int):
        self.value, self.ptr, self.start = value, ptr, start
        self.key: str | None = None
        self.state = "first"  # first | key | colon | value | comma


def _line_starts(text: str) -> list[int]:
    return [0] + [m.end() for m in re.finditer("\n", text)]


def _position(starts: list[int], offset: int) -> Position:
    line = bisect.bisect_right(starts, offset)
    return line, offset - starts[line - 1] + 1, offset


def _error(text: str, message: str, offset: int | None) -> FilterError:
    if offset is None or offset >= len(text):
        starts = _line_starts(text)
        line, col, _ = _position(starts, len(text))
        return FilterError(
            [
                Diagnostic(
                    "invalid-json",
                    f"not valid JSON: {message}",
                    Location(pointer="", line=line, column=col, offset=len(text)),
                )
            ]
        )
    line, col, off = _position(_line_starts(text), offset)
    return FilterError(
        [
            Diagnostic(
                "invalid-json",
                f"not valid JSON: {message}",
                Location(pointer="", line=line, column=col, offset=off),
            )
        ]
    )


_KINDS = {"dq": "string", "sq": "string", "num": "number", "name": "word", "char": "character"}
_HIDDEN = " (not shown: the input holds a secret member)"


def _shown(text: str, tok: str, kind: str | None) -> str:
    """A token as an error message shows it: its text, or only its kind when the input holds a secret
    member anywhere (the token may be a piece of the secret; the location still points at it)."""
    from filterdsl.redact import may_hold_secret, secret_spans

    hide = may_hold_secret(text) and bool(secret_spans(text))
    if kind == "char":
        return "character" + (_HIDDEN if hide else f" {tok!r}")
    if not hide or kind == "punct" or tok in _KEYWORDS:
        return repr(tok)
    return _KINDS.get(kind or "", "token") + _HIDDEN


_NESTING = re.compile(r"[\[\]{}]")


def _too_deep(text: str, limit: int) -> int | None:
    """Cheap upper bound on bracket nesting before reading (brackets inside strings only make it
    stricter): the offset where it passes ``limit``, so a deep input is ``too-deep`` even if malformed."""
    depth = 0
    for m in _NESTING.finditer(text):
        depth += 1 if m.group() in "[{" else -1
        if depth > limit:
            return m.start()
    return None


def _too_many(text: str, max_values: int, offset: int) -> FilterError:
    line, col, off = _position(_line_starts(text), offset)
    return FilterError(
        [
            Diagnostic(
                "too-large",
                f"JSON input holds more than {max_values} values",
                Location(pointer="", line=line, column=col, offset=off),
            )
        ]
    )


class _Stop(Exception):
    """Positions only: the value limit was reached; keep what was read."""


def _over(text: str, max_values: int | None, offset: int, pending: set[str] | None) -> Exception:
    return _Stop() if pending is not None else _too_many(text, max_values or 0, offset)


def scan(
    text: str,
    max_depth: int = 512,
    spans: bool = False,
    max_values: int | None = None,
    want: set[str] | None = None,
) -> tuple[Any, dict[str, Position], dict[str, tuple[int, int]]]:
    """Read strict or relaxed JSON in one linear pass; the value, positions and (optionally) spans.

    Positions map each JSON Pointer to (line, column, offset): of the key for an object member, of
    the value otherwise. Spans map a pointer to the value's (start, end) offsets. Duplicate keys keep
    the last value, as ``json.loads`` does. Iterative, so depth never reaches Python's stack; more
    than ``max_values`` values is ``too-large`` at the value that crosses the limit.
    With ``want`` (pointers), reading stops once each has a position (the value is then incomplete)
    or at the value limit, keeping the positions read so far.
    """
    budget = max_values if max_values is not None else len(text) + 1
    deep = _too_deep(text, max_depth)
    if deep is not None:
        line, col, off = _position(_line_starts(text), deep)
        raise FilterError(
            [
                Diagnostic(
                    "too-deep",
                    f"JSON nested deeper than {max_depth}",
                    Location(pointer="", line=line, column=col, offset=off),
                )
            ]
        )
    offsets: dict[str, int] = {}
    value_spans: dict[str, tuple[int, int]] = {}
    stack: list[_Frame] = []
    root: list[Any] = []
    pending = set(want) if want is not None else None
    try:
        _read(text, max_depth, spans, budget, pending, offsets, value_spans, stack, root)
    except _Stop:
        pass
    if (stack or not root) and pending is None:
        raise _error(text, "unexpected end of input", None)
    starts = _line_starts(text)
    positions = {p: _position(starts, off) for p, off in offsets.items()}
    return (root[0] if root else None), positions, value_spans


def _read(
    text: str,
    max_depth: int,
    spans: bool,
    budget: int,
    pending: set[str] | None,
    offsets: dict[str, int],
    value_spans: dict[str, tuple[int, int]],
    stack: list[_Frame],
    root: list[Any],
) -> None:
    """The reading loop of :func:`scan` (fills ``offsets``, ``value_spans``, ``stack`` and ``root``)."""
    max_values: int | None = budget
    pos, n = 0, len(text)
    match = _TOKEN.match
    done = False
    steps = 0

    def put(value: Any, start: int, end: int) -> None:
        """Place a finished value into its container (or as the root)."""
        nonlocal done
        if stack:
            top = stack[-1]
            if isinstance(top.value, dict):
                assert top.key is not None
                top.value[top.key] = value
                ptr = top.ptr + "/" + top.key.replace("~", "~0").replace("/", "~1")
            else:
                ptr = top.ptr + "/" + str(len(top.value))
                offsets.setdefault(ptr, start)
                top.value.append(value)
            top.state = "comma"
        else:
            ptr = ""
            offsets.setdefault(ptr, start)
            root.append(value)
            done = True
        if spans:
            value_spans[ptr] = (start, end)

    while True:
        steps += 1
        if pending is not None and steps % 256 == 0:
            pending.difference_update(offsets)
            if not pending:
                break
        m = match(text, pos)
        if m is None:
            if pos >= n:
                break
            raise _error(text, f"unexpected {_shown(text, text[pos], 'char')}", pos)
        kind = m.lastgroup
        start, pos = pos, m.end()
        if kind == "ws" or kind == "comment":
            continue
        tok = m.group()
        if done:
            raise _error(text, f"unexpected {_shown(text, tok, kind)} after the end of the value", start)
        top = stack[-1] if stack else None
        state = top.state if top is not None else "value"
        is_obj = top is not None and isinstance(top.value, dict)
        if is_obj and state in ("first", "key"):
            assert top is not None
            fast = _MEMBER.match(text, start)
            if fast is not None:
                budget -= 1
                if budget < 0:
                    raise _over(text, max_values, start, pending)
                raw_key, raw = fast.group(1), fast.group(2)
                key = _string(raw_key) if raw_key[0] == '"' else raw_key
                value = _fast_value(raw)
                ptr = top.ptr + "/" + key.replace("~", "~0").replace("/", "~1")
                top.value[key] = value
                top.key = key
                offsets.setdefault(ptr, fast.start(1))
                if spans:
                    value_spans[ptr] = (fast.start(2), fast.end(2))
                top.state = "key" if fast.group(3) else "comma"
                pos = fast.end()
                continue
            if kind in ("dq", "sq", "name"):
                key = tok if kind == "name" else _string(tok)
                top.key = key
                top.state = "colon"
                offsets.setdefault(top.ptr + "/" + key.replace("~", "~0").replace("/", "~1"), start)
                continue
            if tok == "}":  # {} or a trailing comma
                stack.pop()
                put(top.value, top.start, pos)
                continue
            raise _error(text, f"unexpected {_shown(text, tok, kind)} (expected a key)", start)
        if is_obj and state == "colon":
            if tok != ":":
                raise _error(text, f"unexpected {_shown(text, tok, kind)} (expected ':')", start)
            assert top is not None
            top.state = "value"
            continue
        if state == "comma":
            assert top is not None
            closer = "}" if is_obj else "]"
            if tok == ",":
                top.state = "key" if is_obj else "after-comma"
                continue
            if tok == closer:
                stack.pop()
                put(top.value, top.start, pos)
                continue
            raise _error(text, f"unexpected {_shown(text, tok, kind)} (expected ',' or {closer!r})", start)
        # a value is expected: at the root, after ':', or in an array
        if top is not None and not is_obj:
            fast = _ELEMENT.match(text, start)
            if fast is not None:
                budget -= 1
                if budget < 0:
                    raise _over(text, max_values, start, pending)
                raw = fast.group(1)
                ptr = top.ptr + "/" + str(len(top.value))
                top.value.append(_fast_value(raw))
                offsets.setdefault(ptr, fast.start(1))
                if spans:
                    value_spans[ptr] = (fast.start(1), fast.end(1))
                top.state = "after-comma" if fast.group(2) else "comma"
                pos = fast.end()
                continue
        if tok == "]" and top is not None and not is_obj and state in ("first", "after-comma"):
            stack.pop()
            put(top.value, top.start, pos)
            continue
        budget -= 1
        if budget < 0:
            raise _over(text, max_values, start, pending)
        if kind == "dq" or kind == "sq":
            put(_string(tok), start, pos)
        elif kind == "num":
            put(_number(tok), start, pos)
        elif kind == "name" and tok in _KEYWORDS:
            put(_KEYWORDS[tok], start, pos)
        elif tok == "{" or tok == "[":
            if len(stack) >= max_depth:
                line, col, off = _position(_line_starts(text), start)
                raise FilterError(
                    [
                        Diagnostic(
                            "too-deep",
                            f"JSON nested deeper than {max_depth}",
                            Location(pointer="", line=line, column=col, offset=off),
                        )
                    ]
                )
            if top is not None:
                top.state = "comma"  # resumes after the container closes (put sets it again)
                ptr = (
                    (top.ptr + "/" + top.key.replace("~", "~0").replace("/", "~1"))
                    if is_obj and top.key is not None
                    else top.ptr + "/" + str(len(top.value))
                )
            else:
                ptr = ""
            offsets.setdefault(ptr, start)
            stack.append(_Frame({} if tok == "{" else [], ptr, start))
        else:
            raise _error(text, f"unexpected {_shown(text, tok, kind)}", start)


def positions_of(text: str, want: set[str], max_values: int | None = None) -> dict[str, Position]:
    """Positions of the ``want`` pointers (and of what was read before the last of them)."""
    return scan(text, max_values=max_values, want=want)[1]


def loads(text: str, max_depth: int = 512, max_values: int | None = None) -> tuple[Any, dict[str, Position]]:
    """Parse strict or relaxed JSON; FilterError (invalid-json / too-deep / too-large) with line:column."""
    value, positions, _ = scan(text, max_depth, max_values=max_values)
    return value, positions


def locate(pointer_text: str, positions: dict[str, Position]) -> Position | None:
    """Position of a pointer, or of its nearest ancestor present in the text."""
    p = pointer_text
    while True:
        if p in positions:
            return positions[p]
        if not p:
            return None
        p = p[: p.rfind("/")]
