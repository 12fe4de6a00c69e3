"""Every sqlglot dialect: output parses back, or a clear ``not-expressible``; golden SQL; paramstyles."""

from __future__ import annotations

import json

import pytest
import sqlglot
from sqlglot import exp
from sqlglot.dialects import Dialects

from filterdsl import FilterError
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
from filterdsl.backends.sql import ColumnsLayout, JsonLayout, dialect_names, to_sql, to_sqlglot
from filterdsl.backends.sql.runners import sqlite_connect

T = FieldType
DIALECTS = [d.value for d in Dialects if d.value]
# compiling every dialect warns unverified-dialect for the parse-checked ones (asserted in
# test_sql_columnar.py::test_unverified_dialect_warning); not this file's subject
pytestmark = pytest.mark.filterwarnings("ignore::filterdsl.backends.sql.UnverifiedDialectWarning")
NOT_SQL = {"dax", "prql"}  # sqlglot dialects whose language is not SQL: always not-expressible

RECORD_LEVEL = Query(
    And(
        (
            IdIn(("a", "b")),
            Not(InTrash()),
            CreatedAt("2020-01-01T00:00:00.000000Z", None),
            Or((ModifiedSince("2021-01-01T00:00:00.000000Z"), Not(IdIn(("c",))))),
        )
    ),
    sort=(SortKey(RecordAttr("updated_at"), True),),
    skip=2,
    limit=5,
    database="main",
)
FIELD_LEVEL = [
    Query(Compare(Field("name", T.STRING), Op.CONTAINS, "50%_off"), database="main"),
    Query(
        Not(Compare(Field("n", T.NUMBER), Op.GTE, 5)),
        sort=(SortKey(Field("n", T.NUMBER), True),),
        database="main",
    ),
    Query(
        Compare(Field("d", T.DATE), Op.LT, "2020-01-23"), sort=(SortKey(Field("d", T.DATE)),), database="main"
    ),
    Query(Compare(Field("tags", T.ENUM_TAGS), Op.HAS_EXACTLY, ("a", "b")), database="main"),
    Query(Compare(Field("price", T.CURRENCY), Op.GT, Money(5, "USD")), database="main"),
    Query(
        Relation(Field("r", T.REF_MULTIPLE), "target", Compare(Field("tname", T.STRING), Op.EQ, "x")),
        database="main",
    ),
    Query(Search((("foo", "bar"), ("baz",)), None), database=None),
    Query(FieldState(Field("a", T.JSON, ("b", "0")), State.EMPTY), database=None),
]
COLUMNS = ColumnsLayout(
    columns={
        "main": {
            "name": "name",
            "n": "n",
            "d": "d_col",
            "tags": "tags",
            "price": {"column": "amount", "currency": "code"},
        }
    }
)


def test_every_dialect_is_listed():
    assert set(dialect_names()) == set(DIALECTS)


@pytest.mark.parametrize("dialect", DIALECTS)
def test_record_level_query_parses_back(dialect):
    if dialect in NOT_SQL:
        with pytest.raises(FilterError) as e:
            to_sql(RECORD_LEVEL, dialect)
        assert e.value.diagnostics[0].code == "not-expressible"
        return
    sql, params = to_sql(RECORD_LEVEL, dialect, paramstyle="native")
    assert sqlglot.parse_one(sql, read=dialect) is not None
    # MySQL binds ids twice (collation-equal for the index, then bytes): compare the distinct values
    assert sorted(set(params.values())) == sorted(
        ["a", "b", "c", "2020-01-01T00:00:00.000000Z", "2021-01-01T00:00:00.000000Z"]
    )


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("qi", range(len(FIELD_LEVEL)))
def test_field_level_parses_back_or_not_expressible(dialect, qi):
    query = FIELD_LEVEL[qi]
    try:
        sql, _ = to_sql(query, dialect, paramstyle="native")
    except FilterError as e:
        assert e.diagnostics[0].code == "not-expressible"
        assert dialect not in ("sqlite", "duckdb", "postgres", "mysql")
        assert dialect in e.diagnostics[0].message
        return
    assert sqlglot.parse_one(sql, read=dialect) is not None


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d not in NOT_SQL])
def test_columns_layout_compiles_for_every_sql_dialect(dialect):
    """The columns layout needs no JSON functions except for enumTags, so most dialects express it."""
    q = Query(
        And(
            (
                Compare(Field("name", T.STRING), Op.STARTS_WITH, "o'b"),
                Compare(Field("n", T.NUMBER), Op.LT, 3),
                Not(Compare(Field("price", T.CURRENCY), Op.EQ, Money(5, "EUR"))),
            )
        ),
        sort=(SortKey(Field("name", T.STRING)),),
        database="main",
    )
    sql, _ = to_sql(q, dialect, COLUMNS, paramstyle="native")
    assert sqlglot.parse_one(sql, read=dialect) is not None


