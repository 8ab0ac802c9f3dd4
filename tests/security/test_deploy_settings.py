"""Production settings pass Django's deployment checklist, and staff sessions end."""

from __future__ import annotations

import datetime as dt
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from cryptography.fernet import Fernet
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def test_production_settings_pass_check_deploy_with_no_warning(tmp_path):
    # Only what a deployment sets: nothing of the test runner's own environment (its
    # SECURE_SSL_REDIRECT=false, the browser tests' DJANGO_ALLOW_ASYNC_UNSAFE).
    env = dict(
        PATH=os.environ["PATH"],
        SECRET_KEY=secrets.token_urlsafe(50),
        BANK_DETAILS_KEYS=Fernet.generate_key().decode(),
        ALLOWED_HOSTS="claims.example.org",
        SITE_URL="https://claims.example.org",
        REDRESS_VAR_DIR=str(tmp_path),
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pause", "busy_for", "signed_out"),
    [
        (dt.timedelta(minutes=29), dt.timedelta(0), False),
        (dt.timedelta(minutes=31), dt.timedelta(0), True),
        (dt.timedelta(minutes=20), dt.timedelta(hours=9, minutes=30), False),
        (dt.timedelta(minutes=20), dt.timedelta(hours=10, minutes=10), True),
    ],
)
def test_a_staff_session_ends_when_idle_and_after_a_working_day(
    client, caseworker, pause, busy_for, signed_out
):
    index = reverse("admin:index")
    with time_machine.travel(dt.datetime(2026, 3, 2, 8, 0, tzinfo=dt.UTC), tick=False) as clock:
        client.force_login(caseworker)
        assert client.get(index).status_code == 200
        elapsed = dt.timedelta(0)
        while elapsed + dt.timedelta(minutes=20) <= busy_for:  # a request every 20 minutes
            clock.shift(dt.timedelta(minutes=20))
            elapsed += dt.timedelta(minutes=20)
            client.get(index)
        clock.shift(pause)
        response = client.get(index)

    if signed_out:
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
        assert "_auth_user_id" not in client.session
        told = client.get(response.url).content.decode()
        if pause > dt.timedelta(minutes=30):
            assert "signed out after 30 minutes without activity" in told
        else:
            assert "a staff session lasts at most 10 hours" in told
    else:
        assert response.status_code == 200
