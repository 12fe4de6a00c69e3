"""Framework-free core of the ORM integrations: ``to_sql`` output cut into embeddable pieces.

The integrations never rebuild filterdsl's SQL: they take the text ``to_sql`` returns (the public
contract: one SELECT whose first column is the record id, values bound as parameters) and cut it with
sqlglot's *tokenizer*, never its parser/generator, so the SQL that runs is byte for byte the SQL the
differential tests verify. A round trip through sqlglot's parser is not faithful (PostgreSQL
``a #>> '{}' COLLATE "C"`` comes back as ``a #>> ('{}' COLLATE "C")``), which is why it is not used.

Two ways to embed a query's filter in an ORM statement over the same table:
- **inline** (preferred): the WHERE predicate and the ORDER BY keys, with the main table's alias
  (``r0`` today) replaced by the outer statement's name for the table, so the filter is evaluated on
  the outer rows in one scan, exactly as the plain SELECT would. Used only when the cut is provably
  safe: one table in the top-level FROM, and that alias declared exactly once in the whole text.
- **subquery** (fallback, and for every filter when the cut is not provably safe): ``id IN (SELECT id
  FROM ... WHERE ...)``, ordered by ``ROW_NUMBER() OVER (<the ORDER BY>)`` of a joined derived table.

Pieces are lists of ``str`` (SQL text) and :class:`Param` (a bound value), so each ORM renders the
parameters its own way (SQLAlchemy bind parameters, Django ``%s``) and escapes ``%`` as its driver needs.
The analysis of a SQL text is cached (``to_sql`` caches its text per query shape, so the same text
comes back for every request of that shape).
"""

from __future__ import annotations

import bisect
import dataclasses
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot.dialects.dialect import Dialect
from sqlglot.tokens import Token, TokenType

from filterdsl.ast import FALSE as FALSE_NODE
from filterdsl.ast import (
    And,
    Compare,
    CreatedAt,
    Field,
    IdIn,
    InTrash,
    ModifiedSince,
    Money,
    Node,
    Not,
    Or,
    Query,
    Search,
    node_pointer,
    not_,
    walk,
)
from filterdsl.backends.sql import to_sql
from filterdsl.backends.sql.dialects import registry
from filterdsl.backends.sql.guard import family_class
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.schema import CatalogSource


@dataclass(frozen=True)
class Param:
    """A value to bind where the SQL had a placeholder."""

    value: Any


@dataclass(frozen=True)
class Raw:
    """SQL text the ORM already rendered (an alias): never escaped again."""

    sql: str


Piece = str | Param | Raw

#: ORM dialect names -> sqlglot dialect names (others are passed as they are)
DIALECTS = {
    "postgresql": "postgres",
    "mariadb": "mysql",
    "mssql": "tsql",
    "sqlite": "sqlite",
    "mysql": "mysql",
    "duckdb": "duckdb",
    "oracle": "oracle",
}

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
    return node  # Relation: the referenced table keeps its own columns (see docs/integrations.md)


def adapt_to_columns(query: Query, has_removed_at: bool, has_updated_at: bool) -> Query:
    """Tables without ``removed_at`` hold no trashed record; without ``updated_at``, none was updated.

    The rewrite is exact for such tables (their canonical documents have those timestamps null) and
    lets plain ORM models (a JSON field ``data`` and ``created_at``) be queried at all.
    """
    if has_removed_at and has_updated_at:
        return query
    return dataclasses.replace(query, predicate=_rewrite(query.predicate, has_removed_at, has_updated_at))


@functools.lru_cache(maxsize=16)
def _dialect_obj(dialect: str) -> Dialect:
    return registry.dialect(dialect)


@dataclass(frozen=True)
class OrderItem:
    start: int  # the key expression's span
    end: int
    descending: bool
    nulls_first: bool | None  # an explicit NULLS FIRST/LAST, else None
    alias_refs: tuple[tuple[int, int], ...]  # spans of the main alias where it qualifies a column


