"""The Polars backend: the query as a Polars expression over a frame built from the records."""

from filterdsl.backends.polars.compiler import (
    default_slots,
    query_frame,
    run,
    slots_for,
    sort_exprs,
    to_frame,
    to_polars,
)

__all__ = ["default_slots", "query_frame", "run", "slots_for", "sort_exprs", "to_frame", "to_polars"]
