"""PostgreSQL jsonb: operators an expression index or a GIN index serves, and COLLATE "C" for code-point order."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlglot import exp

from filterdsl.backends.sql.dialects.base import (
    _CMP,
    AND,
    Family,
    J,
    _s,
    alias_table,
    canonical_index,
    col,
    dtype,
    fn,
)
from filterdsl.backends.sql.shape import derive
from filterdsl.semantics.days import DAY_PREFIX, valid_day

#: the JSON kinds whose ``->>`` text can equal a string's (numbers, booleans, arrays, objects)
_NOT_STRING = ("number", "boolean", "array", "object")

#: DAY_PREFIX for a regex that runs under COLLATE "C" (valid_day below): 9 characters shorter
_DAY_PREFIX_C = DAY_PREFIX.replace("[0-9]", "\\d")


class PostgresFamily(Family):
    """jsonb in the forms PostgreSQL's indexes serve; ``icu_lower`` folds with the ICU root collation.

    Values are jsonb (``data -> 'k'``), compared as jsonb: jsonb equality and ordering are type-strict
    (a string never equals a number) and need no cast, so no CASE guard is needed and an expression
    index on ``(data -> 'k')`` serves them (a GIN index on ``data`` serves enumTags containment ``@>``). Keys are
    literals, so the expression is the one a ``CREATE INDEX`` names.
    """

    ONE_BOOLEAN_TYPE = True

    #: with ``standard_conforming_strings = off`` a backslash in ``'...'`` is an escape (a key ending in
    #: one closed the literal: issue 26 H3); an ``E'...'`` string means the same under either setting,
    #: with backslashes doubled and control characters as ``\n``, ``\x01``...
    LITERAL_HAZARD = re.compile(r"[\\\x00-\x1f\x7f]")
    #: no PostgreSQL text or jsonb holds NUL
    HOLDS_NUL = False
    NUL_WHY = "no PostgreSQL text or jsonb value can hold it"

    POSITION_FN = "strpos"
    SUBSTR_FN = "substr"
    DAY_REGEX = True
    TEXT_OF_NONSTRING_IS_JSON = True
    SORT_KEY_TEXT = True
    SORT_BY_KIND = True
    ROW_COMPARE_INDEXED = True
    INDEX_FORMS = {
        "json": {
            **dict.fromkeys(("eq", "in", "range", "state"), "value"),
            "tags": "tags_gin",
            **dict.fromkeys(("money-eq", "money-range"), "money_value"),
            **dict.fromkeys(("date", "text-range"), "c_text"),
            "ci": "trgm",
            "ci-prefix": "trgm_prefix",
            "refcol": "ref_c",
        },
        "columns": {
            **dict.fromkeys(("eq", "in", "range", "state"), "column"),
            **dict.fromkeys(("date", "text-range"), "c_column"),
            "ci": "trgm",
            "ci-prefix": "trgm_prefix",
            "tags": "gin",
            "refcol": "column_c",
        },
        #: JsonLayout(text_indexes=True): string, enum and boolean equality, ``in`` and day ranges
        #: also test ``data ->> 'k'`` in the default collation, which a DBA's habitual index serves
        "json_text": dict.fromkeys(("eq", "in", "date"), "text"),
    }
    INDEX_WHY = {"json": None, "columns": None}
    #: uses whose SQL tests ``jsonb_typeof`` of the value (a number's upper bound, tags): the advisor also
    #: prints ``CREATE STATISTICS ... ON (jsonb_typeof(...))`` (PostgreSQL 14+), without which the planner
    #: guesses 0.5% for that test, and an OR of such tests flipped plans with each ANALYZE
    KIND_STATISTICS = ("range", "money-range", "tags")
    TEXT_INDEXES = True
    ORDER_INDEX = "expressions"

    name = "postgres"
    BOOL_VALUES = True
    OFFSET_ALONE = True
    VERIFIED = True
    kinds = {
        "null": ("null",),
        "string": ("string",),
        "number": ("number",),
        "true": ("boolean",),
        "false": ("boolean",),
        "array": ("array",),
        "object": ("object",),
    }

    def json_param(self, p: exp.Expr) -> exp.Expr:
        return exp.Cast(this=p, to=dtype("JSONB"))

    def text_param(self, p: exp.Expr) -> exp.Expr:
        return exp.Cast(this=p, to=dtype("TEXT"))

    def root(self, doc: exp.Expr, top: bool = False) -> J:
        return J(exp.Cast(this=doc, to=dtype("JSONB")) if self.cast_root else doc, top=top)

    def literal(self, text: str) -> exp.Expr:
        # sqlglot writes ByteString as PostgreSQL's escape string constant E'...'
        return exp.ByteString(this=text) if self.LITERAL_HAZARD.search(text) else _s(text)

    @staticmethod
    def _v(j: J) -> exp.Expr:
        """The jsonb value: ``root -> 'key'`` or the root itself."""
        assert j.root is not None
        if j.path is None:
            return j.root
        return exp.JSONExtract(this=j.root.copy(), expression=j.path.copy(), only_json_types=True)

    def value(self, j: J) -> exp.Expr:
        return self._v(j)

    def child(self, parent: J, seg: str, depth: int) -> J:
        base = self._v(parent)
        if depth > 0 and canonical_index(seg):
            # ``#>`` reads a path piece as an index of an array and as a key of an object: one read of
            # the parent (a CASE on its type read it three times, 3^n for n such segments)
            return J(exp.JSONBExtract(this=base, expression=exp.Array(expressions=[_s(seg)])))
        return J(base, _s(seg), top=parent.top and parent.path is None)

    def typ(self, j: J) -> exp.Expr:
        return fn("jsonb_typeof", self._v(j))

    def missing(self, j: J) -> exp.Expr:
        return exp.Is(this=self._v(j), expression=exp.Null())

    @staticmethod
    def _jsonb(text: str) -> exp.Expr:
        return exp.Cast(this=_s(text), to=dtype("JSONB"))

    def kind_is(self, j: J, kinds: tuple[str, ...]) -> exp.Expr:
        if ("true" in kinds) != ("false" in kinds) and len(kinds) == 1:
            return exp.EQ(this=self._v(j), expression=self._jsonb(kinds[0]))
        return super().kind_is(j, kinds)

    def text(self, j: J) -> exp.Expr:
        assert j.root is not None
        if j.path is None:
            return exp.JSONBExtractScalar(this=j.root.copy(), expression=_s("{}"))
        return exp.JSONExtractScalar(this=j.root.copy(), expression=j.path.copy(), only_json_types=True)

    def num(self, j: J) -> exp.Expr:
        return exp.Cast(this=self.text(j), to=dtype("DOUBLE PRECISION", dialect="postgres"))

    def sort_num(self, j: J) -> exp.Expr:
        return self._v(j)  # jsonb numbers order numerically, no cast

    def sort_bool(self, j: J) -> exp.Expr:
        return self._v(j)  # jsonb false < true

    def json_text(self, j: J) -> exp.Expr:
        return exp.Cast(this=self._v(j), to=dtype("TEXT"))

    def array_len(self, j: J) -> exp.Expr:
        return fn("jsonb_array_length", self._v(j))

    # ---- typed tests as jsonb comparisons
    def _bound_jsonb(self, value: object, step: str) -> exp.Expr:
        """``value`` as a bound jsonb constant, ``CAST($1 AS JSONB)`` of its JSON text. ``to_jsonb($1)`` is
        STABLE, so PostgreSQL ran it on every row a filter reads (1.3-1.6x the hand-written time when a
        10% filter walks the order index); the cast of a constant is folded once. Numbers are written as
        ``to_jsonb($1::float8)`` wrote them (shape.json_number)."""
        return exp.Cast(this=self.param(derive(value, step)), to=dtype("JSONB"))

    def _str_param(self, value: object) -> exp.Expr:
        return exp.Cast(this=self.param(value), to=dtype("TEXT"))

    def _eq(self, j: J, value: exp.Expr) -> exp.Expr:
        """jsonb equality, which a btree on ``(data -> 'k')`` serves. One form only: a containment twin
        (``data @> ...``) would also let a GIN index serve it, but the planner multiplies the two
        conditions' selectivities and, underestimating the rows, sorts 10% of a table instead of walking
        the order index (measured 38 ms against 2 ms at 100,000 rows)."""
        return exp.EQ(this=self._v(j), expression=value)

    def str_eq(self, j: J, value: object) -> exp.Expr:
        if self.text_indexes:
            return AND(self.text_eq(self.text(j), value), self._none_of(j, _NOT_STRING))
        return self._eq(j, self._bound_jsonb(value, "json_str"))

    def str_in(self, j: J, values: tuple[object, ...]) -> exp.Expr:
        vals = tuple(dict.fromkeys(values))
        if len(vals) == 1:
            return self.str_eq(j, vals[0])
        if self.text_indexes:
            return AND(self.text_in(self.text(j), vals), self._none_of(j, _NOT_STRING))
        return exp.In(this=self._v(j), expressions=[self._bound_jsonb(v, "json_str") for v in vals])

    def num_cmp(self, j: J, op: str, value: object) -> exp.Expr:
        if op == "eq":
            return self._eq(j, self._bound_jsonb(value, "json_num"))
        # jsonb orders null < strings < numbers < booleans < arrays < objects: a lower bound is closed
        # above by ``false`` (the smallest boolean), so it is one range of the value's index that the
        # planner estimates from that index's statistics; below a bound strings and null lie too, so an
        # upper bound keeps the kind test (the advised expression statistics estimate it)
        test = _CMP[op](this=self._v(j), expression=self._bound_jsonb(value, "json_num"))
        if op in ("gt", "gte"):
            return AND(test, exp.LT(this=self._v(j), expression=self._jsonb("false")))
        return AND(test, exp.EQ(this=self.typ(j), expression=_s("number")))

    def bool_eq(self, j: J, value: bool) -> exp.Expr:
        word = "true" if value else "false"
        if self.text_indexes:  # the text "true" is JSON true or the string "true"
            return AND(exp.EQ(this=self.text(j), expression=_s(word)), self._none_of(j, ("string",)))
        return exp.EQ(this=self._v(j), expression=self._jsonb(word))

    # ---- JsonLayout(text_indexes=True): the value's text first, for a DBA's ((data ->> 'k')) index.
    # ``->>`` of a string is the string; of a JSON null NULL; of any other value its JSON text (``5``,
    # ``true``, ``[...]``, ``{...}``): equality on it holds on the string's rows (deterministic collations
    # compare bytes for '=') and on non-strings whose text is the same, which ``_none_of`` leaves out.
    def _none_of(self, j: J, kinds: tuple[str, ...]) -> exp.Expr:
        """The value is none of ``kinds`` (``NOT jsonb_typeof(v) IN (...)``). The planner counts this
        nearly every row, so the estimate stays the text index's own; the kind test ``= 'string'`` or
        the jsonb ``= CAST($1 AS JSONB)`` would count 0.5% and multiply it in: a 10% equality then looked
        like 0.05%, and a page was sorted from 20,000 bitmap rows instead of read from the order index
        (32 ms against 2 ms at 200,000 rows)."""
        return exp.Not(this=exp.In(this=self.typ(j), expressions=[_s(k) for k in kinds]))

    def date_cmp(
        self, text: exp.Expr, op: str, day: object, indexable: bool = False, check: bool = True
    ) -> exp.Expr:
        """With ``text_indexes``: the bounds on the text in the database's default collation, which a
        DBA's ``((data ->> 'k'))`` index serves; exact where that collation orders a text starting with
        a day against a day as code points do (libc, ICU without numeric ordering: docs/sql.md). The day
        check is DAY_PREFIX's ``[0-9]`` (a code-point range in every collation; ``\\d`` is wider
        under ICU), on the same expression, whose statistics that index gives the planner."""
        if not self.text_indexes or (type(day) is str and not valid_day(day)):
            return super().date_cmp(text, op, day, indexable, check)
        rng = self.day_bounds(text, op, day)
        return AND(rng, exp.RegexpLike(this=text.copy(), expression=_s(DAY_PREFIX))) if check else rng

    def _empties(self) -> list[exp.Expr]:
        return [self._jsonb("null"), self._jsonb('""'), self._jsonb("[]")]

    def is_empty(self, j: J) -> exp.Expr:
        return exp.In(this=self._v(j), expressions=self._empties())

    def has_value(self, j: J) -> exp.Expr:
        # ``IS NOT NULL`` first: the same rows (NOT IN is NULL on a missing key), but a condition a btree
        # on ``(data -> 'k')`` serves, where NOT IN alone is a filter on every row
        return AND(
            exp.Not(this=exp.Is(this=self._v(j), expression=exp.Null())),
            exp.Not(this=exp.In(this=self._v(j), expressions=self._empties())),
        )

    def _texts(self, values: tuple[object, ...]) -> exp.Expr:
        """The distinct values as a ``text[]`` of bound strings."""
        arr = exp.Array(expressions=[self.param(v) for v in dict.fromkeys(values)])
        return exp.Cast(this=arr, to=dtype("TEXT[]", dialect="postgres"))

    def _is_array(self, j: J) -> exp.Expr:
        return exp.EQ(this=self.typ(j), expression=_s("array"))

    # enumTags: jsonb's ``?|`` / ``?&`` (some / every string of a text[] is a string element of the array;
    # on an object they test keys and on a string its value, hence the type test), which a GIN index on
    # the value, ``((data -> 'k'))``, serves. The value is written once or twice whatever the number of
    # tags, and nothing is built per row (``jsonb_build_object``/``jsonb_build_array`` are STABLE, so
    # the containment form rebuilt its constant on every row it read)
    def tags_all(self, j: J, values: tuple[object, ...], alias: Callable[[], str]) -> exp.Expr:
        return AND(
            exp.JSONBContainsAllTopKeys(this=exp.Paren(this=self._v(j)), expression=self._texts(values)),
            self._is_array(j),
        )

    def tags_any(self, j: J, values: tuple[object, ...], alias: Callable[[], str]) -> exp.Expr:
        return AND(
            exp.JSONBContainsAnyTopKeys(this=exp.Paren(this=self._v(j)), expression=self._texts(values)),
            self._is_array(j),
        )

    def tags_exactly(self, j: J, values: tuple[object, ...], alias: Callable[[], str]) -> exp.Expr:
        # every value present, and nothing left once the values' string elements are deleted (``-`` of
        # a text[] deletes matching string elements; it raises on a scalar, hence the CASE)
        rest = exp.Sub(this=exp.Paren(this=self._v(j)), expression=self._texts(values))
        only = exp.Case(
            ifs=[exp.If(this=self._is_array(j), true=exp.EQ(this=rest, expression=self._jsonb("[]")))]
        )
        return AND(
            exp.JSONBContainsAllTopKeys(this=exp.Paren(this=self._v(j)), expression=self._texts(values)), only
        )

    def same_text(self, a: exp.Expr, b: exp.Expr) -> exp.Expr:
        return exp.EQ(this=a, expression=b)  # deterministic collations compare bytes for '='

    def text_eq(self, e: exp.Expr, value: object, indexable: bool = True) -> exp.Expr:
        # deterministic collations compare bytes for '=': no COLLATE, so a plain index serves it
        return exp.EQ(this=e, expression=self.param(value))

    def text_in(self, e: exp.Expr, values: tuple[object, ...], indexable: bool = True) -> exp.Expr:
        vals = tuple(dict.fromkeys(values))
        if len(vals) == 1:
            return self.text_eq(e, vals[0])
        return exp.In(this=e, expressions=[self.param(v) for v in vals])

    def ci(self, hay: exp.Expr, op: str, needle: object) -> exp.Expr:
        """``lower(x) LIKE pattern``: the needle is escaped with ``\\`` when bound (LIKE's default escape
        character in PostgreSQL; an ``ESCAPE '\\'`` clause would itself be read as an unterminated
        literal with standard_conforming_strings off); a pg_trgm GIN index on ``lower(x)`` serves every
        form, a ``text_pattern_ops`` btree the prefix."""
        if op == "ieq":
            return exp.EQ(this=self.lower(hay), expression=self.param(needle))
        pattern = derive(
            needle, {"contains": "like_contains", "starts": "like_starts", "ends": "like_ends"}[op]
        )
        return exp.Like(this=self.lower(hay), expression=self.param(pattern))

    def _expand(self, func: str, j: J, kind: str, empty: str, alias: str, cols: tuple[str, ...]) -> exp.Expr:
        v = self._v(j)
        guarded = exp.Case(
            ifs=[exp.If(this=exp.EQ(this=fn("jsonb_typeof", v), expression=_s(kind)), true=v.copy())],
            default=exp.Cast(this=_s(empty), to=dtype("JSONB")),
        )
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

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        # on the expression the date index names (``COLLATE "C"``), so the planner estimates the regex
        # from that index's statistics; elsewhere it guesses from the pattern's length (about 1e-5 for
        # this one) and then sorts every row of a 10% range instead of walking the order index. Under
        # "C", \d is the ASCII digits only (PostgreSQL's C regex locale), so it stands for [0-9]; under
        # another collation it could match other scripts' digits
        return exp.RegexpLike(this=self.binary(head), expression=_s(_DAY_PREFIX_C))
