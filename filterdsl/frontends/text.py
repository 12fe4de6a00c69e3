"""filterdsl's readable text form -> AST (grammar/filter.lark; the printer is emitters/text.py).

Keys are bare names or `backquoted` (a backquote doubled inside), optionally typed (`Amount`:number)
and followed by ``-> "segment"`` path steps. Without a type, the schema gives it (by id, or by name
with ``resolve_names``), from the database the key belongs to (the referenced one inside
``references ... where (...)``); with neither, the key is schemaless (``json``). Errors carry
``line:column``; messages are one line (the CLI and reports show the offending line under them).
"""

from __future__ import annotations

import functools
import json
import math
import re
from typing import Any

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from filterdsl import ast as A
from filterdsl.errors import Collector, Location
from filterdsl.frontends import Context, ParseResult, grammar_path
from filterdsl.frontends.relaxed_json import parse_int
from filterdsl.options import check_limits, max_ast_depth
from filterdsl.schema import Catalog, Database

_CMP = {">": A.Op.GT, ">=": A.Op.GTE, "<": A.Op.LT, "<=": A.Op.LTE}


@functools.cache
def _parser() -> Lark:
    return Lark(
        grammar_path("filter.lark").read_text(encoding="utf-8"), parser="lalr", maybe_placeholders=False
    )


class _Bad(Exception):
    def __init__(self, code: str, message: str, token: Any = None):
        super().__init__(message)
        self.code, self.message, self.token = code, message, token


def _num(tok: Token) -> int | float:
    text = str(tok)
    is_float = any(c in text for c in ".eE")
    value = float(text) if is_float else parse_int(text)
    if not math.isfinite(value) or (not is_float and (type(value) is float or abs(value) > 2**53)):
        # SPEC 1.4: integers within ±2^53, finite floats (and no int() of thousands of digits)
        raise _Bad(
            "number-out-of-range",
            f"numbers are integers within ±2^53 or finite floats, not {text[:30]}"
            + ("..." if len(text) > 30 else ""),
            tok,
        )
    return value


_SURROGATE = re.compile("[\ud800-\udfff]")
#: Tokens that nest: strings and backquoted keys are skipped whole (their brackets do not count).
_NESTING = re.compile(
    r'"(?:[^"\\]|\\.)*"|`(?:[^`]|``)*`|[(\[]|[)\]]|\bnot\b|[A-Za-z_@][A-Za-z0-9_]*|[^\s()\[\]"`A-Za-z_@]+'
)


def _too_deep(text: str, max_brackets: int, max_levels: int) -> int | None:
    """Offset where the nesting passes a limit, before the parser (and its recursion) runs.

    Levels are brackets plus runs of ``not``: ``not not ... x`` nests without a bracket, and each
    bracket may start a run of its own, so both count (lark recurses once per level either way).
    """
    stack: list[tuple[int, int]] = []
    base = run = 0  # levels of the enclosing brackets; ``not``s in a row at this level
    for m in _NESTING.finditer(text):
        tok = m.group()
        if tok in ("(", "["):
            stack.append((base, run))
            base, run = base + run + 1, 0
            if len(stack) > max_brackets or base > max_levels:
                return m.start()
        elif tok in (")", "]"):
            base, run = stack.pop() if stack else (0, 0)
            run = 0
        elif tok == "not":
            run += 1
            if base + run > max_levels:
                return m.start()
        else:
            run = 0
    return None


def _text_loc(text: str, offset: int) -> Location:
    line = text.count("\n", 0, offset) + 1
    return Location(line=line, column=offset - (text.rfind("\n", 0, offset) + 1) + 1, offset=offset)


def _decode(tok: Any) -> str:
    """A STRING token's text: its escapes are JSON's (a \\u needs four hex digits), else syntax-error."""
    try:
        value: str = json.loads(str(tok))
    except ValueError as e:
        raise _Bad("syntax-error", f"bad escape in a string: {getattr(e, 'msg', e)}", tok) from None
    return value


def _mark_databases(tree: Tree, database: str | None) -> None:
    """Record on each ``field`` subtree the database its key belongs to (iterative, top-down): the
    queried one, or the referenced one inside a relation's ``where (...)``."""
    for opt in tree.find_data("database"):
        database = _decode(opt.children[0])
    stack: list[tuple[Any, str | None]] = [(tree, database)]
    while stack:
        node, db = stack.pop()
        if not isinstance(node, Tree):
            continue
        if node.data == "field":
            setattr(node.meta, "filterdsl_db", db)  # noqa: B010 (Meta declares no such attribute)
            continue
        if node.data == "relation":
            field, target, pred = node.children
            stack += [(field, db), (pred, _decode(target))]
            continue
        stack += [(child, db) for child in node.children]


