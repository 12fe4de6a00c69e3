"""AST -> a Pitchly search string: only a Search (AND of ORs) with the default options around it."""

from __future__ import annotations

from filterdsl.ast import And, InTrash, Node, Not, Query, Search
from filterdsl.emitters import not_expressible


def to_search(q: Query) -> str:
    parts = list(q.predicate.items) if isinstance(q.predicate, And) else [q.predicate]
    searches = [p for p in parts if isinstance(p, Search)]
    others: list[Node] = [p for p in parts if not isinstance(p, Search) and p != Not(InTrash())]
    if others:
        raise not_expressible("search", others[0], "a search string holds only search terms")
    if Not(InTrash()) not in parts:
        raise not_expressible(
            "search",
            q.predicate,
            "a search string always excludes the trash; add `and not in trash` to the filter",
        )
    if q.sort or q.skip or q.limit not in (None, 100) or q.fields is not None:
        raise not_expressible("search", q, "a search string carries no sort, skip, limit or projection")
    clauses = [c for s in searches for c in s.clauses if c]
    for c in clauses:
        for t in c:
            if t != t.strip() or any(ch in t for ch in ",|") or not t:
                raise not_expressible(
                    "search",
                    searches[0],
                    f"term {t!r} has a separator or edge spaces (use the quoted mode's text form instead)",
                )
    return ", ".join("|".join(c) for c in clauses)
