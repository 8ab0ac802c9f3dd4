"""The caseworker workspace's queries: queues, the claims list, the claim page, money
against the fund and the scheme dashboard.

Everything here reads; writes go through `claims.actions`. Each function runs a
fixed number of queries whatever the number of claims, heads of loss or events,
and each filter is one an index answers (see Claim.Meta.indexes), so the pages
stay quick with a million claims.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypeVar

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    Model,
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

from claims.core import lost_time_amount
from claims.domain.money import round_money
from claims.domain.stages import (
    TERMINAL_STAGES,
    TRANSITIONS,
    ActorKind,
    Stage,
    Transition,
    transitions_from,
)
from claims.domain.workdays import add_working_days, working_days_before, working_days_between
from claims.models import (
    AuditEvent,
    BankDetails,
    Claim,
    ClaimFlag,
    DistressBand,
    Evidence,
    HeadOfLoss,
    InternalNote,
    Letter,
    Message,
    Offer,
    OfferItem,
    Payment,
    PaymentBatch,
    RegisterEntry,
    Scheme,
)
from claims.queries.partial import part_fund_figures

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

    User = AbstractBaseUser | AnonymousUser

M = TypeVar("M", bound=Model)

# --- Deadlines ------------------------------------------------------------------

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


# --- Queues ---------------------------------------------------------------------

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


# --- Money against the fund ---------------------------------------------------------


@dataclass(frozen=True)
class FundSummary:
    """Money against a scheme's fund. An offer binds the fund once it is made: the
    claimant may accept it. One awaiting approval does not yet (see `remaining`)."""

    fund: Decimal
    awaiting_approval: Decimal
    offered: Decimal  # made and not yet answered, or under review
    accepted: Decimal  # accepted, not yet paid
    paid: Decimal
    counts: dict[str, int] = field(default_factory=dict)
    as_of: dt.datetime | None = None

    @property
    def committed(self) -> Decimal:
        """Accepted and not yet paid: money the scheme owes."""
        return self.accepted

    @property
    def remaining(self) -> Decimal:
        """What is left for new offers: the fund less every binding offer and payment."""
        return self.fund - self.offered - self.accepted - self.paid

    @property
    def remaining_after_approvals(self) -> Decimal:
        return self.remaining - self.awaiting_approval

    @property
    def used_fraction(self) -> float:
        return float((self.fund - self.remaining) / self.fund) if self.fund else 0.0


_OUTSTANDING = {Stage.OFFER_MADE, Stage.DECLINED, Stage.REVIEW}
_ACCEPTED = {Stage.ACCEPTED, Stage.PAYMENT_PENDING}


def fund_summary(scheme: Scheme, *, exclude_claim_id: int | None = None) -> FundSummary:
    """Money offered, accepted and paid against the scheme's fund, from each claim's
    latest offer, and what payments paid. A few grouped queries. `exclude_claim_id`
    leaves one claim's offers and payments out: the fund check for a new offer on
    that claim, whose total is everything the claim costs."""

    newer = Offer.objects.filter(claim=OuterRef("claim"), version__gt=OuterRef("version"))
    offers = Offer.objects.filter(claim__scheme=scheme)
    if exclude_claim_id is not None:
        offers = offers.exclude(claim_id=exclude_claim_id)
    # Claims accepted in part are counted item by item (claims.queries.partial), below.
    offers = offers.filter(claim__part_reviews__isnull=True)
    # An offer waiting for approval counts as waiting; otherwise the claim's newest offer
    # the claimant saw counts (a revision sent back was never made).
    waiting = offers.filter(~Exists(newer), claim__stage=Stage.OFFER_PENDING_APPROVAL)
    seen = offers.filter(made_at__isnull=False).exclude(claim__stage=Stage.OFFER_PENDING_APPROVAL)
    seen = seen.filter(~Exists(newer.filter(made_at__isnull=False)))
    rows = [
        *waiting.values("claim__stage").annotate(total=Sum("total")).order_by(),
        *seen.values("claim__stage").annotate(total=Sum("total")).order_by(),
    ]
    awaiting = offered = accepted = Decimal("0.00")
    # Paid is what the payments paid (claims.actions.payments.payable_amount), not the offers.
    paid = paid_total(scheme, exclude_claim_id=exclude_claim_id)
    for row in rows:
        stage, total = row["claim__stage"], row["total"] or Decimal("0.00")
        if stage == Stage.OFFER_PENDING_APPROVAL:
            awaiting += total
        elif stage in _OUTSTANDING:
            offered += total
        elif stage in _ACCEPTED:
            accepted += total
    part = part_fund_figures(scheme, exclude_claim_id=exclude_claim_id)
    # Paid comes from the payment rows alone, for claims accepted in part too.
    offered, accepted = offered + part.offered, accepted + part.accepted
    counts = {
        "offers_made": Offer.objects.filter(claim__scheme=scheme, made_at__isnull=False).count(),
    }
    return FundSummary(
        fund=scheme.fund_amount,
        awaiting_approval=awaiting,
        offered=offered,
        accepted=accepted,
        paid=paid,
        counts=counts,
        as_of=timezone.now(),
    )


FUND_CACHE_SECONDS = 60


def fund_summary_cached(scheme: Scheme) -> FundSummary:
    """`fund_summary`, at most a minute old: every claim page shows it, and with many
    claims it costs far more than the rest of the page."""
    # created_at makes the key unique to this scheme even where ids are reused.
    from claims.queries import caching

    key = f"redress:fund:{scheme.pk}:{scheme.created_at.timestamp()}"
    return caching.remembered(key, FUND_CACHE_SECONDS, lambda: fund_summary(scheme))


# --- The claim page -------------------------------------------------------------------

TRANSITION_LABELS: dict[str, str] = {
    "triage_start": "Start triage",
    "triage_accept": "Accept for assessment",
    "triage_reject": "Reject: not eligible",
    "information_request": "Request information",
    "information_resume": "Resume assessment",
    "offer_propose": "Propose offer",
    "offer_approve": "Approve offer",
    "offer_return": "Return for re-assessment",
    "review_start": "Start review",
    "review_revise": "Revise offer",
    "review_uphold": "Uphold the offer and close",
    "rejection_review_uphold": "Uphold the rejection and close",
    "rejection_review_reopen": "Reopen the claim for triage",
    "payment_queue": "Queue for payment",
    "payment_fail": "Payment failed",
    "payment_confirm": "Mark paid",
    "close": "Close claim",
}
EVENT_LABELS: dict[str, str] = {
    "start": "Claim started",
    "submit": "Submitted",
    "add_head": "Head of loss added",
    "assess_head": "Head of loss assessed",
    "assign": "Assigned",
    "note": "Note added",
    "offer_make": "Offer made",
    "offer_accept": "Offer accepted",
    "offer_decline": "Offer declined",
    "offer_accept_part": "Offer accepted in part: the rest disputed",
    "part_review_uphold": "Review of the disputed part: decision upheld",
    "part_review_revise": "Review of the disputed part: revised offer made",
    "revised_offer_accept": "Revised offer accepted",
    "offer_expire": "Offer expired",
    "review_propose": "Review: revised offer proposed, waiting for approval",
    "review_approve": "Review: revised offer approved and made",
    "review_return": "Revised offer returned to the review",
    "rejection_review_request": "Claimant asked for the rejection to be reviewed",
    "rejection_review_uphold": "Rejection review: rejection upheld",
    "rejection_review_reopen": "Rejection review: claim reopened",
    "part_review_propose": "Review of the disputed part: revised offer proposed",
    "part_review_approve": "Review of the disputed part: revised offer approved",
    "part_review_return": "Review of the disputed part: revised offer returned",
    "revised_offer_decline": "Revised offer declined: a new review is open",
    "information_provide": "Claimant answered",
    "close_incomplete": "Closed incomplete",
    "withdraw": "Withdrawn by the claimant",
    "bank_details_given": "Bank details given",
    "bank_details_changed": "Bank details changed: payment held",
    "bank_details_change_confirmed": "Changed bank details confirmed",
    "bank_details_viewed": "Full bank details viewed",
    "draft_erased": "Draft erased (personal data and files)",
    "retention_erased": "Personal data and files erased (retention period over)",
    "subject_access_exported": "Subject access export downloaded",
}
REASON_LABELS: dict[str, str] = {
    "information_request": "What the claimant needs to send (they will read this)",
}
# offer_make is the same button as offer_propose: the service decides whether the
# offer needs approval (above the scheme's threshold) or is made at once.
_SAME_BUTTON = {
    "offer_make": "offer_propose",
    # Likewise a review's revision (above the threshold it waits for approval) and the
    # return of a proposed offer (a revised one goes back to its review).
    "review_propose": "review_revise",
    "review_approve": "offer_approve",
    "review_return": "offer_return",
}
# Made from a payment batch (claims.actions.payments), never by a button on one claim.
PAYMENT_TRANSITIONS = frozenset({"payment_queue", "payment_confirm", "payment_fail"})
_REVIEW_DECISIONS = {"review_revise", "review_uphold"}
_REJECTION_DECISIONS = {"rejection_review_uphold", "rejection_review_reopen"}


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    reason_required: bool
    reason_label: str


def _four_eyes_refusal(
    name: str,
    user: Any,
    offers: list[Offer],
    items: dict[int, list[OfferItem]],
    events: list[AuditEvent],
) -> str:
    """Why the rulebook (claims.core) would refuse `user` the move `name`, worked out from
    what the claim page already read; "" if it would not. The service checks again."""

    def shapers(offer: Offer) -> set[int]:
        ids = {offer.proposed_by_id}
        ids.update(item.assessed_by_id for item in items.get(offer.pk, []) if item.assessed_by_id)
        return ids

    def deciders(offer: Offer) -> set[int]:
        approver = {offer.approved_by_id} if offer.approved_by_id is not None else set()
        return shapers(offer) | approver

    made = [offer for offer in offers if offer.made_at is not None]
    if name == "offer_approve" and offers:
        if user.pk in shapers(offers[0]):
            return (
                "You assessed or proposed this offer, so another senior caseworker must approve it."
            )
        if made and made[0].version < offers[0].version and user.pk in deciders(made[0]):
            return (
                "You assessed, proposed or approved the offer under review, so another senior "
                "caseworker must approve its revision."
            )
    if name in _REVIEW_DECISIONS and made and user.pk in deciders(made[0]):
        return (
            "You assessed, proposed or approved the offer under review, so another senior "
            "caseworker must decide it."
        )
    if name in _REJECTION_DECISIONS:
        rejecters = {event.actor_id for event in events if event.action == "triage_reject"}
        if user.pk in rejecters:
            return (
                "You rejected this claim, so another senior caseworker must review the rejection."
            )
    return ""


def available_actions(
    claim: Claim,
    user: Any,
    offers: list[Offer],
    items: dict[int, list[OfferItem]],
    events: list[AuditEvent] | None = None,
) -> tuple[list[Action], str]:
    """The moves this user may make on this claim now, and why a four-eyes move is
    missing if it is. `offers` newest first; `items` each offer's items by its id;
    `events` the claim's history, oldest first."""
    actions: list[Action] = []
    seen: set[str] = set()
    held_back = ""
    for transition in transitions_from(claim.stage):
        if ActorKind.STAFF not in transition.actors or transition.name in PAYMENT_TRANSITIONS:
            continue
        assert transition.permission is not None
        if not user.has_perm(transition.permission):
            continue
        name = _SAME_BUTTON.get(transition.name, transition.name)
        if name in seen:
            continue
        seen.add(name)
        refusal = _four_eyes_refusal(name, user, offers, items, events or [])
        if refusal:
            held_back = refusal
            continue
        actual: Transition = TRANSITIONS[name]
        actions.append(
            Action(
                name=name,
                label=TRANSITION_LABELS.get(name, name.replace("_", " ").capitalize()),
                reason_required=actual.reason_required,
                reason_label=REASON_LABELS.get(name, "Reason"),
            )
        )
    return actions, held_back


