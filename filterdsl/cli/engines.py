"""The one engine registry: every engine ``filterdsl run --engine`` knows, and where it runs."""

from __future__ import annotations

from typing import Any

from filterdsl.ast import Query
from filterdsl.cli.common import (
    EngineError,
)
from filterdsl.errors import FilterError
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
    except Exception as e:  # a server down, a driver missing: not the user's input
        raise EngineError(f"engine {engine} failed: {type(e).__name__}: {e}") from None
