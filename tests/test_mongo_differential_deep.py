"""Issue 16: the Mongo backend on shapes the one-level generators never reach, against the in-memory engine.

Relations 1-3 levels deep through ref and refMultiple (self references, cycles), dangling ids, trashed
targets, negative operators and include flags inside relations, objects/arrays/{} in any field, keys with
'.', '$', spaces, '=', non-ASCII and astral characters (``strategies.deep_batches``). mingo runs every
spec, many queries per node process; mongomock runs every spec but those needing what it lacks
(``$lookup`` with let/pipeline, ``$getField``), which it refuses loudly. Each intended refusal has a test
that triggers it, through the library and through the CLI (exit 3, naming the stage).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from test_mongo import mongomock_lacks

from filterdsl import load_catalog, parse
from filterdsl.ast import Compare, Field, FieldState, FieldType, Not, Op, Query, Relation, SortKey, State
from filterdsl.backends.memory import run
from filterdsl.backends.mongo import runners as mongo_exec
from filterdsl.backends.mongo import to_mongo
from filterdsl.records import normalize_dataset

from conftest import CORPUS, need, node_available
from strategies import DeepBatch, deep_batches

T = FieldType
CAT = load_catalog(CORPUS / "catalog.json")
DATA = normalize_dataset(json.loads((CORPUS / "records.json").read_text()), CAT)
ORDERS = "ixuPJwBRqtRP3GpoM"
#: The issue's repro: Orders -> Client -> Parent -> Name contains "michael".
DEPTH_2 = {
    "fields": {
        "RyM8SyrYrceRsrLJd": {
            "fields": {
                "nzS3PxpdTR8nWqYPv": {
                    "fields": {"xEfek48BRpD3kAksh": {"filters": [{"by": "contains", "value": "michael"}]}}
                }
            }
        }
    }
}
#: Orders -> Products -> Category is-not "Software": fzsEYQSCqHaADLpz2 lists a trashed and a dangling product.
DANGLING = {
    "fields": {
        "McGDrXSRoEuXvnxZs": {
            "fields": {"3H28yRvgANiQqHdZX": {"filters": [{"by": "is-not", "value": "Software"}]}}
        }
    }
}


def bounded(n: int) -> settings:
    return settings(
        max_examples=n,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


def mingo() -> None:
    need(node_available(), "node/npm are not installed (mingo runs through node)")


def ids(q: Query, data: Any, engine: str) -> list[str]:
    if engine == "memory":
        return [r["id"] for r in run(q, data)]
    return [d["id"] for d in mongo_exec.run(q, data, engine=engine)]


# ---------------------------------------------------------------- the repros on the corpus
def test_corpus_depth_2_relation() -> None:
    """Hand-checked: the only live client whose live parent's name contains "michael" is johnson &
    johnson (parent Michael Scott); its orders are ErZMnPQqdeNBzkCZY (2021-03-15) and Q42ggoNpiWzhJ9GDZ."""
    mingo()
    q = parse(DEPTH_2, "pitchly", catalog=CAT, database=ORDERS)
    want = ["ErZMnPQqdeNBzkCZY", "Q42ggoNpiWzhJ9GDZ"]
    assert ids(q, DATA, "memory") == want
    assert ids(q, DATA, "mingo") == want
    with pytest.raises(mongo_exec.EngineUnsupported, match=r"\$lookup stage with let/pipeline"):
        ids(q, DATA, "mongomock")


@pytest.mark.parametrize("engine", ["mongomock", "mingo"])
def test_corpus_dangling_ids_never_count(engine: str) -> None:
    """Hand-checked: orders with a live product whose category is not Software (EMPTY counts); fzsE...
    lists only a trashed product and an id that matches no product, so it is not among them."""
    if engine == "mingo":
        mingo()
    q = parse(DANGLING, "pitchly", catalog=CAT, database=ORDERS)
    want = [
        "Y56zQAGsiaNrviBm6",
        "fxtNbRqQuJRFATgQo",
        "bx6vbzaRbf8ghZh2Q",
        "Q42ggoNpiWzhJ9GDZ",
        "a5hzm9xChLDKrxneG",
        "CjK2azNT6oqHmtTrX",
        "o2yMTjDeKqM7C3p9z",
        "kpjM2xmg962Cy2pfW",
    ]
    assert ids(q, DATA, "memory") == want
    assert ids(q, DATA, engine) == want


# ---------------------------------------------------------------- hand-made shapes
def doc(
    rid: str, data: dict[str, Any], removed: str | None = None, created: str = "2021-01-01"
) -> dict[str, Any]:
    return {
        "id": rid,
        "created_at": f"{created}T00:00:00.000000Z",
        "updated_at": None,
        "removed_at": removed,
        "data": data,
    }


STATE_VALUES = {
    "missing": None,
    "null": None,
    "empty_str": "",
    "empty_list": [],
    "empty_obj": {},
    "obj": {"a": 1},
    "list_of_empty": [[]],
    "list_of_obj": [{}],
    "list_of_null": [None],
    "zero": 0,
    "false": False,
}
STATE_DOCS = {"db": [doc(k, {} if k == "missing" else {"k": v}) for k, v in STATE_VALUES.items()]}


@pytest.mark.parametrize("engine", ["mongomock", "mingo"])
@pytest.mark.parametrize("state", list(State))
def test_objects_and_empty_object_states(engine: str, state: State) -> None:
    """SPEC 1.3: {} and [[]] HAVE VALUE (mongomock's $size: 0 also matches {}); only null, "" and [] are
    EMPTY. The expected sets are written out by hand."""
    if engine == "mingo":
        mingo()
    want = {
        State.NOT_SET: {"missing"},
        State.EMPTY: {"null", "empty_str", "empty_list"},
        State.HAS_VALUE: {
            "empty_obj",
            "obj",
            "list_of_empty",
            "list_of_obj",
            "list_of_null",
            "zero",
            "false",
        },
    }[state]
    for f in (Field("k", T.STRING), Field("k", T.JSON)):
        q = Query(FieldState(f, state), database="db")
        assert set(ids(q, STATE_DOCS, "memory")) == want
        assert set(ids(q, STATE_DOCS, engine)) == want
        negated = Query(Not(FieldState(f, state)), database="db")
        assert set(ids(negated, STATE_DOCS, engine)) == set(STATE_VALUES) - want


def _relation_data() -> dict[str, list[dict[str, Any]]]:
    return {
        "main": [
            doc("m1", {"r": ["t1", "gone"]}),
            doc("m2", {"r": ["gone"]}),
            doc("m3", {"r": ["t2"]}),
            doc("m4", {"r": ["t3", "gone"]}),
            doc("m5", {"r": []}),
            doc("m6", {"r": {}}),
            doc("m7", {"r": "t1"}),
        ],
        "target": [
            doc("t1", {"c": "Software"}),
            doc("t2", {"c": "Hardware"}),
            doc("t3", {}, removed="2022-01-01"),
        ],
    }


@pytest.mark.parametrize("engine", ["mongomock", "mingo"])
@pytest.mark.parametrize(
    "inner, want",
    [
        (Not(Compare(Field("c", T.ENUM), Op.EQ, "Software")), ["m3"]),
        (Not(Compare(Field("c", T.ENUM), Op.IN, ("Software", "Hardware"))), []),
        (Not(Compare(Field("c", T.STRING), Op.CONTAINS, "ware")), []),
        (FieldState(Field("c", T.ENUM), State.NOT_SET), []),
        (FieldState(Field("c", T.ENUM), State.EMPTY), []),
        (Compare(Field("c", T.ENUM), Op.EQ, "Software"), ["m1"]),
    ],
)
def test_dangling_and_trashed_targets_are_not_rows(engine: str, inner: Any, want: list[str]) -> None:
    """Hand-checked: only t1 (Software) and t2 (Hardware) are live rows; "gone" matches nothing and t3 is
    in the trash, so negative operators and emptiness inside the relation never see them."""
    if engine == "mingo":
        mingo()
    q = Query(Relation(Field("r", T.REF_MULTIPLE), "target", inner), database="main")
    data = _relation_data()
    assert sorted(ids(q, data, "memory")) == want
    assert sorted(ids(q, data, engine)) == want


@pytest.mark.parametrize("engine", ["mongomock", "mingo"])
def test_sort_arrays_tie_objects_tie(engine: str) -> None:
    """SPEC 8 on a number field: numbers, then wrong types string < boolean < array < object, arrays tied
    with arrays and objects with objects (the default order, id ascending here, breaks the ties); [null] and
    [[]] are arrays, not EMPTY (mingo's expression $eq says [null] == null)."""
    if engine == "mingo":
        mingo()
    rows = [
        ("o2", {"b": 1}),
        ("a2", [2]),
        ("o1", {"a": 9, "b": 0}),
        ("a1", ["z", 1]),
        ("o3", {}),
        ("a3", [[1]]),
        ("s", "x"),
        ("b", True),
        ("n", 3),
        ("e", None),
        ("a0", [None]),
        ("a4", [[]]),
    ]
    data = {"db": [doc(rid, {"k": v}) for rid, v in rows]}
    for desc in (False, True):
        q = Query(
            FieldState(Field("k", T.NUMBER), State.HAS_VALUE),
            (SortKey(Field("k", T.NUMBER), desc),),
            database="db",
        )
        want = ["n", "s", "b", "a0", "a1", "a2", "a3", "a4", "o1", "o2", "o3"]
        if desc:
            want = ["o1", "o2", "o3", "a0", "a1", "a2", "a3", "a4", "b", "s", "n"]
        assert ids(q, data, "memory") == want
        assert ids(q, data, engine) == want


@pytest.mark.parametrize("engine", ["mongomock", "mingo"])
def test_schemaless_search_runs_on_both_engines(engine: str) -> None:
    """Search without a schema: top-level strings and string elements of top-level lists, case-folded;
    object values, nested lists and keys are not searched (hand-checked)."""
    from filterdsl.ast import Search

    if engine == "mingo":
        mingo()
    data = {
        None: [
            doc("s1", {"a": "Michael"}),
            doc("s2", {"a": ["x", "MICHAEL"]}),
            doc("s3", {"a": {"b": "michael"}}),
            doc("s4", {"michael": 1}),
            doc("s5", {"a": [["michael"]]}),
            doc("s6", {"a": "𐐀Deseret"}),
        ]
    }
    for term, want in (("michael", {"s1", "s2"}), ("𐐨deseret", {"s6"})):
        q = Query(Search(((term,),), None))
        assert set(ids(q, data, "memory")) == want
        assert set(ids(q, data, engine)) == want


# ---------------------------------------------------------------- keys a dotted path cannot name
WEIRD = ["a.b", "$x", "", ".", "$", "user email=david@pixiebrix.com", "a..b"]


@pytest.mark.parametrize("key", WEIRD)
def test_getfield_keys_on_mingo_and_refused_by_mongomock(key: str) -> None:
    """$getField reaches keys with '.', a leading '$' or empty on mingo (all three states survive: the copy
    is absent when the key is); mongomock lacks $getField and says so."""
    mingo()
    data = {
        "db": [
            doc("p", {key: "x.y"}),
            doc("n", {key: None}),
            doc("m", {"other": "x.y"}),
            doc("d", {"a": {"b": "x.y"}} if key == "a.b" else {key: {"b": 1}}),
        ]
    }
    f = Field(key, T.STRING)
    for node, want in (
        (Compare(f, Op.EQ, "x.y"), ["p"]),
        (FieldState(f, State.NOT_SET), ["m"] + (["d"] if key == "a.b" else [])),
        (FieldState(f, State.EMPTY), ["n"]),
        (Not(Compare(f, Op.CONTAINS, "X.")), ["d", "m", "n"]),
    ):
        q = Query(node, database="db")
        assert sorted(ids(q, data, "memory")) == sorted(want)
        assert sorted(ids(q, data, "mingo")) == sorted(want)
        with pytest.raises(mongo_exec.EngineUnsupported, match=r"\$getField"):
            ids(q, data, "mongomock")


def test_getfield_nested_path_and_sort_on_mingo() -> None:
    """A PixieBrix path below a key with '.', through an array index, and an ordering on such a key."""
    mingo()
    data = {
        None: [
            doc("r1", {"a.b": [{"c": "v"}]}, created="2021-01-03"),
            doc("r2", {"a.b": {"c": "v"}}, created="2021-01-02"),
            doc("r3", {"a.b": [{"c": "w"}, {"c": "v"}]}, created="2021-01-01"),
        ]
    }
    q = parse("data__a.b__0__c=v&ordering=-data__a.b__0__c,id", "pixiebrix")
    assert ids(q, data, "memory") == ["r1"]
    assert ids(q, data, "mingo") == ["r1"]
    q = parse("data__a.b__isnull=false&ordering=data__a.b__0__c", "pixiebrix")
    assert ids(q, data, "memory") == ids(q, data, "mingo") == ["r2", "r1", "r3"]


def test_nul_key_refused_by_the_cli() -> None:
    """BSON field names cannot hold NUL: convert --to mongo exits with not-expressible (exit 4)."""
    from filterdsl.cli.common import EXIT_NOT_EXPRESSIBLE

    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "filterdsl.cli",
            "convert",
            "--to",
            "mongo",
            "--from",
            "pixiebrix",
            "--expr",
            "data__a%00b=1",
        ],
        capture_output=True,
        text=True,
    )
    assert (
        proc.returncode == EXIT_NOT_EXPRESSIBLE and "not-expressible" in proc.stderr and "NUL" in proc.stderr
    )


