"""DuckDB's JSON extension: the JSON document layout on DuckDB."""

from __future__ import annotations

from sqlglot import exp

from filterdsl.backends.sql.dialects.base import Family, J, _s, alias_table, col, dtype, fn


def _varint() -> exp.DataType:
    """DuckDB's arbitrary-precision integer (``VARINT``, also named ``BIGNUM``; sqlglot has no name for it)."""
    return exp.DataType(this=exp.DataType.Type.USERDEFINED, kind="VARINT")


class DuckDBFamily(Family):
    """DuckDB's JSON extension; paths are RFC 6901 JSON Pointers (any key, arrays by canonical index)."""

    ONE_BOOLEAN_TYPE = True

    POSITION_FN = "strpos"
    STARTS_FN = "starts_with"
    ENDS_FN = "suffix"
    SUBSTR_FN = "substr"

    name = "duckdb"
    BOOL_VALUES = True
    SORT_BY_KIND = True
    OFFSET_ALONE = True
    VERIFIED = True
    INDEX_FORMS = {"columns": dict.fromkeys(("eq", "in"), "column")}
    INDEX_WHY = {
        "json": "DuckDB indexes (ART) serve equality on plain columns; JSON values are scanned, with zonemaps "
        "skipping row groups",
        "columns": "DuckDB scans columns with zonemaps; its ART indexes serve point lookups",
    }
    kinds = {
        "null": ("NULL",),
        "string": ("VARCHAR",),
        "number": ("BIGINT", "UBIGINT", "DOUBLE", "HUGEINT"),
        "true": ("BOOLEAN",),
        "false": ("BOOLEAN",),
        "array": ("ARRAY",),
        "object": ("OBJECT",),
    }

    def json_param(self, p: exp.Expr) -> exp.Expr:
        return exp.Cast(this=p, to=dtype("JSON"))

    def root(self, doc: exp.Expr, top: bool = False) -> J:
        return J(doc, None)

    def child(self, parent: J, seg: str, depth: int) -> J:
        piece = "/" + seg.replace("~", "~0").replace("/", "~1")
        if "\x00" in piece:  # no NUL in SQL text: such a piece is bound
            return J(
                parent.root,
                self.key_text(piece)
                if parent.path is None
                else exp.DPipe(this=parent.path, expression=self.key_text(piece), safe=True),
            )
        if parent.path is None:
            return J(parent.root, _s(piece))
        if isinstance(parent.path, exp.Literal):
            return J(parent.root, _s(parent.path.this + piece))
        return J(parent.root, exp.DPipe(this=parent.path, expression=_s(piece), safe=True))

    def _args(self, j: J) -> list[exp.Expr]:
        assert j.root is not None
        return [j.root, _s("$")] if j.path is None else [j.root, j.path]

    def typ(self, j: J) -> exp.Expr:
        return fn("json_type", *self._args(j))

    def bool_text(self, j: J) -> exp.Expr:
        return self.text(j)

    def text(self, j: J) -> exp.Expr:
        return fn("json_extract_string", *self._args(j))

    def num(self, j: J) -> exp.Expr:
        # TRY_CAST: DuckDB may evaluate both sides of an AND, and a kind test must not be needed first
        return exp.TryCast(this=self.text(j), to=dtype("DOUBLE"))

    def exact_int(self, j: J) -> exp.Expr:
        # an integer's own text as a VARINT (any size; TRY_CAST rounds a fraction, so only for integer
        # text), else the double converted exactly (CAST(DOUBLE AS VARINT) is exact for an integral double)
        text = self.text(j)
        integer = fn("regexp_full_match", text.copy(), _s("-?[0-9]+"))
        return exp.Case(
            ifs=[exp.If(this=integer, true=exp.TryCast(this=text, to=_varint()))],
            default=exp.TryCast(this=self.num(j), to=_varint()),
        )

    def exact_int_param(self, p: exp.Expr) -> exp.Expr:
        return exp.TryCast(this=exp.Cast(this=p, to=dtype("DOUBLE")), to=_varint())

    def json_text(self, j: J) -> exp.Expr:
        return exp.Cast(this=fn("json_extract", *self._args(j)), to=dtype("VARCHAR"))

    def array_len(self, j: J) -> exp.Expr:
        return fn("json_array_length", *self._args(j))

    def elements(self, j: J, alias: str) -> tuple[exp.Expr, J]:
        assert j.root is not None
        doc = j.root if j.path is None else fn("json_extract", j.root, j.path)  # json_each wants a '$' path
        return alias_table(fn("json_each", doc), alias), J(col("value", alias))

    members = elements

    def valid_day(self, head: exp.Expr) -> exp.Expr:
        # a real day parses and prints back as itself (a shape strptime accepts but is not YYYY-MM-DD,
        # such as ' 020-01-01', prints otherwise); greatest(h, '0001') is h, except below year 1, where
        # nothing printed equals it (h read twice)
        day = fn("strftime", fn("try_strptime", head, _s("%Y-%m-%d")), _s("%Y-%m-%d"))
        return exp.EQ(this=day, expression=fn("greatest", head.copy(), _s("0001")))
