"""Casework: moving a claim through triage and assessment, assigning it, notes, requests
for information, assessing heads of loss, and a rejection looked at again."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from claims import core
from claims.core import Actor, ClaimError
from claims.domain.stages import ReviewState, Stage
from claims.domain.workdays import add_working_days
from claims.models import Claim, HeadOfLoss, InternalNote, Message


@transaction.atomic
def claim_transition(
    *,
    claim_id: int,
    transition: str,
    actor: Actor,
    reason: str = "",
    expected_version: int | None = None,
) -> Claim:
    """A move with no rule beyond the table: triage, starting a review, closing."""
    if transition not in _PLAIN_TRANSITIONS:
        raise ClaimError("That change needs its own service.", code="illegal_transition")
    claim = core.lock_claim(claim_id)
    core.check_version(claim, expected_version)
    if transition == "close" and (
        claim.part_reviews.filter(
            state__in=[ReviewState.OPEN, ReviewState.PENDING_APPROVAL]
        ).exists()
        or claim.part_reviews.filter(
            Q(revised_offer__accept_by__isnull=True)
            | Q(revised_offer__accept_by__gte=core.today()),
            state=ReviewState.REVISED,
        ).exists()
    ):
        # A disputed part is still under review, or its revised offer can still be accepted.
        raise ClaimError(
            "Part of this claim is still under review or its revised offer can still be "
            "accepted: close it once that is settled.",
            code="review_open",
        )
    if transition == "triage_start" and claim.assigned_to_id is None and actor.user is not None:
        claim.assigned_to = actor.user
        core.move(claim, transition, actor, reason=reason, extra_fields=("assigned_to",))
    else:
        core.move(claim, transition, actor, reason=reason)
    return claim


_PLAIN_TRANSITIONS = frozenset(
    {
        "triage_start",
        "triage_accept",
        "triage_reject",
        "review_start",
        # Payments move only through claims.actions.payments, with their Payment rows.
        "close",
    }
)


@transaction.atomic
def claim_assign(
    *, claim_id: int, actor: Actor, assignee: Any, expected_version: int | None = None
) -> Claim:
    core.check_staff(actor, "claims.triage_claim")
    claim = core.lock_claim(claim_id)
    core.check_version(claim, expected_version)
    if assignee is not None and not (
        assignee.is_active and assignee.is_staff and assignee.has_perm("claims.assess_claim")
    ):
        raise ClaimError(f"{assignee} is not a caseworker.", code="invalid_assignee")
    previous = claim.assigned_to
    claim.assigned_to = assignee
    core.touch(claim, "assigned_to")
    core.record(
        claim,
        action="assign",
        actor=actor,
        data={"from": str(previous or ""), "to": str(assignee or "")},
    )
    return claim


@transaction.atomic
def note_add(*, claim_id: int, actor: Actor, text: str) -> InternalNote:
    core.check_staff(actor, "claims.add_note")
    claim = core.lock_claim(claim_id)
    text = (text or "").strip()
    if not text:
        raise ClaimError("Write the note before saving it.", code="required")
    note = InternalNote.objects.create(claim=claim, author=actor.user, text=text)
    core.record(claim, action="note", actor=actor)
    return note


@transaction.atomic
def claim_request_information(
    *,
    claim_id: int,
    actor: Actor,
    request: str,
    today: dt.date | None = None,
    expected_version: int | None = None,
) -> Claim:
    today = today or core.today()
    claim = core.lock_claim(claim_id)
    core.check_version(claim, expected_version)
    core.check_can(claim, "information_request", actor, request)
    due = add_working_days(today, claim.scheme.cure_window_working_days)
    claim.information_due = due
    event = core.move(
        claim,
        "information_request",
        actor,
        reason=request,
        data={"due": due.isoformat()},
        extra_fields=("information_due",),
    )
    Message.objects.create(
        claim=claim,
        direction=Message.Direction.TO_CLAIMANT,
        body=request.strip(),
        author=actor.user,
        event=event,
    )
    return claim


@transaction.atomic
def claim_resume_assessment(
    *, claim_id: int, actor: Actor, reason: str, expected_version: int | None = None
) -> Claim:
    """A caseworker takes a claim back from 'information requested' (e.g. the answer
    came by post)."""
    claim = core.lock_claim(claim_id)
    core.check_version(claim, expected_version)
    core.check_can(claim, "information_resume", actor, reason)
    claim.information_due = None
    core.move(claim, "information_resume", actor, reason=reason, extra_fields=("information_due",))
    return claim


@transaction.atomic
def claim_close_incomplete(*, claim_id: int, actor: Actor, today: dt.date | None = None) -> Claim:
    today = today or core.today()
    claim = core.lock_claim(claim_id)
    core.check_can(claim, "close_incomplete", actor)
    if claim.information_due is not None and today <= claim.information_due:
        raise ClaimError(
            f"The claimant has until {claim.information_due:%-d %B %Y} to reply.",
            code="cure_window_open",
        )
    core.move(claim, "close_incomplete", actor)
    return claim


_ASSESSABLE_STAGES = {Stage.ASSESSMENT: "claims.assess_claim", Stage.REVIEW: "claims.decide_review"}


@transaction.atomic
def head_of_loss_assess(
    *,
    head_id: int,
    actor: Actor,
    amount_allowed: object,
    reason: str = "",
    distress_band_id: int | None = None,
    expected_version: int | None = None,
) -> HeadOfLoss:
    """Record a caseworker's decision on one head of loss: the amount allowed and why."""
    try:
        claim_id = HeadOfLoss.objects.values_list("claim_id", flat=True).get(pk=head_id)
    except HeadOfLoss.DoesNotExist:
        raise ClaimError("There is no such head of loss.", code="not_found") from None
    claim = core.lock_claim(claim_id)
    permission = _ASSESSABLE_STAGES.get(Stage(claim.stage))
    if permission is None:
        raise ClaimError(
            f"A claim that is {claim.get_stage_display().lower()} cannot be assessed.",
            code="illegal_transition",
        )
    core.check_staff(actor, permission)
    if claim.stage == Stage.REVIEW:
        # Re-assessing in a review decides it: not for anyone who shaped the offer.
        core.check_may_review(core.offer_under_review(claim), actor)
    core.check_version(claim, expected_version)
    head = claim.heads_of_loss.select_related("distress_band").get(pk=head_id)
    amount = core.parse_amount(amount_allowed, "Amount allowed")
    reason = (reason or "").strip()
    distress = head.category == HeadOfLoss.Category.DISTRESS
    band = core.distress_band(claim.scheme, distress_band_id if distress else None)
    core.check_award(scheme=claim.scheme, head=head, amount=amount, band=band)
    if amount != head.amount_claimed and not reason:
        raise ClaimError(
            "Give a reason: the claimant is told why the amount differs from their claim.",
            code="reason_required",
        )
    head.amount_allowed = amount
    head.assessment_reason = reason
    head.distress_band = band
    head.assessed_by = actor.user
    head.assessed_at = timezone.now()
    head.save()
    core.touch(claim)
    core.record(
        claim,
        action="assess_head",
        actor=actor,
        reason=reason,
        data={"head_of_loss": head.pk, "amount_allowed": str(amount)},
    )
    return head


