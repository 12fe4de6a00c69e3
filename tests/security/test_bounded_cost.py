"""Bounded cost (issue 26, H5): what an input may cost is checked before the expensive work.

No wall-clock assertions: the tests count work (whether a SQL tree was built, compiles the server
ran) and sizes (SQL text linear in the input). benchmarks/bench_attack_inputs.py prints the times.
"""

from __future__ import annotations

import json
import random
import string

import pytest

from filterdsl import FilterError, load_catalog, parse
from filterdsl.api import apply, to_mongo
from filterdsl.ast import And, Compare, Field, FieldType, Op, Or, Query, Search
from filterdsl.backends.sql import budget, clear_sql_cache, to_sql
from filterdsl.backends.sql import compiler as sql_compiler
from filterdsl.options import Limits

from conftest import CORPUS

CAT = load_catalog(CORPUS / "catalog.json")
ORDERS = "ixuPJwBRqtRP3GpoM"
NAME = "Nb6uqwKdxh3BFX3De"


def conditions(n: int, by: str = "contains") -> dict:
    filters = [{"by": by, "value": f"v{i}"} for i in range(n)]
    return {"filter": {"fields": {NAME: {"filters": filters, "conjunction": "or"}}}}


def no_tree_built(monkeypatch: pytest.MonkeyPatch) -> None:
    def built(*_a: object, **_k: object) -> None:
        raise AssertionError("a SQL tree was built for a query over the budget")

    monkeypatch.setattr(sql_compiler.Compiler, "select", built)
    monkeypatch.setattr(sql_compiler.Compiler, "count", built, raising=False)


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "mysql", "duckdb", "clickhouse", "spark"])
def test_sql_over_the_budget_is_refused_before_any_tree(
    dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    q = parse(conditions(9_990), catalog=CAT, database=ORDERS)  # within the parse limits
    assert budget.conditions(q) == 9_991  # and "not in trash"
    clear_sql_cache()
    no_tree_built(monkeypatch)
    with pytest.raises(FilterError) as e:
        to_sql(q, dialect, catalog=CAT)
    d = e.value.diagnostics[0]
    assert d.code == "too-large"  # ClickHouse's statement size (sqlsec's check) may refuse it first


def test_budget_edges() -> None:
    # the parsed query adds "not in trash": one condition
    at = parse(conditions(budget.MAX_SQL_CONDITIONS - 1), catalog=CAT, database=ORDERS)
    over = parse(conditions(budget.MAX_SQL_CONDITIONS), catalog=CAT, database=ORDERS)
    clear_sql_cache()
    assert to_sql(at, "sqlite", catalog=CAT)[0].startswith("SELECT")
    with pytest.raises(FilterError):
        to_sql(over, "sqlite", catalog=CAT)
    small = parse(conditions(budget.MAX_UNVERIFIED_CONDITIONS - 1), catalog=CAT, database=ORDERS)
    assert "SELECT" in to_sql(small, "clickhouse", catalog=CAT)[0]
    with pytest.raises(FilterError):
        to_sql(parse(conditions(budget.MAX_UNVERIFIED_CONDITIONS), catalog=CAT, database=ORDERS), "spark")


def test_mysql_text_tests_weigh_double() -> None:
    half = budget.MAX_SQL_CONDITIONS // 2
    assert (
        budget.conditions(parse(conditions(half), catalog=CAT, database=ORDERS), dialect="mysql")
        == 2 * half + 1
    )
    clear_sql_cache()
    assert to_sql(parse(conditions(half - 1), catalog=CAT, database=ORDERS), "mysql")[0].startswith("SELECT")
    with pytest.raises(FilterError):
        to_sql(parse(conditions(half), catalog=CAT, database=ORDERS), "mysql")
    numbers = Query(Or(tuple(Compare(Field("n", FieldType.NUMBER), Op.EQ, i) for i in range(2_999))))
    assert budget.conditions(numbers, dialect="mysql") == 2_999  # only text tests weigh double


def test_budget_counts_search_fields_lists_and_sorts() -> None:
    fields = tuple(Field(f"f{i}", FieldType.STRING) for i in range(20))
    q = Query(Search((("a", "b"), ("c",)), fields))
    assert budget.conditions(q) == 60
    assert budget.conditions(Query(Search((("a",),)))) == 1  # schemaless: one test per term
    ins = Compare(Field("k", FieldType.ENUM), Op.IN, tuple(f"v{i}" for i in range(80)))
    assert budget.conditions(Query(And((ins, ins)))) == 2 * (1 + 80 // budget.LIST_VALUES_PER_CONDITION)
    q = parse("ordering=data__a,-data__b,created_at", "pixiebrix")
    assert budget.conditions(q) == 2 * budget.SORT_KEY_CONDITIONS + 1
    assert budget.conditions(Query(Or(tuple(ins for _ in range(1000)))), stop=10) <= 11 + 10


def big_catalog() -> tuple[object, list[str]]:
    rnd = random.Random(7)
    ids = ["".join(rnd.choices(string.ascii_letters + string.digits, k=17)) for _ in range(20_000)]
    fields = [{"_id": i, "name": f"Field {k}", "type": "string"} for k, i in enumerate(ids)]
    return load_catalog([{"_id": "db", "name": "DB", "fields": fields}]), ids


def test_search_over_a_20000_field_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    cat, ids = big_catalog()
    q = parse({"search": "ord, zz"}, catalog=cat, database="db")
    assert budget.conditions(q) == 40_001
    rows = [
        {
            "_id": f"r{i}",
            "createdAt": "2020-01-01T00:00:00Z",
            "cols": [{"fieldId": ids[j], "value": {"val": "order" if i == j else "x"}} for j in range(5)],
        }
        for i in range(8)
    ]
    # memory answers by each record's own keys (5), not the 20,000 fields: same answer as the walk
    assert [r["id"] for r in apply(q, {"db": rows}, catalog=cat)] == []
    q1 = parse({"search": "ord"}, catalog=cat, database="db")
    assert [r["id"] for r in apply(q1, {"db": rows}, catalog=cat)] == [f"r{i}" for i in range(5)]
    assert len(json.dumps(to_mongo(q1, catalog=cat))) > 20_000  # Mongo answers it (one $or entry a field)
    no_tree_built(monkeypatch)
    with pytest.raises(FilterError) as e:
        to_sql(q1, "postgres", catalog=cat)
    assert e.value.diagnostics[0].code == "too-large"


@pytest.mark.parametrize("dialect", ["sqlite", "postgres", "mysql", "duckdb"])
def test_sql_text_grows_linearly(dialect: str) -> None:
    sizes = {}
    for n in (250, 500, 1000, 2000):
        clear_sql_cache()
        q = parse(conditions(n, "is"), catalog=CAT, database=ORDERS)
        sizes[n] = len(to_sql(q, dialect, catalog=CAT)[0])
    per = [(sizes[b] - sizes[a]) / (b - a) for a, b in ((250, 500), (500, 1000), (1000, 2000))]
    assert max(per) <= min(per) * 1.02, (dialect, per)  # a constant number of characters per condition
    assert sizes[2000] < 2000 * 400


def test_parse_limits_are_what_the_budget_assumes() -> None:
    # the budget is the binding limit for SQL only while the parse limits allow more than it
    assert Limits().max_nodes > budget.MAX_SQL_CONDITIONS > budget.MAX_UNVERIFIED_CONDITIONS


def test_server_refuses_before_compiling(tmp_path) -> None:
    from starlette.testclient import TestClient

    from filterdsl.server import create_app

    app = create_app(f"sqlite:///{tmp_path}/s.db", CORPUS / "catalog.json")
    with TestClient(app) as c:
        for body in (conditions(1_500), conditions(9_990)):  # SQLite's depth; the SQL budget
            r = c.post(f"/api/databases/{ORDERS}/data", content=json.dumps(body))
            assert r.status_code == 400 and r.json()["errors"][0]["code"] == "too-large"
        assert app.state.cache.stats().misses == 0  # nothing was compiled
        ok = c.post(f"/api/databases/{ORDERS}/data", content=json.dumps(conditions(3)))
        assert ok.status_code == 200 and app.state.cache.stats().misses == 1
