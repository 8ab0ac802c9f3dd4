"""Partial acceptance and the review of the disputed part: the services.

The design is in claims/models.py ("Partial acceptance and reviews of the disputed
part"). These follow the other actions (claims.actions): they lock the claim row, check who is
acting, refuse with a `ClaimError` that says why, and write the change, its audit
event, the claimant's status update and any letter in one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from claims import core
from claims.actions import offers
from claims.actions.payments import fund_check_offer
from claims.core import Actor, ClaimError
from claims.domain.money import format_money
from claims.domain.stages import (
    REVIEW_MOVES,
    TRANSITIONS,
    ActorKind,
    ItemResponse,
    ReviewMove,
    ReviewState,
    Stage,
)
from claims.models import AuditEvent, Claim, DistressBand, HeadOfLoss, Offer, OfferItem, Review
from claims.outbox import letters_for_transition, status_update_add
from claims.queries.partial import accepted_amount, accepted_so_far, disputed_amount

# A dispute's reason is read by a senior caseworker and quoted in letters.
REASON_MAX = 5000


@dataclass(frozen=True)
class ItemAnswer:
    """The claimant's answer on one item of an offer."""

    accept: bool
    reason: str = ""


def _offer_made(claim: Claim, offer_id: int) -> Offer:
    # Only this claim's offers: another claim's offer is "not found", never "not yours".
    offer = claim.offers.filter(pk=offer_id, made_at__isnull=False).first()
    if offer is None:
        raise ClaimError("There is no such offer on your claim.", code="not_found")
    return offer


def _check_not_expired(offer: Offer, today: dt.date) -> None:
    if offer.accept_by and today > offer.accept_by:
        raise ClaimError(
            f"This offer could be accepted until {offer.accept_by:%-d %B %Y}. "
            "Contact us if you still want to accept it.",
            code="offer_expired",
        )


