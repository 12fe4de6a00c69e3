"""Run a Query on Spark DataFrames, on a classic local session or on Spark Connect.

The core of ``filterdsl.integrations.spark`` and of ``filterdsl run --engine spark``. The statement is
the Spark family's compiled tree (``compile_shape``, as ``to_sql`` compiles it), with two changes made
on the tree, never on printed text: the SELECT list is ``*`` (the DataFrame's own columns), and each
table is a DataFrame. It is printed once per query shape into a template for ``SparkSession.sql``:
``{t0}``, ``{t1}``... name the DataFrames (PySpark's own ``sql(text, **frames)`` mechanism: temporary
views on a classic session, ``WithRelations`` on Spark Connect) and ``:p0``, ``:p1``... are Spark named
parameters bound through ``args=`` (``lit()`` values). No value is ever part of the SQL text, and no
JVM internal (``df._jdf``, ``sc._jvm``) is used, so the same call works on both session kinds.

Other braces in the text (a field key such as ``{x}`` is a string literal of the SQL) are doubled so
that the formatter leaves them as they are.
"""

from __future__ import annotations

import dataclasses
import json
import re
import secrets
import threading
import warnings
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from filterdsl.ast import Query, Relation, walk
from filterdsl.backends.sql import _generate
from filterdsl.backends.sql.compiler import compile_shape
from filterdsl.backends.sql.layout import ColumnsLayout, JsonLayout, SqlLayoutWarning
from filterdsl.backends.sql.shape import bind, binder, extract, shape_key
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.schema import CatalogSource

Doc = dict[str, Any]
ENGINES = ("spark",)
DIALECT = "spark"

#: table-name marker while printing: random per process, so no key or value can forge one
_TOKEN = "fdslt" + secrets.token_hex(8) + "x"
_TABLE_RE = re.compile("`" + re.escape(_TOKEN) + r"(\d+)`")
#: sort key column names (``_keyed``): random per process, so no DataFrame column has one
_KEY = "fdslk" + secrets.token_hex(4) + "_"


@dataclasses.dataclass(frozen=True)
class Statement:
    """One query shape printed for ``SparkSession.sql``: ``text`` names DataFrame ``i`` ``{ti}`` (the
    queried database's is ``{t0}``) and holds named parameter markers; ``databases[i]`` is the database
    whose DataFrame ``{ti}`` is; ``names`` and ``plan`` bind this query's values to the markers."""

    text: str
    databases: tuple[Any, ...]
    names: tuple[str, ...]
    plan: tuple[tuple[int, tuple[str, ...], Any], ...]
    warnings: tuple[str, ...]


def databases(query: Query) -> tuple[Any, ...]:
    """The queried database, then every database a relation reaches (first mention order)."""
    out = [query.database]
    for n in walk(query.predicate):
        if isinstance(n, Relation) and n.database not in out:
            out.append(n.database)
    return tuple(out)


#: how a DataFrame column holds a field: VARIANT values (``data`` as VARIANT), or a Spark ARRAY
#: (enumTags/refMultiple in the columns layout) where the family reads JSON text
Kinds = frozenset[tuple[int, str, str]]  # (DataFrame index, column, "variant" | "array")


def _tables(tree: exp.Expr) -> dict[str, int]:
    """Table alias (or name) -> DataFrame index, from the marked table names."""
    out: dict[str, int] = {}
    for t in tree.find_all(exp.Table):
        m = re.fullmatch(re.escape(_TOKEN) + r"(\d+)", t.name)
        if m:
            out[t.alias_or_name] = int(m.group(1))
    return out


def _retype(tree: exp.Expr, kinds: Kinds) -> exp.Expr:
    """``parse_json(c)`` of a VARIANT column is ``c``; of an ARRAY column, ``CAST(c AS VARIANT)`` (the
    ARRAY<STRING> variant ``parse_json`` of its JSON text gives)."""
    by_alias = _tables(tree)

    def sub(node: exp.Expr) -> exp.Expr:
        if not (
            isinstance(node, exp.Anonymous)
            and str(node.this).lower() == "parse_json"
            and len(node.expressions) == 1
            and isinstance(node.expressions[0], exp.Column)
        ):
            return node
        c = node.expressions[0]
        i = by_alias.get(c.table, -1) if c.table else 0
        if (i, c.name, "variant") in kinds:
            return c
        if (i, c.name, "array") in kinds:
            cast = exp.Cast(this=c, to=exp.DataType.build("VARIANT", dialect="spark"))
            cast.meta["fdsl_array"] = True
            return cast
        return node

    return _native_arrays(tree.transform(sub))  # copied: the compiled tree shares nodes between parents