@transaction.atomic
def rejection_review_request(
    *, claim_id: int, actor: Actor, reason: str, today: dt.date | None = None
) -> Claim:
    """The claimant asks us to look again at a rejection, within
    REJECTION_REVIEW_WORKING_DAYS working days of it, as the decision letter says."""
    today = today or core.today()
    claim = core.lock_claim(claim_id)
    core.check_can(claim, "rejection_review_request", actor, reason)
    review_by = core.rejection_review_by(claim)
    if review_by is not None and today > review_by:
        raise ClaimError(
            f"A review could be asked for until {review_by:%-d %B %Y}. Contact us if "
            "something kept you from asking in time.",
            code="review_window_closed",
        )
    core.move(claim, "rejection_review_request", actor, reason=reason)
    return claim


@transaction.atomic
def rejection_review_decide(
    *,
    claim_id: int,
    actor: Actor,
    decision: str,
    reason: str,
    expected_version: int | None = None,
) -> Claim:
    """A senior caseworker who did not reject the claim upholds the rejection (the claim
    closes, with a letter) or reopens it to triage."""
    names = {"uphold": "rejection_review_uphold", "reopen": "rejection_review_reopen"}
    if decision not in names:
        raise ClaimError("Choose to uphold the rejection or to reopen the claim.")
    claim = core.lock_claim(claim_id)
    core.check_version(claim, expected_version)
    core.check_can(claim, names[decision], actor, reason)
    core.check_may_review_rejection(claim, actor)
    core.move(claim, names[decision], actor, reason=reason)
    return claim
