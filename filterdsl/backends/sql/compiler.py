"""AST -> sqlglot SELECT over a layout, with the in-memory engine's exact semantics (SPEC 1, 2, 8).

Every predicate compiles to an expression that is TRUE when the record matches and FALSE *or NULL*
otherwise; ``Not`` wraps a possibly-NULL operand in ``COALESCE(x, FALSE)`` so a negation is the exact
complement (no row is lost to three-valued logic). Values are ``exp.Placeholder`` nodes named ``p0``,
``p1``... whose values are collected in ``params``; nothing a user typed is ever SQL text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from filterdsl import ast as A
from filterdsl.backends.sql import budget
from filterdsl.backends.sql.dialects import (
    columnar,  # noqa: F401  (registers the DataFusion dialect and the columnar families)
    family_for,
    registry,
)
from filterdsl.backends.sql.dialects.base import AND, OR, J, _n, _s, alias_table, col
from filterdsl.backends.sql.layout import ColumnsLayout, JsonLayout
from filterdsl.backends.sql.shape import Slot, derive, extract, far, is_number, resolve
from filterdsl.errors import FilterError, Location
from filterdsl.schema import CatalogSource
from filterdsl.semantics.cursor import check_cursor
from filterdsl.semantics.days import valid_day
from filterdsl.semantics.sorting import DEFAULT_ORDER, EMPTY, KIND_RANK, STRING_TYPES, WELL_TYPED, WRONG_TYPED

T = A.FieldType
_STRINGISH = (T.STRING, T.TEXT_BLOCK, T.ENUM, T.JSON, T.REF)
_CMP = {A.Op.EQ: exp.EQ, A.Op.GT: exp.GT, A.Op.GTE: exp.GTE, A.Op.LT: exp.LT, A.Op.LTE: exp.LTE}
_OPN = {A.Op.EQ: "eq", A.Op.GT: "gt", A.Op.GTE: "gte", A.Op.LT: "lt", A.Op.LTE: "lte"}
_CI = {A.Op.CONTAINS: "contains", A.Op.STARTS_WITH: "starts", A.Op.ENDS_WITH: "ends", A.Op.IEQ: "ieq"}
#: LIMIT used when only an OFFSET is wanted (a family without OFFSET_ALONE needs a LIMIT before OFFSET)
NO_LIMIT = 2**62
INT_LIMIT = 2**31 - 1  # a family with INT_LIMIT (Spark 2, Hive): LIMIT must be an INT


@functools.lru_cache(maxsize=64)
def _null_ordering(dialect: str) -> str:
    return str(registry.dialect(dialect).NULL_ORDERING)


def _bad_query(code: str, msg: str) -> FilterError:
    return FilterError.one(code, msg, Location(param="query"))


@dataclass(frozen=True)
class _NullState(A.FieldState):
    """Internal: NOT SET or EMPTY, which the columns layout stores identically (NULL)."""


@dataclass
class Compiled:
    """A SELECT with named placeholders ``p<i>`` and their values (``Slot``s when compiled from a shape)."""

    tree: exp.Select
    params: dict[str, Any] = field(default_factory=dict)
    database: str | None = None
    #: SqlLayoutWarning messages, emitted by the caller (the compile itself may be cached)
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Ctx:
    alias: str
    database: str | None
    #: a keyset cursor's row (Query.after): record attributes, the sort key's JSON value (``"json"``)
    #: or column value (``"column"``) as bound expressions, read in place of the table's columns, so
    #: the cursor's ORDER BY items are the very expressions of the row's
    row: Any = field(default=None, compare=False, hash=False)


def _uses_ci_collation(fam: object) -> bool:
    """Whether the dialect family reads ``ColumnsLayout.ci_collation`` (it overrides the prefilter)."""
    from filterdsl.backends.sql.dialects.base import Family

    own = getattr(type(fam), "ci_prefix_prefilter", None)
    return own is not None and own is not Family.ci_prefix_prefilter


class Compiler:
    def __init__(
        self,
        dialect: str,
        layout: JsonLayout | ColumnsLayout,
        catalog: CatalogSource | None = None,
        icu_lower: bool = False,
    ):
        self.dialect = dialect
        self.layout = layout
        self.catalog = catalog
        self.params: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.fam = family_for(dialect, self.param)
        if icu_lower:
            self.fam.icu_lower = True
        if isinstance(layout, JsonLayout) and layout.cast_jsonb:
            self.fam.cast_root = True
        if isinstance(layout, JsonLayout) and layout.text_indexes:
            if self.fam.TEXT_INDEXES:
                self.fam.text_indexes = True
            else:
                self.warnings.append(f"the {dialect} dialect writes no text_indexes forms (ignored)")
        self.columns = isinstance(layout, ColumnsLayout)
        if not self.columns and getattr(self.fam, "json_family", None) is not None:  # ClickHouse
            self.fam = self.fam.json_family(self.param, dialect)  # type: ignore[attr-defined]
        self.fam.layout = "columns" if self.columns else "json"
        if self.columns and layout.ci_collation and not _uses_ci_collation(self.fam):  # type: ignore[union-attr]
            self.warnings.append(
                f"ci_collation is for MySQL/MariaDB text columns; {dialect} does not use it (ignored)"
            )
        #: engines where a predicate is a value (CASE may return it, COALESCE may take it)
        self.bool_values = self.fam.BOOL_VALUES
        self._aliases = 0
        self._cursor: A.Cursor | None = None
        #: the Compare being compiled is a date bound whose field an earlier conjunct already day-checks
        self._day_checked = False

    # ---------------------------------------------------------------- helpers
    def param(self, value: object) -> exp.Expr:
        if type(value) is not Slot and (isinstance(value, bool) or not isinstance(value, (str, int, float))):
            raise TypeError(f"unbindable parameter {value!r}")
        name = f"p{len(self.params)}"
        self.params[name] = value
        return exp.Placeholder(this=name)

    def alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    def table(self, database: str | None, alias: str) -> exp.Expr:
        name = self.layout.table_name(database)
        t = exp.Table(
            this=exp.to_identifier(name, quoted=True),
            db=exp.to_identifier(self.layout.schema, quoted=True) if self.layout.schema else None,
        )
        return alias_table(t, alias)

    def rcol(self, ctx: _Ctx, attr: str) -> exp.Column:
        if ctx.row is not None:
            return ctx.row[attr].copy()
        return col(getattr(self.layout, attr), ctx.alias)

    def access(self, ctx: _Ctx, f: A.Field) -> J:
        if ctx.row is not None:
            return self.fam.root(ctx.row["json"].copy())
        j = self.fam.root(self.rcol(ctx, "data"), top=True)
        for depth, seg in enumerate(f.segments):
            j = self.fam.child(j, seg, depth)
        return j

    def bin_in(self, a: exp.Expr, values: tuple[str, ...]) -> exp.Expr:
        """A column (or record attribute) equal to one of ``values``, in a form its index serves."""
        if not values:
            return exp.false()
        return self.fam.text_in(a, values)

    @staticmethod
    def exists(frm: exp.Expr, where: exp.Expr, *joins: exp.Expr) -> exp.Expr:
        sel = exp.select(_n(1), copy=False).from_(frm, copy=False)
        for j in joins:
            sel = sel.join(j, join_type="CROSS", copy=False)
        return exp.Exists(this=sel.where(where, copy=False))

    # ---------------------------------------------------------------- predicates
    def pred(self, node: A.Node, ctx: _Ctx) -> tuple[exp.Expr, bool]:
        """(expression, may_be_null)."""
        return _Pred(self, ctx).visit(node)

    # ---- strings
    def str_op(
        self, s: exp.Expr, op: A.Op, val: Any, indexable: bool = True, code_point: bool = False
    ) -> exp.Expr:
        """``s`` (SQL text) against ``val``: exact equality, case-insensitive matching or code-point ranges.
        ``code_point``: ``s`` is a column that orders by code point itself (``ColumnSpec.binary``), so a
        range is on the plain column, which its index serves."""
        fam = self.fam
        if op is A.Op.EQ:
            return fam.text_eq(s, val, indexable)
        if op in _CI:
            return fam.ci(s, _CI[op], val.lower())
        if op in _CMP and code_point:
            return _CMP[op](this=s, expression=self.param(val))
        if op in _CMP:
            return _CMP[op](this=fam.binary(s), expression=fam.bound(self.param(val)))
        raise _bad_query("unsupported", f"operator {op.value} on strings")

    def text_test(
        self, s: exp.Expr, op: A.Op, val: Any, indexable: bool = True, code_point: bool = False
    ) -> exp.Expr:
        """A typed string operator on SQL text: ``""`` is EMPTY, so it never matches (SPEC 1.3); only an
        empty needle (a literal in the shape) could reach it, so only then is the guard written."""
        if op is A.Op.EQ and val == "":
            return exp.false()
        test = self.str_op(s, op, val, indexable, code_point)
        if val == "" or op in (A.Op.GT, A.Op.GTE, A.Op.LT, A.Op.LTE):  # "" sorts below every needle
            return AND(self.nonempty(s.copy()), test)
        return test

    def compare(self, node: A.Compare, ctx: _Ctx) -> exp.Expr:
        if self.columns:
            return self.col_compare(node, ctx)
        f, op, val = node.field, node.op, node.value
        fam = self.fam
        j = self.access(ctx, f)
        t = f.type
        if t is T.CURRENCY:
            money = val if isinstance(val, A.Money) else A.Money(val)  # type: ignore[arg-type]
            # a number at "val" implies an object: no separate kind test
            test = fam.num_cmp(fam.child(j, "val", 1), _OPN[op], money.amount)
            if money.currency is not None:
                test = AND(test, fam.str_eq(fam.child(j, "currency", 1), money.currency))
            return test
        if t is T.ATTACHMENT:
            url = fam.child(j, "val", 1)
            return fam.typed(
                fam.kind_is(url, ("string",)), self.text_test(fam.text(url), op, val, indexable=False)
            )
        if t is T.DATE:
            day = fam.date_cmp(fam.text(j), _OPN[op], val, check=not self._day_checked)
            return day if fam.TEXT_OF_NONSTRING_IS_JSON else AND(day, fam.kind_is(j, ("string",)))
        if t is T.ENUM_TAGS:
            return self.tags(j, op, tuple(val))  # type: ignore[arg-type]
        if t is T.BOOLEAN or type(val) is bool:
            return fam.bool_eq(j, bool(val)) if op is A.Op.EQ else exp.false()
        if t is T.NUMBER or (t is T.JSON and is_number(val)):
            return fam.num_cmp(j, _OPN[op], val)
        if op is A.Op.IN:
            vals = tuple(dict.fromkeys(val))  # type: ignore[arg-type]
            return fam.str_in(j, vals) if vals else exp.false()
        if op is A.Op.EQ and (t is T.JSON or val != ""):  # PixieBrix equality: "" matches "" (SPEC 4)
            return fam.str_eq(j, val)
        if t is T.JSON and op is A.Op.IEQ:
            return fam.typed(fam.kind_is(j, ("string",)), self.str_op(fam.text(j), op, val, indexable=False))
        return fam.typed(fam.kind_is(j, ("string",)), self.text_test(fam.text(j), op, val, indexable=False))

    def _guarded(self, parts: list[exp.Expr]) -> exp.Expr:
        """AND in a CASE so engines that evaluate eagerly never cast a value of the wrong type; a plain
        AND where the family emits nothing that can raise (a CASE hides conditions from the planner)."""
        guard, rest = parts[0], parts[1:]
        if not rest:
            return guard
        if self.bool_values and self.fam.safe:
            return AND(guard, *rest)
        body = AND(*[exp.Paren(this=p) for p in rest])
        if not self.bool_values:
            inner = exp.Case(ifs=[exp.If(this=body, true=_n(1))], default=_n(0))
            return exp.EQ(
                this=exp.Case(ifs=[exp.If(this=guard, true=inner)], default=_n(0)), expression=_n(1)
            )
        return exp.Case(ifs=[exp.If(this=guard, true=body)], default=exp.false())

    def tags(self, j: J, op: A.Op, values: tuple[str, ...]) -> exp.Expr:
        vals = tuple(dict.fromkeys(values))
        if op is A.Op.HAS_ANY:
            return self.fam.tags_any(j, vals, lambda: self.alias("e"))
        if op is A.Op.HAS_ALL:
            return self.fam.tags_all(j, vals, lambda: self.alias("e"))
        if op is A.Op.HAS_EXACTLY:
            return self.fam.tags_exactly(j, vals, lambda: self.alias("e"))
        raise _bad_query("unsupported", f"operator {op.value} on enumTags")

    def state(self, node: A.FieldState, ctx: _Ctx) -> exp.Expr:
        if self.columns:
            return self.col_state(node, ctx)
        fam = self.fam
        j = self.access(ctx, node.field)
        if node.state is A.State.NOT_SET:
            return fam.missing(j)
        return fam.is_empty(j) if node.state is A.State.EMPTY else fam.has_value(j)

    def id_eq(self, ictx: _Ctx, ref: exp.Expr) -> exp.Expr:
        """The referenced row's id equals ``ref``, in a form the id's (primary key) index serves."""
        return self.fam.same_text(self.rcol(ictx, "id"), ref)

    def relation(self, node: A.Relation, ctx: _Ctx) -> exp.Expr:
        fam = self.fam
        inner_alias = self.alias("r")
        ictx = _Ctx(inner_alias, node.database)
        inner, _ = self.pred(node.predicate, ictx)
        live = exp.Is(this=self.rcol(ictx, "removed_at"), expression=exp.Null())
        if fam.uncorrelated:
            return self.relation_uncorrelated(node, ctx, ictx, AND(live, exp.Paren(this=inner)))
        if self.columns:
            ref = self.col_expr(ctx, node.field)
            if node.field.type is T.REF_MULTIPLE and hasattr(fam, "ref_many"):  # a list column (DataFusion)
                cond = AND(fam.ref_many(fam.root(ref), self.rcol(ictx, "id")), live, inner)
                return self.exists(self.table(node.database, inner_alias), cond)
            if node.field.type is T.REF_MULTIPLE:
                a = self.alias("e")
                frm, e = fam.elements(fam.root(ref), a)
                cond = AND(fam.kind_is(e, ("string",)), self.id_eq(ictx, fam.text(e)), live, inner)
                return self.exists(frm, cond, self.table(node.database, inner_alias))
            if getattr(fam, "RELATION_IN", False):
                return self.relation_in(node, ref, ictx, AND(live, inner))
            cond = AND(self.id_eq(ictx, ref), live, inner)
            return self.exists(self.table(node.database, inner_alias), cond)
        j = self.access(ctx, node.field)
        if node.field.type is T.REF_MULTIPLE:
            a = self.alias("e")
            frm, e = fam.elements(j, a)
            cond = AND(
                fam.kind_is(e, ("string",)), self.id_eq(ictx, fam.text(e)), live, exp.Paren(this=inner)
            )
            return self._guarded(
                [fam.kind_is(j, ("array",)), self.exists(frm, cond, self.table(node.database, inner_alias))]
            )
        cond = AND(self.id_eq(ictx, fam.text(j)), live, exp.Paren(this=inner))
        return self._guarded(
            [fam.kind_is(j, ("string",)), self.exists(self.table(node.database, inner_alias), cond)]
        )

    def relation_in(self, node: A.Relation, ref: exp.Expr, ictx: _Ctx, where: exp.Expr) -> exp.Expr:
        """``ref IN (SELECT id FROM t WHERE live AND inner AND <id byte-equal to ref>)`` (a family's
        ``RELATION_IN``): MariaDB runs it as a semi-join that can start from the matching referenced rows
        and reach the referring ones through the ref column's index, where a correlated EXISTS is one
        probe per referring row (a full scan of the referring table). The byte check keeps it exact
        whatever the columns' collations (IN compares in theirs)."""
        exact = self.fam.binary(self.rcol(ictx, "id"))
        check = exp.EQ(this=exact, expression=self.fam.binary(ref.copy()))
        ids = exp.select(self.rcol(ictx, "id"), copy=False).from_(
            self.table(node.database, ictx.alias), copy=False
        )
        return exp.In(this=ref, query=exp.Subquery(this=ids.where(AND(where, check), copy=False)))

    def relation_uncorrelated(self, node: A.Relation, ctx: _Ctx, ictx: _Ctx, where: exp.Expr) -> exp.Expr:
        """Spark: correlated subqueries are restricted, so the live matching ids are an uncorrelated
        subquery (``IN`` for ref, ``arrays_overlap`` with ``collect_list`` for refMultiple)."""
        fam = self.fam
        j = fam.root(self.col_expr(ctx, node.field)) if self.columns else self.access(ctx, node.field)
        ids = exp.select(self.rcol(ictx, "id"), copy=False).from_(
            self.table(node.database, ictx.alias), copy=False
        )
        ids = ids.where(where, copy=False)
        if node.field.type is T.REF_MULTIPLE:
            listed = fam.string_elements(j, self.alias("e"))
            agg = exp.select(fam.collect(self.rcol(ictx, "id")), copy=False)
            agg = agg.from_(self.table(node.database, ictx.alias), copy=False).where(where.copy(), copy=False)
            overlap = fam.overlap(listed, exp.Subquery(this=agg))
            return self._guarded([fam.kind_is(j, ("array",)), overlap])
        if self.columns:
            return exp.In(this=self.col_expr(ctx, node.field), query=exp.Subquery(this=ids))
        return self._guarded(
            [fam.kind_is(j, ("string",)), exp.In(this=fam.text(j), query=exp.Subquery(this=ids))]
        )

    def search(self, node: A.Search, ctx: _Ctx) -> exp.Expr:
        clauses = tuple(tuple(t.lower() for t in c) for c in node.clauses if c)
        if not clauses:
            return exp.true()
        out = []
        for clause in clauses:
            terms = [self.search_term(term, node.fields, ctx) for term in clause]
            out.append(OR(*[exp.Paren(this=t) for t in terms]))
        return AND(*[exp.Paren(this=o) for o in out])

    def _str_hit(self, j: J, term: str) -> exp.Expr:
        fam = self.fam
        return fam.typed(fam.kind_is(j, ("string",)), fam.ci(fam.text(j), "contains", term))

    def _list_hit(self, j: J, term: str) -> exp.Expr:
        if self.columns and hasattr(self.fam, "list_search"):  # DataFusion: no per-element test
            return self.fam.list_search(j, term)
        hit = self.fam.any_element(j, self.alias("e"), lambda e: self._str_hit(e, term))
        return self._guarded([self.fam.kind_is(j, ("array",)), hit])

    def search_term(self, term: str, fields: tuple[A.Field, ...] | None, ctx: _Ctx) -> exp.Expr:
        fam = self.fam
        if self.columns:
            if fields is None:
                raise _bad_query("not-expressible", "a schemaless search needs the JSON document layout")
            hits = []
            for f in fields:
                c = self.col_expr(ctx, f)
                if f.type is T.ENUM_TAGS:
                    hits.append(self._list_hit(fam.root(c), term))
                else:
                    hits.append(fam.ci(c, "contains", term))
            return OR(*[exp.Paren(this=h) for h in hits]) if hits else exp.false()
        if fields is None:
            return fam.any_member(
                fam.root(self.rcol(ctx, "data")),
                self.alias("m"),
                lambda m: OR(exp.Paren(this=self._str_hit(m, term)), exp.Paren(this=self._list_hit(m, term))),
            )
        hits = []
        for f in fields:
            j = self.access(ctx, f)
            hits.append(self._list_hit(j, term) if f.type is T.ENUM_TAGS else self._str_hit(j, term))
        return OR(*[exp.Paren(this=h) for h in hits]) if hits else exp.false()

    # ---------------------------------------------------------------- columns layout
    def col_expr(self, ctx: _Ctx, f: A.Field, part: str = "column") -> exp.Expr:
        assert isinstance(self.layout, ColumnsLayout)
        if ctx.row is not None:
            return ctx.row[part].copy()
        if f.path:
            raise _bad_query("not-expressible", f"the columns layout has no nested paths (field {f.key!r})")
        spec = self.layout.column(ctx.database, f.key)
        if spec is None:
            raise _bad_query(
                "not-expressible",
                f"the columns layout maps no column for field {f.key!r} of database {ctx.database!r}",
            )
        name = spec.column if part == "column" else spec.currency
        if name is None:
            raise _bad_query(
                "not-expressible", f"the columns layout maps no currency-code column for field {f.key!r}"
            )
        return col(name, ctx.alias)

    def col_compare(self, node: A.Compare, ctx: _Ctx) -> exp.Expr:
        f, op, val = node.field, node.op, node.value
        fam = self.fam
        c = self.col_expr(ctx, f)
        t = f.type
        if t is T.CURRENCY:
            money = val if isinstance(val, A.Money) else A.Money(val)  # type: ignore[arg-type]
            parts: list[exp.Expr] = [_CMP[op](this=c, expression=self.param(money.amount))]
            if money.currency is not None:
                parts.append(fam.text_eq(self.col_expr(ctx, f, "currency"), money.currency))
            return AND(*parts)
        if t is T.DATE:
            if self._days(ctx, f) and not (type(val) is str and not valid_day(val)):
                return self.day_range(c, _OPN[op], val)
            return fam.date_cmp(c, _OPN[op], val, indexable=True, check=not self._day_checked)
        if t is T.ENUM_TAGS:
            return self.tags(fam.root(c), op, tuple(val))  # type: ignore[arg-type]
        if t is T.BOOLEAN:
            if op is not A.Op.EQ:
                return exp.false()
            return exp.EQ(this=c, expression=exp.true() if val else exp.false())
        if t is T.NUMBER:
            return _CMP[op](this=c, expression=self.param(val))
        if op is A.Op.IN:
            return self.bin_in(c, tuple(val))  # type: ignore[arg-type]
        test = self.text_test(c, op, val, code_point=self._code_point(ctx, f))
        lay = self.layout
        if op in (A.Op.STARTS_WITH, A.Op.IEQ) and isinstance(lay, ColumnsLayout) and lay.ci_collation:
            needle: Any = val  # a text, or its slot
            pre = fam.ci_prefix_prefilter(c, needle.lower(), lay.ci_collation)
            if pre is not None:  # a superset the column's index serves, then the exact test
                return AND(pre, test)
        return test

    def _code_point(self, ctx: _Ctx, f: A.Field) -> bool:
        """The field's text column orders by code point itself (``ColumnSpec.binary``)."""
        assert isinstance(self.layout, ColumnsLayout)
        spec = self.layout.column(ctx.database, f.key)
        return spec is not None and spec.binary

    def _days(self, ctx: _Ctx, f: A.Field) -> bool:
        """The field's column is declared to hold only real days, ``YYYY-MM-DD`` (ColumnSpec.days)."""
        assert isinstance(self.layout, ColumnsLayout)
        spec = self.layout.column(ctx.database, f.key)
        return spec is not None and spec.days

    def day_range(self, c: exp.Expr, op: str, day: Any) -> exp.Expr:
        """A column of real days: the range on the column itself, as a person writes it. Days are
        digits and dashes in fixed places, so every collation (and a DATE column) orders them as code
        points do; no day check is needed."""
        nxt = derive(day, "next_day")
        if op == "eq":
            return AND(
                exp.GTE(this=c, expression=self.param(day)), exp.LT(this=c.copy(), expression=self.param(nxt))
            )
        if op in ("gt", "lte"):
            return (exp.GTE if op == "gt" else exp.LT)(this=c, expression=self.param(nxt))
        return (exp.GTE if op == "gte" else exp.LT)(this=c, expression=self.param(day))

    def tie_id(self, ctx: _Ctx) -> exp.Expr:
        """The id as the order's tie-breaker: by code point, the plain column where the layout says the
        column itself orders that way (``binary_id``), so the default-order index serves it."""
        c = self.rcol(ctx, "id")
        return c if getattr(self.layout, "binary_id", False) else self.fam.binary(c)

    def nonempty(self, c: exp.Expr) -> exp.Expr:
        """``c <> ''``; Oracle stores '' as NULL, where ``<> ''`` would be unknown for every row."""
        if self.fam.EMPTY_IS_NULL:
            return exp.Not(this=exp.Is(this=c, expression=exp.Null()))
        return self.fam.ne_empty(c)

    def col_state(self, node: A.FieldState, ctx: _Ctx) -> exp.Expr:
        c = self.col_expr(ctx, node.field)
        if node.state is A.State.HAS_VALUE or isinstance(node, _NullState):
            if isinstance(node, _NullState):
                return exp.Is(this=c, expression=exp.Null())
            return exp.Not(this=exp.Is(this=c, expression=exp.Null()))
        assert isinstance(self.layout, ColumnsLayout)
        msg = (
            f"the columns layout stores NOT SET and EMPTY both as NULL, so 'is {node.state.value}' on field "
            f"{node.field.key!r} cannot be answered exactly"
        )
        if not self.layout.collapse_empty:
            raise _bad_query(
                "layout-ambiguous",
                msg + " (use include is-empty + is-not-set together, or pass "
                "ColumnsLayout(collapse_empty=True) to accept NULL for both)",
            )
        self.warnings.append(msg + "; compiled as IS NULL (NOT SET or EMPTY)")
        return exp.Is(this=c, expression=exp.Null())

    @staticmethod
    def _merge_null_states(items: tuple[A.Node, ...]) -> tuple[A.Node, ...]:
        """``is-empty OR is-not-set`` on one field is exactly ``IS NULL`` in the columns layout."""
        states: dict[A.Field, set[A.State]] = {}
        for it in items:
            if isinstance(it, A.FieldState) and it.state in (A.State.EMPTY, A.State.NOT_SET):
                states.setdefault(it.field, set()).add(it.state)
        both = {f for f, st in states.items() if len(st) == 2}
        if not both:
            return items
        out: list[A.Node] = []
        for it in items:
            if (
                isinstance(it, A.FieldState)
                and it.field in both
                and it.state in (A.State.EMPTY, A.State.NOT_SET)
            ):
                if it.state is A.State.EMPTY:
                    out.append(_NullState(it.field, A.State.EMPTY))
                continue
            out.append(it)
        return tuple(out)

    # ---------------------------------------------------------------- sorting
    def sort_exprs(self, sk: A.SortKey, ctx: _Ctx) -> list[tuple[exp.Expr, bool]]:
        """ORDER BY items for one sort key (SPEC 8), each with whether its NULLs must sort first
        ascending (False: NULL only where an earlier item already decided the order)."""
        fam = self.fam
        key = sk.key
        if isinstance(key, A.RecordAttr):
            if key.name not in ("id", "created_at", "updated_at"):
                raise _bad_query("bad-sort", f"cannot sort on record attribute {key.name!r}")
            if key.name == "id":
                return [(self.tie_id(ctx), True)]
            return [(fam.binary(self.rcol(ctx, key.name)), True)]
        return self._column_sort(key, ctx) if self.columns else self._json_sort(key, ctx)

    def _column_sort(self, key: A.Field, ctx: _Ctx) -> list[tuple[exp.Expr, bool]]:
        """A column holds one type: NULL (NOT SET or EMPTY), then its values; dates rank bad text last."""
        fam, t = self.fam, key.type
        c = self.col_expr(ctx, key)
        if t is T.DATE and self._days(ctx, key):
            return [(c, True)]  # real days only: the column itself orders them (NULL first ascending)
        if t is T.DATE and fam.SORT_KEY_TEXT:
            # one item, one day check per row: '1' + the day, or '2' + the text that is not a day
            # (ranked after the days, by its full text: SPEC 8); NULL first ascending
            key_text = exp.Case(
                ifs=[
                    exp.If(this=exp.Is(this=c.copy(), expression=exp.Null()), true=exp.Null()),
                    exp.If(this=fam.valid_prefix(c.copy()), true=_cat("1", fam.head10(c.copy()))),
                ],
                default=_cat("2", c.copy()),
            )
            return [(fam.binary(exp.Paren(this=key_text)), True)]
        if t is T.DATE:
            # a text that is not a real day ranks after the days, by its full text (SPEC 8)
            valid = fam.valid_prefix(c.copy())
            null = exp.Is(this=c.copy(), expression=exp.Null())
            grp = exp.Case(ifs=[exp.If(this=null, true=_n(0)), exp.If(this=valid, true=_n(1))], default=_n(2))
            day = exp.Case(
                ifs=[exp.If(this=valid.copy(), true=fam.binary(fam.head10(c.copy())))],
                default=fam.binary(c.copy()),
            )
            return [(grp, False), (day, False)]
        # NULL (NOT SET or EMPTY) first ascending, last descending: the column itself, as an index has it
        if t in (T.CURRENCY, T.NUMBER):
            return [(fam.sort_number_column(c), True)]
        plain = t is T.BOOLEAN or self._code_point(ctx, key)  # a binary text column: the column itself
        return [(c if plain else fam.binary(c), True)]

    def _json_sort_by_kind(
        self, key: A.Field, ctx: _Ctx, kinds: dict[str, tuple[str, ...]]
    ) -> list[tuple[exp.Expr, bool]]:
        """Two items (three where numbers past 2^53 need their exact value; a family's ``SORT_KINDS``),
        each one ``CASE`` on the value's JSON type written once, so the key is read a few times per
        item, not once per kind (issue 26 H6):

        1. a code-point text: the rank of semantics.sorting as its first character, followed, for
           strings, by the text (for a date, by its day) and for booleans by their text (false before
           true on every engine: ``0``/``1``, ``false``/``true``). EMPTY is ``'0'``: a NULL type (the
           key is missing), JSON null, an empty array, and the empty string (its key text is the rank
           character alone: ``NULLIF`` turns it into NULL, ``COALESCE`` into ``'0'``);
        2. the number, for numbers (the rank keeps kinds apart).

        Cheap per row (one type read per item, at most one day check), so a deep page walking the
        expression index that names exactly these items stays close to page 1."""
        fam, t = self.fam, key.type
        j = self.access(ctx, key)
        good_kind = "string" if t in STRING_TYPES else "number" if t is T.NUMBER else ""
        good_kind = "boolean" if t is T.BOOLEAN else good_kind
        if t not in STRING_TYPES and t not in (T.NUMBER, T.BOOLEAN, T.JSON, T.DATE, T.CURRENCY):
            raise _bad_query("bad-sort", f"cannot sort on a field of type {t.value}")

        def rank(kind: str) -> str:
            return str(WELL_TYPED if kind == good_kind else WRONG_TYPED + KIND_RANK[kind])

        def typ() -> exp.Expr:
            # a missing key has no type: it reads as JSON null (EMPTY either way)
            return exp.Coalesce(this=fam.sort_typ(j), expressions=[_s(kinds["null"][0])])

        def when(kind: str, then: exp.Expr) -> list[exp.If]:
            return [exp.If(this=_s(raw), true=then.copy()) for raw in kinds[kind]]

        text = fam.sort_text(j)
        str_rank = rank("string")
        if t is T.DATE:
            string: exp.Expr = exp.Case(
                ifs=[
                    exp.If(
                        this=fam.valid_prefix(text.copy()),
                        true=_cat(str(WELL_TYPED), fam.head10(text.copy())),
                    )
                ],
                default=_cat(str_rank, text.copy()),
            )
        else:
            string = _cat(str_rank, text.copy())
        ifs = when("string", string)
        if len(kinds["boolean"]) == 2:  # the type tells true from false (SQLite): no read of the value
            ifs += [exp.If(this=_s(kinds["boolean"][i]), true=_s(rank("boolean") + "10"[i])) for i in (0, 1)]
        else:
            ifs += when("boolean", _cat(rank("boolean"), fam.sort_bool_text(j)))
        ifs += when("number", _s(rank("number")))
        arr = exp.Case(
            this=fam.array_len(j), ifs=[exp.If(this=_n(0), true=exp.Null())], default=_s(rank("array"))
        )
        ifs += when("array", arr)
        obj: exp.Expr = _s(rank("object"))
        amt = fam.child(j, "val", 1) if t is T.CURRENCY else None
        if amt is not None:
            obj = exp.Case(
                ifs=[exp.If(this=fam.kind_is(amt, ("number",)), true=_s(str(WELL_TYPED)))], default=obj
            )
        ifs += when("object", obj)
        # JSON null (and a missing key): no branch, so NULL, then '0'
        key_text = fam.binary(exp.Paren(this=exp.Case(this=typ(), ifs=ifs)))
        first = exp.Coalesce(
            this=exp.Nullif(this=key_text, expression=_s(str_rank)), expressions=[_s(str(EMPTY))]
        )
        nums = [exp.If(this=fam.kind_is(j, ("number",)), true=fam.sort_num(j))]
        if amt is not None:  # a number at "val" implies an object
            nums.append(exp.If(this=fam.kind_is(amt, ("number",)), true=fam.sort_num(amt)))
        num = exp.Case(ifs=nums)
        out: list[tuple[exp.Expr, bool]] = [(first, False), (num, False)]
        exact = fam.exact_int(j)
        if exact is not None:  # numbers with equal doubles: their exact values decide (DuckDB)
            far = exp.GTE(this=exp.Abs(this=fam.sort_num(j)), expression=exp.Literal.number(2**53))
            out.append(
                (exp.Case(ifs=[exp.If(this=AND(fam.kind_is(j, ("number",)), far), true=exact)]), False)
            )
            if amt is not None and (amt_exact := fam.exact_int(amt)) is not None:  # an item of its own
                far_amt = exp.GTE(this=exp.Abs(this=fam.sort_num(amt)), expression=exp.Literal.number(2**53))
                tie = exp.If(this=AND(fam.kind_is(amt, ("number",)), far_amt), true=amt_exact)
                out.append((exp.Case(ifs=[tie]), False))
        return out

    def _json_sort(self, key: A.Field, ctx: _Ctx) -> list[tuple[exp.Expr, bool]]:
        """A JSON value may hold any kind: the rank of semantics.sorting, then one column per kind."""
        fam, t = self.fam, key.type
        kinds = fam.sort_kinds()
        if kinds is not None:
            return self._json_sort_by_kind(key, ctx, kinds)
        j = self.access(ctx, key)
        is_num, is_str = fam.kind_is(j, ("number",)), fam.kind_is(j, ("string",))
        is_bool, is_arr = fam.kind_is(j, ("true", "false")), fam.kind_is(j, ("array",))
        str_val = AND(is_str.copy(), fam.ne_empty(fam.text(j)))  # "" is EMPTY: it ties with the empties
        # well-typed values: their condition and (number, text, boolean) value
        good: exp.Expr | None = None
        good_num: exp.Expr | None = None
        good_txt: exp.Expr | None = None
        if t in STRING_TYPES:
            good = str_val.copy()
        elif t is T.NUMBER:
            good = is_num.copy()
        elif t is T.BOOLEAN:
            good = is_bool.copy()
        elif t is T.DATE:
            head = fam.head10(fam.text(j))
            good = AND(is_str.copy(), fam.valid_prefix(fam.text(j)))
            good_txt = fam.binary(head.copy())
        elif t is T.CURRENCY:
            amt = fam.child(j, "val", 1)
            good = fam.kind_is(amt, ("number",))
            good_num = fam.sort_num(amt)
        elif t is not T.JSON:  # schemaless: no type is "right", every value ranks by kind (SPEC 8)
            raise _bad_query("bad-sort", f"cannot sort on a field of type {t.value}")
        # rank: EMPTY, WELL_TYPED, then WRONG_TYPED + the kind's rank (number < string < ... < object)
        empty = OR(fam.missing(j), fam.is_empty(j))
        ranks = [exp.If(this=empty, true=_n(EMPTY))]
        if good is not None:
            ranks.append(exp.If(this=good.copy(), true=_n(WELL_TYPED)))
        # a kind the well-typed branch (or the empty one, for strings) already took has no branch of its own
        taken = (
            "number"
            if t is T.NUMBER
            else "boolean"
            if t is T.BOOLEAN
            else "string"
            if t in STRING_TYPES
            else ""
        )
        ranks += [
            exp.If(this=c, true=_n(WRONG_TYPED + KIND_RANK[kind]))
            for kind, c in (("number", is_num), ("string", is_str), ("boolean", is_bool), ("array", is_arr))
            if kind != taken
        ]
        rank = exp.Case(ifs=ranks, default=_n(WRONG_TYPED + KIND_RANK["object"]))
        # within a rank one of these holds the value; the others (and arrays, objects: they tie) are NULL
        nums = [exp.If(this=good.copy(), true=good_num)] if good is not None and good_num is not None else []
        num = exp.Case(ifs=[*nums, exp.If(this=is_num.copy(), true=fam.sort_num(j))])
        exact = fam.exact_int(j)
        if exact is not None:  # numbers with equal doubles: their exact values decide (DuckDB, ClickHouse)
            # below 2^53 a double is the exact value: the tie key is only computed past it (the sort
            # stays as cheap as before for ordinary numbers)
            def past_2_53(num: exp.Expr, key: exp.Expr) -> exp.Expr:
                far = exp.GTE(this=exp.Abs(this=num), expression=exp.Literal.number(2**53))
                return exp.Case(ifs=[exp.If(this=far, true=key)])

            amt_exact = fam.exact_int(amt) if t is T.CURRENCY else None
            ties = (
                [exp.If(this=good.copy(), true=past_2_53(fam.sort_num(amt), amt_exact))]
                if amt_exact is not None and good is not None
                else []
            )
            num_ties = exp.Case(
                ifs=[*ties, exp.If(this=is_num.copy(), true=past_2_53(fam.sort_num(j), exact))]
            )
        txts = [exp.If(this=good.copy(), true=good_txt)] if good is not None and good_txt is not None else []
        txt = exp.Case(ifs=[*txts, exp.If(this=str_val.copy(), true=fam.binary(fam.text(j)))])
        boo = exp.Case(ifs=[exp.If(this=is_bool.copy(), true=fam.sort_bool(j))])
        if exact is not None:
            return [(rank, False), (num, False), (num_ties, False), (txt, False), (boo, False)]
        return [(rank, False), (num, False), (txt, False), (boo, False)]

    def _ordered(self, e: exp.Expr, desc: bool, nulls_first: bool | None) -> exp.Ordered:
        """``nulls_first=None``: whatever the dialect does by default (no NULLS clause in the text)."""
        if nulls_first is None:
            ordering = _null_ordering(self.dialect)
            nulls_first = (ordering == "nulls_are_small") != desc if ordering != "nulls_are_last" else False
        return exp.Ordered(this=e, desc=desc or None, nulls_first=nulls_first)

    def order(self, query: A.Query, ctx: _Ctx) -> list[exp.Ordered]:
        out: list[exp.Ordered] = []
        for sk in query.sort:
            for e, nulls in self.sort_exprs(sk, ctx):
                out.append(self._ordered(e, sk.descending, (not sk.descending) if nulls else None))
        # created_at is required and id is unique and never NULL: the plain order an index serves
        for attr, descending in DEFAULT_ORDER:
            col = self.rcol(ctx, attr)
            out.append(self._ordered(self.tie_id(ctx) if attr == "id" else col, descending, None))
        return out

    # ---------------------------------------------------------------- keyset (Query.after)
    def _cursor_ctx(self, ctx: _Ctx, key: A.Field | A.RecordAttr | None, ck: A.CursorKey | None) -> _Ctx:
        """The cursor's row for one sort key: its value where the key's column or JSON value is read
        (semantics.cursor.representative), the cursor's created_at and id as the record's."""
        cur = self._cursor
        assert cur is not None
        row: dict[str, exp.Expr] = {"created_at": self.param(cur.created_at), "id": self.param(cur.id)}
        if isinstance(key, A.RecordAttr) and ck is not None:
            row[key.name] = exp.Null() if ck.rank == EMPTY else self.param(ck.value)
        elif isinstance(key, A.Field) and ck is not None:
            v = ck.value
            if self.columns:
                if ck.rank == EMPTY:
                    row["column"] = exp.Null()
                elif type(v) is bool:
                    row["column"] = exp.true() if v else exp.false()
                elif key.type is T.DATE and not self._days(ctx, key):  # its sort form tests IS NULL
                    row["column"] = self.fam.text_param(self.param(v))
                else:  # typed by the column it is compared with (a DATE column's day, a number)
                    row["column"] = self.param(v)
            else:
                row["json"] = self.fam.json_param(self.param(_cursor_json(key.type, ck)))
        return _Ctx(ctx.alias, ctx.database, row)

    def keyset(self, query: A.Query, ctx: _Ctx) -> list[exp.Expr]:
        """``Query.after`` as conditions on the ORDER BY items themselves (so the order index serves
        them): the lexicographic "row after the cursor" over every item, each item's direction and NULL
        placement exactly as ``order`` writes it, preceded by the first item's bound (and, where an
        index condition can be a row comparison, the first run of items of one direction) so an index
        walk starts at the cursor instead of at page 1."""
        cur = query.after
        assert cur is not None
        self._cursor = cur
        items: list[tuple[exp.Expr, exp.Expr, bool, bool, bool | None]] = []
        for sk, ck in zip(query.sort, cur.keys):
            rows = self.sort_exprs(sk, ctx)
            curs = self.sort_exprs(sk, self._cursor_ctx(ctx, sk.key, ck))
            pres = self.sort_presence(sk, ck, len(rows), ctx)
            # a column declared NOT NULL (ColumnSpec.not_null) holds no NULL to place
            sure = (
                self.columns
                and isinstance(sk.key, A.Field)
                and ck.rank != EMPTY
                and self._not_null(ctx, sk.key)
            )
            items += [
                (e, c, sk.descending, nul and not sure, p) for (e, nul), (c, _), p in zip(rows, curs, pres)
            ]
        cctx = self._cursor_ctx(ctx, None, None)
        for attr, descending in DEFAULT_ORDER:
            e = self.tie_id(ctx) if attr == "id" else self.rcol(ctx, attr)
            c = self.tie_id(cctx) if attr == "id" else self.rcol(cctx, attr)
            items.append((e, c, descending, False, True))
        self._cursor = None
        # a row is after the cursor when, on the first item that differs, it is greater (ascending) or
        # less (descending); a NULLS FIRST/LAST item (``nul``) may be NULL on either side independently,
        # any other item is NULL on both sides or on neither once the items before it are equal
        steps: list[tuple[int, exp.Expr, exp.Expr]] = []  # (item, equal, after) per item compared
        for i, (e, c, desc, nul, present) in enumerate(items):
            gt: exp.Expr = (exp.LT if desc else exp.GT)(this=e.copy(), expression=c.copy())
            if nul and present is False:  # the cursor's is NULL: first ascending, last descending
                steps.append((i, _is_null(e), exp.false() if desc else exp.Not(this=_is_null(e))))
            elif nul:
                steps.append((i, exp.EQ(this=e.copy(), expression=c), OR(gt, _is_null(e)) if desc else gt))
            elif present is False:
                continue  # NULL on both sides: equal
            elif present is None:
                same = OR(exp.EQ(this=e.copy(), expression=c.copy()), AND(_is_null(e), _is_null(c)))
                steps.append((i, same, gt))
            else:
                steps.append((i, exp.EQ(this=e.copy(), expression=c), gt))
        # the leading bound: the rows at or after the cursor on the first item (or the first run of
        # items of one direction), which an index on the ORDER BY items takes as its start
        out: list[exp.Expr] = []
        e, c, desc, nul, present = items[0]
        ge = exp.LTE if desc else exp.GTE
        covered = 1
        if nul and present is False:
            if desc:
                out.append(_is_null(e))
            else:
                covered = 0  # NULL first: every row may follow
        elif nul and desc:
            out.append(OR(ge(this=e.copy(), expression=c.copy()), _is_null(e)))
        elif present is True:
            out.append(ge(this=e.copy(), expression=c.copy()))
        else:
            covered = 0
        if covered and self.fam.ROW_COMPARE_INDEXED:
            run = []
            for e, c, d, nul, present in items:
                if d != desc or present is not True or (nul and desc):
                    break
                run.append((e, c))
            if len(run) > 1:
                covered = len(run)
                out.append(
                    ge(
                        this=exp.Tuple(expressions=[e.copy() for e, _ in run]),
                        expression=exp.Tuple(expressions=[c.copy() for _, c in run]),
                    )
                )
        # past that bound the covered items are at or after the cursor's, so the row is after the cursor
        # when one of them differs from the cursor's, or (all equal) the items that follow are after:
        # written cheapest first (created_at, id; then a sort key's expression, a CASE or a day check),
        # so an engine evaluating OR from the left mostly decides on plain columns
        rest = [(eq, gt) for i, eq, gt in steps if i >= covered]
        differs: list[exp.Expr] = []
        for e, c, d, nul, present in reversed(items[:covered]):
            if nul and present is False:
                continue  # NULL at the cursor and (bounded by IS NULL) on every row: equal
            ne: exp.Expr = exp.NEQ(this=e.copy(), expression=c.copy())
            differs.append(OR(ne, _is_null(e)) if nul and d else ne)
        parts = ([exp.Paren(this=_lex(rest))] if rest else []) + [exp.Paren(this=x) for x in differs]
        after = OR(*parts) if parts else exp.false()
        out.append(after)
        return out

    def _not_null(self, ctx: _Ctx, f: A.Field) -> bool:
        assert isinstance(self.layout, ColumnsLayout)
        spec = self.layout.column(ctx.database, f.key)
        return spec is not None and spec.not_null

    def sort_presence(self, sk: A.SortKey, ck: A.CursorKey, n: int, ctx: _Ctx) -> list[bool | None]:
        """Whether each ORDER BY item of ``sort_exprs`` is non-NULL at a cursor of place ``ck`` (None:
        not known from the place; the keyset condition is then NULL-safe). Mirrors the forms above;
        a form this does not know gets None for every item after the first."""
        key, r, v = sk.key, ck.rank, ck.value
        some = r != EMPTY
        if isinstance(key, A.RecordAttr):
            out: list[bool | None] = [some]
        elif self.columns:
            t = key.type
            two = t is T.DATE and not self._days(ctx, key) and not self.fam.SORT_KEY_TEXT
            out = [True, some] if two else [some]
        elif self.fam.sort_kinds() is not None:  # _json_sort_by_kind: the number item holds numbers only
            t = key.type
            good = r == WELL_TYPED
            out = [True, r == 2 or (good and t in (T.NUMBER, T.CURRENCY))]
            if n >= 3:  # the exact integer of a number past 2^53 (DuckDB, ClickHouse), then of an amount
                out.append((r == 2 or (good and t is T.NUMBER)) and _far(v))
            if n == 4:
                out.append(good and t is T.CURRENCY and _far(v))
        else:
            t = key.type
            good = r == WELL_TYPED
            num = r == 2 or (good and t in (T.NUMBER, T.CURRENCY))
            txt = r == 3 or (good and (t in STRING_TYPES or t is T.DATE))
            boo = r == 4 or (good and t is T.BOOLEAN)
            big = num and _far(v)
            out = [True, num, big, txt, boo] if n == 5 else [True, num, txt, boo]
        if len(out) != n:
            return [True] + [None] * (n - 1)
        return out

    # ---------------------------------------------------------------- whole query
    def select(self, query: A.Query, database: str | None) -> exp.Select:
        a = "r0"
        ctx = _Ctx(a, database)
        where, _ = self.pred(query.predicate, ctx)
        cols: list[exp.Expr] = [self.rcol(ctx, c) for c in ("id", "created_at", "updated_at", "removed_at")]
        if self.columns:
            assert isinstance(self.layout, ColumnsLayout)
            # every field's column (and currency column) under its own name, as a person lists them
            for k in self.layout.field_columns(database):
                s = self.layout.column(database, k)
                assert s is not None
                cols.append(col(s.column, a))
                if s.currency:
                    cols.append(col(s.currency, a))
        else:
            cols.append(self.rcol(ctx, "data"))
        if query.after is not None:
            keys = [exp.Paren(this=k) for k in self.keyset(query, ctx)]
            filtered = not (isinstance(where, exp.Boolean) and where.this is True)
            where = AND(*([exp.Paren(this=where)] if filtered else []), *keys)
        sel = (
            exp.select(*cols, copy=False).from_(self.table(database, a), copy=False).where(where, copy=False)
        )
        sel = sel.order_by(*self.order(query, ctx), copy=False)
        if query.limit is not None:
            sel = sel.limit(_n(query.limit), copy=False)
        elif query.skip and not self.fam.OFFSET_ALONE:
            no_limit = INT_LIMIT - query.skip if self.fam.INT_LIMIT else NO_LIMIT
            sel = sel.limit(_n(no_limit), copy=False)
        if query.skip:
            sel = sel.offset(_n(query.skip), copy=False)
        return self._finished(sel, a)

    def count(self, query: A.Query, database: str | None) -> exp.Select:
        """``SELECT COUNT(*)`` of the rows the query's filter matches: no ORDER BY (an order costs a
        sort, or an index walk, of every row counted), no derived table, no skip or limit."""
        a = "r0"
        where, _ = self.pred(query.predicate, _Ctx(a, database))
        sel = exp.select(exp.Count(this=exp.Star()), copy=False).from_(self.table(database, a), copy=False)
        return self._finished(sel.where(where, copy=False), a)

    def _finished(self, sel: exp.Select, alias: str) -> exp.Select:
        """String literals a session setting could read as other text are rewritten by the family
        (``Family.literal``: keys, and constants such as PostgreSQL's ``\\d`` regex); without a
        subquery nothing needs the table alias: it is dropped (shorter SQL, as a person writes it)."""
        rewrites = (
            self.fam.rewrites
            if self.fam.LITERAL_HAZARD is not None or self.fam.LONG_LITERAL is not None
            else None
        )
        cols: list[exp.Column] = []
        lits: dict[int, exp.Expr] = {}
        nested = False
        # one pass over the args (sqlglot's walk() costs ~3x more per node, and a large filter's tree
        # has hundreds of thousands of nodes)
        stack: list[Any] = [sel]
        push, pop = stack.append, stack.pop
        column, literal, expr, subq = exp.Column, exp.Literal, exp.Expr, (exp.Exists, exp.Subquery)
        while stack:
            node = pop()
            if isinstance(node, column):
                cols.append(node)
                continue  # identifiers only below
            if type(node) is literal:
                if rewrites is not None and node.is_string and rewrites(node.this):
                    lits[id(node)] = node
            elif isinstance(node, subq) or (isinstance(node, exp.In) and node.args.get("query")):
                nested = True
            for v in node.args.values():
                if type(v) is list:
                    for x in v:
                        if isinstance(x, expr):
                            push(x)
                elif isinstance(v, expr):
                    push(v)
        if lits:
            self.fam.rewrite_literals(sel, lits)
        if nested:
            return sel
        for c in cols:
            t = c.args.get("table")
            if t is not None and t.name == alias:
                c.set("table", None)
        frm = sel.args["from_"] if "from_" in sel.args else sel.args.get("from")
        tbl = frm.this if frm is not None else None
        if isinstance(tbl, exp.Table):
            tbl.set("alias", None)
        return sel