class _Build(Transformer):
    def __init__(self, catalog: Catalog | None, database: str | None, resolve_names: bool):
        super().__init__()
        self.catalog = catalog
        self.default_db = database  # not `database`: that name is a rule callback
        self.resolve_names = resolve_names

    # ---- values
    def STRING(self, tok: Token) -> str:  # noqa: N802 - lark terminal callback
        value = _decode(tok)
        if _SURROGATE.search(value):
            raise _Bad("invalid-encoding", "string holds a lone surrogate (not valid Unicode)", tok)
        return value

    def NUMBER(self, tok: Token) -> int | float:  # noqa: N802
        return _num(tok)

    def INT(self, tok: Token) -> int:  # noqa: N802
        text = str(tok)
        if len(text.lstrip("0")) > 16:  # skip/limit: past 2^53 (check_limits says so for shorter ones)
            raise _Bad("bad-value", f"{text[:20]}... is past any skip or limit an engine takes", tok)
        return int(text)

    def true_v(self, _: list[Any]) -> bool:
        return True

    def false_v(self, _: list[Any]) -> bool:
        return False

    def null(self, _: list[Any]) -> None:
        return None

    def opt_str(self, items: list[Any]) -> Any:
        return items[0]

    def vlist(self, items: list[Any]) -> tuple[Any, ...]:
        return tuple(items)

    def money(self, items: list[Any]) -> A.Money:
        return A.Money(items[0], items[1] if len(items) > 1 else None)

    # ---- fields
    def key(self, items: list[Token]) -> Token:
        text = str(items[0])
        # a Token keeps the key's position for errors
        return Token.new_borrow_pos(
            "KEY", text[1:-1].replace("``", "`") if text.startswith("`") else text, items[0]
        )

    @v_args(meta=True)
    def field(self, meta: Any, items: list[Any]) -> A.Field:
        tok, rest = items[0], items[1:]
        key = str(tok)
        ftype: A.FieldType | None = None
        if rest and isinstance(rest[0], Token) and rest[0].type == "TYPE":
            ftype = A.FieldType(str(rest[0]))
            rest = rest[1:]
        if ftype is None:
            db_id = getattr(meta, "filterdsl_db", self.default_db)
            db: Database | None = self.catalog.get(db_id) if self.catalog is not None and db_id else None
            fd = db.field(key, self.resolve_names) if db is not None else None
            if fd is not None:
                key, ftype = fd.id, fd.type
            elif db is not None:
                raise _Bad(
                    "unknown-field", f"database {db.name!r} has no field {key!r}" + db.suggest(key), tok
                )
            elif self.catalog is not None and db_id:
                raise _Bad(
                    "unknown-field",
                    f"field {key!r} has no type: database {db_id!r} is not in the "
                    "catalog (write the type: `key`:string)",
                    tok,
                )
            elif self.catalog is not None:
                raise _Bad(
                    "missing-schema",
                    f"field {key!r} has no type and no database is given to look it up "
                    'in: pass the database (--database), add `database "id"` to the text, or write '
                    "the type (`key`:string)",
                    tok,
                )
            else:
                ftype = A.FieldType.JSON
        return A.Field(key, ftype, tuple(str(r) for r in rest))

    # ---- logic
    def start(self, items: list[Any]) -> A.Query:
        pred, opts = items
        return A.Query(pred, **opts)

    def or_(self, items: list[A.Node]) -> A.Node:
        return items[0] if len(items) == 1 else A.Or(tuple(items))

    def and_(self, items: list[A.Node]) -> A.Node:
        return items[0] if len(items) == 1 else A.And(tuple(items))

    def all_(self, items: list[A.Node]) -> A.Node:
        return A.And(tuple(items))

    def any_(self, items: list[A.Node]) -> A.Node:
        return A.Or(tuple(items))

    def not_(self, items: list[A.Node]) -> A.Node:
        return A.Not(items[0])

    def true(self, _: list[Any]) -> A.Node:
        return A.TRUE

    def false(self, _: list[Any]) -> A.Node:
        return A.FALSE

    # ---- predicates
    def eq(self, items: list[Any]) -> A.Node:
        return A.Compare(items[0], A.Op.EQ, items[1])

    def ieq(self, items: list[Any]) -> A.Node:
        return A.Compare(items[0], A.Op.IEQ, items[1])

    def contains(self, items: list[Any]) -> A.Node:
        return A.Compare(items[0], A.Op.CONTAINS, items[1])

    def starts(self, items: list[Any]) -> A.Node:
        return A.Compare(items[0], A.Op.STARTS_WITH, items[1])

    def ends(self, items: list[Any]) -> A.Node:
        return A.Compare(items[0], A.Op.ENDS_WITH, items[1])

    def cmp(self, items: list[Any]) -> A.Node:
        return A.Compare(items[0], _CMP[str(items[1])], items[2])

    def in_(self, items: list[Any]) -> A.Node:
        return A.Compare(items[0], A.Op.IN, items[1])

    def has_any(self, items: list[Any]) -> A.Node:
        return A.Compare(items[0], A.Op.HAS_ANY, items[1])

    def has_all(self, items: list[Any]) -> A.Node:
        return A.Compare(items[0], A.Op.HAS_ALL, items[1])

    def has_exactly(self, items: list[Any]) -> A.Node:
        return A.Compare(items[0], A.Op.HAS_EXACTLY, items[1])

    def not_set(self, items: list[Any]) -> A.Node:
        return A.FieldState(items[0], A.State.NOT_SET)

    def empty(self, items: list[Any]) -> A.Node:
        return A.FieldState(items[0], A.State.EMPTY)

    def has_value(self, items: list[Any]) -> A.Node:
        return A.FieldState(items[0], A.State.HAS_VALUE)

    def relation(self, items: list[Any]) -> A.Node:
        return A.Relation(items[0], items[1], items[2])

    def clause(self, items: list[str]) -> tuple[str, ...]:
        return tuple(items)

    def search_fields(self, items: list[A.Field]) -> _Fields:
        return _Fields(items)

    def search(self, items: list[Any]) -> A.Node:
        fields = tuple(items[-1]) if items and isinstance(items[-1], _Fields) else None
        clauses = tuple(items[:-1] if fields is not None else items)
        return A.Search(clauses, fields)

    def id_in(self, items: list[Any]) -> A.Node:
        return A.IdIn(tuple(str(i) for i in items[0]))

    def created(self, items: list[Any]) -> A.Node:
        return A.CreatedAt(items[0], items[1])

    def modified(self, items: list[Any]) -> A.Node:
        return A.ModifiedSince(items[0])

    def in_trash(self, _: list[Any]) -> A.Node:
        return A.InTrash()

    # ---- options
    def sort_key(self, items: list[Any]) -> A.SortKey:
        key = items[0]
        if isinstance(key, Token) and key.type == "ATTR":
            key = A.RecordAttr(str(key)[1:])
        desc = len(items) > 1 and str(items[1]) == "desc"
        return A.SortKey(key, desc)

    def sort(self, items: list[A.SortKey]) -> tuple[str, Any]:
        return ("sort", tuple(items))

    def skip(self, items: list[int]) -> tuple[str, Any]:
        return ("skip", items[0])

    def limit(self, items: list[int]) -> tuple[str, Any]:
        return ("limit", items[0])

    def fields(self, items: list[Any]) -> tuple[str, Any]:
        return ("fields", tuple(str(x) for x in items[0]))

    def database(self, items: list[str]) -> tuple[str, Any]:
        return ("database", items[0])

    def options(self, items: list[tuple[str, Any]]) -> dict[str, Any]:
        return dict(items)


