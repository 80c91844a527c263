"""judge: a run's verdicts derived once from its figures, and a stored run judged again."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.analysis import decision, judge
from benchmarks.results import store
from benchmarks.results.records import Results


@pytest.fixture
def judged(results: Results, tmp_path: Path) -> Path:
    """Save the sample with the current rule's verdicts; return its run directory."""
    store.save(judge.apply(results), tmp_path)
    return tmp_path


def test_a_run_judged_with_its_own_rule_holds(judged: Path) -> None:
    found = judge.judge(store.load(judged))
    assert found.holds
    assert found.rule_changes == []
    assert [c["id"] for c in found.claims] == [c["id"] for c in store.load(judged)["claims"]]


def test_a_stored_verdict_the_figures_do_not_give_is_listed(judged: Path) -> None:
    results = store.load(judged)
    first = results["claims"][0]
    other = "contradicted" if first["verdict"] != "contradicted" else "supported"
    results["claims"][0] = {**first, "verdict": other}
    found = judge.judge(results)
    assert not found.holds
    assert found.changes == [judge.Change(first["id"], other, first["verdict"])]


def test_a_changed_figure_moves_its_verdict(judged: Path) -> None:
    results = store.load(judged)
    # Make Flask's app twice Django's size: "Flask needs fewer lines" must turn round.
    results["loc"]["flask"]["total"] = 2 * results["loc"]["django"]["total"]
    found = judge.judge(results)
    assert [c.id for c in found.changes] == ["fewer-lines"]
    assert found.changes[0].now == "contradicted"


def test_a_changed_rule_is_named(judged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decision, "MIN_EFFECT", 0.5)
    monkeypatch.setattr(decision, "VERSION", decision.VERSION + 1)
    found = judge.judge(store.load(judged))
    assert f"rule version {decision.VERSION - 1} stored, {decision.VERSION} now" in (
        found.rule_changes
    )
    assert "min_effect 0.05 stored, 0.5 now" in found.rule_changes
    # A 50% threshold turns the sample's 5%-beyond differences into no difference.
    assert not found.holds


def test_the_command_exits_non_zero_only_where_a_verdict_differs(judged: Path) -> None:
    def judge_command() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "benchmarks", "judge", str(judged)],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    held = judge_command()
    assert held.returncode == 0, held.stderr
    assert "verdicts hold" in held.stdout
    results = store.load(judged)
    claim = results["claims"][-1]
    results["claims"][-1] = {
        **claim,
        "verdict": "inconclusive" if claim["verdict"] != "inconclusive" else "supported",
    }
    store.save(results, judged)
    moved = judge_command()
    assert moved.returncode == 1
    assert "DIFFERS" in moved.stdout
    assert claim["id"] in moved.stdout


def test_the_command_refuses_an_older_run_in_one_line(judged: Path) -> None:
    path = judged / store.FILE
    current, older = f'"schema_version": {store.SCHEMA_VERSION}', store.SCHEMA_VERSION - 1
    path.write_text(path.read_text().replace(current, f'"schema_version": {older}', 1))
    refused = subprocess.run(
        [sys.executable, "-m", "benchmarks", "judge", str(judged)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1
    assert f"schema version {older}" in refused.stderr
