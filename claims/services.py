"""Every write that matters to a claim.

Each service locks the claim row, checks who is acting, refuses anything the
rules do not allow with a `ClaimError` that says why, and writes the change,
its audit event and the claimant's status update in one transaction. Views,
forms, admin actions and tasks call these; nothing else sets a stage.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone
from django.views.decorators.debug import sensitive_variables

from claims import core
from claims.actions.flags import FLAGS_TASK, claim_flags_bank_account
from claims.core import Actor, ClaimError, lost_time_amount, parse_hours
from claims.delivery.emails import address_problem
from claims.domain.workdays import add_working_days
from claims.models import (
    TRANSITIONS,
    ActorKind,
    BankDetails,
    Claim,
    Evidence,
    HeadOfLoss,
    InternalNote,
    ItemResponse,
    Message,
    Offer,
    OfferItem,
    ReviewState,
    Scheme,
    Stage,
    normalise_postcode,
)
from claims.outbox import (
    publish_on_commit,
    published_together,
    status_update_add,
)

# --- Claimant side ------------------------------------------------------------


_REFERENCE_ATTEMPTS = 3


@transaction.atomic
def claim_start(
    *,
    scheme: Scheme,
    full_name: str,
    email: str,
    phone: str = "",
    address: str = "",
    postcode: str = "",
    register_entry_id: int | None = None,
    no_notice: bool = False,
    today: dt.date | None = None,
) -> Claim:
    """Open a draft claim for a claimant."""
    today = today or core.today()
    if not scheme.is_open_on(today):
        raise ClaimError(
            f"This scheme accepts claims from {scheme.claims_open:%-d %B %Y} "
            f"to {scheme.claims_close:%-d %B %Y}.",
            code="outside_claim_window",
        )
    full_name = (full_name or "").strip()
    if not full_name:
        raise ClaimError("Enter your full name.", code="required")
    if not (email or "").strip():
        raise ClaimError("Enter your email address.", code="required")
    if problem := address_problem(email):
        raise ClaimError(problem, code="invalid_email")
    if register_entry_id is not None:
        if not scheme.register.filter(pk=register_entry_id).exists():
            raise ClaimError("That register entry is not part of this scheme.", code="invalid")
        # One notice, one claim: a second would pay the same person twice.
        if (
            Claim.objects.filter(register_entry_id=register_entry_id)
            .exclude(stage=Stage.WITHDRAWN)
            .exists()
        ):
            raise ClaimError(
                "A claim has already been made with this notice code.", code="already_claimed"
            )
    fields = {
        "scheme": scheme,
        "full_name": full_name,
        "email": email.strip(),
        "phone": phone.strip(),
        "address": address.strip(),
        "postcode": normalise_postcode(postcode),
        "register_entry_id": register_entry_id,
        "no_notice": no_notice,
    }
    # References are random: a collision is one in 10^12 per claim, but a claimant
    # must never see an error for it, so draw again.
    for attempt in range(_REFERENCE_ATTEMPTS):
        try:
            with transaction.atomic():
                claim = Claim.objects.create(**fields)
            break
        except IntegrityError:
            if attempt == _REFERENCE_ATTEMPTS - 1:
                raise
    core.record(claim, action="start", actor=Actor.claimant(claim.pk), to_stage=Stage.DRAFT)
    return claim


def _head_values(
    scheme: Scheme,
    category: str,
    *,
    amount_claimed: object,
    description: str,
    incurred_on: dt.date | None,
    hours: object,
    today: dt.date,
) -> dict[str, Any]:
    """Check a head of loss's answers; the fields to store. Time spent is priced from hours."""
    if category not in HeadOfLoss.Category.values:
        raise ClaimError("Choose what kind of loss this is.", code="invalid_category")
    if incurred_on is not None:
        if incurred_on > today:
            raise ClaimError(
                "The date cannot be in the future: enter today’s date or an earlier one.",
                code="invalid_date",
            )
        if incurred_on < scheme.breach_start:
            raise ClaimError(
                f"The date must be on or after the breach began ({scheme.breach_start:%-d %B %Y}).",
                code="invalid_date",
            )
    hours_value: Decimal | None = None
    if category == HeadOfLoss.Category.TIME_SPENT:
        hours_value = parse_hours(hours)
        # Claimed up to the highest cap; the assessor applies the lower one when
        # there is no evidence (see head_of_loss_assess).
        amount = lost_time_amount(scheme, hours_value, with_evidence=True)
    elif category == HeadOfLoss.Category.DISTRESS:
        # A claimant describes distress in words; the award comes from the scheme's bands.
        amount = core.parse_amount(
            amount_claimed if amount_claimed not in (None, "") else "0", "Amount"
        )
    else:
        amount = core.parse_amount(amount_claimed, "Amount", allow_zero=False)
    return {
        "amount_claimed": amount,
        "description": (description or "").strip(),
        "incurred_on": incurred_on,
        "hours": hours_value,
    }


