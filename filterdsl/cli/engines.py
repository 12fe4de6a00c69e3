"""The one engine registry: every engine ``filterdsl run --engine`` knows, and where it runs."""

from __future__ import annotations

import re
from typing import Any

from filterdsl.ast import Query
from filterdsl.cli.common import (
    EngineError,
)
from filterdsl.errors import Diagnostic, FilterError, Location, pointer
from filterdsl.schema import Catalog

#: engine -> the backend that runs it (``memory``, ``sql`` runners or ``mongo`` runners); the runners'
#: own tables (``filterdsl.backends.sql.runners.ENGINES``, ``...mongo.runners.ENGINES``) are checked
#: against this one by tests/test_public_api.py
BACKEND_OF: dict[str, str] = {
    "memory": "memory",
    "sqlite": "sql",
    "duckdb": "sql",
    "postgres": "sql",
    "mysql": "sql",
    "datafusion": "sql",
    "clickhouse": "sql",
    "spark": "sql",
    "mongomock": "mongo",
    "mingo": "mongo",
}
ENGINES = tuple(BACKEND_OF)
DEFAULT_ENGINE = "sqlite"


_SURROGATE = re.compile("[\ud800-\udfff]")
#: engines that store text as UTF-8 (a lone surrogate cannot be sent to them); PostgreSQL also refuses NUL
_UTF8_ENGINES = {"sqlite", "duckdb", "postgres", "mysql", "datafusion", "clickhouse"}


def check_loadable(dataset: dict[Any, list[dict[str, Any]]], engine: str, keyed: bool) -> None:
    """``bad-record`` (exit 1, located at the record) for data the engine cannot hold, before it is sent:
    a lone surrogate for the engines that store UTF-8, a NUL character for PostgreSQL. ``keyed``: the
    data file is ``{database_id: [records]}`` (pointers start with the database id)."""
    if engine not in _UTF8_ENGINES:
        return
    nul = engine == "postgres"
    for db, docs in dataset.items():
        for i, doc in enumerate(docs):
            where = pointer([db, i] if keyed else [i])
            stack: list[Any] = [doc]
            while stack:
                v = stack.pop()
                if isinstance(v, dict):
                    stack.extend(v.keys())
                    stack.extend(v.values())
                elif isinstance(v, list):
                    stack.extend(v)
                elif isinstance(v, str) and (_SURROGATE.search(v) or (nul and "\x00" in v)):
                    what = "a NUL character" if nul and "\x00" in v else "a lone surrogate"
                    raise FilterError(
                        [
                            Diagnostic(
                                "bad-record",
                                f"record {i} holds {what} in a text, which --engine {engine} cannot store",
                                Location(pointer=where),
                            )
                        ]
                    )


#: exception class names (any module) by which a driver says a *value* was refused, not that it failed:
#: SQLSTATE class 22 "data exception" (psycopg, pymysql), DuckDB's conversion and range errors, encoding
_DATA_ERRORS = (
    "DataError",
    "UntranslatableCharacter",
    "CharacterNotInRepertoire",
    "NumericValueOutOfRange",
    "InvalidTextRepresentation",
    "ConversionException",
    "OutOfRangeException",
    "InvalidInputException",
    "UnicodeEncodeError",
    "OverflowError",
)


def _refused_input(e: Exception) -> bool:
    return any(c.__name__ in _DATA_ERRORS for c in type(e).__mro__)


def engine_ids(
    query: Query,
    dataset: dict[Any, list[dict[str, Any]]],
    engine: str,
    url: str | None,
    catalog: Catalog | None,
) -> list[str]:
    """Ids in result order, from the chosen engine."""
    backend = BACKEND_OF[engine]
    if backend == "memory":
        from filterdsl.backends.memory import run

        return [r["id"] for r in run(query, dataset, catalog)]
    try:
        if backend == "sql":
            from filterdsl.backends.sql import runners as sql_runners

            docs = sql_runners.run(query, dataset, engine=engine, url=url, catalog=catalog)
        else:
            from filterdsl.backends.mongo import runners as mongo_runners

            docs = mongo_runners.run(query, dataset, engine=engine, catalog=catalog)
        return [d["id"] for d in docs]
    except FilterError:
        raise
    except ImportError as e:
        raise EngineError(f"engine {engine} is not available: {e}") from None
    except Exception as e:
        if _refused_input(e):  # the engine ran and refused a value of the query or the data: exit 1
            raise FilterError(
                [
                    Diagnostic(
                        "engine-refused-input",
                        f"--engine {engine} refused a value of the query or the data: "
                        f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"[:300],
                        Location(param="--data"),
                    )
                ]
            ) from None
        # a server down, a driver missing: not the user's input (exit 3)
        raise EngineError(f"engine {engine} failed: {type(e).__name__}: {e}") from None
