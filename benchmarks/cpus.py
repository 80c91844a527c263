"""A set of CPUs by index: what a server, a load generator or a counted interpreter is pinned to.

Written as taskset's list (``0,1``), the form results.json records; read from that form or from a
range (``4-7``), so a count of CPUs is ``len`` of a set, never of a string split on commas.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class CpuSet:
    """CPUs by index, sorted and distinct; ``str`` gives taskset's list ("0,1")."""

    cpus: tuple[int, ...]

    @classmethod
    def of(cls, cpus: Iterable[int]) -> CpuSet:
        """Return the set of these CPUs, in any order, repeats allowed."""
        return cls(tuple(sorted(set(cpus))))

    @classmethod
    def parse(cls, text: str) -> CpuSet:
        """Read a taskset-style list such as '0', '2,3', '4-7' or '0,2-4' ('' is no CPU)."""
        chosen: set[int] = set()
        for part in filter(None, text.split(",")):
            low, _, high = part.partition("-")
            chosen.update(range(int(low), int(high or low) + 1))
        return cls.of(chosen)

    def __str__(self) -> str:
        return ",".join(map(str, self.cpus))

    def __len__(self) -> int:
        return len(self.cpus)

    def __iter__(self) -> Iterator[int]:
        return iter(self.cpus)
