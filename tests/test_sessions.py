"""The session store (claims.sessions): Django's database sessions, read with one query."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from claims.sessions import SessionStore


@pytest.mark.django_db
def test_a_saved_session_reads_back_in_one_query() -> None:
    saved = SessionStore()
    saved["redress_claimant"] = {"claim": 7, "seen": 1.5}
    saved.save()

    with CaptureQueriesContext(connection) as queries:
        read = SessionStore(saved.session_key)
        assert read["redress_claimant"] == {"claim": 7, "seen": 1.5}

    assert len(queries) == 1
    assert read.session_key == saved.session_key


@pytest.mark.django_db
def test_an_expired_session_reads_as_empty_and_its_key_is_dropped() -> None:
    saved = SessionStore()
    saved["redress_claimant"] = {"claim": 7}
    saved.save()
    Session.objects.filter(session_key=saved.session_key).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )

    read = SessionStore(saved.session_key)

    assert read.get("redress_claimant") is None
    assert read.session_key is None  # a write would make a new session, not revive it


@pytest.mark.django_db
def test_a_tampered_session_reads_as_empty() -> None:
    saved = SessionStore()
    saved["redress_claimant"] = {"claim": 7}
    saved.save()
    row = Session.objects.get(session_key=saved.session_key)
    Session.objects.filter(pk=row.pk).update(session_data=row.session_data[:-3] + "AAA")

    assert SessionStore(saved.session_key).get("redress_claimant") is None


@pytest.mark.django_db
def test_an_unknown_key_reads_as_empty() -> None:
    read = SessionStore("x" * 32)

    assert read.load() == {}
    assert read.session_key is None
