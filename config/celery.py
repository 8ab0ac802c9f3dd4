from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("redress")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Letters' tasks live in claims/letter_tasks.py (the letters queue).
app.autodiscover_tasks(related_name="letter_tasks")
