"""Pitchly search strings -> AST (SPEC 3 and 8): ``deal|money, acme`` is (deal OR money) AND acme.

The grammar (grammar/search.lark) keeps the separators, so an empty term can be reported at its
offset. Terms are trimmed; empty terms and clauses are dropped with a warning.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedInput

from ..ast import Field, InTrash, Not, Query, Search, and_
from ..errors import Collector, Location
from ..options import ParseOptions, ParseResult
from ..schema import Catalog
from .relaxed_json import grammar_path


@functools.cache
def _parser() -> Lark:
    return Lark(grammar_path("search.lark").read_text(encoding="utf-8"), parser="lalr",
                start=["plain", "quoted"], maybe_placeholders=False)


def text_location(text: str, offset: int) -> Location:
    """1-based line and column of ``offset`` in ``text``."""
    line = text.count("\n", 0, offset) + 1
    return Location(line=line, column=offset - (text.rfind("\n", 0, offset) + 1) + 1, offset=offset)


def _unescape(quoted: str) -> str:
    body, out, i = quoted[1:-1], [], 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body) and body[i + 1] in "\"\\":
            out.append(body[i + 1])
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _term_text(pieces: list[Token]) -> str:
    """Concatenate the pieces; only unquoted text at the edges is trimmed."""
    parts = [(_unescape(p) if p.type == "QUOTED" else str(p), p.type == "QUOTED") for p in pieces]
    if parts and not parts[0][1]:
        parts[0] = (parts[0][0].lstrip(), False)
    if parts and not parts[-1][1]:
        parts[-1] = (parts[-1][0].rstrip(), False)
    text = "".join(p for p, _ in parts)
    return text if any(q for _, q in parts) else text.strip()


_PIECES = re.compile(r'"(?:[^"\\]|\\.)*"|[,|]|[^,|"]+|"', re.S)


def too_many_terms(text: str, quoted: bool, limit: int) -> bool:
    """Cheap pre-count of non-empty terms (stops at ``limit + 1``), before the grammar runs."""
    count, filled = 0, False
    for m in _PIECES.finditer(text) if quoted else re.finditer(r"[,|]|[^,|]+", text):
        piece = m.group()
        if piece in (",", "|"):
            count += filled
            filled = False
        elif not filled and (len(piece) > 2 if quoted and piece[0] == '"' else bool(piece.strip())):
            filled = True
        if count > limit:
            return True
    return count + filled > limit


def split_terms(text: str, quoted: bool, c: Collector) -> list[list[str]]:
    """The clauses of ``text`` as lists of non-empty terms; problems go to ``c``."""
    try:
        tree = _parser().parse(text, start="quoted" if quoted else "plain")
    except UnexpectedInput as e:
        # Only quoted mode can fail, and only on a quote that is never closed.
        pos = getattr(e, "pos_in_stream", None) or 0
        quote = text.find('"', pos)
        at = quote if quote >= 0 else pos
        c.error("syntax-error", "search string has an unterminated quoted term (close it with \")",
                text_location(text, at))
        return []
    except LarkError as e:  # pragma: no cover - defensive: lark's own failures stay FilterErrors
        c.error("syntax-error", f"search string cannot be read: {type(e).__name__}", text_location(text, 0))
        return []
    clauses: list[list[str]] = []
    offset = 0  # where the current term starts (just after its separator)
    for node in tree.children:
        if isinstance(node, Token):  # COMMA
            offset = (node.start_pos or 0) + 1
            continue
        assert isinstance(node, Tree)
        terms: list[str] = []
        for t in node.children:
            if isinstance(t, Token):  # BAR
                offset = (t.start_pos or 0) + 1
                continue
            pieces = [p for p in t.children if isinstance(p, Token)]
            term = _term_text(pieces)
            if term:
                terms.append(term)
            else:
                where = (pieces[0].start_pos or 0) if pieces else offset
                c.warn("empty-term", "empty search term dropped", text_location(text, where))
        if terms:
            clauses.append(terms)
    return clauses


def parse_search(source: Any, *, catalog: Catalog | None = None, database: str | None = None,
                 options: ParseOptions | None = None) -> ParseResult:
    """A search string run with the default query options (trash excluded, default limit)."""
    opt = options or ParseOptions()
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
    fields: tuple[Field, ...] | None = None
    if catalog is not None and database is not None:
        db = catalog.get(database)
        if db is None:
            c.error("unknown-database", f"no database {database!r} in the catalog", start)
        else:
            fields = db.searchable()
    if too_many_terms(source, opt.quoted, opt.limits.max_search_terms):
        c.error("too-large", f"search has more than {opt.limits.max_search_terms} terms", start)
        return ParseResult(None, tuple(c.items))
    clauses = split_terms(source, opt.quoted, c)
    if c.has_errors:
        return ParseResult(None, tuple(c.items))
    search = Search(tuple(tuple(cl) for cl in clauses), fields) if clauses else and_()
    limit = min(100, opt.limits.max_limit)
    return ParseResult(Query(and_(search, Not(InTrash())), limit=limit, database=database), tuple(c.items))
