"""Offers: proposed, approved by a second person above the threshold, returned,
accepted, declined, expired, and revised or upheld on review."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from claims import core
from claims.core import Actor, ClaimError
from claims.domain.stages import ItemResponse, Stage
from claims.models import Claim, Offer, OfferItem


@transaction.atomic
def offer_accept(*, claim_id: int, actor: Actor, today: dt.date | None = None) -> Claim:
    today = today or core.today()
    claim = core.lock_claim(claim_id)
    core.check_can(claim, "offer_accept", actor)
    offer = core.current_offer(claim)
    if offer.accept_by and today > offer.accept_by:
        raise ClaimError(
            f"This offer could be accepted until {offer.accept_by:%-d %B %Y}. "
            "Contact us if you still want to accept it.",
            code="offer_expired",
        )
    # Every item accepted: what is paid is the sum of the accepted items (claims.queries.partial).
    offer.items.update(response=ItemResponse.ACCEPTED)
    core.move(claim, "offer_accept", actor, data={"offer_version": offer.version})
    return claim


@transaction.atomic
def offer_decline(*, claim_id: int, actor: Actor, reason: str) -> Claim:
    claim = core.lock_claim(claim_id)
    core.check_can(claim, "offer_decline", actor, reason)
    offer = core.current_offer(claim)
    offer.items.update(response=ItemResponse.DISPUTED)
    core.move(claim, "offer_decline", actor, reason=reason, data={"offer_version": offer.version})
    return claim


def _build_offer(claim: Claim, actor: Actor) -> Offer:
    heads = list(claim.heads_of_loss.all())
    if not heads:
        raise ClaimError("This claim has nothing to make an offer on.", code="no_heads_of_loss")
    allowed = {h.pk: h.amount_allowed for h in heads if h.amount_allowed is not None}
    unassessed = [h for h in heads if h.pk not in allowed]
    if unassessed:
        names = ", ".join(h.get_category_display().lower() for h in unassessed)
        raise ClaimError(
            f"Assess every head of loss first (still to do: {names}).", code="unassessed"
        )
    last = claim.offers.aggregate(v=Max("version"))["v"] or 0
    offer = Offer.objects.create(
        claim=claim,
        version=last + 1,
        total=sum(allowed.values(), Decimal("0.00")),
        proposed_by=actor.user,
    )
    OfferItem.objects.bulk_create(
        OfferItem(
            offer=offer,
            head_of_loss=h,
            category=h.category,
            amount_claimed=h.amount_claimed,
            amount_offered=allowed[h.pk],
            reason=h.assessment_reason,
            assessed_by=h.assessed_by,
            distress_band=h.distress_band,
        )
        for h in heads
    )
    return offer


def _fund_check(claim: Claim, offer: Offer) -> None:
    from claims.actions.payments import fund_check_offer

    fund_check_offer(claim=claim, total=offer.total)


@transaction.atomic
def offer_propose(
    *,
    claim_id: int,
    actor: Actor,
    today: dt.date | None = None,
    expected_version: int | None = None,
) -> Offer:
    """Turn the assessment into an offer. At or below the scheme's threshold it is made
    at once; above it, it waits for a senior caseworker who did not assess the claim."""
    today = today or core.today()
    claim = core.lock_claim(claim_id)
    core.check_version(claim, expected_version)
    core.check_can(claim, "offer_propose", actor)
    offer = _build_offer(claim, actor)
    _fund_check(claim, offer)
    data = {"offer_version": offer.version, "total": str(offer.total)}
    if offer.total > claim.scheme.offer_approval_threshold:
        core.move(claim, "offer_propose", actor, data=data)
    else:
        accept_by = core.make_offer(offer, today)
        offer.save(update_fields=["accept_by", "made_at"])
        core.move(claim, "offer_make", actor, data={**data, "accept_by": accept_by.isoformat()})
    return offer


@transaction.atomic
def offer_approve(
    *,
    claim_id: int,
    actor: Actor,
    today: dt.date | None = None,
    expected_version: int | None = None,
) -> Offer:
    """A senior caseworker who neither assessed nor proposed the offer puts it before the
    claimant. A revised offer from a review is told as the review's outcome, with the
    reviewer's reasons, and its approver must not have shaped the offer under review."""
    today = today or core.today()
    claim = core.lock_claim(claim_id)
    core.check_version(claim, expected_version)
    core.check_can(claim, "offer_approve", actor)
    offer = core.current_offer(claim)
    under_review = _revised_from(claim, offer)
    core.check_may_approve(offer, actor, under_review=under_review)
    _fund_check(claim, offer)
    accept_by = core.make_offer(offer, today)
    offer.approved_by = actor.user
    offer.approved_at = timezone.now()
    offer.save(update_fields=["accept_by", "made_at", "approved_by", "approved_at"])
    data = {"offer_version": offer.version, "accept_by": accept_by.isoformat()}
    if under_review is None:
        core.move(claim, "offer_approve", actor, data=data)
        return offer
    # The review's outcome, told with the reviewer's reasons.
    proposed = claim.events.filter(action="review_propose").order_by("-created_at", "-id")
    reason = proposed.values_list("reason", flat=True).first() or ""
    core.move(claim, "review_approve", actor, reason=reason, data=data)
    return offer