def test_tsql_never_gets_ilike_or_like():
    q = Query(Compare(Field("name", T.STRING), Op.CONTAINS, "x"), database="main")
    sql, _ = to_sql(q, "tsql", COLUMNS, paramstyle="native")
    assert "LIKE" not in sql.upper()
    for d in ("sqlite", "duckdb", "postgres", "mysql"):
        s, _ = to_sql(FIELD_LEVEL[0], d)
        # PostgreSQL: LIKE only on a bound pattern (the needle is escaped with \, LIKE's default escape
        # character, when bound: pg_trgm serves it), never with an ESCAPE literal
        assert "LIKE" not in s.upper() or (
            d == "postgres"
            and "ESCAPE" not in s.upper()
            and s.upper().count("LIKE %S") == s.upper().count("LIKE")
        )


# ---------------------------------------------------------------- golden SQL (validate_all style)
GOLDEN_EQ = Query(Compare(Field("k'1", T.STRING), Op.EQ, "O'Brien"), database="main")
GOLDEN = {
    "sqlite": (
        'SELECT "id", "created_at", "updated_at", "removed_at", "data" FROM "main" WHERE JSON_TYPE("data", \'$."k\'\'1"\') = \'text\' AND JSON_EXTRACT("data", \'$."k\'\'1"\') = ? ORDER BY "created_at" DESC, "id"',
        ["O'Brien"],
    ),
    "duckdb": (
        'SELECT "id", "created_at", "updated_at", "removed_at", "data" FROM "main" WHERE JSON_TYPE("data", \'/k\'\'1\') = \'VARCHAR\' AND JSON_EXTRACT_STRING("data", \'/k\'\'1\') = ? ORDER BY "created_at" DESC, "id"',
        ["O'Brien"],
    ),
    "postgres": (
        'SELECT "id", "created_at", "updated_at", "removed_at", "data" FROM "main" WHERE "data" -> \'k\'\'1\' = CAST(%s AS JSONB) ORDER BY "created_at" DESC, "id" COLLATE "C"',
        ['"O\'Brien"'],
    ),
    "mysql": (
        "SELECT `id`, `created_at`, `updated_at`, `removed_at`, `data` FROM `main` WHERE CAST(COALESCE(JSON_VALUE(`data`, '$.\"k''1\"'), JSON_UNQUOTE(JSON_EXTRACT(`data`, '$.\"k''1\"'))) AS BINARY) = %s AND JSON_TYPE(JSON_EXTRACT(`data`, '$.\"k''1\"')) = 'STRING' ORDER BY `created_at` DESC, CAST(`id` AS BINARY)",
        ["O'Brien"],
    ),
}


@pytest.mark.parametrize("dialect", sorted(GOLDEN))
def test_golden_eq(dialect):
    assert to_sql(GOLDEN_EQ, dialect) == GOLDEN[dialect]


@pytest.mark.parametrize(
    ("dialect", "expected"),
    [
        (
            "bigquery",
            "SELECT `id`, `created_at`, `updated_at`, `removed_at`, `data` FROM `main` WHERE FALSE ORDER BY `created_at` DESC, `id` LIMIT 0",
        ),
        (
            "tsql",
            "SELECT TOP 0 [id], [created_at], [updated_at], [removed_at], [data] FROM [main] WHERE (1 = 0) ORDER BY [created_at] DESC, [id]",
        ),
        (
            "sqlite",
            'SELECT "id", "created_at", "updated_at", "removed_at", "data" FROM "main" WHERE FALSE ORDER BY "created_at" DESC, "id" LIMIT 0',
        ),
    ],
)
def test_golden_empty_in_and_limit_zero(dialect, expected):
    sql, params = to_sql(Query(IdIn(()), limit=0, database="main"), dialect)
    assert (sql, params) == (expected, {} if dialect not in ("sqlite",) else [])


