"""Families for the in-process columnar engines executed in the tests: DataFusion and ClickHouse (chDB).

DataFusion is served in the **columns layout** only (one typed column per field; it has no JSON
functions), ClickHouse in both layouts (``ClickHouseJsonFamily`` for the JSON document layout). What
they add over the generic dialects:

- DataFusion (a ``datafusion`` sqlglot dialect registered here, Trino syntax with ``$name``
  parameters): dates (``regexp_like``; Rust's regex has no look-ahead, so year 0000 is refused by a
  comparison), enumTags and refMultiple as ``List<Utf8>`` columns (``array_has_any``/``array_has_all``),
  ``starts_with``/``ends_with``; ``lower`` is Rust's full Unicode ``to_lowercase`` (final sigma and
  ``İ`` as Python).
- ClickHouse: ``lowerUTF8`` (``LOWER`` folds ASCII only), ``positionUTF8``, ``startsWith``/``endsWith``
  (``SUBSTRING`` counts bytes), ``lengthUTF8``, ``match`` (re2, no look-ahead either), enumTags and
  refMultiple as JSON text read with ``JSONExtract(c, 'Array(String)')`` (an ``Array`` column cannot be
  NULL, and NULL is how the columns layout says NOT SET/EMPTY), relations as uncorrelated subqueries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlglot import exp
from sqlglot.dialects.trino import Trino

from filterdsl.backends.sql.dialects.base import (
    AND,
    OR,
    Family,
    J,
    _n,
    _s,
    canonical_index,
    fn,
    not_expressible,
)
from filterdsl.backends.sql.shape import STEPS, Slot, derive
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.semantics.days import DAY_PREFIX

#: DAY_PREFIX without its ``(?!0000)`` look-ahead (Rust regex and re2 have none): year 0000 is refused
#: by ``text >= '0001'`` instead
DAY_PREFIX_NO_LOOKAHEAD = DAY_PREFIX.replace("^(?!0000)", "^", 1)


class DataFusion(Trino):
    """Apache DataFusion's SQL as sqlglot writes it: Trino syntax, ``$name`` parameters."""

    # NULLs sort last ascending and first descending (Trino's default is last both ways)
    NULL_ORDERING = "nulls_are_large"

    class Generator(Trino.Generator):  # type: ignore[valid-type,misc]
        TRANSFORMS = {
            **Trino.Generator.TRANSFORMS,
            exp.Placeholder: lambda self, e: f"${e.name}" if e.name else "?",
        }


class _ColumnarFamily(Family):
    """Shared: typed columns only; a field's column is the ``J`` root, list columns hold strings."""

    SUBSTR_FN = "substr"

    #: relations as uncorrelated subqueries (``id IN (SELECT ...)``, overlap with an aggregated list)
    uncorrelated = False

    def root(self, doc: exp.Expr, top: bool = False) -> J:
        return J(doc)

    def child(self, parent: J, seg: str, depth: int) -> J:
        raise not_expressible(self.dialect, "access to JSON field values", self.layout)

    def kind_is(self, j: J, kinds: tuple[str, ...]) -> exp.Expr:
        # only reached for list columns (arrays, or NULL for NOT SET/EMPTY) and their string elements
        if kinds == ("array",):
            return exp.Not(this=exp.Is(this=self._list(j), expression=exp.Null()))
        if kinds == ("string",) and j.elem is not None:
            return exp.true()
        raise not_expressible(self.dialect, "JSON type checks", self.layout)

    def text(self, j: J) -> exp.Expr:
        if j.elem is not None:
            assert j.root is not None
            return j.root
        raise not_expressible(self.dialect, "JSON string values", self.layout)

    def _list(self, j: J) -> exp.Expr:
        assert j.root is not None
        return j.root

    def valid_prefix(self, text: exp.Expr) -> exp.Expr:
        # anchored at the start only: no substring needed
        return AND(self.valid_day(text), exp.GTE(this=text.copy(), expression=_s("0001")))

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        return exp.RegexpLike(this=head, expression=_s(DAY_PREFIX_NO_LOOKAHEAD))

    def _arr(self, values: tuple[object, ...]) -> exp.Expr:
        return fn(self.array_fn, *[self.param(v) for v in dict.fromkeys(values)])

    array_fn = "make_array"
    has_any_fn = "array_has_any"
    has_all_fn = "array_has_all"

    def tags_any(self, j: J, values: tuple[object, ...], alias: Callable[[], str]) -> exp.Expr:
        return fn(self.has_any_fn, self._list(j), self._arr(values))

    def tags_all(self, j: J, values: tuple[object, ...], alias: Callable[[], str]) -> exp.Expr:
        return fn(self.has_all_fn, self._list(j), self._arr(values))

    def tags_exactly(self, j: J, values: tuple[object, ...], alias: Callable[[], str]) -> exp.Expr:
        # set equality: each holds every element of the other (order and duplicates ignored)
        return AND(self.tags_all(j, values, alias), fn(self.has_all_fn, self._arr(values), self._list(j)))


