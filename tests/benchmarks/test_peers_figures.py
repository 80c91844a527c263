"""The peers' figures that arithmetic makes, on data written here: the process tree's count by
windows (``measure.cost_server``: which dumps make a window, how four windows become
instructions per request, the refusal of a window a process did not dump), the memory one
more worker costs (``analysis.peers``) and the gap to FastAPI taken apart (``analysis.gap``),
as the peers' section shows it. The count on real servers is the peers command's
(``python -m benchmarks peers``), too slow for the suite; the memory's is in test_peers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.analysis import gap
from benchmarks.analysis import peers as judging
from benchmarks.measure import cost_server
from benchmarks.measure.cost_server import IDLE_NONE, IDLE_SPAN, label
from benchmarks.report import sections_serving
from benchmarks.report.view import Table

CONTROL_OUTPUT = """PID 101: python -m gunicorn -c gunicorn.conf.py django_app.wsgi:application
  OK.
PID 102: python -m gunicorn -c gunicorn.conf.py django_app.wsgi:application
  Error: command refused
"""


def dump(path: Path, trigger: str, total: int) -> None:
    """Write the head of a callgrind dump: its trigger and its total, as callgrind does."""
    path.write_text(
        f"# callgrind format\nversion: 1\ncreator: callgrind-3.19.0\npid: 1\n"
        f"desc: Trigger: {trigger}\n\npositions: line\nevents: Ir\nsummary: {total}\n"
    )


def test_only_the_processes_that_answered_ok_are_counted_as_reached() -> None:
    assert cost_server.answered(CONTROL_OUTPUT) == {101}


def test_the_windows_are_read_by_their_label_and_process_not_the_exit_dumps(
    tmp_path: Path,
) -> None:
    dump(tmp_path / "callgrind.out.101.1", "dump requests-10", 500)
    dump(tmp_path / "callgrind.out.102.1", "dump requests-10", 7)
    dump(tmp_path / "callgrind.out.101.2", "dump requests-110", 900)
    dump(tmp_path / "callgrind.out.101", "Program termination", 10**9)
    assert cost_server.window_totals(tmp_path) == {
        "requests-10": {101: 500, 102: 7},
        "requests-110": {101: 900},
    }


def test_per_request_is_the_windows_difference_less_the_idle_pairs_over_the_extra_requests() -> (
    None
):
    # A worker at 3 M a request, a master at 20 k a second of wall time; every window costs
    # 50 k to open and close, whatever it holds; the n2 window lasted 9 s longer.
    per_request, per_second, fixed = 3_000_000, 20_000, 50_000
    worker, master = 11, 10
    totals = {
        label(10): {worker: fixed + 10 * per_request, master: fixed + 1 * per_second},
        label(110): {worker: fixed + 110 * per_request, master: fixed + 10 * per_second},
        IDLE_NONE: {worker: fixed, master: fixed},
        IDLE_SPAN: {worker: fixed, master: fixed + 9 * per_second},
    }
    counted = {name: [master, worker] for name in totals}
    found = cost_server.derive(totals, counted, (10, 110))
    assert found["instructions"] == pytest.approx(per_request)
    assert found["window_n2"] - found["window_n1"] == 100 * per_request + 9 * per_second
    # Without the idle pair the master's clock would add 1,800 instructions a request.
    assert (found["window_n2"] - found["window_n1"]) / 100 == per_request + 1_800


def test_a_window_a_counted_process_did_not_dump_is_refused() -> None:
    totals = {
        label(1): {1: 10, 2: 10},
        label(2): {1: 20},
        IDLE_NONE: {1: 0, 2: 0},
        IDLE_SPAN: {1: 0, 2: 0},
    }
    counted = {name: [1, 2] for name in totals}
    with pytest.raises(RuntimeError, match="requests-2"):
        cost_server.derive(totals, counted, (1, 2))


def test_the_memory_per_added_worker_is_the_difference_round_by_round() -> None:
    rows = [
        {"target": "fastapi", "round": r, "workers": w, "pss_anon_mib": mib}
        for r, w, mib in ((0, 1, 60.0), (0, 2, 130.0), (1, 2, 128.0), (1, 1, 61.0))
    ]
    rows.append({"target": "flask", "round": 0, "workers": 1, "pss_anon_mib": 100.0})
    peers = {"workers": rows}
    assert judging.per_added_worker(peers, "fastapi") == {0: 70.0, 1: 67.0}  # type: ignore[arg-type]
    # One count only: no difference to take.
    assert judging.per_added_worker(peers, "flask") == {}  # type: ignore[arg-type]


def counted(**instructions: float | None) -> dict:
    """Return a peers record holding only each server's instructions per request, no trials."""
    names = {name.replace("_", "-"): value for name, value in instructions.items()}
    return {
        "targets": {name: {"instructions": value} for name, value in names.items()},
        "trials": [],
    }