@dataclass(frozen=True)
class Analysis:
    """Where the clauses of one compiled SELECT text are (char offsets); cached per text."""

    text: str
    placeholders: tuple[tuple[int, int, str], ...]  # (start, end, name) of each ``:name``
    starts: tuple[int, ...]  # placeholder starts, for bisect
    from_at: int
    where_body: int | None  # just after the top-level WHERE keyword
    order_at: int | None  # the top-level ORDER BY keyword
    order_body: int | None
    first_end: int  # just after the first output column's expression (the id)
    alias: str | None  # the main table's alias
    inline: bool  # inline embedding is provably safe
    where_refs: tuple[tuple[int, int], ...]  # main-alias spans inside the WHERE predicate
    order: tuple[OrderItem, ...]


_STOP = {
    TokenType.LIMIT,
    TokenType.OFFSET,
    TokenType.UNION,
    TokenType.INTERSECT,
    TokenType.EXCEPT,
    TokenType.FETCH,
}
_NAMES = {TokenType.IDENTIFIER, TokenType.VAR, TokenType.STRING}
#: top-level clauses after which the WHERE/ORDER BY no longer mean the same on the outer rows
_NOT_PLAIN = {
    TokenType.DISTINCT,
    TokenType.GROUP_BY,
    TokenType.HAVING,
    TokenType.QUALIFY,
    TokenType.WINDOW,
    TokenType.JOIN,
}


def _edits(
    tokens: tuple[Token, ...],
    lo: int,
    hi: int,
    alias: str | None,
    columns: frozenset[str],
    in_sub: list[bool],
) -> tuple[tuple[int, int], ...]:
    """Where to put the outer table's name between two char offsets: ``(start, end)`` spans of the
    main alias qualifying a column (``r0.x``: replaced), and ``(start, start)`` before an unqualified
    column of the main table outside any subquery (``data``: qualified)."""
    out = []
    for i, t in enumerate(tokens):
        if t.start < lo or t.end >= hi or t.token_type not in _NAMES:
            continue
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        prev = tokens[i - 1] if i else None
        dotted = nxt is not None and nxt.token_type is TokenType.DOT and nxt.start == t.end + 1
        if alias is not None and t.text == alias and dotted:
            out.append((t.start, t.end + 1))
        elif (
            t.token_type is not TokenType.STRING
            and t.text in columns
            and not dotted
            and not in_sub[i]
            and not (prev is not None and prev.token_type is TokenType.DOT)
            and not (nxt is not None and nxt.token_type is TokenType.L_PAREN)
        ):
            out.append((t.start, t.start))
    return tuple(out)


#: texts longer than this are analysed on every call rather than cached (a filter of thousands of
#: conditions is megabytes of SQL; to_sql does not cache those either)
CACHE_MAX_CHARS = 200_000


def analyse(sql: str, dialect: str, names: frozenset[str], columns: frozenset[str] = frozenset()) -> Analysis:
    """Cut one ``to_sql`` text (named placeholders ``names``; the main table's ``columns``) at its
    top-level clauses; cached per text (bounded by entries and by text length)."""
    if len(sql) > CACHE_MAX_CHARS:
        return _analyse(sql, dialect, names, columns)
    return _analyse_cached(sql, dialect, names, columns)