#: separator candidates for joining list elements: controls, then private-use characters (neither
#: cased nor case-ignorable, so lowering the joined text lowers each element as on its own: a final
#: sigma stays final at an element's end)
_SEPARATORS = (range(0x00, 0x20), range(0x7F, 0xA0), range(0xE000, 0xF900), range(0xF0000, 0xFFFFE))


def separator(term: str) -> str:
    """A character that does not occur in ``term``: a match of ``term`` in elements joined with it
    cannot span two elements, so it is a match inside one (exact)."""
    used = set(term)
    for block in _SEPARATORS:
        for cp in block:
            if chr(cp) not in used:
                return chr(cp)
    raise FilterError(
        [
            Diagnostic(
                "too-large",
                "a search term holding every separator candidate (over "
                "137,000 distinct characters) cannot be searched in a DataFusion list column",
                Location(param="query"),
            )
        ]
    )


STEPS["separator"] = separator


class DataFusionFamily(_ColumnarFamily):
    POSITION_FN = "strpos"
    STARTS_FN = "starts_with"
    ENDS_FN = "ends_with"
    name = "datafusion"
    BOOL_VALUES = True

    def any_element(self, j: J, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        # no lambdas, and a correlated UNNEST is not planned (list_search covers search terms)
        raise not_expressible(self.dialect, "a test on each element of an enumTags column", self.layout)

    def list_search(self, j: J, term: Any) -> exp.Expr:
        """Case-insensitive ``term`` in some element: the elements joined with a character the term
        does not contain (chosen per value when it is bound), then one ``strpos``."""
        joined = fn("array_to_string", self._list(j), self.param(derive(term, "separator")))
        return self.contains(self.lower(joined), term)

    def length(self, e: exp.Expr) -> exp.Expr:
        return fn("character_length", e)

    def sort_number_column(self, c: exp.Expr) -> exp.Expr:
        # DataFusion orders floats by IEEE total order (-0.0 before 0.0); adding 0.0 turns -0.0 into
        # 0.0, so they tie as SPEC 8 says (the default order decides)
        return exp.Add(this=c, expression=exp.Literal.number("0.0"))

    def ref_many(self, listed: J, ref_id: exp.Expr) -> exp.Expr:
        """The list column holds the referenced row's id (a correlated EXISTS condition)."""
        return fn("array_has", self._list(listed), ref_id)


class ClickHouseFamily(_ColumnarFamily):
    POSITION_FN = "positionUTF8"
    STARTS_FN = "startsWith"
    ENDS_FN = "endsWith"
    SUBSTR_FN = "substringUTF8"
    name = "clickhouse"
    #: ClickHouse's default max_query_size (the SQL text; query parameters travel as settings)
    MAX_STATEMENT_BYTES = 262_144
    PARAMS_IN_STATEMENT = False
    BOOL_VALUES = True

    @staticmethod
    def typed_params(tree: exp.Expr, params: dict[str, Any]) -> exp.Expr:
        """ClickHouse query parameters carry a type: ``{p0: String}`` (an untyped one does not parse)."""

        def typed(node: exp.Expr) -> exp.Expr:
            if isinstance(node, exp.Placeholder) and node.name in params:
                v = params[node.name]
                k = v.kind if type(v) is Slot else {str: "str", int: "int"}.get(type(v), "float")
                kind = {"str": "String", "int": "Int64"}.get(k, "Float64")
                return exp.Placeholder(
                    this=exp.Var(this=node.name), kind=exp.DataType.build(kind, dialect="clickhouse")
                )
            return node

        return tree.transform(typed)

    #: the family used for the JSON document layout (set below)
    json_family: type[Family] | None = None
    uncorrelated = True
    array_fn = "array"
    has_any_fn = "hasAny"
    has_all_fn = "hasAll"

    def _list(self, j: J) -> exp.Expr:
        assert j.root is not None
        # JSONExtract refuses a Nullable argument (Array cannot be Nullable): NULL reads as []
        return fn("JSONExtract", fn("ifNull", j.root, _s("[]")), _s("Array(String)"))

    def kind_is(self, j: J, kinds: tuple[str, ...]) -> exp.Expr:
        if kinds == ("array",):
            assert j.root is not None
            return exp.Not(this=exp.Is(this=j.root, expression=exp.Null()))
        return super().kind_is(j, kinds)

    def any_element(self, j: J, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        var = exp.to_identifier(alias)
        body = cond(J(exp.column(var.copy()), elem=alias))
        return fn("arrayExists", exp.Lambda(this=body, expressions=[var]), self._list(j))

    def string_elements(self, j: J, alias: str) -> exp.Expr:
        return self._list(j)

    def collect(self, e: exp.Expr) -> exp.Expr:
        return fn("groupArray", e)

    def overlap(self, listed: exp.Expr, ids: exp.Expr) -> exp.Expr:
        return fn("hasAny", listed, ids)

    def lower(self, e: exp.Expr) -> exp.Expr:
        return fn("lowerUTF8", e)

    def length(self, e: exp.Expr) -> exp.Expr:
        return fn("lengthUTF8", e)


class ClickHouseJsonFamily(ClickHouseFamily):
    """ClickHouse, JSON document layout: every value is handled as its raw JSON text
    (``JSONExtractRaw``, ``''`` for a missing key), typed with ``JSONType`` and read with
    ``JSONExtractString``/``JSONExtractFloat``/``JSONExtractBool``; arrays and objects through
    ``JSONExtractArrayRaw``/``JSONExtractKeysAndValuesRaw`` and ``arrayExists`` lambdas."""

    _NUM = ("Int64", "UInt64", "Double")
    SORT_BY_KIND = True
    MISSING_TYPE_IS_NULL = False
    #: JSONType's names (read by sort_kinds only; kind_is below tells a missing key from null)
    kinds = {
        "null": ("Null",),
        "string": ("String",),
        "number": _NUM,
        "true": ("Bool",),
        "false": ("Bool",),
        "array": ("Array",),
        "object": ("Object",),
    }

    def sort_bool_text(self, j: J) -> exp.Expr:
        return self._raw(j)  # true/false (JSONExtractString reads '' of a boolean)

    def root(self, doc: exp.Expr, top: bool = False) -> J:
        return J(doc)

    @staticmethod
    def _raw(j: J) -> exp.Expr:
        assert j.root is not None
        return j.root

    def child(self, parent: J, seg: str, depth: int) -> J:
        raw = self._raw(parent)
        by_key = fn("JSONExtractRaw", raw, _s(seg))
        if depth > 0 and canonical_index(seg):  # JSON indices are 1-based
            by_idx = fn("JSONExtractRaw", raw.copy(), _n(int(seg) + 1))
            arr = exp.EQ(this=fn("JSONType", raw.copy()), expression=_s("Array"))
            return J(exp.Case(ifs=[exp.If(this=arr, true=by_idx)], default=by_key))
        return J(by_key)

    def typ(self, j: J) -> exp.Expr:
        return fn("JSONType", self._raw(j))

    def missing(self, j: J) -> exp.Expr:
        return exp.EQ(this=self._raw(j), expression=_s(""))

    def kind_is(self, j: J, kinds: tuple[str, ...]) -> exp.Expr:
        t = self.typ(j)
        conds: list[exp.Expr] = []
        for k in dict.fromkeys(kinds):
            if k == "null":  # JSONType says Null for a missing key too
                conds.append(
                    AND(
                        exp.EQ(this=t.copy(), expression=_s("Null")),
                        exp.NEQ(this=self._raw(j).copy(), expression=_s("")),
                    )
                )
            elif k == "number":
                conds.append(exp.In(this=t.copy(), expressions=[_s(x) for x in self._NUM]))
            elif k in ("true", "false"):
                if "true" in kinds and "false" in kinds:
                    if k == "true":
                        conds.append(exp.EQ(this=t.copy(), expression=_s("Bool")))
                else:
                    conds.append(
                        AND(
                            exp.EQ(this=t.copy(), expression=_s("Bool")),
                            exp.EQ(
                                this=fn("JSONExtractBool", self._raw(j).copy()),
                                expression=_n(1 if k == "true" else 0),
                            ),
                        )
                    )
            else:
                conds.append(exp.EQ(this=t.copy(), expression=_s(k.capitalize())))
        return conds[0] if len(conds) == 1 else OR(*[exp.Paren(this=c) for c in conds])

    def text(self, j: J) -> exp.Expr:
        return fn("JSONExtractString", self._raw(j))

    def num(self, j: J) -> exp.Expr:
        return fn("JSONExtractFloat", self._raw(j))

    def exact_int(self, j: J) -> exp.Expr:
        # an Int64/UInt64 as Int128 (exact), a Double converted (toInt128 is exact for an integral double
        # in range). Integers beyond 64 bits read as strings (JSONType 'String'): the runner refuses them
        ints = exp.In(this=self.typ(j), expressions=[_s("Int64"), _s("UInt64")])
        return exp.Case(
            ifs=[exp.If(this=ints, true=fn("JSONExtract", self._raw(j).copy(), _s("Int128")))],
            default=fn("toInt128", self.num(j)),
        )

    def exact_int_param(self, p: exp.Expr) -> exp.Expr:
        return fn("toInt128", fn("toFloat64", p))

    def json_text(self, j: J) -> exp.Expr:
        return self._raw(j)

    def array_len(self, j: J) -> exp.Expr:
        return fn("JSONLength", self._raw(j))

    def _exists(self, arr: exp.Expr, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        var = exp.to_identifier(alias)
        return fn("arrayExists", exp.Lambda(this=cond(J(exp.column(var.copy()))), expressions=[var]), arr)

    def any_element(self, j: J, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        return self._exists(fn("JSONExtractArrayRaw", self._raw(j)), alias, cond)

    def any_member(self, j: J, alias: str, cond: Callable[[J], exp.Expr]) -> exp.Expr:
        t = exp.to_identifier(alias + "t")
        values = fn(
            "arrayMap",
            exp.Lambda(this=fn("tupleElement", exp.column(t.copy()), _n(2)), expressions=[t]),
            fn("JSONExtractKeysAndValuesRaw", self._raw(j)),
        )
        return self._exists(values, alias, cond)

    def string_elements(self, j: J, alias: str) -> exp.Expr:
        var = exp.to_identifier(alias)
        keep = exp.Lambda(this=self.kind_is(J(exp.column(var.copy())), ("string",)), expressions=[var.copy()])
        get = exp.Lambda(this=self.text(J(exp.column(var.copy()))), expressions=[var.copy()])
        return fn("arrayMap", get, fn("arrayFilter", keep, fn("JSONExtractArrayRaw", self._raw(j))))

    def holds_all(self, j: J, values: tuple[object, ...], alias: str) -> exp.Expr:
        # the array's string elements (one read of the value) hold every value
        return fn("hasAll", self.string_elements(j, alias), fn("array", *[self.param(v) for v in values]))

    # the JSON layout's tags are JSON arrays tested element by element (Family's forms)
    tags_any = Family.tags_any
    tags_all = Family.tags_all
    tags_exactly = Family.tags_exactly


ClickHouseFamily.json_family = ClickHouseJsonFamily


__all__ = ["DataFusion", "DataFusionFamily", "ClickHouseFamily", "derive"]
