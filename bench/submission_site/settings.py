"""Redress's settings, plus the bare baseline app and its URLs (bench/submission.py only)."""

from __future__ import annotations

from config.settings import *  # noqa: F403
from config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "submission_site"]
ROOT_URLCONF = "submission_site.urls"
