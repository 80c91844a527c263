"""Reads results only: per-cell figures, noise, the claims' verdicts, run-to-run comparison."""
