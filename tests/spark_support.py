"""Shared helpers for the Spark integration tests: sessions (classic and Spark Connect), the corpus as
DataFrames in both layouts, and the checks every session kind runs (tests/test_integration_spark*.py).

Sessions: one per test module. A local Spark Connect session (``remote("local")``) switches pyspark
into Connect mode for the whole process through environment variables, so its fixture restores them
when it stops, and later modules get classic sessions again.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from filterdsl import FilterError, load_catalog, parse
from filterdsl.ast import Compare, Field, FieldType, Not, Op, Query, SortKey
from filterdsl.backends.memory import run
from filterdsl.backends.sql import ColumnsLayout
from filterdsl.backends.sql.columnar_runners import _Tables
from filterdsl.integrations.spark import apply, where
from filterdsl.records import normalize_dataset

from conftest import CASES, CORPUS, need
from strategies import DeepBatch, deep_batches

CATALOG = load_catalog(CORPUS / "catalog.json")
GOOD = [c for c in CASES if not isinstance(c["expect"], dict)]
T = FieldType
_ENV = ("SPARK_CONNECT_MODE_ENABLED", "SPARK_LOCAL_REMOTE", "SPARK_REMOTE")


def require_pyspark() -> None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        need(False, "pyspark is not installed (pip install -e '.[test]')")


def require_spark() -> None:
    """Skip without pyspark or Java (fail when CI=true)."""
    require_pyspark()
    need(
        shutil.which("java") is not None or bool(os.environ.get("JAVA_HOME")),
        "Java (17 or later) is not installed: Spark needs it",
    )


def require_connect() -> None:
    require_spark()
    try:
        import grpc  # noqa: F401
        import pyarrow  # noqa: F401
        import zstandard  # noqa: F401
        from google.rpc import status_pb2  # noqa: F401
    except ImportError as e:
        need(False, f"pyspark's Spark Connect client needs {e.name} (pip install -e '.[test]')")


def _builder(remote: bool) -> Any:
    from pyspark.sql import SparkSession

    b = SparkSession.builder.appName("filterdsl-tests").config("spark.sql.shuffle.partitions", "1")
    if remote:  # the server's own settings (UI, console progress) cannot be set by a client
        return b.remote("local[1]")
    return (
        b.master("local[1]")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )


def classic_session() -> Iterator[Any]:
    require_spark()
    s = _builder(False).getOrCreate()
    s.sparkContext.setLogLevel("ERROR")
    try:
        yield s
    finally:
        s.stop()


def connect_session() -> Iterator[Any]:
    require_connect()
    saved = {k: os.environ.get(k) for k in _ENV}
    s = _builder(True).getOrCreate()
    try:
        yield s
    finally:
        s.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def is_connect(spark: Any) -> bool:
    return type(spark).__module__.startswith("pyspark.sql.connect")


# ---------------------------------------------------------------- datasets as DataFrames
_JSON_COLS = "id STRING, created_at STRING, updated_at STRING, removed_at STRING, data STRING"


def json_frames(spark: Any, dataset: dict[Any, list[dict[str, Any]]]) -> dict[Any, Any]:
    """The JSON document layout: ``data`` as JSON text (what a JSON-lines file read as text gives)."""
    out = {}
    for db, docs in dataset.items():
        rows = [
            (
                d["id"],
                d["created_at"],
                d.get("updated_at"),
                d.get("removed_at"),
                json.dumps(d["data"], ensure_ascii=False),
            )
            for d in docs
        ]
        out[db] = spark.createDataFrame(rows, _JSON_COLS)
    return out


def _spark_type(t: FieldType | None) -> str:
    if t in (T.NUMBER, T.CURRENCY):
        return "DOUBLE"
    if t is T.BOOLEAN:
        return "BOOLEAN"
    if t in (T.ENUM_TAGS, T.REF_MULTIPLE):
        return "ARRAY<STRING>"
    return "STRING"


def column_frames(spark: Any, tables: _Tables) -> dict[Any, Any]:
    """The columns layout as a Spark user has it: typed columns (DOUBLE numbers, BOOLEAN, ARRAY<STRING>
    tags and ref lists), NULL for NOT SET and EMPTY, from the columnar loader's rows."""
    out = {}
    for db in tables.names:
        cols = list(tables.columns(db))
        schema = ", ".join(f"`{c}` {_spark_type(t)}" for c, t in cols)
        rows = [
            tuple(
                float(v) if t in (T.NUMBER, T.CURRENCY) and v is not None else v for (c, t), v in zip(cols, r)
            )
            for r in tables.rows[db]
        ]
        out[db] = spark.createDataFrame(rows, schema)
    return out