@transaction.atomic
def head_of_loss_add(
    *,
    claim_id: int,
    actor: Actor,
    category: str,
    amount_claimed: object = None,
    description: str = "",
    incurred_on: dt.date | None = None,
    hours: object = None,
    today: dt.date | None = None,
) -> HeadOfLoss:
    """Add one line of loss to a draft claim."""
    claim = _lock_draft(claim_id, actor)
    values = _head_values(
        claim.scheme,
        category,
        amount_claimed=amount_claimed,
        description=description,
        incurred_on=incurred_on,
        hours=hours,
        today=today or core.today(),
    )
    head = HeadOfLoss.objects.create(claim=claim, category=category, **values)
    core.touch(claim)
    core.record(
        claim,
        action="add_head",
        actor=actor,
        data={
            "head_of_loss": head.pk,
            "category": category,
            "amount_claimed": str(head.amount_claimed),
        },
    )
    return head


# What claim_submit reads of the claim and its scheme; every field it writes, it sets.
_SUBMIT_READS = (
    "stage",
    "version",
    "personal_data_erased_at",
    "scheme__claims_open",
    "scheme__claims_close",
)


@transaction.atomic
def claim_submit(
    *,
    claim_id: int,
    actor: Actor,
    statement_of_truth: bool,
    today: dt.date | None = None,
    ip_address: str | None = None,
) -> Claim:
    """Submit a draft: the claim locked, each rule checked in turn, and any refusal
    explained. `ip_address` is where the claimant submitted from: many claims from one
    address in a short time is flagged for a caseworker. Flags are found just after
    this commits, out of the claimant's request (claims.actions.flags)."""
    today = today or core.today()
    claim = core.lock_claim(claim_id, only=_SUBMIT_READS)
    if claim.stage == Stage.SUBMITTED and actor.kind == ActorKind.CLAIMANT:
        # A double click or a repeated POST finds the claim already submitted.
        core.check_actor(claim, actor, TRANSITIONS["submit"])
        return claim
    core.check_can(claim, "submit", actor)
    _check_not_erased(claim)
    if not statement_of_truth:
        raise ClaimError(
            "Confirm that the information you have given is true.", code="statement_of_truth"
        )
    if not claim.scheme.is_open_on(today):
        raise ClaimError(
            f"The claim window closed on {claim.scheme.claims_close:%-d %B %Y}.",
            code="outside_claim_window",
        )
    claim.submitted_at = timezone.now()
    claim.submitted_ip = ip_address or None
    # Checked by the UPDATE that submits the claim, a round trip fewer than a query of
    # its own. Not by the locking SELECT: a subquery there sees the database as it was
    # before any wait for the lock, so the removal of the last head of loss by a request
    # that held the lock would go unseen. The UPDATE starts after the lock is ours.
    has_heads = Exists(HeadOfLoss.objects.filter(claim=OuterRef("pk")))
    no_heads = ClaimError("Add at least one thing you are claiming for.", code="no_heads_of_loss")
    # The acknowledgement, its letter and the flag check: one message to the broker.
    with published_together():
        core.move(
            claim,
            "submit",
            actor,
            extra_fields=("submitted_at", "submitted_ip"),
            only_if=(has_heads, no_heads),
        )
        publish_on_commit(FLAGS_TASK, claim.pk)
    return claim


