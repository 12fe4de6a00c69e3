"""PixieBrix record query params -> AST (SPEC 4 and 8).

Decoding is HTML form decoding as Django's QueryDict does it, done here by hand so that every
parameter keeps its position (for located errors) and so that bytes that are not UTF-8 are an error
instead of a silent U+FFFD. ``data__a__b=v`` is a JSON-string equality at the path a/b (Django
key-transform semantics); ``__isnull`` asks whether the key is present at all.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

from filterdsl import ast as A
from filterdsl.errors import Collector, FilterError, Location, did_you_mean
from filterdsl.frontends import Context, ParseResult
from filterdsl.options import MAX_INDEX_PATH_COST, ParseOptions, path_cost
from filterdsl.records import canonical_ts
from filterdsl.schema import Database, FieldDef, Suggester
from filterdsl.semantics.days import next_day, valid_day

#: Django's key-transform lookup names: a final path segment with one of these names is a lookup.
DJANGO_LOOKUPS = frozenset(
    "exact iexact isnull contains icontains startswith istartswith endswith iendswith regex "
    "iregex in range lt lte gt gte contained_by has_key has_keys has_any_keys".split()
)
EXTENDED = {
    "iexact": A.Op.IEQ,
    "icontains": A.Op.CONTAINS,
    "istartswith": A.Op.STARTS_WITH,
    "iendswith": A.Op.ENDS_WITH,
    "gt": A.Op.GT,
    "gte": A.Op.GTE,
    "lt": A.Op.LT,
    "lte": A.Op.LTE,
    "in": A.Op.IN,
}
KNOWN = (
    "data__<path>",
    "data__<path>__isnull",
    "start_date",
    "end_date",
    "page",
    "page_size",
    "ordering",
    "after",
)
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
_HEX = "0123456789abcdefABCDEF"
LAST_DAY = "9999-12-31"


def _paths(p: Param) -> list[list[str]]:
    """The key segments a data__ or ordering parameter names (lookups dropped; no validation)."""
    names = [p.name] if p.name.startswith("data__") else [t.strip().lstrip("-") for t in p.value.split(",")]
    out = []
    for name in names:
        if name.startswith("data__"):
            segs = name[len("data__") :].split("__")
            if segs and segs[-1] in DJANGO_LOOKUPS:
                segs.pop()
            out.append(segs)
    return out


def _excerpt(value: str) -> str:
    return repr(value) if len(value) <= 40 else repr(value[:37] + "...")


@dataclass(frozen=True)
class Param:
    name: str
    value: str
    index: int  # position among the '&'-separated pieces (or among the pairs given)
    offset: int | None  # character offset of the piece in a raw query string

    def loc(self) -> Location:
        if self.offset is None:
            return Location(param=self.name, index=self.index)
        return Location(param=self.name, index=self.index, line=1, column=self.offset + 1, offset=self.offset)


def _unquote(text: str) -> bytes:
    """``+`` is a space and ``%XX`` a byte; a malformed ``%`` stays literal (as in Django)."""
    try:  # the standard library's loop, in C for the most part (~20x the one below)
        return unquote_to_bytes(text.replace("+", " "))
    except UnicodeEncodeError:  # a lone surrogate in the text: kept, as the loop below keeps it
        pass
    out = bytearray()
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "%" and i + 2 < n and text[i + 1] in _HEX and text[i + 2] in _HEX:
            out.append(int(text[i + 1 : i + 3], 16))
            i += 3
            continue
        out += b" " if ch == "+" else ch.encode("utf-8", "surrogatepass")
        i += 1
    return bytes(out)


def decode(text: str, c: Collector) -> list[Param]:
    """Split a raw query string into located parameters; non-UTF-8 bytes are ``invalid-encoding``."""
    base = 1 if text.startswith("?") else 0
    params: list[Param] = []
    pos = base
    for index, piece in enumerate(text[base:].split("&")):
        offset = pos
        pos += len(piece) + 1
        if not piece:
            continue  # empty pieces ('&&') are skipped
        raw_name, _, raw_value = piece.partition("=")
        decoded = []
        for part in (raw_name, raw_value):
            try:
                decoded.append(_unquote(part).decode("utf-8"))
            except UnicodeDecodeError as e:
                c.error(
                    "invalid-encoding",
                    f"parameter {raw_name!r} is not UTF-8 after %-decoding (byte {e.start})",
                    Location(param=raw_name, index=index, line=1, column=offset + 1, offset=offset),
                )
                break
        else:
            params.append(Param(decoded[0], decoded[1], index, offset))
    return params


_SURROGATE = re.compile("[\ud800-\udfff]")


def _printable(name: str) -> str:
    """A parameter name as a location shows it: lone surrogates written as ``\\udXXX`` (a location must
    encode as UTF-8 wherever it is printed)."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", name)


