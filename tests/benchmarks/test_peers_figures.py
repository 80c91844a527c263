"""The peers' figures that arithmetic makes, on data written here: the process tree's count by
windows (``measure.cost_server``: which dumps make a window, how four windows become
instructions per request, the refusal of a window a process did not dump) and the memory one
more worker costs (``analysis.peers``). The count on real servers is the peers command's
(``python -m benchmarks peers``), too slow for the suite; the memory's is in test_peers.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.analysis import peers as judging
from benchmarks.measure import cost_server
from benchmarks.measure.cost_server import IDLE_NONE, IDLE_SPAN, label

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