@transaction.atomic
def claim_provide_information(*, claim_id: int, actor: Actor, response: str) -> Claim:
    claim = core.lock_claim(claim_id)
    core.check_can(claim, "information_provide", actor)
    response = (response or "").strip()
    if not response:
        raise ClaimError("Tell us the information we asked for.", code="required")
    claim.information_due = None
    event = core.move(
        claim, "information_provide", actor, reason=response, extra_fields=("information_due",)
    )
    Message.objects.create(
        claim=claim, direction=Message.Direction.FROM_CLAIMANT, body=response, event=event
    )
    return claim


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


@transaction.atomic
def claim_withdraw(*, claim_id: int, actor: Actor, reason: str = "") -> Claim:
    claim = core.lock_claim(claim_id)
    core.move(claim, "withdraw", actor, reason=reason)
    return claim


# --- Staff side ---------------------------------------------------------------


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


# --- A rejection looked at again ------------------------------------------------------


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


# --- The claimant's draft, evidence and bank details ---------------------------

DRAFT_PAGES = ("contact", "representative", "what-happened", "losses", "distress", "support")
DETAIL_FIELDS = {
    "contact": ("full_name", "email", "phone", "address", "postcode"),
    "representative": ("representative_name", "representative_reason"),
    "what-happened": ("what_happened",),
    "support": ("support_needs", "preferred_format", "preferred_language"),
}


def _lock_draft(claim_id: int, actor: Actor) -> Claim:
    claim = core.lock_claim(claim_id)
    if actor.kind != ActorKind.CLAIMANT or actor.claim_id != claim.pk:
        raise ClaimError("There is no such claim.", code="not_found")
    if claim.stage != Stage.DRAFT:
        raise ClaimError("A claim can only be changed before it is submitted.", code="not_draft")
    _check_not_erased(claim)
    return claim


def _check_not_erased(claim: Claim) -> None:
    if claim.personal_data_erased_at is not None:
        raise ClaimError(
            "This claim was erased, so it can no longer be changed or sent. "
            "Start a new claim if you still want to claim.",
            code="erased",
        )


def _mark_answered(claim: Claim, page: str) -> None:
    if page not in claim.answered_pages:
        claim.answered_pages = [*claim.answered_pages, page]


@transaction.atomic
def claim_update_details(*, claim_id: int, actor: Actor, page: str, **values: str) -> Claim:
    """Save one page of the claim form. Forms validate the values; this keeps the
    rule that only the claimant changes a draft, and only while it is a draft."""
    claim = _lock_draft(claim_id, actor)
    allowed = DETAIL_FIELDS.get(page)
    if allowed is None or set(values) - set(allowed):
        raise ClaimError("That is not part of this page.", code="invalid")
    if "email" in values and (problem := address_problem(values["email"])):
        raise ClaimError(problem, code="invalid_email")
    for field, value in values.items():
        setattr(claim, field, normalise_postcode(value) if field == "postcode" else value.strip())
    _mark_answered(claim, page)
    core.touch(claim, *values, "answered_pages")
    core.record(claim, action="update_details", actor=actor, data={"page": page})
    return claim


@transaction.atomic
def claim_mark_answered(*, claim_id: int, actor: Actor, page: str) -> Claim:
    """Record that a page with no fields of its own (e.g. the list of losses) is done."""
    claim = _lock_draft(claim_id, actor)
    if page not in DRAFT_PAGES:
        raise ClaimError("That is not part of the claim form.", code="invalid")
    _mark_answered(claim, page)
    core.touch(claim, "answered_pages")
    return claim


