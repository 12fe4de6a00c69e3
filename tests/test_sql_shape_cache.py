"""The per-shape SQL cache: SQL compiled for one query's values, bound with another's, is exact.

The SQL compiler only sees the query's shape (values replaced by slots), so the text must not depend on
the values. These tests check that from outside: a *twin* of a query (every value swapped for a
different, hostile one of the same type, injectively so duplicates stay duplicates) must compile to the
same SQL text, and a query run through the twin's cached SQL must return what the in-memory engine
returns. The twin is built here by an independent walk, not by the library's shape extractor.
"""

from __future__ import annotations

import dataclasses
import datetime
import itertools
import warnings
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from sql_engines import lower_diverges, require

from filterdsl.ast import (
    And,
    Compare,
    CreatedAt,
    Field,
    FieldState,
    FieldType,
    IdIn,
    InTrash,
    ModifiedSince,
    Money,
    Node,
    Not,
    Op,
    Or,
    Query,
    Relation,
    Search,
    State,
    walk,
)
from filterdsl.backends.memory import run
from filterdsl.backends.sql import (
    ColumnsLayout,
    SqlLayoutWarning,
    clear_sql_cache,
    sql_cache_info,
    to_sql,
    to_sqlglot,
)
from filterdsl.backends.sql.runners import run_ids
from filterdsl.errors import FilterError
from filterdsl.semantics.days import valid_day

from strategies import Scenario, scenarios

#: strings whose lower() changes length or needs escaping anywhere SQL text could be spliced
HOSTILE = ["İ", "ß", "ΣΑΣ", "%", "_", "\\", "'", '"', "a'; DROP TABLE records; --", "$.a", "ǅ", "", " "]
DIALECTS = ["sqlite", "duckdb", "postgres", "mysql", "spark", "tsql", "clickhouse"]  # last two: refusals


class _Twin:
    """An injective value map per type: equal values stay equal, different ones stay different."""

    def __init__(self) -> None:
        self.seen: dict[tuple[type, Any], Any] = {}
        self.n = itertools.count(1)

    def v(self, x: Any) -> Any:
        if type(x) is bool or x is None or x == "":
            return x  # booleans and "" (EMPTY) are part of the shape (they select SQL), not values
        key = (type(x), x)
        if key not in self.seen:
            k = next(self.n)
            if type(x) is str:
                self.seen[key] = HOSTILE[k % len(HOSTILE)] + "\u0130" * (k % 3) + str(k)
            elif type(x) is int:
                self.seen[key] = -(10**15) + k
            else:
                self.seen[key] = 1e300 / (k + 1)
        return self.seen[key]

    def value(self, x: Any) -> Any:
        if isinstance(x, Money):
            return Money(self.v(x.amount), None if x.currency is None else self.v(x.currency))
        if isinstance(x, tuple):
            return tuple(self.v(e) for e in x)
        return self.v(x)

    def day(self, x: Any) -> Any:
        """Date values: a day maps to another day (distinct days stay distinct); a text that is not a
        day is part of the shape (it compiles to another SQL form), so it stays."""
        if type(x) is not str or not valid_day(x):
            return x
        if ("day", x) not in self.seen:
            self.seen[("day", x)] = (
                datetime.date(1999, 12, 31) - datetime.timedelta(days=len(self.seen))
            ).isoformat()
        return self.seen[("day", x)]

    def node(self, n: Node) -> Node:
        if isinstance(n, Compare) and n.field.type is FieldType.DATE:
            return Compare(n.field, n.op, self.day(n.value))
        if isinstance(n, Compare):
            return Compare(n.field, n.op, self.value(n.value))
        if isinstance(n, (And, Or)):
            return type(n)(tuple(self.node(i) for i in n.items))
        if isinstance(n, Not):
            return Not(self.node(n.item))
        if isinstance(n, Relation):
            return Relation(n.field, n.database, self.node(n.predicate))
        if isinstance(n, Search):
            return Search(tuple(tuple(self.v(t) for t in c) for c in n.clauses), n.fields)
        if isinstance(n, IdIn):
            return IdIn(tuple(self.v(i) for i in n.ids))
        if isinstance(n, CreatedAt):
            return CreatedAt(self.v(n.start), self.v(n.end))
        if isinstance(n, ModifiedSince):
            return ModifiedSince(self.v(n.since))
        return n