# ---------------------------------------------------------------- paramstyles
@pytest.mark.parametrize(
    ("style", "mark", "kind"),
    [
        ("qmark", "?", list),
        ("numeric", ":1", list),
        ("named", ":p0", dict),
        ("format", "%s", list),
        ("pyformat", "%(p0)s", dict),
        ("dollar", "$1", list),
    ],
)
def test_paramstyles(style, mark, kind):
    sql, params = to_sql(GOLDEN_EQ, "postgres", paramstyle=style)
    assert mark in sql and isinstance(params, kind)
    assert list(params.values() if kind is dict else params) == ['"O\'Brien"']  # jsonb text


def test_pyformat_escapes_literal_percent_in_identifiers():
    layout = JsonLayout(tables={"main": "100%_table"})
    sql, params = to_sql(GOLDEN_EQ, "postgres", layout)
    assert '"100%%_table"' in sql and sql.count("%s") == 1
    sql, _ = to_sql(GOLDEN_EQ, "sqlite", layout)
    assert '"100%_table"' in sql


def test_bad_paramstyle_and_dialect():
    with pytest.raises(FilterError) as e:
        to_sql(GOLDEN_EQ, "sqlite", paramstyle="nope")
    assert e.value.diagnostics[0].code == "bad-paramstyle"
    with pytest.raises(FilterError) as e:
        to_sql(GOLDEN_EQ, "no-such-dialect")
    assert e.value.diagnostics[0].code == "unknown-dialect"


def test_identifiers_are_quoted():
    layout = JsonLayout(tables={"main": 'we"ird table'}, data='da"ta')
    sql, _ = to_sql(GOLDEN_EQ, "sqlite", layout)
    assert '"we""ird table"' in sql and '"da""ta"' in sql
    assert sqlglot.parse_one(sql.replace("?", "NULL"), read="sqlite") is not None


def test_inline_literals_execute_on_sqlite():
    """``inline=True`` renders values as escaped literals; the text runs and finds the row."""
    con = sqlite_connect()
    con.execute('CREATE TABLE "main" (id TEXT, created_at TEXT, updated_at TEXT, removed_at TEXT, data TEXT)')
    con.execute("INSERT INTO \"main\" VALUES ('a', '2021', NULL, NULL, ?)", ('{"k\'1": "O\'Brien"}',))
    sql = to_sqlglot(GOLDEN_EQ, "sqlite", inline=True).sql("sqlite")
    assert "'O''Brien'" in sql
    assert [r[0] for r in con.execute(sql)] == ["a"]


def test_values_never_in_sql_text():
    nasty = "x'); DROP TABLE main; --"
    for d in ("sqlite", "duckdb", "postgres", "mysql"):
        q = Query(
            And(
                (Compare(Field("k", T.STRING), Op.CONTAINS, nasty), IdIn((nasty,)), Search(((nasty,),), None))
            ),
            database="main",
        )
        sql, params = to_sql(q, d)
        assert "DROP" not in sql and nasty in params


# columns layout, NOT contains "50%" with limit 10: portable NOT, no LIKE, dialect placeholders
GOLDEN_COLUMNS_Q = Query(Not(Compare(Field("name", T.STRING), Op.CONTAINS, "50%")), limit=10, database="main")
GOLDEN_COLUMNS = {
    "tsql": "SELECT TOP 10 [id], [created_at], [updated_at], [removed_at], [name] FROM [main] WHERE CASE WHEN CHARINDEX(:p0, LOWER([name])) > 0 THEN 1 ELSE 0 END = 0 ORDER BY [created_at] DESC, [id]",
    "oracle": 'SELECT "id", "created_at", "updated_at", "removed_at", "name" FROM "main" WHERE CASE WHEN INSTR(LOWER("name"), :p0) > 0 THEN 1 ELSE 0 END = 0 ORDER BY "created_at" DESC, "id" FETCH FIRST 10 ROWS ONLY',
    "bigquery": "SELECT `id`, `created_at`, `updated_at`, `removed_at`, `name` FROM `main` WHERE NOT (COALESCE(INSTR(LOWER(`name`), @p0) > 0, FALSE)) ORDER BY `created_at` DESC, `id` LIMIT 10",
    "snowflake": 'SELECT "id", "created_at", "updated_at", "removed_at", "name" FROM "main" WHERE NOT (COALESCE(CHARINDEX(:p0, LOWER("name")) > 0, FALSE)) ORDER BY "created_at" DESC, "id" LIMIT 10',
    "trino": 'SELECT "id", "created_at", "updated_at", "removed_at", "name" FROM "main" WHERE NOT (COALESCE(STRPOS(LOWER("name"), :p0) > 0, FALSE)) ORDER BY "created_at" DESC, "id" LIMIT 10',
    # ClickHouse's LOWER folds ASCII only: lowerUTF8 (executed on chDB in test_sql_columnar.py)
    "clickhouse": 'SELECT "id", "created_at", "updated_at", "removed_at", "name" FROM "main" WHERE NOT (COALESCE(positionUTF8(lowerUTF8("name"), {p0: String}) > 0, FALSE)) ORDER BY "created_at" DESC, "id" LIMIT 10',
}


