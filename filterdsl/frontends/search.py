"""Pitchly search strings -> AST (SPEC 3 and 8): ``deal|money, acme`` is (deal OR money) AND acme.

The lexical pieces (grammar/search.lark documents them) are read by a linear scanner that keeps the
separators, so an empty term can be reported at its offset. Terms are trimmed; empty terms and
clauses are dropped with a warning.
"""

from __future__ import annotations

import re
from typing import Any

from filterdsl import ast as A
from filterdsl.errors import Collector, Location
from filterdsl.frontends import Context, ParseResult


def text_location(text: str, offset: int) -> Location:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return Location(line=line, column=offset - (text.rfind("\n", 0, offset) + 1) + 1, offset=offset)


_ESCAPE = re.compile(r'\\(["\\])')


def _unescape(quoted: str) -> str:
    """``\\"`` and ``\\\\`` inside a quoted piece; any other backslash stays as it is."""
    return _ESCAPE.sub(r"\1", quoted[1:-1])


def _term_text(pieces: list[_Piece]) -> str:
    """Concatenate the pieces; only unquoted text at the edges is trimmed."""
    parts = [(_unescape(p.text) if p.type == "QUOTED" else p.text, p.type == "QUOTED") for p in pieces]
    if parts and not parts[0][1]:
        parts[0] = (parts[0][0].lstrip(), False)
    if parts and not parts[-1][1]:
        parts[-1] = (parts[-1][0].rstrip(), False)
    text = "".join(p for p, _ in parts)
    return text if any(q for _, q in parts) else text.strip()


class _Piece:
    """A lexical piece: ``type`` is TEXT, QTEXT, QUOTED, COMMA or BAR (the grammar's terminal names)."""

    __slots__ = ("type", "text", "start_pos")

    def __init__(self, type_: str, text: str, start: int):
        self.type, self.text, self.start_pos = type_, text, start

    def __str__(self) -> str:
        return self.text


_SURROGATE = re.compile("[\ud800-\udfff]")
_TEXT = {False: re.compile(r"[^,|]+"), True: re.compile(r'[^,|"]+')}
#: grammar/search.lark's QUOTED, unrolled ("normal* (special normal*)*"): no nested quantifier to
#: backtrack through, so even an unterminated quote over the whole input fails in one linear pass.
_QUOTED = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)


def _scan(text: str, quoted: bool, limit: int) -> list[_Piece] | tuple[str, int]:
    """The pieces of ``text`` in one linear pass, or (``"unterminated"`` | ``"too-many"``, offset).

    More than ``limit`` pieces stops the scan: the cost of a search grows with its pieces, not its
    terms (``'"' * 900000`` is one empty term of 450,000 quoted parts).
    This is grammar/search.lark's lexer written out (the grammar stays the reference the tests check
    this scanner against).
    """
    out: list[_Piece] = []
    i, n = 0, len(text)
    run = _TEXT[quoted].match
    while i < n:
        if len(out) >= limit:
            return ("too-many", i)
        ch = text[i]
        if ch == "," or ch == "|":
            out.append(_Piece("COMMA" if ch == "," else "BAR", ch, i))
            i += 1
        elif ch == '"' and quoted:
            m = _QUOTED.match(text, i)
            if m is None:
                return ("unterminated", i)
            out.append(_Piece("QUOTED", m.group(), i))
            i = m.end()
        else:
            m = run(text, i)
            assert m is not None
            out.append(_Piece("QTEXT" if quoted else "TEXT", m.group(), i))
            i = m.end()
    return out


def split_terms(text: str, quoted: bool, c: Collector, max_pieces: int = 2000) -> list[list[str]]:
    """The clauses of ``text`` as lists of non-empty terms; problems go to ``c``."""
    pieces = _scan(text, quoted, max_pieces)
    if isinstance(pieces, tuple):
        kind, at = pieces
        if kind == "too-many":
            c.error(
                "too-large",
                f"search has more than {max_pieces} pieces (terms, separators and quoted parts)",
                text_location(text, at),
            )
        else:
            c.error(
                "syntax-error",
                'search string has an unterminated quoted term (close it with ")',
                text_location(text, at),
            )
        return []
    clauses: list[list[str]] = []
    terms: list[str] = []
    current: list[_Piece] = []
    offset = 0  # where the current term starts (just after its separator)

    def end_term() -> None:
        term = _term_text(current)
        if term:
            terms.append(term)
        else:
            c.warn(
                "empty-term",
                "empty search term dropped",
                text_location(text, current[0].start_pos if current else offset),
            )
        current.clear()

    for piece in pieces:
        if piece.type in ("COMMA", "BAR"):
            end_term()
            if piece.type == "COMMA":
                if terms:
                    clauses.append(terms)
                terms = []
            offset = piece.start_pos + 1
        else:
            current.append(piece)
    end_term()
    if terms:
        clauses.append(terms)
    return clauses


def parse_search(source: Any, ctx: Context) -> ParseResult:
    """A search string run with the default query options (trash excluded, default limit)."""
    catalog, database, opt = ctx.catalog, ctx.database, ctx.options
    c = Collector(opt.strict)
    start = Location(line=1, column=1, offset=0)
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError as e:
            c.error("invalid-encoding", f"search string is not UTF-8: {e.reason} at byte {e.start}", start)
            return ParseResult(None, tuple(c.items))
    if not isinstance(source, str):
        c.error("wrong-type", f"a search string is text, not {type(source).__name__}", start)
        return ParseResult(None, tuple(c.items))
    if len(source.encode("utf-8", "surrogatepass")) > opt.limits.max_input_bytes:
        c.error("too-large", f"input exceeds {opt.limits.max_input_bytes} bytes", start)
        return ParseResult(None, tuple(c.items))
    bad = _SURROGATE.search(source)
    if bad is not None:  # no engine can bind or store it (SQLite raises, PostgreSQL refuses)
        c.error(
            "invalid-encoding",
            "search string holds a lone surrogate (not valid Unicode)",
            text_location(source, bad.start()),
        )
        return ParseResult(None, tuple(c.items))
    fields: tuple[A.Field, ...] | None = None
    if catalog is not None and database is not None:
        db = catalog.get(database)
        if db is None:
            c.error("unknown-database", f"no database {database!r} in the catalog", start)
        else:
            fields = db.searchable()
    before = len(c.items)
    clauses = split_terms(source, opt.quoted, c, 20 * opt.limits.max_search_terms)
    if sum(len(cl) for cl in clauses) > opt.limits.max_search_terms:
        del c.items[before:]  # the empty-term warnings of a refused search are noise
        c.error("too-large", f"search has more than {opt.limits.max_search_terms} terms", start)
        return ParseResult(None, tuple(c.items))
    if c.has_errors:
        return ParseResult(None, tuple(c.items))
    search = A.Search(tuple(tuple(cl) for cl in clauses), fields) if clauses else A.and_()
    limit = min(100, opt.limits.max_limit)
    return ParseResult(
        A.Query(A.and_(search, A.Not(A.InTrash())), limit=limit, database=database), tuple(c.items)
    )
