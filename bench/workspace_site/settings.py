"""Redress's settings plus one bare view, for bench/workspace.py only."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "workspace_site.urls"