@pytest.mark.parametrize("dialect", sorted(GOLDEN_COLUMNS))
def test_golden_columns_not_contains(dialect):
    layout = ColumnsLayout(columns={"main": {"name": "name"}})
    assert to_sql(GOLDEN_COLUMNS_Q, dialect, layout) == (GOLDEN_COLUMNS[dialect], {"p0": "50%"})


def test_golden_spark_eq():
    sql, params = to_sql(GOLDEN_EQ, "spark")
    assert (
        sql
        == "SELECT `id`, `created_at`, `updated_at`, `removed_at`, `data` FROM `main` WHERE SCHEMA_OF_VARIANT(TRY_ELEMENT_AT(TRY_CAST(PARSE_JSON(`data`) AS MAP<STRING, VARIANT>), DECODE(UNHEX('6B2731'), 'UTF-8'))) = 'STRING' AND TRY_VARIANT_GET(TRY_ELEMENT_AT(TRY_CAST(PARSE_JSON(`data`) AS MAP<STRING, VARIANT>), DECODE(UNHEX('6B2731'), 'UTF-8')), '$', 'string') = :p0 ORDER BY `created_at` DESC, `id`"
    )
    assert params == {"p0": "O'Brien"}


def test_compiled_size_grows_linearly():
    """SQL text and params grow linearly with the number of conditions (deterministic, no timing)."""

    def size(n):
        pred = And(tuple(Compare(Field(f"f{i % 7}", T.STRING), Op.CONTAINS, f"v{i}") for i in range(n)))
        sql, params = to_sql(Query(pred, database="main"), "sqlite")
        return len(sql), len(params)

    (s1, p1), (s2, p2) = size(200), size(400)
    assert p2 == 2 * p1 and 1.9 < s2 / s1 < 2.1


HOSTILE = [
    "x' OR '1'='1",
    "x'); DROP TABLE main; --",
    "\\",
    "\\'",
    "/* c */",
    "-- c",
    "%",
    "_",
    "$.a[0]",
    '"',
    "’ ＇",
    "%s",
    "?",
    ":p0",
    "$1",
    "\x01",
    "line\nbreak",
    "${x}",
    "{p0: String}",
]


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb", "postgres", "mysql", "spark"])
def test_values_never_change_the_query_shape(dialect):
    """The same query with hostile values compiles to exactly the same SQL text; only params differ."""

    def build(v):
        f = Field("name", T.STRING)
        return Query(
            And(
                (
                    Compare(f, Op.EQ, v),
                    Not(Compare(f, Op.CONTAINS, v)),
                    Compare(f, Op.STARTS_WITH, v),
                    Compare(f, Op.ENDS_WITH, v),
                    Compare(Field("e", T.ENUM), Op.IN, (v, "b")),
                    Compare(Field("t", T.ENUM_TAGS), Op.HAS_ALL, (v, "b")),
                    IdIn((v, "b")),
                    Search(((v,),), None),
                    Compare(Field("a", T.JSON, ("b",)), Op.EQ, v),
                )
            ),
            database="main",
        )

    base_sql, base_params = to_sql(build("benign"), dialect)
    for v in HOSTILE:
        sql, params = to_sql(build(v), dialect)
        assert sql == base_sql, v
        assert (list(params.values()) if isinstance(params, dict) else params).count(v) >= 1


