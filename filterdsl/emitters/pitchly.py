"""AST -> a Pitchly ``data`` variables object (filter object plus query options).

A filter object is a conjunction over fields of a conjunction over one field's filters (plus
``include`` flags and nested relational entries). The emitter first pushes negations inward (De
Morgan; ``not is`` becomes ``is-not``...), then groups the top-level items by field, merging the
entries of one field. What still does not fit, such as ``(A and B) or (C and D)`` across fields, a
negation without a negative twin or a nested combination inside one entry, raises ``not-expressible``
naming the node.
"""

from __future__ import annotations

from typing import Any

from filterdsl import ast as A
from filterdsl.emitters import not_expressible
from filterdsl.schema import Catalog

T = A.FieldType
_REF = (T.REF, T.REF_MULTIPLE)
_STATE_BY = {A.State.EMPTY: "is-empty", A.State.NOT_SET: "is-not-set", A.State.HAS_VALUE: "has-any-value"}
_POS = {
    A.Op.EQ: "is",
    A.Op.CONTAINS: "contains",
    A.Op.STARTS_WITH: "starts-with",
    A.Op.ENDS_WITH: "ends-with",
    A.Op.IN: "is-any-of",
    A.Op.HAS_ANY: "has-any-of",
    A.Op.HAS_ALL: "has-all-of",
    A.Op.HAS_EXACTLY: "is-exactly",
}
_NUM_BY = {A.Op.GT: "is-more-than", A.Op.LT: "is-less-than", A.Op.GTE: "is-at-least", A.Op.LTE: "is-at-most"}
_DATE_BY = {
    A.Op.GT: "is-after",
    A.Op.LT: "is-before",
    A.Op.GTE: "is-on-or-after",
    A.Op.LTE: "is-on-or-before",
}
_NEG = {
    "is": "is-not",
    "contains": "does-not-contain",
    "is-any-of": "is-none-of",
    "has-any-of": "has-none-of",
}


def _flat(kind: type[A.And] | type[A.Or], items: Any) -> A.Node:
    """``kind(items)`` with nested nodes of the same kind spliced in (one level for Pitchly to group)."""
    out: list[A.Node] = []
    for i in items:
        out.extend(i.items if isinstance(i, kind) else (i,))
    return kind(tuple(out))


def _push_not(node: A.Node) -> A.Node:
    """Negation normal form as far as Pitchly can spell it (negative twins stay as Not(Compare)).

    ``not <state>`` becomes the OR of the two other states: NOT SET, EMPTY and HAS VALUE partition
    every field (SPEC 1), and Pitchly spells each state as an operator (or an include flag on refs).
    """
    if isinstance(node, A.Not):
        inner = node.item
        if isinstance(inner, A.Not):
            return _push_not(inner.item)
        if isinstance(inner, A.And):
            return _flat(A.Or, (_push_not(A.Not(i)) for i in inner.items))
        if isinstance(inner, A.Or):
            return _flat(A.And, (_push_not(A.Not(i)) for i in inner.items))
        if isinstance(inner, A.Const):
            return A.Const(not inner.value)
        if isinstance(inner, A.FieldState):
            return A.Or(tuple(A.FieldState(inner.field, s) for s in A.State if s is not inner.state))
        return node
    if isinstance(node, (A.And, A.Or)):
        return _flat(type(node), (_push_not(i) for i in node.items))
    if isinstance(node, A.Relation):
        return A.Relation(node.field, node.database, _push_not(node.predicate))
    return node


def _leaf_field(node: A.Node) -> A.Field | None:
    if isinstance(node, (A.Compare, A.FieldState, A.Relation)):
        return node.field
    if isinstance(node, A.Not) and isinstance(node.item, (A.Compare, A.FieldState)):
        return node.item.field
    return None


def _field_of(node: A.Node) -> A.Field | None:
    """The one field a node is about (leaves, or a combination of leaves of one field)."""
    f = _leaf_field(node)
    if f is not None:
        return f
    if isinstance(node, (A.And, A.Or)) and node.items:
        fields = {_leaf_field(i) for i in node.items}
        if len(fields) == 1 and None not in fields:
            return fields.pop()
    return None