@dataclass
class HeadRow:
    head: HeadOfLoss
    evidence: list[Evidence]
    lost_time_note: str = ""
    lost_time_ceiling: Decimal | None = None


@dataclass
class ClaimPage:
    claim: Claim
    heads: list[HeadRow]
    evidence: list[Evidence]
    offers: list[Offer]
    offer_items: dict[int, list[OfferItem]]  # each offer's items, by the offer's id
    events: list[AuditEvent]
    notes: list[InternalNote]
    messages: list[Message]
    flags: list[ClaimFlag]
    bands: list[DistressBand]
    band_suggestions: dict[int, Decimal]
    fund: FundSummary | None
    actions: list[Action]
    four_eyes_note: str
    can_assess: bool
    can_note: bool
    can_assign: bool
    total_claimed: Decimal
    total_allowed: Decimal
    unassessed: int
    days_in_stage: int
    due_by: dt.date | None
    overdue: bool
    names: dict[int, str]  # the name the pages give each user, by id
    register_entry: RegisterEntry | None = None
    bank_details: Any = None
    letters: list[Letter] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)
    batches: dict[int, PaymentBatch] = field(default_factory=dict)

    def name(self, user_id: int | None) -> str:
        return self.names.get(user_id, "") if user_id else ""

    @property
    def assigned_name(self) -> str:
        return self.name(self.claim.assigned_to_id)

    @property
    def bank_confirmed_by(self) -> str:
        return self.name(self.bank_details.confirmed_by_id) if self.bank_details else ""


