"""The versioned JSON form of the AST (``--to ast``, ``format="ast"``) and JSON Pointers into it."""

from __future__ import annotations

from typing import Any

from filterdsl.ast import nodes as N
from filterdsl.errors import Diagnostic, FilterError, Location


# ---------------------------------------------------------------- JSON form
def _value_to_json(v: N.Value) -> Any:
    if isinstance(v, N.Money):
        return {"money": v.amount, "currency": v.currency}
    if isinstance(v, tuple):
        return list(v)
    return v


def _scalar(v: Any) -> Any:
    if isinstance(v, float) and v != v or v in (float("inf"), float("-inf")):
        raise ValueError("numbers are finite")
    if v is None or not isinstance(v, (str, int, float, bool)):
        raise TypeError(f"a value is a string, number or boolean, not {type(v).__name__}")
    return v


def _value_from_json(v: Any) -> N.Value:
    if isinstance(v, dict):
        amount, cur = v["money"], v.get("currency")
        if (
            isinstance(amount, bool)
            or not isinstance(amount, (int, float))
            or not (cur is None or isinstance(cur, str))
        ):
            raise TypeError('money is {"money": number, "currency": string or null}')
        return N.Money(_scalar(amount), cur)
    if isinstance(v, list):
        return tuple(_scalar(e) for e in v)
    return _scalar(v)


def _field_to_json(f: N.Field) -> dict[str, Any]:
    out: dict[str, Any] = {"key": f.key, "type": f.type.value}
    if f.path:
        out["path"] = list(f.path)
    return out


def _field_from_json(o: dict[str, Any]) -> N.Field:
    key, path = o["key"], o.get("path", ())
    if (
        not isinstance(key, str)
        or not isinstance(path, list | tuple)
        or not all(isinstance(p, str) for p in path)
    ):
        raise TypeError('a field is {"key": string, "type": type, "path"?: [strings]}')
    return N.Field(key, N.FieldType(o["type"]), tuple(path))


def _leaf_to_json(node: N.Node) -> dict[str, Any]:
    if isinstance(node, N.Const):
        return {"node": "const", "value": node.value}
    if isinstance(node, N.Compare):
        return {
            "node": "compare",
            "field": _field_to_json(node.field),
            "op": node.op.value,
            "value": _value_to_json(node.value),
        }
    if isinstance(node, N.FieldState):
        return {"node": "state", "field": _field_to_json(node.field), "state": node.state.value}
    if isinstance(node, N.Search):
        return {
            "node": "search",
            "clauses": [list(c) for c in node.clauses],
            "fields": None if node.fields is None else [_field_to_json(f) for f in node.fields],
        }
    if isinstance(node, N.IdIn):
        return {"node": "id_in", "ids": list(node.ids)}
    if isinstance(node, N.CreatedAt):
        return {"node": "created_at", "start": node.start, "end": node.end}
    if isinstance(node, N.ModifiedSince):
        return {"node": "modified_since", "since": node.since}
    if isinstance(node, N.InTrash):
        return {"node": "in_trash"}
    raise TypeError(f"not an AST node: {node!r}")


def node_to_json(node: N.Node) -> dict[str, Any]:
    """JSON form of a predicate; iterative, so any depth serialises."""
    done: dict[int, dict[str, Any]] = {}
    stack: list[tuple[N.Node, bool]] = [(node, False)]
    while stack:
        n, expanded = stack.pop()
        kids = n.children()
        if kids and not expanded:
            stack.append((n, True))
            stack.extend((c, False) for c in kids)
            continue
        parts = [done[id(c)] for c in kids]
        if isinstance(n, (N.And, N.Or)):
            done[id(n)] = {"node": type(n).__name__.lower(), "items": parts}
        elif isinstance(n, N.Not):
            done[id(n)] = {"node": "not", "item": parts[0]}
        elif isinstance(n, N.Relation):
            done[id(n)] = {
                "node": "relation",
                "field": _field_to_json(n.field),
                "database": n.database,
                "predicate": parts[0],
            }
        else:
            done[id(n)] = _leaf_to_json(n)
    return done[id(node)]


