"""How many times a field key is written into the SQL (issue 26 H6: the SQL text grows linearly with the
input, each key a small constant number of times).

For every dialect with a JSON family, every condition kind and every sort type, the key (a 50-character
marker) is counted in the compiled SQL: per condition, and per ORDER BY item of a sort. The table is
docs/security.md's ("How often a key is written"), which must be exactly what this module computes, so
a form that writes a key more often shows up there. ``guard.KEY_REPEATS`` (the size check's bound) stays
above every count (tests/security/test_exploits_sql.py checks that bound per query).
"""

from __future__ import annotations

import re
from pathlib import Path

from filterdsl.ast import (
    TRUE,
    Compare,
    Field,
    FieldState,
    FieldType,
    Money,
    Op,
    Query,
    Search,
    SortKey,
    State,
)
from filterdsl.backends.sql import to_sql
from filterdsl.backends.sql.compiler import compile_tree
from filterdsl.errors import FilterError

T = FieldType
KEY = "K" * 50
DIALECTS = ("sqlite", "duckdb", "postgres", "mysql", "clickhouse", "spark")
#: the most times one condition writes its key (DuckDB and ClickHouse: a money comparison with exact
#: integers past 2^53, where equal doubles are told apart by the integers' exact values)
MAX_PER_CONDITION = 8
#: the most times one ORDER BY item writes its key (a date sort's day check reads the text twice)
MAX_PER_ORDER_ITEM = 7
#: ORDER BY items per sort key (a third and fourth for exact integers past 2^53: DuckDB, ClickHouse)
MAX_ORDER_ITEMS = 4
DOC = Path(__file__).resolve().parents[1] / "docs" / "security.md"
TAGS = tuple(f"v{i}" for i in range(7))


def conditions() -> list[tuple[str, Query]]:
    out: list[tuple[str, Query]] = []
    for t, ops, v in [
        (T.STRING, [Op.EQ, Op.IN, Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH, Op.IEQ, Op.GT], "x"),
        (T.NUMBER, [Op.EQ, Op.GT], 3),
        (T.DATE, [Op.EQ, Op.GT, Op.LTE], "2020-01-01"),
        (T.ENUM_TAGS, [Op.HAS_ANY, Op.HAS_ALL, Op.HAS_EXACTLY], TAGS),
        (T.CURRENCY, [Op.EQ, Op.GT], Money(3, "USD")),
        (T.BOOLEAN, [Op.EQ], True),
        (T.ATTACHMENT, [Op.CONTAINS], "x"),
        (T.JSON, [Op.EQ, Op.IEQ, Op.GT], "x"),
    ]:
        for op in ops:
            value = ("a", "b", "c") if op is Op.IN else v
            label = f"{t.value} {op.value}" + (" (7 tags)" if t is T.ENUM_TAGS else "")
            out.append((label, Query(Compare(Field(KEY, t), op, value))))
    out.append(("json number gt", Query(Compare(Field(KEY, T.JSON), Op.GT, 3))))
    out += [(f"is {st.value}", Query(FieldState(Field(KEY, T.STRING), st))) for st in State]
    out.append(("json path 0.a eq", Query(Compare(Field(KEY, T.JSON, ("0", "a")), Op.EQ, "x"))))
    out.append(("search 1 term", Query(Search((("x",),), (Field(KEY, T.STRING),)))))
    return out


SORTS = (T.STRING, T.NUMBER, T.DATE, T.CURRENCY, T.BOOLEAN, T.JSON)


def order_counts(t: FieldType, dialect: str) -> list[int]:
    """The key's count in each ORDER BY item of a sort on a field of type ``t``."""
    tree = compile_tree(Query(TRUE, sort=(SortKey(Field(KEY, t)),)), dialect).tree
    items = [o.sql(dialect=dialect) for o in tree.args["order"].expressions]
    return [s.count(KEY) for s in items if KEY in s]


def table() -> str:
    """The Markdown table docs/security.md shows."""
    head = "| condition or sort | " + " | ".join(DIALECTS) + " |\n|---|" + "---|" * len(DIALECTS) + "\n"
    rows = []
    for label, q in conditions():
        cells = []
        for d in DIALECTS:
            try:
                cells.append(str(to_sql(q, d)[0].count(KEY)))
            except FilterError:
                cells.append("-")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    for t in SORTS:
        cells = ["+".join(map(str, order_counts(t, d))) for d in DIALECTS]
        rows.append(f"| sort {t.value} (per ORDER BY item) | " + " | ".join(cells) + " |")
    return head + "\n".join(rows) + "\n"


def test_a_condition_writes_its_key_a_few_times() -> None:
    for label, q in conditions():
        for d in DIALECTS:
            try:
                sql, _ = to_sql(q, d)
            except FilterError:
                continue
            assert sql.count(KEY) <= MAX_PER_CONDITION, (d, label, sql.count(KEY))


def test_tags_write_the_key_once_whatever_the_number_of_tags() -> None:
    """has-all / has-exactly over N tags: one pass over the array, not one per tag."""
    for op in (Op.HAS_ANY, Op.HAS_ALL, Op.HAS_EXACTLY):
        for d in DIALECTS:
            few, many = (
                to_sql(Query(Compare(Field(KEY, T.ENUM_TAGS), op, tags)), d)[0].count(KEY)
                for tags in (("a", "b"), tuple(f"t{i}" for i in range(40)))
            )
            assert few == many, (d, op, few, many)


def test_a_sort_item_writes_its_key_a_few_times() -> None:
    for t in SORTS:
        for d in DIALECTS:
            counts = order_counts(t, d)
            assert 1 <= len(counts) <= MAX_ORDER_ITEMS, (d, t, counts)
            assert max(counts) <= MAX_PER_ORDER_ITEM, (d, t, counts)


def test_security_doc_shows_this_table() -> None:
    text = DOC.read_text(encoding="utf-8")
    m = re.search(r"<!-- key-repeats -->\n(.*?)<!-- /key-repeats -->", text, re.S)
    assert m is not None, "docs/security.md lacks the key-repeats table markers"
    assert m.group(1) == table(), (
        "docs/security.md's table is stale: print tests.test_sql_key_repeats.table()"
    )
