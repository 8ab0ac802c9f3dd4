"""Two four-eyes holes found by trying the routes as an attacker would (issue 15).

Each test was committed as a strict xfail before its fix, so the fix is what turned it
green."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest

from claims import reviews, roles, services
from claims.models import HeadOfLoss, Offer, Review, Stage
from claims.services import Actor, ClaimError
from tests.factories import People, SchemeFactory, claim_in_stage, staff
from tests.partial_support import answers_for, current_offer

C = HeadOfLoss.Category


def _distress_disputed(people: People) -> Review:
    """A claim with a loss and a distress award, the loss accepted and the distress
    disputed: the review of the distress item is open."""
    scheme = SchemeFactory()
    claim = services.claim_start(scheme=scheme, full_name="Ada Price", email="ada@example.test")
    me = Actor.claimant(claim.pk)
    services.head_of_loss_add(
        claim_id=claim.pk,
        actor=me,
        category=C.BANK_CHARGES,
        amount_claimed="30.00",
        incurred_on=dt.date(2017, 3, 14),
    )
    services.distress_set(
        claim_id=claim.pk, actor=me, affected=True, effects=[], account="I could not sleep."
    )
    services.claim_submit(claim_id=claim.pk, actor=me, statement_of_truth=True)
    caseworker = Actor.staff(people.caseworker)
    for step in ("triage_start", "triage_accept"):
        services.claim_transition(claim_id=claim.pk, transition=step, actor=caseworker)
    minimal = scheme.distress_bands.order_by("lower").first()
    for head in claim.heads_of_loss.all():
        distress = head.category == C.DISTRESS
        services.head_of_loss_assess(
            head_id=head.pk,
            actor=caseworker,
            amount_allowed="100.00" if distress else head.amount_claimed,
            reason="Minimal band." if distress else "",
            distress_band_id=minimal.pk if distress else None,
        )
    services.offer_propose(claim_id=claim.pk, actor=caseworker)
    offer = current_offer(claim)
    reviews.offer_respond(
        claim_id=claim.pk,
        actor=me,
        offer_id=offer.pk,
        answers=answers_for(offer, {C.DISTRESS: "It was far worse than minimal."}),
    )
    return Review.objects.get(offer=offer)


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
    review = _distress_disputed(people)
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
    review = _distress_disputed(people)
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
    services.offer_approve(claim_id=claim.pk, actor=Actor.staff(approver))
    services.offer_decline(claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="Too low")
    services.claim_transition(
        claim_id=claim.pk, transition="review_start", actor=Actor.staff(approver)
    )
    events = claim.events.count()

    with pytest.raises(ClaimError) as refused:
        services.review_uphold(
            claim_id=claim.pk, actor=Actor.staff(approver), reason="The offer was right."
        )

    assert refused.value.code == "four_eyes"
    claim.refresh_from_db()
    assert claim.stage == Stage.REVIEW
    assert claim.events.count() == events
