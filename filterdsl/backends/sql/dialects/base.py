"""Per-engine JSON access for the JSON document layout.

A *family* knows one engine's JSON functions: how to reach a value below the ``data`` column, test its
JSON type, read it as text or number, expand an array into rows, and compare strings by code point.
Everything is built as sqlglot trees. Values only ever enter as bound parameters through ``param``;
field keys and path segments are string literals (an expression index only serves a query that names
the same key), written by ``literal`` in a form whose meaning no session setting changes
(``LITERAL_HAZARD``, ``safe_literals``; docs/security.md, "What is escaped").
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from filterdsl.backends.sql.shape import derive, length
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.semantics.days import DAY_PREFIX, valid_day
from filterdsl.semantics.paths import canonical_index  # noqa: F401  (the dialect modules use it)

ParamFn = Callable[[object], exp.Expr]
_CMP: dict[str, type[exp.Expr]] = {"eq": exp.EQ, "gt": exp.GT, "gte": exp.GTE, "lt": exp.LT, "lte": exp.LTE}

#: canonical JSON kinds; a missing key has no kind (SQL NULL)
KINDS = ("null", "string", "number", "true", "false", "array", "object")


#: chains longer than this are written as parenthesised halves: an engine parses ``a AND b AND c ...``
#: into one tree level per term, and SQLite stops at 1,000 levels ("Expression tree is too large")
BALANCE_OVER = 64


def _chain(join: type[exp.Connector], items: tuple[exp.Expr, ...]) -> exp.Expr:
    if not items:  # the identities: an empty AND holds, an empty OR does not
        return exp.true() if join is exp.And else exp.false()
    if len(items) <= BALANCE_OVER:
        return exp.and_(*items, copy=False) if join is exp.And else exp.or_(*items, copy=False)
    half = len(items) // 2
    return join(
        this=exp.Paren(this=_chain(join, items[:half])), expression=exp.Paren(this=_chain(join, items[half:]))
    )


def AND(*items: exp.Expr) -> exp.Expr:  # noqa: N802 - reads like SQL
    """n-ary AND without sqlglot's defensive deep copies (trees here are built once); long chains
    nest as balanced halves, so the parse depth grows with log n, not n."""
    return _chain(exp.And, items)


def OR(*items: exp.Expr) -> exp.Expr:  # noqa: N802
    return _chain(exp.Or, items)


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


@functools.lru_cache(maxsize=256)
def _dtype(name: str, dialect: str | None) -> exp.DataType:
    return exp.DataType.build(name, dialect=dialect)


def dtype(name: str, dialect: str | None = None) -> exp.DataType:
    """``exp.DataType.build`` parses its text on every call (most of a compile's time): built once here."""
    return _dtype(name, dialect).copy()


def col(name: str, table: str | None = None) -> exp.Column:
    """A quoted column reference, built directly (``exp.column`` copies its arguments)."""
    if table:
        return exp.Column(
            this=exp.Identifier(this=name, quoted=True), table=exp.Identifier(this=table, quoted=True)
        )
    return exp.Column(this=exp.Identifier(this=name, quoted=True))


def alias_table(this: exp.Expr, alias: str, columns: tuple[str, ...] = ()) -> exp.Expr:
    ta = exp.TableAlias(
        this=exp.to_identifier(alias, quoted=True),
        columns=[exp.to_identifier(c, quoted=True) for c in columns] or None,
    )
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
    #: a top-level key of a table's document (PostgreSQL: containment ``data @> {...}`` applies)
    top: bool = False


#: families written for the columns layout only (no JSON document layout there)
COLUMNS_ONLY = ("datafusion",)


def not_expressible(dialect: str, what: str, layout: str = "json") -> FilterError:
    """The refusal names the layout in use and the dialects that can say ``what`` in it."""
    from filterdsl.backends.sql.dialects import DIALECT_FAMILY

    if layout == "columns":
        return FilterError(
            [
                Diagnostic(
                    "not-expressible",
                    f"the SQL dialect {dialect!r} cannot express {what} in the columns layout (filterdsl writes "
                    f"dates, tags and relations of the columns layout for: {', '.join(sorted(DIALECT_FAMILY))}); "
                    f"use one of those dialects or the JSON document layout",
                    Location(param="dialect"),
                )
            ]
        )
    json_ones = sorted(d for d, f in DIALECT_FAMILY.items() if f not in COLUMNS_ONLY)
    return FilterError(
        [
            Diagnostic(
                "not-expressible",
                f"the SQL dialect {dialect!r} cannot express {what} in the JSON document layout (filterdsl "
                f"knows the JSON functions of: {', '.join(json_ones)}); use one of those dialects "
                f"or a columns layout",
                Location(param="dialect"),
            )
        ]
    )


class Family:
    """Interface and shared helpers; subclasses implement one engine's JSON functions."""

    name = "generic"
    kinds: dict[str, tuple[str, ...]] = {}
    #: the layout being compiled ("json" or "columns"), named in refusals
    layout = "json"

    #: the engine's string functions where it has them (else the portable sqlglot forms below are used):
    #: position of a needle (1-based, 0 when absent), starts-with, ends-with, substring
    POSITION_FN: str | None = None
    STARTS_FN: str | None = None
    ENDS_FN: str | None = None
    SUBSTR_FN: str | None = None
    # ---- what the engine's SQL can say (declared per family, as sqlglot's dialect classes declare
    # theirs; the compiler and to_sql read these, never a dialect's name)
    #: a predicate is a value: CASE may return it, COALESCE may take it (not T-SQL, Oracle...)
    BOOL_VALUES = False
    #: OFFSET without LIMIT is accepted (SQLite and MySQL need a LIMIT before OFFSET)
    OFFSET_ALONE = False
    #: LIMIT must fit a 32-bit INT (Spark 2, Hive)
    INT_LIMIT = False
    #: the empty string is stored as NULL (Oracle): "not empty" is IS NOT NULL, as ``<> ''`` is unknown
    EMPTY_IS_NULL = False
    #: this family's output runs in the test suite; every other dialect's output is parsed back, to
    #: refuse what sqlglot writes but is not SQL there (PRQL, DAX)
    VERIFIED = False
    #: relations as uncorrelated subqueries (``id IN (SELECT ...)``): correlated ones are restricted
    uncorrelated = False
    #: the negation of a comparison with bound values is written as the engine pushes it into a scan
    #: (Parquet): ``NOT (x <=> v)``, ``c IS NULL OR NOT (c op v)``, not ``NOT COALESCE(x = v, FALSE)``
    #: (compiler._null_safe_not); exact, since a bound value is never NULL
    NULL_SAFE_NOT = False

    # ---- what the engine's indexes serve (``filterdsl indexes``, backends/sql/indexes.py)
    #: per layout ("json", "columns"), the index form that serves each kind of use (eq, in, range, state,
    #: date, text-range, ci, ci-prefix, tags, money-eq, money-range, refcol); the advisor builds each
    #: form from this family's own expressions, so an advised index names exactly the SQL's expression
    INDEX_FORMS: dict[str, dict[str, str]] = {}
    #: per layout, why no index serves the other kinds (None: nothing is said; absent: a generic note)
    INDEX_WHY: dict[str, str | None] = {}
    #: uses whose SQL tests the value's JSON type: the advisor prints expression statistics on ``typ``
    KIND_STATISTICS: tuple[str, ...] = ()
    #: the ORDER BY items an index can hold: "expressions", "columns" (no expression indexes) or None
    ORDER_INDEX: str | None = None
    #: ``CREATE INDEX IF NOT EXISTS`` is accepted (not MySQL 8)
    CREATE_INDEX_IF_NOT_EXISTS = True
    #: the family writes ``JsonLayout(text_indexes=True)``'s forms: equality and day ranges that also
    #: test the value's text, which a DBA's index on that text serves; the advisor then prints, for
    #: each kind of use in ``INDEX_FORMS["json_text"]``, that form instead of ``INDEX_FORMS["json"]``'s
    TEXT_INDEXES = False

    @staticmethod
    def typed_params(tree: exp.Expr, params: dict[str, Any]) -> exp.Expr:
        """The tree with placeholders as the engine takes them (ClickHouse: typed); as it is elsewhere."""
        return tree

    #: valid_day is one anchored DAY_PREFIX regex (the engine's regex has look-ahead)
    DAY_REGEX = False
    #: sorts write the rank and text values as one code-point text item (the rank character first),
    #: the JSON value of numbers and booleans as a second (compiler._json_sort_keyed): few, cheap items
    #: that an expression index names; dates of the columns layout as one '1'+day / '2'+text item
    SORT_KEY_TEXT = False
    #: ``typ`` of a missing key is NULL (ClickHouse: 'Null', as for JSON null)
    MISSING_TYPE_IS_NULL = True
    #: sorts on a JSON field are one ``CASE`` on the value's type per ORDER BY item
    #: (compiler._json_sort_by_kind): the engine's type names, from ``kinds``, are ``CASE`` operands
    SORT_BY_KIND = False

    def sort_kinds(self) -> dict[str, tuple[str, ...]] | None:
        """The type names ``typ`` gives per kind (null, string, number, boolean, array, object) for the
        sort's ``CASE`` operands; None: the sort is a rank and one item per kind (compiler._json_sort)."""
        if not self.SORT_BY_KIND:
            return None
        k = self.kinds
        return {
            "null": k["null"],
            "string": k["string"],
            "number": k["number"],
            "boolean": tuple(dict.fromkeys(k["true"] + k["false"])),
            "array": k["array"],
            "object": k["object"],
        }

    #: the engine's JSON type says "boolean" for both: true and false are told apart by their text
    ONE_BOOLEAN_TYPE = False
    #: ``text(j)`` of a non-string JSON value is its JSON text (a number, true, false, null, ``[``...,
    #: ``{``...) or NULL, none of which starts with a day: a date test needs no kind test. Leaving it out
    #: keeps the planner's row estimate that of the range (PostgreSQL guesses 0.5% for a typeof test)
    TEXT_OF_NONSTRING_IS_JSON = False

    def __init__(self, param: ParamFn, dialect: str):
        self.param = param
        self.dialect = dialect

    # ---- navigation / inspection (engine specific)
    def root(self, doc: exp.Expr, top: bool = False) -> J:
        """``top``: ``doc`` is a table's document column (not a column of the columns layout)."""
        raise not_expressible(self.dialect, "access to JSON field values", self.layout)

    def child(self, parent: J, seg: str, depth: int) -> J:
        raise not_expressible(self.dialect, "access to JSON field values", self.layout)

    def typ(self, j: J) -> exp.Expr:
        raise not_expressible(self.dialect, "JSON type checks", self.layout)

    def value(self, j: J) -> exp.Expr:
        """The JSON value itself as one expression (what an expression index names)."""
        return self.text(j)

    def text(self, j: J) -> exp.Expr:
        """The value as SQL text; meaningful only where the kind is string."""
        raise not_expressible(self.dialect, "JSON string values", self.layout)

    def num(self, j: J) -> exp.Expr:
        raise not_expressible(self.dialect, "JSON number values", self.layout)

    def json_text(self, j: J) -> exp.Expr:
        raise not_expressible(self.dialect, "JSON text", self.layout)

    def array_len(self, j: J) -> exp.Expr:
        raise not_expressible(self.dialect, "JSON array length", self.layout)

    def elements(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        """A FROM item expanding the array ``j`` into rows, and the element value of a row."""
        raise not_expressible(self.dialect, "JSON array expansion", self.layout)

    def members(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        """A FROM item expanding the values of the object ``j`` into rows."""
        raise not_expressible(self.dialect, "JSON object expansion", self.layout)

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        if self.DAY_REGEX:
            return exp.RegexpLike(this=head, expression=_s(DAY_PREFIX))
        raise not_expressible(self.dialect, "date validation", self.layout)

    def valid_prefix(self, text: exp.Expr) -> exp.Expr:
        """The first 10 characters of ``text`` are a real day (SPEC 1.4)."""
        if self.DAY_REGEX:  # DAY_PREFIX is anchored at the start only: no substring needed
            return self.valid_day(text)
        return self.valid_day(self.head10(text))

    def any_element(self, j: J, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        """TRUE when some element of the array ``j`` satisfies ``cond`` (EXISTS over the expansion)."""
        frm, e = self.elements(j, alias)
        return exp.Exists(
            this=exp.select(_n(1), copy=False).from_(frm, copy=False).where(cond(e), copy=False)
        )

    def any_member(self, j: J, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        """TRUE when some member value of the object ``j`` satisfies ``cond``."""
        frm, e = self.members(j, alias)
        return exp.Exists(
            this=exp.select(_n(1), copy=False).from_(frm, copy=False).where(cond(e), copy=False)
        )

    def string_elements(self, j: J, alias: str) -> exp.Expr:
        """The string elements of the array ``j`` as an SQL array (Spark relations)."""
        raise not_expressible(self.dialect, "arrays of strings", self.layout)

    def is_bool(self, j: J, value: bool) -> exp.Expr:
        return self.kind_is(j, ("true" if value else "false",))

    def collect(self, e: exp.Expr) -> exp.Expr:
        """An aggregate collecting ``e`` into an array (uncorrelated refMultiple relations; Spark)."""
        return fn("collect_list", e)

    def overlap(self, listed: exp.Expr, ids: exp.Expr) -> exp.Expr:
        """The two arrays share an element (uncorrelated refMultiple relations; Spark)."""
        return fn("arrays_overlap", listed, ids)

    def key_text(self, text: str) -> exp.Expr:
        """A key or path piece as SQL: a literal (so an expression index can match it), bound only when
        it holds NUL, which no engine accepts in SQL text."""
        return self.param(text) if "\x00" in text else _s(text)

    # ---- string literals under every session setting
    #: characters whose meaning in a plain ``'...'`` literal, as sqlglot writes it for this dialect,
    #: depends on a session setting (PostgreSQL ``standard_conforming_strings``, MariaDB/MySQL
    #: ``NO_BACKSLASH_ESCAPES``, Spark ``escapedStringLiterals``); None: no setting changes it (SQLite,
    #: DuckDB, ClickHouse). Literals holding one are rewritten by ``safe_literals`` through ``literal``.
    LITERAL_HAZARD: re.Pattern[str] | None = None
    #: literals longer than this are rewritten by ``literal`` too (MariaDB: sqlglot escapes a literal
    #: character by character, about 3 us each, where the hex form is written at once)
    LONG_LITERAL: int | None = None

    def rewrites(self, text: str) -> bool:
        """``safe_literals`` rewrites a string literal holding ``text``."""
        hazard, long = self.LITERAL_HAZARD, self.LONG_LITERAL
        return (hazard is not None and hazard.search(text) is not None) or (
            long is not None and len(text) > long
        )

    #: NUL (U+0000) in a string value: True where the engine stores, compares and searches it exactly
    #: (it is bound), False where it cannot (refused: ``bad-value``, guard.py; a NUL in a key is
    #: refused on every dialect)
    HOLDS_NUL = True
    #: why the engine cannot hold a NUL, where HOLDS_NUL is False (named in the refusal)
    NUL_WHY = ""

    #: the largest statement (bytes of SQL text plus string parameters) ``to_sql`` hands to this
    #: engine's drivers; above it, ``too-large`` (MariaDB's default max_allowed_packet is 16 MiB, and
    #: pymysql sends the parameters inside the statement text)
    MAX_STATEMENT_BYTES = 16 * 2**20
    #: the drivers send the parameters inside the statement (pymysql formats them into the text), so
    #: they count towards MAX_STATEMENT_BYTES; False where they travel apart (ClickHouse settings)
    PARAMS_IN_STATEMENT = True

    def literal(self, text: str) -> exp.Expr:
        """``text`` as a string constant that means ``text`` under every session setting."""
        return _s(text)

    def safe_literals(self, tree: exp.Expr) -> exp.Expr:
        """``tree`` with every string literal that holds a ``LITERAL_HAZARD`` character rewritten by
        ``literal`` (in place; a bare literal is returned rewritten)."""
        if self.LITERAL_HAZARD is None and self.LONG_LITERAL is None:
            return tree
        if type(tree) is exp.Literal:
            return self.literal(tree.this) if tree.is_string and self.rewrites(tree.this) else tree
        found: dict[int, exp.Expr] = {
            id(n): n for n in tree.walk() if type(n) is exp.Literal and n.is_string and self.rewrites(n.this)
        }
        if found:
            self.rewrite_literals(tree, found)
        return tree

    def rewrite_literals(self, tree: exp.Expr, found: dict[int, exp.Expr]) -> None:
        """Rewrite the literals in ``found`` (by id; the dict keeps them alive, so no new node can
        reuse an id) with ``literal``, at every place they occur (the families share one path literal
        between several expressions, so ``replace``, which follows a node's last parent only, would
        leave the other places as they were)."""
        stack = [tree]
        while stack:
            node = stack.pop()
            for key, v in node.args.items():
                if isinstance(v, exp.Expr):
                    if id(v) in found:
                        node.set(key, self.literal(v.this))
                    else:
                        stack.append(v)
                elif type(v) is list:
                    for i, c in enumerate(v):
                        if isinstance(c, exp.Expr):
                            if id(c) in found:
                                new = self.literal(c.this)
                                new.parent, new.arg_key, new.index = node, key, i
                                v[i] = new
                            else:
                                stack.append(c)

    #: PostgreSQL options set by the compiler (other families ignore them)
    icu_lower = False
    cast_root = False
    #: ``JsonLayout(text_indexes=True)`` on a family with TEXT_INDEXES (set by the compiler)
    text_indexes = False

    #: no expression this family emits in a WHERE can raise, so conditions are plain ANDs (no CASE
    #: guard deciding evaluation order), which keeps them open to the planner's index matching
    safe = True

    # ---- typed tests on a JSON value (exact; each family writes them in the form its indexes serve)
    def typed(self, kind: exp.Expr, test: exp.Expr) -> exp.Expr:
        """``test`` on a value of the kind ``kind`` tests: the kind first (MariaDB puts it last)."""
        return AND(kind, test)

    def str_eq(self, j: J, value: object) -> exp.Expr:
        """``j`` is the JSON string ``value`` (compared by code point)."""
        return self.typed(self.kind_is(j, ("string",)), self.text_eq(self.text(j), value, indexable=False))

    def str_in(self, j: J, values: tuple[object, ...]) -> exp.Expr:
        return self.typed(self.kind_is(j, ("string",)), self.text_in(self.text(j), values, indexable=False))

    def num_cmp(self, j: J, op: str, value: object) -> exp.Expr:
        """``j`` is a JSON number and ``j <op> value``.

        Where ``num`` is a double that may round a stored integer (``exact_int`` is not None), two
        numbers with the same double are told apart by their exact integer values: a filter value is a
        double (an integer within 2^53 is one), so ``x <op> v`` is ``(double(x), exact(x)) <op> (v,
        exact(v))`` compared in that order (rounding is monotone, so the doubles decide unless equal).
        """
        kind = self.kind_is(j, ("number",))
        k = self.exact_int(j)
        if k is None:
            return self.typed(kind, _CMP[op](this=self.num(j), expression=self.param(value)))
        same = exp.EQ(this=self.num(j), expression=self.param(value))
        tie = _CMP[op](this=k, expression=self.exact_int_param(self.param(value)))
        if op == "eq":
            return self.typed(kind, AND(same, tie))
        strict = (exp.GT if op in ("gt", "gte") else exp.LT)(this=self.num(j), expression=self.param(value))
        return self.typed(kind, exp.Paren(this=OR(strict, AND(same, tie))))

    def exact_int(self, j: J) -> exp.Expr | None:
        """The JSON number ``j`` in the engine's exact integer type, for numbers whose doubles are equal
        (``num`` reads doubles: beyond 2^53 an integer rounds); None where ``num`` is exact already. Of a
        float it is the float's value converted the same way as ``exact_int_param`` converts a double."""
        return None

    def exact_int_param(self, p: exp.Expr) -> exp.Expr:
        """A filter value (a bound number) as ``exact_int`` reads a stored number."""
        raise NotImplementedError

    def bool_eq(self, j: J, value: bool) -> exp.Expr:
        return self.is_bool(j, value)

    def date_cmp(
        self, text: exp.Expr, op: str, day: object, indexable: bool = False, check: bool = True
    ) -> exp.Expr:
        """``text`` (SQL text) starts with a real day that is ``<op> day`` (SPEC 1.4: days compare).
        ``check=False`` leaves out the day check where another conjunct of the same AND has it (the
        second bound of a date range: the regex once per row, not twice).

        By code point, the first 10 characters compare with a day exactly as the whole text compares
        with that day (``>=``, ``<``) or with the next day (``>``, ``<=``), so the range is on the value
        itself, which an index on the value (PostgreSQL: ``COLLATE "C"``) serves.
        """
        t = self.binary(text)
        if type(day) is str and not valid_day(day):  # not a day (a hand-built AST): compare the first 10
            head = self.binary(self.head10(text.copy()))
            return AND(_CMP[op](this=head, expression=self.param(day)), self.valid_prefix(text.copy()))
        rng = self.day_bounds(t, op, day)
        return AND(rng, self.valid_prefix(text.copy())) if check else rng

    def day_bounds(self, t: exp.Expr, op: str, day: object) -> exp.Expr:
        """``t <op> day`` as bounds on ``t`` (``>=``/``<`` the day or the next day), for a text ``t``
        that compares with a day as code points do."""
        nxt = derive(day, "next_day")
        if op == "eq":
            return AND(
                exp.GTE(this=t, expression=self.param(day)), exp.LT(this=t.copy(), expression=self.param(nxt))
            )
        if op in ("gt", "lte"):
            return (exp.GTE if op == "gt" else exp.LT)(this=t, expression=self.param(nxt))
        return (exp.GTE if op == "gte" else exp.LT)(this=t, expression=self.param(day))

    def _by_kind(self, j: J, empty: bool) -> exp.Expr | None:
        """``is_empty`` (``empty``) or ``has_value`` as one ``CASE`` on the value's type (the key read
        three times, not once per kind), where the family has ``sort_kinds``. A missing key: a NULL
        type matches no branch (``is_empty`` FALSE); for ``has_value`` it is read as null (FALSE)."""
        kinds = self.sort_kinds()
        if kinds is None:
            return None
        null = exp.true() if empty else exp.false()
        text = (self.eq_empty if empty else self.ne_empty)(self.text(j))
        arr = (exp.EQ if empty else exp.GT)(this=self.array_len(j), expression=_n(0))
        ifs = [exp.If(this=_s(r), true=null.copy()) for r in kinds["null"]]
        ifs += [exp.If(this=_s(r), true=text.copy()) for r in kinds["string"]]
        ifs += [exp.If(this=_s(r), true=arr.copy()) for r in kinds["array"]]
        typ = self.sort_typ(j)
        if not empty and self.MISSING_TYPE_IS_NULL:
            typ = exp.Coalesce(this=typ, expressions=[_s(kinds["null"][0])])
        return exp.Case(this=typ, ifs=ifs, default=exp.false() if empty else exp.true())

    def is_empty(self, j: J) -> exp.Expr:
        # where a missing key's type is not NULL (ClickHouse: 'Null'), the kind tests tell it from null
        by_kind = self._by_kind(j, True) if self.MISSING_TYPE_IS_NULL else None
        if by_kind is not None:
            return by_kind
        return OR(
            self.kind_is(j, ("null",)),
            AND(self.kind_is(j, ("string",)), self.eq_empty(self.text(j))),
            AND(self.kind_is(j, ("array",)), exp.EQ(this=self.array_len(j), expression=_n(0))),
        )

    def has_value(self, j: J) -> exp.Expr:
        by_kind = self._by_kind(j, False)
        if by_kind is not None:
            return by_kind
        return OR(
            self.kind_is(j, ("number", "true", "false", "object")),
            AND(self.kind_is(j, ("string",)), self.ne_empty(self.text(j))),
            AND(self.kind_is(j, ("array",)), exp.GT(this=self.array_len(j), expression=_n(0))),
        )

    def tags_all(self, j: J, values: tuple[object, ...], alias: Callable[[], str]) -> exp.Expr:
        """``j`` is an array holding every one of ``values`` as a string element: one pass over the
        array whatever the number of values (the key is written twice, not once per value)."""
        vals = tuple(dict.fromkeys(values))
        if len(vals) == 1:
            return self.tags_any(j, vals, alias)
        return AND(self.kind_is(j, ("array",)), self.holds_all(j, vals, alias()))

    def holds_all(self, j: J, values: tuple[object, ...], alias: str) -> exp.Expr:
        """The array ``j`` holds each of the distinct ``values`` as a string element: the number of
        distinct (by code point) string elements among ``values`` is ``len(values)``."""
        frm, e = self.elements(j, alias)
        hit = AND(self.kind_is(e, ("string",)), self.text_in(self.text(e), values, indexable=False))
        n = exp.Count(this=exp.Distinct(expressions=[self.binary(self.text(e))]))
        sub = exp.select(n, copy=False).from_(frm, copy=False).where(hit, copy=False)
        return exp.EQ(this=exp.Subquery(this=sub), expression=_n(len(values)))

    def tags_any(self, j: J, values: tuple[object, ...], alias: Callable[[], str]) -> exp.Expr:
        return AND(
            self.kind_is(j, ("array",)),
            self.any_element(
                j,
                alias(),
                lambda e: AND(
                    self.kind_is(e, ("string",)), self.text_in(self.text(e), values, indexable=False)
                ),
            ),
        )

    def tags_exactly(self, j: J, values: tuple[object, ...], alias: Callable[[], str]) -> exp.Expr:
        """Every value present and no element outside ``values`` (set semantics)."""

        def bad(e: J) -> exp.Expr:
            ok = exp.Coalesce(
                this=AND(self.kind_is(e, ("string",)), self.text_in(self.text(e), values, indexable=False)),
                expressions=[exp.false()],
            )
            return exp.Not(this=exp.Paren(this=ok))

        return AND(self.tags_all(j, values, alias), exp.Not(this=self.any_element(j, alias(), bad)))

    # ---- SQL text values (columns, record attributes, extracted JSON strings)
    def same_text(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        """Two SQL texts are equal by code point, in a form an index on ``a`` serves where one can."""
        return exp.EQ(this=self.binary(a), expression=self.binary(b))

    def text_eq(self, e: exp.Expr, value: object, indexable: bool = True) -> exp.Expr:
        """``e = value`` by code point; ``indexable`` asks for a form a plain index on ``e`` serves."""
        return exp.EQ(this=self.binary(e), expression=self.bound(self.param(value)))

    def text_in(self, e: exp.Expr, values: tuple[object, ...], indexable: bool = True) -> exp.Expr:
        vals = tuple(dict.fromkeys(values))
        if len(vals) == 1:
            return self.text_eq(e, vals[0], indexable)
        return exp.In(this=self.binary(e), expressions=[self.bound(self.param(v)) for v in vals])

    def ci_prefix_prefilter(self, column: exp.Expr, lowered: Any, collation: str) -> exp.Expr | None:
        """A test on the column itself that its index serves and that holds on every row a
        case-insensitive prefix of ``lowered`` matches (layout.ci_collation); None where there is none."""
        return None

    def ci(self, hay: exp.Expr, op: str, needle: object) -> exp.Expr:
        """Case-insensitive ``contains``/``starts``/``ends``/``ieq`` of the lowered ``needle`` in ``hay``."""
        low = self.lower(hay)
        if op == "contains":
            return self.contains(low, needle)
        if op == "starts":
            return self.starts(low, needle)
        if op == "ends":
            return self.ends(low, needle)
        return self.text_eq(low, needle, indexable=False)

    #: a row comparison ``(a, b) >= (x, y)`` on a prefix of an order index's columns is an index
    #: condition (PostgreSQL): keyset pages then start inside the index at the cursor (Query.after)
    ROW_COMPARE_INDEXED = False

    def json_param(self, p: exp.Expr) -> exp.Expr:
        """A bound JSON text as a JSON value the family's accessors read (a keyset cursor's value)."""
        return p

    def text_param(self, p: exp.Expr) -> exp.Expr:
        """A bound text where the engine may not infer its type (a keyset cursor's column value, which a
        date's sort form also tests with ``IS NULL``)."""
        return p

    def sort_num(self, j: J) -> exp.Expr:
        """A number value that orders numerically (inside a CASE that checked the kind)."""
        return self.num(j)

    def sort_number_column(self, c: exp.Expr) -> exp.Expr:
        """A number column (columns layout) as it sorts: -0.0 and 0 tie (SPEC 8), as the column itself
        where the engine's order already says so (an index on the column then serves the sort)."""
        return c

    def sort_typ(self, j: J) -> exp.Expr:
        """The value's type as the sort's ``CASE`` operand, one of the names ``sort_kinds`` lists."""
        return self.typ(j)

    def sort_text(self, j: J) -> exp.Expr:
        """A string's text as a sort reads it (``text``, or a form reading the key fewer times)."""
        return self.text(j)

    def sort_bool_text(self, j: J) -> exp.Expr:
        """A boolean's text, false before true by code point (``0``/``1`` or ``false``/``true``), read
        as ``sort_text`` reads (a keyset cursor's value, a bound JSON text, must read the same)."""
        return self.sort_text(j)

    def sort_bool(self, j: J) -> exp.Expr:
        """A boolean value ordering false before true (inside a CASE that checked the kind)."""
        return exp.Case(ifs=[exp.If(this=self.is_bool(j, True), true=_n(1))], default=_n(0))

    # ---- derived
    def kind_is(self, j: J, kinds: tuple[str, ...]) -> exp.Expr:
        raw = tuple(dict.fromkeys(t for k in kinds for t in self.kinds[k]))
        cond = _in(self.typ(j), raw)
        if self.ONE_BOOLEAN_TYPE and ("true" in kinds) != ("false" in kinds):
            want = "true" if "true" in kinds else "false"
            cond = AND(cond, exp.EQ(this=self.bool_text(j), expression=_s(want)))
        return cond

    def bool_text(self, j: J) -> exp.Expr:
        """The text of a JSON boolean (``true``/``false``), where ONE_BOOLEAN_TYPE needs it."""
        return self.json_text(j)

    def missing(self, j: J) -> exp.Expr:
        return exp.Is(this=self.typ(j), expression=exp.Null())

    # ---- strings (portable defaults)
    def lower(self, e: exp.Expr) -> exp.Expr:
        return exp.Lower(this=e)

    def binary(self, e: exp.Expr) -> exp.Expr:
        """A string expression that compares and sorts by code point."""
        return e

    def bound(self, e: exp.Expr) -> exp.Expr:
        """The value side of a comparison with a ``binary`` expression."""
        return self.binary(e)

    def length(self, e: exp.Expr) -> exp.Expr:
        return exp.Length(this=e)

    def eq_empty(self, e: exp.Expr) -> exp.Expr:
        """``e`` is the empty string (PAD SPACE collations would also say so of ``' '``)."""
        return exp.EQ(this=e, expression=_s(""))

    def ne_empty(self, e: exp.Expr) -> exp.Expr:
        return exp.NEQ(this=e, expression=_s(""))

    def contains(self, hay: exp.Expr, needle: Any) -> exp.Expr:
        if self.POSITION_FN:
            return exp.GT(this=fn(self.POSITION_FN, hay, self.param(needle)), expression=_n(0))
        return exp.GT(this=exp.StrPosition(this=hay, substr=self.param(needle)), expression=_n(0))

    def starts(self, hay: exp.Expr, needle: Any) -> exp.Expr:
        if self.STARTS_FN:
            return fn(self.STARTS_FN, hay, self.param(needle))
        n = length(needle)
        return exp.EQ(
            this=self.binary(exp.Substring(this=hay, start=_n(1), length=self.param(n))),
            expression=self.bound(self.param(needle)),
        )

    def ends(self, hay: exp.Expr, needle: Any) -> exp.Expr:
        if self.ENDS_FN:
            return fn(self.ENDS_FN, hay, self.param(needle))
        n = length(needle)
        start = exp.Add(this=exp.Sub(this=self.length(hay), expression=self.param(n)), expression=_n(1))
        return AND(
            exp.GTE(this=self.length(hay), expression=self.param(n)),
            exp.EQ(
                this=self.binary(exp.Substring(this=hay, start=start)),
                expression=self.bound(self.param(needle)),
            ),
        )

    def head10(self, e: exp.Expr) -> exp.Expr:
        if self.SUBSTR_FN:
            return fn(self.SUBSTR_FN, e, _n(1), _n(10))
        return exp.Substring(this=e, start=_n(1), length=_n(10))


class _PathFamily(Family):
    """Families whose JSON functions take (document, path text): SQLite and MySQL/MariaDB."""

    def root(self, doc: exp.Expr, top: bool = False) -> J:
        return J(doc, None)

    @staticmethod
    def _key_piece(seg: str) -> str:
        return '."' + json.dumps(seg, ensure_ascii=False)[1:-1] + '"'

    def _cat(self, a: exp.Expr | None, piece: str) -> exp.Expr:
        # keys are literals (escaped by sqlglot), so an expression index on the same path matches
        if a is None:
            return _s("$" + piece)
        if isinstance(a, exp.Literal):
            return _s(a.this + piece)
        return exp.DPipe(this=a, expression=_s(piece), safe=True)

    def child(self, parent: J, seg: str, depth: int) -> J:
        if depth > 0 and canonical_index(seg):
            arr = self._cat(parent.path, f"[{seg}]")
            obj = self._cat(parent.path, self._key_piece(seg))
            path: exp.Expr = exp.Case(
                ifs=[exp.If(this=self.kind_is(parent, ("array",)), true=arr)], default=obj
            )
        else:
            path = self._cat(parent.path, self._key_piece(seg))
        return J(parent.root, path)
