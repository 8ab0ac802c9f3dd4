"""The caseworker's queues and what is overdue: service standards, due-by dates and
the claims list's rows."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import (
    DecimalField,
    Exists,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from claims.domain.stages import (
    TERMINAL_STAGES,
    Stage,
)
from claims.domain.workdays import add_working_days, working_days_before, working_days_between
from claims.models import (
    Claim,
    ClaimFlag,
    HeadOfLoss,
    Scheme,
)

# Service standards: working days staff have for a claim in each stage before it is
# overdue. Stages that wait on the claimant use their own dates (information_due,
# the offer's accept-by date), not these.
SERVICE_LEVEL_WORKING_DAYS: dict[Stage, int] = {
    Stage.SUBMITTED: 2,
    Stage.TRIAGE: 5,
    Stage.ASSESSMENT: 20,
    Stage.OFFER_PENDING_APPROVAL: 5,
    Stage.DECLINED: 5,
    Stage.REVIEW: 20,
    Stage.ACCEPTED: 5,
    Stage.PAYMENT_PENDING: 5,
    Stage.PAID: 5,
}


AWAITING_CLAIMANT = (Stage.INFORMATION_REQUESTED, Stage.OFFER_MADE)


OPEN_STAGES = tuple(s for s in Stage if s not in TERMINAL_STAGES and s != Stage.DRAFT)


# Stages where staff have work to do: what "unassigned" is about.
STAFF_STAGES = tuple(SERVICE_LEVEL_WORKING_DAYS)


def _local_date(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def due_by(claim: Claim, started: dt.date | None = None) -> dt.date | None:
    """When the claim's current stage should be over: a staff deadline, or the date
    the claimant has until. Needs `claim.scheme`. `started`: the stage's first day,
    if the caller has it."""
    stage = Stage(claim.stage)
    if stage == Stage.INFORMATION_REQUESTED:
        return claim.information_due
    started = started or _local_date(claim.stage_changed_at)
    if stage == Stage.OFFER_MADE:
        return add_working_days(started, claim.scheme.accept_by_working_days)
    days = SERVICE_LEVEL_WORKING_DAYS.get(stage)
    return add_working_days(started, days) if days is not None else None


def working_days_in_stage(claim: Claim, today: dt.date | None = None) -> int:
    return working_days_between(_local_date(claim.stage_changed_at), today or timezone.localdate())


def _start_of(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def ageing_q(today: dt.date, low: int, high: int | None) -> Q:
    """Claims submitted between `high` and `low` whole days ago, inclusive (an
    AGEING_BUCKETS row): the dashboard's counts and the claims list's filter."""
    bucket = Q(submitted_at__lt=_start_of(today - dt.timedelta(days=low - 1)))
    if high is not None:
        bucket &= Q(submitted_at__gte=_start_of(today - dt.timedelta(days=high)))
    return bucket


def overdue_q(today: dt.date | None = None, schemes: QuerySet[Scheme] | None = None) -> Q:
    """Claims past their due-by date: staff deadlines, unanswered information requests
    and offers past accept-by. A claim is overdue once due-by is before today, that is,
    when its stage started before the working day `days` before today."""
    today = today or timezone.localdate()
    overdue = Q(stage=Stage.INFORMATION_REQUESTED, information_due__lt=today)
    for stage, days in SERVICE_LEVEL_WORKING_DAYS.items():
        # due = start + days working days < today  <=>  start < (today - days working days)
        cutoff = working_days_before(today, days)
        overdue |= Q(stage=stage, stage_changed_at__lt=_start_of(cutoff))
    accept_by_days = (schemes if schemes is not None else Scheme.objects.all()).values_list(
        "accept_by_working_days", flat=True
    )
    for days in sorted(set(accept_by_days)):
        cutoff = working_days_before(today, days)
        overdue |= Q(
            stage=Stage.OFFER_MADE,
            scheme__accept_by_working_days=days,
            stage_changed_at__lt=_start_of(cutoff),
        )
    return overdue


QUEUES: dict[str, str] = {
    "mine": "My claims",
    "unassigned": "Unassigned",
    "awaiting_claimant": "Awaiting claimant",
    "to_approve": "Offers to approve",
    "overdue": "Overdue",
    "flagged": "Flagged",
}


def queue(queryset: QuerySet[Claim], name: str, user: Any) -> QuerySet[Claim]:
    """One of the caseworker's queues; an unknown name leaves the queryset as it is."""
    if name == "mine":
        return queryset.filter(assigned_to_id=user.pk, stage__in=OPEN_STAGES)
    if name == "unassigned":
        return queryset.filter(assigned_to__isnull=True, stage__in=STAFF_STAGES)
    if name == "awaiting_claimant":
        return queryset.filter(stage__in=AWAITING_CLAIMANT)
    if name == "to_approve":
        return queryset.filter(stage=Stage.OFFER_PENDING_APPROVAL)
    if name == "overdue":
        return queryset.filter(overdue_q())
    if name == "flagged":
        return queryset.filter(
            Exists(ClaimFlag.objects.filter(claim=OuterRef("pk"))), stage__in=OPEN_STAGES
        )
    return queryset


