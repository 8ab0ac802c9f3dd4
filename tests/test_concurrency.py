"""Two people acting on one claim at once: the row lock leaves one winner and one event.

Runs on PostgreSQL only (SQLite has no row locks). The first transition holds
the claim's lock until PostgreSQL reports the rival waiting for it, so the
race is forced every run rather than left to timing.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, connections

from claims import roles, services
from claims.models import Claim, Stage
from claims.services import Actor, ClaimError
from tests.factories import People, claim_in_stage, staff


def _wait_until_a_rival_waits_for_a_lock(timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    probe = connections.create_connection("default")
    try:
        with probe.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
                if cursor.fetchone()[0] >= 1:
                    return True
                time.sleep(0.01)
        return False
    finally:
        probe.close()


def _race(first: Callable[[], Any], second: Callable[[], Any], monkeypatch) -> list[Any]:
    """Run two service calls so the second reaches the claim while the first holds it."""
    holding = threading.Event()
    original = services._check_can

    def check_then_hold(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if threading.current_thread().name == "first" and not holding.is_set():
            holding.set()
            _wait_until_a_rival_waits_for_a_lock()
        return result

    monkeypatch.setattr(services, "_check_can", check_then_hold)
    outcomes: dict[str, Any] = {}

    def run(name: str, call: Callable[[], Any]) -> None:
        try:
            if name == "second":
                holding.wait(timeout=10)
            outcomes[name] = call()
        except ClaimError as error:
            outcomes[name] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=("first", first), name="first"),
        threading.Thread(target=run, args=("second", second), name="second"),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return [outcomes["first"], outcomes["second"]]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_caseworkers_starting_triage_at_once_leave_one_winner_and_one_event(monkeypatch):
    people = People()
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    rival = staff(roles.CASEWORKER)

    def start(user: Any) -> Callable[[], Any]:
        return lambda: services.claim_transition(
            claim_id=claim.pk, transition="triage_start", actor=Actor.staff(user)
        )

    first, second = _race(start(people.caseworker), start(rival), monkeypatch)

    assert isinstance(first, Claim)
    assert isinstance(second, ClaimError) and second.code == "illegal_transition"
    claim.refresh_from_db()
    assert claim.stage == Stage.TRIAGE
    assert claim.assigned_to == people.caseworker
    assert claim.events.filter(action="triage_start").count() == 1
    assert claim.status_updates.filter(kind="in_triage").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_claimant_accepting_while_the_offer_expires_leaves_one_outcome(monkeypatch):
    import datetime as dt

    from django.utils import timezone

    people = People()
    claim = claim_in_stage(Stage.OFFER_MADE, people=people)
    later = timezone.localdate() + dt.timedelta(days=400)

    first, second = _race(
        lambda: services.offer_accept(claim_id=claim.pk, actor=Actor.claimant(claim.pk)),
        lambda: services.offer_expire(claim_id=claim.pk, actor=Actor.system(), today=later),
        monkeypatch,
    )

    assert isinstance(first, Claim)
    assert isinstance(second, ClaimError)
    claim.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED
    assert claim.events.filter(action__in=["offer_accept", "offer_expire"]).count() == 1