def twin(q: Query) -> Query:
    return dataclasses.replace(q, predicate=_Twin().node(q.predicate))


def _has_values(q: Query) -> bool:
    """Some value the twin swaps (booleans, empty lists and absent bounds are not swapped)."""
    for n in walk(q.predicate):
        if isinstance(n, Compare) and n.field.type is FieldType.DATE:
            if valid_day(n.value):
                return True
            continue
        if (
            isinstance(n, Compare)
            and type(n.value) is not bool
            and n.value != ""
            and (type(n.value) is not tuple or any(v != "" for v in n.value))
        ):
            return True
        if isinstance(n, Search) and any(n.clauses):
            return True
        if (isinstance(n, IdIn) and any(i != "" for i in n.ids)) or isinstance(n, ModifiedSince):
            return True
        if isinstance(n, CreatedAt) and (n.start, n.end) != (None, None):
            return True
    return False


def _compile(q: Query, dialect: str) -> tuple[Any, Any]:
    """(sql, params), or ("refused", codes) when the dialect cannot express the query."""
    try:
        return to_sql(q, dialect)
    except FilterError as e:
        return "refused", [d.code for d in e.diagnostics]


SETTINGS = settings(
    max_examples=120,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def test_sql_text_never_depends_on_values() -> None:
    """Fresh compiles of a query and of its twin give the same text in every dialect tried."""

    @settings(SETTINGS, max_examples=50)
    @given(scenarios())
    def prop(sc: Scenario) -> None:
        tw = twin(sc.query)
        for d in DIALECTS:
            clear_sql_cache()
            a = _compile(sc.query, d)
            clear_sql_cache()
            b = _compile(tw, d)
            assert a[0] == b[0], d
            if a[0] == "refused":
                continue
            if _has_values(sc.query):
                assert a[1] != b[1], d  # the values really were swapped

    prop()


def test_cached_params_are_this_querys_values() -> None:
    """After the twin warmed the cache, the query hits it and gets exactly the fresh compile's params."""

    @settings(SETTINGS, max_examples=30)
    @given(scenarios())
    def prop(sc: Scenario) -> None:
        for d in ("sqlite", "postgres", "mysql"):
            clear_sql_cache()
            fresh = to_sql(sc.query, d)
            tree_params = to_sqlglot(sc.query, d, inline=True).sql(d)  # compiles without the cache
            clear_sql_cache()
            to_sql(twin(sc.query), d)
            hits = sql_cache_info().hits
            assert to_sql(sc.query, d) == fresh
            assert sql_cache_info().hits == hits + 1
            assert to_sqlglot(sc.query, d, inline=True).sql(d) == tree_params

    prop()


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_cached_sql_returns_the_memory_engines_records(engine: str) -> None:
    url = require(engine)

    @SETTINGS
    @given(scenarios(numbers="int64" if engine == "sqlite" else "all"))  # SQLite: doubles past 64 bits
    def prop(sc: Scenario) -> None:
        clear_sql_cache()
        run_ids(twin(sc.query), sc.dataset, engine, url, sc.catalog)  # warms the cache with other values
        hits = sql_cache_info().hits
        got = run_ids(sc.query, sc.dataset, engine, url, sc.catalog)
        assert sql_cache_info().hits == hits + 1
        expected = [r["id"] for r in run(sc.query, sc.dataset, sc.catalog)]
        folds = any(
            isinstance(n, Search)
            or (isinstance(n, Compare) and n.op in (Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH, Op.IEQ))
            for n in walk(sc.query.predicate)
        )
        if got != expected and folds and lower_diverges(engine, sc.dataset):
            return  # documented engine lower() divergence (docs/sql.md), not a cache effect
        assert got == expected

    prop()


F = Field("name", FieldType.STRING)


def _starts(value: str) -> Query:
    return Query(And((Compare(F, Op.STARTS_WITH, value), Not(InTrash()))))


def test_length_is_derived_from_the_lowered_value() -> None:
    """'İ'.lower() is two code points: the cached SQL's length parameter follows this query's value."""
    clear_sql_cache()
    to_sql(_starts("ab"), "sqlite")
    text, params = to_sql(_starts("İx"), "sqlite")
    assert sql_cache_info().hits == 1
    assert "i\u0307x" in params and 3 in params and 2 not in params
    docs = {
        None: [
            {
                "id": i,
                "created_at": "2020-01-01T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": None,
                "data": {"name": name},
            }
            for i, name in (("a", "İxyz"), ("b", "ixyz"), ("c", "abc"))
        ]
    }
    assert run_ids(_starts("İx"), docs) == [r["id"] for r in run(_starts("İx"), docs)] == ["a"]


def test_same_shape_hits_and_other_shapes_miss() -> None:
    clear_sql_cache()
    for i in range(10):
        to_sql(_starts(f"v{i}"), "postgres")
    info = sql_cache_info()
    assert (info.hits, info.misses) == (9, 1)
    b = Field("paid", FieldType.BOOLEAN)
    t1, _ = to_sql(Query(Compare(b, Op.EQ, True)), "postgres")
    t2, _ = to_sql(Query(Compare(b, Op.EQ, False)), "postgres")
    assert t1 != t2  # booleans select SQL (IS TRUE / IS FALSE tests), so they are part of the shape
    tags = Field("tags", FieldType.ENUM_TAGS)
    _, p1 = to_sql(Query(Compare(tags, Op.HAS_ANY, ("a", "a", "b"))), "sqlite")
    _, p2 = to_sql(Query(Compare(tags, Op.HAS_ANY, ("x", "y"))), "sqlite")
    assert [p for p in p1 if p in ("a", "b")] == ["a", "b"] and [p for p in p2 if p in ("x", "y")] == [
        "x",
        "y",
    ]
    assert sql_cache_info().misses == 4  # duplicates are removed before the shape is taken


def test_layout_warning_repeats_on_a_hit() -> None:
    lay = ColumnsLayout("t", {"name": "c_name"}, collapse_empty=True)
    q = Query(FieldState(F, State.EMPTY))
    clear_sql_cache()
    for _ in range(2):
        with pytest.warns(SqlLayoutWarning, match="IS NULL"):
            to_sql(q, "sqlite", lay)
    assert sql_cache_info().hits == 1


def test_a_mutated_layout_mapping_is_not_served_stale() -> None:
    mapping = {"name": "c_one"}
    lay = ColumnsLayout("t", mapping)
    q = Query(Compare(F, Op.EQ, "x"))
    clear_sql_cache()
    assert '"c_one"' in to_sql(q, "sqlite", lay)[0]
    mapping["name"] = "c_two"
    text = to_sql(q, "sqlite", lay)[0]
    assert '"c_two"' in text and '"c_one"' not in text


def test_no_warning_leaks_without_a_layout_problem() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        to_sql(_starts("x"), "sqlite")


def test_flat_key_agrees_with_the_shape() -> None:
    """shape_key (what the cache looks up) and extract (what is compiled) describe the same shape:
    a query and its twin share both, and the key of the shape is the key of the query."""
    from filterdsl.backends.sql.shape import extract, shape_key

    @settings(SETTINGS, max_examples=150)
    @given(scenarios(weird_keys=True))
    def prop(sc: Scenario) -> None:
        key, values = shape_key(sc.query)
        shape, shape_values = extract(sc.query)
        assert shape_values == values
        assert shape_key(shape)[0] == key
        tw = twin(sc.query)
        assert shape_key(tw)[0] == key and extract(tw)[0] == shape

    prop()


def test_keys_of_different_shapes_differ() -> None:
    from filterdsl.backends.sql.shape import shape_key

    a = Field("a", FieldType.NUMBER)
    b = Field("b", FieldType.NUMBER)
    queries = [
        Query(And((Compare(a, Op.GT, 1), Compare(b, Op.GT, 1)))),
        Query(Or((Compare(a, Op.GT, 1), Compare(b, Op.GT, 1)))),
        Query(And((Compare(b, Op.GT, 1), Compare(a, Op.GT, 1)))),
        Query(And((Compare(a, Op.GT, 1.5), Compare(b, Op.GT, 1)))),
        Query(And((Compare(a, Op.GTE, 1), Compare(b, Op.GT, 1)))),
        Query(And((And((Compare(a, Op.GT, 1),)), Compare(b, Op.GT, 1)))),
        Query(And((Compare(a, Op.GT, 1), Compare(b, Op.GT, 1))), limit=5),
        Query(And((Compare(a, Op.GT, 1), Compare(b, Op.GT, 1))), skip=1),
        Query(And((Compare(a, Op.GT, 1), Not(Compare(b, Op.GT, 1))))),
        Query(Compare(Field("t", FieldType.ENUM_TAGS), Op.HAS_ANY, ("x",))),
        Query(Compare(Field("t", FieldType.ENUM_TAGS), Op.HAS_ANY, ("x", "y"))),
        Query(CreatedAt("2020-01-01T00:00:00.000000Z", None)),
        Query(CreatedAt(None, "2020-01-01T00:00:00.000000Z")),
    ]
    keys = [shape_key(q)[0] for q in queries]
    assert len(set(keys)) == len(keys)


def test_cache_is_bounded_by_entries_and_weight(monkeypatch: pytest.MonkeyPatch) -> None:
    import filterdsl.backends.sql as sqlmod

    monkeypatch.setattr(sqlmod, "SQL_CACHE_SIZE", 3)
    clear_sql_cache()
    qs = [Query(Compare(Field(f"k{i}", FieldType.STRING), Op.EQ, "v")) for i in range(5)]
    for q in qs:
        to_sql(q, "sqlite")
    assert sql_cache_info().currsize == 3
    to_sql(qs[0], "sqlite")  # evicted (least recently used): compiled again
    assert sql_cache_info().misses == 6
    monkeypatch.setattr(sqlmod, "SQL_CACHE_MAX_WEIGHT", 8 * 2000)
    clear_sql_cache()
    big = Query(And(tuple(Compare(Field(f"k{i}", FieldType.STRING), Op.EQ, "v") for i in range(40))))
    text, _ = to_sql(big, "sqlite")
    assert len(text) > 2000
    assert sql_cache_info().currsize == 0  # heavier than an eighth of the budget: not kept
    for q in qs:
        to_sql(q, "sqlite")
    info = sql_cache_info()
    assert 0 < info.weight <= 8 * 2000 and info.currsize <= 3


def test_collector_paused_while_compiling_and_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cyclic collector is off while a shape compiles (linear compile time) and its state comes back."""
    import gc

    import filterdsl.backends.sql as sqlmod

    seen: list[bool] = []

    def spy(real: Any) -> Any:
        def wrapper(*args: Any, **kw: Any) -> Any:
            seen.append(gc.isenabled())
            return real(*args, **kw)

        return wrapper

    monkeypatch.setattr(sqlmod, "compile_shape", spy(sqlmod.compile_shape))
    q = Query(Compare(Field("k", FieldType.STRING), Op.EQ, "v"))
    clear_sql_cache()
    assert gc.isenabled()
    to_sql(q, "sqlite")
    assert seen == [False] and gc.isenabled()
    with pytest.raises(FilterError) as err:  # JSON field access in PRQL: refused while paused
        to_sql(q, "prql")
    assert err.value.diagnostics[0].code == "not-expressible"
    assert gc.isenabled()
    gc.disable()
    try:
        clear_sql_cache()
        to_sql(q, "sqlite")
        assert not gc.isenabled()  # a program that turned it off keeps it off
    finally:
        gc.enable()
    seen.clear()
    monkeypatch.setattr(sqlmod, "compile_tree", spy(sqlmod.compile_tree))
    sqlmod.to_sqlglot(q, "sqlite")  # the tree API pauses it too
    assert seen == [False] and gc.isenabled()
