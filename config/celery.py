from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import setup_logging

# Connects the signals that carry a request id from the web into tasks and their logs.
import config.observability  # noqa: F401

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("redress")
app.config_from_object("django.conf:settings", namespace="CELERY")
# The tasks live in claims/delivery/: tasks.py (emails, notices, the clock) and
# letter_tasks.py (the letters queue). Web processes publish by name and import neither.
app.autodiscover_tasks(["claims.delivery"])
app.autodiscover_tasks(["claims.delivery"], related_name="letter_tasks")


@setup_logging.connect
def _log_as_django_does(**kwargs: Any) -> None:
    """Workers and beat log through settings.LOGGING (JSON lines in production, with
    the request id and task), not through Celery's own format."""
    import logging
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    logging.captureWarnings(True)  # warnings too become log lines, as Django does
