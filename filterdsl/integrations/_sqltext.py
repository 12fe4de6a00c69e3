"""Framework-free core of the ORM integrations: ``to_sql`` output cut into embeddable pieces.

The integrations never rebuild filterdsl's SQL: they take the text ``to_sql`` returns (the public
contract: one SELECT whose first column is the record id, values bound as parameters) and cut it with
sqlglot's *tokenizer*, never its parser/generator, so the SQL that runs is byte for byte the SQL the
differential tests verify. A round trip through sqlglot's parser is not faithful (PostgreSQL
``a #>> '{}' COLLATE "C"`` comes back as ``a #>> ('{}' COLLATE "C")``), which is why it is not used.

Pieces are lists of ``str`` (SQL text) and :class:`Param` (a bound value), so each ORM renders the
parameters its own way (SQLAlchemy bind parameters, Django ``%s``) and escapes ``%`` as its driver needs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import Token, TokenType

from ..api import to_sql
from ..ast import FALSE as FALSE_NODE
from ..ast import And, CreatedAt, InTrash, ModifiedSince, Node, Not, Or, Query, not_
from ..errors import Diagnostic, FilterError, Location


@dataclass(frozen=True)
class Param:
    """A value to bind where the SQL had a placeholder."""

    value: Any


Piece = str | Param

#: ORM dialect names -> sqlglot dialect names (others are passed as they are)
DIALECTS = {"postgresql": "postgres", "mariadb": "mysql", "mssql": "tsql", "sqlite": "sqlite", "mysql": "mysql",
            "duckdb": "duckdb", "oracle": "oracle"}

POS = "fdsl_pos"
ID = "fdsl_id"


def sql_dialect(orm_name: str) -> str:
    return DIALECTS.get(orm_name, orm_name)


def _internal(message: str) -> FilterError:
    return FilterError([Diagnostic("internal", message, Location())])


def filter_only(query: Query) -> Query:
    """The query's predicate alone: ORDER BY, OFFSET and LIMIT belong to the outer statement."""
    return dataclasses.replace(query, sort=(), skip=0, limit=None, fields=None)


def sorted_only(query: Query) -> Query:
    """Predicate and sort, without paging (paging is applied after the ORM's own filters)."""
    return dataclasses.replace(query, skip=0, limit=None, fields=None)


def _rewrite(node: Node, has_removed_at: bool, has_updated_at: bool) -> Node:
    kind = type(node)
    if kind is InTrash and not has_removed_at:
        return FALSE_NODE  # no removed_at column: no record is in the trash
    if kind is ModifiedSince and not has_updated_at:
        return CreatedAt(start=node.since)  # type: ignore[attr-defined]  # never updated: coalesce(NULL, c) = c
    if kind is And:
        return And(tuple(_rewrite(n, has_removed_at, has_updated_at) for n in node.items))  # type: ignore[attr-defined]
    if kind is Or:
        return Or(tuple(_rewrite(n, has_removed_at, has_updated_at) for n in node.items))  # type: ignore[attr-defined]
    if kind is Not:
        return not_(_rewrite(node.item, has_removed_at, has_updated_at))  # type: ignore[attr-defined]
    return node  # Relation: the referenced table keeps its own columns (see README)


def adapt_to_columns(query: Query, has_removed_at: bool, has_updated_at: bool) -> Query:
    """Tables without ``removed_at`` hold no trashed record; without ``updated_at``, none was updated.

    The rewrite is exact for such tables (their canonical documents have those timestamps null) and
    lets plain ORM models (a JSONField ``data`` and ``created_at``) be queried at all.
    """
    if has_removed_at and has_updated_at:
        return query
    return dataclasses.replace(query, predicate=_rewrite(query.predicate, has_removed_at, has_updated_at))


@functools.lru_cache(maxsize=16)
def _dialect_obj(dialect: str) -> Dialect:
    return Dialect.get_or_raise(dialect)


