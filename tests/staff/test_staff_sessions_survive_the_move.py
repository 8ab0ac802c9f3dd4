"""Migration 0016: staff signed in before the sign-in backend moved stay signed in."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.contrib.auth import BACKEND_SESSION_KEY
from django.db import connection
from django.urls import reverse

from claims.domain import roles
from tests.support.factories import staff
from tests.support.staff_login import StaffClient

pytestmark = pytest.mark.django_db

migration = importlib.import_module("claims.migrations.0016_staff_sessions_backend_path")


def signed_in_before_the_move() -> StaffClient:
    client = StaffClient()
    client.force_login(staff(roles.CASEWORKER), backend=migration.NEW)
    session = client.session
    session[BACKEND_SESSION_KEY] = migration.OLD  # as the old release wrote it
    session.save()
    return client


def test_the_new_path_is_the_one_settings_name(settings) -> None:
    assert migration.NEW in settings.AUTHENTICATION_BACKENDS
    assert migration.OLD not in settings.AUTHENTICATION_BACKENDS


def test_a_session_with_the_old_path_would_be_signed_out_without_the_migration() -> None:
    client = signed_in_before_the_move()
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_after_the_migration_the_same_session_opens_the_staff_site() -> None:
    client = signed_in_before_the_move()
    migration.forwards(apps, SimpleNamespace(connection=connection))
    assert client.session[BACKEND_SESSION_KEY] == migration.NEW
    response = client.get(reverse("admin:index"))
    assert response.status_code == 200


def test_the_migration_runs_backwards_too() -> None:
    client = signed_in_before_the_move()
    migration.forwards(apps, SimpleNamespace(connection=connection))
    migration.backwards(apps, SimpleNamespace(connection=connection))
    assert client.session[BACKEND_SESSION_KEY] == migration.OLD
