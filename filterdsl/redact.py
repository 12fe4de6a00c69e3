"""Secrets: which members hold one, where their values are in a text, and scrubbing them from messages.

Pitchly's ``data`` variables carry ``secretKey`` (an API credential). Its value must never appear in
any output: no diagnostic message, pointer, snippet, report or error body. The rule (docs/security.md,
"Secrets"):

- A member name (a JSON object key, strict or relaxed, at any depth, or a query-string parameter name)
  is *secret* when, compared without case and without anything but letters and digits (NFKC, casefold),
  it is ``secretkey`` or ``secret``, or within two edits (insert, delete, substitute, swap) of
  ``secretkey``: ``SECRETKEY``, ``secret_key``, ``Secret-Key``, ``secretkey``, ``secretKeys``,
  ``secertKey``, ``secret\\u004bey`` all are.
- Its value is whatever follows the name's ``:`` (or ``=``), up to the value's end: a string's closing
  quote, a container's closing bracket, else the next ``,``, ``}`` or ``]`` outside quotes (so a malformed
  ``9"S3CRET"`` or an unquoted ``TOPSECRET9`` is covered). Every occurrence counts (duplicates too).

Frontends never read such a value into a query; this module covers what is left: the JSON reader's own
messages (they describe a token by its kind, not its text, when a secret name is in the input), caret
snippets (:func:`secret_spans`), and, as a last guard at ``parse_result``, any message or pointer that
still holds a piece of a secret value (:func:`scrub`).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import unquote

from filterdsl.errors import Diagnostic, Location

MASK = "********"  # fixed width: a masked value never tells its length
_TARGET = "secretkey"
#: pieces of a secret value shorter than this are not scrubbed from messages (a one-letter "secret" would
#: otherwise blank every such letter); snippets mask the whole value whatever its length
MIN_PIECE = 3
#: three letters in a row of ``secretkey``: a name the rule accepts holds one of them (see is_secret_name)
_GRAMS = ("sec", "ecr", "cre", "ret", "etk", "tke", "key")
#: separators dropped before looking for the grams ("s_e-c" still names a secret)
_SEPARATORS = re.compile(r"[\W_]+")


def _norm(name: str) -> str:
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(c for c in folded if c.isalnum())


def _within_two(a: str, b: str) -> bool:
    """Optimal string alignment distance of a and b is at most 2 (banded, so linear)."""
    if abs(len(a) - len(b)) > 2:
        return False
    inf = 99
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [inf] * len(b)
        for j in range(max(1, i - 2), min(len(b), i + 2) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        if min(cur) > 2:  # every alignment already costs more: stop early
            return False
        prev2, prev = prev, cur
    return prev[len(b)] <= 2


def is_secret_name(name: Any) -> bool:
    """Whether a member or parameter with this name holds a secret (see the module docstring)."""
    if not isinstance(name, str) or not 6 <= len(name) <= 64 or not _has_gram(name):
        return False
    return _secret_normalised(name)


_TARGET_COUNTS = {c: _TARGET.count(c) for c in set(_TARGET)}


@functools.lru_cache(maxsize=4096)  # a flood of one near-miss name costs one check
def _secret_normalised(name: str) -> bool:
    n = _norm(name)
    # two edits keep at least 7 of the 9 letters of "secretkey" (counted as a multiset): a cheap test first
    if n != "secret" and sum(min(n.count(c), k) for c, k in _TARGET_COUNTS.items()) < len(_TARGET) - 2:
        return False
    if n in ("secret", _TARGET):
        return True
    return 6 <= len(n) <= 11 and any(g in n for g in _GRAMS) and _within_two(n, _TARGET)


def may_hold_secret(text: str) -> bool:
    """A cheap over-approximation: False means no secret name can be in ``text``: none of the grams
    (separators dropped, case folded), no escape (``\\u``, ``%``) and nothing outside ASCII (NFKC may fold
    it into a letter)."""
    if not text.isascii() or "\\u" in text or "%" in text:
        return True
    folded = _SEPARATORS.sub("", text.lower())
    return any(g in folded for g in _GRAMS)


def _has_gram(name: str) -> bool:
    folded = _SEPARATORS.sub("", name.lower())
    return any(g in folded for g in _GRAMS) or not name.isascii() or "\\" in name or "%" in name


# ---------------------------------------------------------------------- spans in a text


_PLAIN = re.compile(r"[^\"'\[\]{},&]+")
_DQ_RUN = re.compile(r'"(?:[^"\\]|\\.)*"?', re.S)
_SQ_RUN = re.compile(r"'(?:[^'\\]|\\.)*'?", re.S)


def _value_end(text: str, start: int, amp: bool = False) -> int:
    """End offset of the value starting at ``start``, erring towards masking too much: up to the next
    ``,``, ``}`` or ``]`` outside quotes and brackets (a container to its matching bracket; ``&`` too
    after ``=``), the text's end if none. Quoted runs are skipped whole, so ``"a,b"`` or a malformed
    ``9"S3,CRET"`` is one value."""
    n = len(text)
    if start >= n:
        return n
    first = text[start]
    i, depth = start, 0
    while i < n:
        m = _PLAIN.match(text, i)
        if m is not None:
            i = m.end()
            continue
        ch = text[i]
        if ch == '"' or ch == "'":
            i = (_DQ_RUN if ch == '"' else _SQ_RUN).match(text, i).end()  # type: ignore[union-attr]
            continue
        if ch in "[{":
            depth += 1
        elif ch in "]}":
            if depth == 0:
                return i
            depth -= 1
            if depth == 0 and first in "[{":
                return i + 1
        elif depth == 0 and (ch == "," or (amp and ch == "&")):
            return i
        i += 1
    return n


#: between a name and its ":"/"=": spaces (comments are blanked in a second view, see _name_spans; a
#: comment in this pattern would make it backtrack without bound on runs of "/")
_GAP = r"[ \t\r\n\f]*"
#: a quoted name (a string token, escapes allowed) followed by its separator
_QUOTED_NAME = re.compile(
    r'(?=("(?:[^"\\\n]|\\.){1,400}"|\'(?:[^\'\\\n]|\\.){1,400}\')' + "(?=" + _GAP + "[:=]))"
)  # zero-width: tried at every quote, so a "string" the scan reads across a name never hides it
#: a bare name (the characters a relaxed key or a parameter name may hold), at the start of its run
_NAME_CHARS = r"A-Za-z0-9_$%\\\-\u0080-\U0010ffff"
_BARE_NAME = re.compile(
    r"(?<![" + _NAME_CHARS + r"])([" + _NAME_CHARS + r"]{6,400})" + "(?=" + _GAP + "[:=])"
)
_WS = re.compile(r"[ \t\r\n\f]*")
_GAP_SEP = re.compile(_GAP + "([:=])")
#: comments as the relaxed reader reads them; an unclosed block comment runs to the end (consumed, so
#: the scan stays linear)
_COMMENT = re.compile(r"//[^\n]*|/\*.*?(?:\*/|\Z)", re.S)


def _name_spans(text: str) -> list[tuple[int, int]]:
    """Spans found without tokenising (so a quote the reader takes differently, or a stray escape,
    cannot hide a name): each quoted or bare name followed by ``:`` or ``=`` (spaces between), decoded;
    when it is a secret name, the value after the separator. The names are looked for in the text and,
    when it holds comment marks, in a view of it with comments blanked (same offsets), so a comment
    between a name and its ``:`` does not hide it either. Linear regular-expression scans, Python work
    only per name found; the gap and separator are a lookahead, so a name's match never swallows the
    next name."""
    views = [text]
    if "//" in text or "/*" in text:
        views.append(_COMMENT.sub(lambda m: re.sub(r"[^\n]", " ", m.group()), text))
    out = []
    for view in views:
        for pattern in (_QUOTED_NAME, _BARE_NAME):
            for m in pattern.finditer(view):
                raw = m.group(1)
                name = raw[1:-1] if raw[0] in "\"'" else raw
                if not is_secret_name(_decode_escapes(name)):
                    continue
                sep = _GAP_SEP.match(view, m.end(1))  # the lookahead matched it, without consuming it
                assert sep is not None
                start = _WS.match(view, sep.end()).end()  # type: ignore[union-attr]
                out.append((start, _value_end(text, start, amp=sep.group(1) == "=")))
    return out


_PARAM = re.compile(r"(?:^|(?<=[?&\n]))([^=&\n]*)=([^&\n]*)")


def _param_spans(text: str) -> list[tuple[int, int]]:
    """Query-string parameters with a secret name: their values (``secretKey=...`` up to ``&``)."""
    out = []
    for m in _PARAM.finditer(text):
        if _has_gram(m.group(1)) and is_secret_name(
            unquote(m.group(1).replace("+", " "), errors="replace").strip()
        ):
            out.append(m.span(2))
    return out


def _decode_escapes(name: str) -> str:
    if "\\" not in name and "%" not in name:
        return name
    name = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), name)
    return unquote(name, errors="replace")


def secret_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every secret value in ``text``: see :func:`_secret_spans`."""
    if not text or not may_hold_secret(text):
        return []
    return list(_cached_spans(text))


