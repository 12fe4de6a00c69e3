"""Per-engine JSON access for the JSON document layout.

A *family* knows one engine's JSON functions: how to reach a value below the ``data`` column, test its
JSON type, read it as text or number, expand an array into rows, and compare strings by code point.
Everything is built as sqlglot trees; user text (field keys, path segments, values) only ever enters
as a bound parameter through ``param``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

from ...errors import Diagnostic, FilterError, Location
from .shape import length

ParamFn = Callable[[object], exp.Expr]

#: canonical JSON kinds; a missing key has no kind (SQL NULL)
KINDS = ("null", "string", "number", "true", "false", "array", "object")


def canonical_index(seg: str) -> bool:
    """SPEC 4: a path segment indexes an array only when it is a canonical non-negative integer."""
    return seg.isdigit() and seg.isascii() and (seg == "0" or seg[0] != "0")


def AND(*items: exp.Expr) -> exp.Expr:  # noqa: N802 - reads like SQL
    """n-ary AND without sqlglot's defensive deep copies (trees here are built once)."""
    return exp.and_(*items, copy=False)


def OR(*items: exp.Expr) -> exp.Expr:  # noqa: N802
    return exp.or_(*items, copy=False)


def _s(v: str) -> exp.Literal:
    return exp.Literal.string(v)


def _n(v: int) -> exp.Expr:
    return exp.Literal.number(v)


