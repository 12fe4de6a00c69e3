"""Checks ``to_sql`` runs before any SQL reaches a driver: NUL characters, and the statement's size.

- **NUL** (U+0000), one rule (docs/security.md, "NUL"): refused with ``bad-value``, located by a JSON
  Pointer into the query's AST JSON form, when it is in a field key or path segment (on every dialect:
  keys are SQL literals, so that an expression index on the same path matches, and no SQL text can
  hold a NUL), or in a string value on a dialect whose engine cannot store and compare it exactly
  (``Family.HOLDS_NUL``: PostgreSQL, whose text and jsonb cannot hold it; SQLite, whose JSON functions
  cut a string at it and whose ``length()`` stops there). DuckDB, MariaDB/MySQL and ClickHouse get a
  NUL value as a bound parameter and answer exactly, as the in-memory engine does.
- **Size**: the statement (bytes of SQL text plus string parameters, which pymysql sends inside the
  text) is at most ``Family.MAX_STATEMENT_BYTES`` (16 MiB, MariaDB's default ``max_allowed_packet``;
  ClickHouse: 256 KiB of SQL text, its default ``max_query_size``); above it ``too-large``, instead of
  a dropped connection or a driver error. Keys are SQL literals, written a few times (a sort key up
  to 19 times over its ORDER BY items, a condition up to 8, whatever the number of tags: docs/security.md,
  "How often a key is written"), and sqlglot escapes a long
  literal slowly (about 3 us per character on MariaDB), so before compiling, ``check_key_budget``
  refuses a query whose keys alone could exceed the limit (each key counted ``KEY_REPEATS`` times).
"""

from __future__ import annotations

from typing import Any

from filterdsl import ast as A
from filterdsl.backends.sql.dialects import DIALECT_FAMILY, FAMILIES
from filterdsl.backends.sql.dialects.base import Family
from filterdsl.errors import Diagnostic, FilterError, Location

NUL = "\x00"


def family_class(dialect: str, columns: bool = False) -> type[Family]:
    name = DIALECT_FAMILY.get(dialect)
    if name is None:
        return Family
    cls = FAMILIES[name]
    json_family = getattr(cls, "json_family", None)
    return cls if columns or json_family is None else json_family


def _field(f: A.Field, at: str) -> str | None:
    if NUL in f.key:
        return at + "/key"
    for i, seg in enumerate(f.path):
        if NUL in seg:
            return f"{at}/path/{i}"
    return None


def _value(v: Any, at: str) -> str | None:
    t = type(v)
    if t is str:
        return at if NUL in v else None
    if t is tuple:
        for i, x in enumerate(v):
            if type(x) is str and NUL in x:
                return f"{at}/{i}"
    if t is A.Money and type(v.currency) is str and NUL in v.currency:
        return at + "/currency"
    return None