class _Emitter:
    def __init__(self, catalog: Catalog | None, keys: str):
        self.catalog = catalog
        self.keys = keys

    def key(self, f: A.Field, database: str | None) -> str:
        if f.path or f.type is T.JSON:
            raise not_expressible(
                "pitchly", f, "Pitchly filters name typed schema fields, not schemaless data paths"
            )
        if self.keys == "names" and self.catalog is not None and database is not None:
            db = self.catalog.get(database)
            fd = db.field(f.key) if db is not None else None
            if fd is not None:
                return fd.name
        return f.key

    def value(self, f: A.Field, v: Any) -> Any:
        if isinstance(v, A.Money):
            return {"val": v.amount, "currency": v.currency} if v.currency is not None else v.amount
        if isinstance(v, tuple):
            return list(v)
        return v

    def filter_of(self, node: A.Node) -> dict[str, Any]:
        neg = isinstance(node, A.Not)
        leaf = node.item if isinstance(node, A.Not) else node
        if isinstance(leaf, A.FieldState):
            if neg:
                raise not_expressible("pitchly", node, "a negated emptiness test has no operator")
            return {"by": _STATE_BY[leaf.state]}
        assert isinstance(leaf, A.Compare)
        t, op = leaf.field.type, leaf.op
        if op in _NUM_BY:
            if t is T.DATE:
                by = _DATE_BY[op]
            elif t in (T.NUMBER, T.CURRENCY):
                by = _NUM_BY[op]
            else:
                raise not_expressible("pitchly", node, f"{op.value} on a {t.value} field")
        elif op in _POS:
            by = _POS[op]
        else:
            raise not_expressible("pitchly", node, f"operator {op.value} has no Pitchly spelling")
        if neg:
            if by not in _NEG:
                raise not_expressible("pitchly", node, f"not {by!r} has no negative twin operator")
            by = _NEG[by]
        return {"by": by, "value": self.value(leaf.field, leaf.value)}

    def entry(self, items: list[A.Node], conj: str, database: str | None) -> dict[str, Any]:
        """One field's entry: filters (and nested fields for refs) combined by ``conj``, plus include flags."""
        filters: list[dict[str, Any]] = []
        nested: dict[str, Any] | None = None
        flags: dict[str, bool] = {}
        for it in items:
            if isinstance(it, A.Relation):
                if nested is not None:
                    raise not_expressible("pitchly", it, "one entry holds one relational sub-filter")
                nested = self.fields_of(it.predicate, it.database)
            elif isinstance(it, A.FieldState) and it.field.type in _REF:
                flags[_STATE_BY[it.state]] = True
            elif isinstance(it, (A.Compare, A.FieldState, A.Not)):
                filters.append(self.filter_of(it))
            else:
                raise not_expressible("pitchly", it, "a field entry combines its filters at one level only")
        out: dict[str, Any] = {}
        if flags and (conj == "and" and (filters or nested)):
            raise not_expressible(
                "pitchly",
                items[0],
                "include flags are OR'ed with the entry; they cannot be AND'ed with its filters",
            )
        if filters:
            out["filters"] = filters
        if nested is not None:
            out["fields"] = nested["fields"]
            if nested.get("conjunction") == "or":
                if len(nested["fields"]) > 1 and filters:
                    raise not_expressible(
                        "pitchly", items[0], "filters and nested fields share one conjunction"
                    )
                conj = "or" if len(nested["fields"]) > 1 else conj
        if conj == "or":
            out["conjunction"] = "or"
        if flags:
            out["include"] = flags
        return out

    def fields_of(self, pred: A.Node, database: str | None) -> dict[str, Any]:
        """A filter object {fields, conjunction} for a predicate about fields only."""
        pred = _push_not(pred)
        if isinstance(pred, A.Const) and pred.value:
            return {"fields": {}}
        conj = "or" if isinstance(pred, A.Or) else "and"
        items = list(pred.items) if isinstance(pred, (A.And, A.Or)) else [pred]
        groups: dict[A.Field, list[A.Node]] = {}
        single_combo: dict[A.Field, A.Node] = {}
        for it in items:
            f = _field_of(it)
            if f is None:
                raise not_expressible(
                    "pitchly",
                    it,
                    "a Pitchly filter combines fields at the top and one field's "
                    "filters below it: (A and B) or (C and D) across fields does not fit",
                )
            if isinstance(it, (A.And, A.Or)):
                if f in groups or f in single_combo:
                    raise not_expressible("pitchly", it, f"field {f.key!r} needs two levels of combination")
                single_combo[f] = it
            else:
                if f in single_combo:
                    raise not_expressible("pitchly", it, f"field {f.key!r} needs two levels of combination")
                groups.setdefault(f, []).append(it)
        fields: dict[str, Any] = {}
        for f, its in groups.items():
            key = self.key(f, database)
            if key in fields:
                raise not_expressible(
                    "pitchly", its[0], f"field key {key!r} is used twice with different types"
                )
            fields[key] = self.entry(its, conj, database)
        for f, combo in single_combo.items():
            key = self.key(f, database)
            inner = "or" if isinstance(combo, A.Or) else "and"
            fields[key] = self.entry(list(combo.items), inner, database)  # type: ignore[attr-defined]
        out: dict[str, Any] = {"fields": fields}
        if conj == "or" and len(fields) > 1:
            out["conjunction"] = "or"
        return out


