"""The results contract: the records, the one module that reads and writes them, and the JSON
Schema exported for readers outside Python."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import jsonschema
import pytest

import model
from benchmarks import targets
from benchmarks.load import wrk
from benchmarks.plan import build
from benchmarks.results import store, vocabulary
from benchmarks.results.records import Results


def test_the_run_targets_are_the_ones_results_may_name() -> None:
    assert (*targets.RUN, targets.AA) == vocabulary.TARGET_NAMES
    assert build("default").targets == (*targets.RUN, targets.AA)


def test_the_vocabulary_matches_the_model_and_the_load_tools() -> None:
    assert vocabulary.VARIANTS == model.VARIANTS
    assert set(wrk.SCENARIOS) <= set(vocabulary.SCENARIOS)
    assert set(targets.LADDERS) == set(vocabulary.FRAMEWORKS)


def test_the_exported_schema_is_the_records_schema() -> None:
    # After a change to records.py: python -m benchmarks.results.store writes it again.
    assert store.SCHEMA_FILE.read_text() == store.schema_text()


def test_saved_results_validate_against_the_exported_schema(
    results: Results, tmp_path: Path
) -> None:
    path = store.save(results, tmp_path)
    schema = json.loads(store.SCHEMA_FILE.read_text())
    jsonschema.validate(json.loads(path.read_text()), schema)
    assert store.load(tmp_path) == results


def test_the_exported_schema_refuses_what_the_store_refuses(results: Results) -> None:
    schema = json.loads(store.SCHEMA_FILE.read_text())
    drifted = copy.deepcopy(dict(results))
    drifted["phases"][0]["bogus"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(drifted, schema)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda r: r["phases"][0].update(rps="912.0"), "phases.0.rps"),
        (lambda r: r["phases"][0].update(bogus=1), "phases.0.bogus"),
        (lambda r: r["environment"].pop("git_commit"), "environment.git_commit"),
        (lambda r: r["targets"]["flask"].update(kind="server"), "targets.flask.kind"),
        (lambda r: r["claims"][0].update(verdict="probably"), "claims.0.verdict"),
    ],
)
def test_a_drifted_record_is_refused_when_saved(
    results: Results, tmp_path: Path, change, words: str
) -> None:
    change(results)
    with pytest.raises(store.ResultsError, match=words.replace(".", r"\.")):
        store.save(results, tmp_path)
    assert not (tmp_path / store.FILE).exists()


def test_an_older_schema_is_refused_in_one_line(results: Results, tmp_path: Path) -> None:
    older = dict(results, schema_version=2)
    (tmp_path / store.FILE).write_text(json.dumps(older))
    with pytest.raises(store.ResultsError) as refused:
        store.load(tmp_path)
    message = str(refused.value)
    assert "\n" not in message
    assert "schema version 2" in message
    assert f"reads {store.SCHEMA_VERSION}" in message


def test_not_json_is_refused(tmp_path: Path) -> None:
    (tmp_path / store.FILE).write_text("[1, 2]")
    with pytest.raises(store.ResultsError, match="not a JSON object"):
        store.load(tmp_path)


def test_the_registry_facts_name_every_relation() -> None:
    facts = targets.facts()
    assert set(facts) == set(targets.TARGETS)
    for app in targets.APPS:
        assert facts[app]["kind"] == "app"
        assert facts[app]["framework"] == app
        floor = facts[app]["floor"]
        assert floor is not None
        assert facts[floor]["kind"] == "floor"
        assert facts[floor]["framework"] == app
    twin = {**facts["flask"], "kind": "twin", "app": "flask", "rung": None, "feature": None}
    assert facts[targets.AA] == twin
    assert facts["baseline"]["framework"] is None
    for framework, rungs in targets.LADDERS.items():
        for place, rung in enumerate(rungs):
            assert facts[rung.target]["rung"] == place
            assert facts[rung.target]["feature"] == rung.feature
            assert facts[rung.target]["extension"] == rung.extension
            assert facts[rung.target]["framework"] == framework
    off = [name for name, fact in facts.items() if fact["kind"] == "metrics-off"]
    assert sorted(facts[name]["app"] for name in off) == sorted(targets.APPS)
