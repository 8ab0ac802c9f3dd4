"""The bench-only site for bench/submission.py: Redress's own URLs plus a bare baseline
view, so both are served by one gunicorn in one run. Never part of the project's URLs."""