@functools.lru_cache(maxsize=16)  # one text is masked for its message, its snippets and its reports
def _cached_spans(text: str) -> tuple[tuple[int, int], ...]:
    return tuple(_secret_spans(text))


def _secret_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of every secret value in ``text``, sorted, overlaps merged: the values of
    quoted and bare names followed by ``:``/``=`` (names decoded: ``secret\\u004bey``; every occurrence:
    duplicates, text that does not parse) and of query-string parameters."""
    if not text or not may_hold_secret(text):
        return []
    spans = _name_spans(text) + _param_spans(text)
    merged: list[tuple[int, int]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return [(a, b) for a, b in merged if b > a]


# ---------------------------------------------------------------------- pieces and scrubbing

_WORDS = (
    re.compile(r"[A-Za-z0-9]+"),
    re.compile(r"[^\W_]+"),
    re.compile(r"\w+"),
)  # ASCII, any script, with "_"


def _pieces_of_text(text: str) -> set[str]:
    """The secret values of a text in every form a message could show: raw, unquoted, decoded
    (``\\u`` and ``%`` escapes), and each run of letters and digits in them (any token a parser
    echoes is made of such runs)."""
    out: set[str] = set()
    for a, b in secret_spans(text):
        raw = text[a:b].strip()
        forms = [raw]
        if len(raw) >= 2 and raw[0] in "\"'" and raw[-1] == raw[0]:
            forms.append(raw[1:-1])
        if "\\" in raw:
            forms.append(re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), raw))
        if "%" in raw or "+" in raw:
            forms.append(unquote(raw.replace("+", " "), errors="replace"))
        for form in forms:
            out.add(form)
            for w in _WORDS:
                out.update(w.findall(form))
    return {p for p in out if len(p) >= MIN_PIECE}


def _pieces_of_object(obj: Any, limit: int = 200_000) -> set[str]:
    """String forms of every scalar (and key) under a secret-named member, found iteratively."""
    out: set[str] = set()
    stack: list[tuple[Any, bool]] = [(obj, False)]
    seen = 0
    while stack and seen < limit:
        value, secret = stack.pop()
        seen += 1
        if isinstance(value, dict):
            for k, v in value.items():
                if secret and isinstance(k, str):
                    out.add(k)
                stack.append((v, secret or is_secret_name(k)))
        elif isinstance(value, (list, tuple)):
            stack.extend((v, secret) for v in value)
        elif secret and value is not None and not isinstance(value, bool):
            out.add(str(value))
            if isinstance(value, float):
                out.add(repr(value))
    return {p for p in out if len(p) >= MIN_PIECE}


def secret_pieces(source: Any) -> set[str]:
    """What must not appear in an output about ``source`` (a text or a Python object): the values of
    secret members, their words, their decoded forms."""
    if isinstance(source, (bytes, bytearray)):
        source = bytes(source).decode("utf-8", "replace")
    if isinstance(source, str):
        return _pieces_of_text(source)
    return _pieces_of_object(source)


def _scrub_text(text: str, pieces: Sequence[str]) -> str:
    for p in pieces:
        if p in text:
            text = text.replace(p, MASK)
    return text


def scrub(diagnostics: Iterable[Diagnostic], source: Any) -> tuple[Diagnostic, ...]:
    """The diagnostics with every piece of a secret value of ``source`` replaced by the mask (in
    messages, pointers and parameter names). Unchanged (and cheap) when the source has no secret."""
    diags = tuple(diagnostics)
    if not diags:
        return diags
    if isinstance(source, str) and not may_hold_secret(source):
        return diags
    pieces = sorted(secret_pieces(source), key=len, reverse=True)
    if not pieces:
        return diags
    out = []
    for d in diags:
        loc = d.location
        if loc.pointer is not None or loc.param is not None:
            loc = Location(
                pointer=None if loc.pointer is None else _scrub_text(loc.pointer, pieces),
                line=loc.line,
                column=loc.column,
                offset=loc.offset,
                param=None if loc.param is None else _scrub_text(loc.param, pieces),
                index=loc.index,
            )
        out.append(Diagnostic(d.code, _scrub_text(d.message, pieces), loc, d.severity))
    return tuple(out)
