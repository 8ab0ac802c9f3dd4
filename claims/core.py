"""The rulebook every write to a claim goes through.

Who is acting (`Actor`), what a refusal says (`ClaimError`), and the mechanics and
checks that every service shares: the claim locked (`lock_claim`), who may act
(`check_staff`, `check_actor`, `check_can`), that nobody changed it meanwhile
(`check_version`), the move itself with its audit event, status update and letter
(`move`), and the record of a change that moves no stage (`record`, `touch`); and
the rules of a money decision (at the end: four eyes, a reviewer's independence, bands
and caps). Services, reviews, payments, privacy and the clock call these; none of them
keeps a rule of its own.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db.models import Exists
from django.utils import timezone

from claims.domain.lost_time import lost_time_amount, lost_time_cap
from claims.domain.money import MoneyError, format_money, parse_money
from claims.domain.stages import (
    REJECTION_REVIEW_WORKING_DAYS,
    TRANSITIONS,
    ActorKind,
    ReviewState,
    Transition,
)
from claims.domain.workdays import add_working_days
from claims.models import AuditEvent, Claim, DistressBand, HeadOfLoss, Offer, Scheme
from claims.outbox import letters_for_transition, status_update_add

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


class ClaimError(Exception):
    """A change the rules refuse. The message is written for the person who asked."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class Actor:
    """Who is acting: a staff user, the claimant of one claim, or Redress itself."""

    kind: ActorKind
    user: Any = None
    claim_id: int | None = None

    @classmethod
    def staff(cls, user: AbstractBaseUser | AnonymousUser) -> Actor:
        return cls(kind=ActorKind.STAFF, user=user)

    @classmethod
    def claimant(cls, claim_id: int) -> Actor:
        return cls(kind=ActorKind.CLAIMANT, claim_id=claim_id)

    @classmethod
    def system(cls) -> Actor:
        return cls(kind=ActorKind.SYSTEM)

    def __str__(self) -> str:
        if self.kind == ActorKind.STAFF:
            return str(self.user)
        return str(self.kind.label)


def today() -> dt.date:
    return timezone.localdate()


def lock_claim(claim_id: int, *, only: tuple[str, ...] | None = None) -> Claim:
    """The claim, locked, with its scheme. A hot path may name the `only` fields it
    reads, of the claim and (`scheme__…`) of its scheme: the rest load when first read,
    a query each, so a test of the path's query count keeps the list honest."""
    # Only the claim's row: locking its scheme too would make every change to any
    # claim of a scheme wait for every other (claims.actions.payments locks it when it must).
    queryset = Claim.objects.select_for_update(of=("self",)).select_related("scheme")
    if only is not None:
        queryset = queryset.only(*only)
    try:
        return queryset.get(pk=claim_id)
    except Claim.DoesNotExist:
        raise ClaimError("There is no such claim.", code="not_found") from None


def check_staff(actor: Actor, permission: str, *, doing: str = "this") -> None:
    """Refuse anyone but an active staff member whose role holds `permission`; the
    refusal names what they tried (`doing`: "sending notices")."""
    user = actor.user
    if actor.kind != ActorKind.STAFF or user is None:
        raise ClaimError("Only staff can do this.", code="forbidden")
    if not (user.is_active and user.is_staff and user.has_perm(permission)):
        raise ClaimError(f"Your role does not allow {doing}.", code="forbidden")


def check_actor(claim: Claim, actor: Actor, transition: Transition) -> None:
    if actor.kind not in transition.actors:
        raise ClaimError(
            f"The {actor.kind.label.lower()} cannot {transition.name.replace('_', ' ')} a claim.",
            code="forbidden",
        )
    if actor.kind == ActorKind.STAFF:
        assert transition.permission is not None
        check_staff(actor, transition.permission)
    elif actor.kind == ActorKind.CLAIMANT and actor.claim_id != claim.pk:
        raise ClaimError("There is no such claim.", code="not_found")


def check_version(claim: Claim, expected_version: int | None) -> None:
    if expected_version is not None and claim.version != expected_version:
        raise ClaimError(
            "Someone else changed this claim since you opened it. "
            "Reload it to see their change, then try again.",
            code="conflict",
        )


