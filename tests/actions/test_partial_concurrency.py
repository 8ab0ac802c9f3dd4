"""Partial acceptance under concurrency, on PostgreSQL (SQLite has no row locks): an
answer sent twice at once opens one review, and two senior caseworkers deciding one
review at once leave one decision. The first call holds the claim's lock until the
rival is seen waiting for it, so the race happens every run."""

from __future__ import annotations

from typing import Any

import pytest

from claims.actions import reviews
from claims.core import Actor, ClaimError
from claims.domain.stages import ReviewState, Stage
from claims.models import Offer, Review
from tests.support import partial as ps
from tests.support.factories import People, staff
from tests.support.races import race

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_an_answer_sent_twice_at_once_opens_one_review(monkeypatch):
    people = People()
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.current_offer(claim)
    answers = ps.answers_for(offer, {ps.DISPUTED: ps.DISPUTE_REASON})

    def answer() -> Any:
        return reviews.offer_respond(
            claim_id=claim.pk, actor=Actor.claimant(claim.pk), offer_id=offer.pk, answers=answers
        )

    first, second = race(answer, answer, monkeypatch)

    assert not isinstance(first, ClaimError)
    assert isinstance(second, ClaimError) and second.code == "illegal_transition"
    claim.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED
    assert Review.objects.filter(claim=claim).count() == 1
    assert claim.events.filter(action="offer_accept_part").count() == 1
    assert claim.status_updates.filter(kind="accepted_in_part").count() == 1


def test_two_seniors_deciding_one_review_at_once_leave_one_decision(monkeypatch):
    people = People()
    claim = ps.offer_made_with_three_heads(people)
    review = ps.accept_part(claim)
    other_senior = Actor.staff(staff("Senior caseworker"))
    item = review.disputed_items().get()

    def uphold() -> Any:
        return reviews.part_review_uphold(
            review_id=review.pk, actor=Actor.staff(people.senior), reason="Right first time."
        )

    def revise() -> Any:
        return reviews.part_review_revise(
            review_id=review.pk,
            actor=other_senior,
            reason="Both charges.",
            amounts={item.pk: "66.66"},
        )

    first, second = race(uphold, revise, monkeypatch, hold_after=(reviews, "_check_move"))

    assert isinstance(first, Review)
    assert isinstance(second, ClaimError) and second.code == "illegal_transition"
    review.refresh_from_db()
    assert review.state == ReviewState.UPHELD
    assert Offer.objects.filter(claim=claim).count() == 1
    assert claim.events.filter(action__startswith="part_review_").count() == 1