def _json_children(o: Any) -> list[Any]:
    if not isinstance(o, dict):
        raise TypeError(f"an AST node is an object, not {type(o).__name__}")
    kind = o.get("node")
    if kind in ("and", "or"):
        items = o["items"]
        if not isinstance(items, list):
            raise TypeError("items is a list")
        return items
    if kind == "not":
        return [o["item"]]
    if kind == "relation":
        return [o["predicate"]]
    return []


def _leaf_from_json(o: dict[str, Any]) -> N.Node:
    kind = o["node"]
    if kind == "const":
        if not isinstance(o["value"], bool):
            raise TypeError("const value is true or false")
        return N.Const(o["value"])
    if kind == "compare":
        return N.Compare(_field_from_json(o["field"]), N.Op(o["op"]), _value_from_json(o["value"]))
    if kind == "state":
        return N.FieldState(_field_from_json(o["field"]), N.State(o["state"]))
    if kind == "search":
        fs = o.get("fields")
        return N.Search(
            tuple(tuple(str(t) for t in c) for c in o["clauses"]),
            None if fs is None else tuple(_field_from_json(f) for f in fs),
        )
    if kind == "id_in":
        return N.IdIn(tuple(str(i) for i in o["ids"]))
    if kind == "created_at":
        return N.CreatedAt(o.get("start"), o.get("end"))
    if kind == "modified_since":
        return N.ModifiedSince(str(o["since"]))
    if kind == "in_trash":
        return N.InTrash()
    raise ValueError(f"unknown node kind {kind!r}")


def node_from_json(o: Any, max_nodes: int = 1_000_000) -> N.Node:
    """Inverse of :func:`node_to_json`; iterative like it, and bounded (a cyclic object cannot hang it)."""
    done: dict[int, N.Node] = {}
    stack: list[tuple[Any, bool]] = [(o, False)]
    seen = 0
    while stack:
        j, expanded = stack.pop()
        seen += 1
        if seen > 2 * max_nodes:
            raise ValueError(f"more than {max_nodes} nodes")
        kids = _json_children(j)
        if kids and not expanded:
            stack.append((j, True))
            stack.extend((c, False) for c in kids)
            continue
        parts = [done[id(c)] for c in kids]
        kind = j["node"]
        if kind in ("and", "or"):
            done[id(j)] = (N.And if kind == "and" else N.Or)(tuple(parts))
        elif kind == "not":
            done[id(j)] = N.Not(parts[0])
        elif kind == "relation":
            done[id(j)] = N.Relation(_field_from_json(j["field"]), str(j["database"]), parts[0])
        else:
            done[id(j)] = _leaf_from_json(j)
    return done[id(o)]


def _sortkey_to_json(s: N.SortKey) -> dict[str, Any]:
    key: dict[str, Any] = {"attr": s.key.name} if isinstance(s.key, N.RecordAttr) else _field_to_json(s.key)
    return {"key": key, "descending": s.descending}


def _sortkey_from_json(o: dict[str, Any]) -> N.SortKey:
    k = o["key"]
    if "attr" in k and k["attr"] not in ("id", "created_at", "updated_at"):
        raise ValueError(f"sort attribute {k['attr']!r} is not id, created_at or updated_at")
    key: N.Field | N.RecordAttr = N.RecordAttr(k["attr"]) if "attr" in k else _field_from_json(k)
    if not isinstance(o["descending"], bool):
        raise TypeError("descending is true or false")
    return N.SortKey(key, o["descending"])


def cursor_to_json(c: N.Cursor) -> dict[str, Any]:
    """``{"keys": [[rank, value?]...], "created_at", "id", "sort"}`` (a rank without value: one item)."""
    return {
        "keys": [[k.rank] if k.value is None else [k.rank, k.value] for k in c.keys],
        "created_at": c.created_at,
        "id": c.id,
        "sort": c.sort,
    }


