"""What a query may cost the SQL compiler, checked on the AST before any SQL is built (issue 26, H5).

Compiling is linear in the SQL it writes, but sqlglot builds and prints every node in Python: a
condition costs 30-60 us (SQLite, PostgreSQL, DuckDB) to 100 us (MySQL, whose JSON reads are longest)
on one core, and two to ten times more on dialects whose output is parsed back (``VERIFIED`` in
``filterdsl.backends.sql``). The parse limits (10,000 nodes, 100 search terms, any number of catalog
fields a search covers) allow inputs that took 1-5 s cold, and a search over a 20,000-field catalog
writes 20,000 conditions per term. So the SQL backend counts the conditions a query will write and
refuses (``too-large``) past ``MAX_SQL_CONDITIONS`` (``MAX_UNVERIFIED_CONDITIONS`` for the dialects
whose output is parsed back), in time linear in the AST, before any tree is built. The memory and
Mongo backends keep the parse limits (they answer 10,000 conditions well under a second).
"""

from __future__ import annotations

from filterdsl import ast as A
from filterdsl.errors import Diagnostic, FilterError, Location

#: conditions one SQL statement may hold (SQLite, PostgreSQL, DuckDB, MySQL; see HEAVY_TEXT)
MAX_SQL_CONDITIONS = 3_000
#: the same for dialects whose output is parsed back by sqlglot (ClickHouse, Spark, ...): ~1 ms each
MAX_UNVERIFIED_CONDITIONS = 300
#: a sort key on a JSON field writes a rank CASE over the JSON kinds and three value columns
SORT_KEY_CONDITIONS = 8
#: values of IN lists and id lists are a few nodes each, not a whole condition
LIST_VALUES_PER_CONDITION = 8
#: case-insensitive text tests (contains, starts/ends with, iexact) on dialects where one is about
#: twice an ordinary condition's SQL (MySQL/MariaDB read the JSON text through COALESCE, JSON_VALUE
#: and JSON_UNQUOTE, then LOWER, COLLATE and CAST: ~270 characters against ~120 on SQLite)
HEAVY_TEXT = {"mysql": 2}
_TEXT_OPS = (A.Op.CONTAINS, A.Op.STARTS_WITH, A.Op.ENDS_WITH, A.Op.IEQ)


def conditions(query: A.Query, stop: int | None = None, dialect: str = "") -> int:
    """The conditions ``query``'s SQL holds (an estimate linear in the SQL); stops early past ``stop``."""
    text_weight = HEAVY_TEXT.get(dialect, 1)
    total = SORT_KEY_CONDITIONS * sum(1 for k in query.sort if isinstance(k.key, A.Field))
    stack: list[A.Node] = [query.predicate]
    while stack:
        n = stack.pop()
        t = type(n)
        if t is A.And or t is A.Or:
            stack.extend(n.items)  # type: ignore[attr-defined]
            continue
        if t is A.Not or t is A.Relation:  # NOT adds a node or two; a relation its EXISTS
            total += t is A.Relation
            stack.append(n.children()[0])
            continue
        if t is A.Compare:
            v = n.value  # type: ignore[attr-defined]
            total += text_weight if n.op in _TEXT_OPS else 1  # type: ignore[attr-defined]
            if isinstance(v, tuple):
                total += len(v) // LIST_VALUES_PER_CONDITION
        elif t is A.Search:
            width = max(1, len(n.fields or ()))  # type: ignore[attr-defined]
            total += text_weight * width * sum(len(c) for c in n.clauses)  # type: ignore[attr-defined,misc]
        elif t is A.IdIn:
            total += 1 + len(n.ids) // LIST_VALUES_PER_CONDITION  # type: ignore[attr-defined]
        else:
            total += 1
        if stop is not None and total > stop:
            return total
    return total


def check(query: A.Query, dialect: str) -> None:
    """FilterError ``too-large`` when ``query`` would write more conditions than a statement may hold."""
    from filterdsl.backends.sql.dialects import family_class

    limit = MAX_SQL_CONDITIONS if family_class(dialect).VERIFIED else MAX_UNVERIFIED_CONDITIONS
    n = conditions(query, stop=limit, dialect=dialect)
    if n > limit:
        raise FilterError(
            [
                Diagnostic(
                    "too-large",
                    f"the filter compiles to more than {limit:,} SQL conditions for this dialect (a "
                    "search counts one per term and field searched, a sort key "
                    f"{SORT_KEY_CONDITIONS}); split it into several requests or search fewer fields",
                    Location(pointer=""),
                )
            ]
        )
