"""A claimant accepts some heads of loss and disputes the others: the accepted part is
paid, to the penny, and the disputed part is reviewed by someone independent."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from claims.actions import casework, offers, reviews
from claims.core import Actor, ClaimError
from claims.domain.letters import AUTOMATIC_LETTERS
from claims.domain.stages import REVIEW_MOVES, TRANSITIONS, ItemResponse, ReviewState, Stage
from claims.models import LetterRequest, Review
from claims.queries import partial
from tests.support import partial as ps
from tests.support.factories import staff


def _snapshot(claim):
    claim.refresh_from_db()
    return (
        claim.stage,
        claim.version,
        claim.events.count(),
        claim.status_updates.count(),
        Review.objects.count(),
        sorted(claim.offers.values_list("items__response", flat=True)),
    )


# --- The table is data -------------------------------------------------------------


def test_partial_acceptance_moves_are_in_the_tables():
    assert TRANSITIONS["offer_accept_part"].sources == {Stage.OFFER_MADE}
    assert TRANSITIONS["offer_accept_part"].target == Stage.ACCEPTED
    # The revised part is accepted only once the first part is paid: one payment at a time.
    assert TRANSITIONS["revised_offer_accept"].sources == {Stage.PAID}
    assert REVIEW_MOVES["part_review_revise"].permission == "claims.decide_review"
    assert REVIEW_MOVES["part_review_uphold"].reason_required
    assert AUTOMATIC_LETTERS["part_review_revise"] == AUTOMATIC_LETTERS["part_review_uphold"]


# --- Answering an offer item by item ------------------------------------------------


@pytest.mark.django_db
def test_accepting_part_moves_to_accepted_opens_a_review_and_queues_an_update(people):
    claim = ps.offer_made_with_three_heads(people)

    review = ps.accept_part(claim)

    claim.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED
    event = claim.events.get(action="offer_accept_part")
    assert (event.from_stage, event.to_stage) == (Stage.OFFER_MADE, Stage.ACCEPTED)
    assert event.data["accepted"] == "333.34"
    assert event.data["disputed"] == "33.34"
    update = claim.status_updates.get(event=event)
    assert update.kind == "accepted_in_part" and update.stage == Stage.ACCEPTED
    assert review.state == ReviewState.OPEN
    disputed = review.disputed_items().get()
    assert disputed.category == ps.DISPUTED
    assert disputed.dispute_reason == ps.DISPUTE_REASON


@pytest.mark.django_db
def test_partial_acceptance_sums_the_accepted_items_to_the_penny(people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.current_offer(claim)
    assert offer.total == ps.OFFER_TOTAL

    ps.accept_part(claim)

    offer.refresh_from_db()
    accepted = partial.accepted_amount(offer)
    assert accepted == ps.ACCEPTED_PART == Decimal("333.34")
    assert accepted + partial.disputed_amount(offer) == offer.total
    assert partial.accepted_total(claim) == Decimal("333.34")
    assert isinstance(accepted, Decimal) and accepted.as_tuple().exponent == -2


@pytest.mark.django_db
def test_thirds_of_a_pound_sum_exactly_whichever_items_are_accepted(people):
    """0.1 + 0.2 is not 0.3 in floats; in Decimal it is, for every choice of items."""
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.current_offer(claim)
    items = list(offer.items.order_by("id"))
    amounts = [Decimal("0.10"), Decimal("0.20"), Decimal("333.33")]
    for item, amount in zip(items, amounts, strict=True):
        item.amount_offered = amount
        item.save()
    for mask in range(1, 7):  # every mix of accepted and disputed, not all and not none
        for i, item in enumerate(items):
            item.response = ItemResponse.ACCEPTED if mask >> i & 1 else ItemResponse.DISPUTED
            item.save()
        expected = sum((a for i, a in enumerate(amounts) if mask >> i & 1), Decimal("0.00"))
        assert partial.accepted_amount(offer) == expected
        if mask == 0b011:
            assert partial.accepted_amount(offer) == Decimal("0.30")


@pytest.mark.django_db
def test_accepting_every_item_is_a_full_acceptance(people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.current_offer(claim)

    reviews.offer_respond(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        offer_id=offer.pk,
        answers=ps.answers_for(offer, {}),
    )

    claim.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED
    assert claim.events.filter(action="offer_accept").count() == 1
    assert claim.status_updates.last().kind == "accepted"
    assert not Review.objects.exists()
    assert partial.accepted_total(claim) == ps.OFFER_TOTAL


@pytest.mark.django_db
def test_disputing_every_item_is_a_decline_with_the_reasons(people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.current_offer(claim)
    disputed = {item.category: f"Not enough for {item.category}" for item in offer.items.all()}

    reviews.offer_respond(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        offer_id=offer.pk,
        answers=ps.answers_for(offer, disputed),
    )

    claim.refresh_from_db()
    assert claim.stage == Stage.DECLINED
    event = claim.events.get(action="offer_decline")
    assert "Bank charges: Not enough for bank_charges" in event.reason
    assert claim.status_updates.get(event=event).kind == "declined"
    assert set(offer.items.values_list("response", flat=True)) == {ItemResponse.DISPUTED}
    assert partial.accepted_total(claim) == 0


@pytest.mark.django_db
def test_the_whole_offer_accepted_the_old_way_pays_its_total(people):
    claim = ps.offer_made_with_three_heads(people)

    offers.offer_accept(claim_id=claim.pk, actor=Actor.claimant(claim.pk))

    assert partial.accepted_total(claim) == ps.OFFER_TOTAL


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "code"),
    [
        ("missing_item", "incomplete"),
        ("blank_reason", "reason_required"),
        ("long_reason", "too_long"),
        ("stale", "conflict"),
        ("other_claims_offer", "not_found"),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(change, code, people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.current_offer(claim)
    answers = ps.answers_for(offer, {ps.DISPUTED: "Too low"})
    offer_id, expected_version = offer.pk, claim.version
    if change == "missing_item":
        answers.popitem()
    elif change == "blank_reason":
        answers = ps.answers_for(offer, {ps.DISPUTED: "   "})
    elif change == "long_reason":
        answers = ps.answers_for(offer, {ps.DISPUTED: "x" * 5001})
    elif change == "stale":
        expected_version -= 1
    elif change == "other_claims_offer":
        offer_id = ps.current_offer(ps.offer_made_with_three_heads(people)).pk
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        reviews.offer_respond(
            claim_id=claim.pk,
            actor=Actor.claimant(claim.pk),
            offer_id=offer_id,
            answers=answers,
            expected_version=expected_version,
        )

    assert refused.value.code == code
    assert refused.value.message
    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_an_expired_offer_cannot_be_accepted_in_part(people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.current_offer(claim)
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        reviews.offer_respond(
            claim_id=claim.pk,
            actor=Actor.claimant(claim.pk),
            offer_id=offer.pk,
            answers=ps.answers_for(offer, {ps.DISPUTED: "Too low"}),
            today=offer.accept_by + timezone.timedelta(days=1),
        )

    assert refused.value.code == "offer_expired"
    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_staff_cannot_answer_an_offer_for_the_claimant(people):
    claim = ps.offer_made_with_three_heads(people)
    offer = ps.current_offer(claim)

    with pytest.raises(ClaimError) as refused:
        reviews.offer_respond(
            claim_id=claim.pk,
            actor=Actor.staff(people.senior),
            offer_id=offer.pk,
            answers=ps.answers_for(offer, {ps.DISPUTED: "Too low"}),
        )

    assert refused.value.code == "forbidden"


# --- Deciding the review ------------------------------------------------------------


@pytest.mark.django_db
def test_upholding_records_the_decision_sends_an_update_and_a_letter(people):
    claim = ps.offer_made_with_three_heads(people)
    review = ps.accept_part(claim)

    reviews.part_review_uphold(
        review_id=review.pk, actor=Actor.staff(people.senior), reason="One charge only."
    )

    claim.refresh_from_db()
    review.refresh_from_db()
    assert review.state == ReviewState.UPHELD and review.decided_by == people.senior
    assert claim.stage == Stage.ACCEPTED  # the accepted part still goes to payment
    event = claim.events.get(action="part_review_uphold")
    assert event.reason == "One charge only." and event.actor == people.senior
    assert claim.status_updates.get(event=event).kind == "review_outcome"
    assert LetterRequest.objects.get(event=event).kind == "review_outcome"
    assert partial.accepted_total(claim) == ps.ACCEPTED_PART


@pytest.mark.django_db
def test_revising_makes_a_new_offer_for_the_disputed_items_only(people):
    claim = ps.offer_made_with_three_heads(people)
    review = ps.accept_part(claim)

    offer = ps.revise(review, people, amount="66.66")

    claim.refresh_from_db()
    review.refresh_from_db()
    assert review.state == ReviewState.REVISED and review.revised_offer == offer
    assert offer.version == 2 and offer.total == Decimal("66.66")
    # Made, but its accept-by date waits until the first part is paid (it cannot be
    # accepted before then).
    assert offer.made_at is not None and offer.accept_by is None
    assert list(offer.items.values_list("category", flat=True)) == [ps.DISPUTED]
    event = claim.events.get(action="part_review_revise")
    assert event.data["offer_version"] == 2
    assert claim.status_updates.get(event=event).kind == "review_outcome"
    assert LetterRequest.objects.get(event=event).kind == "review_outcome"
    # Until the first part is paid, what is paid is still the first accepted part.
    assert partial.accepted_total(claim) == ps.ACCEPTED_PART


@pytest.mark.django_db
def test_a_caseworker_cannot_decide_a_review(people):
    claim = ps.offer_made_with_three_heads(people)
    review = ps.accept_part(claim)
    other_caseworker = Actor.staff(staff("Caseworker"))
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        reviews.part_review_uphold(review_id=review.pk, actor=other_caseworker, reason="Fine")

    assert refused.value.code == "forbidden"
    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_the_assessor_cannot_review_their_own_assessment(people):
    claim = ps.offer_made_with_three_heads(people)
    # The senior caseworker assessed one head and proposed the offer this time.
    head = claim.heads_of_loss.get(category=ps.DISPUTED)
    head.assessed_by = people.senior
    head.save()
    item = ps.current_offer(claim).items.get(head_of_loss=head)
    item.assessed_by = people.senior
    item.save()
    review = ps.accept_part(claim)
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        ps.revise(review, people)
    with pytest.raises(ClaimError) as refused_uphold:
        reviews.part_review_uphold(
            review_id=review.pk, actor=Actor.staff(people.senior), reason="Fine"
        )

    assert refused.value.code == refused_uphold.value.code == "four_eyes"
    assert _snapshot(claim) == before


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("amount", "code"),
    [
        ("33.33", "below_offered"),
        ("66.68", "above_claimed"),
        ("33.34", "unchanged"),
        ("12.345", "invalid_amount"),
        ("lots", "invalid_amount"),
    ],
)
def test_a_revised_amount_that_breaks_the_rules_is_refused(amount, code, people):
    claim = ps.offer_made_with_three_heads(people)
    review = ps.accept_part(claim)
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        ps.revise(review, people, amount=amount)

    assert refused.value.code == code
    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_a_review_is_decided_once(people):
    claim = ps.offer_made_with_three_heads(people)
    review = ps.accept_part(claim)
    reviews.part_review_uphold(review_id=review.pk, actor=Actor.staff(people.senior), reason="No")
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        ps.revise(review, people)

    assert refused.value.code == "illegal_transition"
    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_a_claim_with_an_open_review_is_not_closed(people):
    claim = ps.offer_made_with_three_heads(people)
    ps.accept_part(claim)
    ps.give_bank_details(claim)
    ps.pay(claim, people)

    with pytest.raises(ClaimError) as refused:
        casework.claim_transition(
            claim_id=claim.pk, transition="close", actor=Actor.staff(people.finance)
        )

    claim.refresh_from_db()
    assert refused.value.code == "review_open"
    assert claim.stage == Stage.PAID


# --- Accepting the revised offer ----------------------------------------------------


@pytest.mark.django_db
def test_the_revised_offer_waits_until_the_first_part_is_paid(people):
    claim = ps.offer_made_with_three_heads(people)
    review = ps.accept_part(claim)
    offer = ps.revise(review, people)
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        reviews.revised_offer_accept(
            claim_id=claim.pk, actor=Actor.claimant(claim.pk), offer_id=offer.pk
        )

    assert refused.value.code == "first_payment_pending"
    assert "as soon as that payment is made" in refused.value.message
    assert _snapshot(claim) == before


@pytest.mark.django_db
def test_accepting_the_revised_offer_after_payment_sends_the_extra_to_payment(people):
    claim = ps.offer_made_with_three_heads(people)
    review = ps.accept_part(claim)
    offer = ps.revise(review, people, amount="66.66")
    ps.give_bank_details(claim)
    ps.pay(claim, people)
    claim.refresh_from_db()
    assert claim.stage == Stage.PAID

    reviews.revised_offer_accept(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), offer_id=offer.pk
    )
    # A second click changes nothing.
    reviews.revised_offer_accept(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), offer_id=offer.pk
    )

    claim.refresh_from_db()
    review.refresh_from_db()
    assert claim.stage == Stage.ACCEPTED
    assert review.state == ReviewState.ACCEPTED
    event = claim.events.get(action="revised_offer_accept")
    assert (event.from_stage, event.to_stage) == (Stage.PAID, Stage.ACCEPTED)
    assert claim.status_updates.get(event=event).kind == "accepted"
    # What is paid now is the revised offer, and only it: the first part was paid.
    assert partial.accepted_offer(claim) == offer
    assert partial.accepted_total(claim) == Decimal("66.66")
    ps.pay(claim, people)
    claim.refresh_from_db()
    assert claim.stage == Stage.PAID


@pytest.mark.django_db
def test_the_part_acceptance_email_says_what_is_paid_and_what_is_reviewed(people):
    from claims.delivery.emails import _status_update_email

    claim = ps.offer_made_with_three_heads(people)
    ps.accept_part(claim)
    update = claim.status_updates.get(kind="accepted_in_part")

    email = _status_update_email(update)

    assert "You accepted £333.34" in email.body
    assert "You disputed £33.34 for:" in email.body
    assert "  - Bank charges: £33.34" in email.body
    assert "12345678" not in email.body


@pytest.mark.django_db
def test_the_paid_email_gives_the_accepted_part_not_the_offer_total(people):
    from claims.delivery.emails import _status_update_email

    claim = ps.offer_made_with_three_heads(people)
    ps.accept_part(claim)
    ps.give_bank_details(claim)
    ps.pay(claim, people)

    email = _status_update_email(claim.status_updates.get(kind="paid"))

    assert "payment of £333.34" in email.body
    assert "£366.68" not in email.body


# --- Payment and the fund follow the accepted items --------------------------------


def _fund(claim):
    from claims.queries.funds import fund_summary

    summary = fund_summary(claim.scheme)
    return summary.offered, summary.accepted, summary.paid


@pytest.mark.django_db
def test_payable_amount_and_the_fund_follow_the_accepted_items_to_the_penny(people):
    from claims.actions.payments import payable_amount

    claim = ps.offer_made_with_three_heads(people)
    assert _fund(claim) == (ps.OFFER_TOTAL, 0, 0)

    review = ps.accept_part(claim)
    assert payable_amount(claim) == Decimal("333.34")
    assert _fund(claim) == (Decimal("33.34"), Decimal("333.34"), 0)

    offer = ps.revise(review, people, amount="66.66")
    assert _fund(claim) == (Decimal("66.66"), Decimal("333.34"), 0)
    assert payable_amount(claim) == Decimal("333.34")

    ps.give_bank_details(claim)
    ps.pay(claim, people)
    assert _fund(claim) == (Decimal("66.66"), 0, Decimal("333.34"))

    reviews.revised_offer_accept(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), offer_id=offer.pk
    )
    assert payable_amount(claim) == Decimal("66.66")
    assert _fund(claim) == (0, Decimal("66.66"), Decimal("333.34"))

    ps.pay(claim, people)
    assert _fund(claim) == (0, 0, Decimal("400.00"))


@pytest.mark.django_db
def test_a_revision_beyond_the_remaining_fund_is_refused(people):
    claim = ps.offer_made_with_three_heads(people)
    review = ps.accept_part(claim)
    # Room for the accepted part and a penny more: the revision adds 33.32.
    claim.scheme.fund_amount = Decimal("333.35")
    claim.scheme.save()
    before = _snapshot(claim)

    with pytest.raises(ClaimError) as refused:
        ps.revise(review, people, amount="66.66")

    assert refused.value.code == "over_fund"
    assert _snapshot(claim) == before