def suggested_award(band: DistressBand, claimed: Decimal | None = None) -> Decimal:
    """A starting point inside the band: what was claimed if it falls in the band,
    otherwise the band's midpoint (its floor when it has no ceiling), to the £10."""
    if claimed and claimed >= band.lower and (band.upper is None or claimed <= band.upper):
        return claimed
    if band.upper is None:
        return band.lower
    middle = (band.lower + band.upper) / 2
    return round_money((middle / 10).to_integral_value() * 10)


def sees_bank_details(user: Any) -> bool:
    # Masked only: finance officers see the full values through an audited view, and
    # caseworkers see a change on hold, which they confirm.
    return any(user.has_perm(f"claims.{p}") for p in ("view_payment_details", "assess_claim"))


# The claim page reads a dozen short lists. Compiling each one through the ORM took
# more of a page's time than PostgreSQL took to answer all of them, so each is one
# plain SELECT of its model's own columns, built once per process, with no joins:
# people's names come from the cached `staff_names`, schemes and bands from the
# cache too. Model.objects.raw still gives model instances, converted as the ORM
# converts them. `where` and `order_by` are written here, never taken from a request.
@functools.cache
def _select(model: type[Model], where: str, order_by: str) -> str:
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in model._meta.concrete_fields)
    table = quote(model._meta.db_table)
    return f"SELECT {columns} FROM {table} WHERE {where} ORDER BY {order_by}"  # noqa: S608


