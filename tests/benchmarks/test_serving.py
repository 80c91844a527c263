"""Serving: how the CPUs are split between the server and the load generator."""

from __future__ import annotations

import os

import pytest

from benchmarks.serving import processes

pytestmark = pytest.mark.server


def test_split_cpus() -> None:
    assert processes.split_cpus("0/1") == ("0", "1")
    server, load = processes.split_cpus()
    assert not set(server.split(",")) & set(load.split(",")) or len(os.sched_getaffinity(0)) == 1