class _Fields(tuple):
    """The ``in (...)`` field list of a search (told apart from its clauses)."""


#: how a terminal reads in "expected ..." (keywords quoted as typed; named terminals described)
_DESCRIBE = {
    "CMP": "> >= < <=",
    "DIR": "asc desc",
    "ATTR": "@id @created_at @updated_at",
    "TYPE": "a type",
    "QUOTED_KEY": "`key`",
    "NAME": "a name",
    "STRING": 'a "string"',
    "NUMBER": "a number",
    "INT": "a whole number",
    "$END": "the end",
}


def _expected(names: Any) -> str:
    """Every terminal the parser would have taken, in words (all of them: the list is short)."""
    terminals = {t.name: t for t in _parser().terminals}
    words: set[str] = set()
    for name in names:
        t = terminals.get(name)
        if name in _DESCRIBE:
            words.update(_DESCRIBE[name].split(" ") if name in ("CMP", "DIR", "ATTR") else [_DESCRIBE[name]])
        elif t is not None and t.pattern.type == "str":
            value = str(t.pattern.value)
            words.add(value if value.isalpha() else f"'{value}'")
        else:
            words.add(name.lower())
    return ", ".join(sorted(words, key=lambda w: (not w[0].isalpha(), w.lower())))


def _loc(text: str, line: int | None, column: int | None, offset: int | None) -> Location:
    if line is None or line < 1:
        # the end of text is reported just after its last character that is not white space
        end = len(text.rstrip())
        line = text.count("\n", 0, end) + 1
        column = end - (text.rfind("\n", 0, end) + 1) + 1
        offset = end
    return Location(line=line, column=column or 1, offset=offset)


