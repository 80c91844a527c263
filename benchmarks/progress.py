"""A one-line progress bar with the current step and an ETA, written to stderr."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Track planned work in seconds; show done/total, the step, elapsed time and an ETA."""

    def __init__(self, planned_s: float, stream: TextIO = sys.stderr, width: int = 28) -> None:
        self.planned_s = max(planned_s, 1.0)
        self.done_s = 0.0  # planned seconds of the steps finished so far
        self.started = time.monotonic()
        self.stream = stream
        self.width = width
        self.tty = stream.isatty()
        self.step = ""

    def eta_s(self) -> float:
        """Return the expected seconds left, scaled by how fast the run has gone so far."""
        elapsed = time.monotonic() - self.started
        remaining = max(self.planned_s - self.done_s, 0.0)
        pace = elapsed / self.done_s if self.done_s > 5 else 1.0
        return remaining * pace

    def start(self, step: str) -> None:
        """Show that a step has started."""
        self.step = step
        self._draw()

    def advance(self, planned_s: float) -> None:
        """Count a finished step's planned seconds."""
        self.done_s = min(self.done_s + planned_s, self.planned_s)
        self._draw()

    def finish(self) -> None:
        """End the line."""
        self.done_s = self.planned_s
        self.step = "done"
        self._draw()
        if self.tty:
            self.stream.write("\n")
        self.stream.flush()

    def _draw(self) -> None:
        fraction = self.done_s / self.planned_s
        filled = int(fraction * self.width)
        bar = "#" * filled + "-" * (self.width - filled)
        line = (
            f"[{bar}] {fraction:4.0%} {_clock(time.monotonic() - self.started)} elapsed, "
            f"ETA {_clock(self.eta_s())} | {self.step}"
        )
        if self.tty:
            self.stream.write("\r\033[K" + line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"