def rows(model: type[M], where: str, order_by: str, *params: Any) -> list[M]:
    return list(model._default_manager.raw(_select(model, where, order_by), params))


def staff_names() -> dict[int, str]:
    """Each user's name as the pages show it, kept in the cache until anyone's role or
    account changes. Only staff have accounts: claimants sign in by emailed links."""

    from claims.queries import caching

    return caching.cached(
        "redress:staff-names",
        caching.ROLES,
        lambda: {user.pk: str(user) for user in get_user_model().objects.all()},
    )


def schemes() -> dict[int, Scheme]:
    """Every scheme by id, kept in the cache in one entry (a deployment runs a few)
    until a scheme or band changes: a list of claims from many schemes reads them with
    one query, or none. Read-only: the same objects serve every request in the process
    (claims.queries.caching), so nothing may change, save or refresh them."""
    from claims.queries import caching

    return caching.cached(
        "redress:schemes", caching.SCHEMES, lambda: {s.pk: s for s in Scheme.objects.all()}
    )


def scheme_by_id(scheme_id: int) -> Scheme:
    found = schemes().get(scheme_id)
    return found if found is not None else Scheme.objects.get(pk=scheme_id)


def claim_for_page(claim_id: int) -> Claim:
    """The claim with its scheme. Raises Claim.DoesNotExist."""
    found = rows(Claim, "id = %s", "id", claim_id)
    if not found:
        raise Claim.DoesNotExist(f"No claim {claim_id}.")
    claim = found[0]
    claim.scheme = scheme_by_id(claim.scheme_id)
    return claim


def distress_bands(scheme: Scheme) -> list[DistressBand]:
    """The scheme's bands, kept in the cache until a scheme or band changes."""
    from claims.queries import caching

    return caching.cached(
        f"redress:distress-bands:{scheme.pk}",
        caching.SCHEMES,
        lambda: list(scheme.distress_bands.order_by("position")),
    )


def _lost_time(row: HeadRow, scheme: Scheme) -> None:
    head = row.head
    assert head.hours is not None
    with_evidence = bool(row.evidence)
    cap = scheme.lost_time_hours_cap_with_evidence if with_evidence else scheme.lost_time_hours_cap
    row.lost_time_ceiling = lost_time_amount(scheme, head.hours, with_evidence=with_evidence)
    row.lost_time_note = (
        f"{head.hours.normalize():f} h × £{scheme.lost_time_hourly_rate} an hour, "
        f"capped at {cap.normalize():f} h {'with' if with_evidence else 'without'} evidence"
    )


