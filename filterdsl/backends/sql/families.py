"""Per-engine JSON access: how to reach a value inside the ``data`` column, test its JSON type,
read it as text or number, and expand an array or an object into rows.

Each supported dialect belongs to a *family* whose JSON functions it shares. Fragments are written
as small SQL templates in the family's own dialect, parsed once by sqlglot (cached) and filled with
expressions, so the output is always a sqlglot tree: values are placeholders, never text. Holes in a
template are columns named ``__x``; table aliases named ``__e`` are renamed per use.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass

import sqlglot
from sqlglot import exp

# kinds a JSON value can have; "missing" is SQL NULL (key absent)
KINDS = ("null", "string", "number", "true", "false", "array", "object")


@functools.lru_cache(maxsize=1024)
def _parsed(text: str, read: str) -> exp.Expression:
    return sqlglot.parse_one(text, read=read)


def tpl(read: str, text: str, alias: str | None = None, **holes: exp.Expression) -> exp.Expression:
    """Parse ``text`` (cached), copy it, and replace ``__name`` columns by ``holes[name]``."""
    tree = _parsed(text, read).copy()

    def fill(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name.startswith("__"):
            return holes[node.name[2:]].copy()
        if alias is not None and isinstance(node, exp.Identifier) and node.this == "__e":
            return exp.to_identifier(alias, quoted=True)
        return node

    return tree.transform(fill, copy=False)


def canonical_index(seg: str) -> bool:
    return seg.isdigit() and seg.isascii() and (seg == "0" or seg[0] != "0")


def json_key(seg: str) -> str:
    """A key as it appears between quotes in a JSON path: JSON string escaping, non-ASCII kept."""
    return json.dumps(seg, ensure_ascii=False)[1:-1]


@dataclass
class Node:
    """A JSON value reachable in SQL; SQL NULL (under ``kind_expr``) means the key is missing.

    ``root``/``path``: the document expression and a JSON path expression (path families).
    ``value``: a JSON-typed expression (PostgreSQL family: jsonb).
    ``elem_type``/``elem_value``: an element from SQLite's json_each (type column + SQL value).
    """

    root: exp.Expression | None = None
    path: exp.Expression | None = None
    value: exp.Expression | None = None
    elem_type: exp.Expression | None = None
    elem_value: exp.Expression | None = None


class Family:
    """Interface; subclasses implement one engine's JSON functions."""

    name = "generic"
    read = "sqlite"

    def __init__(self, param: "ParamFn"):
        self.param = param

    # ---- navigation
    def root(self, doc: exp.Expression) -> Node:
        raise NotImplementedError

    def member(self, parent: Node, seg: str, depth: int) -> Node:
        raise NotImplementedError

    # ---- inspection
    def kind_is(self, node: Node, kinds: tuple[str, ...]) -> exp.Expression:
        raise NotImplementedError

    def missing(self, node: Node) -> exp.Expression:
        raise NotImplementedError

    def raw_text(self, node: Node) -> exp.Expression:
        raise NotImplementedError

    def raw_num(self, node: Node) -> exp.Expression:
        raise NotImplementedError

    def json_text(self, node: Node) -> exp.Expression:
        raise NotImplementedError

    def array_len(self, node: Node) -> exp.Expression:
        raise NotImplementedError

    # ---- expansion: (FROM item, element node)
    def elements(self, node: Node, alias: str) -> tuple[exp.Expression, Node]:
        raise NotImplementedError

    def members(self, node: Node, alias: str) -> tuple[exp.Expression, Node]:
        raise NotImplementedError

    # ---- strings
    def lower(self, e: exp.Expression) -> exp.Expression:
        return exp.Lower(this=e)

    def binary(self, e: exp.Expression) -> exp.Expression:
        """A string expression that compares and sorts by code point (binary collation)."""
        return e

    # ---- helpers
    def text(self, node: Node) -> exp.Expression:
        """The value as SQL text when it is a JSON string, else NULL."""
        return exp.Case(ifs=[exp.If(this=self.kind_is(node, ("string",)), true=self.raw_text(node))])

    def num(self, node: Node) -> exp.Expression:
        """The value as an SQL number when it is a JSON number (never a boolean), else NULL."""
        return exp.Case(ifs=[exp.If(this=self.kind_is(node, ("number",)), true=self.raw_num(node))])


ParamFn = "Callable[[object], exp.Expression]"


def _s(v: str) -> exp.Expression:
    return exp.Literal.string(v)


def _in(e: exp.Expression, values: tuple[str, ...]) -> exp.Expression:
    if len(values) == 1:
        return exp.EQ(this=e, expression=_s(values[0]))
    return exp.In(this=e, expressions=[_s(v) for v in values])


