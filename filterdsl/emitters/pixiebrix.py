"""AST -> PixieBrix query params: an AND of JSON-string equalities and presence tests, dates, paging.

OR, NOT (other than ``__isnull=false``) and typed operators have no query-param spelling: those raise
``not-expressible`` naming the node.
"""

from __future__ import annotations

from urllib.parse import quote

from filterdsl import ast as A
from filterdsl.emitters import not_expressible
from filterdsl.semantics.days import next_day


def _name(segments: tuple[str, ...]) -> str:
    for s in segments:
        if s == "" or "__" in s or s.startswith("_") or s.endswith("_") or "=" in s:
            raise not_expressible("pixiebrix", segments, f"key {s!r} cannot be a data__ path segment")
    return "data__" + "__".join(segments)


def _q(text: str) -> str:
    return quote(text, safe="")


def to_pixiebrix(q: A.Query) -> str:
    parts = list(q.predicate.items) if isinstance(q.predicate, A.And) else [q.predicate]
    out: list[str] = []
    for p in parts:
        if p == A.Not(A.InTrash()):
            continue
        if (
            isinstance(p, A.Compare)
            and p.op is A.Op.EQ
            and p.field.type is A.FieldType.JSON
            and isinstance(p.value, str)
        ):
            out.append(f"{_q(_name(p.field.segments))}={_q(p.value)}")
        elif isinstance(p, A.FieldState) and p.state is A.State.NOT_SET:
            out.append(f"{_q(_name(p.field.segments))}__isnull=true")
        elif isinstance(p, A.Not) and isinstance(p.item, A.FieldState) and p.item.state is A.State.NOT_SET:
            out.append(f"{_q(_name(p.item.field.segments))}__isnull=false")
        elif isinstance(p, A.CreatedAt) and _day_bound(p.start) and _day_bound(p.end):
            if p.start:
                out.append("start_date=" + p.start[:10])
            if p.end:
                end = p.end[:10]
                prev = [d for d in (_prev_day(end),) if next_day(d) == end]
                out.append("end_date=" + prev[0])
        else:
            raise not_expressible("pixiebrix", p, _why(p))
    if A.Not(A.InTrash()) not in parts:
        raise not_expressible(
            "pixiebrix",
            q.predicate,
            "PixieBrix params always exclude trashed records; add `and not in trash` to the filter",
        )
    terms = []
    for sk in q.sort:
        if isinstance(sk.key, A.RecordAttr) and sk.key.name in ("created_at", "id"):
            key = sk.key.name
        elif not isinstance(sk.key, A.RecordAttr) and sk.key.type is A.FieldType.JSON:
            key = _name(sk.key.segments)
        else:
            raise not_expressible("pixiebrix", sk, "ordering takes created_at, id or data__ paths")
        terms.append(("-" if sk.descending else "") + _q(key))
    if terms:
        out.append("ordering=" + ",".join(terms))
    if q.fields is not None:
        raise not_expressible("pixiebrix", q, "PixieBrix params have no projection")
    size = q.limit if q.limit is not None else 1000
    if q.limit is None or size < 1 or q.skip % size:
        raise not_expressible(
            "pixiebrix", q, "paging is page/page_size: limit >= 1 and skip a multiple of it"
        )
    if size != 1000:
        out.append(f"page_size={size}")
    if q.skip:
        out.append(f"page={q.skip // size + 1}")
    if q.after is not None:  # the token is base64url: nothing to escape
        from filterdsl.cursor import encode

        out.append("after=" + encode(q.after))
    return "&".join(out)


def _day_bound(ts: str | None) -> bool:
    return ts is None or ts.endswith("T00:00:00.000000Z")


def _prev_day(day: str) -> str:
    import datetime as dt

    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


def _why(node: A.Node) -> str:
    if isinstance(node, A.Compare):
        return f"only exact JSON-string equality (data__key=value) exists, not {node.op.value} on {node.field.type.value}"
    return "PixieBrix params are an AND of data__ equalities, __isnull tests and a created_at day range (no OR/NOT)"