# Flask: 5.0 M on the sync worker, 4.2 M kept alive; the bare baselines 2.5 M on gthread
# (2.9 M on sync), 1.9 M on uvicorn; FastAPI 3.0 M.
EVERY_PART = {
    "flask": 5.0e6,
    "flask_gthread": 4.2e6,
    "baseline": 2.9e6,
    "baseline_gthread": 2.5e6,
    "asgi_baseline": 1.9e6,
    "fastapi": 3.0e6,
}


def test_the_gap_to_fastapi_is_taken_apart_into_parts_that_add_up_to_it() -> None:
    peers = counted(**EVERY_PART)
    (flask,) = gap.decompose(peers)  # type: ignore[arg-type]
    parts = {part.name: part for part in flask.parts}
    assert flask.total == pytest.approx(2.0e6)
    assert parts["connection handling"].value == pytest.approx(0.8e6)
    assert parts["server"].value == pytest.approx(0.6e6)
    # (4.2 - 2.5) - (3.0 - 1.9) = 1.7 - 1.1
    assert parts["framework"].value == pytest.approx(0.6e6)
    assert sum(p.value or 0 for p in flask.parts) == pytest.approx(flask.total)
    assert [p.share for p in flask.parts] == pytest.approx([0.4, 0.3, 0.3])
    assert flask.baseline_connection == pytest.approx(0.4e6)


def test_a_part_whose_server_was_not_counted_is_missing_and_an_app_not_measured_has_no_gap() -> (
    None
):
    peers = counted(flask=5.0e6, flask_gthread=4.2e6, fastapi=3.0e6, asgi_baseline=None)
    (flask,) = gap.decompose(peers)  # type: ignore[arg-type]
    found = {part.name: (part.value, part.share) for part in flask.parts}
    assert found["connection handling"] == (pytest.approx(0.8e6), pytest.approx(0.4))
    assert found["server"] == (None, None)
    assert found["framework"] == (None, None)
    assert flask.baseline_connection is None


def test_the_gap_in_cpu_per_request_is_taken_apart_from_the_trials_medians() -> None:
    cpu = {"flask": 560, "flask-gthread": 470, "baseline-gthread": 300, "asgi-baseline": 250,
           "fastapi": 440}  # fmt: skip
    trials = [
        {"target": name, "trial": t, "cpu_us_per_request": us + t, "generator_bound": False}
        for name, us in cpu.items()
        for t in (-5, 0, 5)  # each server's median is its figure above
    ]
    peers = {"targets": {name: {"instructions": None} for name in cpu}, "trials": trials}
    (flask,) = gap.decompose(peers, "cpu_us_per_request")  # type: ignore[arg-type]
    assert (flask.figure, flask.total) == ("cpu_us_per_request", pytest.approx(120))
    found = {part.name: part.value for part in flask.parts}
    assert found == {
        "connection handling": pytest.approx(90),
        "server": pytest.approx(50),
        "framework": pytest.approx(-20),  # (470 - 300) - (440 - 250)
    }
    assert gap.decompose(peers)[0].total is None  # no instructions counted


def test_the_peers_section_shows_the_gap_part_by_part_counted_and_timed() -> None:
    peers = counted(**EVERY_PART)
    _, table = sections_serving.gap_blocks(peers)  # type: ignore[arg-type]
    assert isinstance(table, Table)
    assert [row[1:4] for row in table.rows] == [
        ["whole gap (sync worker - FastAPI)", "2.00 M", "100%"],
        ["connection handling", "0.80 M", "40%"],
        ["server", "0.60 M", "30%"],
        ["framework", "0.60 M", "30%"],
    ]
    assert sections_serving.gap_blocks(counted(flask=5.0e6)) == []  # type: ignore[arg-type]
