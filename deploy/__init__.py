"""The production deployment: nginx in front of either app (nginx.conf, nginx.py)."""