@pytest.mark.parametrize(
    "query, stage",
    [
        (DEPTH_2, "$lookup stage with let/pipeline"),
        ({"filter": DANGLING, "sort": {"59giDo5wnnLqurNpF": 1}}, None),
    ],
)
def test_cli_mongomock_refusals_exit_3(tmp_path: Any, query: dict[str, Any], stage: str | None) -> None:
    """A spec mongomock cannot run exits 3 and names the stage; one it can run exits 0 with memory's ids."""
    src = tmp_path / "q.json"
    src.write_text(json.dumps(query))
    args = [
        sys.executable,
        "-m",
        "filterdsl.cli",
        "run",
        "--schema",
        str(CORPUS / "catalog.json"),
        "--data",
        str(CORPUS / "records.json"),
        "--database",
        ORDERS,
        "--ids",
        str(src),
    ]
    got = subprocess.run([*args, "--engine", "mongomock"], capture_output=True, text=True)
    want = subprocess.run([*args, "--engine", "memory"], capture_output=True, text=True)
    if stage is None:
        assert got.returncode == 0 and got.stdout == want.stdout and want.stdout
    else:
        assert got.returncode == 3 and stage in got.stderr and got.stdout == ""


def test_cli_getfield_refusal_exit_3(tmp_path: Any) -> None:
    data = tmp_path / "d.json"
    data.write_text(json.dumps([{"id": "r1", "created_at": "2021-01-01T00:00:00Z", "data": {"a.b": "x"}}]))
    args = [
        sys.executable,
        "-m",
        "filterdsl.cli",
        "run",
        "--from",
        "pixiebrix",
        "--data",
        str(data),
        "--ids",
        "--expr",
        "data__a.b=x",
    ]
    got = subprocess.run([*args, "--engine", "mongomock"], capture_output=True, text=True)
    assert got.returncode == 3 and "$getField" in got.stderr
    assert subprocess.run([*args, "--engine", "memory"], capture_output=True, text=True).stdout == "r1\n"


