"""SPEC 4: a path segment below ``data`` is an object key, or a canonical array index on an array."""

from __future__ import annotations

from typing import Any

#: the value of a path that leads nowhere (a missing key, an index past the end, a step into a scalar)
MISSING: Any = object()


def canonical_index(seg: str) -> bool:
    """``0``, ``1``, ``12``... index an array; ``01``, ``+1``, ``１`` (fullwidth) and ``-1`` never do."""
    return seg.isascii() and seg.isdigit() and (seg == "0" or seg[0] != "0")


def get_path(data: Any, segments: tuple[str, ...]) -> Any:
    """Walk object keys (and canonical array indices) below ``data``; MISSING when absent."""
    cur = data
    for seg in segments:
        if type(cur) is dict:
            if seg not in cur:
                return MISSING
            cur = cur[seg]
        elif type(cur) is list and seg.isdigit() and seg.isascii() and (seg == "0" or seg[0] != "0"):
            i = int(seg)  # canonical_index inlined: this runs once per record and segment
            if i >= len(cur):
                return MISSING
            cur = cur[i]
        else:
            return MISSING
    return cur
