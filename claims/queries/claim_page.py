"""The staff claim page's reads: what it shows, in a fixed number of queries whatever
the claim's history; sections a role may not see are not read."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Prefetch,
)
from django.utils import timezone

from claims import core
from claims.core import Actor, ClaimError
from claims.domain.lost_time import lost_time_amount, lost_time_cap
from claims.domain.money import round_money
from claims.domain.stages import (
    TRANSITIONS,
    ActorKind,
    Stage,
    Transition,
    transitions_from,
)
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
    Scheme,
)
from claims.queries.funds import FundSummary, fund_summary_cached
from claims.queries.letters import claimant_letters
from claims.queries.queues import OPEN_STAGES, due_by, working_days_in_stage

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


# The moves claims.core's four-eyes checks may refuse, by the check that decides.
_FOUR_EYES_CHECKS = {
    "offer_approve": "approve",
    "review_revise": "review",
    "review_uphold": "review",
    "rejection_review_uphold": "rejection",
    "rejection_review_reopen": "rejection",
}


def event_label(action: str) -> str:
    """What the claim page's timeline calls an audit event's action."""
    label = EVENT_LABELS.get(action, TRANSITION_LABELS.get(action, action.replace("_", " ")))
    return label.capitalize()


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    reason_required: bool
    reason_label: str


class FourEyes:
    """Why claims.core would refuse `user` a move on a claim because of who they are:
    the proposer or an assessor approving an offer, someone who shaped or approved the
    offer under review deciding the review, the rejecter reviewing the rejection. Asked
    of core's own checks (a refusal is their ClaimError's message), each once, with the
    offers the page read; the service asks again when the button is pressed."""

    def __init__(self, claim: Claim, user: Any, offers: list[Offer]) -> None:
        self.claim = claim
        self.actor = Actor.staff(user)
        # Newest first, each with its items: what core's checks read of an offer.
        self.offers = offers
        self._asked: dict[str, str] = {}

    def refusal(self, name: str) -> str:
        """Why `name` would be refused, or "" if it would not."""
        check = _FOUR_EYES_CHECKS.get(name)
        if check is None:
            return ""
        if check not in self._asked:
            try:
                self._ask(check)
            except ClaimError as refused:
                self._asked[check] = refused.message
            else:
                self._asked[check] = ""
        return self._asked[check]

    def _ask(self, check: str) -> None:
        made = [offer for offer in self.offers if offer.made_at is not None]
        if check == "approve" and self.offers:
            offer = self.offers[0]  # core.current_offer
            # If it revises a reviewed offer, that is the newest one made before it
            # (claims.actions.offers.offer_approve).
            under_review = next((o for o in made if o.version < offer.version), None)
            core.check_may_approve(offer, self.actor, under_review=under_review)
        elif check == "review" and made:
            core.check_may_review(made[0], self.actor)  # core.offer_under_review
        elif check == "rejection":
            core.check_may_review_rejection(self.claim, self.actor)


def available_actions(claim: Claim, user: Any, four_eyes: FourEyes) -> tuple[list[Action], str]:
    """The moves this user may make on this claim now, and why a four-eyes move is
    missing if it is."""
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
        refusal = four_eyes.refusal(name)
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


# The claim page's timeline shows a claim's latest events; the rest are in the audit
# events list, filtered to the claim. A page's cost stays the same however long the
# claim's history grows (bench/workspace.py times a claim with 200 events).
TIMELINE_EVENTS = 50


@dataclass
class ClaimPage:
    """What the claim page shows besides the claim's own fields (the admin's read-only
    form shows those). People are their users, read with the rows that name them."""

    claim: Claim
    heads: list[HeadRow]
    evidence: list[Evidence]  # each with its head of loss, if it has one
    offers: list[Offer]  # newest first, each with its items (offer.items.all())
    events: list[AuditEvent]  # the latest TIMELINE_EVENTS, oldest first
    earlier_events: bool  # older events are in the claim's full history
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
    bank_details: BankDetails | None = None
    letters: list[Letter] = field(default_factory=list)
    payments: list[Payment] = field(default_factory=list)  # each with its batch

    @property
    def band_rows(self) -> list[tuple[DistressBand, Decimal | None, bool]]:
        """Each band, the award it suggests for this claim and whether a head chose it."""
        chosen = {row.head.distress_band_id for row in self.heads}
        return [
            (band, self.band_suggestions.get(band.pk), band.pk in chosen) for band in self.bands
        ]


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


def claim_for_page(claim_id: int, user: Any) -> Claim:
    """The claim with what its page shows of it: its scheme, its caseworker and, for a
    role that sees the register, its register entry. Raises Claim.DoesNotExist."""
    related = ["scheme", "assigned_to"]
    if user.has_perm("claims.view_registerentry"):
        related.append("register_entry")
    return Claim.objects.select_related(*related).get(pk=claim_id)


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
    cap = lost_time_cap(scheme, with_evidence=with_evidence)
    row.lost_time_ceiling = lost_time_amount(scheme, head.hours, with_evidence=with_evidence)
    row.lost_time_note = (
        f"{head.hours.normalize():f} h × £{scheme.lost_time_hourly_rate} an hour, "
        f"capped at {cap.normalize():f} h {'with' if with_evidence else 'without'} evidence"
    )


def _heads(claim: Claim, evidence: list[Evidence]) -> list[HeadRow]:
    """The claim's heads of loss, each with its evidence; each piece of evidence given
    its head, read here once rather than joined again."""
    heads = list(
        HeadOfLoss.objects.filter(claim=claim)
        .select_related("assessed_by", "distress_band")
        .order_by("id")
    )
    by_id = {head.pk: head for head in heads}
    by_head: dict[int, list[Evidence]] = {}
    for item in evidence:
        if item.head_of_loss_id in by_id:
            item.head_of_loss = by_id[item.head_of_loss_id]
            by_head.setdefault(item.head_of_loss_id, []).append(item)
    rows = []
    for head in heads:
        row = HeadRow(head=head, evidence=by_head.get(head.pk, []))
        if head.category == HeadOfLoss.Category.TIME_SPENT and head.hours is not None:
            _lost_time(row, claim.scheme)
        rows.append(row)
    return rows


def claim_page(claim: Claim, user: Any) -> ClaimPage:
    """Everything the claim page shows besides the claim's fields, in a number of
    queries that does not grow with the claim's history: one a list, the people each
    row names joined to it. Sections a role may not see are not read at all. `claim`
    is claim_for_page's."""
    scheme = claim.scheme
    perms = user.get_all_permissions()
    sees_case = "claims.view_headofloss" in perms
    heads: list[HeadRow] = []
    evidence: list[Evidence] = []
    if sees_case:
        if "claims.view_evidence" in perms:
            evidence = list(Evidence.objects.filter(claim=claim).order_by("uploaded_at", "id"))
        heads = _heads(claim, evidence)
    offers: list[Offer] = []
    if "claims.view_offer" in perms:
        items = OfferItem.objects.select_related("assessed_by").order_by("id")
        offers = list(
            Offer.objects.filter(claim=claim)
            .select_related("proposed_by", "approved_by")
            .prefetch_related(Prefetch("items", queryset=items))
            .order_by("-version")
        )
    events: list[AuditEvent] = []
    earlier_events = False
    if "claims.view_auditevent" in perms:
        # The timeline shows no event's data, which can be long; one more than it shows
        # says whether there are earlier events.
        latest = list(
            AuditEvent.objects.filter(claim=claim)
            .select_related("actor")
            .defer("data")
            .order_by("-created_at", "-id")[: TIMELINE_EVENTS + 1]
        )
        earlier_events = len(latest) > TIMELINE_EVENTS
        events = latest[:TIMELINE_EVENTS][::-1]
    notes: list[InternalNote] = []
    if "claims.view_internalnote" in perms:
        notes = list(
            InternalNote.objects.filter(claim=claim)
            .select_related("author")
            .order_by("created_at", "id")
        )
    messages: list[Message] = []
    flags: list[ClaimFlag] = []
    bands: list[DistressBand] = []
    if sees_case:
        messages = list(
            Message.objects.filter(claim=claim)
            .select_related("author")
            .order_by("created_at", "id")
        )
        flags = list(ClaimFlag.objects.filter(claim=claim).order_by("kind", "id"))
        bands = distress_bands(scheme)
    bank_details = None
    if sees_bank_details(user):
        bank_details = (
            BankDetails.objects.filter(claim=claim).select_related("confirmed_by").first()
        )
    # Letters (for those who see them) and, for finance officers, each payment and
    # the batch it went in.
    letters: list[Letter] = []
    if "claims.view_letter" in perms and (heads or messages):
        letters = claimant_letters(claim)
    payments: list[Payment] = []
    if "claims.manage_payments" in perms:
        payments = list(
            Payment.objects.filter(claim=claim).select_related("batch").order_by("created_at", "id")
        )
    distress_claimed = next(
        (
            row.head.amount_claimed
            for row in heads
            if row.head.category == HeadOfLoss.Category.DISTRESS
        ),
        None,
    )
    four_eyes = FourEyes(claim, user, offers)
    can_assess = bool(heads) and (
        (claim.stage == Stage.ASSESSMENT and "claims.assess_claim" in perms)
        or (
            claim.stage == Stage.REVIEW
            and "claims.decide_review" in perms
            # Re-assessing decides the review: not for who shaped the offer under review.
            and not four_eyes.refusal("review_revise")
        )
    )
    actions, four_eyes_note = available_actions(claim, user, four_eyes)
    total_claimed = sum((row.head.amount_claimed for row in heads), Decimal("0.00"))
    allowed = [row.head.amount_allowed for row in heads if row.head.amount_allowed is not None]
    due = due_by(claim)
    today = timezone.localdate()
    return ClaimPage(
        claim=claim,
        heads=heads,
        evidence=evidence,
        offers=offers,
        events=events,
        earlier_events=earlier_events,
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
        bank_details=bank_details,
        letters=letters,
        payments=payments,
    )