# ---------------------------------------------------------------- generated: deep relations, every shape
def _check_batch_mingo(b: DeepBatch) -> None:
    names = {db: db for db in b.dataset}
    specs = [to_mongo(q, collections=names) for q in b.queries]
    results = mongo_exec.mingo_batch(specs, b.dataset)
    for q, got in zip(b.queries, results):
        assert got == [r["id"] for r in run(q, b.dataset)], q


@bounded(30)
@given(deep_batches(queries=8, weird_keys=True))
def test_deep_differential_mingo(b: DeepBatch) -> None:
    mingo()
    _check_batch_mingo(b)


@bounded(20)
@given(deep_batches(queries=8, weird_keys=False))
def test_deep_differential_mingo_dotted_keys(b: DeepBatch) -> None:
    mingo()
    _check_batch_mingo(b)


@bounded(60)
@given(deep_batches(queries=4, weird_keys=False))
def test_deep_differential_mongomock(b: DeepBatch) -> None:
    """mongomock runs every query but those that need what it lacks, and refuses exactly those."""
    for q in b.queries:
        try:
            got = ids(q, b.dataset, "mongomock")
        except mongo_exec.EngineUnsupported:
            assert mongomock_lacks(q)
            continue
        assert not mongomock_lacks(q)
        assert got == [r["id"] for r in run(q, b.dataset)]