class _PathFamily(Family):
    """Families whose JSON functions take (document, path text): SQLite, DuckDB, MySQL/MariaDB."""

    def root(self, doc: exp.Expression) -> Node:
        return Node(root=doc, path=_s("$"))

    def _key_piece(self, seg: str) -> str:
        return '."' + json_key(seg) + '"'

    def key_ok(self, seg: str) -> bool:
        return True

    def member(self, parent: Node, seg: str, depth: int) -> Node:
        assert parent.root is not None and parent.path is not None
        if not self.key_ok(seg):
            parent = self.reroot(parent)
            assert parent.root is not None and parent.path is not None
        piece: exp.Expression = self.param(self._key_piece(seg))
        if depth > 0 and canonical_index(seg):
            piece = exp.Case(ifs=[exp.If(this=self.kind_is(parent, ("array",)), true=self.param(f"[{seg}]"))],
                             default=piece)
        path = self._concat(parent.path, piece)
        return Node(root=parent.root, path=path)

    def reroot(self, node: Node) -> Node:
        raise NotImplementedError

    def _concat(self, a: exp.Expression, b: exp.Expression) -> exp.Expression:
        if isinstance(a, exp.Literal) and a.this == "$" and isinstance(b, exp.Placeholder):
            # "$" + '."k"' as one parameter keeps the common case to a single bound path
            return self.param.merge("$", b)  # type: ignore[attr-defined, no-any-return]
        if isinstance(a, exp.Placeholder) and isinstance(b, exp.Placeholder):
            return self.param.join(a, b)  # type: ignore[attr-defined, no-any-return]
        return exp.DPipe(this=a, expression=b, safe=True)

    def missing(self, node: Node) -> exp.Expression:
        return exp.Is(this=self._type(node), expression=exp.Null())

    def _type(self, node: Node) -> exp.Expression:
        raise NotImplementedError


class SQLiteFamily(_PathFamily):
    name = "sqlite"
    read = "sqlite"
    _KIND = {"null": ("null",), "string": ("text",), "number": ("integer", "real"), "true": ("true",),
             "false": ("false",), "array": ("array",), "object": ("object",)}

    def key_ok(self, seg: str) -> bool:
        # SQLite matches a quoted path label against the raw key text and cannot escape '"'
        return not any(c in seg for c in '"\\') and all(ord(c) >= 0x20 for c in seg)

    def reroot(self, node: Node) -> Node:
        raise NotImplementedError  # handled by member override

    def member(self, parent: Node, seg: str, depth: int) -> Node:
        if self.key_ok(seg):
            return super().member(parent, seg, depth)
        # key SQLite's path syntax cannot name: look it up with json_each, rebuild the child's JSON text
        sub = tpl("sqlite", "(SELECT CASE __e.type WHEN 'text' THEN json_quote(__e.value) WHEN 'null' THEN 'null' "
                  "WHEN 'true' THEN 'true' WHEN 'false' THEN 'false' ELSE __e.value END "
                  "FROM json_each(__r, __p) AS __e WHERE __e.type IS NOT NULL AND __e.key = __k AND "
                  "json_type(__r, __p) = 'object')",
                  alias=f"k{depth}", r=parent.root, p=parent.path, k=self.param(seg))  # type: ignore[arg-type]
        return Node(root=sub, path=_s("$"))

    def _type(self, node: Node) -> exp.Expression:
        if node.elem_type is not None:
            return exp.Case(ifs=[exp.If(this=exp.Is(this=node.elem_type, expression=exp.Null()).not_(),
                                        true=node.elem_type)])
        return exp.Anonymous(this="json_type", expressions=[node.root, node.path])

    def kind_is(self, node: Node, kinds: tuple[str, ...]) -> exp.Expression:
        return _in(self._type(node), tuple(t for k in kinds for t in self._KIND[k]))

    def raw_text(self, node: Node) -> exp.Expression:
        if node.elem_value is not None:
            return node.elem_value
        return exp.Anonymous(this="json_extract", expressions=[node.root, node.path])

    raw_num = raw_text

    def json_text(self, node: Node) -> exp.Expression:
        return self.raw_text(node)

    def array_len(self, node: Node) -> exp.Expression:
        if node.elem_value is not None:
            return exp.Anonymous(this="json_array_length", expressions=[node.elem_value])
        return exp.Anonymous(this="json_array_length", expressions=[node.root, node.path])

    def elements(self, node: Node, alias: str) -> tuple[exp.Expression, Node]:
        args = [node.elem_value] if node.elem_value is not None else [node.root, node.path]
        fn = exp.Anonymous(this="json_each", expressions=args)
        frm = exp.Table(this=fn, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        col = functools.partial(exp.column, table=exp.to_identifier(alias, quoted=True))
        return frm, Node(elem_type=col(exp.to_identifier("type", quoted=True)),
                         elem_value=col(exp.to_identifier("value", quoted=True)))

    members = elements


class DuckDBFamily(_PathFamily):
    name = "duckdb"
    read = "duckdb"
    _KIND = {"null": ("NULL",), "string": ("VARCHAR",), "number": ("BIGINT", "UBIGINT", "DOUBLE", "HUGEINT"),
             "true": ("BOOLEAN",), "false": ("BOOLEAN",), "array": ("ARRAY",), "object": ("OBJECT",)}

    def _type(self, node: Node) -> exp.Expression:
        return exp.Anonymous(this="json_type", expressions=[node.root, node.path])

    def kind_is(self, node: Node, kinds: tuple[str, ...]) -> exp.Expression:
        cond = _in(self._type(node), tuple(dict.fromkeys(t for k in kinds for t in self._KIND[k])))
        if ("true" in kinds) != ("false" in kinds):
            want = "true" if "true" in kinds else "false"
            cond = exp.and_(cond, exp.EQ(this=self.raw_text(node), expression=_s(want)))
        return cond

    def raw_text(self, node: Node) -> exp.Expression:
        return exp.Anonymous(this="json_extract_string", expressions=[node.root, node.path])

    def raw_num(self, node: Node) -> exp.Expression:
        return exp.Cast(this=self.raw_text(node), to=exp.DataType.build("DOUBLE"))

    def json_text(self, node: Node) -> exp.Expression:
        return exp.Cast(this=exp.Anonymous(this="json_extract", expressions=[node.root, node.path]),
                        to=exp.DataType.build("VARCHAR"))

    def array_len(self, node: Node) -> exp.Expression:
        return exp.Anonymous(this="json_array_length", expressions=[node.root, node.path])

    def elements(self, node: Node, alias: str) -> tuple[exp.Expression, Node]:
        fn = exp.Anonymous(this="json_each", expressions=[node.root, node.path])
        frm = exp.Table(this=fn, alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)))
        return frm, Node(root=exp.column(exp.to_identifier("value", quoted=True),
                                         table=exp.to_identifier(alias, quoted=True)), path=_s("$"))

    members = elements


