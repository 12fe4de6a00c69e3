"""One module per dialect family: how each engine reaches, tests and compares JSON values and columns.

``family_for`` picks the family of a sqlglot dialect; ``base`` holds what every family shares. A new
dialect is a ``Family`` subclass in its own module, registered in ``FAMILIES`` and ``DIALECT_FAMILY``.
"""

from __future__ import annotations

from filterdsl.backends.sql.dialects.base import Family, ParamFn
from filterdsl.backends.sql.dialects.columnar import ClickHouseFamily, DataFusionFamily
from filterdsl.backends.sql.dialects.duckdb import DuckDBFamily
from filterdsl.backends.sql.dialects.mysql import MySQLFamily
from filterdsl.backends.sql.dialects.postgres import PostgresFamily
from filterdsl.backends.sql.dialects.registry import preload
from filterdsl.backends.sql.dialects.spark import SparkFamily
from filterdsl.backends.sql.dialects.sqlite import SQLiteFamily


class GenericFamily(Family):
    """Dialects whose JSON functions filterdsl does not know: only record-level filters compile."""


FAMILIES: dict[str, type[Family]] = {
    "sqlite": SQLiteFamily,
    "duckdb": DuckDBFamily,
    "postgres": PostgresFamily,
    "mysql": MySQLFamily,
    "spark": SparkFamily,
    "datafusion": DataFusionFamily,
    "clickhouse": ClickHouseFamily,
}


#: sqlglot dialect -> JSON family used for the JSON document layout
DIALECT_FAMILY: dict[str, str] = {
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "postgres": "postgres",
    "mysql": "mysql",
    "spark": "spark",
    "databricks": "spark",
    "datafusion": "datafusion",
    "clickhouse": "clickhouse",
}


def family_for(dialect: str, param: ParamFn) -> Family:
    name = DIALECT_FAMILY.get(dialect)
    if name is None:
        return GenericFamily(param, dialect)
    return FAMILIES[name](param, dialect)


# every dialect a family writes is complete before any thread can compile (issue 26, H7)
preload()