@functools.cache
def _amount_claimed() -> Coalesce:
    # Built once: every list page uses it, and a query copies an expression it is
    # given rather than changing it.
    total = (
        HeadOfLoss.objects.filter(claim=OuterRef("pk"))
        .order_by()
        .values("claim")
        .annotate(total=Sum("amount_claimed"))
        .values("total")
    )
    return Coalesce(
        Subquery(total, output_field=DecimalField(max_digits=14, decimal_places=2)),
        Value(Decimal("0.00")),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


def with_amount_claimed(queryset: QuerySet[Claim]) -> QuerySet[Claim]:
    """Each claim's total claimed, worked out only for the rows fetched (a correlated
    subquery, not a join and GROUP BY over every claim)."""
    return queryset.annotate(amount_claimed=_amount_claimed())


def claims_list(queryset: QuerySet[Claim]) -> QuerySet[Claim]:
    """The claims list's claims with their total claimed: what its filters, search,
    sorting and actions work on."""
    return with_amount_claimed(queryset)


# What the list's columns read, and nothing else: a claim's long texts, its answers
# (JSON) and the scheme's and user's other columns would otherwise be read and
# decoded for every row on the page.
LIST_COLUMNS = (
    "reference", "full_name", "stage", "stage_changed_at", "information_due",
    "scheme__accept_by_working_days", "assigned_to__username",
)  # fmt: skip


def claims_list_rows(queryset: QuerySet[Claim]) -> QuerySet[Claim]:
    """The claims list's page of rows: the scheme (for the due-by date) and assignee
    joined, and the flags fetched in one query for the page, in kind order."""
    flags = ClaimFlag.objects.order_by("kind", "id").only("claim", "kind", "reason")
    return (
        queryset.select_related("scheme", "assigned_to")
        .only(*LIST_COLUMNS)
        .prefetch_related(Prefetch("flags", queryset=flags))
    )


def caseworkers() -> QuerySet[Any]:
    """Staff who may be assigned claims: those whose role lets them assess."""

    user_model = get_user_model()
    holds = Q(groups__permissions__codename="assess_claim") | Q(
        user_permissions__codename="assess_claim"
    )
    return (
        user_model.objects.filter(is_active=True, is_staff=True)
        .filter(holds | Q(is_superuser=True))
        .distinct()
        .order_by("username")
    )


def overdue_claims(*, user: Any, today: dt.date) -> QuerySet[Claim]:
    """The claims assigned to `user` that are overdue (`overdue_q`) in a stage where
    staff have the work to do, oldest first: the staff digest."""
    return overdue_for_staff(today).filter(assigned_to=user).order_by("stage_changed_at")


def overdue_for_staff(today: dt.date) -> QuerySet[Claim]:
    """Overdue claims (`overdue_q`) waiting on staff, not on the claimant."""
    return Claim.objects.filter(overdue_q(today), stage__in=STAFF_STAGES)