def find_nul(query: A.Query, values: bool = True) -> tuple[str, str] | None:
    """``(pointer, "key" or "value")`` of the first NUL in ``query``'s keys (or, with ``values``, its
    string values): a JSON Pointer into its AST JSON form; None when there is none."""
    for i, sk in enumerate(query.sort):
        if isinstance(sk.key, A.Field):
            at = _field(sk.key, f"/sort/{i}/key")
            if at is not None:
                return at, "key"
    stack: list[tuple[A.Node, str]] = [(query.predicate, "/predicate")]
    while stack:
        n, p = stack.pop()
        t = type(n)
        if t is A.And or t is A.Or:
            items = n.items  # type: ignore[attr-defined]
            stack.extend((items[i], f"{p}/items/{i}") for i in range(len(items) - 1, -1, -1))
        elif t is A.Not:
            stack.append((n.item, p + "/item"))  # type: ignore[attr-defined]
        elif t is A.Relation:
            at = _field(n.field, p + "/field")  # type: ignore[attr-defined]
            if at is not None:
                return at, "key"
            stack.append((n.predicate, p + "/predicate"))  # type: ignore[attr-defined]
        elif t is A.Compare or t is A.FieldState:
            at = _field(n.field, p + "/field")  # type: ignore[attr-defined]
            if at is not None:
                return at, "key"
            if t is A.Compare and values:
                at = _value(n.value, p + "/value")  # type: ignore[attr-defined]
                if at is not None:
                    return at, "value"
        elif t is A.Search:
            for fi, f in enumerate(n.fields or ()):  # type: ignore[attr-defined]
                at = _field(f, f"{p}/fields/{fi}")
                if at is not None:
                    return at, "key"
            if values:
                for ci, clause in enumerate(n.clauses):  # type: ignore[attr-defined]
                    for ti, term in enumerate(clause):
                        if NUL in term:
                            return f"{p}/clauses/{ci}/{ti}", "value"
        elif not values:
            continue
        elif t is A.IdIn:
            at = _value(n.ids, p + "/ids")  # type: ignore[attr-defined]
            if at is not None:
                return at, "value"
        elif t is A.CreatedAt:
            for name in ("start", "end"):
                if _value(getattr(n, name), "") is not None:
                    return f"{p}/{name}", "value"
        elif t is A.ModifiedSince:
            if _value(n.since, "") is not None:  # type: ignore[attr-defined]
                return p + "/since", "value"
    if values and query.after is not None:  # a cursor's values are bound like the filter's
        for i, ck in enumerate(query.after.keys):
            if type(ck.value) is str and NUL in ck.value:
                return f"/after/keys/{i}/1", "value"
        if NUL in query.after.id:
            return "/after/id", "value"
    return None


def nul_error(dialect: str, at: tuple[str, str]) -> FilterError:
    pointer, what = at
    if what == "key":
        why = "a key is written into the SQL text, which cannot hold one"
    else:
        why = (
            f"{family_class(dialect).NUL_WHY or dialect + ' cannot store and compare it exactly'} "
            "(DuckDB, MariaDB, ClickHouse and the in-memory engine answer it exactly)"
        )
    return FilterError(
        [
            Diagnostic(
                "bad-value",
                f"the filter holds a NUL character (U+0000) in a {what}: {why}",
                Location(pointer=pointer),
            )
        ]
    )


def check_keys(query: A.Query, dialect: str, columns: bool = False) -> None:
    """Compile time: a NUL in a key (every dialect), or in a value where ``dialect``'s engine cannot
    hold one; keys too long for one statement (``check_key_budget``)."""
    at = find_nul(query, values=not family_class(dialect, columns).HOLDS_NUL)
    if at is not None:
        raise nul_error(dialect, at)
    check_key_budget(query, dialect, columns)


def check_values(query: A.Query, values: list[Any], dialect: str, columns: bool = False) -> None:
    """The per-call half of ``check_keys``: a cached statement was compiled for NUL-free keys, but
    every call brings new values."""
    if family_class(dialect, columns).HOLDS_NUL:
        return
    for v in values:
        if type(v) is str and NUL in v:
            at = find_nul(query)
            raise nul_error(dialect, at if at is not None else ("", "value"))


#: how often a key may be written per use, as ``check_key_budget`` counts it (an upper bound of what
#: the families write, measured in tests/security/test_exploits_sql.py): a sort key, a condition, and
#: per value of an enumTags or ``in`` test (none: every form reads the key a constant number of times,
#: tests/test_sql_key_repeats.py)
KEY_REPEATS = {"sort": 20, "condition": 8, "per_value": 0}


def _key_len(f: A.Field) -> int:
    """Bytes of a key and its path as SQL literals: UTF-8, twice (MariaDB's hex form and escapes)."""
    return (
        2 * len(f.key.encode("utf-8", "surrogatepass"))
        + sum(2 * len(p.encode("utf-8", "surrogatepass")) + 8 for p in f.path)
        + 8
    )