def claim_page(claim_id: int, user: Any, claim: Claim | None = None) -> ClaimPage:
    """Everything the claim page shows, in a fixed number of queries; sections a role
    may not see are not fetched at all. `claim`, if given, is claim_for_page's."""
    if claim is None or claim.pk != claim_id:
        claim = claim_for_page(claim_id)
    scheme = claim.scheme
    perms = user.get_all_permissions()
    sees_case = "claims.view_headofloss" in perms
    heads: list[HeadRow] = []
    evidence: list[Evidence] = []
    if sees_case:
        if "claims.view_evidence" in perms:
            evidence = rows(Evidence, "claim_id = %s", "uploaded_at, id", claim_id)
        by_head: dict[int | None, list[Evidence]] = {}
        for item in evidence:
            by_head.setdefault(item.head_of_loss_id, []).append(item)
        for head in rows(HeadOfLoss, "claim_id = %s", "id", claim_id):
            row = HeadRow(head=head, evidence=by_head.get(head.pk, []))
            if head.category == HeadOfLoss.Category.TIME_SPENT and head.hours is not None:
                _lost_time(row, scheme)
            heads.append(row)
    offers: list[Offer] = []
    offer_items: dict[int, list[OfferItem]] = {}
    if "claims.view_offer" in perms:
        offers = rows(Offer, "claim_id = %s", "version DESC", claim_id)
        in_claim = "offer_id IN (SELECT id FROM claims_offer WHERE claim_id = %s)"
        for offer_item in rows(OfferItem, in_claim, "offer_id, id", claim_id):
            offer_items.setdefault(offer_item.offer_id, []).append(offer_item)
    events: list[AuditEvent] = []
    if "claims.view_auditevent" in perms:
        events = rows(AuditEvent, "claim_id = %s", "created_at, id", claim_id)
    notes: list[InternalNote] = []
    if "claims.view_internalnote" in perms:
        notes = rows(InternalNote, "claim_id = %s", "created_at, id", claim_id)
    messages = rows(Message, "claim_id = %s", "created_at, id", claim_id) if sees_case else []
    flags = rows(ClaimFlag, "claim_id = %s", "kind, id", claim_id) if sees_case else []
    bands = distress_bands(scheme) if sees_case else []
    register_entry = None
    if claim.register_entry_id and "claims.view_registerentry" in perms:
        register_entry = RegisterEntry.objects.filter(pk=claim.register_entry_id).first()
    bank_details = None
    if sees_bank_details(user):
        found_bank = rows(BankDetails, "claim_id = %s", "id", claim_id)
        bank_details = found_bank[0] if found_bank else None
    # Letters (for those who see them) and, for finance officers, each payment and
    # the batch it went in.
    letters = (
        rows(Letter, "claim_id = %s", "created_at DESC, id DESC", claim_id)
        if "claims.view_letter" in perms and (heads or messages)
        else []
    )
    payments: list[Payment] = []
    batches: dict[int, PaymentBatch] = {}
    if "claims.manage_payments" in perms:
        payments = rows(Payment, "claim_id = %s", "created_at, id", claim_id)
        in_claim = "id IN (SELECT batch_id FROM claims_payment WHERE claim_id = %s)"
        batches = {batch.pk: batch for batch in rows(PaymentBatch, in_claim, "id", claim_id)}
    distress_claimed = next(
        (
            row.head.amount_claimed
            for row in heads
            if row.head.category == HeadOfLoss.Category.DISTRESS
        ),
        None,
    )
    can_assess = bool(heads) and (
        (claim.stage == Stage.ASSESSMENT and "claims.assess_claim" in perms)
        or (
            claim.stage == Stage.REVIEW
            and "claims.decide_review" in perms
            # Re-assessing decides the review: not for who shaped the offer under review.
            and not _four_eyes_refusal("review_revise", user, offers, offer_items, events)
        )
    )
    actions, four_eyes_note = available_actions(claim, user, offers, offer_items, events)
    total_claimed = sum((row.head.amount_claimed for row in heads), Decimal("0.00"))
    allowed = [row.head.amount_allowed for row in heads if row.head.amount_allowed is not None]
    due = due_by(claim)
    today = timezone.localdate()
    return ClaimPage(
        claim=claim,
        heads=heads,
        evidence=evidence,
        offers=offers,
        offer_items=offer_items,
        events=events,
        notes=notes,
        messages=messages,
        flags=flags,
        bands=bands,
        band_suggestions={band.pk: suggested_award(band, distress_claimed) for band in bands},
        fund=fund_summary_cached(scheme) if sees_case or offers else None,
        actions=actions,
        four_eyes_note=four_eyes_note,
        can_assess=can_assess,
        can_note="claims.add_note" in perms,
        can_assign="claims.triage_claim" in perms and claim.stage in OPEN_STAGES,
        total_claimed=total_claimed,
        total_allowed=sum(allowed, Decimal("0.00")),
        unassessed=len(heads) - len(allowed),
        days_in_stage=working_days_in_stage(claim, today),
        due_by=due,
        overdue=due is not None and due < today and claim.stage in OPEN_STAGES,
        names=staff_names(),
        register_entry=register_entry,
        bank_details=bank_details,
        letters=letters,
        payments=payments,
        batches=batches,
    )


