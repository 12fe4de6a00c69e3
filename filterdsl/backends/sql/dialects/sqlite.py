"""SQLite's JSON1 functions: the JSON document layout on SQLite (json_extract, json_type, json_each)."""

from __future__ import annotations

from typing import Any

from sqlglot import exp

from filterdsl.backends.sql.dialects.base import AND, J, _n, _PathFamily, _s, alias_table, col, dtype, fn
from filterdsl.backends.sql.shape import length
from filterdsl.errors import Diagnostic, FilterError, Location


class SQLiteFamily(_PathFamily):
    POSITION_FN = "instr"
    SUBSTR_FN = "substr"
    name = "sqlite"
    BOOL_VALUES = True
    SORT_BY_KIND = True
    VERIFIED = True
    INDEX_FORMS = {
        "json": {
            **dict.fromkeys(("eq", "in", "range", "date", "text-range"), "scalar_text"),
            **dict.fromkeys(("money-eq", "money-range"), "money_text"),
            "refcol": "text",
        },
        "columns": dict.fromkeys(("eq", "in", "range", "state", "date", "text-range"), "column"),
    }
    INDEX_WHY = {
        "json": "SQLite's expression indexes serve equality and ranges on json_extract, not this form"
    }
    ORDER_INDEX = "expressions"
    #: json_each's key column and length() stop at NUL, text compares past it: refused (guard.py)
    HOLDS_NUL = False
    NUL_WHY = "SQLite's JSON functions cut a string at it and its length() stops there"
    kinds = {
        "null": ("null",),
        "string": ("text",),
        "number": ("integer", "real"),
        "true": ("true",),
        "false": ("false",),
        "array": ("array",),
        "object": ("object",),
    }

    @staticmethod
    def key_ok(seg: str) -> bool:
        # SQLite matches a quoted path label against the raw key text and cannot escape '"'
        return not any(c in seg for c in '"\\') and all(ord(c) >= 0x20 for c in seg)

    def _args(self, j: J) -> list[exp.Expr]:
        assert j.root is not None
        return [j.root, _s("$")] if j.path is None else [j.root, j.path]

    def child(self, parent: J, seg: str, depth: int) -> J:
        if "\x00" in seg:  # json_each's key column stops at NUL: no form finds such a key (loud, not empty)
            raise FilterError(
                [
                    Diagnostic(
                        "not-expressible",
                        f"SQLite cannot read a JSON key holding NUL ({seg!r}); use another engine",
                        Location(param="query"),
                    )
                ]
            )
        if parent.elem is not None:
            parent = J(col("value", parent.elem))  # array/object elements: value is JSON text
        if self.key_ok(seg):
            return super().child(parent, seg, depth)
        # a key SQLite's path syntax cannot name: find it with json_each, rebuild the child's JSON text
        e = f"k{depth}"
        each = alias_table(fn("json_each", *self._args(parent)), e)
        value = exp.Case(
            ifs=[
                exp.If(
                    this=exp.EQ(this=col("type", e), expression=_s("text")),
                    true=fn("json_quote", col("value", e)),
                ),
                exp.If(this=exp.EQ(this=col("type", e), expression=_s("null")), true=_s("null")),
                exp.If(this=exp.EQ(this=col("type", e), expression=_s("true")), true=_s("true")),
                exp.If(this=exp.EQ(this=col("type", e), expression=_s("false")), true=_s("false")),
            ],
            default=exp.Cast(this=col("value", e), to=dtype("TEXT")),
        )
        sub = (
            exp.select(value)
            .from_(each)
            .where(
                AND(
                    exp.EQ(this=fn("json_type", *self._args(parent)), expression=_s("object")),
                    exp.EQ(this=col("key", e), expression=self.key_text(seg)),
                )
            )
        )
        return J(exp.Subquery(this=sub), None)

    def typ(self, j: J) -> exp.Expr:
        if j.elem is not None:
            return col("type", j.elem)
        return fn("json_type", *self._args(j))

    def bool_eq(self, j: J, value: bool) -> exp.Expr:
        # json_extract gives 1/0 for true/false: the index on json_extract(data, path) serves it
        if j.elem is not None:
            return self.is_bool(j, value)
        return AND(exp.EQ(this=self.text(j), expression=_n(1 if value else 0)), self.is_bool(j, value))

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

    def starts(self, hay: exp.Expr, needle: Any) -> exp.Expr:
        return exp.EQ(
            this=fn("substr", hay, _n(1), self.param(length(needle))), expression=self.param(needle)
        )

    def ends(self, hay: exp.Expr, needle: Any) -> exp.Expr:
        n = length(needle)
        start = exp.Add(this=exp.Sub(this=fn("length", hay), expression=self.param(n)), expression=_n(1))
        return AND(
            exp.GTE(this=fn("length", hay.copy()), expression=self.param(n)),
            exp.EQ(this=fn("substr", hay.copy(), start), expression=self.param(needle)),
        )

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        # date(h, '+0 days') normalises (2020-04-31 -> 2020-05-01) and rejects other shapes: only a
        # real YYYY-MM-DD survives unchanged (checked against records.valid_day on 1,430 strings)
        # max(h, '0001') is h, except below year 1, where no date() result equals it (h read twice)
        return exp.EQ(this=fn("date", head, _s("+0 days")), expression=fn("max", head.copy(), _s("0001")))
