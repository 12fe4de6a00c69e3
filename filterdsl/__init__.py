"""filterdsl: one typed AST for Pitchly filters, search strings and PixieBrix params.

Parse any of them (``parse``), validate with located diagnostics (``validate``), and run them
in memory (``to_predicate``, ``apply``), in SQL (``to_sql``) or MongoDB (``to_mongo``), or convert
them to another format (``to_format``). Every backend selects the same records in the same order.
"""

from filterdsl.api import apply, parse, to_format, to_mongo, to_predicate, to_sql, validate
from filterdsl.ast import Query
from filterdsl.cursor import next_cursor
from filterdsl.errors import Diagnostic, FilterError
from filterdsl.schema import Catalog, load_catalog

__version__ = "0.1.0"

__all__ = [
    "Catalog",
    "Diagnostic",
    "FilterError",
    "Query",
    "apply",
    "load_catalog",
    "next_cursor",
    "parse",
    "to_format",
    "to_mongo",
    "to_predicate",
    "to_sql",
    "validate",
]