class MySQLFamily(_PathFamily):
    name = "mysql"
    read = "mysql"
    _KIND = {"null": ("NULL",), "string": ("STRING",), "number": ("INTEGER", "UNSIGNED INTEGER", "DOUBLE", "DECIMAL"),
             "true": ("BOOLEAN",), "false": ("BOOLEAN",), "array": ("ARRAY",), "object": ("OBJECT",)}

    def _extract(self, node: Node) -> exp.Expression:
        if isinstance(node.path, exp.Literal) and node.path.this == "$":
            return node.root  # type: ignore[return-value]
        return exp.Anonymous(this="JSON_EXTRACT", expressions=[node.root, node.path])

    def _type(self, node: Node) -> exp.Expression:
        return exp.Anonymous(this="JSON_TYPE", expressions=[self._extract(node)])

    def kind_is(self, node: Node, kinds: tuple[str, ...]) -> exp.Expression:
        cond = _in(self._type(node), tuple(dict.fromkeys(t for k in kinds for t in self._KIND[k])))
        if ("true" in kinds) != ("false" in kinds):
            want = "true" if "true" in kinds else "false"
            cond = exp.and_(cond, exp.EQ(this=self.raw_text(node), expression=_s(want)))
        return cond

    def raw_text(self, node: Node) -> exp.Expression:
        return exp.Anonymous(this="JSON_UNQUOTE", expressions=[self._extract(node)])

    def raw_num(self, node: Node) -> exp.Expression:
        return exp.Cast(this=self.raw_text(node), to=exp.DataType.build("DOUBLE"))

    def json_text(self, node: Node) -> exp.Expression:
        return self._extract(node)

    def array_len(self, node: Node) -> exp.Expression:
        return exp.Anonymous(this="JSON_LENGTH", expressions=[self._extract(node)])

    def elements(self, node: Node, alias: str) -> tuple[exp.Expression, Node]:
        t = tpl("mysql", "SELECT 1 FROM JSON_TABLE(__x, '$[*]' COLUMNS(v JSON PATH '$')) AS __e", alias=alias,
                x=self._extract(node))
        frm = t.args["from_"].this
        return frm, Node(root=exp.column("v", table=exp.to_identifier(alias, quoted=True)), path=_s("$"))

    def members(self, node: Node, alias: str) -> tuple[exp.Expression, Node]:
        values = Node(root=exp.Anonymous(this="JSON_EXTRACT", expressions=[self._extract(node), _s("$.*")]),
                      path=_s("$"))
        return self.elements(values, alias)

    def binary(self, e: exp.Expression) -> exp.Expression:
        return exp.Cast(this=e, to=exp.DataType.build("BINARY", dialect="mysql"))