def _lex(steps: list[tuple[exp.Expr, exp.Expr]]) -> exp.Expr:
    """Lexicographically after: the first item that differs is after (``(equal, after)`` per item)."""
    out = steps[-1][1]
    for same, later in reversed(steps[:-1]):
        out = OR(exp.Paren(this=later), AND(exp.Paren(this=same), exp.Paren(this=out)))
    return out


def _is_null(e: exp.Expr) -> exp.Expr:
    return exp.Is(this=e.copy(), expression=exp.Null())


def _far(v: Any) -> bool:
    """A number past 2^53 (as the engine's double reads it): where the exact tie item is not NULL."""
    return v.far if type(v) is Slot else far(v)


def _cursor_json(t: A.FieldType, ck: A.CursorKey) -> Any:
    """The JSON text of a stored value at the cursor's place (semantics.cursor.representative): a
    shape slot's derivation, or the constant text where the place has no value."""
    if ck.rank == EMPTY:
        return "null"
    v = ck.value
    if type(v) is bool:
        return "true" if v else "false"
    if v is None:
        return "[null]" if ck.rank == 5 else "{}"
    if ck.rank == WELL_TYPED and t is T.CURRENCY:
        return derive(v, "json_money")
    return derive(v, "json")


def _cat(prefix: str, e: exp.Expr) -> exp.Expr:
    """``prefix || e`` (the rank character before a sort value)."""
    return exp.DPipe(this=_s(prefix), expression=exp.Paren(this=e), safe=True)  # ``||`` binds as ``->>``


