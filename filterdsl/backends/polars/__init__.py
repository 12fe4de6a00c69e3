"""The Polars backend: the query as a Polars expression over a frame built from the records."""

from filterdsl.backends.polars.compiler import (
    after_expr,
    default_slots,
    hit_rows,
    query_frame,
    run,
    slots_for,
    sort_exprs,
    to_frame,
    to_polars,
)

__all__ = [
    "after_expr",
    "default_slots",
    "hit_rows",
    "query_frame",
    "run",
    "slots_for",
    "sort_exprs",
    "to_frame",
    "to_polars",
]