def _revised_from(claim: Claim, offer: Offer) -> Offer | None:
    """The offer a review was about, if `offer` is its revision: the newest offer made
    to the claimant before it. A first offer has none."""
    return (
        claim.offers.filter(made_at__isnull=False, version__lt=offer.version)
        .order_by("-version")
        .first()
    )


@transaction.atomic
def offer_return(
    *, claim_id: int, actor: Actor, reason: str, expected_version: int | None = None
) -> Claim:
    """A senior caseworker sends a proposed offer back: a first offer to re-assessment,
    a revised one to the review it came from."""
    claim = core.lock_claim(claim_id)
    core.check_version(claim, expected_version)
    name = "offer_return"
    if claim.stage == Stage.OFFER_PENDING_APPROVAL:
        offer = core.current_offer(claim)
        if _revised_from(claim, offer) is not None:
            name = "review_return"
    core.move(claim, name, actor, reason=reason)
    return claim


@transaction.atomic
def offer_expire(*, claim_id: int, actor: Actor, today: dt.date | None = None) -> Claim:
    today = today or core.today()
    claim = core.lock_claim(claim_id)
    core.check_can(claim, "offer_expire", actor)
    offer = core.current_offer(claim)
    if offer.accept_by is None or today <= offer.accept_by:
        raise ClaimError("This offer can still be accepted.", code="offer_open")
    core.move(claim, "offer_expire", actor)
    return claim


@transaction.atomic
def review_revise(
    *,
    claim_id: int,
    actor: Actor,
    reason: str,
    today: dt.date | None = None,
    expected_version: int | None = None,
) -> Offer:
    """End a review with a revised offer built from the heads of loss as re-assessed.
    At or below the scheme's threshold it is made at once; above it, it waits for a
    senior caseworker who neither assessed nor proposed it (offer_approve)."""
    today = today or core.today()
    claim = core.lock_claim(claim_id)
    core.check_version(claim, expected_version)
    core.check_can(claim, "review_revise", actor, reason)
    core.check_may_review(core.offer_under_review(claim), actor)
    offer = _build_offer(claim, actor)
    _fund_check(claim, offer)
    data = {"offer_version": offer.version, "total": str(offer.total)}
    if core.needs_approval(claim.scheme, offer.total):
        core.move(claim, "review_propose", actor, reason=reason, data=data)
        return offer
    core.make_offer(offer, today)
    offer.approved_by = actor.user
    offer.approved_at = timezone.now()
    offer.save(update_fields=["accept_by", "made_at", "approved_by", "approved_at"])
    core.move(claim, "review_revise", actor, reason=reason, data=data)
    return offer


@transaction.atomic
def review_uphold(
    *, claim_id: int, actor: Actor, reason: str, expected_version: int | None = None
) -> Claim:
    claim = core.lock_claim(claim_id)
    core.check_version(claim, expected_version)
    core.check_can(claim, "review_uphold", actor, reason)
    core.check_may_review(core.offer_under_review(claim), actor)
    core.move(claim, "review_uphold", actor, reason=reason)
    return claim