def _bad_day(value: object) -> bool:
    """A date Compare's value that is not a day (only a hand-built AST holds one; it stays a literal
    in the shape): its form compares the first 10 characters and always checks them."""
    return type(value) is str and not valid_day(value)


def _bound(e: exp.Expr) -> bool:
    """A value that is never NULL: a bound parameter (``Compiler.param`` takes no None) or a literal."""
    return isinstance(e, (exp.Placeholder, exp.Boolean, exp.Literal))


_ORDERED = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)


def _null_safe_not(p: exp.Expr) -> exp.Expr | None:
    """``NOT COALESCE(p, FALSE)`` for a comparison ``p`` of ``x`` with bound values, in the forms
    ``Family.NULL_SAFE_NOT`` engines push into scans; None for any other ``p``. Exact: with no NULL on
    the right, ``p`` is NULL exactly when ``x`` is, so ``x <=> v`` is ``COALESCE(x = v, FALSE)`` for any
    ``x``, and for a column ``c`` the complement is ``c IS NULL OR NOT p``."""
    while isinstance(p, exp.Paren):
        p = p.this
    if isinstance(p, exp.EQ) and _bound(p.expression):
        return exp.Not(this=exp.Paren(this=exp.NullSafeEQ(this=p.this, expression=p.expression)))
    if isinstance(p, exp.And):  # a day's range on a days column: both bounds on the one column
        parts = [p.this, p.expression]
        ok = all(isinstance(b, _ORDERED) and _bound(b.expression) for b in parts)
        column = parts[0].this if ok and parts[0].this == parts[1].this else None
    elif isinstance(p, exp.In):
        ok = not p.args.get("query") and bool(p.expressions) and all(_bound(v) for v in p.expressions)
        column = p.this
    else:
        ok = isinstance(p, _ORDERED) and _bound(p.expression)
        column = p.this
    if not ok or not isinstance(column, exp.Column):
        return None
    return exp.Paren(
        this=OR(exp.Is(this=column.copy(), expression=exp.Null()), exp.Not(this=exp.Paren(this=p)))
    )


