"""Coverage-guided fuzzing of every frontend feeding every backend (atheris; long runs, outside the suite).

    pip install atheris
    python tests/fuzz/atheris_pipeline.py -max_total_time=900 CORPUS_DIR
    FILTERDSL_FUZZ_FINDINGS=findings.jsonl python tests/fuzz/atheris_pipeline.py ...

What one input goes through, and what counts as a finding: tests/fuzz/pipeline.py. Only filterdsl is
instrumented (lark and sqlglot are imported first), so the edge counts are filterdsl's own.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import atheris
import lark  # noqa: F401 - third-party code is imported before instrumentation, so only filterdsl is traced
import sqlglot  # noqa: F401

sys.path.insert(0, str(Path(__file__).resolve().parent))

with atheris.instrument_imports(include=["filterdsl"]):
    import importlib

    import pipeline

    for _name in ("pitchly", "relaxed_json", "search", "pixiebrix", "text"):
        importlib.import_module(f"filterdsl.frontends.{_name}")
    for _name in ("memory", "mongo", "sql"):
        importlib.import_module(f"filterdsl.backends.{_name}")


if __name__ == "__main__":
    import atexit

    atexit.register(lambda: print("FUZZSTATS " + json.dumps(pipeline.STATS), file=sys.stderr, flush=True))
    atheris.Setup(sys.argv, pipeline.one_input)
    atheris.Fuzz()
