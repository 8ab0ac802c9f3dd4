"""Offers above the scheme's threshold need a senior caseworker who did not assess them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claims.actions import casework, offers
from claims.core import Actor, ClaimError
from claims.domain import roles
from claims.domain.stages import Stage
from claims.models import HeadOfLoss, LetterRequest, Offer
from tests.support.factories import assess_all, claim_in_stage, staff


@pytest.mark.django_db
def test_offer_at_the_threshold_is_made_without_approval(people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    head = claim.heads_of_loss.get()
    threshold = claim.scheme.offer_approval_threshold
    HeadOfLoss.objects.filter(pk=head.pk).update(amount_claimed=threshold)
    assess_all(claim, people.caseworker)

    offer = offers.offer_propose(claim_id=claim.pk, actor=Actor.staff(people.caseworker))

    claim.refresh_from_db()
    assert offer.total == threshold
    assert claim.stage == Stage.OFFER_MADE
    assert offer.accept_by is not None and offer.approved_by is None


@pytest.mark.django_db
def test_offer_a_penny_above_the_threshold_waits_for_approval(people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    head = claim.heads_of_loss.get()
    above = claim.scheme.offer_approval_threshold + Decimal("0.01")
    HeadOfLoss.objects.filter(pk=head.pk).update(amount_claimed=above)
    assess_all(claim, people.caseworker)

    offer = offers.offer_propose(claim_id=claim.pk, actor=Actor.staff(people.caseworker))

    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_PENDING_APPROVAL
    assert offer.accept_by is None and offer.made_at is None
    assert claim.status_updates.last().kind == "offer_being_checked"


@pytest.mark.django_db
def test_senior_caseworker_cannot_approve_an_offer_they_proposed(people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people, large=True)
    assess_all(claim, people.senior)
    offers.offer_propose(claim_id=claim.pk, actor=Actor.staff(people.senior))
    events = claim.events.count()

    with pytest.raises(ClaimError) as refused:
        offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(people.senior))

    claim.refresh_from_db()
    assert refused.value.code == "four_eyes"
    assert claim.stage == Stage.OFFER_PENDING_APPROVAL
    assert claim.events.count() == events


@pytest.mark.django_db
def test_senior_who_assessed_one_head_cannot_approve_though_another_proposed(people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people, large=True)
    assess_all(claim, people.senior)
    offers.offer_propose(claim_id=claim.pk, actor=Actor.staff(people.caseworker))

    with pytest.raises(ClaimError) as refused:
        offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(people.senior))

    assert refused.value.code == "four_eyes"


@pytest.mark.django_db
def test_independent_senior_approves_and_the_offer_is_made(people):
    claim = claim_in_stage(Stage.OFFER_PENDING_APPROVAL, people=people)
    approver = staff(roles.SENIOR_CASEWORKER)

    offer = offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(approver))

    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_MADE
    assert offer.approved_by == approver and offer.accept_by is not None
    event = claim.events.get(action="offer_approve")
    assert event.actor == approver
    assert claim.status_updates.get(event=event).kind == "offer_made"


@pytest.mark.django_db
def test_caseworker_cannot_approve_any_offer(people):
    claim = claim_in_stage(Stage.OFFER_PENDING_APPROVAL, people=people)
    other_caseworker = staff(roles.CASEWORKER)

    with pytest.raises(ClaimError) as refused:
        offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(other_caseworker))

    assert refused.value.code == "forbidden"
    assert Offer.objects.get(claim=claim).approved_by is None


@pytest.mark.django_db
def test_reviewer_of_a_declined_offer_must_not_have_assessed_it(people):
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    assess_all(claim, people.senior)
    offers.offer_propose(claim_id=claim.pk, actor=Actor.staff(people.senior))
    offers.offer_decline(claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="Too low")
    casework.claim_transition(
        claim_id=claim.pk, transition="review_start", actor=Actor.staff(people.senior)
    )

    with pytest.raises(ClaimError) as revise:
        offers.review_revise(claim_id=claim.pk, actor=Actor.staff(people.senior), reason="x")
    with pytest.raises(ClaimError) as uphold:
        offers.review_uphold(claim_id=claim.pk, actor=Actor.staff(people.senior), reason="x")

    assert revise.value.code == uphold.value.code == "four_eyes"
    claim.refresh_from_db()
    assert claim.stage == Stage.REVIEW


@pytest.mark.django_db
def test_revised_offer_after_review_is_a_new_version_and_keeps_the_old(people):
    claim = claim_in_stage(Stage.REVIEW, people=people)
    reviewer = staff(roles.SENIOR_CASEWORKER)
    head = claim.heads_of_loss.get()
    casework.head_of_loss_assess(
        head_id=head.pk,
        actor=Actor.staff(reviewer),
        amount_allowed=head.amount_claimed - Decimal("5.00"),
        reason="One charge was refunded by the bank",
    )

    offer = offers.review_revise(
        claim_id=claim.pk, actor=Actor.staff(reviewer), reason="Refund found on statement"
    )

    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_MADE
    assert offer.version == 2
    assert list(claim.offers.order_by("version").values_list("total", flat=True)) == [
        head.amount_claimed,
        head.amount_claimed - Decimal("5.00"),
    ]
    item = offer.items.get()
    assert item.reason == "One charge was refunded by the bank"


@pytest.mark.django_db
def test_a_revised_offer_above_the_threshold_waits_for_a_senior_who_did_not_shape_it(people):
    claim = claim_in_stage(Stage.OFFER_PENDING_APPROVAL, people=people)
    offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(staff(roles.SENIOR_CASEWORKER)))
    offers.offer_decline(claim_id=claim.pk, actor=Actor.claimant(claim.pk), reason="Too low")
    reviewer = staff(roles.SENIOR_CASEWORKER)
    casework.claim_transition(
        claim_id=claim.pk, transition="review_start", actor=Actor.staff(reviewer)
    )
    head = claim.heads_of_loss.get()
    casework.head_of_loss_assess(
        head_id=head.pk,
        actor=Actor.staff(reviewer),
        amount_allowed=head.amount_claimed - Decimal("100.00"),
        reason="One payment was refunded",
    )
    offers_before = claim.offers.count()

    proposed = offers.review_revise(claim_id=claim.pk, actor=Actor.staff(reviewer), reason="Refund")
    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_PENDING_APPROVAL
    assert proposed.made_at is None and proposed.approved_by is None
    with pytest.raises(ClaimError) as alone:
        offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(reviewer))
    second = staff(roles.SENIOR_CASEWORKER)
    offer = offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(second))

    assert alone.value.code == "four_eyes"
    assert offer.pk == proposed.pk and offer.version == offers_before + 1
    assert offer.total == head.amount_claimed - Decimal("100.00")
    assert offer.approved_by == second and offer.made_at is not None
    event = claim.events.get(action="review_approve")
    # Told as the review's outcome, with the reviewer's reasons.
    assert event.reason == "Refund"
    assert LetterRequest.objects.get(event=event).kind == "review_outcome"
    assert claim.status_updates.get(event=event).kind == "review_outcome"
