"""Stored integers an engine cannot compare exactly (issue 26, P1/P2; docs/semantics.md section 9).

SPEC 1.4 limits *filter* numbers to integers within 2^53 and finite floats; stored numbers are any JSON
number, and the in-memory engine compares them exactly (Python ``int``/``float``). An engine whose
runner reads some integers inexactly refuses, when it loads the records, a dataset holding one
(``not-expressible``, CLI exit 4) instead of answering approximately.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from filterdsl.errors import Diagnostic, FilterError, Location, pointer

#: integers a double holds exactly
INT53 = (-(2**53), 2**53)
#: a signed 64-bit integer (SQLite's INTEGER)
INT64 = (-(2**63), 2**63 - 1)
#: what ClickHouse's JSON functions read as a number (Int64 or UInt64); beyond, they read a string
INT64_OR_UINT64 = (-(2**63), 2**64 - 1)


def int_within(bounds: tuple[int, int]) -> Callable[[Any], bool]:
    """Every float, and the integers within ``bounds``."""
    lo, hi = bounds
    return lambda v: type(v) is float or lo <= v <= hi


def clickhouse_json_exact(v: Any) -> bool:
    """What ClickHouse's JSON functions read back exactly: ``JSONExtractRaw`` writes a double between
    2^53 and 1e21 as integer digits (``1e+20`` as ``100000000000000000000``), read back as an Int64 or
    UInt64 holding the shortest decimal (not the double's value) or, past 64 bits, as a string; an
    integer past 64 bits reads as a string too."""
    if type(v) is float:
        return not 2**53 < abs(v) < 1e21
    return INT64_OR_UINT64[0] <= v <= INT64_OR_UINT64[1]


def first_number_not(
    dataset: Mapping[Any, list[dict[str, Any]]], ok: Callable[[Any], bool]
) -> tuple[str, int | float] | None:
    """(JSON Pointer into the records, value) of the first stored number ``ok`` refuses; iterative."""
    for db, docs in dataset.items():
        base: list[Any] = [] if db is None or len(dataset) == 1 else [db]
        for i, d in enumerate(docs):
            stack: list[tuple[Any, list[Any]]] = [(d.get("data"), [*base, i, "data"])]
            while stack:
                v, path = stack.pop()
                if type(v) in (int, float) and not ok(v):
                    return pointer(path), v
                if isinstance(v, dict):
                    stack.extend((x, [*path, k]) for k, x in v.items())
                elif isinstance(v, list):
                    stack.extend((x, [*path, k]) for k, x in enumerate(v))
    return None


def _short(v: int | float) -> str:
    text = repr(v)
    return text if len(text) <= 24 else f"{text[:10]}...{text[-4:]} ({len(text.lstrip('-'))} digits)"


def refuse_inexact_numbers(
    engine: str, dataset: Mapping[Any, list[dict[str, Any]]], ok: Callable[[Any], bool], why: str
) -> None:
    """FilterError (``not-expressible``, located at the value) when a stored number is one ``engine``
    does not read exactly (``ok`` says which it does; ``why`` says what it does with the others)."""
    found = first_number_not(dataset, ok)
    if found is None:
        return
    where, value = found
    raise FilterError(
        [
            Diagnostic(
                "not-expressible",
                f"--engine {engine} {why}, so it cannot compare the stored number {_short(value)} exactly; "
                "--engine memory, duckdb or mongomock compare it exactly (docs/semantics.md, section 9)",
                Location(param="records", pointer=where),
            )
        ]
    )
