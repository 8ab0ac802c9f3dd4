"""Claims for the partial acceptance tests: three heads of loss with awkward amounts,
taken through the real services as people would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from claims.actions import casework, offers, reviews, submission
from claims.actions.reviews import ItemAnswer
from claims.core import Actor
from claims.domain.stages import Stage
from claims.models import Claim, HeadOfLoss, Offer, Review
from tests.support.factories import People, SchemeFactory, take_step

C = HeadOfLoss.Category
# Claimed, and allowed by the caseworker: odd pence so a sum that rounds shows.
HEADS: dict[str, tuple[Decimal, Decimal]] = {
    C.UNAUTHORISED_TRANSACTIONS: (Decimal("333.33"), Decimal("333.33")),
    C.BANK_CHARGES: (Decimal("66.67"), Decimal("33.34")),
    C.CARD_REPLACEMENT: (Decimal("12.99"), Decimal("0.01")),
}
OFFER_TOTAL = Decimal("366.68")
DISPUTED = C.BANK_CHARGES
ACCEPTED_PART = Decimal("333.34")  # 333.33 + 0.01
DISPUTE_REASON = "The bank charged me twice: £33.33 each time, statement attached."


def offer_made_with_three_heads(people: People, scheme: Any = None) -> Claim:
    scheme = scheme or SchemeFactory()
    claim = submission.claim_start(
        scheme=scheme,
        full_name="Siân O'Connor-Ng",
        email="sian@example.test",
        address="Flat 2\n10 Heol y Frenhines\nCardiff",
        postcode="CF10 1AA",
    )
    me = Actor.claimant(claim.pk)
    for category, (claimed, _allowed) in HEADS.items():
        submission.head_of_loss_add(
            claim_id=claim.pk,
            actor=me,
            category=category,
            amount_claimed=claimed,
            description=f"{category} after the breach",
            incurred_on=dt.date(2017, 3, 14),
        )
    submission.claim_submit(claim_id=claim.pk, actor=me, statement_of_truth=True)
    caseworker = Actor.staff(people.caseworker)
    for step in ("triage_start", "triage_accept"):
        casework.claim_transition(claim_id=claim.pk, transition=step, actor=caseworker)
    for head in claim.heads_of_loss.all():
        claimed, allowed = HEADS[head.category]
        casework.head_of_loss_assess(
            head_id=head.pk,
            actor=caseworker,
            amount_allowed=allowed,
            reason="" if allowed == claimed else "Only part is shown on the statement.",
        )
    offers.offer_propose(claim_id=claim.pk, actor=caseworker)
    claim.refresh_from_db()
    assert claim.stage == Stage.OFFER_MADE
    return claim


def current_offer(claim: Claim) -> Offer:
    return claim.offers.order_by("-version").first()  # type: ignore[return-value]


def answers_for(offer: Offer, disputed: dict[str, str]) -> dict[int, ItemAnswer]:
    """Accept every item except those in `disputed` (category: reason)."""
    return {
        item.pk: ItemAnswer(
            accept=item.category not in disputed, reason=disputed.get(item.category, "")
        )
        for item in offer.items.all()
    }


def accept_part(claim: Claim) -> Review:
    offer = current_offer(claim)
    reviews.offer_respond(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        offer_id=offer.pk,
        answers=answers_for(offer, {DISPUTED: DISPUTE_REASON}),
    )
    return Review.objects.get(offer=offer)


def give_bank_details(claim: Claim) -> None:
    submission.bank_details_set(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        account_name="S O'Connor-Ng",
        sort_code="30-94-57",
        account_number="12345678",
    )


def pay(claim: Claim, people: People) -> None:
    """Pay what is accepted, as the finance officer."""
    # Through a payment batch (claims.actions.payments), as the finance officer would.
    for step in ("payment_queue", "payment_confirm"):
        take_step(claim, step, people)


def revise(review: Review, people: People, amount: str = "66.66") -> Offer:
    disputed = review.disputed_items().get()
    return reviews.part_review_revise(
        review_id=review.pk,
        actor=Actor.staff(people.senior),
        reason="Both charges are on the statement.",
        amounts={disputed.pk: amount},
    )


def distress_disputed(people: People, *, approver: Any = None) -> Review:
    """A claim with a loss and a distress award, the loss accepted and the distress
    disputed: the review of the distress item is open. With `approver`, the loss is
    large enough that the first offer needed their approval."""
    scheme = SchemeFactory()
    claim = submission.claim_start(scheme=scheme, full_name="Ada Price", email="ada@example.test")
    me = Actor.claimant(claim.pk)
    submission.head_of_loss_add(
        claim_id=claim.pk,
        actor=me,
        category=C.BANK_CHARGES,
        amount_claimed="1800.00" if approver is not None else "30.00",
        incurred_on=dt.date(2017, 3, 14),
    )
    submission.distress_set(
        claim_id=claim.pk, actor=me, affected=True, effects=[], account="I could not sleep."
    )
    submission.claim_submit(claim_id=claim.pk, actor=me, statement_of_truth=True)
    caseworker = Actor.staff(people.caseworker)
    for step in ("triage_start", "triage_accept"):
        casework.claim_transition(claim_id=claim.pk, transition=step, actor=caseworker)
    minimal = scheme.distress_bands.order_by("lower").first()
    for head in claim.heads_of_loss.all():
        distress = head.category == C.DISTRESS
        casework.head_of_loss_assess(
            head_id=head.pk,
            actor=caseworker,
            amount_allowed="100.00" if distress else head.amount_claimed,
            reason="Minimal band." if distress else "",
            distress_band_id=minimal.pk if distress else None,
        )
    offers.offer_propose(claim_id=claim.pk, actor=caseworker)
    if approver is not None:
        offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(approver))
    offer = current_offer(claim)
    reviews.offer_respond(
        claim_id=claim.pk,
        actor=me,
        offer_id=offer.pk,
        answers=answers_for(offer, {C.DISTRESS: "It was far worse than minimal."}),
    )
    return Review.objects.get(offer=offer)


# --- For the table-driven tests of every transition (tests/domain/test_transitions.py) -------


def _revised_and_paid(people: People) -> Claim:
    claim = offer_made_with_three_heads(people)
    revise(accept_part(claim), people)
    give_bank_details(claim)
    pay(claim, people)
    claim.refresh_from_db()
    return claim


READY = {
    ("offer_accept_part", Stage.OFFER_MADE): offer_made_with_three_heads,
    ("revised_offer_accept", Stage.PAID): _revised_and_paid,
}


def attempt(claim: Claim, name: str, actor: Actor) -> None:
    """Make `name` through its service, with the answers it needs."""
    offer = current_offer(claim)
    offer_id = offer.pk if offer is not None else 0
    if name == "offer_accept_part":
        answers = answers_for(offer, {DISPUTED: "Too low"}) if offer is not None else {}
        reviews.offer_respond(claim_id=claim.pk, actor=actor, offer_id=offer_id, answers=answers)
    else:
        reviews.revised_offer_accept(claim_id=claim.pk, actor=actor, offer_id=offer_id)
