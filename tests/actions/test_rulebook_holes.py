"""Two four-eyes holes found by trying the routes as an attacker would (issue 15).

Each test was committed as a strict xfail before its fix, so the fix is what turned it
green."""

from __future__ import annotations

import contextlib

import pytest

from claims.actions import casework, offers, reviews
from claims.core import Actor, ClaimError
from claims.domain import roles
from claims.domain.stages import Stage
from claims.models import HeadOfLoss, Offer
from tests.support import partial as ps
from tests.support.factories import claim_in_stage, staff

C = HeadOfLoss.Category


def _self_approved_offers_above_threshold(claim_id: int) -> list[Offer]:
    """Offers the claimant can see, above the threshold, without an approver who neither
    assessed nor proposed them."""
    found = []
    for offer in Offer.objects.filter(claim_id=claim_id, made_at__isnull=False):
        if offer.total <= offer.claim.scheme.offer_approval_threshold:
            continue
        shapers = {offer.proposed_by_id} | {
            item.assessed_by_id for item in offer.items.all() if item.assessed_by_id
        }
        if offer.approved_by_id is None or offer.approved_by_id in shapers:
            found.append(offer)
    return found


@pytest.mark.django_db
def test_one_senior_cannot_put_a_revised_part_offer_above_the_threshold_before_the_claimant(
    people,
):
    review = ps.distress_disputed(people)
    disputed = review.disputed_items().get()

    with contextlib.suppress(ClaimError):
        reviews.part_review_revise(
            review_id=review.pk,
            actor=Actor.staff(people.senior),
            reason="Serious distress.",
            amounts={disputed.pk: "40000.00"},
        )

    assert _self_approved_offers_above_threshold(review.claim_id) == []


@pytest.mark.django_db
def test_a_revised_distress_award_outside_its_band_is_refused(people):
    review = ps.distress_disputed(people)
    disputed = review.disputed_items().get()

    with pytest.raises(ClaimError) as refused:
        reviews.part_review_revise(
            review_id=review.pk,
            actor=Actor.staff(people.senior),
            reason="A little more.",
            amounts={disputed.pk: "400.00"},  # above the minimal band's £250
        )

    assert refused.value.code == "outside_band"
    review.refresh_from_db()
    assert review.state == "open" and review.revised_offer is None


@pytest.mark.django_db
def test_the_senior_who_approved_an_offer_cannot_decide_its_review(people):
    claim = claim_in_stage(Stage.OFFER_PENDING_APPROVAL, people=people)
    approver = staff(roles.SENIOR_CASEWORKER)
    offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(approver))
    offers.offer_decline(claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="Too low")
    casework.claim_transition(
        claim_id=claim.pk, transition="review_start", actor=Actor.staff(approver)
    )
    events = claim.events.count()

    with pytest.raises(ClaimError) as refused:
        offers.review_uphold(
            claim_id=claim.pk, actor=Actor.staff(approver), reason="The offer was right."
        )

    assert refused.value.code == "four_eyes"
    claim.refresh_from_db()
    assert claim.stage == Stage.REVIEW
    assert claim.events.count() == events