def _fn(node: Any, name: str) -> bool:
    return isinstance(node, exp.Anonymous) and str(node.this).lower() == name


def _is_str(node: Any, value: str) -> bool:
    return isinstance(node, exp.Literal) and node.is_string and node.this == value


def _array_cast(node: Any) -> bool:
    return (
        isinstance(node, exp.Cast) and not isinstance(node, exp.TryCast) and bool(node.meta.get("fdsl_array"))
    )


def _native_arrays(tree: exp.Expr) -> exp.Expr:
    """Native ARRAY<STRING> tests where the VARIANT reading of an ARRAY column is only asked whether it
    is an array and whether some element is a string passing a test (enumTags operators, search):

    - ``startswith(schema_of_variant(CAST(c AS VARIANT)), 'ARRAY')`` is ``c IS NOT NULL``;
    - ``size(filter(try_cast(CAST(c AS VARIANT) AS ARRAY<VARIANT>), e -> B)) > 0``, where ``B`` uses
      ``e`` only as ``schema_of_variant(e) = 'STRING'`` and ``try_variant_get(e, '$', 'string')``, is
      ``size(filter(c, e -> B'))``, ``B'`` with ``e IS NOT NULL`` and ``e`` in their place: a STRING
      element of the array is exactly a VARIANT string element (a NULL element is VOID, no string);
    - ``transform(filter(<that array>, e -> B), e -> try_variant_get(e, '$', 'string'))`` (the string
      elements, as ``holds_all`` reads them) is ``filter(c, e -> B')``.

    Anything else keeps the VARIANT form (exact, slower)."""
    for node in list(tree.find_all(exp.Anonymous)):
        if (
            _fn(node, "startswith")
            and len(node.expressions) == 2
            and _fn(node.expressions[0], "schema_of_variant")
            and _array_cast(node.expressions[0].expressions[0])
            and _is_str(node.expressions[1], "ARRAY")
        ):
            c = node.expressions[0].expressions[0].this
            node.replace(exp.Not(this=exp.Is(this=c.copy(), expression=exp.Null())))
    for flt in list(tree.find_all(exp.ArrayFilter)):
        arr, lam = flt.this, flt.expression
        if not (isinstance(arr, exp.TryCast) and _array_cast(arr.this)) or not isinstance(lam, exp.Lambda):
            continue
        user = flt.parent
        use: exp.Expr = flt
        if isinstance(user, exp.ArraySize):
            pass  # only the count of the kept elements is read
        elif user is not None and _strings_of(user, flt):
            use = user  # the kept elements' text: the native elements themselves
        else:
            continue
        if _native_lambda(lam):
            arr.replace(arr.this.this.copy())
            if use is not flt:
                use.replace(flt)
    return tree


def _strings_of(node: Any, arr: exp.Expr) -> bool:
    """``node`` is ``transform(arr, e -> try_variant_get(e, '$', 'string'))``."""
    if not (_fn(node, "transform") and len(node.expressions) == 2 and node.expressions[0] is arr):
        return False
    lam = node.expressions[1]
    if not isinstance(lam, exp.Lambda) or len(lam.expressions) != 1:
        return False
    get = lam.this
    return (
        _fn(get, "try_variant_get")
        and len(get.expressions) == 3
        and isinstance(get.expressions[0], exp.Column)
        and not get.expressions[0].table
        and get.expressions[0].name == lam.expressions[0].name
        and _is_str(get.expressions[1], "$")
        and _is_str(get.expressions[2], "string")
    )


