"""Serving: how the CPUs are split between the server and the load generator."""

from __future__ import annotations

import os

import pytest

from benchmarks.cpus import CpuSet
from benchmarks.serving import processes

pytestmark = pytest.mark.server


def test_split_cpus() -> None:
    assert processes.split_cpus("0/1") == (CpuSet((0,)), CpuSet((1,)))
    assert processes.split_cpus("0-1/2,3") == (CpuSet((0, 1)), CpuSet((2, 3)))
    server, load = processes.split_cpus()
    assert not set(server) & set(load) or len(os.sched_getaffinity(0)) == 1