@pytest.mark.parametrize(
    ("engine", "style"),
    [
        ("sqlite", "qmark"),
        ("sqlite", "named"),
        ("sqlite", "numeric"),
        ("duckdb", "qmark"),
        ("duckdb", "dollar"),
        ("postgres", "format"),
        ("postgres", "pyformat"),
        ("mysql", "format"),
        ("mysql", "pyformat"),
    ],
)
def test_drivers_accept_their_paramstyles(engine, style):
    """Each driver executes the SQL in the paramstyles it documents, with a % in a table name."""
    from sql_engines import require

    from filterdsl.backends.sql import runners as sql_exec

    url = require(engine)
    docs = [
        {
            "id": "a",
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {"k'1": "O'Brien"},
        },
        {
            "id": "b",
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {"k'1": "o'brien"},
        },
    ]
    tables = {"main": "50%_main"}
    sql, params = to_sql(GOLDEN_EQ, engine, JsonLayout(tables=tables), paramstyle=style)
    if engine == "sqlite":
        with sql_exec._sqlite({"main": docs}, tables) as con:
            rows = con.execute(sql, params).fetchall()
    elif engine == "duckdb":
        with sql_exec._duckdb({"main": docs}, tables) as con:
            rows = con.execute(sql, params).fetchall()
    elif engine == "postgres":
        with sql_exec._postgres({"main": docs}, tables, url) as con, con.cursor() as cur:
            cur.execute(sql, params)
            rows = cur.fetchall()
    else:
        tables = {"main": f"50%_main_{style}_{__import__('os').getpid()}"}
        sql, params = to_sql(GOLDEN_EQ, engine, JsonLayout(tables=tables), paramstyle=style)
        with sql_exec._mysql({"main": docs}, tables, url) as con, con.cursor() as cur:
            cur.execute(sql, params)
            rows = list(cur.fetchall())
    assert [r[0] for r in rows] == ["a"]


HOSTILE_KEYS = [
    "a.b",
    "$dollar",
    "a[0]",
    "a..b",
    "k'q",
    "*",
    "$",
    "a b",
    "日本",
    "%",
    "_",
    "--c",
    "/*",
    "x;y",
    'k"q',
    "k\\b",
    "-x",
    "~0/1",
]


@pytest.mark.parametrize("dialect", ["sqlite", "duckdb", "postgres", "mysql", "spark"])
def test_keys_are_escaped_literals(dialect):
    """Field keys and path segments are SQL string literals (escaped by sqlglot), so an expression index
    on the same path matches; a key never becomes SQL syntax: the text parses back to one statement whose
    string literals hold the key, and no key travels as a parameter."""
    for key in HOSTILE_KEYS:
        f = Field(key, T.JSON, (key, "0"))
        q = Query(
            And((Compare(f, Op.EQ, "v"), FieldState(Field(key, T.STRING), State.EMPTY))), database="main"
        )
        sql, params = to_sql(q, dialect, paramstyle="native")
        trees = sqlglot.parse(sql, read=dialect)
        assert len(trees) == 1 and isinstance(trees[0], exp.Select), key
        literals = [lit.this for lit in trees[0].find_all(exp.Literal) if lit.is_string]
        literals += [str(k.this) for k in trees[0].find_all(exp.JSONPathKey)]  # PostgreSQL ``-> 'key'``
        # literals a session setting could misread are written in setting-proof forms: PostgreSQL
        # E'...' (ByteString), MariaDB _utf8mb4 X'...' (HexString), Spark decode(unhex('...'), 'UTF-8')
        literals += [b.this for b in trees[0].find_all(exp.ByteString)]
        literals += [bytes.fromhex(h.this).decode() for h in trees[0].find_all(exp.HexString)]
        literals += [
            bytes.fromhex(u.this).decode()
            for u in trees[0].find_all(exp.Literal)
            if u.is_string and isinstance(u.parent, exp.Unhex)
        ]
        spellings = (
            key,
            key.replace("~", "~0").replace("/", "~1"),
            json.dumps(key, ensure_ascii=False)[1:-1],
        )
        assert any(sp in lit for lit in literals for sp in spellings), key
        # PostgreSQL binds a JSON value as its JSON text (CAST($1 AS JSONB))
        assert list(params.values()) == ([json.dumps("v")] if dialect == "postgres" else ["v"]), key