def _from_pairs(source: Any, c: Collector) -> list[Param]:
    items = list(source.items()) if isinstance(source, Mapping) else list(source)
    params: list[Param] = []
    for i, item in enumerate(items):
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[0], str)):
            c.error(
                "wrong-type", "params are (name, value) pairs of strings", Location(pointer=f"/{i}", index=i)
            )
            continue
        name, value = item
        if _SURROGATE.search(name):  # as the query-string form refuses them (no engine can store them)
            c.error(
                "invalid-encoding",
                "parameter name holds a lone surrogate (not valid Unicode)",
                Location(param=_printable(name), index=i),
            )
            continue
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if not isinstance(v, str):
                c.error(
                    "wrong-type",
                    f"the value of {name!r} is a string, not {type(v).__name__}",
                    Location(param=name, index=i),
                )
                continue
            if _SURROGATE.search(v):
                c.error(
                    "invalid-encoding",
                    f"the value of {name!r} holds a lone surrogate (not valid Unicode)",
                    Location(param=name, index=i),
                )
                continue
            params.append(Param(name, v, i, None))
    return params


#: With a catalog (SPEC 4), ``data__<field>=v`` on a field of one of these types is read as its type
T = A.FieldType
TYPED = (T.NUMBER, T.CURRENCY, T.BOOLEAN, T.DATE, T.ENUM_TAGS, T.REF_MULTIPLE)
MAX_NUMBER_CHARS = 400  # a decimal past this is out of range anyway (and int() refuses 4,300 digits)


def parse_number(text: str) -> int | float | str | None:
    """A decimal (JSON number syntax) as int or float; ``"range"`` when it is past ±2^53 or not
    finite; None when it is not a number. Never raises, whatever its length."""
    if not _NUMBER.fullmatch(text):
        return None
    if len(text) > MAX_NUMBER_CHARS:
        return "range"
    value = float(text) if any(ch in text for ch in ".eE") else int(text)
    return value if math.isfinite(value) and abs(value) <= 2**53 else "range"


