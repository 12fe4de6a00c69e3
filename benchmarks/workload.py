"""The benchmark workload: a catalog, deterministic canonical documents full of traps, six filters of
increasing complexity, each with a hand-written Python lambda of the same semantics (the physical limit
for per-record Python), and generators of filters with N conditions."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from typing import Any

from filterdsl.semantics.days import valid_day

DB = "db"
CATALOG = [
    {
        "_id": DB,
        "name": "Orders",
        "fields": [
            {"_id": "name", "name": "Name", "type": "string"},
            {"_id": "amount", "name": "Amount", "type": "number"},
            {"_id": "notes", "name": "Notes", "type": "textBlock"},
            {
                "_id": "status",
                "name": "Status",
                "type": "enum",
                "restrict": ["new", "paid", "shipped", "cancelled"],
            },
            {"_id": "paid", "name": "Paid", "type": "boolean"},
            {"_id": "date", "name": "Date", "type": "date"},
            {
                "_id": "tags",
                "name": "Tags",
                "type": "enumTags",
                "restrict": ["urgent", "gift", "vip", "repeat"],
            },
            {"_id": "price", "name": "Price", "type": "currency"},
        ],
    }
]
NUM = (int, float)
Doc = dict[str, Any]


def make_docs(n: int, seed: int = 7) -> list[Doc]:
    """Canonical documents: missing keys, null, "", wrong types, invalid dates, non-ASCII text."""
    rnd = random.Random(seed)
    words = [
        "deal",
        "Big DEAL",
        "money back",
        "Straße",
        "ÉCOLE",
        "σίσυφος",
        "",
        None,
        "misc notes",
        "100% _x_",
    ]
    docs = []
    for i in range(n):
        data: dict[str, Any] = {}
        if rnd.random() < 0.95:
            data["name"] = f"order-{rnd.randrange(1000)}"
        if rnd.random() < 0.9:
            data["amount"] = rnd.choice([rnd.randrange(1000), rnd.random() * 1000, None, "5", True])
        if rnd.random() < 0.9:
            data["notes"] = rnd.choice(words)
        if rnd.random() < 0.9:
            data["status"] = rnd.choice(["new", "paid", "shipped", "cancelled", None, "Shipped"])
        if rnd.random() < 0.9:
            data["paid"] = rnd.choice([True, False, None, 1, "true"])
        if rnd.random() < 0.9:
            data["date"] = rnd.choice(
                [
                    "2020-01-23T00:00:00.000Z",
                    "2021-06-01",
                    "2020-02-30T00:00:00Z",
                    None,
                    f"20{rnd.randrange(10, 23)}-0{rnd.randrange(1, 9)}-1{rnd.randrange(0, 9)}",
                ]
            )
        if rnd.random() < 0.9:
            data["tags"] = rnd.sample(["urgent", "gift", "vip", "repeat"], rnd.randrange(0, 3))
        if rnd.random() < 0.9:
            data["price"] = {"val": rnd.randrange(500), "currency": rnd.choice(["USD", "EUR"])}
        docs.append(
            {
                "id": f"r{i:06d}",
                "created_at": f"2021-01-{1 + i % 28:02d}T00:00:00.000000Z",
                "updated_at": None,
                "removed_at": "2022-01-01T00:00:00.000000Z" if i % 50 == 0 else None,
                "data": data,
            }
        )
    return docs


def f(fid: str, *filters: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {fid: {"filters": list(filters), **kw}}


_day_ok = functools.lru_cache(maxsize=1 << 16)(valid_day)


def _day(v: Any) -> str | None:
    if type(v) is str:
        h = v[:10]
        if _day_ok(h):
            return h
    return None


def _texts(d: dict[str, Any]) -> list[str]:
    """Searchable texts of a document: string/textBlock/enum values and enumTags elements, lowered."""
    out = [v.lower() for k in ("name", "notes", "status") if type(v := d.get(k)) is str]
    tags = d.get("tags")
    if type(tags) is list:
        out.extend(e.lower() for e in tags if type(e) is str)
    return out


def _search6(tx: list[str]) -> bool:
    return any("deal" in x or "order-1" in x for x in tx) and any("e" in x for x in tx)


Filter = tuple[str, Any, Callable[[Doc], bool]]
FILTERS: list[Filter] = [
    (
        "1 string is",
        {"fields": f("name", {"by": "is", "value": "order-42"})},
        lambda r: r["removed_at"] is None and type(v := r["data"].get("name")) is str and v == "order-42",
    ),
    (
        "2 number range",
        {"fields": f("amount", {"by": "is-at-least", "value": 100}, {"by": "is-less-than", "value": 500})},
        lambda r: r["removed_at"] is None and type(v := r["data"].get("amount")) in NUM and 100 <= v < 500,
    ),
    (
        "3 contains (ci)",
        {"fields": f("notes", {"by": "contains", "value": "Deal"})},
        lambda r: (
            r["removed_at"] is None
            and type(v := r["data"].get("notes")) is str
            and v != ""
            and "deal" in v.lower()
        ),
    ),
    (
        "4 any-of OR is-not",
        {
            "fields": {
                **f("status", {"by": "is-any-of", "value": ["paid", "shipped"]}),
                **f("paid", {"by": "is-not", "value": True}),
            },
            "conjunction": "or",
        },
        lambda r: (
            r["removed_at"] is None
            and (
                (type(s := (d := r["data"]).get("status")) is str and s in {"paid", "shipped"})
                or d.get("paid") is not True
            )
        ),
    ),
    (
        "5 six conditions",
        {
            "fields": {
                **f("date", {"by": "is-after", "value": "2020-01-01"}),
                **f("tags", {"by": "has-any-of", "value": ["vip", "gift"]}),
                **f("notes", {"by": "does-not-contain", "value": "money"}, include={"is-not-set": True}),
                **f("price", {"by": "is-at-most", "value": {"val": 300, "currency": "USD"}}),
                **f("amount", {"by": "is-more-than", "value": 10}),
            }
        },
        lambda r: (
            r["removed_at"] is None
            and (
                (h := _day((d := r["data"]).get("date"))) is not None
                and h > "2020-01-01"
                and type(t := d.get("tags")) is list
                and any(type(e) is str and e in {"vip", "gift"} for e in t)
                and (
                    not (type(n := d.get("notes")) is str and n != "" and "money" in n.lower())
                    or "notes" not in d
                )
                and type(p := d.get("price")) is dict
                and type(a := p.get("val")) in NUM
                and a <= 300  # type: ignore[operator]
                and p.get("currency") == "USD"
                and type(m := d.get("amount")) in NUM
                and m > 10
            )
        ),
    ),
    (
        "6 search + OR of 8",
        {
            "filter": {
                "fields": {
                    **f("status", {"by": "is-not", "value": "cancelled"}, {"by": "is-not", "value": "new"}),
                    **f("amount", {"by": "is-at-least", "value": 900}),
                    **f("notes", {"by": "starts-with", "value": "big"}, include={"is-empty": True}),
                    **f(
                        "date",
                        {"by": "is-on-or-before", "value": "2015-12-31"},
                        {"by": "is-after", "value": "2012-01-01"},
                    ),
                    **f("paid", {"by": "is", "value": False}),
                },
                "conjunction": "or",
            },
            "search": "deal|order-1, e",
        },
        lambda r: (
            r["removed_at"] is None
            and (
                (
                    not (type(s := (d := r["data"]).get("status")) is str and s == "cancelled")
                    and not (type(s) is str and s == "new")
                )
                or (type(m := d.get("amount")) in NUM and m >= 900)
                or (type(n := d.get("notes")) is str and n != "" and n.lower().startswith("big"))
                or ("notes" in d and (n is None or n == "" or n == []))
                or ((h := _day(d.get("date"))) is not None and h <= "2015-12-31" and h > "2012-01-01")
                or d.get("paid") is False
            )
            and _search6(_texts(d))
        ),
    ),
]

FIELDS_CYCLE = [
    ("amount", lambda i, k: {"by": "is-more-than", "value": i + 1000 * k}),
    ("name", lambda i, k: {"by": "contains", "value": f"x{i}-{k}"}),
    ("status", lambda i, k: {"by": "is-not", "value": "paid"}),
    ("date", lambda i, k: {"by": "is-after", "value": f"20{10 + i % 10}-{1 + k % 12:02d}-01"}),
    ("notes", lambda i, k: {"by": "starts-with", "value": f"n{i}{'İ' * (k % 3)}"}),
    ("price", lambda i, k: {"by": "is-at-least", "value": {"val": i + k / 4, "currency": "USD"}}),
    ("tags", lambda i, k: {"by": "has-any-of", "value": ["vip"]}),
    ("paid", lambda i, k: {"by": "is", "value": i % 2 == 0}),
]


def sized_filter(n: int, variant: int = 0) -> dict[str, Any]:
    """A Pitchly filter object with exactly ``n`` conditions, spread over the eight fields.

    Variants differ in their values only (same fields, operators and booleans): the same query shape,
    as a request handler sees it with new user input each time.
    """
    fields: dict[str, dict[str, Any]] = {}
    for i in range(n):
        key, make = FIELDS_CYCLE[i % len(FIELDS_CYCLE)]
        fields.setdefault(key, {"filters": [], "conjunction": "or"})["filters"].append(make(i, variant))
    return {"fields": fields, "conjunction": "and"}


def sized_search(n: int) -> str:
    """A search string with ``n`` terms: clauses of up to five alternatives."""
    terms = [f"term{i}" for i in range(n)]
    return ", ".join("|".join(terms[i : i + 5]) for i in range(0, n, 5))


def sized_pixiebrix(n: int) -> str:
    """A PixieBrix query string with ``n`` conditions on distinct paths."""
    return "&".join(f"data__k{i}__v=x{i}" for i in range(n))