def _native_lambda(lam: exp.Lambda) -> bool:
    """Rewrite ``e -> B`` for STRING elements when ``B`` reads ``e`` only as a string element
    (``schema_of_variant(e) = 'STRING'`` -> ``e IS NOT NULL``, ``try_variant_get(e, '$', 'string')`` ->
    ``e``); False (unchanged) otherwise."""
    if len(lam.expressions) != 1:
        return False
    var = lam.expressions[0].name
    kinds, gets = [], []
    for use in lam.this.find_all(exp.Column):
        if use.name != var or use.table:
            continue
        p = use.parent
        if (
            _fn(p, "schema_of_variant")
            and isinstance(p.parent, exp.EQ)
            and p.parent.this is p
            and _is_str(p.parent.expression, "STRING")
        ):
            kinds.append(p.parent)
        elif (
            _fn(p, "try_variant_get")
            and len(p.expressions) == 3
            and p.expressions[0] is use
            and _is_str(p.expressions[1], "$")
            and _is_str(p.expressions[2], "string")
        ):
            gets.append(p)
        else:
            return False
    for eq in kinds:
        eq.replace(exp.Not(this=exp.Is(this=exp.column(var), expression=exp.Null())))
    for g in gets:
        g.replace(exp.column(var))
    return True


def _keyed(tree: exp.Expr) -> exp.Expr:
    """A sort on expressions (the JSON layout's SPEC 8 keys) with its keys computed once per row, in a
    projection under the sort:

        SELECT * EXCEPT (k0, k1...) FROM (SELECT *, e0 AS k0, e1 AS k1... FROM t WHERE ...)
        ORDER BY k0, k1... LIMIT n OFFSET m

    The same expressions and the same order, so the same rows. In ``ORDER BY e0 ... LIMIT n`` Catalyst's
    TakeOrderedAndProject evaluates the keys in every comparison, each reading ``data`` again; a
    projection computes them once per row, and whole-stage code generation shares the ``data`` reading
    they have in common (subexpression elimination). A sort on columns only is left as it is."""
    order = tree.args.get("order")
    if not isinstance(tree, exp.Select) or order is None:
        return tree
    if all(isinstance(o.this, exp.Column) for o in order.expressions):
        return tree
    keys: list[exp.Expr] = []
    ordered: list[exp.Expr] = []
    for o in order.expressions:
        o = o.copy()
        if isinstance(o.this, exp.Column):  # a column of the DataFrame: the subquery has it as it is
            o.set("this", exp.column(o.this.name, quoted=True))
        else:
            name = f"{_KEY}{len(keys)}"
            keys.append(exp.alias_(o.this, name, quoted=True))
            o.set("this", exp.column(name, quoted=True))
        ordered.append(o)
    inner = tree.copy()
    for arg in ("order", "limit", "offset"):
        inner.set(arg, None)
    inner.set("expressions", [exp.Star(), *keys])
    hidden = [exp.column(k.alias, quoted=True) for k in keys]
    outer = exp.select(exp.Star(except_=hidden), copy=False).from_(
        inner.subquery(_KEY, copy=False), copy=False
    )
    outer = outer.order_by(*ordered, copy=False)
    for arg in ("limit", "offset"):
        if tree.args.get(arg) is not None:
            outer.set(arg, tree.args[arg].copy())
    return outer


def _print(
    shape: Query, layout: JsonLayout | ColumnsLayout, dbs: tuple[Any, ...], kinds: Kinds, ordered: bool
) -> tuple[str, Any, tuple[str, ...]]:
    marked = dataclasses.replace(layout, tables={db: f"{_TOKEN}{i}" for i, db in enumerate(dbs)})
    comp = compile_shape(shape, DIALECT, marked)
    tree: exp.Expr = comp.tree
    tree.set("expressions", [exp.Star()])
    if not ordered and shape.limit is None and not shape.skip:
        tree.set("order", None)  # no global sort (a shuffle of every match) for a set of rows
    if kinds:
        tree = _retype(tree, kinds)
    tree = _keyed(tree)
    text = _generate(tree, DIALECT)  # Spark's own placeholders: :p0, :p1...
    text = text.replace("{", "{{").replace("}", "}}")
    text = _TABLE_RE.sub(lambda m: "{t" + m.group(1) + "}", text)
    if "{t0}" not in text:
        raise FilterError([Diagnostic("internal", "no DataFrame in the Spark statement", Location())])
    return text, comp.params, comp.warnings


#: printed statements per (shape, layout, tables, column kinds); bounded, least recently used evicted
CACHE_SIZE = 256
_cache: OrderedDict[tuple[Any, ...], Statement] = OrderedDict()
_lock = threading.Lock()