def case_dataset(case: dict[str, Any]) -> tuple[str, Any, Any]:
    if case["format"] == "pixiebrix" or (case["format"] == "search" and case.get("database") is None):
        raw = json.loads((CORPUS / "pixiebrix_records.json").read_text())
        return "pixiebrix", normalize_dataset(raw), None
    raw = json.loads((CORPUS / "records.json").read_text())
    return (
        "records",
        normalize_dataset(raw if isinstance(raw, dict) else {case["database"]: raw}, CATALOG),
        CATALOG,
    )


def main_of(query: Query, dataset: dict[Any, Any]) -> Any:
    from filterdsl.backends.sql.runners import _resolve

    return _resolve(query, dataset)


def ids(df: Any) -> list[str]:
    return [r["id"] for r in df.collect()]


# ---------------------------------------------------------------- the checks each session kind runs
class Corpus:
    """The corpus datasets as DataFrames, built once per session."""

    def __init__(self, spark: Any):
        self.spark = spark
        self._json: dict[str, dict[Any, Any]] = {}
        self._cols: dict[str, tuple[_Tables, dict[Any, Any]]] = {}

    def json(self, name: str, dataset: Any) -> dict[Any, Any]:
        if name not in self._json:
            self._json[name] = json_frames(self.spark, dataset)
        return self._json[name]

    def columns(self, name: str, dataset: Any, catalog: Any) -> tuple[_Tables, dict[Any, Any]]:
        if name not in self._cols:
            # every value the columns hold; a value of the wrong type is NULL here (a query reading
            # that field is refused, below, as the columnar engines refuse it)
            t = _Tables("spark", Query(), dataset, catalog)
            self._cols[name] = (t, column_frames(self.spark, t))
        return self._cols[name]


def check_corpus_json(corpus: Corpus, case: dict[str, Any]) -> None:
    name, dataset, catalog = case_dataset(case)
    query = parse(case["input"], case["format"], catalog, case.get("database"))
    expected = [r["id"] for r in run(query, dataset, catalog)]
    assert expected == case["expect"]
    frames = corpus.json(name, dataset)
    main = main_of(query, dataset)
    q = Query(query.predicate, query.sort, query.skip, query.limit, None, main)
    related = {db: f for db, f in frames.items() if db != main}
    got = ids(apply(frames[main], q, catalog=catalog, related=related))
    assert got == expected
    # where: the same records as a set, without the query's paging
    unpaged = Query(query.predicate, (), 0, None, None, main)
    assert sorted(ids(where(frames[main], q, related=related))) == sorted(
        r["id"] for r in run(unpaged, dataset, catalog)
    )


def check_corpus_columns(corpus: Corpus, case: dict[str, Any]) -> bool:
    """True when executed; False when the columns layout refuses the case (reason checked)."""
    name, dataset, catalog = case_dataset(case)
    query = parse(case["input"], case["format"], catalog, case.get("database"))
    main = main_of(query, dataset)
    q = Query(query.predicate, query.sort, query.skip, query.limit, None, main)
    try:
        _Tables("spark", q, dataset, catalog)  # refuses a query reading a value no column holds
        tables, frames = corpus.columns(name, dataset, catalog)
        layout = ColumnsLayout(columns=tables.layout.columns)
        related = {db: f for db, f in frames.items() if db != main}
        got = ids(apply(frames[main], q, layout=layout, related=related))
    except FilterError as e:
        code = e.diagnostics[0].code
        assert code in ("layout-ambiguous", "not-expressible"), e.diagnostics[0].message
        if code == "not-expressible":
            msg = e.diagnostics[0].message
            assert "needs a schema" in msg or "cannot hold the value" in msg or "schemaless search" in msg, (
                msg
            )
        return False
    assert got == [r["id"] for r in run(query, dataset, catalog)] == case["expect"]
    return True


def check_differential(spark: Any, max_examples: int) -> None:
    """deep_batches: four databases, relations 1-3 levels deep (ref, refMultiple, cycles, dangling
    ids), sorts, skip/limit, weird keys; the six queries of a batch share its DataFrames."""

    @settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(deep_batches(queries=6))
    def prop(batch: DeepBatch) -> None:
        frames = json_frames(spark, batch.dataset)
        for q in batch.queries:
            expected = [r["id"] for r in run(q, batch.dataset, batch.catalog)]
            related = {db: f for db, f in frames.items() if db != q.database}
            got = ids(apply(frames[q.database], q, catalog=batch.catalog, related=related))
            assert got == expected, q

    prop()