@dataclass(frozen=True)
class Cut:
    """One compiled SELECT cut at its top-level FROM and ORDER BY."""

    text: str
    params: dict[str, Any]
    tokens: tuple[Token, ...]
    from_at: int  # char offset of the top-level FROM
    order_at: int | None  # char offset of the top-level ORDER BY keyword
    order_body: int | None  # char offset just after it
    alias: str | None  # the main table's alias (``r0`` today)
    id_column: str  # the name of the first output column
    first_end: int  # char offset just after the first output column's expression

    def pieces(self, start: int, end: int) -> list[Piece]:
        """Text between two char offsets with placeholders turned into Params (tokens, not regexes:
        a ``:p0`` inside a string literal is never a placeholder)."""
        out: list[Piece] = []
        pos = start
        toks = self.tokens
        for i, t in enumerate(toks):
            if t.start < start or t.end >= end:
                continue
            if (t.token_type is TokenType.COLON and i + 1 < len(toks) and toks[i + 1].start == t.end + 1
                    and toks[i + 1].text in self.params):
                out.append(self.text[pos:t.start])
                out.append(Param(self.params[toks[i + 1].text]))
                pos = toks[i + 1].end + 1
        out.append(self.text[pos:end])
        return [p for p in out if p != ""]

    def order_items(self) -> list[tuple[list[Token], int, int]]:
        """The top-level ORDER BY items: (tokens, start, end) each, split at depth-0 commas."""
        if self.order_body is None:
            return []
        items: list[tuple[list[Token], int, int]] = []
        depth = 0
        cur: list[Token] = []
        for t in self.tokens:
            if t.start < self.order_body:
                continue
            if t.token_type is TokenType.L_PAREN:
                depth += 1
            elif t.token_type is TokenType.R_PAREN:
                depth -= 1
            elif t.token_type is TokenType.COMMA and depth == 0:
                items.append((cur, cur[0].start, cur[-1].end + 1))
                cur = []
                continue
            cur.append(t)
        if cur:
            items.append((cur, cur[0].start, cur[-1].end + 1))
        return items


_STOP = {TokenType.LIMIT, TokenType.OFFSET, TokenType.UNION, TokenType.INTERSECT, TokenType.EXCEPT,
         TokenType.FETCH}
_NAMES = {TokenType.IDENTIFIER, TokenType.VAR, TokenType.STRING}


def compile_cut(query: Query, dialect: str, layout: Any, catalog: Any) -> Cut:
    """``to_sql`` (named placeholders) and where its top-level clauses start."""
    sql, params = to_sql(query, dialect, layout, catalog, paramstyle="named")
    if not isinstance(params, dict):
        raise _internal("to_sql returned positional params for paramstyle='named'")
    tokens = tuple(_dialect_obj(dialect).tokenize(sql))
    depth = 0
    select_i = from_i = None
    order_at = order_body = None
    alias = None
    for i, t in enumerate(tokens):
        tt = t.token_type
        if tt is TokenType.L_PAREN:
            depth += 1
        elif tt is TokenType.R_PAREN:
            depth -= 1
        elif depth:
            continue
        elif tt is TokenType.SELECT and select_i is None:
            select_i = i
        elif tt is TokenType.FROM and from_i is None:
            from_i = i
            j = i + 1  # FROM <table> [AS] <alias>: the last name before the next clause
            while j < len(tokens) and tokens[j].token_type in (*_NAMES, TokenType.DOT, TokenType.ALIAS):
                if tokens[j].token_type in _NAMES:
                    alias = tokens[j].text
                j += 1
        elif tt is TokenType.ORDER_BY:
            order_at, order_body = t.start, t.end + 1
        elif tt in _STOP:
            raise _internal(f"unexpected top-level {t.text} in to_sql output")
    if select_i is None or from_i is None:
        raise _internal("no top-level SELECT ... FROM in to_sql output")
    first: list[Token] = []
    depth = 0
    for t in tokens[select_i + 1:from_i]:
        if t.token_type is TokenType.L_PAREN:
            depth += 1
        elif t.token_type is TokenType.R_PAREN:
            depth -= 1
        elif t.token_type in (TokenType.COMMA, TokenType.ALIAS) and depth == 0:
            break  # the id expression ends here (its alias, if any, is replaced by ID)
        first.append(t)
    names = [t.text for t in first if t.token_type in _NAMES]
    if not names:
        raise _internal("cannot read the id column of to_sql output")
    return Cut(sql, params, tokens, tokens[from_i].start, order_at, order_body, alias, names[-1], first[-1].end + 1)


