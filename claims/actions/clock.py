"""The scheme's clock: what Celery beat does each day.

Every job here takes `today`, works out from the database what is due, and is safe
to run twice or to run late: a stage change goes through its service (which
refuses a claim that has moved on), and each reminder or warning carries a
dedupe key, so a second run finds it written and sends nothing more. A job that
missed its day (beat was down) catches up on the next run.

Deadlines count England and Wales working days (`claims.domain.workdays`).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from claims import outbox
from claims.actions import casework, offers
from claims.core import Actor, ClaimError
from claims.domain.stages import ReviewState, Stage
from claims.domain.workdays import add_working_days, is_working_day
from claims.models import AuditEvent, Claim, Offer, Review, StatusUpdate
from claims.queries.queues import overdue_for_staff

log = logging.getLogger(__name__)


def _today(today: dt.date | None) -> dt.date:
    return today or timezone.localdate()


# --- Information requests ----------------------------------------------------------


def _request_event(claim: Claim) -> AuditEvent | None:
    """The information request that opened the claim's current cure window."""
    return claim.events.filter(action="information_request").order_by("-created_at", "-id").first()


def reminder_days(claim: Claim, asked_on: dt.date) -> list[tuple[int, dt.date]]:
    """(number, day) of each reminder: the scheme's first and second reminder working days
    after the request was made."""
    scheme = claim.scheme
    return [
        (1, add_working_days(asked_on, scheme.first_reminder_working_days)),
        (2, add_working_days(asked_on, scheme.second_reminder_working_days)),
    ]


def send_reminders(*, today: dt.date | None = None) -> int:
    """Remind each claimant whose cure window has reached a reminder day. Returns how many
    reminders were written."""
    today = _today(today)
    waiting = Claim.objects.filter(
        stage=Stage.INFORMATION_REQUESTED, information_due__gte=today
    ).values_list("pk", flat=True)
    return sum(_remind(claim_id, today) for claim_id in waiting)


@transaction.atomic
def _remind(claim_id: int, today: dt.date) -> int:
    # The claim row is locked so a reminder never crosses the claimant's answer.
    claim = (
        Claim.objects.select_for_update()
        .select_related("scheme")
        .filter(pk=claim_id, stage=Stage.INFORMATION_REQUESTED)
        .first()
    )
    if claim is None or claim.information_due is None or today > claim.information_due:
        return 0
    event = _request_event(claim)
    if event is None:
        return 0
    asked_on = timezone.localdate(event.created_at)
    reached = [number for number, day in reminder_days(claim, asked_on) if day <= today]
    if not reached:
        return 0
    number = max(reached)
    # If the clock was stopped past both days, only the later reminder goes.
    keys = [f"reminder:{event.pk}:{n}" for n in range(number, 3)]
    if StatusUpdate.objects.filter(dedupe_key__in=keys).exists():
        return 0
    update = outbox.status_update_add(
        claim=claim, kind="reminder", stage=claim.stage, event=event, dedupe_key=keys[0]
    )
    return int(update is not None)


def close_expired_information_requests(*, today: dt.date | None = None) -> int:
    """Close each claim whose cure window ended before today without an answer."""
    today = _today(today)
    expired = Claim.objects.filter(
        stage=Stage.INFORMATION_REQUESTED, information_due__lt=today
    ).values_list("pk", flat=True)
    closed = 0
    for claim_id in expired:
        try:
            casework.claim_close_incomplete(claim_id=claim_id, actor=Actor.system(), today=today)
        except ClaimError as refused:
            # The claimant answered, or another run closed it, since the query above.
            log.info("Not closing claim %s: %s", claim_id, refused.message)
            continue
        closed += 1
    return closed


# --- Offers ---------------------------------------------------------------------


def expire_offers(*, today: dt.date | None = None) -> int:
    """Expire each offer whose accept-by date is past."""
    today = _today(today)
    # Any offer of the claim past its date: the service checks the current one.
    candidates = (
        Claim.objects.filter(stage=Stage.OFFER_MADE, offers__accept_by__lt=today)
        .distinct()
        .values_list("pk", flat=True)
    )
    expired = 0
    for claim_id in candidates:
        try:
            offers.offer_expire(claim_id=claim_id, actor=Actor.system(), today=today)
        except ClaimError as refused:
            log.info("Not expiring claim %s's offer: %s", claim_id, refused.message)
            continue
        expired += 1
    return expired


def warn_expiring_offers(*, today: dt.date | None = None) -> int:
    """Tell each claimant whose offer can be accepted for only OFFER_EXPIRING_WARNING_WORKING_DAYS
    more working days (or fewer), once per offer: a whole offer, or a revised offer for a
    disputed part (claims.actions.reviews)."""
    today = _today(today)
    horizon = add_working_days(today, settings.OFFER_EXPIRING_WARNING_WORKING_DAYS)
    candidates = set(
        Claim.objects.filter(
            stage=Stage.OFFER_MADE,
            offers__accept_by__gte=today,
            offers__accept_by__lte=horizon,
        ).values_list("pk", flat=True)
    )
    candidates.update(
        Review.objects.filter(
            state=ReviewState.REVISED,
            revised_offer__accept_by__gte=today,
            revised_offer__accept_by__lte=horizon,
        ).values_list("claim_id", flat=True)
    )
    return sum(_warn(claim_id, today, horizon) for claim_id in sorted(candidates))


def _expiring_offer(claim: Claim) -> Offer | None:
    """The offer the claimant can still accept: the current whole offer, or a revised
    offer for a disputed part."""
    if claim.stage == Stage.OFFER_MADE:
        return claim.offers.order_by("-version").first()
    review = (
        claim.part_reviews.filter(state=ReviewState.REVISED)
        .select_related("revised_offer")
        .order_by("-id")
        .first()
    )
    return review.revised_offer if review is not None else None


@transaction.atomic
def _warn(claim_id: int, today: dt.date, horizon: dt.date) -> int:
    claim = Claim.objects.select_for_update().filter(pk=claim_id).first()
    if claim is None:
        return 0
    offer = _expiring_offer(claim)
    if offer is None or offer.accept_by is None or not today <= offer.accept_by <= horizon:
        return 0
    update = outbox.status_update_add(
        claim=claim,
        kind="offer_expiring",
        stage=claim.stage,
        dedupe_key=f"offer_expiring:{offer.pk}",
    )
    return int(update is not None)


# --- Staff digest ------------------------------------------------------------------


def send_digests(*, today: dt.date | None = None) -> int:
    """Email each caseworker with overdue claims a list of them, once a working day."""
    today = _today(today)
    if not is_working_day(today):
        return 0
    active_staff = get_user_model().objects.filter(is_active=True, is_staff=True).exclude(email="")
    counts = (
        overdue_for_staff(today)
        .filter(assigned_to__in=active_staff)
        .values("assigned_to")
        .annotate(count=Count("pk"))
        .order_by("assigned_to")
    )
    written = 0
    for row in counts:
        with transaction.atomic():
            digest = outbox.staff_digest_add(
                user_id=row["assigned_to"], day=today, claim_count=row["count"]
            )
        written += digest is not None
    return written