def cursor_from_json(o: Any) -> N.Cursor:
    """Inverse of :func:`cursor_to_json` (shapes only: semantics.cursor.cursor_problem checks the
    ranks and values against the query's sort)."""
    if not isinstance(o, dict):
        raise TypeError("after is an object")
    keys, ts, rid, sort = o["keys"], o["created_at"], o["id"], o.get("sort")
    if not isinstance(keys, list) or not all(isinstance(k, list) and 1 <= len(k) <= 2 for k in keys):
        raise TypeError("after.keys is a list of [rank] or [rank, value]")
    out = []
    for k in keys:
        if isinstance(k[0], bool) or not isinstance(k[0], int):
            raise TypeError("a cursor rank is an integer")
        v = _scalar(k[1]) if len(k) == 2 else None
        out.append(N.CursorKey(k[0], v))
    if not isinstance(ts, str) or not isinstance(rid, str) or not (sort is None or isinstance(sort, str)):
        raise TypeError("after.created_at and after.id are strings, after.sort a string or null")
    return N.Cursor(tuple(out), ts, rid, sort)


def to_json(query: N.Query | N.Node) -> dict[str, Any]:
    """Stable, versioned JSON form of a query (or a bare predicate, wrapped in a default query).
    ``after`` is present only when the query has a cursor."""
    if isinstance(query, N.Node):
        query = N.Query(query)
    out = {
        "filterdsl_ast": N.AST_JSON_VERSION,
        "database": query.database,
        "predicate": node_to_json(query.predicate),
        "sort": [_sortkey_to_json(s) for s in query.sort],
        "skip": query.skip,
        "limit": query.limit,
        "fields": None if query.fields is None else list(query.fields),
    }
    if query.after is not None:
        out["after"] = cursor_to_json(query.after)
    return out


def from_json(o: dict[str, Any]) -> N.Query:
    """Inverse of :func:`to_json`; raises FilterError on anything malformed."""

    try:
        if o.get("filterdsl_ast") != N.AST_JSON_VERSION:
            raise ValueError(f"unsupported AST JSON version {o.get('filterdsl_ast')!r}")
        fs, skip, limit, db = o.get("fields"), o.get("skip", 0), o.get("limit"), o.get("database")
        if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
            raise ValueError("skip is an integer >= 0")
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
            raise ValueError("limit is null or an integer >= 0")
        if fs is not None and not (isinstance(fs, list) and all(isinstance(f, str) for f in fs)):
            raise ValueError("fields is null or a list of strings")
        if db is not None and not isinstance(db, str):
            raise ValueError("database is null or a string")
        return N.Query(
            predicate=node_from_json(o["predicate"]),
            sort=tuple(_sortkey_from_json(s) for s in o.get("sort", ())),
            skip=skip,
            limit=limit,
            fields=None if fs is None else tuple(fs),
            database=db,
            after=None if o.get("after") is None else cursor_from_json(o["after"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as e:
        why = f"missing key {e.args[0]!r}" if isinstance(e, KeyError) else str(e)
        raise FilterError(
            [Diagnostic("bad-ast-json", f"not a valid filterdsl AST JSON: {why}", Location(pointer=""))]
        ) from None


def node_pointer(root: N.Query | N.Node, target: Any) -> str:
    """JSON Pointer of ``target`` (a node or sort key, found by identity) in ``to_json(root)``: where
    a diagnostic about an AST points. The whole query (``""``) when it is not part of ``root``."""
    if isinstance(root, N.Query):
        for i, key in enumerate(root.sort):
            if key is target:
                return f"/sort/{i}"
        start: N.Node = root.predicate
    else:
        start = root
    if target is root:
        return ""
    stack: list[tuple[N.Node, str]] = [(start, "/predicate")]
    while stack:
        n, p = stack.pop()
        if n is target:
            return p
        if isinstance(n, (N.And, N.Or)):
            stack.extend((c, f"{p}/items/{i}") for i, c in enumerate(n.items))
        elif isinstance(n, N.Not):
            stack.append((n.item, p + "/item"))
        elif isinstance(n, N.Relation):
            stack.append((n.predicate, p + "/predicate"))
    return ""