class _Parser:
    def __init__(self, opt: ParseOptions, db: Database | None = None):
        self.opt = opt
        self.c = Collector(not opt.django_compat)
        self.db = db  # with a catalog: the queried database, whose fields data__ paths name (SPEC 4)
        self.suggestions = 0

    def field(self, p: Param, key: str) -> tuple[str, FieldDef | None] | None:
        """The key a data__ path or ordering key names first: with a catalog, a field of the database
        (its id; its name with ``resolve_names``). An unknown field is ``unknown-field``: an error, or
        with ``django_compat`` a warning, the key keeping its schemaless meaning (None: dropped)."""
        if self.db is None:
            return key, None
        fd = self.db.field(key, self.opt.resolve_names)
        if fd is not None:
            return fd.id, fd
        self.suggestions += 1  # bounded: each suggestion searches the whole catalog
        hint = self.db.suggest(key) if self.suggestions <= Suggester.MAX_SUGGESTIONS else ""
        self.c.lenient(
            "unknown-field",
            f"{p.name!r}: database {self.db.name!r} has no field {key!r}"
            + hint
            + (" (kept as a schemaless path, which matches nothing)" if not self.c.strict else ""),
            p.loc(),
        )
        return None if self.c.strict else (key, None)

    def typed(self, p: Param, fd: FieldDef) -> A.Node | None:
        """``data__<field>=v`` on a typed field (SPEC 4 with a catalog): the ``is`` operator of the
        field's type; ``has-any-of`` one value for enumTags and refMultiple. Unparseable: ``bad-value``."""
        v, t = p.value, fd.type
        what = {
            T.NUMBER: "a decimal number",
            T.CURRENCY: "a decimal number (the amount)",
            T.BOOLEAN: "true or false",
            T.DATE: "a date YYYY-MM-DD",
        }
        if t in (T.NUMBER, T.CURRENCY):
            n = parse_number(v)
            if n == "range":
                self.c.error(
                    "number-out-of-range",
                    f"{p.name}: {_excerpt(v)} is outside ±2^53 or not finite",
                    p.loc(),
                )
                return None
            if n is not None and not isinstance(n, str):
                return A.Compare(A.Field(fd.id, t), A.Op.EQ, A.Money(n) if t is T.CURRENCY else n)
        elif t is T.BOOLEAN:
            if v.lower() in ("true", "false"):
                return A.Compare(A.Field(fd.id, t), A.Op.EQ, v.lower() == "true")
        elif t is T.DATE:
            if _DAY.fullmatch(v) and valid_day(v):
                return A.Compare(A.Field(fd.id, t), A.Op.EQ, v)
        else:  # enumTags, refMultiple: the stored list holds the value
            if t is T.ENUM_TAGS and fd.restrict is not None and v not in fd.restrict:
                self.c.error(
                    "value-not-allowed",
                    f"{p.name}: {_excerpt(v)} is not one of {fd.name!r}'s values: {', '.join(fd.restrict)}"
                    + did_you_mean(v, fd.restrict),
                    p.loc(),
                )
                return None
            # a refMultiple value is a list of row ids: the same list test as enumTags' has-any-of
            return A.Compare(A.Field(fd.id, T.ENUM_TAGS), A.Op.HAS_ANY, (v,))
        self.c.error(
            "bad-value",
            f"{p.name}: field {fd.name!r} is a {t.value}, so the value is {what[t]}, not {_excerpt(v)}",
            p.loc(),
        )
        return None

    def ignore(self, code: str, message: str, p: Param) -> None:
        """Strict mode: an error. django_compat: Django ignores it, so we do, with a warning.

        Never for a ``data__`` parameter (SPEC 4/8): Django applies those or fails, so dropping one would
        return a silent superset of the records Django returns."""
        if self.opt.django_compat and not p.name.startswith("data__"):
            self.c.warn(code, message + " (ignored, as Django does)", p.loc())
        else:
            self.c.error(
                code,
                message
                + (
                    " (a data__ parameter is never ignored, even with django_compat)"
                    if self.opt.django_compat
                    else ""
                ),
                p.loc(),
            )

    def path(self, p: Param, rest: str, allow_lookup: bool) -> tuple[tuple[str, ...], str | None] | None:
        segs = rest.split("__")
        lookup = None
        if segs[-1] in DJANGO_LOOKUPS:
            if not allow_lookup or len(segs) == 1:
                what = "ordering takes no lookups" if not allow_lookup else "a lookup needs a key before it"
                self.ignore(
                    "bad-param",
                    f"{p.name!r}: __{segs[-1]} is a Django lookup; {what} (data__<key>__isnull=true)",
                    p,
                )
                return None
            lookup = segs.pop()
        if not segs or any(s == "" for s in segs):
            self.ignore(
                "bad-param",
                f"parameter {p.name!r} has an empty path segment (keys are separated by a "
                "double underscore: data__a__b)",
                p,
            )
            return None
        return tuple(segs), lookup

    def data(self, p: Param) -> A.Node | None:
        got = self.path(p, p.name[len("data__") :], True)
        if got is None:
            return None
        segs, lookup = got
        named = self.field(p, segs[0])
        if named is None:
            return None
        key, fd = named
        field = A.Field(key, A.FieldType.JSON, segs[1:])
        if lookup in (None, "exact"):
            if fd is not None and fd.type in TYPED and len(segs) == 1:
                return self.typed(p, fd)
            return A.Compare(field, A.Op.EQ, p.value)
        if lookup == "isnull":
            v = p.value.lower()
            if v not in ("true", "false"):
                self.c.error("bad-value", f"{p.name} takes true or false, not {p.value!r}", p.loc())
                return None
            state = A.FieldState(field, A.State.NOT_SET)
            return state if v == "true" else A.Not(state)
        assert lookup is not None
        if self.opt.lookups != "extended" or lookup not in EXTENDED:
            hint = " (enable lookups='extended' / --lookups extended)" if lookup in EXTENDED else ""
            self.ignore(
                "unsupported-lookup",
                f"lookup __{lookup} is not supported{hint}; supported: __exact, "
                "__isnull"
                + (", " + ", ".join("__" + k for k in EXTENDED) if self.opt.lookups == "extended" else ""),
                p,
            )
            return None
        op = EXTENDED[lookup]
        if op is A.Op.IN:
            values = tuple(v.strip() for v in p.value.split(","))
            if len(values) > self.opt.limits.max_list:
                self.c.error("too-large", f"__in takes at most {self.opt.limits.max_list} values", p.loc())
                return None
            return A.Compare(field, op, values)
        value: Any = p.value
        if op in (A.Op.GT, A.Op.GTE, A.Op.LT, A.Op.LTE) and _NUMBER.fullmatch(p.value):
            value = parse_number(p.value)
            if value == "range":
                self.c.error(
                    "number-out-of-range", f"{_excerpt(p.value)} is outside ±2^53 or not finite", p.loc()
                )
                return None
        return A.Compare(field, op, value)

    def day(self, p: Param) -> str | None:
        if not (_DAY.fullmatch(p.value) and valid_day(p.value)):
            if p.value == "" and self.opt.django_compat:
                self.c.warn("bad-value", f"empty {p.name} ignored, as django-filter does", p.loc())
                return None
            self.c.error("bad-value", f"{p.name} is a date YYYY-MM-DD, not {p.value!r}", p.loc())
            return None
        return p.value

    def positive(self, p: Param, maximum: int | None) -> int | None:
        digits = p.value.lstrip("0")
        if not (_DIGITS.fullmatch(p.value) and digits):
            self.c.error("bad-value", f"{p.name} is a whole number >= 1, not {_excerpt(p.value)}", p.loc())
            return None
        if len(digits) > 18:  # past any page an engine can skip to (and before int()'s digit limit)
            self.c.error(
                "bad-value",
                f"{p.name} has {len(digits)} digits: past any page an engine can skip to",
                p.loc(),
            )
            return None
        n = int(digits)
        if maximum is not None and n > maximum:
            if self.opt.django_compat:
                self.c.warn(
                    "bad-value", f"{p.name} {n} clamped to the maximum {maximum}, as Django does", p.loc()
                )
                return maximum
            self.c.error("bad-value", f"{p.name} is at most {maximum}, not {n}", p.loc())
            return None
        return n

    def ordering(self, p: Param) -> tuple[A.SortKey, ...]:
        keys: list[A.SortKey] = []
        limit = self.opt.limits.max_sort_keys
        if p.value.count(",") >= limit:  # before any key is read: each key costs a sort term in every engine
            self.c.error("too-large", f"ordering takes at most {limit} keys", p.loc())
            return ()
        for term in (t.strip() for t in p.value.split(",")):
            desc = term.startswith("-")
            name = term[1:] if desc else term
            key: A.Field | A.RecordAttr | None = None
            if name in ("created_at", "id"):
                key = A.RecordAttr(name)
            elif name.startswith("data__"):
                got = self.path(p, name[len("data__") :], False)
                if got is None:
                    continue
                named = self.field(p, got[0][0])
                if named is None:
                    continue
                key = A.Field(named[0], A.FieldType.JSON, got[0][1:])
            if key is None or not name:
                self.ignore(
                    "bad-ordering",
                    f"ordering term {term!r} is not one of created_at, id, data__<path> "
                    "(with an optional '-' for descending)",
                    p,
                )
                continue
            keys.append(A.SortKey(key, desc))
        return tuple(keys)

    def run(self, params: list[Param], database: str | None) -> A.Query | None:
        seen: dict[str, Param] = {}
        for p in params:
            if p.name in seen:
                if self.opt.django_compat:
                    self.c.warn(
                        "repeated-param",
                        f"{p.name!r} is repeated; the last value wins, as in Django",
                        p.loc(),
                    )
                else:
                    self.c.error(
                        "repeated-param",
                        f"{p.name!r} is given more than once (first at piece {seen[p.name].index})",
                        p.loc(),
                    )
            seen[p.name] = p
            if "=" in p.name:
                k, _, v = p.name.partition("=")
                self.c.warn(
                    "encoded-equals",
                    f"parameter name {p.name!r} contains an encoded '=' (%3D), so it "
                    f"filters key {k[len('data__') :]!r} for the empty string; to filter "
                    f"{k[len('data__') :]!r} for {v!r}, do not encode the '=': {k}={v}",
                    p.loc(),
                )
        preds: list[A.Node] = []
        start = end = None
        page, page_size = 1, self.opt.limits.max_page_size
        sort: tuple[A.SortKey, ...] = ()
        after: Param | None = None
        for name, p in seen.items():
            if name.startswith("data__"):
                node = self.data(p)
                if node is not None:
                    preds.append(node)
            elif name == "start_date":
                start = self.day(p)
            elif name == "end_date":
                end = self.day(p)
            elif name == "page":
                page = self.positive(p, None) or page
            elif name == "page_size":
                page_size = self.positive(p, self.opt.limits.max_page_size) or page_size
            elif name == "ordering":
                sort = self.ordering(p)
            elif name == "after":  # [filterdsl] keyset pagination: the previous page's next token
                after = p
            else:
                self.ignore("unknown-param", f"unknown parameter {name!r}; known: {', '.join(KNOWN)}", p)
        if start and end and start > end:
            self.c.warn(
                "empty-range",
                f"start_date {start} is after end_date {end}: nothing can match",
                seen["start_date"].loc(),
            )
        if start or end:
            # No timestamp is after 9999-12-31 (canonical timestamps have four-digit years): that end
            # day bounds nothing, and its next day does not exist.
            upper = end if end and end < LAST_DAY else None
            preds.append(
                A.CreatedAt(
                    canonical_ts(start + "T00:00:00Z") if start else None,
                    canonical_ts(next_day(upper) + "T00:00:00Z") if upper else None,
                )
            )
        if (page - 1) * page_size > self.opt.limits.max_skip:
            self.c.error(
                "bad-value",
                f"page {page} of {page_size} starts past record {self.opt.limits.max_skip}, "
                "the most any engine can skip",
                seen["page"].loc(),
            )
        cost = 0
        for (
            name,
            p,
        ) in seen.items():  # JSON paths with index-like segments: bounded (options.MAX_INDEX_PATH_COST)
            if name.startswith("data__") or name == "ordering":
                cost += sum(
                    path_cost(A.Field(segs[0], A.FieldType.JSON, tuple(segs[1:])))
                    for segs in _paths(p)
                    if segs
                )
                if cost > MAX_INDEX_PATH_COST:
                    self.c.error(
                        "too-large",
                        "data__ paths with too many numeric (array index) segments, or "
                        "segments holding quotes, backslashes or control characters: each one multiplies "
                        "the SQL for its path; use fewer, or shorter paths",
                        p.loc(),
                    )
                    break
        if self.c.has_errors:
            return None
        query = A.Query(
            A.and_(*preds, A.Not(A.InTrash())),
            sort=sort,
            skip=(page - 1) * page_size,  # with after: pages counted from the cursor
            limit=page_size,
            database=database,
        )
        if after is not None:
            from filterdsl.cursor import with_after

            try:
                return with_after(query, after.value, self.opt.cursor_secret, after.loc())
            except FilterError as e:
                for d in e.diagnostics:
                    self.c.error(d.code, d.message, d.location)
                return None
        return query