def key_budget(query: A.Query) -> tuple[int, str]:
    """``(bytes, pointer)``: an upper bound of the bytes the query's keys take in its SQL (each key
    ``KEY_REPEATS`` times), and where the largest contribution is."""
    total, worst, at = 0, -1, ""

    def add(n: int, pointer: str) -> None:
        nonlocal total, worst, at
        total += n
        if n > worst:
            worst, at = n, pointer

    for i, sk in enumerate(query.sort):
        if isinstance(sk.key, A.Field):
            add(KEY_REPEATS["sort"] * _key_len(sk.key), f"/sort/{i}/key")
    stack: list[tuple[A.Node, str]] = [(query.predicate, "/predicate")]
    while stack:
        n, p = stack.pop()
        t = type(n)
        if t is A.And or t is A.Or:
            stack.extend((c, f"{p}/items/{i}") for i, c in enumerate(n.items))  # type: ignore[attr-defined]
        elif t is A.Not:
            stack.append((n.item, p + "/item"))  # type: ignore[attr-defined]
        elif t is A.Relation:
            add(KEY_REPEATS["condition"] * _key_len(n.field), p + "/field")  # type: ignore[attr-defined]
            stack.append((n.predicate, p + "/predicate"))  # type: ignore[attr-defined]
        elif t is A.Compare or t is A.FieldState:
            v = getattr(n, "value", None)
            reps = KEY_REPEATS["condition"] + (KEY_REPEATS["per_value"] * len(v) if type(v) is tuple else 0)
            add(reps * _key_len(n.field), p + "/field")  # type: ignore[attr-defined]
        elif t is A.Search:
            search: Any = n
            terms = sum(len(c) for c in search.clauses)
            for fi, f in enumerate(search.fields or ()):
                add(KEY_REPEATS["condition"] * max(terms, 1) * _key_len(f), f"{p}/fields/{fi}")
    return total, at


def check_key_budget(query: A.Query, dialect: str, columns: bool = False) -> None:
    """Before compiling: ``too-large`` when the keys alone could make the statement exceed the
    engine's limit (so a huge key is refused at once, not after seconds of escaping)."""
    if columns:  # the columns layout writes column names, not keys
        return
    limit = family_class(dialect, columns).MAX_STATEMENT_BYTES
    total, at = key_budget(query)
    if total > limit:
        raise FilterError(
            [
                Diagnostic(
                    "too-large",
                    f"this query's field keys are too long for one {dialect} statement: written as often "
                    f"as the SQL needs them they could take {total:,} bytes, over the {limit:,} its engine "
                    "takes; use shorter keys, fewer tags or fewer sort keys",
                    Location(pointer=at),
                )
            ]
        )


def statement_bytes(text: str, params: Any, with_params: bool = True) -> int:
    """The bytes a driver sends: the SQL text and (``with_params``) every string parameter, UTF-8."""
    values = (params.values() if isinstance(params, dict) else params) if with_params else ()
    return len(text.encode("utf-8", "surrogatepass")) + sum(
        len(v.encode("utf-8", "surrogatepass")) for v in values if type(v) is str
    )


def check_size(text: str, params: Any, dialect: str, columns: bool = False) -> None:
    """``too-large`` when the statement exceeds ``Family.MAX_STATEMENT_BYTES`` (counted without
    encoding while 4 bytes per character cannot reach it, the usual case)."""
    fam = family_class(dialect, columns)
    limit, with_params = fam.MAX_STATEMENT_BYTES, fam.PARAMS_IN_STATEMENT
    values = (params.values() if isinstance(params, dict) else params) if with_params else ()
    if 4 * (len(text) + sum(len(v) for v in values if type(v) is str)) <= limit:
        return
    size = statement_bytes(text, params, with_params)
    if size > limit:
        raise FilterError(
            [
                Diagnostic(
                    "too-large",
                    f"the {dialect} statement for this query would be {size:,} bytes (SQL text"
                    + (" and parameters" if with_params else "")
                    + f"), over the {limit:,} its engine takes; use shorter keys and values, or split "
                    "the query",
                    Location(param="query"),
                )
            ]
        )