def _analyse(sql: str, dialect: str, names: frozenset[str], columns: frozenset[str]) -> Analysis:
    tokens = tuple(_dialect_obj(dialect).tokenize(sql))
    in_sub: list[bool] = []  # per token: inside a parenthesised SELECT (a subquery)?
    stack: list[bool] = []
    for i, t in enumerate(tokens):
        if t.token_type is TokenType.L_PAREN:
            stack.append(any(stack) or (i + 1 < len(tokens) and tokens[i + 1].token_type is TokenType.SELECT))
        elif t.token_type is TokenType.R_PAREN and stack:
            stack.pop()
        in_sub.append(bool(stack) and stack[-1])
    placeholders = tuple(
        (t.start, tokens[i + 1].end + 1, tokens[i + 1].text)
        for i, t in enumerate(tokens)
        if t.token_type is TokenType.COLON
        and i + 1 < len(tokens)
        and tokens[i + 1].start == t.end + 1
        and tokens[i + 1].text in names
    )
    depth = 0
    select_i = from_i = where_i = order_i = None
    plain = bool(tokens) and tokens[0].token_type is TokenType.SELECT  # no WITH, no set operation
    for i, t in enumerate(tokens):
        tt = t.token_type
        if tt is TokenType.L_PAREN:
            depth += 1
        elif tt is TokenType.R_PAREN:
            depth -= 1
        elif depth:
            continue
        elif tt in _NOT_PLAIN:
            plain = False
        elif tt is TokenType.SELECT and select_i is None:
            select_i = i
        elif tt is TokenType.FROM and from_i is None:
            from_i = i
        elif tt is TokenType.WHERE and where_i is None:
            where_i = i
        elif tt is TokenType.ORDER_BY:
            order_i = i
        elif tt in _STOP:
            raise _internal(f"unexpected top-level {t.text} in to_sql output")
    if select_i is None or from_i is None:
        raise _internal("no top-level SELECT ... FROM in to_sql output")
    # FROM <name>[.<name>]* [AS <alias>], and nothing else at the top level before WHERE/ORDER BY
    end_from = where_i if where_i is not None else order_i if order_i is not None else len(tokens)
    from_toks = tokens[from_i + 1 : end_from]
    kinds = [t.token_type for t in from_toks]
    if TokenType.ALIAS in kinds:
        k = kinds.index(TokenType.ALIAS)
        chain, rest = from_toks[:k], from_toks[k + 1 :]
        simple = len(rest) == 1 and rest[0].token_type in _NAMES
    else:
        chain, rest = from_toks, ()
        simple = True
    simple = (
        simple
        and len(chain) % 2 == 1
        and all(
            t.token_type in _NAMES if j % 2 == 0 else t.token_type is TokenType.DOT
            for j, t in enumerate(chain)
        )
    )
    alias = (rest[-1].text if rest else chain[-1].text) if simple and chain else None
    # every other mention of the alias (or of the unaliased table's name) must qualify a column
    # (``r0.x``) and never be qualified itself: then no inner scope redeclares or shadows it
    outside = [
        i
        for i, t in enumerate(tokens)
        if t.token_type in _NAMES and t.text == alias and not from_i < i < end_from
    ]
    inline = (
        plain
        and simple
        and alias is not None
        and all(
            i + 1 < len(tokens)
            and tokens[i + 1].token_type is TokenType.DOT
            and not (i and tokens[i - 1].token_type is TokenType.DOT)
            for i in outside
        )
    )
    first: list[Token] = []
    depth = 0
    for t in tokens[select_i + 1 : from_i]:
        if t.token_type is TokenType.L_PAREN:
            depth += 1
        elif t.token_type is TokenType.R_PAREN:
            depth -= 1
        elif t.token_type in (TokenType.COMMA, TokenType.ALIAS) and depth == 0:
            break  # the id expression ends here (its alias, if any, is replaced by ID)
        first.append(t)
    if not first:
        raise _internal("cannot read the id column of to_sql output")
    where_body = tokens[where_i].end + 1 if where_i is not None else None
    order_at = tokens[order_i].start if order_i is not None else None
    order_body = tokens[order_i].end + 1 if order_i is not None else None
    where_end = order_at if order_at is not None else len(sql)
    where_refs = (
        _edits(tokens, where_body, where_end, alias, columns, in_sub) if where_body is not None else ()
    )
    order: list[OrderItem] = []
    if order_i is not None:
        items: list[list[Token]] = [[]]
        depth = 0
        for t in tokens[order_i + 1 :]:
            if t.token_type is TokenType.L_PAREN:
                depth += 1
            elif t.token_type is TokenType.R_PAREN:
                depth -= 1
            elif t.token_type is TokenType.COMMA and depth == 0:
                items.append([])
                continue
            items[-1].append(t)
        for toks in items:
            if not toks:
                raise _internal("empty ORDER BY item in to_sql output")
            stop = len(toks)
            nulls: bool | None = None
            if (
                stop >= 2
                and toks[stop - 2].text.upper() == "NULLS"
                and toks[stop - 1].text.upper() in ("FIRST", "LAST")
            ):
                nulls = toks[stop - 1].text.upper() == "FIRST"
                stop -= 2
            descending = False
            if stop >= 1 and toks[stop - 1].text.upper() in ("ASC", "DESC"):
                descending = toks[stop - 1].text.upper() == "DESC"
                stop -= 1
            start, end = toks[0].start, toks[stop - 1].end + 1
            order.append(
                OrderItem(start, end, descending, nulls, _edits(tokens, start, end, alias, columns, in_sub))
            )
    return Analysis(
        sql,
        placeholders,
        tuple(p[0] for p in placeholders),
        tokens[from_i].start,
        where_body,
        order_at,
        order_body,
        first[-1].end + 1,
        alias,
        inline,
        where_refs,
        tuple(order),
    )


