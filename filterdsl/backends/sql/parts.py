"""The compiled SELECT handed over in parts, for code that embeds filterdsl's SQL in another statement
(the SQLAlchemy and Django integrations).

``compile_parts`` generates the same SELECT as ``to_sql(..., paramstyle="named")``, with the same
generator, byte for byte, and says where its pieces are: each placeholder, each place the main table's
alias qualifies a column, the id expression, the FROM, the WHERE predicate and every ORDER BY key with
its direction. The positions come from the tree (markers the generator writes around the marked
nodes, random per process so no input can forge one), never from reading the SQL text back.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from filterdsl import ast as A
from filterdsl.backends.sql import _collector_paused, _dialect, _not_expressible, _warn, registry
from filterdsl.backends.sql.compiler import compile_shape
from filterdsl.backends.sql.layout import ColumnsLayout, JsonLayout
from filterdsl.backends.sql.shape import extract, resolve, shape_key
from filterdsl.backends.sql.status import warn_unverified
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.semantics.cursor import check_cursor

_M = "fdslm" + secrets.token_hex(8) + "x"
_MARK_RE = re.compile(re.escape(_M) + r"(/?)([a-z]+)(\d*)" + re.escape(_M))


class _Mark(exp.Expression):
    """Generates as its ``this``, between two markers naming ``tag``."""

    arg_types = {"this": True, "tag": True}


@dataclass(frozen=True)
class OrderPart:
    start: int  # the key expression's span in ``text``
    end: int
    descending: bool
    nulls_first: bool | None  # an explicit NULLS FIRST/LAST in the text, else None


@dataclass(frozen=True)
class SqlParts:
    """One compiled SELECT and where its parts are (character offsets into ``text``)."""

    text: str  # exactly to_sql's text for paramstyle="named"
    placeholders: tuple[tuple[int, int, str], ...]  # (start, end, name) of each ``:name``
    alias: str  # the main table's alias (its name when it has none)
    alias_refs: tuple[tuple[int, int], ...]  # spans of the alias where it qualifies a column; an
    # empty span where a top-level column of the main table stands bare (the embedder qualifies it)
    first_end: int  # just after the first output column's expression (the record id)
    from_at: int  # the FROM keyword
    where_body: int | None  # the WHERE predicate's start (None: no WHERE)
    where_end: int | None
    order_at: int | None  # the ORDER BY keyword
    order: tuple[OrderPart, ...]
    inline: bool  # the main table alone in the top-level FROM: the parts embed in any statement on it


def _internal(message: str) -> FilterError:
    return FilterError([Diagnostic("internal", message, Location())])


def _suffix(text: str) -> tuple[bool, bool | None]:
    """Direction of an ORDER BY key from what the generator wrote after it."""
    table = {
        "": (False, None),
        " ASC": (False, None),
        " DESC": (True, None),
        " NULLS FIRST": (False, True),
        " NULLS LAST": (False, False),
        " ASC NULLS FIRST": (False, True),
        " ASC NULLS LAST": (False, False),
        " DESC NULLS FIRST": (True, True),
        " DESC NULLS LAST": (True, False),
    }
    if text not in table:
        raise _internal(f"unexpected ORDER BY suffix {text[:40]!r}")
    return table[text]


def _mark_tree(tree: exp.Select) -> tuple[exp.Select, str, bool]:
    """A copy of ``tree`` with the parts marked; the main alias; whether the parts embed inline."""
    tree = tree.copy()
    src = tree.args.get("from_") or tree.args.get("from")
    table = src.this if src is not None else None
    if src is None or not isinstance(table, exp.Table):
        raise _internal("the compiled SELECT has no main table")
    alias = table.alias or table.name
    declared = [t for t in tree.find_all(exp.TableAlias) if t.name == alias]
    inline = not tree.args.get("joins") and not tree.args.get("with") and not tree.args.get("distinct")
    inline = inline and len(declared) == (1 if table.alias else 0)
    for col in list(tree.find_all(exp.Column)):
        if col.table == alias:
            col.set("table", exp.Identifier(this=f"{_M}alias{_M}", quoted=False))
        elif not col.table and col.find_ancestor(exp.Select) is tree:
            # a bare column of the top-level scope is the main table's: the outer statement qualifies it
            col.set("table", exp.Identifier(this=f"{_M}bare{_M}", quoted=False))
    first = tree.expressions[0]
    first.replace(_Mark(this=first.copy(), tag="id"))
    src.set("this", _Mark(this=src.this, tag="from"))
    where = tree.args.get("where")
    if where is not None:
        where.set("this", _Mark(this=where.this, tag="where"))
    order = tree.args.get("order")
    if order is not None:
        for i, o in enumerate(order.expressions):
            o.set("this", _Mark(this=o.this, tag=f"key{i}"))
    return tree, alias, inline


def _generate_marked(tree: exp.Expr, dialect: str, params: dict[str, Any]) -> str:
    gen = registry.dialect(dialect).generator(unsupported_level=sqlglot.ErrorLevel.RAISE, comments=False)
    registry.check_generator(dialect, gen)

    def mark(_g: Any, e: Any) -> str:
        return f"{_M}{e.args['tag']}{_M}{_g.sql(e, 'this')}{_M}/{e.args['tag']}{_M}"

    def placeholder(_g: Any, e: exp.Placeholder) -> str:
        if e.name not in params:
            raise _internal(f"unknown placeholder {e.name!r}")
        return f"{_M}p{e.name[1:]}{_M}"

    gen._dispatch = {**gen._dispatch, _Mark: mark, exp.Placeholder: placeholder}
    try:
        return gen.generate(tree, copy=False)
    except sqlglot.errors.UnsupportedError as e:
        raise _not_expressible(dialect, e) from None


@dataclass(frozen=True)
class _Layout:
    """The marked text cut once per shape; the values are bound per query."""

    parts: SqlParts
    params: dict[str, Any]  # name -> Slot or value
    warnings: tuple[str, ...]


def _cut(marked: str, alias_text: str) -> SqlParts:
    out: list[str] = []
    pos = 0  # in the output text
    last = 0  # in the marked text
    placeholders: list[tuple[int, int, str]] = []
    alias_refs: list[tuple[int, int]] = []
    starts: dict[str, int] = {}
    ends: dict[str, int] = {}
    for m in _MARK_RE.finditer(marked):
        chunk = marked[last : m.start()]
        out.append(chunk)
        pos += len(chunk)
        last = m.end()
        closing, tag, num = m.group(1), m.group(2), m.group(3)
        if tag == "p":
            name = f":p{num}"
            placeholders.append((pos, pos + len(name), "p" + num))
            out.append(name)
            pos += len(name)
        elif tag == "alias":
            alias_refs.append((pos, pos + len(alias_text)))
            out.append(alias_text)
            pos += len(alias_text)
        elif tag == "bare":  # no qualifier in the text: an empty span where one goes (and its dot)
            if marked[last : last + 1] != ".":
                raise _internal("a bare column's marker without its dot")
            last += 1
            alias_refs.append((pos, pos))
        else:
            book = ends if closing else starts
            key = tag + num
            if key in book:
                raise _internal(f"part {key} generated twice")
            book[key] = pos
    out.append(marked[last:])
    text = "".join(out)
    if "from" not in starts or "id" not in ends:
        raise _internal("the compiled SELECT lost its FROM or its id column")
    from_at = starts["from"] - len("FROM ")
    if text[from_at : starts["from"]] != "FROM ":
        raise _internal("FROM is not where the generator put it")
    order: list[OrderPart] = []
    i = 0
    while f"key{i}" in starts:
        s, e = starts[f"key{i}"], ends[f"key{i}"]
        nxt = starts.get(f"key{i + 1}")
        tail = text[e : nxt - 2] if nxt is not None else _order_tail(text, e)
        desc, nulls = _suffix(tail)
        order.append(OrderPart(s, e, desc, nulls))
        i += 1
    order_at = None
    if order:
        order_at = order[0].start - len("ORDER BY ")
        if text[order_at : order[0].start] != "ORDER BY ":
            raise _internal("ORDER BY is not where the generator put it")
    return SqlParts(
        text=text,
        placeholders=tuple(placeholders),
        alias="",
        alias_refs=tuple(alias_refs),
        first_end=ends["id"],
        from_at=from_at,
        where_body=starts.get("where"),
        where_end=ends.get("where"),
        order_at=order_at,
        order=tuple(order),
        inline=True,
    )


_TAIL = re.compile(r"( (?:ASC|DESC))?( NULLS (?:FIRST|LAST))?")


def _order_tail(text: str, end: int) -> str:
    """The direction written after the last ORDER BY key (LIMIT/OFFSET or the end follow it)."""
    m = _TAIL.match(text, end)
    return m.group(0) if m else ""


def _build(shape: A.Query, dialect: str, layout: JsonLayout | ColumnsLayout, icu_lower: bool) -> _Layout:
    with _collector_paused():
        comp = compile_shape(shape, dialect, layout, None, icu_lower)
        tree, alias, inline = _mark_tree(comp.tree)
        marked = _generate_marked(tree, dialect, comp.params)
    gen = registry.dialect(dialect).generator(comments=False)
    parts = _cut(marked, gen.sql(exp.to_identifier(alias, quoted=True)))
    return _Layout(
        SqlParts(**{**parts.__dict__, "alias": alias, "inline": inline}), dict(comp.params), comp.warnings
    )


#: parts per (shape, dialect, layout, icu_lower), least recently used evicted; texts over
#: CACHE_MAX_CHARS (thousands of conditions) are built on every call instead
CACHE_SIZE = 256
CACHE_MAX_CHARS = 200_000
_cache: OrderedDict[Any, _Layout] = OrderedDict()
_lock = threading.Lock()


def compile_parts(
    query: A.Query,
    dialect: str = "sqlite",
    layout: JsonLayout | ColumnsLayout | None = None,
    icu_lower: bool = False,
) -> tuple[SqlParts, dict[str, Any]]:
    """(the parts of ``to_sql(query, dialect, layout, paramstyle="named")``'s SELECT, its params).

    Cached per query shape, as ``to_sql`` is; the params are this query's values; the layout
    warnings ``to_sql`` gives are given here too."""
    dialect = _dialect(dialect)
    lay = layout if layout is not None else JsonLayout()
    if query.after is not None:
        check_cursor(query)
    key, values = shape_key(query)
    ck = (key, dialect, registry.identity(dialect), type(lay), repr(lay), bool(icu_lower))
    with _lock:
        entry = _cache.get(ck)
        if entry is not None:
            _cache.move_to_end(ck)
    if entry is None:
        shape, _ = extract(query)
        entry = _build(shape, dialect, lay, bool(icu_lower))
        if len(entry.parts.text) <= CACHE_MAX_CHARS:
            with _lock:
                _cache[ck] = entry
                while len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
    _warn(entry.warnings)
    warn_unverified(dialect, "columns" if isinstance(lay, ColumnsLayout) else "json")
    return entry.parts, {k: resolve(v, values) for k, v in entry.params.items()}
