"""The shared generators produce runnable scenarios that actually select something sometimes."""

from hypothesis import given, settings

from filterdsl.backends.memory import run

from strategies import scenarios


@settings(max_examples=200, deadline=None)
@given(scenarios())
def test_scenarios_run_in_memory(sc):
    ids = [r["id"] for r in run(sc.query, sc.dataset)]
    assert len(ids) == len(set(ids))
    main_ids = {r["id"] for r in sc.dataset["main"]}
    assert set(ids) <= main_ids
