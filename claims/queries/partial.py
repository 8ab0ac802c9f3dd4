"""What a claimant accepted, item by item, and so what is paid: the figures of partial
acceptance (see "Partial acceptance and reviews" in claims/models.py).

Queries only, no writes: letters, notifications and payments read them; the services
that record answers and decide reviews are in claims.actions.reviews.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from claims.domain.stages import TERMINAL_STAGES, ItemResponse, ReviewState, Stage
from claims.models import Claim, Offer, Review, Scheme

ZERO = Decimal("0.00")


def accepted_amount(offer: Offer) -> Decimal:
    """The sum of the items the claimant accepted, to the penny: what this offer pays.
    Every amount is a two-place Decimal, so the sum is exact; nothing is rounded."""
    return sum(
        (
            item.amount_offered
            for item in offer.items.all()
            if item.response == ItemResponse.ACCEPTED
        ),
        ZERO,
    )


def disputed_amount(offer: Offer) -> Decimal:
    return sum(
        (
            item.amount_offered
            for item in offer.items.all()
            if item.response == ItemResponse.DISPUTED
        ),
        ZERO,
    )


def accepted_offer(claim: Claim) -> Offer | None:
    """The newest offer with at least one accepted item: the one a claim in ACCEPTED,
    PAYMENT_PENDING or PAID is being (or was last) paid for. A revised offer for a
    disputed part is accepted only after the first part is paid (claims.actions.reviews), so
    there is never more than one accepted offer waiting for payment."""
    return (
        claim.offers.filter(items__response=ItemResponse.ACCEPTED)
        .order_by("-version")
        .prefetch_related("items")
        .first()
    )


def accepted_total(claim: Claim) -> Decimal:
    """What the claim's current payment is for: the accepted items of its accepted offer."""
    offer = accepted_offer(claim)
    return accepted_amount(offer) if offer is not None else ZERO


def open_review(claim: Claim) -> Review | None:
    """The review of a disputed part still waiting for a decision or for the claimant."""
    return (
        claim.part_reviews.filter(
            state__in=[ReviewState.OPEN, ReviewState.PENDING_APPROVAL, ReviewState.REVISED]
        )
        .select_related("offer", "revised_offer")
        .first()
    )


@dataclass(frozen=True)
class PartFigures:
    offered: Decimal
    accepted: Decimal


def part_fund_figures(scheme: Scheme, *, exclude_claim_id: int | None = None) -> PartFigures:
    """The fund figures of claims with a review of a disputed part, which the fund's
    grouped query over each claim's latest offer cannot see: their latest offer may be a
    revised one for the disputed items only. Accepted is the part waiting for payment (a
    claim is paid one accepted offer at a time); offered is what is disputed and under
    review, or revised and not yet accepted. Paid comes from the payment rows, for these
    claims as for any (claims.actions.payments). A few queries whatever the number of claims."""
    claims = (
        Claim.objects.filter(scheme=scheme, part_reviews__isnull=False)
        .distinct()
        .prefetch_related(
            "offers__items", "part_reviews__offer__items", "part_reviews__revised_offer"
        )
    )
    if exclude_claim_id is not None:
        claims = claims.exclude(pk=exclude_claim_id)
    offered = accepted = ZERO
    for claim in claims:
        parts = [
            accepted_amount(offer)
            for offer in sorted(claim.offers.all(), key=lambda o: o.version)
            if any(item.response == ItemResponse.ACCEPTED for item in offer.items.all())
        ]
        if parts and claim.stage in (Stage.ACCEPTED, Stage.PAYMENT_PENDING):
            accepted += parts[-1]
        if claim.stage in TERMINAL_STAGES:
            continue
        for review in claim.part_reviews.all():
            if review.state == ReviewState.OPEN:
                offered += disputed_amount(review.offer)
            elif (
                review.state in (ReviewState.PENDING_APPROVAL, ReviewState.REVISED)
                and review.revised_offer is not None
            ):
                offered += review.revised_offer.total
    return PartFigures(offered=offered, accepted=accepted)


def accepted_so_far(claim: Claim) -> Decimal:
    """Every accepted part of a claim, paid or not: what a revised offer comes on top of."""
    return sum(
        (
            accepted_amount(offer)
            for offer in claim.offers.prefetch_related("items")
            if any(item.response == ItemResponse.ACCEPTED for item in offer.items.all())
        ),
        ZERO,
    )


def accepted_before(review: Review) -> Decimal:
    """What the claimant had accepted when the offer under `review` was answered: the
    accepted items of it and of every earlier offer (a review of a declined revised offer
    has none of its own)."""
    offers = review.claim.offers.filter(version__lte=review.offer.version).prefetch_related("items")
    return sum((accepted_amount(offer) for offer in offers), ZERO)
