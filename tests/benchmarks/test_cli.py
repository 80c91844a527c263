"""The command line: one module per command, its help, --json, and no child's protocol in it;
report and compare read a run's results again; throughput measures the floors."""

from __future__ import annotations

import argparse
import inspect
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import REPO, targets
from benchmarks.__main__ import main, parser
from benchmarks.cli import COMMANDS
from benchmarks.load import wrk
from benchmarks.report import formatting, text


@pytest.mark.server
def test_report_renders_again_from_results(quick_run: Path, tmp_path: Path) -> None:
    copy = Path(shutil.copytree(quick_run, tmp_path / "run"))
    before = (copy / "report.md").read_text()
    (copy / "report.md").unlink()
    (copy / "report.html").unlink()
    subprocess.run(
        [sys.executable, "-m", "benchmarks", "report", str(copy)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert (copy / "report.md").read_text() == before
    assert "<svg" in (copy / "report.html").read_text()


@pytest.mark.server
def test_compare_tells_change_from_noise(quick_run: Path, tmp_path: Path) -> None:
    same = subprocess.run(
        [sys.executable, "-m", "benchmarks", "compare", str(quick_run), str(quick_run)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    assert "CHANGED" not in same
    results = json.loads((quick_run / "results.json").read_text())
    for phase in results["phases"]:
        if phase["target"] == "flask":
            phase["rps"] *= 2
    faster = tmp_path / "results.json"
    faster.write_text(json.dumps(results))
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "compare", str(quick_run), str(faster)],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    changed = [line for line in out.splitlines() if line.endswith("CHANGED")]
    assert changed
    assert all(line.startswith("flask") and "req/s" in line for line in changed)


@pytest.mark.server
@pytest.mark.skipif(not wrk.available(), reason="wrk is installed by scripts/system-deps.sh")
def test_throughput_cli_measures_the_floors(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    main(
        [
            "throughput",
            "--scenario",
            "health",
            "--floors",
            "--trials",
            "1",
            "--seconds",
            "1",
            "--json",
            str(figures),
        ]
    )
    result = json.loads(figures.read_text())
    summary = result["summary"]
    assert list(summary) == list(targets.names())
    for row in summary.values():
        assert row["errors"] == 0
        assert row["rps"] > 50
        assert row["cpu_us_per_request"] > 0
    table = text.throughput(result, targets.facts())
    assert f"1.00{formatting.TIMES}" in table  # the baseline against itself
    assert "django-floor" in table


def test_workers_command_takes_a_plan_and_apps() -> None:
    args = parser().parse_args(["workers", "--quick", "--apps", "flask"])
    assert (args.mode, args.apps, COMMANDS[args.command].__name__) == (
        "quick",
        ("flask",),
        "benchmarks.cli.workers",
    )
    assert parser().parse_args(["run", "--no-workers"]).no_workers
    assert parser().parse_args(["cost", "--full"]).mode == "full"


def test_run_and_throughput_can_be_pointed_at_a_v2_scenario() -> None:
    assert parser().parse_args(["run"]).scenario is None  # the default run: /v1 alone
    for scenario in ("v2_one", "v2_batch"):
        assert parser().parse_args(["run", "--quick", "--scenario", scenario]).scenario == scenario
        assert parser().parse_args(["throughput", "--scenario", scenario]).scenario == scenario
    with pytest.raises(SystemExit):
        parser().parse_args(["run", "--scenario", "health"])  # measured already
    # make bench passes SCENARIO through, and nothing without it.
    for given, line in (("", "run"), ("SCENARIO=v2_one", "run --scenario v2_one")):
        dry = subprocess.run(
            [
                "make",
                "--no-print-directory",
                "--dry-run",
                "--always-make",
                "bench",
                *([given] if given else []),
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        assert dry.splitlines()[-1].split("-m benchmarks ")[1].strip() == line


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Return each subcommand's parser by its name."""
    (action,) = (a for a in parser()._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_help_lists_every_command_with_its_one_line_help() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--help"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    words = " ".join(out.split())  # argparse wraps a long help over lines
    assert list(COMMANDS) == list(subcommands())
    for name, module in COMMANDS.items():
        summary = inspect.cleandoc(module.__doc__).splitlines()[0]
        assert f" {name} {summary}" in words
    assert "examples:" in out


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_has_a_help_of_its_own(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([name, "--help"])
    assert exited.value.code == 0
    first_paragraph = inspect.cleandoc(COMMANDS[name].__doc__).split("\n\n")[0]
    assert " ".join(first_paragraph.split()) in " ".join(capsys.readouterr().out.split())


def test_no_command_exposes_a_child_process_flag() -> None:
    for name, command in subcommands().items():
        for action in command._actions:
            assert action.help != argparse.SUPPRESS, (name, action.option_strings)
            assert "--worker" not in action.option_strings, name
            if "--json" in action.option_strings:
                # A file to write the result to, never a switch to print JSON for a parent.
                assert (action.nargs, action.type) == (None, Path), name
    # The measurements start their children through their own entry point, not this one.
    spawned = re.compile(r'"-m",\s*"benchmarks"\s*[,\]]')
    for path in (REPO / "benchmarks" / "measure").glob("*.py"):
        assert not spawned.search(path.read_text(encoding="utf-8")), path.name


def test_the_child_entry_point_refuses_what_it_does_not_know() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.measure.child", "cost", "--worker", "spec.json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("usage: python -m benchmarks.measure.child")


def test_json_writes_the_result_to_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = tmp_path / "footprint.json"
    assert main(["footprint", "--json", str(figures)]) == 0
    result = json.loads(figures.read_text())
    assert set(result) == {"loc", "dependencies", "framework_footprint"}
    assert set(result["loc"]) == {"flask", "django"}
    assert result["loc"]["flask"]["total"] > 0
    assert "code lines" in capsys.readouterr().out.lower()  # the table is still printed


DOC_COMMAND = re.compile(r"python -m benchmarks ((?:[^`#\n\\]|\\\n)+)")


def test_every_command_line_in_the_docs_parses() -> None:
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    wrong = []
    for page in pages:
        for match in DOC_COMMAND.finditer(page.read_text(encoding="utf-8")):
            line = match.group(1).replace("\\\n", " ").strip()
            words = shlex.split(line)
            if words[0].startswith("<") or words == ["--help"]:
                continue  # "python -m benchmarks <command>": the command line described
            name = words[0].rstrip(":,.")
            if name not in COMMANDS:
                wrong.append(f"{page.name}: no command {name!r}: python -m benchmarks {line}")
            elif name == words[0] and len(words) > 1:
                # A command with arguments is a line to type; a command alone is named in prose.
                try:
                    parser().parse_args(words)
                except SystemExit:
                    wrong.append(f"{page.name}: python -m benchmarks {line}")
    assert wrong == []