def parse_text(source: Any, ctx: Context) -> ParseResult:
    """The text form -> Query (``database`` from the text, else the argument)."""
    catalog, database, opt = ctx.catalog, ctx.database, ctx.options
    c = Collector(opt.strict)
    if isinstance(source, (bytes, bytearray)):
        try:
            source = bytes(source).decode("utf-8")
        except UnicodeDecodeError as e:
            c.error("invalid-encoding", f"text is not UTF-8 (byte {e.start})", Location(offset=e.start))
            return ParseResult(None, tuple(c.items))
    if not isinstance(source, str):
        c.error(
            "wrong-type",
            f"the text form is a string, not {type(source).__name__}",
            Location(line=1, column=1),
        )
        return ParseResult(None, tuple(c.items))
    text = source
    if len(text.encode("utf-8", "surrogatepass")) > opt.limits.max_input_bytes:
        c.error(
            "too-large",
            f"input exceeds {opt.limits.max_input_bytes} bytes",
            Location(line=1, column=1, offset=0),
        )
        return ParseResult(None, tuple(c.items))
    bad = _SURROGATE.search(text)
    if bad is not None:
        c.error(
            "invalid-encoding",
            "text holds a lone surrogate (not valid Unicode)",
            _text_loc(text, bad.start()),
        )
        return ParseResult(None, tuple(c.items))
    brackets = 2 * opt.limits.max_depth + 8
    deep = _too_deep(text, brackets, brackets + max_ast_depth(opt.limits))
    if deep is not None:
        c.error("too-deep", f"text nested deeper than {opt.limits.max_depth} levels", _text_loc(text, deep))
        return ParseResult(None, tuple(c.items))
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as e:
        line, col = getattr(e, "line", None), getattr(e, "column", None)
        loc = _loc(text, line, col, getattr(e, "pos_in_stream", None))
        if isinstance(e, UnexpectedEOF) or getattr(getattr(e, "token", None), "type", None) == "$END":
            what = "unexpected end of text"
            loc = _loc(text, None, None, None)
        elif isinstance(e, UnexpectedCharacters):
            what = f"unexpected character {text[loc.offset or 0 : (loc.offset or 0) + 1]!r}"
        else:
            what = f"unexpected {str(getattr(e, 'token', ''))!r}"
        expected = getattr(e, "expected", None) or getattr(e, "allowed", None) or []
        hint = f"; expected one of: {_expected(expected)}" if expected else ""
        c.error("syntax-error", what + hint, loc)
        return ParseResult(None, tuple(c.items))
    except (LarkError, RecursionError) as e:
        c.error(
            "syntax-error", f"text cannot be read: {type(e).__name__}", Location(line=1, column=1, offset=0)
        )
        return ParseResult(None, tuple(c.items))
    build = _Build(catalog, database, opt.resolve_names)
    try:
        _mark_databases(tree, database)
        query: A.Query = build.transform(tree)
    except (VisitError, _Bad) as e:
        err = e.orig_exc if isinstance(e, VisitError) else e
        if isinstance(err, _Bad):
            tok = err.token
            loc = Location(
                line=getattr(tok, "line", 1),
                column=getattr(tok, "column", 1),
                offset=getattr(tok, "start_pos", 0),
            )
            c.error(err.code, err.message, loc)
        else:
            c.error("bad-value", f"text cannot be built: {err}", Location(line=1, column=1, offset=0))
        return ParseResult(None, tuple(c.items))
    if query.database is None and database is not None:
        query = A.Query(query.predicate, query.sort, query.skip, query.limit, query.fields, database)
    problems = check_limits(query, opt.limits, Location(line=1, column=1, offset=0))
    if problems:
        return ParseResult(None, tuple(problems))
    return ParseResult(query, tuple(c.items))