# --- The scheme dashboard ---------------------------------------------------------------

AGEING_BUCKETS: list[tuple[str, int, int | None]] = [
    ("Up to 1 week", 0, 7),
    ("1 to 4 weeks", 8, 28),
    ("1 to 3 months", 29, 91),
    ("Over 3 months", 92, None),
]


@dataclass
class Dashboard:
    scheme: Scheme
    received: int
    by_stage: list[tuple[str, str, int]]
    offers_made: int
    accepted: int
    paid_count: int
    fund: FundSummary
    ageing: list[tuple[str, int]]
    overdue_by_stage: list[tuple[str, int]]
    overdue_total: int
    chart_max: int
    pro_rata: Any = None  # claims.queries.prorata.ProRata, for a scheme in pro-rata mode


def dashboard(scheme: Scheme) -> Dashboard:
    """The scheme at a glance: a handful of grouped queries, none per claim."""
    claims = Claim.objects.filter(scheme=scheme)
    per_stage = Counter(
        {
            row["stage"]: row["n"]
            for row in claims.order_by().values("stage").annotate(n=Count("id"))
        }
    )
    received = sum(n for stage, n in per_stage.items() if stage != Stage.DRAFT)
    actions = Counter(
        {
            row["action"]: row["n"]
            for row in AuditEvent.objects.filter(
                claim__scheme=scheme, action__in=["offer_accept", "payment_confirm"]
            )
            .order_by()
            .values("action")
            .annotate(n=Count("id"))
        }
    )
    today = timezone.localdate()
    open_claims = claims.filter(stage__in=OPEN_STAGES, submitted_at__isnull=False)
    ageing = []
    for label, low, high in AGEING_BUCKETS:
        ageing.append((label, open_claims.filter(ageing_q(today, low, high)).count()))
    overdue = Counter(
        {
            row["stage"]: row["n"]
            for row in claims.filter(overdue_q(today, Scheme.objects.filter(pk=scheme.pk)))
            .order_by()
            .values("stage")
            .annotate(n=Count("id"))
        }
    )
    by_stage = [(stage.value, stage.label, per_stage.get(stage.value, 0)) for stage in Stage]
    from claims.queries.prorata import pro_rata_projection

    fund = fund_summary(scheme)
    return Dashboard(
        scheme=scheme,
        received=received,
        by_stage=by_stage,
        offers_made=fund.counts.get("offers_made", 0),
        accepted=actions.get("offer_accept", 0),
        paid_count=actions.get("payment_confirm", 0),
        fund=fund,
        ageing=ageing,
        overdue_by_stage=[(Stage(stage).label, n) for stage, n in sorted(overdue.items()) if n],
        overdue_total=sum(overdue.values()),
        chart_max=max([n for _, _, n in by_stage] + [1]),
        pro_rata=pro_rata_projection(scheme),
    )


def overdue_claims(*, user: Any, today: dt.date) -> QuerySet[Claim]:
    """The claims assigned to `user` that are overdue (`overdue_q`) in a stage where
    staff have the work to do, oldest first: the staff digest."""
    return overdue_for_staff(today).filter(assigned_to=user).order_by("stage_changed_at")


def overdue_for_staff(today: dt.date) -> QuerySet[Claim]:
    """Overdue claims (`overdue_q`) waiting on staff, not on the claimant."""
    return Claim.objects.filter(overdue_q(today), stage__in=STAFF_STAGES)


def paid_total(scheme: Scheme, *, exclude_claim_id: int | None = None) -> Decimal:
    """What the scheme's payments have paid; without one claim's for the fund check of
    a new offer on it, whose total then counts all the claim costs (claims.actions.reviews)."""
    payments = Payment.objects.filter(claim__scheme=scheme, state=Payment.State.PAID)
    if exclude_claim_id is not None:
        payments = payments.exclude(claim_id=exclude_claim_id)
    return payments.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
