"""Table layouts the SQL compiler targets: where a database's records live and how values are stored.

The JSON document layout keeps the canonical document (SPEC 1.2) in a JSON column, so it keeps all
three field states. The columns layout maps each field to a plain column; NOT SET and EMPTY both
become NULL there, which is why a filter that tells them apart raises a ``SqlLayoutWarning``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from filterdsl.errors import FilterError, Location


class SqlLayoutWarning(UserWarning):
    """A filter asks something the chosen layout cannot store (e.g. NOT SET vs EMPTY in columns)."""


def default_table(database: str | None) -> str:
    """The database id itself (quoted as an identifier), or ``records`` for schemaless data."""
    return "records" if database is None else database


#: MySQL/MariaDB collations whose ``LIKE 'p%'`` matches every text whose ``str.lower()`` starts with a
#: printable-ASCII ``p``, and the shape derivation that cuts the needle to such a ``p``: the only
#: non-ASCII letters Python lowers to ASCII are the Kelvin sign (to ``k``) and ``İ`` (to ``i`` and a
#: combining dot); the general collations do not fold the Kelvin sign, so their prefix stops before a
#: ``k`` (checked on MariaDB through the index for every entry: tests/test_sql_ci_prefix.py).
#: ``utf8mb4_unicode_ci`` is left out: MariaDB 10.11's index range for ``LIKE '0%'`` on it misses
#: ``'0𐐀'`` (a letter above U+FFFF after the prefix), while a scan finds it.
CI_COLLATIONS: dict[str, str] = {
    "utf8mb4_general_ci": "like_prefix_no_k",
    "utf8mb4_general_nopad_ci": "like_prefix_no_k",
    "utf8mb4_unicode_520_ci": "like_prefix",
    "utf8mb4_unicode_520_nopad_ci": "like_prefix",
}


@dataclass(frozen=True)
class JsonLayout:
    """One table per database: id, created_at, updated_at, removed_at (canonical UTC text) and data (JSON).

    ``tables`` overrides the table name of a database id (None for schemaless records); every other
    database uses ``default_table``. ``schema`` qualifies table names when set.
    """

    tables: Mapping[Any, str] = field(default_factory=dict)
    id: str = "id"
    created_at: str = "created_at"
    updated_at: str = "updated_at"
    removed_at: str = "removed_at"
    data: str = "data"
    schema: str | None = None
    #: PostgreSQL: the data column is ``json`` or text, not ``jsonb``: the SQL reads it as
    #: ``CAST(data AS JSONB)`` (and the advised indexes name that expression)
    cast_jsonb: bool = False
    #: the id column itself orders by code point (see ``ColumnsLayout.binary_id``)
    binary_id: bool = False
    #: PostgreSQL: the database has (or will have) a DBA's habitual indexes on the text of a key,
    #: ``((data ->> 'k'))`` in its default collation. String, enum and boolean equality and ``in`` then
    #: also test ``data ->> 'k'`` (the jsonb test stays, so it is exact in every collation), and date
    #: ranges compare ``data ->> 'k'`` in the default collation; exact where that collation orders a
    #: text starting with a day against a day as code points do (every libc collation and every ICU one
    #: without numeric ordering, ``kn``; docs/sql.md, "Habitual indexes"). Numbers, sorts and text
    #: ranges keep their forms: no text index serves them exactly.
    text_indexes: bool = False

    def table_name(self, database: str | None) -> str:
        return self.tables.get(database) or default_table(database)


@dataclass(frozen=True)
class ColumnSpec:
    """The column(s) of one field; ``currency`` is the currency-code column of a currency field."""

    column: str
    currency: str | None = None
    #: a date field whose column holds only real days written ``YYYY-MM-DD`` (or NULL), such as a
    #: ``DATE`` column or text checked on write: it sorts and ranges by the column itself (SPEC 8's
    #: order of days), which a plain index serves; no day check is written
    days: bool = False
    #: the column never holds NULL (``NOT NULL``): a keyset page (Query.after) after a row of a
    #: descending sort then needs no ``OR column IS NULL``, which keeps PostgreSQL's index walk
    #: starting at the cursor; declared wrongly, rows holding NULL would be skipped by such pages
    not_null: bool = False
    #: a text column whose collation orders by code point (MariaDB/MySQL ``utf8mb4_nopad_bin`` or
    #: ``VARBINARY``; PostgreSQL ``COLLATE "C"``): sorts and ranges are on the column itself, which a
    #: plain index serves, instead of ``CAST(c AS BINARY)`` / ``c COLLATE "C"``. Declared wrongly, the
    #: column's collation would order those instead of code points
    binary: bool = False


@dataclass(frozen=True)
class ColumnsLayout:
    """One column per field: ``ColumnsLayout("orders", {field_key: column})`` for one table, or
    ``ColumnsLayout(tables={db: table}, columns={db: {field_key: column}})`` for several databases
    (relations). A column spec is a name, a ``ColumnSpec``, or ``{"column": c, "currency": code_col}``.

    Values are plain SQL values of the field's type: strings as text, numbers numeric, booleans
    boolean, dates ISO text, currency an amount column plus an optional code column, attachment the
    URL as text, enumTags/refMultiple a JSON array. NOT SET and EMPTY are both NULL.
    A filter that tells NOT SET from EMPTY (``is-empty`` or ``is-not-set`` alone) is an error
    (``layout-ambiguous``); ``collapse_empty=True`` turns it into a ``SqlLayoutWarning`` and compiles
    it as ``IS NULL`` (NOT SET or EMPTY).

    ``ci_collation`` (MySQL/MariaDB; other dialects do not need it): the case-insensitive collation the
    text columns were declared with, one of ``CI_COLLATIONS`` (``utf8mb4_general_ci`` is MariaDB's
    default). A case-insensitive prefix (``starts-with``, ``__istartswith``, ``__iexact``) then also
    tests ``column LIKE 'prefix%'``, which the column's own index serves: for the printable-ASCII head of
    the needle that test holds on every row Python's ``str.lower`` matches (checked on MariaDB for each
    collation listed), and the exact test still decides. Declared wrongly (a ``_bin`` column), the LIKE
    would drop rows: declare only what ``SHOW FULL COLUMNS`` says.

    ``binary_id``: the id column orders by code point by itself (PostgreSQL ``COLLATE "C"``; MariaDB
    ``utf8mb4_nopad_bin``, ``VARBINARY``, or ASCII ids in a ``_bin`` collation), so the default order's
    tie-breaker is the plain ``id`` an index serves, not ``CAST(id AS BINARY)`` (MariaDB) or
    ``id COLLATE "C"`` (PostgreSQL). Declared wrongly, ties on ``created_at`` would order by the
    column's collation instead of by code point.
    """

    table: str | None = None
    mapping: Mapping[str, Any] = field(default_factory=dict)
    tables: Mapping[Any, str] = field(default_factory=dict)
    columns: Mapping[Any, Mapping[str, Any]] = field(default_factory=dict)
    id: str = "id"
    created_at: str = "created_at"
    updated_at: str = "updated_at"
    removed_at: str = "removed_at"
    data: str = "data"
    schema: str | None = None
    collapse_empty: bool = False
    ci_collation: str | None = None
    binary_id: bool = False

    def __post_init__(self) -> None:
        if self.ci_collation is not None and not isinstance(self.ci_collation, str):
            raise FilterError.one(
                "bad-layout",
                f"ci_collation is a collation name (a string), not {type(self.ci_collation).__name__}",
                Location(param="layout"),
            )
        if self.ci_collation is not None and self.ci_collation not in CI_COLLATIONS:
            raise FilterError.one(
                "bad-layout",
                f"ci_collation {self.ci_collation!r} is not one whose LIKE is known to be a superset of "
                f"Python's case folding; one of {', '.join(CI_COLLATIONS)}",
                Location(param="layout"),
            )

    def table_name(self, database: str | None) -> str:
        if database in self.tables:
            return self.tables[database]
        if self.table is not None and database not in self.columns:
            return self.table
        return default_table(database)

    def column(self, database: str | None, key: str) -> ColumnSpec | None:
        spec = self.columns[database].get(key) if database in self.columns else self.mapping.get(key)
        if spec is None:
            return None
        if isinstance(spec, ColumnSpec):
            return spec
        if isinstance(spec, str):
            return ColumnSpec(spec)
        return ColumnSpec(
            str(spec["column"]),
            spec.get("currency"),
            bool(spec.get("days", False)),
            bool(spec.get("not_null", False)),
            bool(spec.get("binary", False)),
        )

    def field_columns(self, database: str | None) -> Mapping[str, Any]:
        return self.columns[database] if database in self.columns else self.mapping

    @classmethod
    def from_mapping(cls, obj: Mapping[str, Any]) -> ColumnsLayout:
        """Build from a mapping file: ``{"tables": {db: name}, "columns": {db: {field: column}}, ...}``.

        A flat ``{field: column}`` mapping is accepted for a single database (key None).
        """
        if "columns" not in obj:
            return cls(mapping=dict(obj))
        opts = {
            k: obj[k] for k in ("id", "created_at", "updated_at", "removed_at", "data", "schema") if k in obj
        }
        cols = {(None if k in ("", "null") else k): v for k, v in obj["columns"].items()}
        tables = {(None if k in ("", "null") else k): v for k, v in obj.get("tables", {}).items()}
        return cls(
            tables=tables,
            columns=cols,
            collapse_empty=bool(obj.get("collapse_empty", False)),
            ci_collation=obj.get("ci_collation"),
            binary_id=bool(obj.get("binary_id", False)),
            **opts,
        )