@transaction.atomic
def head_of_loss_change(
    *,
    head_id: int,
    actor: Actor,
    amount_claimed: object = None,
    description: str = "",
    incurred_on: dt.date | None = None,
    hours: object = None,
    today: dt.date | None = None,
) -> HeadOfLoss:
    """Replace a draft head of loss's answers, with the same checks as adding one."""
    claim_id = HeadOfLoss.objects.filter(pk=head_id).values_list("claim_id", flat=True).first()
    if claim_id is None:
        raise ClaimError("There is no such item.", code="not_found")
    claim = _lock_draft(claim_id, actor)
    head = claim.heads_of_loss.get(pk=head_id)
    values = _head_values(
        claim.scheme,
        head.category,
        amount_claimed=amount_claimed,
        description=description,
        incurred_on=incurred_on,
        hours=hours,
        today=today or core.today(),
    )
    for field, value in values.items():
        setattr(head, field, value)
    head.save(update_fields=list(values))
    core.touch(claim)
    core.record(
        claim,
        action="change_head",
        actor=actor,
        data={"head_of_loss": head.pk, "amount_claimed": str(head.amount_claimed)},
    )
    return head


@transaction.atomic
def head_of_loss_remove(*, head_id: int, actor: Actor) -> None:
    claim_id = HeadOfLoss.objects.filter(pk=head_id).values_list("claim_id", flat=True).first()
    if claim_id is None:
        raise ClaimError("There is no such item.", code="not_found")
    claim = _lock_draft(claim_id, actor)
    head = HeadOfLoss.objects.get(pk=head_id)
    for evidence in head.evidence.all():
        # Files go once the removal commits: a rollback must not leave rows without files.
        name = evidence.file.name
        evidence.delete()
        transaction.on_commit(functools.partial(Evidence.file.field.storage.delete, name))
    core.record(
        claim,
        action="remove_head",
        actor=actor,
        data={"category": head.category, "amount_claimed": str(head.amount_claimed)},
    )
    head.delete()
    core.touch(claim)


@transaction.atomic
def distress_set(
    *, claim_id: int, actor: Actor, affected: bool, effects: list[str], account: str
) -> HeadOfLoss | None:
    """The claimant's own account of distress: one head of loss, or none if not affected."""
    claim = _lock_draft(claim_id, actor)
    existing = claim.heads_of_loss.filter(category=HeadOfLoss.Category.DISTRESS).first()
    head: HeadOfLoss | None = None
    if affected:
        account = (account or "").strip()
        if not account and not effects:
            raise ClaimError(
                "Tell us how the breach affected you, or choose at least one of the effects.",
                code="required",
            )
        head = existing or HeadOfLoss(
            claim=claim, category=HeadOfLoss.Category.DISTRESS, amount_claimed=Decimal("0.00")
        )
        head.description = account
        head.details = {"effects": list(effects)}
        head.save()
    elif existing is not None:
        existing.delete()
    _mark_answered(claim, "distress")
    core.touch(claim, "answered_pages")
    core.record(claim, action="update_details", actor=actor, data={"page": "distress"})
    return head


@transaction.atomic
def evidence_add(
    *,
    claim_id: int,
    actor: Actor,
    upload: Any,
    head_of_loss_id: int | None = None,
    message_id: int | None = None,
) -> Evidence:
    """Store one checked upload (see claims.domain.uploads) under a generated name."""
    from django.core.files.base import ContentFile

    from claims.domain.uploads import MAX_FILES_PER_CLAIM, UploadError, check_upload

    claim = core.lock_claim(claim_id)
    if actor.kind != ActorKind.CLAIMANT or actor.claim_id != claim.pk:
        raise ClaimError("There is no such claim.", code="not_found")
    if claim.stage not in (Stage.DRAFT, Stage.INFORMATION_REQUESTED):
        raise ClaimError(
            "Files can be added while you make your claim or when we ask for them.",
            code="not_accepting_files",
        )
    if claim.evidence.count() >= MAX_FILES_PER_CLAIM:
        raise ClaimError(
            f"A claim can have at most {MAX_FILES_PER_CLAIM} files. Remove one to add another, "
            "or combine pages into one PDF.",
            code="too_many_files",
        )
    if head_of_loss_id is not None and not claim.heads_of_loss.filter(pk=head_of_loss_id).exists():
        raise ClaimError("There is no such item.", code="not_found")
    try:
        checked = check_upload(upload)
    except UploadError as error:
        raise ClaimError(str(error), code="invalid_file") from None
    evidence = Evidence(
        claim=claim,
        head_of_loss_id=head_of_loss_id,
        message_id=message_id,
        original_name=checked.original_name,
        content_type=checked.content_type,
        size=len(checked.data),
        sha256=Evidence.checksum(checked.data),
    )
    evidence.file.save("upload", ContentFile(checked.data), save=False)
    evidence.save()
    core.touch(claim)
    core.record(
        claim,
        action="add_evidence",
        actor=actor,
        data={"evidence": evidence.pk, "size": evidence.size, "type": evidence.content_type},
    )
    return evidence


