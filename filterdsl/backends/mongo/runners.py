"""Run Mongo specs on the two engines this machine has: mongomock (Python) and mingo (JavaScript).

There is no MongoDB server here; these two independent implementations are the oracles the Mongo
backend is checked against. mingo runs through ``node``: it is installed with npm, pinned, into a
cache directory on first use (``FILTERDSL_MINGO_DIR``, default ``~/.cache/filterdsl/mingo-7.2.7``).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from filterdsl.ast import Query
from filterdsl.backends.memory import project
from filterdsl.backends.mongo import to_mongo
from filterdsl.errors import Diagnostic, FilterError, Location
from filterdsl.records import check_run_args
from filterdsl.schema import CatalogSource
from filterdsl.semantics.numbers import INT53, int_within, refuse_inexact_numbers

Doc = dict[str, Any]
ENGINES = ("mongomock", "mingo")
MINGO_VERSION = "7.2.7"
_HERE = Path(__file__).resolve().parent / "js"
_install_lock = threading.Lock()


class EngineUnsupported(Exception):
    """The engine lacks a stage or operator the spec uses (e.g. mongomock has no ``$getField``)."""


def collections_for(query: Query, dataset: Mapping[Any, list[Doc]]) -> dict[Any, str]:
    names = {db: ("records" if db is None else str(db)) for db in dataset}
    if query.database not in dataset and len(dataset) == 1:
        names[query.database] = names[next(iter(dataset))]
    return names


def _stored(docs: list[Doc]) -> list[Doc]:
    return [{**d, "_id": d["id"]} for d in docs]


# ---------------------------------------------------------------- mongomock
def mongomock_ids(spec: dict[str, Any], collections: Mapping[str, list[Doc]]) -> list[str]:
    import mongomock

    db = mongomock.MongoClient().db
    for name, docs in collections.items():
        if docs:
            db[name].insert_many(_stored(docs))
    coll = db[spec["collection"]]
    try:
        if "pipeline" in spec:
            rows = list(coll.aggregate(spec["pipeline"]))
        else:
            cur = (
                coll.find(spec["filter"], spec["projection"])
                .sort([tuple(p) for p in spec["sort"]])
                .skip(spec["skip"])
            )
            if spec["limit"]:
                cur = cur.limit(spec["limit"])
            rows = list(cur)
    except (NotImplementedError, mongomock.OperationFailure) as e:
        raise EngineUnsupported(f"mongomock: {_mongomock_lacks(str(e))}") from None
    return [r["id"] for r in rows]


#: What mongomock 4.3 refuses, named by the stage or operator the spec needs (docs/mongo.md).
_MONGOMOCK_GAPS = {
    "'let' is a valid lookup operator": "the $lookup stage with let/pipeline is not implemented (a relation "
    "inside a relation, or inside a relation a key only $getField can name, needs a correlated $lookup)",
    "'pipeline' is a valid lookup operator": "the $lookup stage with let/pipeline is not implemented",
    "Unrecognized expression '$getField'": "the $getField expression is not implemented (keys containing '.', "
    "starting with '$', or empty)",
}


def _mongomock_lacks(message: str) -> str:
    for needle, text in _MONGOMOCK_GAPS.items():
        if needle in message:
            return text
    return message


# ---------------------------------------------------------------- mingo
def mingo_dir() -> Path:
    """The directory holding node_modules/mingo and the runner; installs mingo on first use."""
    base = Path(
        os.environ.get("FILTERDSL_MINGO_DIR")
        or Path.home() / ".cache" / "filterdsl" / f"mingo-{MINGO_VERSION}"
    )
    with _install_lock:
        if not (base / "node_modules" / "mingo" / "package.json").is_file():
            npm = shutil.which("npm")
            if npm is None or shutil.which("node") is None:
                raise EngineUnsupported("mingo needs node and npm on PATH")
            base.mkdir(parents=True, exist_ok=True)
            shutil.copy(_HERE / "package.json", base / "package.json")
            subprocess.run(
                [npm, "install", "--silent", "--no-audit", "--no-fund"],
                cwd=base,
                check=True,
                capture_output=True,
                timeout=600,
            )
        shutil.copy(_HERE / "mingo_runner.js", base / "mingo_runner.js")
    return base


def mingo_batch(specs: list[dict[str, Any]], collections: Mapping[str, list[Doc]]) -> list[list[str] | str]:
    """Run many specs over the same collections in one node process: ids, or an error message each.

    FilterError (``not-expressible``) for collections holding an integer past 2^53: JavaScript's
    ``JSON.parse`` reads every number as a double."""
    refuse_inexact_numbers(
        "mingo", collections, int_within(INT53), "runs on JavaScript, whose numbers are doubles"
    )
    base = mingo_dir()
    payload = json.dumps({"collections": {k: _stored(v) for k, v in collections.items()}, "specs": specs})
    proc = subprocess.run(
        ["node", str(base / "mingo_runner.js")],
        input=payload,
        capture_output=True,
        text=True,
        cwd=base,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"mingo runner failed: {proc.stderr.strip()[:500]}")
    out: list[list[str] | str] = []
    for r in json.loads(proc.stdout):
        out.append(r["error"] if isinstance(r, dict) else r)
    return out


def mingo_ids(spec: dict[str, Any], collections: Mapping[str, list[Doc]]) -> list[str]:
    (res,) = mingo_batch([spec], collections)
    if isinstance(res, str):
        raise EngineUnsupported(f"mingo: {res}")
    return res


def _refuse_inexact_cursor(query: Query) -> None:
    """A cursor holding an integer past 2^53 (made from records mingo would refuse) reads inexactly too."""
    exact = int_within(INT53)
    for i, k in enumerate(query.after.keys if query.after is not None else ()):
        if type(k.value) is int and not exact(k.value):
            raise FilterError.one(
                "not-expressible",
                f"--engine mingo runs on JavaScript, whose numbers are doubles, so it cannot compare the "
                f"cursor's number {k.value} exactly (docs/semantics.md, section 9)",
                Location(param="after", pointer=f"/after/keys/{i}"),
            )


# ---------------------------------------------------------------- entry point
def run(
    query: Query,
    dataset: Mapping[Any, list[Doc]],
    engine: str = "mongomock",
    catalog: CatalogSource | None = None,
) -> list[Doc]:
    """Run ``query`` on ``engine`` over ``{database id: canonical docs}``; projected documents in order."""
    check_run_args(query, dataset)
    if engine not in ENGINES:  # a FilterError is a ValueError
        raise FilterError(
            [
                Diagnostic(
                    "unknown-engine",
                    f"unknown Mongo engine {engine!r}; one of {', '.join(ENGINES)}",
                    Location(param="engine"),
                )
            ]
        )
    if engine == "mingo":  # JavaScript: JSON.parse reads every number as a double
        refuse_inexact_numbers(
            "mingo", dataset, int_within(INT53), "runs on JavaScript, whose numbers are doubles"
        )
        _refuse_inexact_cursor(query)
    names = collections_for(query, dataset)
    spec = to_mongo(query, catalog=catalog, collections=names)
    collections = {names[db]: docs for db, docs in dataset.items()}
    ids = mongomock_ids(spec, collections) if engine == "mongomock" else mingo_ids(spec, collections)
    main = next((docs for db, docs in dataset.items() if names[db] == spec["collection"]), [])
    by_id = {d["id"]: d for d in main}
    return [project(by_id[i], query.fields) for i in ids]