def parse_pixiebrix(source: Any, ctx: Context) -> ParseResult:
    """A raw query string (leading ``?`` allowed), bytes, a mapping or (name, value) pairs -> Query."""
    catalog, database, opt = ctx.catalog, ctx.database, ctx.options
    db = catalog.get(database) if catalog is not None and database is not None else None
    p = _Parser(opt, db)
    c = p.c
    if catalog is not None and database is not None and db is None:
        c.error("unknown-database", f"no database {database!r} in the catalog", Location(param="database"))
        return ParseResult(None, tuple(c.items))
    if isinstance(source, (bytes, bytearray)):
        try:
            source = bytes(source).decode("ascii")
        except UnicodeDecodeError:
            try:
                source = bytes(source).decode("utf-8")
            except UnicodeDecodeError as e:
                c.error(
                    "invalid-encoding",
                    f"query string is not UTF-8 (byte {e.start})",
                    Location(offset=e.start),
                )
                return ParseResult(None, tuple(c.items))
    if isinstance(source, str):
        if len(source.encode("utf-8", "surrogatepass")) > opt.limits.max_input_bytes:
            c.error("too-large", f"input exceeds {opt.limits.max_input_bytes} bytes", Location(offset=0))
            return ParseResult(None, tuple(c.items))
        params = decode(source, c)
    elif isinstance(source, Mapping) or isinstance(source, (list, tuple)):
        params = _from_pairs(source, c)
    else:
        c.error(
            "wrong-type",
            f"PixieBrix params are a query string, a mapping or pairs, not {type(source).__name__}",
            Location(pointer=""),
        )
        return ParseResult(None, tuple(c.items))
    return _finish(p, params, database)


def _finish(p: _Parser, params: list[Param], database: str | None) -> ParseResult:
    c, limit = p.c, p.opt.limits.max_nodes
    if len(params) > limit:
        c.error("too-large", f"more than {limit} parameters", params[limit].loc())
        return ParseResult(None, tuple(c.items))
    query = p.run(params, database)
    return ParseResult(None if c.has_errors else query, tuple(c.items))


def parse_params(params: list[Param], ctx: Context, diagnostics: tuple[Any, ...] = ()) -> ParseResult:
    """Already decoded parameters (``decode``'s, keeping their positions) -> Query: for a caller that
    leaves some parameters to others (a DRF view's search, paginator...) yet keeps every location."""
    db = ctx.catalog.get(ctx.database) if ctx.catalog is not None and ctx.database is not None else None
    p = _Parser(ctx.options, db)
    p.c.items.extend(diagnostics)
    if ctx.catalog is not None and ctx.database is not None and db is None:
        p.c.error(
            "unknown-database", f"no database {ctx.database!r} in the catalog", Location(param="database")
        )
        return ParseResult(None, tuple(p.c.items))
    return _finish(p, params, ctx.database)