@transaction.atomic
def evidence_remove(*, evidence_id: int, actor: Actor) -> None:
    claim_id = Evidence.objects.filter(pk=evidence_id).values_list("claim_id", flat=True).first()
    if claim_id is None:
        raise ClaimError("There is no such file.", code="not_found")
    claim = _lock_draft(claim_id, actor)
    evidence = Evidence.objects.get(pk=evidence_id)
    name = evidence.file.name
    evidence.delete()
    core.touch(claim)
    core.record(claim, action="remove_evidence", actor=actor, data={"evidence": evidence_id})
    transaction.on_commit(lambda: Evidence.file.field.storage.delete(name))


_SORT_CODE = re.compile(r"\d{6}", re.ASCII)
_ACCOUNT_NUMBER = re.compile(r"\d{8}", re.ASCII)


# Every frame under this one hides its variables in error reports: the arguments
# pass through transaction.atomic's wrapper, whose frame would show them.
@sensitive_variables()
@transaction.atomic
def bank_details_set(
    *, claim_id: int, actor: Actor, account_name: str, sort_code: str, account_number: str
) -> BankDetails:
    """Where to pay an accepted offer. Stored encrypted; only the last four digits stay
    readable. Never logged, never passed to a task.

    A change to details already given holds payment until a caseworker confirms it
    (claims.actions.payments.bank_details_confirm) and is told to the claimant, at the address
    they had when they first gave details too: changed details are how payments are
    diverted."""
    from claims.domain import crypto

    claim = core.lock_claim(claim_id)
    if actor.kind != ActorKind.CLAIMANT or actor.claim_id != claim.pk:
        raise ClaimError("There is no such claim.", code="not_found")
    if claim.stage != Stage.ACCEPTED:
        raise ClaimError(
            "Bank details are taken once you have accepted an offer.", code="not_accepted"
        )
    sort_code = re.sub(r"[\s\-]", "", sort_code or "")
    account_number = re.sub(r"\s", "", account_number or "")
    account_name = (account_name or "").strip()
    if not account_name:
        raise ClaimError("Enter the name on the account.", code="required")
    if not _SORT_CODE.fullmatch(sort_code):
        raise ClaimError("Enter a sort code of 6 digits, like 30-94-57.", code="invalid_sort_code")
    if not _ACCOUNT_NUMBER.fullmatch(account_number):
        raise ClaimError("Enter an account number of 8 digits.", code="invalid_account_number")
    values = {
        "account_name": account_name,
        "sort_code_encrypted": crypto.encrypt(sort_code),
        "account_number_encrypted": crypto.encrypt(account_number),
        "account_number_last4": account_number[-4:],
    }
    details = BankDetails.objects.select_for_update().filter(claim=claim).first()
    created = details is None
    if details is None:
        details = BankDetails.objects.create(claim=claim, email_when_given=claim.email, **values)
    else:
        for field, value in values.items():
            setattr(details, field, value)
        details.on_hold = True
        details.changed_at = timezone.now()
        details.confirmed_by = None
        details.confirmed_at = None
        details.save()
    core.touch(claim)
    claim_flags_bank_account(claim)
    event = core.record(
        claim,
        action="bank_details_given" if created else "bank_details_changed",
        actor=actor,
        data={"account": details.masked_account_number, "last4": details.account_number_last4},
    )
    if not created:
        addresses = [claim.email]
        if details.email_when_given and details.email_when_given.lower() != claim.email.lower():
            addresses.append(details.email_when_given)
        for address in addresses:
            status_update_add(
                claim=claim,
                event=event,
                kind="bank_details_changed",
                stage=claim.stage,
                recipient="" if address == claim.email else address,
            )
    return details