class _Pred(A.Visitor[tuple[exp.Expr, bool]]):
    """One predicate in one row context (a relation's subquery gets its own): (expression, may_be_null)."""

    def __init__(self, c: Compiler, ctx: _Ctx):
        self.c, self.ctx = c, ctx

    def visit_const(self, node: A.Const) -> tuple[exp.Expr, bool]:
        return (exp.true() if node.value else exp.false()), False

    def _connect(self, node: A.And | A.Or, fn: Callable[..., exp.Expr]) -> tuple[exp.Expr, bool]:
        parts = [self.visit(i) for i in node.items]
        return fn(*[exp.Paren(this=p) for p, _ in parts]), any(n for _, n in parts)

    def visit_and(self, node: A.And) -> tuple[exp.Expr, bool]:
        c = self.c
        checked: set[A.Field] = set()  # date fields whose day check an earlier bound of this AND has
        parts = []
        for it in node.items:
            if type(it) is A.Compare and it.field.type is T.DATE and not _bad_day(it.value):
                c._day_checked = it.field in checked
                checked.add(it.field)
                try:
                    parts.append(self.visit(it))
                finally:
                    c._day_checked = False
            else:
                parts.append(self.visit(it))
        return AND(*[exp.Paren(this=p) for p, _ in parts]), any(n for _, n in parts)

    def visit_or(self, node: A.Or) -> tuple[exp.Expr, bool]:
        if self.c.columns:
            node = A.Or(self.c._merge_null_states(node.items))
        return self._connect(node, OR)

    def visit_not(self, node: A.Not) -> tuple[exp.Expr, bool]:
        c, ctx = self.c, self.ctx
        if isinstance(node.item, A.InTrash):  # the usual "not in trash": what an index on removed_at serves
            return exp.Is(this=c.rcol(ctx, "removed_at"), expression=exp.Null()), False
        inner, nullable = self.visit(node.item)
        if nullable and not c.bool_values:
            # no boolean values (T-SQL, Oracle...): a CASE on 1/0 keeps NULL rows
            flag = exp.Case(ifs=[exp.If(this=inner, true=_n(1))], default=_n(0))
            return exp.EQ(this=flag, expression=_n(0)), False
        if nullable and c.fam.NULL_SAFE_NOT:
            safe = _null_safe_not(inner)
            if safe is not None:
                return safe, False
        if nullable:
            inner = exp.Coalesce(this=inner, expressions=[exp.false()])
        return exp.Not(this=exp.Paren(this=inner)), False

    def visit_compare(self, node: A.Compare) -> tuple[exp.Expr, bool]:
        return self.c.compare(node, self.ctx), True

    def visit_field_state(self, node: A.FieldState) -> tuple[exp.Expr, bool]:
        return self.c.state(node, self.ctx), True

    def visit_relation(self, node: A.Relation) -> tuple[exp.Expr, bool]:
        return self.c.relation(node, self.ctx), True

    def visit_search(self, node: A.Search) -> tuple[exp.Expr, bool]:
        return self.c.search(node, self.ctx), True

    def visit_id_in(self, node: A.IdIn) -> tuple[exp.Expr, bool]:
        if not node.ids:
            return exp.false(), False
        return self.c.bin_in(self.c.rcol(self.ctx, "id"), node.ids), False

    def visit_created_at(self, node: A.CreatedAt) -> tuple[exp.Expr, bool]:
        c, ctx = self.c, self.ctx
        bounds: list[exp.Expr] = []
        if node.start is not None:
            bounds.append(exp.GTE(this=c.rcol(ctx, "created_at"), expression=c.param(node.start)))
        if node.end is not None:
            bounds.append(exp.LT(this=c.rcol(ctx, "created_at"), expression=c.param(node.end)))
        return (AND(*bounds) if bounds else exp.true()), False

    def visit_modified_since(self, node: A.ModifiedSince) -> tuple[exp.Expr, bool]:
        c, ctx = self.c, self.ctx
        ts = exp.Coalesce(this=c.rcol(ctx, "updated_at"), expressions=[c.rcol(ctx, "created_at")])
        return exp.GTE(this=ts, expression=c.param(node.since)), False

    def visit_in_trash(self, node: A.InTrash) -> tuple[exp.Expr, bool]:
        return exp.Not(this=exp.Is(this=self.c.rcol(self.ctx, "removed_at"), expression=exp.Null())), False