_analyse_cached = functools.lru_cache(maxsize=256)(_analyse)


@dataclass(frozen=True)
class Cut:
    """One compiled SELECT: its analysis and this query's values."""

    a: Analysis
    params: dict[str, Any]

    def pieces(
        self, start: int, end: int, alias_refs: tuple[tuple[int, int], ...] = (), alias_sql: Raw | None = None
    ) -> list[Piece]:
        """Text between two offsets: placeholders become Params; ``alias_refs`` become ``alias_sql``."""
        a = self.a
        i = bisect.bisect_left(a.starts, start)
        marks: list[tuple[int, int, Any]] = []
        while i < len(a.placeholders) and a.placeholders[i][1] <= end:
            s, e, name = a.placeholders[i]
            marks.append((s, e, Param(self.params[name])))
            i += 1
        if alias_sql is not None:
            qualify = Raw(alias_sql.sql + ".")
            marks.extend((s, e, alias_sql if e > s else qualify) for s, e in alias_refs)
            marks.sort(key=lambda m: m[0])
        out: list[Piece] = []
        pos = start
        for s, e, what in marks:
            out.append(a.text[pos:s])
            out.append(what)
            pos = e
        out.append(a.text[pos:end])
        return [p for p in out if p != ""]


def main_columns(layout: Any, database: str | None) -> frozenset[str]:
    """The main table's column names in ``layout`` (record columns, and data or the mapped columns)."""
    names = {layout.id, layout.created_at, layout.updated_at, layout.removed_at, layout.data}
    field_columns = getattr(layout, "field_columns", None)
    if field_columns is not None:
        for spec in field_columns(database).values():
            if isinstance(spec, str):
                names.add(spec)
            elif isinstance(spec, Mapping):
                names.update(str(v) for v in spec.values() if v)
            else:
                names.update(
                    str(v) for v in (getattr(spec, "column", None), getattr(spec, "currency", None)) if v
                )
    return frozenset(names)


def _strings(node: Node) -> tuple[list[str], list[str]]:
    """(keys, values): the field keys/path segments and the string values a node holds itself."""
    keys: list[str] = []
    values: list[str] = []
    field = getattr(node, "field", None)
    if field is not None:
        keys += field.segments
    if isinstance(node, Compare):
        v = node.value
        values += (
            [v]
            if isinstance(v, str)
            else [e for e in v if isinstance(e, str)]
            if isinstance(v, tuple)
            else []
        )
        if isinstance(v, Money) and v.currency is not None:
            values.append(v.currency)
    elif isinstance(node, IdIn):
        values += node.ids
    elif isinstance(node, Search):
        values += [t for clause in node.clauses for t in clause]
        keys += [s for f in node.fields or () for s in f.segments]
    return keys, values


def refuse_nul(query: Query, dialect: str) -> None:
    """A located FilterError (``bad-value``, pointing into the query's AST) for a NUL character no
    engine can be asked about: in a field key or path anywhere (SQL text holds keys and cannot hold a
    NUL), or, where the engine cannot store and compare one exactly (``Family.HOLDS_NUL``: PostgreSQL,
    whose text cannot hold one, and SQLite, whose JSON functions cut a string at it), in any value:
    the rule ``to_sql`` applies (backends/sql/guard.py). Without this the driver fails when the
    statement runs (a 500)."""
    values_too = not family_class(dialect).HOLDS_NUL
    where = None
    for key in query.sort:
        if isinstance(key.key, Field) and any("\x00" in s for s in key.key.segments):
            where = f"/sort/{query.sort.index(key)}"
    if where is None:
        for node in walk(query.predicate):
            keys, values = _strings(node)
            if any("\x00" in k for k in keys) or (values_too and any("\x00" in v for v in values)):
                where = node_pointer(query, node)
                break
    if where is not None:
        raise FilterError(
            [
                Diagnostic(
                    "bad-value",
                    "the filter holds a NUL character (U+0000), which this database cannot be asked "
                    "about (no stored record can hold one)",
                    Location(pointer=where),
                )
            ]
        )