def plan(df: Any) -> str:
    """The formatted physical plan (``explain`` prints it, on both session kinds)."""
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        df.explain(mode="formatted")
    return buf.getvalue()


def pushed_filters(df: Any) -> str:
    """The Parquet scan's ``PushedFilters`` line of the plan."""
    lines = [ln.strip() for ln in plan(df).splitlines() if ln.strip().startswith("PushedFilters")]
    assert len(lines) == 1, plan(df)
    return lines[0]


_NEG_ROWS = [  # (paid, status, amount, name): every NULL / value combination the negations tell apart
    (True, "paid", 5.0, "x"),
    (False, "new", 7.5, "y"),
    (None, None, None, None),
    (True, "shipped", -1.0, ""),
    (False, "paid", 5.0, "X"),
    (None, "new", 9.0, "x"),
]


def check_negations_pushed(spark: Any, directory: str) -> None:
    """Columns layout on a Parquet file: the negation of a comparison reaches the scan's PushedFilters
    (``NOT (c <=> v)``, ``c IS NULL OR NOT (c IN ...)``, what a person writes as
    ``~F.col(c).eqNullSafe(v)``), not ``NOT COALESCE(c = v, FALSE)`` which Catalyst cannot push; and it
    answers what the memory engine answers, NULL columns included (NOT SET and EMPTY store NULL).
    ``where`` plans no sort: its rows are a set, and a global ORDER BY would shuffle every match."""
    from filterdsl.integrations.spark import where

    docs = [
        {
            "id": f"r{i}",
            "created_at": f"2021-01-0{i + 1}T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {k: v for k, v in zip(("paid", "status", "amount", "name"), row) if v is not None},
        }
        for i, row in enumerate(_NEG_ROWS)
    ]
    spark.createDataFrame(
        [(d["id"], d["created_at"], d["removed_at"], *row) for d, row in zip(docs, _NEG_ROWS)],
        "id STRING, created_at STRING, removed_at STRING, paid BOOLEAN, status STRING, amount DOUBLE, "
        "name STRING",
    ).write.parquet(directory)
    df = spark.read.parquet(directory)
    layout = {k: k for k in ("paid", "status", "amount", "name")}
    cases = [
        Compare(Field("paid", T.BOOLEAN), Op.EQ, True),
        Compare(Field("paid", T.BOOLEAN), Op.EQ, False),
        Compare(Field("status", T.ENUM), Op.IN, ("paid", "shipped")),
        Compare(Field("status", T.ENUM), Op.EQ, "new"),
        Compare(Field("amount", T.NUMBER), Op.EQ, 5),
        Compare(Field("amount", T.NUMBER), Op.GT, 5),
        Compare(Field("amount", T.NUMBER), Op.LTE, 5),
        Compare(Field("name", T.STRING), Op.EQ, "x"),
    ]
    for node in cases:
        q = Query(Not(node), database="db")
        got = where(df, q, layout=layout)
        line = pushed_filters(got)
        assert re.search(rf"\b{node.field.key}\b", line), (node, line)
        tree = plan(got).split("== Physical Plan ==", 1)[1].strip().split("\n\n", 1)[0]
        assert "Sort" not in tree and "Exchange" not in tree, tree  # where: a set, no global sort
        assert sorted(ids(got)) == sorted(r["id"] for r in run(q, {"db": docs})), node


def check_sort_keys_projected(spark: Any) -> None:
    """JSON layout: the SPEC 8 sort keys are computed once per row in a projection under the sort (the
    TakeOrderedAndProject orders by columns, parsing no JSON per comparison), with the memory engine's
    order over every JSON kind, skip and limit included."""
    from filterdsl.integrations.spark import apply, statement

    values: list[Any] = [3, "b", None, True, [1], {"a": 1}, "", [], 2.5, "a", False, -1]
    docs = [
        {
            "id": f"r{i:02d}",
            "created_at": f"2021-01-{1 + i % 3:02d}T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {} if i == len(values) else {"v": values[i % len(values)]},
        }
        for i in range(len(values) + 1)
    ]
    df = json_frames(spark, {"db": docs})["db"]
    for desc in (False, True):
        for skip, limit in ((0, None), (2, 5), (3, None)):
            q = Query(sort=(SortKey(Field("v"), desc),), skip=skip, limit=limit, database="db")
            page = apply(df, q)
            assert ids(page) == [r["id"] for r in run(q, {"db": docs})], (desc, skip, limit)
    q = Query(sort=(SortKey(Field("v"), True),), skip=2, limit=5, database="db")
    text, _ = statement(df, q)
    assert "EXCEPT" in text, text
    top = plan(apply(df, q)).split("TakeOrderedAndProject", 2)[-1]
    args = [ln for ln in top.splitlines() if ln.startswith("Arguments")]
    assert args and "parsejson" not in args[0].lower() and "parse_json" not in args[0].lower(), top