class PostgresFamily(Family):
    name = "postgres"
    read = "postgres"
    _KIND = {"null": "null", "string": "string", "number": "number", "true": "boolean", "false": "boolean",
             "array": "array", "object": "object"}

    def root(self, doc: exp.Expression) -> Node:
        return Node(value=doc)

    def member(self, parent: Node, seg: str, depth: int) -> Node:
        key = exp.Cast(this=self.param(seg), to=exp.DataType.build("TEXT"))
        got: exp.Expression = exp.Anonymous(this="jsonb_extract_path", expressions=[parent.value, key])
        if depth > 0 and not canonical_index(seg):
            # PostgreSQL reads '01' or '-1' as an array index; SPEC paths index arrays only canonically
            got = exp.Case(ifs=[exp.If(this=self.kind_is(parent, ("array",)), true=exp.Null())], default=got)
        return Node(value=got)

    def _type(self, node: Node) -> exp.Expression:
        return exp.Anonymous(this="jsonb_typeof", expressions=[node.value])

    def missing(self, node: Node) -> exp.Expression:
        return exp.Is(this=node.value, expression=exp.Null())

    def kind_is(self, node: Node, kinds: tuple[str, ...]) -> exp.Expression:
        cond = _in(self._type(node), tuple(dict.fromkeys(self._KIND[k] for k in kinds)))
        if ("true" in kinds) != ("false" in kinds):
            want = "true" if "true" in kinds else "false"
            cond = exp.and_(cond, exp.EQ(this=self.json_text(node), expression=_s(want)))
        return cond

    def raw_text(self, node: Node) -> exp.Expression:
        return tpl("postgres", "__v #>> '{}'", v=node.value)  # type: ignore[arg-type]

    def raw_num(self, node: Node) -> exp.Expression:
        return exp.Cast(this=self.raw_text(node), to=exp.DataType.build("NUMERIC"))

    def json_text(self, node: Node) -> exp.Expression:
        return exp.Cast(this=node.value, to=exp.DataType.build("TEXT"))

    def array_len(self, node: Node) -> exp.Expression:
        return exp.Anonymous(this="jsonb_array_length", expressions=[node.value])

    def elements(self, node: Node, alias: str) -> tuple[exp.Expression, Node]:
        t = tpl("postgres", "SELECT 1 FROM jsonb_array_elements(CASE WHEN jsonb_typeof(__x) = 'array' THEN __x "
                "ELSE CAST('[]' AS JSONB) END) AS __e(v)", alias=alias, x=node.value)  # type: ignore[arg-type]
        return t.args["from_"].this, Node(value=exp.column("v", table=exp.to_identifier(alias, quoted=True)))

    def members(self, node: Node, alias: str) -> tuple[exp.Expression, Node]:
        t = tpl("postgres", "SELECT 1 FROM jsonb_each(CASE WHEN jsonb_typeof(__x) = 'object' THEN __x "
                "ELSE CAST('{}' AS JSONB) END) AS __e(k, v)", alias=alias, x=node.value)  # type: ignore[arg-type]
        return t.args["from_"].this, Node(value=exp.column("v", table=exp.to_identifier(alias, quoted=True)))

    def lower(self, e: exp.Expression) -> exp.Expression:
        return exp.Lower(this=e)

    def binary(self, e: exp.Expression) -> exp.Expression:
        return exp.Collate(this=e, expression=exp.to_identifier("C", quoted=True))


FAMILIES: dict[str, type[Family]] = {
    "sqlite": SQLiteFamily,
    "duckdb": DuckDBFamily,
    "postgres": PostgresFamily,
    "mysql": MySQLFamily,
}

#: sqlglot dialect -> JSON family used for the JSON document layout. Dialects not listed can still
#: compile queries that touch no field value (ids, timestamps, trash); anything else is
#: ``not-expressible`` with the list of supported dialects.
DIALECT_FAMILY: dict[str, str] = {
    "sqlite": "sqlite",
    "duckdb": "duckdb",
    "postgres": "postgres",
    "materialize": "postgres",
    "risingwave": "postgres",
    "mysql": "mysql",
}