def ids_select(cut: Cut, quote: Any, binary: bool = False) -> list[Piece]:
    """``SELECT <id> FROM ... WHERE ...``: the ids the filter selects (its ORDER BY dropped).

    ``binary`` (MySQL/MariaDB) selects ``CAST(id AS BINARY)``: PAD SPACE collations say 'a' = 'a '.
    """
    end = cut.order_at if cut.order_at is not None else len(cut.text)
    inner = [*cut.pieces(0, cut.first_end), " ", *cut.pieces(cut.from_at, end)]
    if not binary:
        return inner
    q = quote("fdsl_ids")
    inner.insert(len(cut.pieces(0, cut.first_end)), f" AS {quote(ID)}")
    return [f"SELECT CAST({q}.{quote(ID)} AS BINARY) FROM (", *inner, f") AS {q}"]


def positioned_select(cut: Cut, quote: Any) -> list[Piece]:
    """``SELECT <id>, ROW_NUMBER() OVER (ORDER BY <filterdsl's order>) AS fdsl_pos FROM ... WHERE ...``.

    The window's ORDER BY is the compiled ORDER BY verbatim, in the same scope, so the position is
    exactly filterdsl's order (a total order: it ends with the record id).
    """
    if cut.order_at is None or cut.order_body is None:
        raise _internal("to_sql output has no ORDER BY for a sorted query")
    head = cut.pieces(0, cut.first_end)
    order = cut.pieces(cut.order_body, len(cut.text))
    body = cut.pieces(cut.from_at, cut.order_at)
    return [*head, f" AS {quote(ID)}, ROW_NUMBER() OVER (ORDER BY ", *order, f") AS {quote(POS)} ", *body]


_DIRECTION = {"ASC", "DESC"}


def order_keys(cut: Cut, alias_sql: str) -> list[tuple[list[Piece], bool, bool | None]]:
    """The ORDER BY items on an outer table: (pieces, descending, nulls_first or None) each.

    References to the main table's alias are replaced by ``alias_sql`` (the outer table as the ORM
    names it), so the keys evaluate on the outer rows; nested SELECTs name their own tables.
    """
    out: list[tuple[list[Piece], bool, bool | None]] = []
    for toks, start, _end in cut.order_items():
        descending = False
        nulls: bool | None = None
        stop = len(toks)
        if stop >= 2 and toks[stop - 2].text.upper() == "NULLS" and toks[stop - 1].text.upper() in ("FIRST", "LAST"):
            nulls = toks[stop - 1].text.upper() == "FIRST"
            stop -= 2
        if stop >= 1 and toks[stop - 1].text.upper() in _DIRECTION:
            descending = toks[stop - 1].text.upper() == "DESC"
            stop -= 1
        expr_end = toks[stop - 1].end + 1
        pieces: list[Piece] = []
        pos = start
        for i in range(stop):
            t = toks[i]
            if (t.token_type in _NAMES and t.text == cut.alias and i + 1 < stop
                    and toks[i + 1].token_type is TokenType.DOT):
                pieces.extend(cut.pieces(pos, t.start))
                pieces.append(alias_sql)
                pos = t.end + 1
        pieces.extend(cut.pieces(pos, expr_end))
        out.append((pieces, descending, nulls))
    return out


def render(pieces: Iterable[Piece], text: Any, param: Any) -> str:
    """Join pieces: ``text(str)`` escapes SQL text for the driver, ``param(value)`` renders a bind."""
    return "".join(text(p) if isinstance(p, str) else param(p.value) for p in pieces)


__all__ = ["Param", "Piece", "Cut", "sql_dialect", "filter_only", "sorted_only", "adapt_to_columns",
           "compile_cut", "ids_select", "positioned_select", "order_keys", "render", "POS", "ID"]