def spark_fixture(remote: bool) -> Any:
    """A module-scoped session fixture of the given kind."""

    @pytest.fixture(scope="module")
    def spark() -> Iterator[Any]:
        yield from (connect_session() if remote else classic_session())

    return spark


# ---------------------------------------------------------------- DATE columns and keyset pages
def _day_docs(days: list[Any]) -> list[dict[str, Any]]:
    """Records whose date field ``d`` holds ``days[i]`` (a ``datetime.date``; None: NOT SET), with
    created_at ties so the default order's id tie-breaker is reached."""
    return [
        {
            "id": f"r{i:02d}",
            "created_at": f"2021-01-0{1 + i % 3}T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {} if d is None else {"d": d.isoformat(), "n": float(i % 4)},
        }
        for i, d in enumerate(days)
    ]


def _day_frame(spark: Any, docs: list[dict[str, Any]]) -> Any:
    import datetime

    return spark.createDataFrame(
        [
            (
                d["id"],
                d["created_at"],
                datetime.date.fromisoformat(d["data"]["d"]) if "d" in d["data"] else None,
                d["data"].get("n"),
            )
            for d in docs
        ],
        "id STRING, created_at STRING, d DATE, n DOUBLE",
    )


def check_date_columns(spark: Any, directory: str) -> None:
    """A ``DATE`` column is read as days from the DataFrame's schema: a date condition is the range on
    the column alone (no day check in the statement) and reaches the Parquet scan's PushedFilters, its
    negation too; sorts and keyset pages order by the column; every answer is the memory engine's."""
    import datetime

    from filterdsl.integrations.spark import statement

    days = [
        datetime.date(2020, 1, 1),
        datetime.date(2020, 2, 29),
        None,
        datetime.date(2019, 12, 31),
        datetime.date(2020, 1, 2),
        datetime.date(1, 1, 1),
        datetime.date(9999, 12, 31),
        datetime.date(2020, 1, 1),
    ]
    docs = _day_docs(days)
    _day_frame(spark, docs).write.parquet(directory)
    df = spark.read.parquet(directory)
    layout = {"d": "d", "n": "n"}
    f = Field("d", T.DATE)
    for op in (Op.EQ, Op.GT, Op.GTE, Op.LT, Op.LTE):
        for value in ("2020-01-01", "2020-02-29"):
            for node in (Compare(f, op, value), Not(Compare(f, op, value))):
                q = Query(node, database="db")
                text, _ = statement(df, q, layout=layout, sorted=False)
                assert "RLIKE" not in text.upper() and "REGEXP" not in text.upper(), text
                got = where(df, q, layout=layout)
                assert re.search(r"\bd\b", pushed_filters(got)), (node, pushed_filters(got))
                assert sorted(ids(got)) == sorted(r["id"] for r in run(q, {"db": docs})), node
    for desc in (False, True):
        q = Query(sort=(SortKey(f, desc),), database="db")
        assert ids(apply(df, q, layout=layout)) == [r["id"] for r in run(q, {"db": docs})], desc
    # a text column of the same days keeps the day check (its text may hold anything)
    text_df = df.selectExpr("id", "created_at", "CAST(d AS STRING) AS d", "n")
    text, _ = statement(text_df, Query(Compare(f, Op.GT, "2020-01-01"), database="db"), layout=layout)
    assert "RLIKE" in text.upper(), text


def check_keyset_pages(spark: Any) -> None:
    """Keyset pages (Query.after, the page after a record) on a DataFrame, in both layouts and on a
    DATE column: walking every page gives the memory engine's unpaged order, for each sort."""
    import datetime

    days = [datetime.date(2020, 1, 1 + i % 5) if i % 4 else None for i in range(11)]
    from keyset_support import walk

    docs = _day_docs(days)
    by_id = {d["id"]: d for d in docs}
    typed = _day_frame(spark, docs)
    as_json = json_frames(spark, {"db": docs})["db"]
    sorts: list[tuple[SortKey, ...]] = [
        (),
        (SortKey(Field("d", T.DATE), False),),
        (SortKey(Field("d", T.DATE), True),),
        (SortKey(Field("n", T.NUMBER), True), SortKey(Field("d", T.DATE), False)),
    ]
    for i, sort in enumerate(sorts):
        q = Query(sort=sort, database="db")
        expected = [r["id"] for r in run(q, {"db": docs})]
        assert walk(lambda p: ids(apply(typed, p, layout={"d": "d", "n": "n"})), q, 3, by_id) == expected, (
            sort
        )
        if i in (0, 2):  # JSON sort keys make Catalyst's planning ~1 s a page: two sorts
            assert walk(lambda p: ids(apply(as_json, p)), q, 3, by_id) == expected, sort