def record(
    claim: Claim,
    *,
    action: str,
    actor: Actor,
    reason: str = "",
    from_stage: str = "",
    to_stage: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent.objects.create(
        claim=claim,
        action=action,
        actor_kind=actor.kind,
        actor=actor.user if actor.kind == ActorKind.STAFF else None,
        from_stage=from_stage,
        to_stage=to_stage,
        reason=reason,
        data=data or {},
    )


# The name claims.actions.access, claims.actions.privacy and claims.delivery.emails know it by.
record_event = record


def touch(claim: Claim, *fields: str, only_if: Exists | None = None) -> bool:
    """Write `fields` of a locked claim, with its version and `updated_at`. With `only_if`
    (a condition on the claim's row), write only if it holds, and say whether it did:
    the UPDATE itself checks it, so no query of its own is needed."""
    claim.version += 1
    claim.updated_at = timezone.now()
    rows = Claim.objects.filter(pk=claim.pk)
    if only_if is not None:
        rows = rows.filter(only_if)
    names = (CLAIM_ATTNAMES[name] for name in ("version", "updated_at", *fields))
    return rows.update(**{name: getattr(claim, name) for name in names}) == 1


# By attname: the value of a foreign key is its id, never a query for the related row.
CLAIM_ATTNAMES = {field.name: field.attname for field in Claim._meta.concrete_fields}


def check_can(claim: Claim, transition_name: str, actor: Actor, reason: str = "") -> Transition:
    """Refuse a move this actor may not make from this stage, before any work is done."""
    transition = TRANSITIONS[transition_name]
    check_actor(claim, actor, transition)
    if claim.stage not in transition.sources:
        raise ClaimError(
            f"This cannot be done to a claim that is {claim.get_stage_display().lower()}.",
            code="illegal_transition",
        )
    if transition.reason_required and not (reason or "").strip():
        raise ClaimError("Give a reason for this decision.", code="reason_required")
    return transition


def move(
    claim: Claim,
    transition_name: str,
    actor: Actor,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
    extra_fields: tuple[str, ...] = (),
    only_if: tuple[Exists, ClaimError] | None = None,
) -> AuditEvent:
    """Apply one legal transition to a locked claim: new stage, audit event and
    status update, all inside the caller's transaction. `only_if` is a condition on the
    claim's row that the stage's UPDATE checks, and the error to raise if it fails."""
    transition = check_can(claim, transition_name, actor, reason)
    reason = (reason or "").strip()
    from_stage = claim.stage
    claim.stage = transition.target
    claim.stage_changed_at = timezone.now()
    condition, refusal = only_if if only_if is not None else (None, None)
    if not touch(claim, "stage", "stage_changed_at", *extra_fields, only_if=condition):
        # Only the condition can fail: the row is locked, so it is still there.
        raise refusal or ClaimError("There is no such claim.", code="not_found")
    event = record(
        claim,
        action=transition.name,
        actor=actor,
        reason=reason,
        from_stage=from_stage,
        to_stage=transition.target,
        data=data,
    )
    # Queued for delivery once this transaction commits (claims.delivery.emails).
    status_update_add(claim=claim, event=event, kind=transition.update, stage=transition.target)
    # The letter this change sends, if any (claims.domain.letters.AUTOMATIC_LETTERS), likewise.
    letters_for_transition(claim=claim, event=event)
    return event


def parse_amount(value: object, field: str, *, allow_zero: bool = True) -> Decimal:
    try:
        return parse_money(value, allow_zero=allow_zero)
    except MoneyError as error:
        raise ClaimError(f"{field}: {error}", code="invalid_amount") from None


_HOURS = re.compile(r"\d{1,4}(\.\d+)?", re.ASCII)


def parse_hours(value: object) -> Decimal:
    text = "" if value is None or isinstance(value, float) else str(value).strip()
    if not _HOURS.fullmatch(text):
        raise ClaimError("Enter the hours you spent as a number, like 2.5.", code="invalid_hours")
    hours = Decimal(text)
    if hours != hours.quantize(Decimal("0.01")):
        raise ClaimError("Hours can have at most two decimal places.", code="invalid_hours")
    if hours <= 0 or hours > 1000:
        raise ClaimError("Enter the hours you spent: between 0.01 and 1,000.", code="invalid_hours")
    return hours


def current_offer(claim: Claim) -> Offer:
    offer = claim.offers.order_by("-version").first()
    if offer is None:
        raise ClaimError("This claim has no offer.", code="no_offer")
    return offer


def revised_offers_open(claim: Claim, today: dt.date) -> None:
    """Start the accept-by date of each revised offer for a disputed part that waited
    for the first part's payment: the claimant can accept it from now (claims.actions.reviews)."""
    for review in claim.part_reviews.filter(
        state=ReviewState.REVISED, revised_offer__accept_by__isnull=True
    ).select_related("revised_offer"):
        offer = review.revised_offer
        assert offer is not None
        offer.accept_by = add_working_days(today, claim.scheme.accept_by_working_days)
        offer.save(update_fields=["accept_by"])


def offer_under_review(claim: Claim) -> Offer:
    """The offer a review of the whole offer is about: the newest one the claimant saw.
    (A revised offer waiting for approval, or sent back, was never seen.)"""
    offer = claim.offers.filter(made_at__isnull=False).order_by("-version").first()
    if offer is None:
        raise ClaimError("This claim has no offer.", code="no_offer")
    return offer


def offer_shapers(offer: Offer) -> set[int]:
    """Everyone who shaped an offer: its proposer and each head's assessor."""
    ids = {offer.proposed_by_id}
    ids.update(item.assessed_by_id for item in offer.items.all() if item.assessed_by_id)
    return ids


def make_offer(offer: Offer, today: dt.date) -> dt.date:
    """Put the offer in front of the claimant: it can be accepted until the date returned."""
    accept_by = add_working_days(today, offer.claim.scheme.accept_by_working_days)
    offer.accept_by = accept_by
    offer.made_at = timezone.now()
    return accept_by


# --- The rules of a money decision ------------------------------------------------------
#
# Four eyes: every offer the claimant sees above the scheme's threshold (first, revised,
# or for a disputed part) is approved by a senior caseworker who neither assessed nor
# proposed it. Independence: whoever assessed, proposed or approved an offer, or rejected
# a claim, never decides its review. Every amount anyone sets is inside its band and
# under its cap. Each service calls these; none keeps a copy.


def offer_deciders(offer: Offer) -> set[int]:
    """Everyone who shaped or approved an offer: none of them may decide its review."""
    approver = {offer.approved_by_id} if offer.approved_by_id is not None else set()
    return offer_shapers(offer) | approver


def needs_approval(scheme: Scheme, total: Decimal) -> bool:
    """Whether an offer of `total` waits for a second senior caseworker."""
    return total > scheme.offer_approval_threshold


def _user_id(actor: Actor) -> int | None:
    return actor.user.pk if actor.user is not None else None


def check_may_approve(offer: Offer, actor: Actor, *, under_review: Offer | None = None) -> None:
    """Refuse an approver who assessed or proposed `offer`, and, for an offer revised in
    a review, one who shaped or approved the offer under review: approving the revision
    would decide the review of their own decision."""
    user_id = _user_id(actor)
    if user_id in offer_shapers(offer):
        raise ClaimError(
            "You assessed or proposed this offer, so another senior caseworker must approve it.",
            code="four_eyes",
        )
    if under_review is not None and user_id in offer_deciders(under_review):
        raise ClaimError(
            "You assessed, proposed or approved the offer under review, so another senior "
            "caseworker must approve its revision.",
            code="four_eyes",
        )


def check_may_review(offer: Offer, actor: Actor) -> None:
    """Refuse a reviewer who assessed, proposed or approved the offer under review."""
    if _user_id(actor) in offer_deciders(offer):
        raise ClaimError(
            "You assessed, proposed or approved the offer under review, so another senior "
            "caseworker must decide it.",
            code="four_eyes",
        )


def rejection_event(claim: Claim) -> AuditEvent | None:
    """The claim's latest rejection."""
    return claim.events.filter(action="triage_reject").order_by("-created_at", "-id").first()


def rejection_review_by(claim: Claim) -> dt.date | None:
    """The last day a rejected claimant may ask us to look again (the decision letter
    prints it)."""
    event = rejection_event(claim)
    if event is None:
        return None
    rejected_on = timezone.localdate(event.created_at)
    return add_working_days(rejected_on, REJECTION_REVIEW_WORKING_DAYS)


def check_may_review_rejection(claim: Claim, actor: Actor) -> None:
    """Refuse a reviewer who rejected the claim, this time or an earlier one."""
    rejecters = claim.events.filter(action="triage_reject").values_list("actor_id", flat=True)
    if _user_id(actor) in set(rejecters):
        raise ClaimError(
            "You rejected this claim, so another senior caseworker must review the rejection.",
            code="four_eyes",
        )


def distress_band(scheme: Scheme, band_id: int | None) -> DistressBand | None:
    """The scheme's distress band `band_id` (None for none); another scheme's is refused."""
    if not band_id:
        return None
    band = scheme.distress_bands.filter(pk=band_id).first()
    if band is None:
        raise ClaimError("That distress band is not one of this scheme's.", code="invalid")
    return band


def check_award(
    *, scheme: Scheme, head: HeadOfLoss, amount: Decimal, band: DistressBand | None
) -> None:
    """Refuse an amount allowed for one head of loss that is outside its band (distress),
    over the scheme's time cap (time spent) or more than was claimed (anything else).
    Evidence for time spent raises its cap."""
    category, hours = head.category, head.hours
    if category == HeadOfLoss.Category.DISTRESS:
        if band is None:
            raise ClaimError("Choose the distress band.", code="band_required")
        if band.scheme_id != scheme.pk:
            raise ClaimError("That distress band is not one of this scheme's.", code="invalid")
        if amount < band.lower or (band.upper is not None and amount > band.upper):
            raise ClaimError(
                f"An award in the {band.name} band must be "
                + (
                    f"between {format_money(band.lower)} and {format_money(band.upper)}."
                    if band.upper is not None
                    else f"{format_money(band.lower)} or more."
                ),
                code="outside_band",
            )
    elif category == HeadOfLoss.Category.TIME_SPENT and hours is not None:
        with_evidence = head.evidence.exists()
        ceiling = lost_time_amount(scheme, hours, with_evidence=with_evidence)
        if amount > ceiling:
            cap = lost_time_cap(scheme, with_evidence=with_evidence)
            raise ClaimError(
                f"Time spent is allowed up to {cap.normalize():f} hours "
                f"{'with' if with_evidence else 'without'} evidence: at most "
                f"{format_money(ceiling)} here.",
                code="above_cap",
            )
    elif amount > head.amount_claimed:
        raise ClaimError(
            f"The amount allowed cannot be more than the {format_money(head.amount_claimed)} "
            "claimed.",
            code="above_claimed",
        )
