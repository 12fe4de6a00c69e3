"""Hypothesis strategies shared by every differential test: catalogs, trap-laden records, random ASTs.

``scenarios()`` draws a catalog (a main database plus a referenced one), canonical records for both
(missing keys, null, "", [], wrong types, LIKE and regex metacharacters, non-ASCII, huge and tiny
numbers, invalid dates, duplicate created_at) and a random Query over them. Every backend must return
exactly the ids the in-memory engine returns, in the same order.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

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
    RecordAttr,
    Relation,
    Search,
    SortKey,
    State,
)
from filterdsl.records import normalize_records
from filterdsl.schema import Catalog, load_catalog

T = FieldType

_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=6)
STRINGS = [
    "",
    "a",
    "A",
    "abc",
    "ABC",
    "a_b",
    "a%b",
    "100%",
    "_",
    "%",
    "\\",
    "a\\b",
    "'",
    "O'Brien",
    '"q"',
    "Straße",
    "STRASSE",
    "ÉCOLE",
    "école",
    "Zürich",
    "ZÜRICH",
    "σίσυφος",
    "ΣΊΣΥΦΟΣ",
    "İlker",
    "ilker",
    "a.b*c",
    "[x]",
    "(y)",
    "$^",
    "{2}",
    "x|y",
    "a,b",
    " pad ",
    "pad",
    "🚀rocket",
    "日本",
    "--",
    "/*c*/",
    "; DROP TABLE t",
    "\u00a0nbsp",
    "tab\there",
    "line\nbreak",
    "Ⅻ",
    "ǅ",
    # issue 26: İ (whose lowering is i + U+0307) and pieces of it, final sigma, non-ASCII digits
    "İ",
    "I",
    "i",
    "i\u0307",
    "\u0307",
    "xİy",
    "ς",
    "Σ",
    "ΟΔΟΣ",
    "οδος",
    "οδοσ",
    "ΑΣ ΒΣ",
    "٣٤",
    "１２３",
    "१२३",
]
#: filter numbers (SPEC 1.4: integers within 2^53, finite floats)
NUMBERS = [
    0,
    1,
    -1,
    5,
    5.0,
    -3,
    0.5,
    99.99,
    100,
    250,
    250.0,
    2**53,
    -(2**53),
    1e-300,
    1.5e300,
    123456789012,
    -0.0,
    1e308,
    -1e308,
    float(2**53),
]
#: stored integers past 2^53 within 64 bits (pairs whose doubles are equal: 2^53 and 2^53 + 1)
BIG_INTS = [2**53 + 1, 2**53 + 2, -(2**53) - 1, 2**63 - 1, -(2**63), -(2**63) + 1]
#: stored integers past signed 64 bits (and past unsigned: 2^64, 10^30)
HUGE_INTS = [2**63, 2**63 + 1, 2**64 - 1, 2**64, 2**64 + 1, 10**30, -(10**30), 123000000000000000000000000000]
#: stored floats: none of them has an integer between its value and its shortest decimal in the pools
#: above, where PostgreSQL diverges (docs/semantics.md section 9)
BIG_FLOATS = [1e308, -1e308, -0.0, 1e21, float(2**53)]
#: the near-ties a scenario drawing big numbers mostly draws from (2^53 and 2^53 + 1 ...)
BIG_POOLS = {
    "all": [2**53, -(2**53), 0, *BIG_INTS, *HUGE_INTS, *BIG_FLOATS],
    "int64": [2**53, -(2**53), 0, *BIG_INTS, *BIG_FLOATS],
}
#: which stored numbers scenarios() draws: "all", "int64" (no HUGE_INTS) or "small" (the filter pool)
NUMBER_POOLS = {
    "all": NUMBERS + BIG_INTS + HUGE_INTS + BIG_FLOATS,
    "int64": NUMBERS + BIG_INTS + BIG_FLOATS,
    "small": NUMBERS,
}
DATES = [
    "2020-01-23",
    "2020-01-23T00:00:00.000Z",
    "2020-01-23T23:59:59.999Z",
    "2020-01-24T00:00:00Z",
    "2020-02-30T00:00:00.000Z",
    "2019-12-31",
    "2021-01-01T10:00:00+05:00",
    "garbage",
    "2020-1-5",
    "0999-01-01",
    "9999-12-31",
]
TIMESTAMPS = [
    "2021-03-01T10:00:00.000000Z",
    "2021-03-01T10:00:00.000000Z",
    "2020-12-31T23:59:59.999000Z",
    "2021-01-01T00:00:00.000000Z",
    "2022-05-19T00:00:00.000000Z",
    "2019-01-01T00:00:00.000000Z",
]
TAGS = ["urgent", "gift", "vip", "VIP", "Gift", "ü", "a_b", "%"]
CURRENCIES = ["USD", "EUR", "usd"]
KEYS = ["name", "Name", "first name", "k'q", 'k"dq', "ünï", "a-b", "x_1", "n0", "a%b", "k\\b", "日本"]
WEIRD_KEYS = ["a.b", "$dollar", "a[0]", "a..b"]

COMMON: dict[FieldType, list[Any]] = {
    FieldType.STRING: ["Straße", "a_b", "ÉCOLE"],
    FieldType.TEXT_BLOCK: ["100%", "O'Brien", "σίσυφος"],
    FieldType.NUMBER: [5, 5.0, 0, -0.0, 2**53],
    FieldType.DATE: ["2020-01-23", "2020-01-23T23:59:59.999Z"],
    FieldType.CURRENCY: [{"val": 5, "currency": "USD"}, {"val": 5.0}],
    FieldType.ENUM: ["a", "A"],
}
MAIN_TYPES = [
    T.STRING,
    T.TEXT_BLOCK,
    T.NUMBER,
    T.BOOLEAN,
    T.DATE,
    T.CURRENCY,
    T.ATTACHMENT,
    T.ENUM,
    T.ENUM_TAGS,
    T.REF,
    T.REF_MULTIPLE,
]
SORTABLE = (T.STRING, T.TEXT_BLOCK, T.NUMBER, T.BOOLEAN, T.DATE, T.CURRENCY, T.ENUM, T.REF)


@dataclass(frozen=True)
class Scenario:
    catalog: Catalog
    database: str
    dataset: dict[str, list[dict[str, Any]]]
    query: Query

    def __repr__(self) -> str:  # hypothesis prints this on failure
        from filterdsl.ast import to_json

        return f"Scenario(query={to_json(self.query)!r}, dataset={self.dataset!r}, catalog={self.catalog.to_json()!r})"


def _catalog(keys: list[str]) -> Catalog:
    main = [
        {
            "_id": k,
            "name": f"F{i}",
            "type": t.value,
            "restrict": None,
            "database": "target" if t in (T.REF, T.REF_MULTIPLE) else None,
        }
        for i, (k, t) in enumerate(zip(keys, MAIN_TYPES))
    ]
    target = [
        {"_id": "tname", "name": "Name", "type": "string", "primary": True},
        {"_id": "tnum", "name": "Num", "type": "number"},
        {"_id": "tcat", "name": "Cat", "type": "enum"},
    ]
    return load_catalog(
        [
            {"_id": "main", "name": "Main", "fields": main},
            {"_id": "target", "name": "Target", "fields": target},
        ]
    )


def _good(t: FieldType, draw: Any, target_ids: list[str], numbers: str = "small") -> Any:
    if t in (T.STRING, T.TEXT_BLOCK, T.ENUM):
        return draw(st.sampled_from(STRINGS[1:]) | _TEXT)
    if t is T.NUMBER:
        if numbers != "small" and draw(st.integers(0, 3)) > 0:  # mostly the big ones: ties to find
            return draw(_pick(tuple(BIG_POOLS[numbers])))
        return draw(_pick(tuple(NUMBERS)) | st.integers(-1000, 1000))
    if t is T.BOOLEAN:
        return draw(st.booleans())
    if t is T.DATE:
        return draw(st.sampled_from(DATES))
    if t is T.CURRENCY:
        amount = draw(_pick(tuple(NUMBER_POOLS[numbers])))
        code = draw(st.sampled_from([*CURRENCIES, None]))
        return {"val": amount} if code is None else {"val": amount, "currency": code}
    if t is T.ATTACHMENT:
        return {
            "val": "https://x.test/"
            + draw(st.sampled_from(STRINGS[1:]))
            + draw(st.sampled_from([".pdf", ".PDF", ""])),
            "type": "application/pdf",
            "size": 10,
        }
    if t is T.ENUM_TAGS:
        return draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=3))
    if t is T.REF:
        return draw(st.sampled_from(target_ids))
    if t is T.REF_MULTIPLE:
        return draw(st.lists(st.sampled_from(target_ids), min_size=1, max_size=3))
    raise AssertionError(t)


WRONG = [None, "", [], "5", 5, 5.0, 0, 1, True, False, "true", ["x"], {"val": 1}, "2020-01-23", "abc"]


@st.composite
def _value(draw: Any, t: FieldType, target_ids: list[str], numbers: str = "small") -> Any:
    kind = draw(st.sampled_from(["missing", "good", "good", "good", "good", "wrong", "common"]))
    if kind == "common":  # a small shared pool so equality filters find matches
        return draw(st.sampled_from(COMMON.get(t, [None])))
    if kind == "missing":
        return _MISSING
    if kind == "wrong":
        return draw(st.sampled_from(WRONG))
    return _good(t, draw, target_ids, numbers)


_MISSING = object()


@st.composite
def _records(
    draw: Any,
    fields: list[tuple[str, FieldType]],
    target_ids: list[str],
    prefix: str,
    n: int,
    numbers: str = "small",
) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        data = {}
        for key, t in fields:
            v = draw(_value(t, target_ids, numbers))
            if v is not _MISSING:
                data[key] = v
        rows.append(
            {
                "id": f"{prefix}{i:02d}",
                "created_at": draw(st.sampled_from(TIMESTAMPS)),
                "updated_at": draw(st.sampled_from([None, None, *TIMESTAMPS])),
                "removed_at": draw(st.sampled_from([None, None, None, None, "2022-01-01T00:00:00Z"])),
                "data": data,
            }
        )
    return rows


def _filter_value(t: FieldType, op: Op, draw: Any) -> Any:
    if t in COMMON and op in (Op.EQ, Op.GTE, Op.LTE, Op.CONTAINS) and draw(st.booleans()):
        v = draw(st.sampled_from(COMMON[t]))
        return Money(v["val"], v.get("currency")) if t is T.CURRENCY else v
    if t in (T.STRING, T.TEXT_BLOCK, T.ATTACHMENT, T.ENUM) and op is not Op.IN:
        return draw(st.sampled_from(STRINGS) | _TEXT)
    if t is T.ENUM:
        return tuple(draw(st.lists(st.sampled_from(STRINGS[1:]), min_size=1, max_size=3)))
    if t is T.NUMBER:
        return draw(st.sampled_from(NUMBERS) | st.integers(-1000, 1000))
    if t is T.CURRENCY:
        return Money(draw(st.sampled_from(NUMBERS)), draw(st.sampled_from([None, *CURRENCIES])))
    if t is T.BOOLEAN:
        return draw(st.booleans())
    if t is T.DATE:
        return draw(st.sampled_from(["2020-01-23", "2020-01-24", "2019-12-31", "2021-01-01", "0999-01-01"]))
    if t is T.ENUM_TAGS:
        return tuple(draw(st.lists(st.sampled_from(TAGS), min_size=1, max_size=3)))
    raise AssertionError(t)


OPS = {
    T.STRING: [Op.EQ, Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH],
    T.TEXT_BLOCK: [Op.EQ, Op.CONTAINS, Op.STARTS_WITH, Op.ENDS_WITH],
    T.NUMBER: [Op.EQ, Op.GT, Op.GTE, Op.LT, Op.LTE],
    T.CURRENCY: [Op.EQ, Op.GT, Op.GTE, Op.LT, Op.LTE],
    T.BOOLEAN: [Op.EQ],
    T.DATE: [Op.EQ, Op.GT, Op.GTE, Op.LT, Op.LTE],
    T.ENUM: [Op.EQ, Op.IN],
    T.ENUM_TAGS: [Op.HAS_ANY, Op.HAS_ALL, Op.HAS_EXACTLY],
    T.ATTACHMENT: [Op.CONTAINS],
}


@st.composite
def _leaf(draw: Any, fields: list[tuple[str, FieldType]], allow_relation: bool) -> Node:
    key, t = draw(st.sampled_from(fields))
    f = Field(key, t)
    if t in (T.REF, T.REF_MULTIPLE):
        if allow_relation and draw(st.booleans()):
            inner = draw(_tree(TARGET_FIELDS, 2, False))
            return Relation(f, "target", inner)
        return FieldState(f, draw(st.sampled_from(list(State))))
    if draw(st.integers(0, 5)) == 0:
        return FieldState(f, draw(st.sampled_from(list(State))))
    op = draw(st.sampled_from(OPS[t]))
    return Compare(f, op, _filter_value(t, op, draw))


TARGET_FIELDS = [("tname", T.STRING), ("tnum", T.NUMBER), ("tcat", T.ENUM)]


@st.composite
def _tree(draw: Any, fields: list[tuple[str, FieldType]], depth: int, allow_relation: bool) -> Node:
    if depth <= 0 or draw(st.integers(0, 1)) == 0:
        node = draw(_leaf(fields, allow_relation))
    else:
        items = tuple(draw(st.lists(_tree(fields, depth - 1, allow_relation), min_size=2, max_size=3)))
        node = And(items) if draw(st.integers(0, 2)) == 0 else Or(items)
    return Not(node) if draw(st.integers(0, 2)) == 0 else node


@st.composite
def _record_level(draw: Any, ids: list[str], searchable: tuple[Field, ...]) -> Node:
    kind = draw(st.sampled_from(["in", "created", "modified", "search", "trash"]))
    if kind == "in":
        return IdIn(tuple(draw(st.lists(st.sampled_from(ids + ["nope"]), max_size=4))))
    if kind == "created":
        return CreatedAt(
            draw(st.sampled_from([None, *TIMESTAMPS])), draw(st.sampled_from([None, None, *TIMESTAMPS]))
        )
    if kind == "modified":
        return ModifiedSince(draw(st.sampled_from(TIMESTAMPS)))
    if kind == "search":
        terms = st.lists(st.sampled_from([s for s in STRINGS if s.strip()] + TAGS), min_size=1, max_size=2)
        clauses = tuple(tuple(c) for c in draw(st.lists(terms, min_size=1, max_size=2)))
        return Search(clauses, searchable)
    return InTrash()


@st.composite
def scenarios(draw: Any, weird_keys: bool = False, max_records: int = 12, numbers: str = "all") -> Scenario:
    """``numbers``: the stored numbers drawn (NUMBER_POOLS): "all" reaches integers past 2^53 and past
    64 bits, 1e308 and -0.0 (issue 26), which some engines refuse (docs/semantics.md section 9); one
    scenario in three draws from it, the others from the filter pool (so engines that refuse the big
    numbers still compare the rest)."""
    if numbers != "small" and draw(st.integers(0, 2)) > 0:
        numbers = "small"
    pool = KEYS + (WEIRD_KEYS if weird_keys else [])
    keys = draw(
        st.lists(st.sampled_from(pool), min_size=len(MAIN_TYPES), max_size=len(MAIN_TYPES), unique=True)
    )
    catalog = _catalog(keys)
    fields = list(zip(keys, MAIN_TYPES))
    target_ids = [f"t{i}" for i in range(4)] + ["dangling"]
    target_rows = draw(_records(TARGET_FIELDS, [], "t", 4, numbers))
    n = draw(st.integers(2, max_records))
    main_rows = draw(_records(fields, target_ids, "m", n, numbers))
    dataset = {
        "main": normalize_records(main_rows, catalog.get("main")),
        "target": normalize_records(target_rows, catalog.get("target")),
    }
    pred = draw(_tree(fields, 2, True))
    searchable = catalog.get("main").searchable()  # type: ignore[union-attr]
    extras = draw(st.lists(_record_level([r["id"] for r in main_rows], searchable), max_size=1))
    trash = draw(st.sampled_from([Not(InTrash()), None, None]))
    parts = [pred, *extras] + ([trash] if trash is not None else [])
    predicate = And(tuple(parts)) if len(parts) > 1 else parts[0]
    sortable = [(k, t) for k, t in fields if t in SORTABLE]
    sort_keys = draw(st.lists(st.sampled_from(sortable), max_size=2, unique=True))
    sort = tuple(SortKey(Field(k, t), draw(st.booleans())) for k, t in sort_keys)
    if draw(st.integers(0, 4)) == 0:
        sort += (
            SortKey(
                RecordAttr(draw(st.sampled_from(["id", "created_at", "updated_at"]))), draw(st.booleans())
            ),
        )
    limit = draw(st.sampled_from([None, None, None, None, 0, 3, 100]))
    skip = draw(st.sampled_from([0, 0, 0, 1, 2]))
    query = Query(predicate, sort, skip, limit, None, "main")
    return Scenario(catalog, "main", dataset, query)


# ---------------------------------------------------------------- PixieBrix query strings
PB_PATH_KEYS = ["a", "b", "0", "first name", "-x"]
PB_STAMPS = ["2021-01-01T10:00:00.000000Z", "2021-01-02T00:00:00.000000Z", "2020-12-31T23:59:59.999999Z"]


@st.composite
def pixiebrix_cases(
    draw: Any,
    keys: list[str],
    scalars: list[Any],
    lookups: list[str],
    values: list[str],
    nested_under: tuple[str, ...] | None = None,
) -> tuple[str, dict[None, list[dict[str, Any]]]]:
    """A PixieBrix query string (data__ paths, extended lookups, ordering, paging, start_date) and
    schemaless records. Each backend passes the pools it verifies; ``nested_under`` limits which keys a
    two-segment filter path may start with (None: any)."""
    sc = st.sampled_from(scalars)
    json_values = st.one_of(
        sc,
        sc,
        sc,
        st.lists(sc, max_size=3),
        st.dictionaries(st.sampled_from(PB_PATH_KEYS), sc, min_size=1, max_size=3),
    )
    docs = [
        {
            "id": f"r{i}",
            "created_at": draw(st.sampled_from(PB_STAMPS)),
            "updated_at": None,
            "removed_at": None,
            "data": draw(st.dictionaries(st.sampled_from(keys), json_values, min_size=2, max_size=5)),
        }
        for i in range(draw(st.integers(2, 8)))
    ]
    paths = st.lists(st.sampled_from(PB_PATH_KEYS), min_size=1, max_size=2)
    params = []
    for _ in range(draw(st.integers(1, 2))):
        segs = draw(paths.filter(lambda p: nested_under is None or len(p) == 1 or p[0] in nested_under))
        lookup = draw(st.sampled_from(lookups))
        value = (
            draw(st.sampled_from(["true", "false"]))
            if lookup == "__isnull"
            else draw(st.sampled_from(values))
        )
        params.append(f"data__{'__'.join(quote(k) for k in segs)}{lookup}={quote(value)}")
    if draw(st.booleans()):
        path = "__".join(quote(k) for k in draw(paths))
        params.append("ordering=" + draw(st.sampled_from(["", "-"])) + "data__" + path + ",id")
    if draw(st.booleans()):
        params.append("start_date=2021-01-01")
    if draw(st.booleans()):
        params.append(f"page_size={draw(st.integers(1, 3))}&page={draw(st.integers(1, 2))}")
    return "&".join(params), {None: docs}


# ---------------------------------------------------------------- deep relations (issue 16)
#: Keys a dotted Mongo path cannot name, keys with '=', spaces, non-ASCII and astral characters.
DEEP_KEYS = [
    "a.b",
    "$x",
    "first name",
    "k=v",
    "user email=david@pixiebrix.com",
    "ünï",
    "日本",
    "𝔘𝔫𝔦",
    "🚀",
    ".lead",
    "trail.",
    "$",
    "x$y",
    "Name",
    "name",
    "n0",
]
#: Keys a dotted Mongo path can name (mongomock runs them): spaces, '=', quotes, non-ASCII, astral.
DOTTED_DEEP_KEYS = [k for k in DEEP_KEYS if k != "" and "." not in k and not k.startswith("$")] + [
    "k'q",
    "a-b",
]
#: Strings for the deep generators: astral letters with case (𐐀/𐐨), mixed case, metacharacters. No code
#: point between U+D800 and U+FFFF, so UTF-16 order (mingo, SPEC 8) equals code-point order here.
DEEP_STRINGS = [
    "michael",
    "Michael",
    "MICHAEL",
    "𐐀Deseret",
    "𐐨deseret",
    "𝔘nicode",
    "😀 smile",
    "Software",
    "software",
    "a.b",
    "$x",
    "k=v",
    " ",
    "Straße",
    "ΣΊΣΥΦΟΣ",
    "ǅ",
    "İlker",
    "100%",
    "x|y",
    "İ",
    "i",
    "ς",
    "Σ",
    "ΑΣ",
    "٣",
]
_DEEP_CHARS = st.one_of(
    st.characters(max_codepoint=0xD7FF, blacklist_categories=("Cs",), blacklist_characters="\x00"),
    st.characters(min_codepoint=0x10000, blacklist_categories=("Cs", "Cn")),
)
DEEP_TEXT = st.text(alphabet=_DEEP_CHARS, max_size=5)
#: Wrong-typed values, objects, arrays and {} for any field.
DEEP_WRONG = [
    None,
    "",
    [],
    {},
    {"a": 1},
    {"val": "x"},
    {"k.v": 1},
    [{}],
    [[]],
    [None],
    ["x", 1],
    "5",
    5,
    0.5,
    True,
    False,
    "2020-01-23",
]
DEEP_DBS = ["d0", "d1", "d2", "d3"]
# Strategies built once (hypothesis validates each new strategy object on first draw: rebuilt per draw,
# that was a third of the generation time).
_DEEP_STR = st.sampled_from(DEEP_STRINGS) | DEEP_TEXT
_DEEP_WRONG = st.sampled_from(DEEP_WRONG)
_DEEP_KIND = st.sampled_from(["missing", "good", "good", "good", "wrong"])
_DEEP_CREATED = st.sampled_from(TIMESTAMPS[:4])
_DEEP_REMOVED = st.sampled_from([None, None, None, "2022-01-01T00:00:00Z"])


@functools.cache
def _pick(options: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    return st.sampled_from(options)


#: Field types of each database of a deep catalog: d0 has them all, the others a subset with both refs.
DEEP_TYPES = {
    "d0": [T.STRING, T.NUMBER, T.ENUM, T.ENUM_TAGS, T.BOOLEAN, T.DATE, T.CURRENCY, T.REF, T.REF_MULTIPLE],
    "d1": [T.STRING, T.NUMBER, T.ENUM_TAGS, T.REF, T.REF_MULTIPLE],
    "d2": [T.STRING, T.NUMBER, T.REF, T.REF_MULTIPLE],
    "d3": [T.STRING, T.NUMBER, T.REF],
}


@dataclass(frozen=True)
class DeepBatch:
    """One catalog and dataset (four databases) and several queries on d0; many queries per dataset so
    an engine that runs in a subprocess (mingo) runs them in one process."""

    catalog: Catalog
    dataset: dict[str, list[dict[str, Any]]]
    queries: tuple[Query, ...]
    fields: dict[str, list[tuple[str, FieldType, str | None]]]

    def scenario(self, i: int) -> Scenario:
        return Scenario(self.catalog, "d0", self.dataset, self.queries[i])

    def __repr__(self) -> str:
        from filterdsl.ast import to_json

        return (
            f"DeepBatch(queries={[to_json(q) for q in self.queries]!r}, dataset={self.dataset!r}, "
            f"catalog={self.catalog.to_json()!r})"
        )


@st.composite
def _deep_catalog(
    draw: Any, weird: bool
) -> tuple[Catalog, dict[str, list[tuple[str, FieldType, str | None]]]]:
    pool = DEEP_KEYS if weird else DOTTED_DEEP_KEYS
    fields: dict[str, list[tuple[str, FieldType, str | None]]] = {}
    for i, db in enumerate(DEEP_DBS):
        types = DEEP_TYPES[db]
        keys = draw(st.lists(st.sampled_from(pool), min_size=len(types), max_size=len(types), unique=True))
        out = []
        for k, t in zip(keys, types):
            target = None
            if t is T.REF:  # the next database, itself (Clients -> Parent), or back up (a cycle)
                target = draw(st.sampled_from([DEEP_DBS[min(i + 1, 3)], db, "d1"]))
            elif t is T.REF_MULTIPLE:
                target = draw(st.sampled_from([DEEP_DBS[min(i + 1, 3)], DEEP_DBS[min(i + 2, 3)]]))
            out.append((k, t, target))
        fields[db] = out
    raw = [
        {
            "_id": db,
            "name": db.upper(),
            "fields": [
                {
                    "_id": k,
                    "name": f"{db}F{j}",
                    "type": t.value,
                    "restrict": None,
                    "database": target,
                    "primary": j == 0,
                }
                for j, (k, t, target) in enumerate(fs)
            ],
        }
        for db, fs in fields.items()
    ]
    return load_catalog(raw), fields


@functools.cache
def _id_lists(ids: tuple[str, ...]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(ids), min_size=1, max_size=3)


def _deep_good(t: FieldType, draw: Any, ids: list[str]) -> Any:
    if t is T.STRING or t is T.ENUM:
        return draw(_DEEP_STR)
    if t is T.REF:
        return draw(_pick(tuple(ids)))
    if t is T.REF_MULTIPLE:
        return draw(_id_lists(tuple(ids)))
    return _good(t, draw, ids)


@st.composite
def _deep_rows(
    draw: Any, db: str, fields: list[tuple[str, FieldType, str | None]], ids: dict[str, list[str]]
) -> list[dict[str, Any]]:
    rows = []
    for rid in ids[db]:
        data: dict[str, Any] = {}
        for key, t, target in fields:
            kind = draw(_DEEP_KIND)
            if kind == "missing":
                continue
            # a dangling id (matches no row) is a good-looking value that references nothing
            targets = [*ids[target], "gone"] if target else []
            data[key] = draw(_DEEP_WRONG) if kind == "wrong" else _deep_good(t, draw, targets)
        rows.append(
            {
                "id": rid,
                "created_at": draw(_DEEP_CREATED),
                "updated_at": None,
                "removed_at": draw(_DEEP_REMOVED),
                "data": data,
            }
        )
    return rows


def _deep_filter_value(t: FieldType, op: Op, draw: Any) -> Any:
    if t in (T.STRING, T.ENUM) and op is not Op.IN:
        return draw(_DEEP_STR)
    if t is T.ENUM:
        return tuple(draw(st.lists(st.sampled_from(DEEP_STRINGS), min_size=1, max_size=3)))
    return _filter_value(t, op, draw)


@st.composite
def deep_predicates(
    draw: Any, fields: dict[str, list[tuple[str, FieldType, str | None]]], db: str, depth: int, relations: int
) -> Node:
    """A predicate on ``db``: and/or/not over compares (negative operators are Not(compare)), states,
    relations through ref and refMultiple nested up to ``relations`` levels, and include flags
    (``Or(relation, FieldState(ref, state))``, what a Pitchly ``include`` compiles to)."""
    if depth > 0 and draw(st.integers(0, 2)) == 0:
        items = tuple(
            draw(st.lists(deep_predicates(fields, db, depth - 1, relations), min_size=2, max_size=3))
        )
        node: Node = And(items) if draw(st.booleans()) else Or(items)
    else:
        refs = [x for x in fields[db] if x[2] is not None]
        pool = refs if relations > 0 and refs and draw(st.booleans()) else fields[db]
        key, t, target = draw(st.sampled_from(pool))
        f = Field(key, t)
        if target is not None:
            if relations > 0 and draw(st.integers(0, 3)) > 0:
                inner = draw(deep_predicates(fields, target, 1, relations - 1))
                node = Relation(f, target, inner)
                flags = draw(st.lists(st.sampled_from(list(State)), max_size=2, unique=True))
                if flags:
                    node = Or((node, *(FieldState(f, s) for s in flags)))
            else:
                node = FieldState(f, draw(st.sampled_from(list(State))))
        elif draw(st.integers(0, 5)) == 0:
            node = FieldState(f, draw(st.sampled_from(list(State))))
        else:
            op = draw(st.sampled_from(OPS[t] + ([Op.IN] if t is T.ENUM else [])))
            node = Compare(f, op, _deep_filter_value(t, op, draw))
    return Not(node) if draw(st.integers(0, 2)) == 0 else node


@st.composite
def deep_batches(draw: Any, queries: int = 6, weird_keys: bool = True, max_rows: int = 6) -> DeepBatch:
    """Catalogs of four databases whose refs chain d0 -> d1 -> d2 -> d3 (with self references and cycles),
    rows with dangling ids, trashed targets, objects/arrays/{} in any field, keys with '.', '$', spaces, '='
    and non-ASCII/astral characters, and ``queries`` queries on d0 with relations 1 to 3 levels deep."""
    catalog, fields = draw(_deep_catalog(weird_keys))
    ids = {db: [f"{db}r{i}" for i in range(draw(st.integers(2, max_rows)))] for db in DEEP_DBS}
    dataset = {
        db: normalize_records(draw(_deep_rows(db, fields[db], ids)), catalog.get(db)) for db in DEEP_DBS
    }
    out = []
    for _ in range(queries):
        pred = draw(deep_predicates(fields, "d0", 2, draw(st.integers(1, 3))))
        extra: list[Node] = []
        if draw(st.integers(0, 3)) == 0:
            terms = st.lists(st.sampled_from([s for s in DEEP_STRINGS if s.strip()]), min_size=1, max_size=2)
            schema = draw(st.booleans())
            searchable = catalog.get("d0").searchable() if schema else None  # type: ignore[union-attr]
            extra.append(
                Search(tuple(tuple(c) for c in draw(st.lists(terms, min_size=1, max_size=2))), searchable)
            )
        if draw(st.booleans()):
            extra.append(Not(InTrash()))
        predicate = And((pred, *extra)) if extra else pred
        sortable = [(k, t) for k, t, _ in fields["d0"] if t in SORTABLE]
        sort = tuple(
            SortKey(Field(k, t), draw(st.booleans()))
            for k, t in draw(st.lists(st.sampled_from(sortable), max_size=2, unique=True))
        )
        limit = draw(st.sampled_from([None, None, None, 2, 100]))
        skip = draw(st.sampled_from([0, 0, 1]))
        out.append(Query(predicate, sort, skip, limit, None, "d0"))
    return DeepBatch(catalog, dataset, tuple(out), fields)


@st.composite
def deep_scenarios(draw: Any, weird_keys: bool = True) -> Scenario:
    """One query of ``deep_batches`` as a Scenario (for per-query engines)."""
    return draw(deep_batches(queries=1, weird_keys=weird_keys)).scenario(0)
