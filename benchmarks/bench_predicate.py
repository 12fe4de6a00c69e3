"""Records/s of filterdsl's compiled predicate vs a hand-written lambda with the same semantics.

    python benchmarks/bench_predicate.py [--records 200000] [--repeat 5]

Both run over the same canonical documents in the same process; the table shows medians and the
ratio predicate/lambda (1.0 = as fast as hand-written Python, the practical limit for per-record Python).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

from filterdsl import load_catalog, parse, to_predicate

CATALOG = [{"_id": "db", "name": "Orders", "fields": [
    {"_id": "name", "name": "Name", "type": "string"},
    {"_id": "amount", "name": "Amount", "type": "number"},
    {"_id": "notes", "name": "Notes", "type": "textBlock"},
    {"_id": "status", "name": "Status", "type": "enum", "restrict": ["new", "paid", "shipped", "cancelled"]},
    {"_id": "paid", "name": "Paid", "type": "boolean"},
    {"_id": "date", "name": "Date", "type": "date"},
    {"_id": "tags", "name": "Tags", "type": "enumTags", "restrict": ["urgent", "gift", "vip", "repeat"]},
    {"_id": "price", "name": "Price", "type": "currency"},
]}]
NUM = (int, float)


def make_docs(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    words = ["deal", "Big DEAL", "money back", "Straße", "ÉCOLE", "σίσυφος", "", None, "misc notes", "100% _x_"]
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
            data["date"] = rnd.choice(["2020-01-23T00:00:00.000Z", "2021-06-01", "2020-02-30T00:00:00Z", None,
                                       f"20{rnd.randrange(10, 23)}-0{rnd.randrange(1, 9)}-1{rnd.randrange(0, 9)}"])
        if rnd.random() < 0.9:
            data["tags"] = rnd.sample(["urgent", "gift", "vip", "repeat"], rnd.randrange(0, 3))
        if rnd.random() < 0.9:
            data["price"] = {"val": rnd.randrange(500), "currency": rnd.choice(["USD", "EUR"])}
        docs.append({"id": f"r{i}", "created_at": "2021-01-01T00:00:00.000000Z", "updated_at": None,
                     "removed_at": None, "data": data})
    return docs


def f(fid: str, *filters: dict[str, Any], **kw: Any) -> dict[str, Any]:
    return {fid: {"filters": list(filters), **kw}}


def _day(v: Any) -> str | None:
    from filterdsl.records import valid_day

    if type(v) is str:
        h = v[:10]
        if valid_day(h):
            return h
    return None


def _day_fast() -> Callable[[Any], str | None]:
    import functools

    from filterdsl.records import valid_day

    cached = functools.lru_cache(maxsize=1 << 16)(valid_day)

    def day(v: Any) -> str | None:
        if type(v) is str:
            h = v[:10]
            if cached(h):
                return h
        return None
    return day


DAY = _day_fast()

FILTERS: list[tuple[str, dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
    ("1 string is",
     {"fields": f("name", {"by": "is", "value": "order-42"})},
     lambda r: r["removed_at"] is None and (lambda v: type(v) is str and v == "order-42")(r["data"].get("name"))),
    ("2 number range",
     {"fields": f("amount", {"by": "is-at-least", "value": 100}, {"by": "is-less-than", "value": 500})},
     lambda r: r["removed_at"] is None and (lambda v: type(v) in NUM and v >= 100 and v < 500)(r["data"].get("amount"))),
    ("3 contains (ci)",
     {"fields": f("notes", {"by": "contains", "value": "Deal"})},
     lambda r: r["removed_at"] is None and (lambda v: type(v) is str and v != "" and "deal" in v.lower())(r["data"].get("notes"))),
    ("4 any-of OR is-not",
     {"fields": {**f("status", {"by": "is-any-of", "value": ["paid", "shipped"]}),
                 **f("paid", {"by": "is-not", "value": True})}, "conjunction": "or"},
     lambda r: r["removed_at"] is None and (lambda d: (type(s := d.get("status")) is str and s in {"paid", "shipped"})
                or d.get("paid") is not True)(r["data"])),
    ("5 six conditions",
     {"fields": {**f("date", {"by": "is-after", "value": "2020-01-01"}),
                 **f("tags", {"by": "has-any-of", "value": ["vip", "gift"]}),
                 **f("notes", {"by": "does-not-contain", "value": "money"}, include={"is-not-set": True}),
                 **f("price", {"by": "is-at-most", "value": {"val": 300, "currency": "USD"}}),
                 **f("amount", {"by": "is-more-than", "value": 10})}},
     lambda r: r["removed_at"] is None and (lambda d: (
         (lambda v: (h := DAY(v)) is not None and h > "2020-01-01")(d.get("date"))
         and (lambda v: type(v) is list and any(type(e) is str and e in {"vip", "gift"} for e in v))(d.get("tags"))
         and ((lambda v: not (type(v) is str and v != "" and "money" in v.lower()))(d.get("notes"))
              or "notes" not in d)
         and (lambda v: type(v) is dict and type(a := v.get("val")) in NUM and a <= 300
              and v.get("currency") == "USD")(d.get("price"))
         and (lambda v: type(v) in NUM and v > 10)(d.get("amount"))))(r["data"])),
]


def timed(fns: list[Callable[[dict[str, Any]], bool]], docs: list[dict[str, Any]], repeat: int
          ) -> list[tuple[float, int]]:
    """Median seconds and hit count per function; runs are interleaved so load drift hits all alike."""
    times: list[list[float]] = [[] for _ in fns]
    hits = [0] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            hits[i] = sum(1 for d in docs if fn(d))
            times[i].append(time.perf_counter() - t0)
    return [(statistics.median(t), h) for t, h in zip(times, hits)]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--records", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    cat = load_catalog(CATALOG)
    docs = make_docs(args.records)
    print(f"{args.records} canonical documents, median of {args.repeat} runs, {os.cpu_count()} cores")
    print(f"{'filter':<22} {'filterdsl rec/s':>16} {'lambda rec/s':>14} {'ratio':>6} {'hits':>7}")
    for name, flt, lam in FILTERS:
        pred = to_predicate(parse(flt, catalog=cat, database="db"))
        (t_p, h_p), (t_l, h_l) = timed([pred, lam], docs, args.repeat)
        assert h_p == h_l, f"{name}: predicate selected {h_p}, lambda {h_l}: semantics differ"
        print(f"{name:<22} {len(docs) / t_p:>16,.0f} {len(docs) / t_l:>14,.0f} {t_l / t_p:>6.2f} {h_p:>7}")


if __name__ == "__main__":
    main()