def compile_shape(
    shape: A.Query,
    dialect: str,
    layout: JsonLayout | ColumnsLayout | None = None,
    database: str | None = None,
    icu_lower: bool = False,
    count: bool = False,
) -> Compiled:
    """Compile a shape (see ``shape.extract``): the params are Slots, bound later by ``shape.resolve``.
    ``count``: the ``SELECT COUNT(*)`` of its matches (``Compiler.count``)."""
    budget.check(shape, dialect)  # before any tree is built: the cost of a compile is bounded
    comp = Compiler(dialect, layout if layout is not None else JsonLayout(), None, icu_lower)
    db = database if database is not None else shape.database
    tree = comp.count(shape, db) if count else comp.select(shape, db)
    return Compiled(tree, comp.params, db, tuple(comp.warnings))


def compile_tree(
    query: A.Query,
    dialect: str = "sqlite",
    layout: JsonLayout | ColumnsLayout | None = None,
    catalog: CatalogSource | None = None,
    database: str | None = None,
    icu_lower: bool = False,
) -> Compiled:
    """The SELECT for ``query`` (database defaults to ``query.database``) with named placeholders.

    Always compiled through the query's shape, so the cached and uncached SQL are one code path.
    ``catalog`` is accepted for symmetry with the other backends; field types are in the AST.
    """
    check_cursor(query)
    shape, values = extract(query)
    comp = compile_shape(shape, dialect, layout, database, icu_lower)
    comp.params = {k: resolve(v, values) for k, v in comp.params.items()}
    return comp