@bounded(15)
@given(deep_batches(queries=3, weird_keys=True))
def test_deep_mongomock_refuses_only_what_it_lacks(b: DeepBatch) -> None:
    """With keys only $getField names: mongomock refuses only such specs, and when it does not refuse one
    (it evaluates expressions per document, so a stage no document reaches never fails) its answer is
    still memory's."""
    for q in b.queries:
        try:
            got = ids(q, b.dataset, "mongomock")
        except mongo_exec.EngineUnsupported:
            assert mongomock_lacks(q)
            continue
        assert got == [r["id"] for r in run(q, b.dataset)]


# ---------------------------------------------------------------- the deep generators reach every shape
def _relation_depth(node: Any) -> int:
    from filterdsl.ast import walk

    best = 0
    for n in walk(node):
        if isinstance(n, Relation):
            best = max(best, 1 + _relation_depth(n.predicate))
    return best


def _values(b: DeepBatch) -> list[Any]:
    return [v for docs in b.dataset.values() for d in docs for v in d["data"].values()]


def _strings(b: DeepBatch) -> list[str]:
    return [v for v in _values(b) if isinstance(v, str)]


def _nodes(b: DeepBatch) -> list[Any]:
    from filterdsl.ast import walk

    return [n for q in b.queries for n in walk(q.predicate)]


