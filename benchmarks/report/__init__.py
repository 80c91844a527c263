"""Reads results and claims only, and writes report.md and report.html (and terminal tables)."""

from benchmarks.report.render import write_reports

__all__ = ["write_reports"]
