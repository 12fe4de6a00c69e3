"""Search text (SPEC 3): what a search term is matched against, folded with ``str.lower`` (SPEC 5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def search_texts(d: Mapping[str, Any]) -> list[str]:
    """Schemaless search: every top-level string, and every string inside a top-level list, folded."""
    out = []
    for v in d.values():
        if type(v) is str:
            out.append(v.lower())
        elif type(v) is list:
            out.extend(e.lower() for e in v if type(e) is str)
    return out


def search_texts_in(keys: Mapping[str, bool], d: Mapping[str, Any]) -> list[str]:
    """``search_texts_of`` for a mapping key -> is_tags, walking whichever of the record and the
    field list is shorter: a search over a 20,000-field catalog cost 1.6 ms per record walking the
    fields (issue 26, H5). The texts' order differs; a search only asks whether any holds a term."""
    if len(d) >= len(keys):
        return search_texts_of(tuple(keys.items()), d)
    out = []
    for k, v in d.items():
        is_tags = keys.get(k)
        if is_tags is None:
            continue
        if type(v) is str:
            if not is_tags:
                out.append(v.lower())
        elif type(v) is list and is_tags:
            out.extend(e.lower() for e in v if type(e) is str)
    return out


def search_texts_of(keys: tuple[tuple[str, bool], ...], d: Mapping[str, Any]) -> list[str]:
    """Search over schema fields ``(key, is_tags)``: a string field's value, a tags field's strings."""
    out = []
    for k, is_tags in keys:
        v = d.get(k)
        if type(v) is str:
            if not is_tags:
                out.append(v.lower())
        elif type(v) is list and is_tags:
            out.extend(e.lower() for e in v if type(e) is str)
    return out
