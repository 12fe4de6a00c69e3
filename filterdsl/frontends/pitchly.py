"""Pitchly filter objects and ``data`` query variables -> AST (SPEC 2, 6, 8).

The walk collects every problem as a located diagnostic (JSON Pointer) instead of stopping at the
first, and never lets anything but FilterError escape. ``secretKey`` is read past and never echoed.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from filterdsl import ast as A
from filterdsl.errors import Collector, Diagnostic, FilterError, Location, did_you_mean, pointer
from filterdsl.frontends import Context, ParseResult, relaxed_json
from filterdsl.options import ParseOptions
from filterdsl.records import canonical_ts, parse_ts
from filterdsl.schema import REF_TYPES, Catalog, Database, FieldDef, Suggester
from filterdsl.semantics.days import valid_day

T = A.FieldType
EMPTINESS = {"is-empty": A.State.EMPTY, "is-not-set": A.State.NOT_SET, "has-any-value": A.State.HAS_VALUE}
_CMP = {"is-more-than": A.Op.GT, "is-less-than": A.Op.LT, "is-at-least": A.Op.GTE, "is-at-most": A.Op.LTE}
_DATE = {"is-before": A.Op.LT, "is-after": A.Op.GT, "is-on-or-before": A.Op.LTE, "is-on-or-after": A.Op.GTE}
_STR = {"contains": A.Op.CONTAINS, "starts-with": A.Op.STARTS_WITH, "ends-with": A.Op.ENDS_WITH}

#: by -> (Op, negated) for each field type: the whole operator table of SPEC 2.
OPERATORS: dict[A.FieldType, dict[str, tuple[A.Op, bool]]] = {
    T.STRING: {
        "is": (A.Op.EQ, False),
        "is-not": (A.Op.EQ, True),
        **{k: (v, False) for k, v in _STR.items()},
        "does-not-contain": (A.Op.CONTAINS, True),
    },
    T.NUMBER: {"is": (A.Op.EQ, False), "is-not": (A.Op.EQ, True), **{k: (v, False) for k, v in _CMP.items()}},
    T.BOOLEAN: {"is": (A.Op.EQ, False), "is-not": (A.Op.EQ, True)},
    T.DATE: {"is": (A.Op.EQ, False), "is-not": (A.Op.EQ, True), **{k: (v, False) for k, v in _DATE.items()}},
    T.ENUM: {
        "is": (A.Op.EQ, False),
        "is-not": (A.Op.EQ, True),
        "is-any-of": (A.Op.IN, False),
        "is-none-of": (A.Op.IN, True),
    },
    T.ENUM_TAGS: {
        "has-any-of": (A.Op.HAS_ANY, False),
        "has-all-of": (A.Op.HAS_ALL, False),
        "has-none-of": (A.Op.HAS_ANY, True),
        "is-exactly": (A.Op.HAS_EXACTLY, False),
    },
    T.ATTACHMENT: {"contains": (A.Op.CONTAINS, False), "does-not-contain": (A.Op.CONTAINS, True)},
    T.REF: {},
    T.REF_MULTIPLE: {},
}
OPERATORS[T.TEXT_BLOCK] = OPERATORS[T.STRING]
OPERATORS[T.CURRENCY] = OPERATORS[T.NUMBER]
ALL_OPERATORS = sorted({b for ops in OPERATORS.values() for b in ops} | set(EMPTINESS))
NOT_SORTABLE = (T.ENUM_TAGS, T.REF_MULTIPLE, T.ATTACHMENT)
VARIABLES = (
    "secretKey",
    "databaseId",
    "filter",
    "sort",
    "limit",
    "skip",
    "after",
    "in",
    "fields",
    "removedAt",
    "search",
    "modifiedSince",
)
MAX_SAFE_INT = 2**53


def allowed_operators(ftype: A.FieldType) -> list[str]:
    ops = list(OPERATORS[ftype])
    return ops + list(EMPTINESS) if ftype not in REF_TYPES else ops


def _is_int(v: Any) -> bool:
    return type(v) is int


def _is_number(v: Any) -> bool:
    return type(v) in (int, float)


class _Parser:
    def __init__(self, catalog: Catalog | None, options: ParseOptions):
        self.catalog = catalog
        self.opt = options
        self.c = Collector(options.strict)
        self.suggestions = 0

    # -------------------------------------------------------------- helpers
    def loc(self, path: list[str | int]) -> Location:
        return Location(pointer=pointer(path))

    def check_keys(
        self, obj: dict[str, Any], allowed: tuple[str, ...] | list[str], path: list[str | int]
    ) -> None:
        for k in obj:
            if k not in allowed:
                self.c.lenient(
                    "unknown-key",
                    f"unknown key {k!r}; allowed: {', '.join(allowed)}" + did_you_mean(k, allowed),
                    self.loc([*path, k]),
                )

    def lookup(self, db: Database, key: str, path: list[str | int]) -> FieldDef | None:
        fd = db.field(key, self.opt.resolve_names)
        if fd is None:
            self.suggestions += 1  # bounded: each suggestion searches the whole catalog
            hint = db.suggest(key) if self.suggestions <= Suggester.MAX_SUGGESTIONS else ""
            self.c.error("unknown-field", f"database {db.name!r} has no field {key!r}" + hint, self.loc(path))
        return fd

    def conjunction(self, obj: dict[str, Any], path: list[str | int]) -> str:
        conj = obj.get("conjunction")
        if conj is None:
            return "and"
        if conj not in ("and", "or"):
            self.c.error(
                "bad-conjunction",
                f'conjunction must be "and" or "or", not {_short(conj)}',
                self.loc([*path, "conjunction"]),
            )
            return "and"
        return conj

    # -------------------------------------------------------------- filter object
    def filter_object(self, obj: Any, db: Database | None, path: list[str | int]) -> A.Node:
        if not isinstance(obj, dict):
            self.c.error("wrong-type", f"a filter is an object, not {_kind(obj)}", self.loc(path))
            return A.FALSE
        self.check_keys(obj, ("fields", "conjunction"), path)
        conj = self.conjunction(obj, path)
        fields = obj.get("fields")
        if fields is None:
            return A.and_()
        if not isinstance(fields, dict):
            self.c.error(
                "wrong-type",
                f"filter fields is an object keyed by field id, not {_kind(fields)}",
                self.loc([*path, "fields"]),
            )
            return A.FALSE
        if fields and db is None:
            self.c.error(
                "missing-schema",
                "a filter on fields needs a schema (--schema/catalog) and a database",
                self.loc([*path, "fields"]),
            )
            return A.FALSE
        assert db is not None or not fields
        items = [self.entry(db, k, v, [*path, "fields", k], 1) for k, v in fields.items()]  # type: ignore[arg-type]
        return self.combine([i for i in items if i is not None], conj)

    def combine(self, items: list[A.Node], conj: str) -> A.Node:
        if not items:
            return A.and_()
        return A.and_(*items) if conj == "and" else A.or_(*items)

    def entry(self, db: Database, key: str, obj: Any, path: list[str | int], level: int) -> A.Node | None:
        fd = self.lookup(db, key, path)
        if not isinstance(obj, dict):
            self.c.error("wrong-type", f"a field entry is an object, not {_kind(obj)}", self.loc(path))
            return None
        if level > self.opt.limits.max_depth:
            self.c.error(
                "too-deep", f"relational nesting deeper than {self.opt.limits.max_depth}", self.loc(path)
            )
            return None
        self.check_keys(obj, ("filters", "fields", "conjunction", "include"), path)
        conj = self.conjunction(obj, path)
        if fd is None:
            return None
        errors_before = len(self.c.items)
        field = A.Field(fd.id, fd.type)
        items: list[A.Node] = []
        filters = obj.get("filters")
        if filters is not None:
            if not isinstance(filters, list):
                self.c.error(
                    "wrong-type", f"filters is a list, not {_kind(filters)}", self.loc([*path, "filters"])
                )
            elif filters and fd.type in REF_TYPES:
                self.c.error(
                    "filters-on-ref",
                    f"field {fd.name!r} is a {fd.type.value}: filter it through nested "
                    "'fields' of the referenced database, or 'include'",
                    self.loc([*path, "filters"]),
                )
            else:
                for i, flt in enumerate(filters):
                    node = self.one_filter(fd, field, flt, [*path, "filters", i])
                    if node is not None:
                        items.append(node)
        nested = obj.get("fields")
        if nested is not None:
            npath = [*path, "fields"]
            if not isinstance(nested, dict):
                self.c.error(
                    "wrong-type", f"nested fields is an object, not {_kind(nested)}", self.loc(npath)
                )
            elif nested and fd.type not in REF_TYPES:
                self.c.error(
                    "fields-on-non-ref",
                    f"field {fd.name!r} is a {fd.type.value}; only ref and "
                    "refMultiple fields take nested fields",
                    self.loc(npath),
                )
            elif nested:
                target = self.catalog.get(fd.database) if self.catalog and fd.database else None
                if target is None:
                    self.c.error(
                        "unknown-database",
                        f"field {fd.name!r} references an unknown database",
                        self.loc(npath),
                    )
                else:
                    subs = [self.entry(target, k, v, [*npath, k], level + 1) for k, v in nested.items()]
                    kept = [s for s in subs if s is not None]
                    if kept:
                        items.append(A.Relation(field, target.id, self.combine(kept, conj)))
        flags = self.include(obj.get("include"), field, [*path, "include"])
        if not items and not flags:
            if not any(d.is_error for d in self.c.items[errors_before:]):  # not noise after a real error
                self.c.warn(
                    "empty-entry",
                    f"entry for field {fd.name!r} has no filters and no include flag "
                    "set; it imposes no constraint and is ignored",
                    self.loc(path),
                )
            return None
        pred = self.combine(items, conj) if items else None
        return A.or_(pred, *flags) if pred is not None else A.or_(*flags)

    def include(self, inc: Any, field: A.Field, path: list[str | int]) -> list[A.Node]:
        if inc is None:
            return []
        if not isinstance(inc, dict):
            self.c.error("wrong-type", f"include is an object of booleans, not {_kind(inc)}", self.loc(path))
            return []
        self.check_keys(inc, tuple(EMPTINESS), path)
        out: list[A.Node] = []
        for name, state in EMPTINESS.items():
            flag = inc.get(name)
            if flag is None:
                continue
            if type(flag) is not bool:
                self.c.error(
                    "wrong-type",
                    f"include {name} is true or false, not {_short(flag)}",
                    self.loc([*path, name]),
                )
            elif flag:
                out.append(A.FieldState(field, state))
        return out

    def one_filter(self, fd: FieldDef, field: A.Field, flt: Any, path: list[str | int]) -> A.Node | None:
        if not isinstance(flt, dict):
            self.c.error(
                "wrong-type", f"a filter is an object {{by, value}}, not {_kind(flt)}", self.loc(path)
            )
            return None
        self.check_keys(flt, ("by", "value"), path)
        by = flt.get("by")
        if not isinstance(by, str):
            self.c.error(
                "missing-operator" if by is None else "wrong-type",
                "a filter needs 'by', the operator name",
                self.loc([*path, "by"]),
            )
            return None
        if by in EMPTINESS:
            if fd.type in REF_TYPES:
                self.c.error(
                    "operator-not-allowed",
                    f"{by!r} is not allowed on {fd.type.value} field {fd.name!r}; "
                    "use 'include' for its emptiness",
                    self.loc([*path, "by"]),
                )
                return None
            if "value" in flt:
                self.c.error("unexpected-value", f"{by!r} takes no value", self.loc([*path, "value"]))
                return None
            return A.FieldState(field, EMPTINESS[by])
        ops = OPERATORS[fd.type]
        if by not in ops:
            if by in ALL_OPERATORS:
                allowed = allowed_operators(fd.type)
                self.c.error(
                    "operator-not-allowed",
                    f"{by!r} is not allowed on {fd.type.value} field {fd.name!r}; "
                    f"allowed: {', '.join(allowed) or 'none (use nested fields or include)'}",
                    self.loc([*path, "by"]),
                )
            else:
                self.c.error(
                    "unknown-operator",
                    f"unknown operator {by!r}" + did_you_mean(by, ALL_OPERATORS),
                    self.loc([*path, "by"]),
                )
            return None
        op, negated = ops[by]
        if "value" not in flt or flt["value"] is None:
            self.c.error(
                "missing-value",
                f"{by!r} needs a value",
                self.loc([*path, "value"] if "value" in flt else path),
            )
            return None
        value = self.value(fd, op, flt["value"], [*path, "value"])
        if value is None:
            return None
        node = A.Compare(field, op, value)
        return A.not_(node) if negated else node

    def value(self, fd: FieldDef, op: A.Op, v: Any, path: list[str | int]) -> Any:
        t = fd.type
        if t in (T.STRING, T.TEXT_BLOCK, T.ATTACHMENT) or (t is T.ENUM and op is A.Op.EQ):
            if not isinstance(v, str):
                self.c.error(
                    "wrong-type", f"{fd.name!r} takes a string value, not {_kind(v)}", self.loc(path)
                )
                return None
            if t is T.ENUM and fd.restrict is not None and v not in fd.restrict:
                self.c.error(
                    "value-not-allowed",
                    f"{v!r} is not one of {fd.name!r}'s values: {', '.join(fd.restrict)}"
                    + did_you_mean(v, fd.restrict),
                    self.loc(path),
                )
                return None
            return v
        if t in (T.NUMBER, T.CURRENCY):
            if t is T.CURRENCY and isinstance(v, dict):
                self.check_keys(v, ("val", "currency"), path)
                amount, code = v.get("val"), v.get("currency")
                if code is not None and not isinstance(code, str):
                    self.c.error(
                        "wrong-type", 'currency code is a string such as "USD"', self.loc([*path, "currency"])
                    )
                    return None
                num = self.number(amount, [*path, "val"])
                return None if num is None else A.Money(num, code)
            num = self.number(v, path)
            return None if num is None else (A.Money(num) if t is T.CURRENCY else num)
        if t is T.BOOLEAN:
            if type(v) is not bool:
                self.c.error(
                    "wrong-type", f"{fd.name!r} takes true or false, not {_short(v)}", self.loc(path)
                )
                return None
            return v
        if t is T.DATE:
            return self.day(v, path)
        if t in (T.ENUM, T.ENUM_TAGS):  # list operators
            if not isinstance(v, list) or not v:
                self.c.error(
                    "wrong-type" if not isinstance(v, list) else "empty-list",
                    f"this operator takes a non-empty list of strings, not {_short(v)}",
                    self.loc(path),
                )
                return None
            if len(v) > self.opt.limits.max_list:
                self.c.error(
                    "too-large", f"list of {len(v)} values exceeds {self.opt.limits.max_list}", self.loc(path)
                )
                return None
            ok = True
            for i, e in enumerate(v):
                if not isinstance(e, str):
                    self.c.error(
                        "wrong-type", f"list values are strings, not {_kind(e)}", self.loc([*path, i])
                    )
                    ok = False
                elif fd.restrict is not None and e not in fd.restrict:
                    self.c.error(
                        "value-not-allowed",
                        f"{e!r} is not one of {fd.name!r}'s values: "
                        f"{', '.join(fd.restrict)}" + did_you_mean(e, fd.restrict),
                        self.loc([*path, i]),
                    )
                    ok = False
            return tuple(v) if ok else None
        return None  # ref types have no operators

    def number(self, v: Any, path: list[str | int]) -> int | float | None:
        if not _is_number(v):
            self.c.error("wrong-type", f"expected a number, not {_short(v)}", self.loc(path))
            return None
        if (type(v) is int and abs(v) > MAX_SAFE_INT) or (type(v) is float and not math.isfinite(v)):
            self.c.error(
                "number-out-of-range",
                "numbers must be integers within ±2^53 or finite floats",
                self.loc(path),
            )
            return None
        return v

    def day(self, v: Any, path: list[str | int]) -> str | None:
        if isinstance(v, str):
            if valid_day(v):
                return v
            try:
                return parse_ts(v).date().isoformat()
            except ValueError:
                pass
        self.c.error(
            "bad-value",
            f'expected a date "YYYY-MM-DD" or an ISO-8601 timestamp, not {_short(v)}',
            self.loc(path),
        )
        return None

    # -------------------------------------------------------------- variables object
    def variables(self, obj: dict[str, Any], db: Database | None, db_id: str | None) -> A.Query:
        self.check_keys(obj, VARIABLES, [])
        given_db = obj.get("databaseId")
        if given_db is not None:
            if not isinstance(given_db, str):
                self.c.error("wrong-type", "databaseId is a string", self.loc(["databaseId"]))
            elif db_id is not None and given_db != db_id:
                self.c.error(
                    "database-mismatch",
                    f"databaseId {given_db!r} is not the queried database {db_id!r}",
                    self.loc(["databaseId"]),
                )
            elif db_id is None:
                db_id = given_db
                if self.catalog is not None:
                    db = self.catalog.get(given_db)
                    if db is None:
                        self.c.error(
                            "unknown-database",
                            f"no database {given_db!r} in the catalog"
                            + did_you_mean(given_db, [d.id for d in self.catalog]),
                            self.loc(["databaseId"]),
                        )
        parts: list[A.Node] = []
        if obj.get("filter") is not None:
            parts.append(self.filter_object(obj["filter"], db, ["filter"]))
        if obj.get("search") is not None:
            parts.append(self.search(obj["search"], db))
        if obj.get("in") is not None:
            ids = obj["in"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                self.c.error("wrong-type", "in is a list of row id strings", self.loc(["in"]))
            elif len(ids) > self.opt.limits.max_list:
                self.c.error(
                    "too-large", f"in lists at most {self.opt.limits.max_list} ids", self.loc(["in"])
                )
            else:
                parts.append(A.IdIn(tuple(ids)))
        if obj.get("modifiedSince") is not None:
            ms = obj["modifiedSince"]
            try:
                if not isinstance(ms, str):
                    raise ValueError
                parts.append(A.ModifiedSince(canonical_ts(ms)))
            except ValueError:
                self.c.error(
                    "bad-value",
                    f"modifiedSince is an ISO-8601 UTC timestamp, not {_short(ms)}",
                    self.loc(["modifiedSince"]),
                )
        removed = obj.get("removedAt")
        if removed is not None and type(removed) is not bool:
            self.c.error("wrong-type", "removedAt is true or false", self.loc(["removedAt"]))
        parts.append(A.InTrash() if removed is True else A.Not(A.InTrash()))
        query = A.Query(
            predicate=A.and_(*parts),
            sort=self.sort(obj.get("sort"), db),
            skip=self.nonneg(obj.get("skip"), "skip", 0, self.opt.limits.max_skip),
            limit=self.limit(obj.get("limit")),
            fields=self.projection(obj.get("fields"), db),
            database=db_id,
        )
        if obj.get("after") is not None:  # [filterdsl] keyset pagination: the next-page token
            from filterdsl.cursor import with_after

            try:
                query = with_after(query, obj["after"], self.opt.cursor_secret, self.loc(["after"]))
            except FilterError as e:
                for d in e.diagnostics:
                    self.c.error(d.code, d.message, d.location)
        return query

    def search(self, text: Any, db: Database | None) -> A.Node:
        if not isinstance(text, str):
            self.c.error("wrong-type", f"search is a string, not {_kind(text)}", self.loc(["search"]))
            return A.FALSE
        from filterdsl.frontends.search import parse_search  # the search-string frontend owns that grammar

        res = parse_search(text, Context(self.catalog, db.id if db else None, self.opt))
        for d in res.diagnostics:
            self.c.items.append(
                Diagnostic(
                    d.code,
                    d.message,
                    Location(
                        pointer="/search",
                        line=d.location.line,
                        column=d.location.column,
                        offset=d.location.offset,
                    ),
                    d.severity,
                )
            )
        if res.query is None:
            return A.FALSE
        found = [n for n in A.walk(res.query.predicate) if isinstance(n, A.Search)]
        return found[0] if found else A.and_()

    def nonneg(self, v: Any, name: str, default: int, maximum: int | None = None) -> int:
        if v is None:
            return default
        if not _is_int(v) or v < 0:
            self.c.error("bad-value", f"{name} is an integer >= 0, not {_short(v)}", self.loc([name]))
            return default
        if maximum is not None and v > maximum:  # past every engine's integer range (SQLite: int64)
            self.c.error("bad-value", f"{name} is at most {maximum}, not {_short(v)}", self.loc([name]))
            return default
        return v

    def limit(self, v: Any) -> int:
        mx = self.opt.limits.max_limit
        n = self.nonneg(v, "limit", mx if mx < 100 else 100)
        if n > mx:
            self.c.error("limit-too-large", f"limit {n} exceeds the maximum {mx}", self.loc(["limit"]))
        return n

    def sort(self, v: Any, db: Database | None) -> tuple[A.SortKey, ...]:
        if v is None:
            return ()
        if not isinstance(v, dict):
            self.c.error("wrong-type", "sort is an object {fieldId: 1 | -1}", self.loc(["sort"]))
            return ()
        if v and db is None:
            self.c.error(
                "missing-schema", "sorting on fields needs a schema and a database", self.loc(["sort"])
            )
            return ()
        if len(v) > self.opt.limits.max_sort_keys:
            self.c.error(
                "too-large", f"sort takes at most {self.opt.limits.max_sort_keys} keys", self.loc(["sort"])
            )
            return ()
        keys = []
        for k, d in v.items():
            assert db is not None
            fd = self.lookup(db, k, ["sort", k])
            if type(d) is not int or d not in (1, -1):
                self.c.error(
                    "bad-value", f"sort direction is 1 or -1, not {_short(d)}", self.loc(["sort", k])
                )
                continue
            if fd is None:
                continue
            if fd.type in NOT_SORTABLE:
                self.c.error(
                    "sort-not-allowed",
                    f"cannot sort on {fd.type.value} field {fd.name!r}",
                    self.loc(["sort", k]),
                )
                continue
            keys.append(A.SortKey(A.Field(fd.id, fd.type), d == -1))
        return tuple(keys)

    def projection(self, v: Any, db: Database | None) -> tuple[str, ...] | None:
        if v is None:
            return None
        if isinstance(v, dict):
            self.c.error(
                "wrong-type",
                "in a variables object, fields is the projection (a list of field ids); "
                'this object looks like a filter: put it under "filter", or fix the unknown key next to '
                "it so the input reads as a bare filter object",
                self.loc(["fields"]),
            )
            return None
        if not isinstance(v, list) or not all(isinstance(k, str) for k in v):
            self.c.error("wrong-type", "fields is a list of field ids", self.loc(["fields"]))
            return None
        if db is None:
            return tuple(v)
        out = []
        for i, k in enumerate(v):
            fd = self.lookup(db, k, ["fields", i])
            if fd is not None:
                out.append(fd.id)
        return tuple(out)


def _kind(v: Any) -> str:
    return {
        dict: "an object",
        list: "a list",
        str: "a string",
        bool: "a boolean",
        type(None): "null",
        int: "a number",
        float: "a number",
    }.get(type(v), type(v).__name__)


def _short(v: Any) -> str:
    try:
        text = json.dumps(v, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = _kind(v)
    return text if len(text) <= 40 else text[:37] + "..."


_SURROGATE = re.compile("[\ud800-\udfff]")


def _escape_one(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def raw_problem(obj: Any, limits: Any) -> Diagnostic | None:
    """One iterative pass over raw JSON (or Python objects) before the walk: depth, number of values,
    keys that are not strings, and strings holding lone surrogates (no engine can store or bind them).

    Only containers are pushed, level by level, with their paths (scalars are most of a filter).
    """
    depth_limit = 4 * limits.max_depth + 8
    budget = limits.max_json_values
    level: list[tuple[Any, list[str | int]]] = [(obj, [])]
    if isinstance(obj, str) and _SURROGATE.search(obj):
        return Diagnostic(
            "invalid-encoding", "text holds a lone surrogate (not valid Unicode)", Location(pointer="")
        )
    d = 1  # depth of the containers in ``level``; their members sit at d + 1
    while level:
        nxt: list[tuple[Any, list[str | int]]] = []
        for o, path in level:
            if isinstance(o, dict):
                items: Any = o.items()
            elif isinstance(o, list):
                items = enumerate(o)
            else:
                continue
            if o and d >= depth_limit:
                return Diagnostic(
                    "too-deep",
                    f"input nested deeper than the limit ({limits.max_depth} filter levels)",
                    Location(pointer=""),
                )
            budget -= len(o)
            if budget < 0:
                return Diagnostic(
                    "too-large",
                    f"input holds more than {limits.max_json_values} values",
                    Location(pointer=""),
                )
            for k, v in items:
                if isinstance(o, dict):
                    if not isinstance(k, str):
                        return Diagnostic(
                            "wrong-type",
                            f"object keys are strings, not {_kind(k)} ({_short(k)})",
                            Location(pointer=pointer(path)),
                        )
                    if _SURROGATE.search(k):  # the pointer shows it escaped: a location must encode
                        return Diagnostic(
                            "invalid-encoding",
                            "key holds a lone surrogate (not valid Unicode)",
                            Location(pointer=_SURROGATE.sub(_escape_one, pointer([*path, k]))),
                        )
                if isinstance(v, (dict, list)):
                    nxt.append((v, [*path, k]))
                elif isinstance(v, str) and _SURROGATE.search(v):
                    return Diagnostic(
                        "invalid-encoding",
                        "string holds a lone surrogate (not valid Unicode)",
                        Location(pointer=pointer([*path, k])),
                    )
        level = nxt
        d += 1
    return None


def _no_constants(name: str) -> Any:
    """NaN and Infinity are not JSON (Python's json accepts them): let the located parser reject them."""
    raise ValueError(f"{name} is not JSON")


def is_bare_filter(obj: Any) -> bool:
    """SPEC 8: keys within {fields, conjunction} and ``fields`` an object."""
    return (
        isinstance(obj, dict)
        and set(obj) <= {"fields", "conjunction"}
        and isinstance(obj.get("fields"), dict)
    )


def parse_pitchly(source: Any, ctx: Context) -> ParseResult:
    """A bare filter object or a whole variables object (dict or JSON text) -> Query + diagnostics."""
    catalog, database, opt = ctx.catalog, ctx.database, ctx.options
    p = _Parser(catalog, opt)
    try:
        return _parse(p, source, catalog, database, opt)
    except FilterError as e:
        return ParseResult(None, tuple(p.c.items) + tuple(e.diagnostics))
    except RecursionError:
        p.c.error("too-deep", "input nested too deeply", Location(pointer=""))
        return ParseResult(None, tuple(p.c.items))


def _parse(
    p: _Parser, source: Any, catalog: Catalog | None, database: str | None, opt: ParseOptions
) -> ParseResult:
    lim = opt.limits
    if isinstance(source, (bytes, bytearray)):
        try:
            source = source.decode("utf-8")
        except UnicodeDecodeError:
            p.c.error("invalid-json", "input is not UTF-8", Location(pointer=""))
            return ParseResult(None, tuple(p.c.items))
    if isinstance(source, str):
        if len(source.encode("utf-8", "surrogatepass")) > lim.max_input_bytes:
            p.c.error("too-large", f"input exceeds {lim.max_input_bytes} bytes", Location(pointer=""))
            return ParseResult(None, tuple(p.c.items))
        text = source
        positions = None
        try:  # strict JSON first (fast); huge integers become floats, refused by the range checks
            source = json.loads(text, parse_constant=_no_constants, parse_int=relaxed_json.parse_int)
        except (ValueError, RecursionError):
            try:  # the relaxed object-literal syntax of the Pitchly docs (unquoted keys, comments, ...)
                source, positions = relaxed_json.loads(text, 4 * lim.max_depth + 8, lim.max_json_values)
            except FilterError as e:
                return ParseResult(None, tuple(e.diagnostics))
        result = _parse_object(p, source, catalog, database, opt)
        return _with_positions(result, text, positions, lim)
    return _parse_object(p, source, catalog, database, opt)


def _with_positions(
    result: ParseResult, text: str, positions: dict[str, relaxed_json.Position] | None, limits: Any
) -> ParseResult:
    """Add line:column to pointer-located diagnostics of a text input (the pointer alone when the text
    is too large to scan again within the value limit)."""
    if not any(d.location.pointer is not None and d.location.line is None for d in result.diagnostics):
        return result
    if positions is None:
        want = {
            d.location.pointer for d in result.diagnostics if d.location.pointer and d.location.line is None
        }
        try:  # read only as far as the last pointer to locate
            positions = relaxed_json.positions_of(text, want, limits.max_json_values) if want else {}
        except FilterError:
            positions = {}
        positions.setdefault("", (1, 1, 0))
    out = []
    for d in result.diagnostics:
        loc = d.location
        pos = (
            relaxed_json.locate(loc.pointer, positions)
            if loc.pointer is not None and loc.line is None
            else None
        )
        if pos is not None:
            loc = Location(pointer=loc.pointer, line=pos[0], column=pos[1], offset=pos[2])
        out.append(Diagnostic(d.code, d.message, loc, d.severity))
    return ParseResult(result.query, tuple(out))


def _parse_object(
    p: _Parser, source: Any, catalog: Catalog | None, database: str | None, opt: ParseOptions
) -> ParseResult:
    lim = opt.limits
    problem = raw_problem(source, lim)
    if problem is not None:
        p.c.items.append(problem)
        return ParseResult(None, tuple(p.c.items))
    if not isinstance(source, dict):
        p.c.error(
            "wrong-type",
            f"expected a filter object or a variables object, not {_kind(source)}",
            Location(pointer=""),
        )
        return ParseResult(None, tuple(p.c.items))
    db: Database | None = None
    if database is not None and catalog is not None:
        db = catalog.get(database)
        if db is None:
            p.c.error(
                "unknown-database",
                f"no database {database!r} in the catalog" + did_you_mean(database, [d.id for d in catalog]),
                Location(pointer=""),
            )
            return ParseResult(None, tuple(p.c.items))
    if is_bare_filter(source):
        query = A.Query(
            A.and_(p.filter_object(source, db, []), A.Not(A.InTrash())),
            limit=min(100, lim.max_limit),
            database=database,
        )
    else:
        query = p.variables(source, db, database)
    if not p.c.has_errors:
        n, deep = A.size_and_depth(query.predicate)
        if n > lim.max_nodes:
            p.c.error(
                "too-large", f"filter has {n} nodes; the limit is {lim.max_nodes}", Location(pointer="")
            )
        elif deep > lim.max_depth + 4:
            p.c.error("too-deep", f"filter nested deeper than {lim.max_depth}", Location(pointer=""))
    return ParseResult(None if p.c.has_errors else query, tuple(p.c.items))