def _inside_relations(b: DeepBatch) -> list[Any]:
    from filterdsl.ast import walk

    return [m for n in _nodes(b) if isinstance(n, Relation) for m in walk(n.predicate)]


SHAPES = {
    "depth 3 through refMultiple": lambda b: any(
        _relation_depth(q.predicate) >= 3
        and any(isinstance(n, Relation) and n.field.type is T.REF_MULTIPLE for n in _nodes(b))
        for q in b.queries
    ),
    "dangling id": lambda b: (
        "gone" in _strings(b) or any(isinstance(v, list) and "gone" in v for v in _values(b))
    ),
    "trashed target": lambda b: any(
        d["removed_at"] for db, docs in b.dataset.items() if db != "d0" for d in docs
    ),
    "negative operator inside a relation": lambda b: any(
        isinstance(m, Not) and isinstance(m.item, Compare) for m in _inside_relations(b)
    ),
    "include flag inside a relation": lambda b: (
        any(isinstance(m, Relation) for m in _inside_relations(b))
        and any(
            isinstance(m, FieldState) and m.field.type in (T.REF, T.REF_MULTIPLE)
            for m in _inside_relations(b)
        )
    ),
    "{} value": lambda b: {} in _values(b),
    "object value": lambda b: {"a": 1} in _values(b),
    "array of arrays": lambda b: [[]] in _values(b),
    "key with '.'": lambda b: any("." in k for fs in b.fields.values() for k, _, _ in fs),
    "key with leading '$'": lambda b: any(k.startswith("$") for fs in b.fields.values() for k, _, _ in fs),
    "key with space and '='": lambda b: any(
        " " in k and "=" in k for fs in b.fields.values() for k, _, _ in fs
    ),
    "non-ASCII key": lambda b: any(not k.isascii() for fs in b.fields.values() for k, _, _ in fs),
    "astral text": lambda b: any(any(ord(c) > 0xFFFF for c in s) for s in _strings(b)),
}


def test_deep_generators_reach_every_shape() -> None:
    """Each shape the issue lists is drawn within 80 batches (generation only, derandomized: the rarest,
    depth 3 through refMultiple, is in ~28% of batches)."""
    from hypothesis import Phase

    seen: set[str] = set()

    @settings(
        max_examples=80,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(deep_batches(queries=3))
    def collect(b: DeepBatch) -> None:
        seen.update(name for name, has in SHAPES.items() if name not in seen and has(b))

    collect()
    assert seen == set(SHAPES), set(SHAPES) - seen