@transaction.atomic
def offer_respond(
    *,
    claim_id: int,
    actor: Actor,
    offer_id: int,
    answers: Mapping[int, ItemAnswer],
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> Claim:
    """The claimant's answer to an offer, item by item (`answers` by OfferItem id).

    Every item accepted is `offer_accept`; every item disputed is `offer_decline` (the
    reasons become the decline's reason); a mix accepts part (`offer_accept_part`): the
    accepted items go to payment and a `Review` of the disputed ones is opened."""
    today = today or core.today()
    claim = core.lock_claim(claim_id)
    core.check_can(claim, "offer_accept_part", actor)
    offer = _offer_made(claim, offer_id)
    core.check_version(claim, expected_version)
    if offer.pk != core.current_offer(claim).pk:
        raise ClaimError(
            "This offer has been replaced by a newer one. Look at the new offer and answer that.",
            code="conflict",
        )
    items = list(offer.items.order_by("id"))
    if set(answers) != {item.pk for item in items}:
        raise ClaimError(
            "Say whether you accept or dispute each item of the offer.", code="incomplete"
        )
    for item in items:
        answer = answers[item.pk]
        reason = (answer.reason or "").strip()
        if not answer.accept and not reason:
            raise ClaimError(
                f"Tell us why you dispute the amount for {item.get_category_display().lower()}.",
                code="reason_required",
            )
        if len(reason) > REASON_MAX:
            raise ClaimError(
                f"Each reason must be {REASON_MAX:,} characters or fewer.", code="too_long"
            )
    _check_not_expired(offer, today)
    accepted = [item for item in items if answers[item.pk].accept]
    if len(accepted) == len(items):
        return offers.offer_accept(claim_id=claim.pk, actor=actor, today=today)
    if not accepted:
        reason = "\n".join(
            f"{item.get_category_display()}: {answers[item.pk].reason.strip()}" for item in items
        )
        for item in items:
            item.dispute_reason = answers[item.pk].reason.strip()
            item.save(update_fields=["dispute_reason"])
        return offers.offer_decline(claim_id=claim.pk, actor=actor, reason=reason)
    for item in items:
        answer = answers[item.pk]
        item.response = ItemResponse.ACCEPTED if answer.accept else ItemResponse.DISPUTED
        item.dispute_reason = "" if answer.accept else answer.reason.strip()
        item.save(update_fields=["response", "dispute_reason"])
    review = Review.objects.create(claim=claim, offer=offer)
    core.move(
        claim,
        "offer_accept_part",
        actor,
        data={
            "offer_version": offer.version,
            "review": review.pk,
            "accepted": str(accepted_amount(offer)),
            "disputed": str(disputed_amount(offer)),
            "disputed_items": [item.pk for item in items if not answers[item.pk].accept],
        },
    )
    return claim


# --- The review of a disputed part ------------------------------------------------


def _lock_review(review_id: int) -> tuple[Claim, Review]:
    claim_id = Review.objects.filter(pk=review_id).values_list("claim_id", flat=True).first()
    if claim_id is None:
        raise ClaimError("There is no such review.", code="not_found")
    claim = core.lock_claim(claim_id)
    review = Review.objects.select_for_update().select_related("offer").get(pk=review_id)
    return claim, review


def _check_move(review: Review, name: str, actor: Actor, reason: str = "") -> ReviewMove:
    move = REVIEW_MOVES[name]
    if actor.kind != move.actor:
        if move.actor == ActorKind.CLAIMANT:
            raise ClaimError("Only the claimant can answer this offer.", code="forbidden")
        raise ClaimError("Only a senior caseworker can decide a review.", code="forbidden")
    if move.permission is not None:
        core.check_staff(actor, move.permission)
    if review.state not in move.sources:
        raise ClaimError(
            f"This review is already {review.get_state_display().lower()}.",
            code="illegal_transition",
        )
    if move.reason_required and not (reason or "").strip():
        raise ClaimError("Give a reason for this decision.", code="reason_required")
    return move


def _check_not_terminal(claim: Claim) -> None:
    if claim.is_terminal:
        raise ClaimError(
            f"This claim is {claim.get_stage_display().lower()}: there is nothing to review.",
            code="illegal_transition",
        )


def _tell(
    claim: Claim, move: ReviewMove, actor: Actor, *, reason: str = "", data: dict[str, Any]
) -> AuditEvent:
    """A review's decision does not move the claim's stage, but is recorded and told to
    the claimant the same way a move is: audit event, status update and any letter. A
    move with no update (a proposal sent back) is staff's own business."""
    core.touch(claim)
    event = core.record(claim, action=move.name, actor=actor, reason=reason, data=data)
    if move.update:
        status_update_add(claim=claim, event=event, kind=move.update, stage=claim.stage)
    letters_for_transition(claim=claim, event=event)
    return event


def _decide(review: Review, move: ReviewMove, actor: Actor, reason: str) -> None:
    review.state = move.target
    review.decided_by = actor.user
    review.decided_at = timezone.now()
    review.reason = reason.strip()


def _revised_offer_data(review: Review, offer: Offer) -> dict[str, Any]:
    """What a review's audit event records of its revised offer."""
    return {
        "review": review.pk,
        "offer_version": offer.version,
        "total": str(offer.total),
        "accept_by": offer.accept_by.isoformat() if offer.accept_by else "",
    }


def _put_before_claimant(claim: Claim, offer: Offer, today: dt.date) -> None:
    """Make a revised offer. Its accept-by date runs only once the claimant can accept it:
    while the part they accepted first is still to be paid it has none, and
    core.revised_offers_open gives it one when that payment is made."""
    if claim.stage in (Stage.ACCEPTED, Stage.PAYMENT_PENDING):
        offer.made_at = timezone.now()
        offer.accept_by = None
    else:
        core.make_offer(offer, today)


@transaction.atomic
def part_review_uphold(
    *, review_id: int, actor: Actor, reason: str, expected_version: int | None = None
) -> Review:
    """The disputed items stay as offered. The accepted part is paid as before."""
    claim, review = _lock_review(review_id)
    core.check_version(claim, expected_version)
    move = _check_move(review, "part_review_uphold", actor, reason)
    core.check_may_review(review.offer, actor)
    _check_not_terminal(claim)
    _decide(review, move, actor, reason)
    review.save(update_fields=["state", "decided_by", "decided_at", "reason"])
    _tell(
        claim,
        move,
        actor,
        reason=review.reason,
        data={"review": review.pk, "offer_version": review.offer.version},
    )
    return review


@transaction.atomic
def part_review_revise(
    *,
    review_id: int,
    actor: Actor,
    reason: str,
    amounts: Mapping[int, object],
    bands: Mapping[int, int] | None = None,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> Offer:
    """A revised offer for the disputed items only (`amounts` by OfferItem id), as a new
    offer version the claimant can accept. A review raises an award or leaves it; to
    keep every amount as it was, uphold instead. Each amount keeps its head's rules: a
    distress award stays inside its band (the head's own, or one named in `bands` by
    OfferItem id), time spent under the scheme's cap. At or below the scheme's threshold
    the offer is made at once; above it, it waits for a senior caseworker who neither
    assessed nor proposed it (`part_review_approve`)."""
    today = today or core.today()
    claim, review = _lock_review(review_id)
    core.check_version(claim, expected_version)
    move = _check_move(review, "part_review_revise", actor, reason)
    core.check_may_review(review.offer, actor)
    _check_not_terminal(claim)
    disputed = list(
        review.disputed_items().select_related("head_of_loss__distress_band").order_by("id")
    )
    if set(amounts) != {item.pk for item in disputed}:
        raise ClaimError("Give a revised amount for each disputed item.", code="incomplete")
    revised: dict[int, Decimal] = {}
    chosen_bands: dict[int, DistressBand | None] = {}
    for item in disputed:
        label = item.get_category_display()
        head = item.head_of_loss
        amount = core.parse_amount(amounts[item.pk], label)
        if amount < item.amount_offered:
            raise ClaimError(
                f"{label}: a review cannot lower the {format_money(item.amount_offered)} "
                "offered. Uphold the decision to keep it.",
                code="below_offered",
            )
        distress = item.category == HeadOfLoss.Category.DISTRESS
        chosen = core.distress_band(claim.scheme, (bands or {}).get(item.pk) if distress else None)
        # "As assessed" is the band the item was last set in.
        band = chosen or item.distress_band or head.distress_band
        try:
            core.check_award(scheme=claim.scheme, head=head, amount=amount, band=band)
        except ClaimError as refused:
            raise ClaimError(f"{label}: {refused.message}", code=refused.code) from None
        chosen_bands[item.pk] = band if distress else None
        revised[item.pk] = amount
    if all(revised[item.pk] == item.amount_offered for item in disputed):
        raise ClaimError(
            "Every amount is as offered: uphold the decision instead.", code="unchanged"
        )
    # The revised offer comes on top of what was accepted, not in place of it.
    fund_check_offer(claim=claim, total=accepted_so_far(claim) + sum(revised.values(), Decimal(0)))
    last = claim.offers.aggregate(v=Max("version"))["v"] or 0
    reason = reason.strip()
    total = sum(revised.values(), Decimal("0.00"))
    # Judged on all the claimant is offered, not on the disputed part alone: answering
    # in part must not take an offer under the threshold that the whole would pass.
    pending = core.needs_approval(claim.scheme, accepted_so_far(claim) + total)
    offer = Offer.objects.create(
        claim=claim,
        version=last + 1,
        total=total,
        proposed_by=actor.user,
        approved_by=None if pending else actor.user,
        approved_at=None if pending else timezone.now(),
    )
    OfferItem.objects.bulk_create(
        OfferItem(
            offer=offer,
            head_of_loss=item.head_of_loss,
            category=item.category,
            amount_claimed=item.amount_claimed,
            amount_offered=revised[item.pk],
            reason=reason if revised[item.pk] != item.amount_claimed else "",
            assessed_by=actor.user,
            distress_band=chosen_bands[item.pk],
        )
        for item in disputed
    )
    if pending:
        move = REVIEW_MOVES["part_review_propose"]
    else:
        _put_before_claimant(claim, offer, today)
        offer.save(update_fields=["accept_by", "made_at"])
    _decide(review, move, actor, reason)
    review.revised_offer = offer
    review.save(update_fields=["state", "decided_by", "decided_at", "reason", "revised_offer"])
    _tell(
        claim,
        move,
        actor,
        reason=reason,
        data=_revised_offer_data(review, offer),
    )
    return offer


@transaction.atomic
def part_review_approve(
    *,
    review_id: int,
    actor: Actor,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> Offer:
    """A senior caseworker who neither assessed nor proposed a revised offer above the
    threshold, nor shaped the offer under review, puts it before the claimant."""
    today = today or core.today()
    claim, review = _lock_review(review_id)
    core.check_version(claim, expected_version)
    move = _check_move(review, "part_review_approve", actor)
    offer = review.revised_offer
    assert offer is not None  # a review waiting for approval has its proposal
    core.check_may_approve(offer, actor, under_review=review.offer)
    _check_not_terminal(claim)
    fund_check_offer(claim=claim, total=accepted_so_far(claim) + offer.total)
    _put_before_claimant(claim, offer, today)
    offer.approved_by = actor.user
    offer.approved_at = timezone.now()
    offer.save(update_fields=["accept_by", "made_at", "approved_by", "approved_at"])
    review.state = move.target
    review.save(update_fields=["state"])
    _tell(
        claim,
        move,
        actor,
        # The letter gives the reviewer's reasons: the approver agreed with them.
        reason=review.reason,
        data=_revised_offer_data(review, offer),
    )
    return offer


@transaction.atomic
def part_review_return(
    *, review_id: int, actor: Actor, reason: str, expected_version: int | None = None
) -> Review:
    """The approver sends a revised offer back: the review is open again, to be upheld
    or revised afresh. The proposal is kept, never made."""
    claim, review = _lock_review(review_id)
    core.check_version(claim, expected_version)
    move = _check_move(review, "part_review_return", actor, reason)
    returned = review.revised_offer
    review.state = move.target
    review.revised_offer = None
    review.decided_by = None
    review.decided_at = None
    review.reason = ""
    review.save(update_fields=["state", "decided_by", "decided_at", "reason", "revised_offer"])
    _tell(
        claim,
        move,
        actor,
        reason=reason.strip(),
        data={"review": review.pk, "offer_version": returned.version if returned else None},
    )
    return review


def _lock_revised_offer(claim_id: int, actor: Actor, offer_id: int) -> tuple[Claim, Offer, Review]:
    """The claim, locked, with a revised offer made to its own claimant and the review
    that made it: what the claimant's answers to a revised offer start from."""
    claim = core.lock_claim(claim_id)
    core.check_actor(claim, actor, TRANSITIONS["revised_offer_accept"])
    offer = _offer_made(claim, offer_id)
    review = Review.objects.select_for_update().filter(claim=claim, revised_offer=offer).first()
    if review is None:
        raise ClaimError("There is no such offer on your claim.", code="not_found")
    return claim, offer, review


@transaction.atomic
def revised_offer_decline(
    *,
    claim_id: int,
    actor: Actor,
    offer_id: int,
    reason: str,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> Review:
    """The claimant declines a revised offer for their disputed items. As for a whole
    offer, a senior caseworker who had no hand in it reviews it: a new review of the
    revised offer, every item disputed with the claimant's reason. The part they
    accepted first is paid as before. Returns the new review."""
    today = today or core.today()
    claim, offer, review = _lock_revised_offer(claim_id, actor, offer_id)
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ClaimError(
            f"Your reason must be {REASON_MAX:,} characters or fewer.", code="too_long"
        )
    if review.state == ReviewState.DECLINED:
        return Review.objects.get(offer=offer)  # a double click finds it declined already
    core.check_version(claim, expected_version)
    move = _check_move(review, "revised_offer_decline", actor, reason)
    _check_not_terminal(claim)
    _check_not_expired(offer, today)
    offer.items.update(response=ItemResponse.DISPUTED, dispute_reason=reason)
    review.state = move.target
    review.save(update_fields=["state"])
    again = Review.objects.create(claim=claim, offer=offer)
    _tell(
        claim,
        move,
        actor,
        reason=reason,
        data={"review": again.pk, "declined_review": review.pk, "offer_version": offer.version},
    )
    return again


@transaction.atomic
def revised_offer_accept(
    *,
    claim_id: int,
    actor: Actor,
    offer_id: int,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> Claim:
    """The claimant accepts the revised offer for their disputed items. Only once the
    part they accepted first is paid: the claim then goes back to ACCEPTED and the extra
    amount is paid as a payment of its own, so no offer is ever paid twice."""
    today = today or core.today()
    claim, offer, review = _lock_revised_offer(claim_id, actor, offer_id)
    if review.state == ReviewState.ACCEPTED:
        return claim  # a double click finds it accepted already
    core.check_version(claim, expected_version)
    move = _check_move(review, "revised_offer_accept", actor)
    if claim.stage in (Stage.ACCEPTED, Stage.PAYMENT_PENDING):
        raise ClaimError(
            "We are still paying the part of the offer you accepted first. You can accept "
            "this offer as soon as that payment is made: we will email you when it is.",
            code="first_payment_pending",
        )
    _check_not_expired(offer, today)
    core.check_can(claim, "revised_offer_accept", actor)
    offer.items.update(response=ItemResponse.ACCEPTED)
    review.state = move.target
    review.accepted_at = timezone.now()
    review.save(update_fields=["state", "accepted_at"])
    core.move(
        claim,
        "revised_offer_accept",
        actor,
        data={
            "offer_version": offer.version,
            "review": review.pk,
            "accepted": str(accepted_amount(offer)),
        },
    )
    return claim