def statement(
    query: Query,
    layout: JsonLayout | ColumnsLayout | None = None,
    kinds: Kinds = frozenset(),
    ordered: bool = True,
) -> tuple[Statement, dict[str, Any]]:
    """The printed statement of ``query`` (cached per shape) and this query's parameter values.

    ``kinds``: ``(i, column, "variant")`` for a column of DataFrame ``i`` (see ``databases``) holding
    VARIANT values, ``(i, column, "array")`` for a Spark ARRAY column of the columns layout.
    ``ordered=False``: no ORDER BY for a query without skip and limit (``where``: a set of rows).
    """
    layout = layout if layout is not None else JsonLayout()
    key, values = shape_key(query)
    dbs = databases(query)
    ck = (key, type(layout), repr(layout), dbs, kinds, ordered)
    st = _cache.get(ck)
    if st is None:
        shape, shape_values = extract(query)
        again, slots = shape_key(shape)
        if again != key or shape_values != values or [s.index for s in slots] != list(range(len(values))):
            raise FilterError([Diagnostic("internal", "SQL shape key mismatch", Location(param="query"))])
        text, params, warns = _print(shape, layout, dbs, kinds, ordered)
        st = Statement(text, dbs, tuple(params), binder(params), warns)
        with _lock:
            _cache[ck] = st
            while len(_cache) > CACHE_SIZE:
                _cache.popitem(last=False)
    else:
        with _lock:
            if ck in _cache:
                _cache.move_to_end(ck)
    for m in st.warnings:
        warnings.warn(SqlLayoutWarning(m), stacklevel=3)
    return st, dict(zip(st.names, bind(st.plan, values)))


def missing_frame(database: Any) -> FilterError:
    return FilterError(
        [
            Diagnostic(
                "missing-data",
                f"the filter reaches database {database!r}: pass its DataFrame as related={{{database!r}: df}}",
                Location(param="related"),
            )
        ]
    )


def execute(session: Any, st: Statement, params: Mapping[str, Any], frames: Mapping[Any, Any]) -> Any:
    """``session.sql`` of the statement over ``frames`` ({database: DataFrame}): a DataFrame."""
    kwargs = {}
    for i, db in enumerate(st.databases):
        if db not in frames:
            raise missing_frame(db)
        kwargs[f"t{i}"] = frames[db]
    return session.sql(st.text, args=dict(params), **kwargs)


# ---------------------------------------------------------------- the `spark` engine (CLI runner)
_COLS = "id STRING, created_at STRING, updated_at STRING, removed_at STRING, data STRING"


def session(url: str | None = None) -> Any:
    """The active session, else a new one: a local classic session (``url`` None), or Spark Connect:
    ``sc://host:port`` reaches a server, ``local`` / ``local[N]`` starts one in this process
    (pyspark's ``remote("local")``)."""
    from pyspark.sql import SparkSession

    b = SparkSession.builder.appName("filterdsl")
    if url is None:
        b = (
            b.master("local[1]")
            .config("spark.ui.enabled", "false")
            .config("spark.sql.shuffle.partitions", "1")
            .config("spark.ui.showConsoleProgress", "false")
        )
    else:
        b = b.remote(url)
    return b.getOrCreate()


def _row(doc: Doc) -> tuple[Any, ...]:
    return (
        doc.get("id"),
        doc.get("created_at"),
        doc.get("updated_at"),
        doc.get("removed_at"),
        json.dumps(doc.get("data", {}), ensure_ascii=False, separators=(",", ":")),
    )


def frames(spark: Any, dataset: Mapping[Any, list[Doc]]) -> dict[Any, Any]:
    """One DataFrame per database in the JSON document layout (``data`` as JSON text)."""
    return {db: spark.createDataFrame([_row(d) for d in docs], _COLS) for db, docs in dataset.items()}


def fetch(
    query: Query,
    dataset: Mapping[Any, list[Doc]],
    url: str | None = None,
    catalog: CatalogSource | None = None,
    main: Any = None,
) -> list[Doc]:
    """Canonical documents in result order from Spark (``main``: the queried database's key)."""
    spark = session(url)
    q = dataclasses.replace(query, fields=None, database=main)
    st, params = statement(q, JsonLayout())
    rows = execute(spark, st, params, frames(spark, dataset)).collect()
    return [
        {
            "id": r["id"],
            "created_at": r["created_at"],
            "updated_at": r["updated_at"],
            "removed_at": r["removed_at"],
            "data": json.loads(r["data"]),
        }
        for r in rows
    ]
