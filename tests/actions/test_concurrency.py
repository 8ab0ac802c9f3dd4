"""Two people acting on one claim at once: the row lock leaves one winner and one event.

Runs on PostgreSQL only (SQLite has no row locks). The first transition holds
the claim's lock until PostgreSQL reports the rival waiting for it, so the
race is forced every run rather than left to timing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from claims import core
from claims.actions import casework, offers, submission
from claims.core import Actor, ClaimError
from claims.domain import roles
from claims.domain.stages import Stage
from claims.models import Claim
from tests.support.factories import People, claim_in_stage, draft_claim, staff
from tests.support.races import race


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_caseworkers_starting_triage_at_once_leave_one_winner_and_one_event(monkeypatch):
    people = People()
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    rival = staff(roles.CASEWORKER)

    def start(user: Any) -> Callable[[], Any]:
        return lambda: casework.claim_transition(
            claim_id=claim.pk, transition="triage_start", actor=Actor.staff(user)
        )

    first, second = race(start(people.caseworker), start(rival), monkeypatch)

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

    first, second = race(
        lambda: offers.offer_accept(claim_id=claim.pk, actor=Actor.claimant(claim.pk)),
        lambda: offers.offer_expire(claim_id=claim.pk, actor=Actor.system(), today=later),
        monkeypatch,
    )

    assert isinstance(first, Claim)
    assert isinstance(second, ClaimError)
    claim.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED
    assert claim.events.filter(action__in=["offer_accept", "offer_expire"]).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_removing_the_last_loss_while_the_claim_is_submitted_leaves_a_draft(monkeypatch):
    """The submission checks the heads of loss in the UPDATE that submits, which starts
    once the lock is its own: a check in the locking SELECT would still see the removed
    head of loss (its snapshot is from before the wait) and submit an empty claim."""
    claim = draft_claim()
    actor = Actor.claimant(claim.pk)
    head = submission.head_of_loss_add(
        claim_id=claim.pk, actor=actor, category="time_spent", hours="2", description="Calls"
    )

    removed, refused = race(
        lambda: submission.head_of_loss_remove(head_id=head.pk, actor=actor),
        lambda: submission.claim_submit(claim_id=claim.pk, actor=actor, statement_of_truth=True),
        monkeypatch,
        hold_after=(core, "record"),
    )

    assert removed is None
    assert isinstance(refused, ClaimError) and refused.code == "no_heads_of_loss"
    claim.refresh_from_db()
    assert claim.stage == Stage.DRAFT
    assert not claim.events.filter(action="submit").exists()
    assert not claim.status_updates.exists() and not claim.letter_requests.exists()
