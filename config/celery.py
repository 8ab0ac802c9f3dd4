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
app.autodiscover_tasks()
# Letters' tasks live in claims/letter_tasks.py (the letters queue).
app.autodiscover_tasks(related_name="letter_tasks")


@setup_logging.connect
def _log_as_django_does(**kwargs: Any) -> None:
    """Workers and beat log through settings.LOGGING (JSON lines in production, with
    the request id and task), not through Celery's own format."""
    import logging
    from logging.config import dictConfig

    from django.conf import settings

    dictConfig(settings.LOGGING)
    logging.captureWarnings(True)  # warnings too become log lines, as Django does
