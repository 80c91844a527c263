"""Process plumbing: gunicorn and nginx started, pinned, sampled and stopped by PID."""
