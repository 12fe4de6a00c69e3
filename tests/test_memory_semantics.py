"""Unit semantics of every type and operator (SPEC 1.3, 1.4, 2, 8) in the reference engine.

Each row: field type, operator, filter value, stored value (MISSING = key absent), expected match.
Every positive operator is also checked against NOT SET, EMPTY and wrong-type values, and its
negation (``Not``) must be the exact complement on every row.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from filterdsl.ast import Compare, Field, FieldState, FieldType, Money, Not, Op, SortKey, State
from filterdsl.backends.memory import MISSING, compile_predicate, sort_docs

T = FieldType


def doc(value, rid="r"):
    data = {} if value is MISSING else {"k": value}
    return {
        "id": rid,
        "created_at": "2021-01-01T00:00:00.000000Z",
        "updated_at": None,
        "removed_at": None,
        "data": data,
    }


def matches(node, value):
    return compile_predicate(node)(doc(value))


EMPTIES = [MISSING, None, "", []]
ROWS = [
    # strings: is is exact and case-sensitive; contains/starts/ends fold with str.lower()
    (T.STRING, Op.EQ, "order-1", "order-1", True),
    (T.STRING, Op.EQ, "order-1", "ORDER-1", False),
    (T.STRING, Op.EQ, "order-1", " order-1", False),
    (T.STRING, Op.EQ, "", "", False),  # "" is EMPTY
    (T.STRING, Op.EQ, "5", 5, False),
    (T.STRING, Op.CONTAINS, "ÉCOLE", "une école", True),
    (T.STRING, Op.CONTAINS, "mül", "MÜLLER", True),
    (T.STRING, Op.CONTAINS, "σίσυφος", "ΣΊΣΥΦΟΣ", True),  # final sigma via str.lower()
    (T.STRING, Op.CONTAINS, "straße", "STRASSE", False),  # lower(), not casefold()
    (T.STRING, Op.CONTAINS, "_", "abc", False),  # no wildcard meaning
    (T.STRING, Op.CONTAINS, "%", "100%", True),
    (T.STRING, Op.CONTAINS, "", "x", True),  # contains "" matches every HAS VALUE string
    (T.STRING, Op.CONTAINS, "a", ["a"], False),
    (T.STRING, Op.STARTS_WITH, "Ord", "order", True),
    (T.STRING, Op.STARTS_WITH, "rder", "order", False),
    (T.STRING, Op.ENDS_WITH, "DER", "order", True),
    (T.TEXT_BLOCK, Op.CONTAINS, "deal", "Big DEAL", True),
    # numbers: type-strict, 5 == 5.0, booleans are not numbers
    (T.NUMBER, Op.EQ, 5, 5.0, True),
    (T.NUMBER, Op.EQ, 5, "5", False),
    (T.NUMBER, Op.EQ, 1, True, False),
    (T.NUMBER, Op.EQ, 0, False, False),
    (T.NUMBER, Op.GT, 100, 100, False),
    (T.NUMBER, Op.GTE, 100, 100, True),
    (T.NUMBER, Op.LT, 10, -3, True),
    (T.NUMBER, Op.LTE, 0, 0, True),
    (T.NUMBER, Op.GT, 2**53 - 1, 2**53, True),
    # currency: amount only, or amount and exact code
    (T.CURRENCY, Op.GT, Money(50), {"val": 99.99, "currency": "EUR"}, True),
    (T.CURRENCY, Op.EQ, Money(50, "USD"), {"val": 50, "currency": "USD"}, True),
    (T.CURRENCY, Op.EQ, Money(50, "USD"), {"val": 50, "currency": "usd"}, False),
    (T.CURRENCY, Op.EQ, Money(50, "USD"), {"val": 50}, False),
    (T.CURRENCY, Op.EQ, Money(50), {"val": 50}, True),
    (T.CURRENCY, Op.EQ, Money(50), 50, False),
    (T.CURRENCY, Op.EQ, Money(1), {"val": True}, False),
    # booleans: never numbers or strings
    (T.BOOLEAN, Op.EQ, True, True, True),
    (T.BOOLEAN, Op.EQ, True, 1, False),
    (T.BOOLEAN, Op.EQ, True, "true", False),
    (T.BOOLEAN, Op.EQ, False, 0, False),
    (T.BOOLEAN, Op.EQ, False, False, True),
    # dates: by day, first 10 characters, real calendar days only
    (T.DATE, Op.EQ, "2020-01-23", "2020-01-23T23:59:59.999Z", True),
    (T.DATE, Op.EQ, "2020-01-23", "2020-01-23", True),
    (T.DATE, Op.GT, "2020-01-24", "2020-02-30T00:00:00.000Z", False),
    (T.DATE, Op.LT, "2020-01-23", "2019-12-31T00:00:00Z", True),
    (T.DATE, Op.GTE, "2020-01-23", "2020-01-23T00:00:00Z", True),
    (T.DATE, Op.LTE, "2020-01-22", "2020-01-23", False),
    (T.DATE, Op.EQ, "2020-01-23", "2020-1-23", False),
    (T.DATE, Op.EQ, "2020-01-23", 20200123, False),
    # enum
    (T.ENUM, Op.EQ, "shipped", "shipped", True),
    (T.ENUM, Op.EQ, "shipped", "Shipped", False),
    (T.ENUM, Op.IN, ("new", "paid"), "paid", True),
    (T.ENUM, Op.IN, ("new", "paid"), ["paid"], False),
    # enumTags: set semantics
    (T.ENUM_TAGS, Op.HAS_ANY, ("gift",), ["gift", "vip"], True),
    (T.ENUM_TAGS, Op.HAS_ANY, ("gift",), ["GIFT"], False),
    (T.ENUM_TAGS, Op.HAS_ANY, ("gift",), "gift", False),
    (T.ENUM_TAGS, Op.HAS_ALL, ("a", "b"), ["b", "c", "a"], True),
    (T.ENUM_TAGS, Op.HAS_ALL, ("a", "b"), ["a"], False),
    (T.ENUM_TAGS, Op.HAS_EXACTLY, ("a", "b"), ["b", "a", "a"], True),
    (T.ENUM_TAGS, Op.HAS_EXACTLY, ("a", "b"), ["b", "a", "c"], False),
    (T.ENUM_TAGS, Op.HAS_EXACTLY, ("a",), ["a", {"x": 1}], False),
    # attachment: case-insensitive on the URL
    (T.ATTACHMENT, Op.CONTAINS, ".pdf", {"val": "https://x/2883.PDF", "type": "application/pdf"}, True),
    (T.ATTACHMENT, Op.CONTAINS, ".pdf", "https://x/a.pdf", False),
]


@pytest.mark.parametrize("ftype,op,value,stored,expected", ROWS)
def test_operator(ftype, op, value, stored, expected):
    node = Compare(Field("k", ftype), op, value)
    assert matches(node, stored) is expected
    assert matches(Not(node), stored) is (not expected)


POSITIVE = sorted({(r[0], r[1], r[2] if not isinstance(r[2], list) else tuple(r[2])) for r in ROWS}, key=repr)


@pytest.mark.parametrize("ftype,op,value", POSITIVE)
@pytest.mark.parametrize("stored", EMPTIES, ids=["not-set", "null", "empty-string", "empty-list"])
def test_positive_never_matches_not_set_or_empty(ftype, op, value, stored):
    node = Compare(Field("k", ftype), op, value)
    assert matches(node, stored) is False
    assert matches(Not(node), stored) is True  # negations keep NOT SET and EMPTY rows


@pytest.mark.parametrize(
    "stored,state",
    [
        (MISSING, State.NOT_SET),
        (None, State.EMPTY),
        ("", State.EMPTY),
        ([], State.EMPTY),
        ("x", State.HAS_VALUE),
        (0, State.HAS_VALUE),
        (False, State.HAS_VALUE),
        ({}, State.HAS_VALUE),
        ([None], State.HAS_VALUE),
        (" ", State.HAS_VALUE),
    ],
)
def test_three_states_partition(stored, state):
    got = [s for s in State if matches(FieldState(Field("k"), s), stored)]
    assert got == [state]


def test_schemaless_path_and_array_index():
    f = Field("k", T.JSON, ("b", "0"))
    assert compile_predicate(Compare(f, Op.EQ, "x"))(doc({"b": ["x", "y"]}))
    assert not compile_predicate(Compare(Field("k", T.JSON, ("b", "00")), Op.EQ, "x"))(doc({"b": ["x"]}))
    assert compile_predicate(FieldState(Field("k", T.JSON, ("b", "5")), State.NOT_SET))(doc({"b": ["x"]}))
    assert compile_predicate(Compare(Field("k", T.JSON, ("0",)), Op.EQ, "x"))(doc({"0": "x"}))
    assert not compile_predicate(Compare(Field("k", T.JSON, ("0",)), Op.EQ, "x"))(doc(["x"]) | {"data": {}})


STORED = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10, 10),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "a", "A", "2020-01-23", "2020-02-30", "ß", "x_y"]),
    st.lists(st.sampled_from(["a", "b", "gift"]), max_size=3),
    st.just(MISSING),
    st.fixed_dictionaries(
        {"val": st.integers(0, 10)}, optional={"currency": st.sampled_from(["USD", "EUR"])}
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(ROWS), STORED)
def test_positive_xor_negative(row, stored):
    ftype, op, value, _, _ = row
    node = Compare(Field("k", ftype), op, value)
    assert matches(node, stored) != matches(Not(node), stored)


def test_sort_groups_and_ties():
    docs = [
        doc(v, rid)
        for rid, v in [
            ("a", 3),
            ("b", MISSING),
            ("c", None),
            ("d", "x"),
            ("e", 1),
            ("f", True),
            ("g", 1.0),
            ("h", [1]),
            ("i", ""),
        ]
    ]
    asc = [d["id"] for d in sort_docs(docs, [SortKey(Field("k", T.NUMBER))])]
    # empties tie (id order), numbers, then wrong types: string < boolean < other
    assert asc == ["b", "c", "i", "e", "g", "a", "d", "f", "h"]
    desc = [d["id"] for d in sort_docs(docs, [SortKey(Field("k", T.NUMBER), True)])]
    assert desc == ["h", "f", "d", "a", "e", "g", "b", "c", "i"]


def test_sort_arrays_tie_with_arrays_objects_with_objects():
    """SPEC 8: wrong-typed arrays tie among themselves (so do objects), array < object; the default order
    (created_at desc, then id) breaks the ties, whatever the arrays or objects hold."""
    docs = [
        doc(v, rid)
        for rid, v in [
            ("o2", {"b": 1}),
            ("a2", [2]),
            ("o1", {"a": 9, "b": 0}),
            ("a1", ["z", 1]),
            ("o3", {}),
            ("a3", [[1]]),
            ("s", "x"),
        ]
    ]
    asc = [d["id"] for d in sort_docs(docs, [SortKey(Field("k", T.NUMBER))])]
    assert asc == ["s", "a1", "a2", "a3", "o1", "o2", "o3"]
    desc = [d["id"] for d in sort_docs(docs, [SortKey(Field("k", T.NUMBER), True)])]
    assert desc == ["o1", "o2", "o3", "a1", "a2", "a3", "s"]


def test_default_order_created_desc_then_id():
    docs = [
        dict(doc(1, rid), created_at=ts)
        for rid, ts in [
            ("b", "2021-01-01T00:00:00.000000Z"),
            ("a", "2021-01-01T00:00:00.000000Z"),
            ("c", "2022-01-01T00:00:00.000000Z"),
        ]
    ]
    assert [d["id"] for d in sort_docs(docs, [])] == ["c", "a", "b"]


def test_string_sort_is_code_point():
    docs = [doc(v, v) for v in ["b", "B", "é", "e", "Z", "🚀", "\uffff"]]
    got = [d["id"] for d in sort_docs(docs, [SortKey(Field("k", T.STRING))])]
    assert got == sorted(["b", "B", "é", "e", "Z", "🚀", "\uffff"])


def test_days_are_ascii_digits_only():
    """SPEC 1.4 YYYY-MM-DD means ASCII digits (every SQL engine and Mongo regex agree)."""
    from filterdsl.semantics.days import valid_day

    assert valid_day("2020-01-23") and not valid_day("２０２０-01-23") and not valid_day("٢٠٢٠-01-23")


@pytest.mark.parametrize("n", [5, 2000])
def test_many_constants_cells_or_globals(n):
    """Above memory._MAX_CELLS constants the predicate reads them as globals: same answers either way."""
    from filterdsl.ast import Or, Search
    from filterdsl.backends import memory

    f = Field("k", T.STRING)
    node = Or(tuple(Compare(f, Op.EQ, f"v{i}") for i in range(n)) + (Search((("zz", "yy"), ("q",)), (f,)),))
    assert (n > memory._MAX_CELLS) == (n == 2000)
    pred = compile_predicate(node)
    for stored, want in [
        (f"v{n - 1}", True),
        ("v0", True),
        (f"v{n}", False),
        (MISSING, False),
        ("", False),
        ("a zz q", True),
        ("a zz", False),
        ("YY Q", True),
    ]:
        assert pred(doc(stored)) is want, stored
    assert compile_predicate(Not(node))(doc(f"v{n}")) is True
