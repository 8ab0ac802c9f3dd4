"""Partial acceptance under concurrency, on PostgreSQL (SQLite has no row locks): an
answer sent twice at once opens one review, and two senior caseworkers deciding one
review at once leave one decision. The first call holds the claim's lock until the
rival is seen waiting for it, so the race happens every run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from claims import reviews
from claims.models import Offer, Review, ReviewState, Stage
from claims.services import Actor, ClaimError
from tests import partial_support as ps
from tests.factories import People, staff
from tests.test_concurrency import _race, _wait_until_a_rival_waits_for_a_lock

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

    first, second = _race(answer, answer, monkeypatch)

    assert not isinstance(first, ClaimError)
    assert isinstance(second, ClaimError) and second.code == "illegal_transition"
    claim.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED
    assert Review.objects.filter(claim=claim).count() == 1
    assert claim.events.filter(action="offer_accept_part").count() == 1
    assert claim.status_updates.filter(kind="accepted_in_part").count() == 1


def _race_decisions(first: Callable[[], Any], second: Callable[[], Any], monkeypatch) -> list[Any]:
    holding = threading.Event()
    original = reviews._check_move

    def check_then_hold(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if threading.current_thread().name == "first" and not holding.is_set():
            holding.set()
            _wait_until_a_rival_waits_for_a_lock()
        return result

    monkeypatch.setattr(reviews, "_check_move", check_then_hold)
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
        threading.Thread(target=run, args=(name, call), name=name)
        for name, call in (("first", first), ("second", second))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return [outcomes["first"], outcomes["second"]]


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

    first, second = _race_decisions(uphold, revise, monkeypatch)

    assert isinstance(first, Review)
    assert isinstance(second, ClaimError) and second.code == "illegal_transition"
    review.refresh_from_db()
    assert review.state == ReviewState.UPHELD
    assert Offer.objects.filter(claim=claim).count() == 1
    assert claim.events.filter(action__startswith="part_review_").count() == 1