def to_pitchly(q: A.Query, catalog: Catalog | None = None, keys: str = "ids") -> dict[str, Any]:
    em = _Emitter(catalog, keys)
    parts = list(q.predicate.items) if isinstance(q.predicate, A.And) else [q.predicate]
    out: dict[str, Any] = {}
    if q.database is not None:
        out["databaseId"] = q.database
    rest: list[A.Node] = []
    trash: bool | None = None
    for p in parts:
        if p == A.Not(A.InTrash()) or isinstance(p, A.InTrash):
            want = isinstance(p, A.InTrash)
            if trash is not None and trash != want:  # one removedAt cannot ask for both
                raise not_expressible("pitchly", p, "the query asks for rows both in and out of the trash")
            trash = want
        elif isinstance(p, A.IdIn) and "in" not in out:
            out["in"] = list(p.ids)
        elif isinstance(p, A.ModifiedSince) and "modifiedSince" not in out:
            out["modifiedSince"] = p.since
        elif isinstance(p, A.Search) and "search" not in out and p.fields is not None:
            from filterdsl.emitters.search import to_search

            out["search"] = to_search(A.Query(A.And((p, A.Not(A.InTrash())))))
        elif _field_of(p) is not None or isinstance(p, (A.Or, A.Not, A.Const)):
            rest.append(p)
        else:
            raise not_expressible("pitchly", p, "no Pitchly query variable expresses it here")
    if trash is None:
        raise not_expressible(
            "pitchly",
            q.predicate,
            "Pitchly queries always choose trash or not (removedAt); "
            "add `and not in trash` (the usual case) or `and in trash` to the filter",
        )
    if trash:
        out["removedAt"] = True
    if rest:
        pred = rest[0] if len(rest) == 1 else A.And(tuple(rest))
        flt = em.fields_of(pred, q.database)
        if flt["fields"]:
            out["filter"] = flt
    if q.sort:
        sort: dict[str, int] = {}
        for sk in q.sort:
            if isinstance(sk.key, A.RecordAttr):
                raise not_expressible("pitchly", sk, "Pitchly sorts on fields only")
            sort[em.key(sk.key, q.database)] = -1 if sk.descending else 1
        out["sort"] = sort
    if q.limit is None:
        raise not_expressible(
            "pitchly",
            q,
            "Pitchly queries always have a limit (default 100); add `limit 100` (at most 100) to the filter",
        )
    if q.limit != 100:
        out["limit"] = q.limit
    if q.skip:
        out["skip"] = q.skip
    if q.fields is not None:
        out["fields"] = list(q.fields)
    if q.after is not None:
        from filterdsl.cursor import encode

        out["after"] = encode(q.after)
    return out
