"""The claim's stages and the transition table, the states and moves of the review of a
disputed part, and the kinds of letter: plain data, testable without a database.

The transition table (`TRANSITIONS`) says which stages a move may start from, where it
ends, who may make it (and with which permission), whether it needs a reason, and which
status update tells the claimant; claims.domain.letters says which letter it sends.
claims.core is the only code that applies it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models


class Stage(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted"
    TRIAGE = "triage", "Triage"
    REJECTED = "rejected", "Rejected"
    ASSESSMENT = "assessment", "Assessment"
    INFORMATION_REQUESTED = "information_requested", "Information requested"
    CLOSED_INCOMPLETE = "closed_incomplete", "Closed incomplete"
    OFFER_PENDING_APPROVAL = "offer_pending_approval", "Offer pending approval"
    OFFER_MADE = "offer_made", "Offer made"
    ACCEPTED = "accepted", "Accepted"
    PAYMENT_PENDING = "payment_pending", "Payment pending"
    PAID = "paid", "Paid"
    CLOSED = "closed", "Closed"
    DECLINED = "declined", "Declined"
    REVIEW = "review", "Review"
    # The claimant asked us to look again at a rejection (see rejection_review_request).
    REJECTION_REVIEW = "rejection_review", "Rejection under review"
    OFFER_EXPIRED = "offer_expired", "Offer expired"
    WITHDRAWN = "withdrawn", "Withdrawn"


TERMINAL_STAGES = frozenset(
    {
        Stage.REJECTED,
        Stage.CLOSED_INCOMPLETE,
        Stage.CLOSED,
        Stage.OFFER_EXPIRED,
        Stage.WITHDRAWN,
    }
)


class ActorKind(models.TextChoices):
    STAFF = "staff", "Staff"
    CLAIMANT = "claimant", "Claimant"
    SYSTEM = "system", "System"


@dataclass(frozen=True)
class Transition:
    """One legal move of a claim between stages."""

    name: str
    sources: frozenset[Stage]
    target: Stage
    # Who may make it: staff need `permission` ("claims.<codename>"); claimant and
    # system moves are made by the claim's own claimant or by Redress itself.
    actors: frozenset[ActorKind]
    permission: str | None = None
    reason_required: bool = False
    # The status update the claimant is sent; every move tells the claimant.
    update: str = ""


def _t(
    name: str,
    sources: Iterable[Stage],
    target: Stage,
    *actors: ActorKind,
    permission: str | None = None,
    reason_required: bool = False,
    update: str,
) -> Transition:
    return Transition(
        name=name,
        sources=frozenset(sources),
        target=target,
        actors=frozenset(actors),
        permission=permission,
        reason_required=reason_required,
        update=update,
    )


S, A = Stage, ActorKind


WITHDRAWABLE = frozenset(
    {
        S.DRAFT,
        S.SUBMITTED,
        S.TRIAGE,
        S.ASSESSMENT,
        S.INFORMATION_REQUESTED,
        S.OFFER_PENDING_APPROVAL,
        S.OFFER_MADE,
        S.DECLINED,
        S.REVIEW,
        S.REJECTION_REVIEW,
        S.ACCEPTED,
    }
)


TRANSITIONS: dict[str, Transition] = {
    t.name: t
    for t in [
        _t("submit", [S.DRAFT], S.SUBMITTED, A.CLAIMANT, update="acknowledgement"),
        _t(
            "triage_start",
            [S.SUBMITTED],
            S.TRIAGE,
            A.STAFF,
            permission="claims.triage_claim",
            update="in_triage",
        ),
        _t(
            "triage_accept",
            [S.TRIAGE],
            S.ASSESSMENT,
            A.STAFF,
            permission="claims.triage_claim",
            update="in_assessment",
        ),
        _t(
            "triage_reject",
            [S.TRIAGE],
            S.REJECTED,
            A.STAFF,
            permission="claims.triage_claim",
            reason_required=True,
            update="rejected",
        ),
        _t(
            "information_request",
            [S.ASSESSMENT],
            S.INFORMATION_REQUESTED,
            A.STAFF,
            permission="claims.assess_claim",
            reason_required=True,
            update="information_requested",
        ),
        _t(
            "information_provide",
            [S.INFORMATION_REQUESTED],
            S.ASSESSMENT,
            A.CLAIMANT,
            update="information_received",
        ),
        _t(
            "information_resume",
            [S.INFORMATION_REQUESTED],
            S.ASSESSMENT,
            A.STAFF,
            permission="claims.assess_claim",
            reason_required=True,
            update="information_received",
        ),
        _t(
            "close_incomplete",
            [S.INFORMATION_REQUESTED],
            S.CLOSED_INCOMPLETE,
            A.SYSTEM,
            update="closed_incomplete",
        ),
        _t(
            "offer_propose",
            [S.ASSESSMENT],
            S.OFFER_PENDING_APPROVAL,
            A.STAFF,
            permission="claims.propose_offer",
            update="offer_being_checked",
        ),
        _t(
            "offer_make",
            [S.ASSESSMENT],
            S.OFFER_MADE,
            A.STAFF,
            permission="claims.propose_offer",
            update="offer_made",
        ),
        _t(
            "offer_approve",
            [S.OFFER_PENDING_APPROVAL],
            S.OFFER_MADE,
            A.STAFF,
            permission="claims.approve_offer",
            update="offer_made",
        ),
        _t(
            "offer_return",
            [S.OFFER_PENDING_APPROVAL],
            S.ASSESSMENT,
            A.STAFF,
            permission="claims.approve_offer",
            reason_required=True,
            update="in_assessment",
        ),
        _t("offer_accept", [S.OFFER_MADE], S.ACCEPTED, A.CLAIMANT, update="accepted"),
        # Some items accepted, the rest disputed: see "Partial acceptance" below.
        _t(
            "offer_accept_part",
            [S.OFFER_MADE],
            S.ACCEPTED,
            A.CLAIMANT,
            update="accepted_in_part",
        ),
        _t("revised_offer_accept", [S.PAID], S.ACCEPTED, A.CLAIMANT, update="accepted"),
        _t(
            "offer_decline",
            [S.OFFER_MADE],
            S.DECLINED,
            A.CLAIMANT,
            reason_required=True,
            update="declined",
        ),
        _t("offer_expire", [S.OFFER_MADE], S.OFFER_EXPIRED, A.SYSTEM, update="offer_expired"),
        _t(
            "review_start",
            [S.DECLINED],
            S.REVIEW,
            A.STAFF,
            A.SYSTEM,
            permission="claims.decide_review",
            update="in_review",
        ),
        _t(
            "review_revise",
            [S.REVIEW],
            S.OFFER_MADE,
            A.STAFF,
            permission="claims.decide_review",
            reason_required=True,
            update="review_outcome",
        ),
        # A revised offer above the scheme's threshold waits for a senior caseworker who
        # neither assessed nor proposed it (offer_approve), as a first offer does.
        _t(
            "review_propose",
            [S.REVIEW],
            S.OFFER_PENDING_APPROVAL,
            A.STAFF,
            permission="claims.decide_review",
            reason_required=True,
            update="offer_being_checked",
        ),
        # A revised offer approved is the review's outcome (its letter and email say so).
        _t(
            "review_approve",
            [S.OFFER_PENDING_APPROVAL],
            S.OFFER_MADE,
            A.STAFF,
            permission="claims.approve_offer",
            update="review_outcome",
        ),
        # A revised offer sent back by its approver goes back to the review, not to
        # a fresh assessment.
        _t(
            "review_return",
            [S.OFFER_PENDING_APPROVAL],
            S.REVIEW,
            A.STAFF,
            permission="claims.approve_offer",
            reason_required=True,
            update="in_review",
        ),
        _t(
            "review_uphold",
            [S.REVIEW],
            S.CLOSED,
            A.STAFF,
            permission="claims.decide_review",
            reason_required=True,
            update="review_outcome",
        ),
        # A rejected claimant may ask us to look again within REJECTION_REVIEW_WORKING_DAYS
        # of the rejection (the decision letter says so); a senior caseworker who did
        # not reject the claim decides.
        _t(
            "rejection_review_request",
            [S.REJECTED],
            S.REJECTION_REVIEW,
            A.CLAIMANT,
            reason_required=True,
            update="rejection_review_requested",
        ),
        _t(
            "rejection_review_uphold",
            [S.REJECTION_REVIEW],
            S.CLOSED,
            A.STAFF,
            permission="claims.decide_review",
            reason_required=True,
            update="review_outcome",
        ),
        _t(
            "rejection_review_reopen",
            [S.REJECTION_REVIEW],
            S.TRIAGE,
            A.STAFF,
            permission="claims.decide_review",
            reason_required=True,
            update="rejection_reopened",
        ),
        _t(
            "payment_queue",
            [S.ACCEPTED],
            S.PAYMENT_PENDING,
            A.STAFF,
            permission="claims.manage_payments",
            update="payment_pending",
        ),
        _t(
            "payment_fail",
            [S.PAYMENT_PENDING],
            S.ACCEPTED,
            A.STAFF,
            permission="claims.manage_payments",
            reason_required=True,
            update="payment_failed",
        ),
        _t(
            "payment_confirm",
            [S.PAYMENT_PENDING],
            S.PAID,
            A.STAFF,
            permission="claims.manage_payments",
            update="paid",
        ),
        _t(
            "close",
            [S.PAID],
            S.CLOSED,
            A.STAFF,
            A.SYSTEM,
            permission="claims.manage_payments",
            update="closed",
        ),
        _t(
            "withdraw",
            WITHDRAWABLE,
            S.WITHDRAWN,
            A.CLAIMANT,
            reason_required=False,
            update="withdrawn",
        ),
    ]
}


# How long a rejected claimant has to ask us to look again, in working days from the
# rejection: the decision letter prints the date, rejection_review_request keeps it.
REJECTION_REVIEW_WORKING_DAYS = 20


def transitions_from(stage: str) -> list[Transition]:
    return [t for t in TRANSITIONS.values() if stage in t.sources]


# --- Partial acceptance and reviews of the disputed part ----------------------------
#
# A claimant may accept some items (heads of loss) of an offer and dispute the others.
# The claim's stage follows the money: `offer_accept_part` moves it OFFER_MADE ->
# ACCEPTED, so the accepted part goes to payment exactly as a full acceptance does. The
# disputed part is not a stage of the claim but a `Review` beside it, with its own small
# table (`REVIEW_MOVES`, pure data like `TRANSITIONS`): a senior caseworker who did not
# assess the offer either upholds it (OPEN -> UPHELD) or makes a revised offer for the
# disputed items only (OPEN -> REVISED), a new `Offer` version. The claimant accepts that
# (REVISED -> ACCEPTED) once the first part is paid: the claim then moves PAID ->
# ACCEPTED (`revised_offer_accept`) and the extra amount is paid as a payment of its own.
# So a claim is only ever in one payment at a time, each accepted offer is paid once,
# and what is paid is the sum of the accepted items of the accepted offer
# (`claims.queries.partial.accepted_amount`). Accepting every item is `offer_accept`;
# disputing every item is `offer_decline`, whose review is the claim's REVIEW stage.


class ItemResponse(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    DISPUTED = "disputed", "Disputed"


class ReviewState(models.TextChoices):
    OPEN = "open", "Waiting for a senior caseworker"
    UPHELD = "upheld", "Decision upheld"
    # Above the scheme's threshold, a revised offer waits for a second senior caseworker.
    PENDING_APPROVAL = "pending_approval", "Revised offer waiting for approval"
    REVISED = "revised", "Revised offer made"
    ACCEPTED = "accepted", "Revised offer accepted"
    # The claimant declined the revised offer: a new review of it is opened.
    DECLINED = "declined", "Revised offer declined"


@dataclass(frozen=True)
class ReviewMove:
    """One legal move of a review of a disputed part, as `Transition` is for claims."""

    name: str
    sources: frozenset[ReviewState]
    target: ReviewState
    actor: ActorKind
    permission: str | None
    reason_required: bool
    update: str


REVIEW_MOVES: dict[str, ReviewMove] = {
    move.name: move
    for move in [
        ReviewMove(
            "part_review_uphold",
            frozenset({ReviewState.OPEN}),
            ReviewState.UPHELD,
            ActorKind.STAFF,
            "claims.decide_review",
            True,
            "review_outcome",
        ),
        ReviewMove(
            "part_review_revise",
            frozenset({ReviewState.OPEN}),
            ReviewState.REVISED,
            ActorKind.STAFF,
            "claims.decide_review",
            True,
            "review_outcome",
        ),
        # Above the threshold the reviewer proposes, and another senior approves.
        ReviewMove(
            "part_review_propose",
            frozenset({ReviewState.OPEN}),
            ReviewState.PENDING_APPROVAL,
            ActorKind.STAFF,
            "claims.decide_review",
            True,
            "offer_being_checked",
        ),
        ReviewMove(
            "part_review_approve",
            frozenset({ReviewState.PENDING_APPROVAL}),
            ReviewState.REVISED,
            ActorKind.STAFF,
            "claims.approve_offer",
            False,
            "review_outcome",
        ),
        # Sent back to the review; the claimant has not been told of it, so is not now.
        ReviewMove(
            "part_review_return",
            frozenset({ReviewState.PENDING_APPROVAL}),
            ReviewState.OPEN,
            ActorKind.STAFF,
            "claims.approve_offer",
            True,
            "",
        ),
        ReviewMove(
            "revised_offer_decline",
            frozenset({ReviewState.REVISED}),
            ReviewState.DECLINED,
            ActorKind.CLAIMANT,
            None,
            True,
            "declined",
        ),
        ReviewMove(
            "revised_offer_accept",
            frozenset({ReviewState.REVISED}),
            ReviewState.ACCEPTED,
            ActorKind.CLAIMANT,
            None,
            False,
            "accepted",
        ),
    ]
}


class LetterKind(models.TextChoices):
    ACKNOWLEDGEMENT = "acknowledgement", "Acknowledgement"
    INFORMATION_REQUEST = "information_request", "Information request"
    SETTLEMENT_OFFER = "settlement_offer", "Settlement offer"
    DECISION = "decision", "Decision"
    REVIEW_OUTCOME = "review_outcome", "Review outcome"
    PAYMENT_CONFIRMATION = "payment_confirmation", "Payment confirmation"
