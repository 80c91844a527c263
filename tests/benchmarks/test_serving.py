"""Serving: how the CPUs are split between the server and the load generator; how a server stops."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.cpus import CpuSet
from benchmarks.serving import gunicorn, processes

pytestmark = pytest.mark.server


def test_split_cpus() -> None:
    assert processes.split_cpus("0/1") == (CpuSet((0,)), CpuSet((1,)))
    assert processes.split_cpus("0-1/2,3") == (CpuSet((0, 1)), CpuSet((2, 3)))
    server, load = processes.split_cpus()
    assert not set(server) & set(load) or len(os.sched_getaffinity(0)) == 1


# A stand-in master: it counts the SIGTERMs it gets, takes longer than RESIGNAL_S to shut down
# after the first, then exits with the count.
SLOW_MASTER = """
import signal, sys, time
got = []
signal.signal(signal.SIGTERM, lambda *_: got.append(1))
print("ready", flush=True)
while not got:
    time.sleep(0.01)
time.sleep({delay})
sys.exit(len(got))
"""


def test_stop_signals_the_master_once(tmp_path: Path) -> None:
    """A second SIGTERM can reach a master after Python has restored the default action on its
    way out, which kills it (-15) although its shutdown was clean."""
    program = SLOW_MASTER.format(delay=gunicorn.RESIGNAL_S + 0.5)
    process = subprocess.Popen([sys.executable, "-c", program], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    server = gunicorn.Server("stand-in", 0, process, tmp_path / "log")
    code = server.stop(timeout=10)
    process.stdout.close()
    assert code == 1
