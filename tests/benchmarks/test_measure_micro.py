"""The micro-benchmark: the model runtime timed against raw scikit-learn."""

from __future__ import annotations

from benchmarks.measure import micro
from benchmarks.report import text


def test_micro_benchmark_measures_every_case() -> None:
    result = micro.measure("none", budget_s=0.01)
    cases = {(c["variant"], c["rows"]) for c in result["cases"]}
    assert cases == {(v, r) for v in ("light", "heavy") for r in micro.BATCHES}
    for case in result["cases"]:
        assert case["raw_us"] > 0
        assert case["runtime_us"] > 0
    heavy = next(c for c in result["cases"] if c["variant"] == "heavy" and c["rows"] == 1)
    light = next(c for c in result["cases"] if c["variant"] == "light" and c["rows"] == 1)
    assert heavy["runtime_us"] > light["runtime_us"]  # the forest is the expensive model
    assert "runtime/raw" in text.micro([result])


def test_per_call_us_reflects_the_cost() -> None:
    cheap = micro.per_call_us(lambda: None, repeats=3, budget_s=0.01)
    costly = micro.per_call_us(lambda: sum(range(20_000)), repeats=3, budget_s=0.01)
    assert 0 < cheap < costly