def check_date_differential(spark: Any, max_examples: int) -> None:
    """Hypothesis: DATE columns (years 1-9999, leap days, NULL) under every date operator, negated or
    not, and date sorts with skip/limit, against the memory engine."""
    import datetime

    from hypothesis import strategies as st

    near = st.dates(datetime.date(2019, 12, 25), datetime.date(2020, 3, 5))
    anyday = st.dates(datetime.date(1, 1, 1), datetime.date(9999, 12, 31))
    day = st.one_of(near, anyday)
    ops = st.sampled_from([Op.EQ, Op.GT, Op.GTE, Op.LT, Op.LTE])
    f = Field("d", T.DATE)

    @settings(max_examples=max_examples, deadline=None, database=None)
    @given(
        st.lists(st.one_of(st.none(), day), min_size=1, max_size=10),
        st.lists(st.tuples(ops, day, st.booleans()), min_size=1, max_size=4),
        st.booleans(),
        st.integers(0, 3),
        st.one_of(st.none(), st.integers(1, 5)),
    )
    def prop(days: list[Any], conds: list[Any], desc: bool, skip: int, limit: int | None) -> None:
        docs = _day_docs(days)
        df = _day_frame(spark, docs)
        for op, value, negate in conds:
            text = value.isoformat()
            node: Any = Compare(f, op, text)
            q = Query(Not(node) if negate else node, (SortKey(f, desc),), skip, limit, None, "db")
            got = ids(apply(df, q, layout={"d": "d"}))
            assert got == [r["id"] for r in run(q, {"db": docs})], (op, text, negate)

    prop()


def check_timestamp_columns(spark: Any) -> None:
    """A TIMESTAMP column's day is its text in the session time zone: under UTC it answers the memory
    engine's UTC days (times near midnight included); in another zone it is refused, never answered
    with that zone's days. TIMESTAMP_NTZ has no zone and is read as written."""
    from filterdsl.integrations.spark import where

    stamps = ["2020-01-01T23:30:00", "2020-01-02T00:30:00", "2020-01-02T23:59:59", None]
    docs = [
        {
            "id": f"r{i}",
            "created_at": "2021-01-01T00:00:00.000000Z",
            "updated_at": None,
            "removed_at": None,
            "data": {} if s is None else {"d": s + ".000Z"},
        }
        for i, s in enumerate(stamps)
    ]
    rows = ", ".join(
        f"('r{i}', {'NULL' if s is None else repr(s.replace('T', ' '))})" for i, s in enumerate(stamps)
    )
    q = Query(Compare(Field("d", T.DATE), Op.EQ, "2020-01-02"), database="db")
    expected = sorted(r["id"] for r in run(q, {"db": docs}))
    assert expected == ["r1", "r2"]
    conf = "spark.sql.session.timeZone"
    before = spark.conf.get(conf)
    try:
        for zone in ("UTC", "America/New_York"):
            spark.conf.set(conf, zone)
            for typ in ("TIMESTAMP", "TIMESTAMP_NTZ"):
                # the literals are read in the zone: the instants are the UTC ones only under UTC
                spark.conf.set(conf, "UTC")
                df = spark.sql(
                    f"SELECT id, '2021-01-01T00:00:00.000000Z' AS created_at, CAST(t AS {typ}) AS d "
                    f"FROM VALUES {rows} AS v(id, t)"
                ).localCheckpoint()
                spark.conf.set(conf, zone)
                if typ == "TIMESTAMP" and zone != "UTC":
                    with pytest.raises(FilterError) as e:
                        where(df, q, layout={"d": "d"})
                    assert e.value.diagnostics[0].code == "not-expressible"
                    assert "time zone" in e.value.diagnostics[0].message
                    continue
                assert sorted(ids(where(df, q, layout={"d": "d"}))) == expected, (zone, typ)
    finally:
        spark.conf.set(conf, before)
