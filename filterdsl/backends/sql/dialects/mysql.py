"""MySQL and MariaDB: JSON_EXTRACT/JSON_VALUE access, and the collation rules an index on a column or a generated column still serves."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

import sqlglot
from sqlglot import exp

from filterdsl.backends.sql.dialects.base import (
    AND,
    J,
    _n,
    _PathFamily,
    _s,
    alias_table,
    col,
    dtype,
    fn,
)
from filterdsl.backends.sql.layout import CI_COLLATIONS
from filterdsl.backends.sql.shape import derive, length
from filterdsl.semantics.days import DAY_PREFIX, valid_day

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class MySQLFamily(_PathFamily):
    """MySQL 8 and MariaDB >= 10.6 (JSON_TABLE); strings compare as utf8mb4 bytes (code point order)."""

    ONE_BOOLEAN_TYPE = True
    #: a relation on a column is ``ref IN (SELECT id ...)``, which MariaDB runs as a semi-join
    RELATION_IN = True

    #: sqlglot writes a backslash as ``\\`` and control characters as ``\n``..., which mean other text
    #: under ``NO_BACKSLASH_ESCAPES`` (keys holding ``\`` or ``"`` then matched nothing: issue 26 H3);
    #: ``_utf8mb4 X'...'`` (hex digits) means the same text in every sql_mode
    LITERAL_HAZARD = re.compile(r"[\\\x00-\x1f\x7f]")
    LONG_LITERAL = 256

    SUBSTR_FN = "SUBSTRING"
    TEXT_OF_NONSTRING_IS_JSON = True

    name = "mysql"
    BOOL_VALUES = True
    SORT_BY_KIND = True
    VERIFIED = True
    INDEX_FORMS = {
        "json": {
            "refcol": "note:relation on {name}: MariaDB and MySQL index no JSON value; map the ref field to a "
            "column (--layout columns) and its index serves the join"
        },
        "columns": {
            **dict.fromkeys(("eq", "in", "range", "state", "date"), "column"),
            "ci-prefix": "ci_collation_column",
        },
    }
    INDEX_WHY = {
        "json": "MariaDB (before 11.8) and MySQL use an index on a JSON value only through a generated column "
        "named in the query: map such fields to columns (--layout columns)",
        "columns": "MariaDB compares text here byte-wise (CAST AS BINARY), which no index on a column of a "
        "case-insensitive or PAD SPACE collation serves",
    }
    ORDER_INDEX = "columns"  # MariaDB (before 11.8) and MySQL 5 index no expression
    CREATE_INDEX_IF_NOT_EXISTS = False
    kinds = {
        "null": ("NULL",),
        "string": ("STRING",),
        "number": ("INTEGER", "UNSIGNED INTEGER", "DOUBLE", "DECIMAL"),
        "true": ("BOOLEAN",),
        "false": ("BOOLEAN",),
        "array": ("ARRAY",),
        "object": ("OBJECT",),
    }

    def literal(self, text: str) -> exp.Expr:
        if not self.rewrites(text):
            return _s(text)
        return exp.Introducer(
            this=exp.Var(this="_utf8mb4"), expression=exp.HexString(this=text.encode().hex().upper())
        )

    def ci_prefix_prefilter(self, column: exp.Expr, lowered: Any, collation: str) -> exp.Expr | None:
        # LIKE in the column's own collation (layout.CI_COLLATIONS says which are supersets)
        return exp.Like(this=column.copy(), expression=self.param(derive(lowered, CI_COLLATIONS[collation])))

    @staticmethod
    def _key_piece(seg: str) -> str:
        # a key that is an identifier needs no quotes in a MySQL/MariaDB path ($.code)
        return "." + seg if _IDENT.fullmatch(seg) else _PathFamily._key_piece(seg)

    def _cat(self, a: exp.Expr | None, piece: str) -> exp.Expr:
        if a is None:
            return _s("$" + piece)
        if isinstance(a, exp.Literal):
            return _s(a.this + piece)
        return exp.Concat(expressions=[a, _s(piece)])

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
                return self.key_text(seg)
            if isinstance(node, exp.Identifier) and node.this == "k":
                return exp.to_identifier(a, quoted=True)
            return node

        return J(exp.Subquery(this=tree.transform(fill, copy=False)), None)

    def typ(self, j: J) -> exp.Expr:
        return fn("JSON_TYPE", self._extract(j))

    def _value(self, j: J) -> exp.Expr | None:
        """``JSON_VALUE`` at a literal path (MySQL 8 takes no other), else None.

        It reads a scalar in one pass: on MariaDB 10.11, 2-3x faster than ``JSON_UNQUOTE(JSON_EXTRACT())``
        (300,000 rows: 155-180 ms against 370-630 ms; ``benchmarks/bench_indexes.py``). It is NULL for
        null, arrays and objects, and in MySQL 8 also for a string over 512 characters (its default
        ``RETURNING VARCHAR(512)``, NULL ON ERROR), so it is only ever used with a fallback or a kind test.
        """
        if j.root is None or not isinstance(j.path, exp.Literal) or self.rewrites(j.path.this):
            return None  # a path written as _utf8mb4 X'...' (literal) is not a string literal to MySQL 8
        return fn("JSON_VALUE", j.root.copy(), j.path.copy())

    def text(self, j: J) -> exp.Expr:
        # a string's text either way; where JSON_VALUE is NULL the exact form decides. A boolean reads
        # 1/0 on MariaDB (true/false on MySQL): text is read only where a kind test or the day check
        # (which neither passes) follows
        unquoted = fn("JSON_UNQUOTE", self._extract(j))
        value = self._value(j)
        return unquoted if value is None else exp.Coalesce(this=value, expressions=[unquoted])

    def sort_text(self, j: J) -> exp.Expr:
        # the exact form alone: one read of the key (a sort reads every row's value anyway)
        return fn("JSON_UNQUOTE", self._extract(j))

    def num(self, j: J) -> exp.Expr:
        # a JSON number's text is short on both servers (MySQL stores it as an int64/uint64/double or a
        # 65-digit DECIMAL), so JSON_VALUE never truncates it: no fallback (a number kind test follows)
        v = self._value(j)
        return exp.Cast(this=self.text(j) if v is None else v, to=dtype("DOUBLE"))

    def json_text(self, j: J) -> exp.Expr:
        return exp.Cast(this=self._extract(j), to=dtype("CHAR"))

    def array_len(self, j: J) -> exp.Expr:
        return fn("JSON_LENGTH", self._extract(j))

    def tags_all(self, j: J, values: tuple[object, ...], alias: Callable[[], str]) -> exp.Expr:
        # JSON_SEARCH of one of the values among the array's strings first: a cheap superset (it reads
        # escapes, and its LIKE in a case-insensitive collation finds every exact match; wildcards in
        # the value are loosened to ``_``), so the exact count over JSON_TABLE only runs on rows that
        # may match (MariaDB evaluates AND left to right)
        vals = tuple(dict.fromkeys(values))
        exact = super().tags_all(j, vals, alias)
        if not vals or not isinstance(j.path, exp.Literal) or self.rewrites(j.path.this):
            return exact
        assert j.root is not None
        path = _s(j.path.this + "[*]")
        found = fn(
            "JSON_SEARCH",
            j.root.copy(),
            _s("one"),
            self.param(derive(vals[0], "like_loose")),
            exp.Null(),
            path,
        )
        return AND(exp.Not(this=exp.Is(this=found, expression=exp.Null())), exact)

    def elements(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        # each element's JSON text as a JSON column: the element is read from it (its kind, its text),
        # not extracted again from the document by its index (which wrote the key once more per use and
        # parsed the document again per element)
        cols = [
            exp.JSONColumnDef(
                this=exp.to_identifier("v", quoted=True), kind=dtype("JSON", dialect="mysql"), path=_s("$")
            )
        ]
        tbl = exp.JSONTable(this=self._extract(j), path=_s("$[*]"), schema=exp.JSONSchema(expressions=cols))
        return alias_table(tbl, alias), J(col("v", alias), None)

    def members(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        values = J(fn("JSON_EXTRACT", self._extract(j), _s("$.*")), None)
        return self.elements(values, alias)

    def lower(self, e: exp.Expr) -> exp.Expr:
        # utf8mb4_general_ci (MariaDB's default) leaves letters above U+FFFF unchanged (LOWER('𐐀') = '𐐀');
        # the UCA 5.2 collation lowers them as Python does (MariaDB >= 10.0, MySQL >= 5.6). LOWER('İ') is
        # 'i' there (the simple mapping); Python's is 'i' + U+0307, so İ is spelled out first (REPLACE is
        # case-sensitive in any collation). A final sigma stays 'σ' (docs/sql.md, pinned)
        collated = exp.Collate(this=e, expression=exp.to_identifier("utf8mb4_unicode_520_ci"))
        return exp.Lower(this=fn("REPLACE", collated, _s("\u0130"), _s("i\u0307")))

    def binary(self, e: exp.Expr) -> exp.Expr:
        return exp.Cast(this=e, to=dtype("BINARY", dialect="mysql"))

    def bound(self, e: exp.Expr) -> exp.Expr:
        # a binary string compared with a text compares bytes (the text's, in the utf8mb4 connection
        # charset): the value side needs no cast
        return e

    # A full scan (MariaDB has no index on a JSON value) evaluates AND left to right: the value test
    # (one parse of the document) first, the kind test (a second parse) only on the rows it let through;
    # the base str_eq, str_in and num_cmp write their tests through this
    def typed(self, kind: exp.Expr, test: exp.Expr) -> exp.Expr:
        return AND(test, kind)

    def bool_eq(self, j: J, value: bool) -> exp.Expr:
        v = self._value(j)
        if v is not None:  # JSON_VALUE of true: 1 on MariaDB, true on MySQL; the kind test tells 1 from true
            texts = ("1", "true") if value else ("0", "false")
            kind = exp.EQ(this=self.typ(j), expression=_s("BOOLEAN"))
            return AND(exp.In(this=v, expressions=[_s(t) for t in texts]), kind)
        # the JSON text of a boolean is exactly true/false (a string "true" reads '"true"'): one parse
        return exp.EQ(this=self.json_text(j), expression=_s("true" if value else "false"))

    def date_cmp(
        self, text: exp.Expr, op: str, day: object, indexable: bool = False, check: bool = True
    ) -> exp.Expr:
        exact = super().date_cmp(text, op, day, check=check)
        if not indexable or (type(day) is str and not valid_day(day)):
            return exact
        # a range in the column's collation that holds every exact match (an index serves it): below
        # the bound by code point is below it in any collation here (the texts differ within their
        # first 10 ASCII characters); at or above needs the bound's first 9 characters, because a PAD
        # SPACE collation ranks "2020-01-01\t" below "2020-01-01"
        nxt = derive(day, "next_day")
        low = {"gte": day, "gt": nxt, "eq": day}.get(op)
        high = {"lt": day, "lte": nxt, "eq": nxt}.get(op)
        parts: list[exp.Expr] = []
        if low is not None:
            parts.append(exp.GTE(this=text.copy(), expression=self.param(derive(low, "head9"))))
        if high is not None:
            parts.append(exp.LT(this=text.copy(), expression=self.param(high)))
        return AND(*parts, exact)

    def same_text(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        # the index on ``a`` finds a collation-equal superset, the bytes decide (as text_eq below).
        # JSON_UNQUOTE(JSON_QUOTE(b)) is ``b`` made COERCIBLE, so ``=`` takes ``a``'s collation whatever
        # ``b``'s is: an id column in utf8mb4_nopad_bin, utf8mb4_bin or the server default beside JSON
        # text in another (SQLAlchemy's JSON type is utf8mb4_bin) is never error 1267, and the id index
        # still serves it (tests/test_integration_collations.py checks each pair and the EXPLAIN)
        loose = fn("JSON_UNQUOTE", fn("JSON_QUOTE", b))
        return AND(
            exp.EQ(this=a, expression=loose),
            exp.EQ(this=self.binary(a.copy()), expression=self.binary(b.copy())),
        )

    def text_eq(self, e: exp.Expr, value: object, indexable: bool = True) -> exp.Expr:
        # ``e = v`` in the column's own collation (case- and PAD-SPACE-insensitive by default) finds a
        # superset through the column's index; the byte comparison keeps exactly the equal strings
        exact = exp.EQ(this=self.binary(e), expression=self.bound(self.param(value)))
        if not indexable:
            return exact
        return AND(exp.EQ(this=e.copy(), expression=self.param(value)), exact)

    def text_in(self, e: exp.Expr, values: tuple[object, ...], indexable: bool = True) -> exp.Expr:
        vals = tuple(dict.fromkeys(values))
        if len(vals) == 1:
            return self.text_eq(e, vals[0], indexable)
        exact = exp.In(this=self.binary(e), expressions=[self.bound(self.param(v)) for v in vals])
        if not indexable:
            return exact
        return AND(exp.In(this=e.copy(), expressions=[self.param(v) for v in vals]), exact)

    def length(self, e: exp.Expr) -> exp.Expr:
        return fn("CHAR_LENGTH", e)

    # MariaDB's utf8mb4_bin is PAD SPACE: ' ' = '' is true there, so emptiness is a length test
    def eq_empty(self, e: exp.Expr) -> exp.Expr:
        return exp.EQ(this=fn("CHAR_LENGTH", e), expression=_n(0))

    def ne_empty(self, e: exp.Expr) -> exp.Expr:
        return exp.GT(this=fn("CHAR_LENGTH", e), expression=_n(0))

    def ends(self, hay: exp.Expr, needle: Any) -> exp.Expr:
        # RIGHT(h, n) is h itself where h is shorter than n, and then not byte-equal to the n-character
        # needle: one read of h (the base form reads it three times)
        right = fn("RIGHT", hay, self.param(length(needle)))
        return exp.EQ(this=self.binary(right), expression=self.bound(self.param(needle)))

    def contains(self, hay: exp.Expr, needle: Any) -> exp.Expr:
        return exp.GT(this=fn("LOCATE", self.binary(self.param(needle)), self.binary(hay)), expression=_n(0))

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        # REGEXP_INSTR exists in MySQL 8 and MariaDB (REGEXP_LIKE is MySQL only). No byte cast: the
        # pattern has no letters, so a case-insensitive collation matches exactly what bytes match
        return exp.GT(this=fn("REGEXP_INSTR", head, _s(DAY_PREFIX)), expression=_n(0))

    def valid_prefix(self, text: exp.Expr) -> exp.Expr:
        return self.valid_day(text)  # the regex is anchored at the start only: no substring needed


@functools.cache
def _mysql_key_lookup() -> exp.Expr:
    return sqlglot.parse_one(
        "SELECT JSON_EXTRACT(JSON_EXTRACT(__p, '$.*'), CONCAT('$[', k.i - 1, ']')) FROM JSON_TABLE(JSON_KEYS(__p), "
        "'$[*]' COLUMNS(i FOR ORDINALITY, name LONGTEXT PATH '$')) AS k "
        "WHERE CAST(k.name AS BINARY) = CAST(__k AS BINARY)",
        read="mysql",
    )
