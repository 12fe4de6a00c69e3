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


class _BoolGenericFamily(GenericFamily):
    BOOL_VALUES = True


class _HiveFamily(_BoolGenericFamily):
    INT_LIMIT = True


class _OracleFamily(GenericFamily):
    EMPTY_IS_NULL = True


#: sqlglot dialects without a JSON family: what their SQL can say (predicates as values, LIMIT width,
#: how '' is stored), declared here so that no other module tests a dialect's name
GENERIC_FAMILIES: dict[str, type[Family]] = {
    **{
        d: _BoolGenericFamily
        for d in (
            "materialize",
            "risingwave",
            "redshift",
            "bigquery",
            "snowflake",
            "trino",
            "presto",
            "athena",
            "starrocks",
            "doris",
        )
    },
    "spark2": _HiveFamily,
    "hive": _HiveFamily,
    "oracle": _OracleFamily,
}


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


def family_class(dialect: str) -> type[Family]:
    """The family that writes ``dialect`` (its declarations say what the dialect's SQL can say)."""
    name = DIALECT_FAMILY.get(dialect)
    if name is None:
        return GENERIC_FAMILIES.get(dialect, GenericFamily)
    return FAMILIES[name]


def family_for(dialect: str, param: ParamFn) -> Family:
    return family_class(dialect)(param, dialect)


# every dialect a family writes is complete before any thread can compile (issue 26, H7)
preload()