def fn(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _in(e: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
    if len(values) == 1:
        return exp.EQ(this=e, expression=_s(values[0]))
    return exp.In(this=e, expressions=[_s(v) for v in values])


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference, built directly (``exp.column`` copies its arguments)."""
    if table:
        return exp.Column(this=exp.Identifier(this=name, quoted=True), table=exp.Identifier(this=table, quoted=True))
    return exp.Column(this=exp.Identifier(this=name, quoted=True))


def alias_table(this: exp.Expr, alias: str, columns: tuple[str, ...] = ()) -> exp.Expr:
    ta = exp.TableAlias(this=exp.to_identifier(alias, quoted=True),
                        columns=[exp.to_identifier(c, quoted=True) for c in columns] or None)
    if isinstance(this, exp.Table):
        this.set("alias", ta)
        return this
    return exp.Table(this=this, alias=ta)


@dataclass(frozen=True)
class J:
    """A JSON value reachable in SQL: ``root`` (a JSON expression) and a path below it.

    ``path`` is family-specific (a path expression or None for the root itself). ``elem`` marks a
    SQLite ``json_each`` row (alias name): its ``type``/``value`` columns describe the value.
    """

    root: exp.Expr | None
    path: exp.Expr | None = None
    elem: str | None = None


def not_expressible(dialect: str, what: str) -> FilterError:
    return FilterError([Diagnostic(
        "not-expressible",
        f"the SQL dialect {dialect!r} cannot express {what} in the JSON document layout (filterdsl "
        f"knows the JSON functions of: {', '.join(sorted(DIALECT_FAMILY))}); use one of those dialects "
        f"or a columns layout", Location())])


class Family:
    """Interface and shared helpers; subclasses implement one engine's JSON functions."""

    name = "generic"
    kinds: dict[str, tuple[str, ...]] = {}

    def __init__(self, param: ParamFn, dialect: str):
        self.param = param
        self.dialect = dialect

    # ---- navigation / inspection (engine specific)
    def root(self, doc: exp.Expr) -> J:
        raise not_expressible(self.dialect, "access to JSON field values")

    def child(self, parent: J, seg: str, depth: int) -> J:
        raise not_expressible(self.dialect, "access to JSON field values")

    def typ(self, j: J) -> exp.Expr:
        raise not_expressible(self.dialect, "JSON type checks")

    def text(self, j: J) -> exp.Expr:
        """The value as SQL text; meaningful only where the kind is string."""
        raise not_expressible(self.dialect, "JSON string values")

    def num(self, j: J) -> exp.Expr:
        raise not_expressible(self.dialect, "JSON number values")

    def json_text(self, j: J) -> exp.Expr:
        raise not_expressible(self.dialect, "JSON text")

    def array_len(self, j: J) -> exp.Expr:
        raise not_expressible(self.dialect, "JSON array length")

    def elements(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        """A FROM item expanding the array ``j`` into rows, and the element value of a row."""
        raise not_expressible(self.dialect, "JSON array expansion")

    def members(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        """A FROM item expanding the values of the object ``j`` into rows."""
        raise not_expressible(self.dialect, "JSON object expansion")

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        raise not_expressible(self.dialect, "date validation")

    def any_element(self, j: J, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        """TRUE when some element of the array ``j`` satisfies ``cond`` (EXISTS over the expansion)."""
        frm, e = self.elements(j, alias)
        return exp.Exists(this=exp.select(_n(1), copy=False).from_(frm, copy=False).where(cond(e), copy=False))

    def any_member(self, j: J, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        """TRUE when some member value of the object ``j`` satisfies ``cond``."""
        frm, e = self.members(j, alias)
        return exp.Exists(this=exp.select(_n(1), copy=False).from_(frm, copy=False).where(cond(e), copy=False))

    def string_elements(self, j: J, alias: str) -> exp.Expr:
        """The string elements of the array ``j`` as an SQL array (Spark relations)."""
        raise not_expressible(self.dialect, "arrays of strings")

    def is_bool(self, j: J, value: bool) -> exp.Expr:
        return self.kind_is(j, ("true" if value else "false",))

    # ---- derived
    def kind_is(self, j: J, kinds: tuple[str, ...]) -> exp.Expr:
        raw = tuple(dict.fromkeys(t for k in kinds for t in self.kinds[k]))
        return _in(self.typ(j), raw)

    def missing(self, j: J) -> exp.Expr:
        return exp.Is(this=self.typ(j), expression=exp.Null())

    # ---- strings (portable defaults)
    def lower(self, e: exp.Expr) -> exp.Expr:
        return exp.Lower(this=e)

    def binary(self, e: exp.Expr) -> exp.Expr:
        """A string expression that compares and sorts by code point."""
        return e

    def length(self, e: exp.Expr) -> exp.Expr:
        return exp.Length(this=e)

    def eq_empty(self, e: exp.Expr) -> exp.Expr:
        """``e`` is the empty string (PAD SPACE collations would also say so of ``' '``)."""
        return exp.EQ(this=e, expression=_s(""))

    def ne_empty(self, e: exp.Expr) -> exp.Expr:
        return exp.NEQ(this=e, expression=_s(""))

    def contains(self, hay: exp.Expr, needle: str) -> exp.Expr:
        return exp.GT(this=exp.StrPosition(this=hay, substr=self.param(needle)), expression=_n(0))

    def starts(self, hay: exp.Expr, needle: str) -> exp.Expr:
        n = length(needle)
        return exp.EQ(this=self.binary(exp.Substring(this=hay, start=_n(1), length=self.param(n))),
                      expression=self.binary(self.param(needle)))

    def ends(self, hay: exp.Expr, needle: str) -> exp.Expr:
        n = length(needle)
        start = exp.Add(this=exp.Sub(this=self.length(hay), expression=self.param(n)), expression=_n(1))
        return AND(exp.GTE(this=self.length(hay), expression=self.param(n)),
                        exp.EQ(this=self.binary(exp.Substring(this=hay, start=start)),
                               expression=self.binary(self.param(needle))))

    def head10(self, e: exp.Expr) -> exp.Expr:
        return exp.Substring(this=e, start=_n(1), length=_n(10))

    def mod(self, e: exp.Expr, n: int) -> exp.Expr:
        return exp.Mod(this=e, expression=_n(n))

    def day_ok_tail(self, head: exp.Expr) -> exp.Expr:
        """Given ``head`` matches NNNN-NN-NN: month 01-12, a day that exists, year >= 1."""
        m = exp.Substring(this=head, start=_n(6), length=_n(2))
        d = exp.Substring(this=head, start=_n(9), length=_n(2))
        y = exp.Substring(this=head, start=_n(1), length=_n(4))
        yi = exp.Cast(this=y, to=exp.DataType.build("INT"))
        leap = OR(
            AND(exp.EQ(this=self.mod(yi.copy(), 4), expression=_n(0)),
                     exp.NEQ(this=self.mod(yi.copy(), 100), expression=_n(0))),
            exp.EQ(this=self.mod(yi.copy(), 400), expression=_n(0)))
        feb = exp.Case(ifs=[exp.If(this=leap, true=_s("29"))], default=_s("28"))
        maxd = exp.Case(ifs=[exp.If(this=exp.EQ(this=m.copy(), expression=_s("02")), true=feb),
                             exp.If(this=exp.In(this=m.copy(), expressions=[_s(x) for x in ("04", "06", "09", "11")]),
                                    true=_s("30"))], default=_s("31"))
        return AND(
            exp.GTE(this=y.copy(), expression=_s("0001")),
            exp.GTE(this=m.copy(), expression=_s("01")), exp.LTE(this=m.copy(), expression=_s("12")),
            exp.GTE(this=d.copy(), expression=_s("01")), exp.LTE(this=d.copy(), expression=maxd))


class _PathFamily(Family):
    """Families whose JSON functions take (document, path text): SQLite and MySQL/MariaDB."""

    def root(self, doc: exp.Expr) -> J:
        return J(doc, None)

    @staticmethod
    def _key_piece(seg: str) -> str:
        return '."' + json.dumps(seg, ensure_ascii=False)[1:-1] + '"'

    def _cat(self, a: exp.Expr | None, piece: str) -> exp.Expr:
        if a is None:
            return self.param("$" + piece)
        return exp.DPipe(this=a, expression=self.param(piece), safe=True)

    def child(self, parent: J, seg: str, depth: int) -> J:
        if depth > 0 and canonical_index(seg):
            arr = self._cat(parent.path, f"[{seg}]")
            obj = self._cat(parent.path, self._key_piece(seg))
            path: exp.Expr = exp.Case(ifs=[exp.If(this=self.kind_is(parent, ("array",)), true=arr)],
                                            default=obj)
        else:
            path = self._cat(parent.path, self._key_piece(seg))
        return J(parent.root, path)


class SQLiteFamily(_PathFamily):
    name = "sqlite"
    kinds = {"null": ("null",), "string": ("text",), "number": ("integer", "real"), "true": ("true",),
             "false": ("false",), "array": ("array",), "object": ("object",)}

    @staticmethod
    def key_ok(seg: str) -> bool:
        # SQLite matches a quoted path label against the raw key text and cannot escape '"'
        return not any(c in seg for c in '"\\') and all(ord(c) >= 0x20 for c in seg)

    def _args(self, j: J) -> list[exp.Expr]:
        assert j.root is not None
        return [j.root, _s("$")] if j.path is None else [j.root, j.path]

    def child(self, parent: J, seg: str, depth: int) -> J:
        if parent.elem is not None:
            parent = J(col("value", parent.elem))  # array/object elements: value is JSON text
        if self.key_ok(seg):
            return super().child(parent, seg, depth)
        # a key SQLite's path syntax cannot name: find it with json_each, rebuild the child's JSON text
        e = f"k{depth}"
        each = alias_table(fn("json_each", *self._args(parent)), e)
        value = exp.Case(
            ifs=[exp.If(this=exp.EQ(this=col("type", e), expression=_s("text")), true=fn("json_quote", col("value", e))),
                 exp.If(this=exp.EQ(this=col("type", e), expression=_s("null")), true=_s("null")),
                 exp.If(this=exp.EQ(this=col("type", e), expression=_s("true")), true=_s("true")),
                 exp.If(this=exp.EQ(this=col("type", e), expression=_s("false")), true=_s("false"))],
            default=exp.Cast(this=col("value", e), to=exp.DataType.build("TEXT")))
        sub = exp.select(value).from_(each).where(AND(
            exp.EQ(this=fn("json_type", *self._args(parent)), expression=_s("object")),
            exp.EQ(this=col("key", e), expression=self.param(seg))))
        return J(exp.Subquery(this=sub), None)

    def typ(self, j: J) -> exp.Expr:
        if j.elem is not None:
            return col("type", j.elem)
        return fn("json_type", *self._args(j))

    def text(self, j: J) -> exp.Expr:
        if j.elem is not None:
            return col("value", j.elem)
        return fn("json_extract", *self._args(j))

    num = text

    def json_text(self, j: J) -> exp.Expr:
        if j.elem is not None:
            return col("value", j.elem)
        return fn("json_extract", *self._args(j))

    def array_len(self, j: J) -> exp.Expr:
        if j.elem is not None:
            return fn("json_array_length", col("value", j.elem))
        return fn("json_array_length", *self._args(j))

    def elements(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        args = [col("value", j.elem)] if j.elem is not None else self._args(j)
        return alias_table(fn("json_each", *args), alias), J(None, elem=alias)

    members = elements

    def contains(self, hay: exp.Expr, needle: str) -> exp.Expr:
        return exp.GT(this=fn("instr", hay, self.param(needle)), expression=_n(0))

    def starts(self, hay: exp.Expr, needle: str) -> exp.Expr:
        return exp.EQ(this=fn("substr", hay, _n(1), self.param(length(needle))), expression=self.param(needle))

    def ends(self, hay: exp.Expr, needle: str) -> exp.Expr:
        n = length(needle)
        start = exp.Add(this=exp.Sub(this=fn("length", hay), expression=self.param(n)), expression=_n(1))
        return AND(exp.GTE(this=fn("length", hay.copy()), expression=self.param(n)),
                        exp.EQ(this=fn("substr", hay.copy(), start), expression=self.param(needle)))

    def head10(self, e: exp.Expr) -> exp.Expr:
        return fn("substr", e, _n(1), _n(10))

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        # date(h, '+0 days') normalises (2020-04-31 -> 2020-05-01) and rejects other shapes: only a
        # real YYYY-MM-DD survives unchanged (checked against records.valid_day on 1,430 strings)
        same = exp.EQ(this=fn("date", head, _s("+0 days")), expression=head.copy())
        return AND(same, exp.GTE(this=head.copy(), expression=_s("0001")))


class MySQLFamily(_PathFamily):
    """MySQL 8 and MariaDB >= 10.6 (JSON_TABLE); strings compare as utf8mb4 bytes (code point order)."""

    name = "mysql"
    kinds = {"null": ("NULL",), "string": ("STRING",), "number": ("INTEGER", "UNSIGNED INTEGER", "DOUBLE", "DECIMAL"),
             "true": ("BOOLEAN",), "false": ("BOOLEAN",), "array": ("ARRAY",), "object": ("OBJECT",)}

    def mod(self, e: exp.Expr, n: int) -> exp.Expr:
        """MOD(): no '%' operator in SQL text that %s-style drivers format."""
        return fn("MOD", e, _n(n))

    def _cat(self, a: exp.Expr | None, piece: str) -> exp.Expr:
        if a is None:
            return self.param("$" + piece)
        return exp.Concat(expressions=[a, self.param(piece)])

    def _extract(self, j: J) -> exp.Expr:
        assert j.root is not None
        if j.path is None:
            return j.root
        return fn("JSON_EXTRACT", j.root, j.path)

    def child(self, parent: J, seg: str, depth: int) -> J:
        if not seg.startswith("-"):
            return super().child(parent, seg, depth)
        # MariaDB cannot name a key that starts with '-' in a path ($."-x" finds nothing): find it
        # by position among JSON_KEYS and take the same position of the values array ($.*)
        a = f"k{depth}"
        tree = _mysql_key_lookup().copy()

        def fill(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Column) and node.name == "__p":
                return self._extract(parent).copy()
            if isinstance(node, exp.Column) and node.name == "__k":
                return self.param(seg)
            if isinstance(node, exp.Identifier) and node.this == "k":
                return exp.to_identifier(a, quoted=True)
            return node

        return J(exp.Subquery(this=tree.transform(fill, copy=False)), None)

    def typ(self, j: J) -> exp.Expr:
        return fn("JSON_TYPE", self._extract(j))

    def kind_is(self, j: J, kinds: tuple[str, ...]) -> exp.Expr:
        cond = super().kind_is(j, kinds)
        if ("true" in kinds) != ("false" in kinds):
            want = "true" if "true" in kinds else "false"
            cond = AND(cond, exp.EQ(this=self.json_text(j), expression=_s(want)))
        return cond

    def text(self, j: J) -> exp.Expr:
        return fn("JSON_UNQUOTE", self._extract(j))

    def num(self, j: J) -> exp.Expr:
        return exp.Cast(this=self.text(j), to=exp.DataType.build("DOUBLE"))

    def json_text(self, j: J) -> exp.Expr:
        return exp.Cast(this=self._extract(j), to=exp.DataType.build("CHAR"))

    def array_len(self, j: J) -> exp.Expr:
        return fn("JSON_LENGTH", self._extract(j))

    def elements(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        doc = self._extract(j)
        cols = [exp.ColumnDef(this=exp.to_identifier("i", quoted=True), kind=exp.ColumnConstraint(
            kind=exp.Var(this="FOR ORDINALITY")))]
        tbl = exp.JSONTable(this=doc.copy(), path=_s("$[*]"), schema=exp.JSONSchema(expressions=cols))
        frm = alias_table(tbl, alias)
        idx = exp.Concat(expressions=[_s("$["), exp.Sub(this=col("i", alias), expression=_n(1)), _s("]")])
        return frm, J(doc.copy(), idx)

    def members(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        values = J(fn("JSON_EXTRACT", self._extract(j), _s("$.*")), None)
        return self.elements(values, alias)

    def lower(self, e: exp.Expr) -> exp.Expr:
        return exp.Lower(this=e)

    def binary(self, e: exp.Expr) -> exp.Expr:
        return exp.Cast(this=e, to=exp.DataType.build("BINARY", dialect="mysql"))

    def length(self, e: exp.Expr) -> exp.Expr:
        return fn("CHAR_LENGTH", e)

    # MariaDB's utf8mb4_bin is PAD SPACE: ' ' = '' is true there, so emptiness is a length test
    def eq_empty(self, e: exp.Expr) -> exp.Expr:
        return exp.EQ(this=fn("CHAR_LENGTH", e), expression=_n(0))

    def ne_empty(self, e: exp.Expr) -> exp.Expr:
        return exp.GT(this=fn("CHAR_LENGTH", e), expression=_n(0))

    def contains(self, hay: exp.Expr, needle: str) -> exp.Expr:
        return exp.GT(this=fn("LOCATE", self.binary(self.param(needle)), self.binary(hay)), expression=_n(0))

    def head10(self, e: exp.Expr) -> exp.Expr:
        return fn("SUBSTRING", e, _n(1), _n(10))

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        # REGEXP_INSTR exists in MySQL 8 and MariaDB (REGEXP_LIKE is MySQL only)
        shape = exp.GT(this=fn("REGEXP_INSTR", self.binary(head), _s("^[0-9]{4}-[0-9]{2}-[0-9]{2}$")),
                       expression=_n(0))
        return AND(shape, exp.Case(ifs=[exp.If(this=shape.copy(), true=self.day_ok_tail(head.copy()))]))


@functools.cache
def _mysql_key_lookup() -> exp.Expr:
    return sqlglot.parse_one(
        "SELECT JSON_EXTRACT(JSON_EXTRACT(__p, '$.*'), CONCAT('$[', k.i - 1, ']')) FROM JSON_TABLE(JSON_KEYS(__p), "
        "'$[*]' COLUMNS(i FOR ORDINALITY, name LONGTEXT PATH '$')) AS k "
        "WHERE CAST(k.name AS BINARY) = CAST(__k AS BINARY)", read="mysql")


class DuckDBFamily(Family):
    """DuckDB's JSON extension; paths are RFC 6901 JSON Pointers (any key, arrays by canonical index)."""

    name = "duckdb"
    kinds = {"null": ("NULL",), "string": ("VARCHAR",), "number": ("BIGINT", "UBIGINT", "DOUBLE", "HUGEINT"),
             "true": ("BOOLEAN",), "false": ("BOOLEAN",), "array": ("ARRAY",), "object": ("OBJECT",)}

    def root(self, doc: exp.Expr) -> J:
        return J(doc, None)

    def child(self, parent: J, seg: str, depth: int) -> J:
        piece = "/" + seg.replace("~", "~0").replace("/", "~1")
        if parent.path is None:
            return J(parent.root, self.param(piece))
        return J(parent.root, exp.DPipe(this=parent.path, expression=self.param(piece), safe=True))

    def _args(self, j: J) -> list[exp.Expr]:
        assert j.root is not None
        return [j.root, _s("$")] if j.path is None else [j.root, j.path]

    def typ(self, j: J) -> exp.Expr:
        return fn("json_type", *self._args(j))

    def kind_is(self, j: J, kinds: tuple[str, ...]) -> exp.Expr:
        cond = super().kind_is(j, kinds)
        if ("true" in kinds) != ("false" in kinds):
            want = "true" if "true" in kinds else "false"
            cond = AND(cond, exp.EQ(this=self.text(j), expression=_s(want)))
        return cond

    def text(self, j: J) -> exp.Expr:
        return fn("json_extract_string", *self._args(j))

    def num(self, j: J) -> exp.Expr:
        return exp.Cast(this=self.text(j), to=exp.DataType.build("DOUBLE"))

    def json_text(self, j: J) -> exp.Expr:
        return exp.Cast(this=fn("json_extract", *self._args(j)), to=exp.DataType.build("VARCHAR"))

    def array_len(self, j: J) -> exp.Expr:
        return fn("json_array_length", *self._args(j))

    def elements(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        assert j.root is not None
        doc = j.root if j.path is None else fn("json_extract", j.root, j.path)  # json_each wants a '$' path
        return alias_table(fn("json_each", doc), alias), J(col("value", alias))

    members = elements

    def contains(self, hay: exp.Expr, needle: str) -> exp.Expr:
        return exp.GT(this=fn("strpos", hay, self.param(needle)), expression=_n(0))

    def starts(self, hay: exp.Expr, needle: str) -> exp.Expr:
        return fn("starts_with", hay, self.param(needle))

    def ends(self, hay: exp.Expr, needle: str) -> exp.Expr:
        return fn("suffix", hay, self.param(needle))

    def head10(self, e: exp.Expr) -> exp.Expr:
        return fn("substr", e, _n(1), _n(10))

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        shape = fn("regexp_full_match", head, _s("[0-9]{4}-[0-9]{2}-[0-9]{2}"))
        real = exp.Not(this=exp.Is(this=fn("try_strptime", head.copy(), _s("%Y-%m-%d")), expression=exp.Null()))
        return AND(shape, real, exp.GTE(this=head.copy(), expression=_s("0001")))


class PostgresFamily(Family):
    """jsonb functions; ``icu_lower`` folds with the ICU root collation (matches Python str.lower)."""

    name = "postgres"
    kinds = {"null": ("null",), "string": ("string",), "number": ("number",), "true": ("boolean",),
             "false": ("boolean",), "array": ("array",), "object": ("object",)}
    icu_lower = False

    def mod(self, e: exp.Expr, n: int) -> exp.Expr:
        """MOD(): no '%' operator in SQL text that %s-style drivers format."""
        return fn("MOD", e, _n(n))

    def root(self, doc: exp.Expr) -> J:
        return J(exp.Cast(this=doc, to=exp.DataType.build("JSONB")) if self.cast_root else doc)

    cast_root = True

    def child(self, parent: J, seg: str, depth: int) -> J:
        assert parent.root is not None
        by_key = fn("jsonb_object_field", parent.root, exp.Cast(this=self.param(seg), to=exp.DataType.build("TEXT")))
        if depth > 0 and canonical_index(seg):
            by_idx = fn("jsonb_array_element", parent.root.copy(), exp.Cast(this=self.param(int(seg)),
                                                                            to=exp.DataType.build("INT")))
            return J(exp.Case(ifs=[exp.If(this=self.kind_is(parent, ("array",)), true=by_idx)], default=by_key))
        return J(by_key)

    def typ(self, j: J) -> exp.Expr:
        assert j.root is not None
        return fn("jsonb_typeof", j.root)

    def missing(self, j: J) -> exp.Expr:
        assert j.root is not None
        return exp.Is(this=j.root, expression=exp.Null())

    def kind_is(self, j: J, kinds: tuple[str, ...]) -> exp.Expr:
        cond = super().kind_is(j, kinds)
        if ("true" in kinds) != ("false" in kinds):
            want = "true" if "true" in kinds else "false"
            cond = AND(cond, exp.EQ(this=self.json_text(j), expression=_s(want)))
        return cond

    def text(self, j: J) -> exp.Expr:
        assert j.root is not None
        return exp.JSONBExtractScalar(this=j.root, expression=_s("{}"))

    def num(self, j: J) -> exp.Expr:
        return exp.Cast(this=self.text(j), to=exp.DataType.build("DOUBLE PRECISION", dialect="postgres"))

    def json_text(self, j: J) -> exp.Expr:
        assert j.root is not None
        return exp.Cast(this=j.root, to=exp.DataType.build("TEXT"))

    def array_len(self, j: J) -> exp.Expr:
        assert j.root is not None
        return fn("jsonb_array_length", j.root)

    def _expand(self, func: str, j: J, kind: str, empty: str, alias: str, cols: tuple[str, ...]) -> exp.Expr:
        assert j.root is not None
        guarded = exp.Case(ifs=[exp.If(this=exp.EQ(this=fn("jsonb_typeof", j.root), expression=_s(kind)),
                                       true=j.root.copy())],
                           default=exp.Cast(this=_s(empty), to=exp.DataType.build("JSONB")))
        return alias_table(fn(func, guarded), alias, cols)

    def elements(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        return self._expand("jsonb_array_elements", j, "array", "[]", alias, ("v",)), J(col("v", alias))

    def members(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        return self._expand("jsonb_each", j, "object", "{}", alias, ("k", "v")), J(col("v", alias))

    def lower(self, e: exp.Expr) -> exp.Expr:
        if self.icu_lower:
            return exp.Lower(this=exp.Collate(this=e, expression=exp.to_identifier("und-x-icu", quoted=True)))
        return exp.Lower(this=e)

    def binary(self, e: exp.Expr) -> exp.Expr:
        return exp.Collate(this=e, expression=exp.to_identifier("C", quoted=True))

    def contains(self, hay: exp.Expr, needle: str) -> exp.Expr:
        return exp.GT(this=fn("strpos", hay, self.param(needle)), expression=_n(0))

    def head10(self, e: exp.Expr) -> exp.Expr:
        return fn("substr", e, _n(1), _n(10))

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        shape = exp.RegexpLike(this=head, expression=_s("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
        return AND(shape, exp.Case(ifs=[exp.If(this=shape.copy(), true=self.day_ok_tail(head.copy()))]))


_SPARK_NUM = ("BIGINT", "INT", "SMALLINT", "TINYINT", "DOUBLE", "FLOAT")


class SparkFamily(Family):
    """Spark >= 4.0 (and Databricks) VARIANT: ``parse_json(data)``, ``schema_of_variant`` for the JSON
    type, ``try_element_at`` on MAP/ARRAY casts for keys and indices (keys need no path escaping), and
    higher-order ``exists`` instead of correlated subqueries."""

    name = "spark"

    def root(self, doc: exp.Expr) -> J:
        return J(fn("parse_json", doc))

    def _cast(self, v: exp.Expr, to: str) -> exp.Expr:
        return exp.TryCast(this=v, to=exp.DataType.build(to, dialect="spark"), safe=True)

    def child(self, parent: J, seg: str, depth: int) -> J:
        assert parent.root is not None
        by_key = fn("try_element_at", self._cast(parent.root, "MAP<STRING, VARIANT>"), self.param(seg))
        if depth > 0 and canonical_index(seg):
            by_idx = fn("try_element_at", self._cast(parent.root.copy(), "ARRAY<VARIANT>"), self.param(int(seg) + 1))
            return J(exp.Case(ifs=[exp.If(this=self.kind_is(parent, ("array",)), true=by_idx)], default=by_key))
        return J(by_key)

    def typ(self, j: J) -> exp.Expr:
        assert j.root is not None
        return fn("schema_of_variant", j.root)

    def kind_is(self, j: J, kinds: tuple[str, ...]) -> exp.Expr:
        t = self.typ(j)
        conds: list[exp.Expr] = []
        for k in dict.fromkeys(kinds):
            if k == "string":
                conds.append(exp.EQ(this=t.copy(), expression=_s("STRING")))
            elif k == "null":
                conds.append(exp.EQ(this=t.copy(), expression=_s("VOID")))
            elif k == "number":
                conds.append(OR(exp.In(this=t.copy(), expressions=[_s(x) for x in _SPARK_NUM]),
                                fn("startswith", t.copy(), _s("DECIMAL"))))
            elif k in ("array", "object"):
                conds.append(fn("startswith", t.copy(), _s(k.upper())))
            elif k in ("true", "false") and not ("true" in kinds and "false" in kinds and k == "false"):
                both = "true" in kinds and "false" in kinds
                is_bool = exp.EQ(this=t.copy(), expression=_s("BOOLEAN"))
                conds.append(is_bool if both else AND(is_bool, exp.EQ(
                    this=self._get(j, "BOOLEAN"), expression=exp.true() if k == "true" else exp.false())))
        return conds[0] if len(conds) == 1 else OR(*[exp.Paren(this=c) for c in conds])

    def _get(self, j: J, typ: str) -> exp.Expr:
        assert j.root is not None
        return fn("try_variant_get", j.root, _s("$"), _s(typ.lower()))

    def text(self, j: J) -> exp.Expr:
        return self._get(j, "STRING")

    def num(self, j: J) -> exp.Expr:
        return self._get(j, "DOUBLE")

    def json_text(self, j: J) -> exp.Expr:
        assert j.root is not None
        return fn("to_json", j.root)

    def array_len(self, j: J) -> exp.Expr:
        assert j.root is not None
        return fn("array_size", self._cast(j.root, "ARRAY<VARIANT>"))

    def _lambda(self, arr: exp.Expr, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        var = exp.to_identifier(alias)
        body = cond(J(exp.column(var.copy())))
        # size(filter(...)) > 0: the `exists` HOF would read back as an EXISTS subquery
        kept = exp.ArrayFilter(this=arr, expression=exp.Lambda(this=body, expressions=[var]))
        return exp.GT(this=exp.ArraySize(this=kept), expression=_n(0))

    def any_element(self, j: J, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        assert j.root is not None
        return self._lambda(self._cast(j.root, "ARRAY<VARIANT>"), alias, cond)

    def any_member(self, j: J, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        assert j.root is not None
        return self._lambda(fn("map_values", self._cast(j.root, "MAP<STRING, VARIANT>")), alias, cond)

    def string_elements(self, j: J, alias: str) -> exp.Expr:
        assert j.root is not None
        arr = self._cast(j.root, "ARRAY<VARIANT>")
        var = exp.to_identifier(alias)
        keep = exp.Lambda(this=self.kind_is(J(exp.column(var.copy())), ("string",)), expressions=[var.copy()])
        get = exp.Lambda(this=self.text(J(exp.column(var.copy()))), expressions=[var.copy()])
        return fn("transform", exp.ArrayFilter(this=arr, expression=keep), get)

    def contains(self, hay: exp.Expr, needle: str) -> exp.Expr:
        return exp.GT(this=fn("instr", hay, self.param(needle)), expression=_n(0))

    def starts(self, hay: exp.Expr, needle: str) -> exp.Expr:
        return fn("startswith", hay, self.param(needle))

    def ends(self, hay: exp.Expr, needle: str) -> exp.Expr:
        return fn("endswith", hay, self.param(needle))

    def head10(self, e: exp.Expr) -> exp.Expr:
        return fn("substr", e, _n(1), _n(10))

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        shape = exp.RegexpLike(this=head, expression=_s("^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))
        return AND(shape, exp.Case(ifs=[exp.If(this=shape.copy(), true=self.day_ok_tail(head.copy()))]))


class GenericFamily(Family):
    """Dialects whose JSON functions filterdsl does not know: only record-level filters compile."""


FAMILIES: dict[str, type[Family]] = {
    "sqlite": SQLiteFamily,
    "duckdb": DuckDBFamily,
    "postgres": PostgresFamily,
    "mysql": MySQLFamily,
    "spark": SparkFamily,
}

#: sqlglot dialect -> JSON family used for the JSON document layout
DIALECT_FAMILY: dict[str, str] = {"sqlite": "sqlite", "duckdb": "duckdb", "postgres": "postgres", "mysql": "mysql",
                                  "spark": "spark", "databricks": "spark"}


def family_for(dialect: str, param: ParamFn) -> Family:
    name = DIALECT_FAMILY.get(dialect)
    if name is None:
        return GenericFamily(param, dialect)
    return FAMILIES[name](param, dialect)