def compile_cut(query: Query, dialect: str, layout: Any, catalog: CatalogSource | None) -> Cut:
    """``to_sql`` (named placeholders) and its (cached) analysis."""
    refuse_nul(query, dialect)
    sql, params = to_sql(query, dialect, layout, catalog, paramstyle="named")
    if not isinstance(params, dict):
        raise _internal("to_sql returned positional params for paramstyle='named'")
    return Cut(analyse(sql, dialect, frozenset(params), main_columns(layout, query.database)), params)


def predicate(cut: Cut, alias_sql: Raw) -> list[Piece] | None:
    """The WHERE predicate on the outer table named ``alias_sql`` (None: no predicate, every row)."""
    a = cut.a
    if a.where_body is None:
        return None
    end = a.order_at if a.order_at is not None else len(a.text)
    return ["(", *cut.pieces(a.where_body, end, a.where_refs, alias_sql), ")"]


def order_keys(cut: Cut, alias_sql: Raw) -> list[tuple[list[Piece], bool, bool | None]]:
    """The ORDER BY items on the outer table ``alias_sql``: (pieces, descending, nulls_first or None)."""
    return [
        (cut.pieces(o.start, o.end, o.alias_refs, alias_sql), o.descending, o.nulls_first)
        for o in cut.a.order
    ]


def ids_select(cut: Cut, quote: Any, binary: bool = False) -> list[Piece]:
    """``SELECT <id> FROM ... WHERE ...``: the ids the filter selects (its ORDER BY dropped).

    ``binary`` (MySQL/MariaDB) selects ``CAST(id AS BINARY)``: PAD SPACE collations say 'a' = 'a '.
    """
    a = cut.a
    end = a.order_at if a.order_at is not None else len(a.text)
    head = cut.pieces(0, a.first_end)
    inner = [*head, " ", *cut.pieces(a.from_at, end)]
    if not binary:
        return inner
    q = quote("fdsl_ids")
    return [
        f"SELECT CAST({q}.{quote(ID)} AS BINARY) FROM (",
        *head,
        f" AS {quote(ID)} ",
        *cut.pieces(a.from_at, end),
        f") AS {q}",
    ]


def positioned_select(cut: Cut, quote: Any) -> list[Piece]:
    """``SELECT <id> AS fdsl_id, ROW_NUMBER() OVER (ORDER BY <filterdsl's order>) AS fdsl_pos FROM ...``.

    The window's ORDER BY is the compiled ORDER BY verbatim, in the same scope, so the position is
    exactly filterdsl's order (a total order: it ends with the record id).
    """
    a = cut.a
    if a.order_at is None or a.order_body is None:
        raise _internal("to_sql output has no ORDER BY for a sorted query")
    head = cut.pieces(0, a.first_end)
    order = cut.pieces(a.order_body, len(a.text))
    body = cut.pieces(a.from_at, a.order_at)
    return [*head, f" AS {quote(ID)}, ROW_NUMBER() OVER (ORDER BY ", *order, f") AS {quote(POS)} ", *body]


def direction(descending: bool, nulls_first: bool | None) -> str:
    return (" DESC" if descending else " ASC") + (
        "" if nulls_first is None else " NULLS FIRST" if nulls_first else " NULLS LAST"
    )


def render(pieces: Iterable[Piece], text: Any, param: Any) -> str:
    """Join pieces: ``text(str)`` escapes SQL text for the driver, ``param(value)`` renders a bind."""
    return "".join(
        text(p) if isinstance(p, str) else p.sql if isinstance(p, Raw) else param(p.value) for p in pieces
    )


__all__ = [
    "Param",
    "Raw",
    "Piece",
    "direction",
    "Analysis",
    "Cut",
    "sql_dialect",
    "filter_only",
    "sorted_only",
    "adapt_to_columns",
    "analyse",
    "compile_cut",
    "predicate",
    "order_keys",
    "ids_select",
    "positioned_select",
    "render",
    "POS",
    "ID",
]
