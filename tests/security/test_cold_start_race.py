"""Cold-start thread safety of SQL compilation (issue 26, H7).

sqlglot registers a dialect class before it has finished building it, so a thread that compiled for
a dialect another thread was still importing could get sqlglot's generic generator: PostgreSQL SQL
came out as ``JSON_EXTRACT(...)``, and the SQL cache kept it. Each repetition here is a FRESH
interpreter (nothing imported, every cache empty) in which threads for every sqlglot dialect start
at one barrier, with a tiny thread switch interval so they interleave inside the imports; every
thread's SQL (or refusal) must equal a single-threaded compile. Before the fix about 4 in 10 such
processes produced wrong SQL, so 8 repetitions miss the bug with a chance of about 1.7% (each run; a
regression would not survive a few CI runs).
Set FILTERDSL_RACE_REPEAT to run more (the issue's acceptance is 100; see docs/performance.md).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import sqlglot
from sqlglot.generator import Generator

from filterdsl import FilterError, parse
from filterdsl.backends.sql import clear_sql_cache, sql_cache_info, to_sql
from filterdsl.backends.sql.dialects import registry

ROOT = Path(__file__).resolve().parents[2]
REPEAT = int(os.environ.get("FILTERDSL_RACE_REPEAT", "8"))

SCRIPT = r"""
import json, sys, threading, warnings
mode, root = sys.argv[1], sys.argv[2]
if mode == "race":
    sys.setswitchinterval(1e-5)  # interleave threads finely: inside sqlglot's imports
from filterdsl import load_catalog, parse
from filterdsl.backends.sql import dialect_names, to_sql
from filterdsl.errors import FilterError
warnings.simplefilter("ignore")
cat = load_catalog(root + "/tests/corpus/catalog.json")
cases = json.load(open(root + "/tests/corpus/cases.json"))
cases = [c for c in cases if c["format"] == "pitchly" and isinstance(c["expect"], list)][:3]
queries = [parse(c["input"], catalog=cat, database=c["database"]) for c in cases]
queries.append(parse("start_date=2020-01-01&ordering=-created_at&page=2&page_size=5", "pixiebrix"))
dialects = dialect_names() + ["datafusion"]

def run(d):
    out = []
    for q in queries:
        try:
            out.append(to_sql(q, d, catalog=cat)[0])
        except FilterError as e:
            out.append("refused: " + e.diagnostics[0].code)
    return out

results = []
if mode == "single":
    results = [(d, run(d)) for d in dialects]
else:
    jobs = [d for d in dialects for _ in range(8)]
    barrier = threading.Barrier(len(jobs))
    lock = threading.Lock()

    def work(d):
        barrier.wait()
        r = run(d)
        with lock:
            results.append((d, r))

    threads = [threading.Thread(target=work, args=(d,)) for d in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
print(json.dumps(results))
"""


def _run(mode: str) -> list[tuple[str, list[str]]]:
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, mode, str(ROOT)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return [(d, r) for d, r in json.loads(proc.stdout)]


@pytest.mark.slow
def test_cold_threads_on_every_dialect_write_the_single_thread_sql() -> None:
    single = dict(_run("single"))
    # the baseline is real SQL where the families apply (not all refusals), and PostgreSQL's own
    assert "->" in single["postgres"][0] and "JSON_EXTRACT" not in single["postgres"][0]
    assert sum(not s.startswith("refused") for r in single.values() for s in r) > 40
    for rep in range(REPEAT):
        raced = _run("race")
        assert len(raced) == 8 * len(single)
        wrong = sorted({d for d, r in raced if r != single[d]})
        assert not wrong, f"repetition {rep}: threads wrote other SQL for {wrong}"


def test_registry_loads_complete_dialects_once() -> None:
    d = registry.dialect("postgres")
    assert registry.dialect("postgres") is d and registry.identity("postgres") == id(d)
    assert registry.is_complete(type(d))
    assert not registry.is_complete(type("Half", (), {"tokenizer_class": None}))  # nothing else set
    with pytest.raises(FilterError) as e:
        registry.dialect("postgress")
    assert e.value.diagnostics[0].code == "unknown-dialect"


def test_sql_from_another_generator_is_refused_not_cached() -> None:
    # a half-built dialect generates with sqlglot's base Generator: the self-check refuses that
    with pytest.raises(FilterError) as e:
        registry.check_generator("postgres", Generator())
    assert e.value.diagnostics[0].code == "internal"
    registry.check_generator("postgres", registry.dialect("postgres").generator())


def test_sql_cache_key_holds_the_dialect_object(monkeypatch: pytest.MonkeyPatch) -> None:
    q = parse("data__a=1", "pixiebrix")
    clear_sql_cache()
    first = to_sql(q, "postgres")
    to_sql(q, "postgres")
    assert sql_cache_info()[:2] == (1, 1)
    # another dialect object under the same name (as a half-built one was) never gets the cached SQL
    other = sqlglot.Dialect.get_or_raise("postgres")
    assert other is not registry.dialect("postgres")
    monkeypatch.setitem(registry._instances, "postgres", other)
    assert to_sql(q, "postgres") == first
    assert sql_cache_info()[:2] == (1, 2)
