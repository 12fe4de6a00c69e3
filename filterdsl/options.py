"""Options shared by every frontend: limits (SPEC 6) and the strict/lenient switch."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from filterdsl import ast as A
from filterdsl.errors import Diagnostic, FilterError, Location


@dataclass(frozen=True)
class Limits:
    """Resource limits checked before any expensive work (errors ``too-deep`` / ``too-large``)."""

    max_depth: int = 32
    max_nodes: int = 10_000
    max_list: int = 10_000
    max_search_terms: int = 100
    max_input_bytes: int = 1 << 20
    max_json_values: int = 100_000  # values in a JSON input (a legitimate filter holds far fewer)
    max_sort_keys: int = 32  # sort / ordering keys of one query
    max_skip: int = 2**53  # skip / page offset: within every engine's integer range (int64, JS numbers)
    max_limit: int = 100  # Pitchly ``limit`` maximum (servers may allow more)
    max_page_size: int = 1000  # PixieBrix ``page_size`` maximum


@dataclass(frozen=True)
class ParseOptions:
    strict: bool = True  # unknown keys/params are errors (warnings when False)
    resolve_names: bool = False  # field keys may be field names
    limits: Limits = field(default_factory=Limits)
    quoted: bool = False  # search strings: "..." terms (SPEC 3)
    django_compat: bool = False  # PixieBrix: Django's lenient handling
    lookups: str = "strict"  # PixieBrix: "strict" | "extended"
    #: a key that signs and checks ``after`` cursor tokens (HMAC-SHA256); None: unsigned tokens
    cursor_secret: str | bytes | None = field(default=None, repr=False)

    @classmethod
    def from_kwargs(cls, **kw: Any) -> ParseOptions:
        """Options from keyword arguments, type-checked where they enter (FilterError, located at the
        argument's name), so a wrong type never surfaces later as an AttributeError or TypeError."""
        problems: list[Diagnostic] = []

        def bad(name: str, what: str, value: Any = None) -> None:
            problems.append(
                Diagnostic(
                    "wrong-type",
                    f"option {name} is {what}, not {_describe(kw.get(name, value))}",
                    Location(param=name),
                )
            )

        limits = kw.pop("limits", None)
        if limits is None:
            limits = Limits()
        elif not isinstance(limits, Limits):
            bad("limits", "a filterdsl.options.Limits", limits)  # popped: the message shows the value given
            limits = Limits()
        for name in ("max_limit", "max_page_size"):
            if name in kw:
                value = kw.pop(name)
                if type(value) is not int or value < 0:
                    kw[name] = value
                    bad(name, "an integer >= 0")
                    kw.pop(name)
                else:
                    limits = Limits(**{**limits.__dict__, name: value})
        for name in ("strict", "resolve_names", "quoted", "django_compat"):
            if name in kw and type(kw[name]) is not bool:
                bad(name, "true or false")
                kw.pop(name)
        if "cursor_secret" in kw and not (
            kw["cursor_secret"] is None or isinstance(kw["cursor_secret"], (str, bytes))
        ):
            problems.append(
                Diagnostic(
                    "wrong-type", "option cursor_secret is a string or bytes", Location(param="cursor_secret")
                )
            )
            kw.pop("cursor_secret")
        if "lookups" in kw and kw["lookups"] not in ("strict", "extended"):
            bad("lookups", '"strict" or "extended"')
            kw.pop("lookups")
        for name in sorted(set(kw) - {f for f in cls.__dataclass_fields__}):
            problems.append(Diagnostic("unknown-key", f"unknown parse option {name!r}", Location(param=name)))
            kw.pop(name)
        if problems:
            raise FilterError(problems)
        return cls(limits=limits, **kw)


def _describe(value: Any) -> str:
    text = repr(value)
    return type(value).__name__ + (f" {text}" if len(text) <= 30 else "")


def check_limits(query: A.Query, limits: Limits, where: Location | None = None) -> list[Diagnostic]:
    """Limits on an AST that did not come through a frontend's own checks (e.g. the AST JSON form).

    Counting is iterative and stops early, so a huge or deep AST costs at most ``max_nodes`` steps.
    """
    loc = where or Location(pointer="")
    if len(query.sort) > limits.max_sort_keys:
        return [Diagnostic("too-large", f"sort takes at most {limits.max_sort_keys} keys", loc)]
    for name, value in (("skip", query.skip), ("limit", query.limit)):
        if value is not None and not 0 <= value <= limits.max_skip:
            return [Diagnostic("bad-value", f"{name} is between 0 and {limits.max_skip}", loc)]
    if query.after is not None:
        from filterdsl.semantics.cursor import cursor_problem

        problem = cursor_problem(query)
        if problem is not None:
            return [Diagnostic("bad-cursor", problem[1], where or Location(pointer=problem[0]))]
    n = 0
    for _ in A.walk(query.predicate):
        n += 1
        if n > limits.max_nodes:
            return [Diagnostic("too-large", f"filter has more than {limits.max_nodes} nodes", loc)]
    if query_path_cost(query) > MAX_INDEX_PATH_COST:
        return [
            Diagnostic(
                "too-large",
                "JSON paths with too many numeric (array index) segments, or segments "
                "holding quotes, backslashes or control characters: each one multiplies the SQL for "
                "its path; use fewer, or shorter paths",
                loc,
            )
        ]
    for node in A.walk(query.predicate):
        if isinstance(node, A.IdIn) and len(node.ids) > limits.max_list:
            return [Diagnostic("too-large", f"id lists hold at most {limits.max_list} ids", loc)]
        if isinstance(node, A.Compare):
            problem = compare_problem(node)
            if problem is not None:
                at = where or Location(pointer=A.node_pointer(query, node))
                return [Diagnostic(problem[0], problem[1], at)]
    if A.depth(query.predicate) > max_ast_depth(limits):
        return [Diagnostic("too-deep", f"filter nested deeper than {max_ast_depth(limits)} AST levels", loc)]
    return []


_TEXT_OPS = (A.Op.CONTAINS, A.Op.STARTS_WITH, A.Op.ENDS_WITH, A.Op.IEQ)
_ORDER_OPS = (A.Op.GT, A.Op.GTE, A.Op.LT, A.Op.LTE)
_LIST_OPS = (A.Op.IN, A.Op.HAS_ANY, A.Op.HAS_ALL, A.Op.HAS_EXACTLY)


def _number(v: Any) -> bool:
    return type(v) in (int, float)


def compare_problem(node: A.Compare) -> tuple[str, str] | None:
    """(code, why) when a comparison's operator or value cannot go with its field type, else None.

    The Pitchly and PixieBrix frontends only build well-typed comparisons; the text form and the AST
    JSON form can spell any, so this check is where those enter (a backend would otherwise fail on,
    e.g., ``starts with 0``).
    """
    v, op, t = node.value, node.op, node.field.type
    if (
        op in _TEXT_OPS + (A.Op.IN,) and t in (A.FieldType.NUMBER, A.FieldType.DATE, A.FieldType.CURRENCY)
    ) or ((t is A.FieldType.ENUM_TAGS) != (op in _LIST_OPS[1:])):  # has-any/all/exactly: enumTags only
        return "operator-not-allowed", f"{op.value} is not an operator for a {t.value} field"
    why = _value_problem(v, op, t)
    return None if why is None else ("wrong-type", why)


def _value_problem(v: Any, op: A.Op, t: A.FieldType) -> str | None:
    if op in _TEXT_OPS and not isinstance(v, str):
        return f"{op.value} takes a string, not {type(v).__name__}"
    if op in _LIST_OPS:
        if not isinstance(v, tuple) or not v:
            return f"{op.value} takes a non-empty list"
        if op is not A.Op.IN and not all(isinstance(x, str) for x in v):
            return f"{op.value} takes a list of strings"
        if not all(isinstance(x, (str, int, float, bool)) for x in v):
            return f"{op.value} takes a list of strings, numbers or booleans"
    if op in _ORDER_OPS:
        if t is A.FieldType.DATE and not isinstance(v, str):
            return f"{op.value} on a date takes a day string, not {type(v).__name__}"
        if t is A.FieldType.NUMBER and not _number(v):
            return f"{op.value} on a number takes a number, not {type(v).__name__}"
        if t is A.FieldType.CURRENCY and not (_number(v) or isinstance(v, A.Money)):
            return f"{op.value} on a currency takes an amount, not {type(v).__name__}"
        if not (_number(v) or isinstance(v, (str, A.Money))):
            return f"{op.value} takes a number or a string, not {type(v).__name__}"
    return None


#: What JSON paths may cost in SQL. A segment that may be an array index (``0``, ``12``) makes the
#: SQL backends' path expression three times longer; on SQLite, one holding ``"``, a backslash or a
#: control character (no quoted JSON path can name it) four times (nine index-like segments gave
#: 290 KB of SQL and 3 s of compile; twelve a parser stack overflow in SQLite; fifteen hundreds of
#: MB). A path costs the product of its segments' factors minus one; a query may spend this much.
MAX_INDEX_PATH_COST = 3**7
_UNQUOTABLE = re.compile('["\\\\\x00-\x1f]')


def _index_like(seg: str) -> bool:
    return seg == "0" or (seg[:1] in "123456789" and seg.isdigit() and seg.isascii())


def path_cost(field: Any) -> int:
    """The cost of one field's path (0 for plain keys); see MAX_INDEX_PATH_COST."""
    cost = 1
    for seg in (field.key, *field.path):
        if isinstance(seg, str):
            cost *= 3 if _index_like(seg) else 4 if _UNQUOTABLE.search(seg) else 1
            if cost > MAX_INDEX_PATH_COST:
                break
    return cost - 1


def query_path_cost(query: A.Query) -> int:
    total = sum(path_cost(k.key) for k in query.sort if isinstance(k.key, A.Field))
    for node in A.walk(query.predicate):
        if isinstance(node, (A.Compare, A.FieldState, A.Relation)):
            total += path_cost(node.field)
    return total


def max_ast_depth(limits: Limits) -> int:
    """AST levels a filter of ``max_depth`` nesting levels may need (each level adds and/or/not/relation)."""
    return 3 * limits.max_depth + 8
