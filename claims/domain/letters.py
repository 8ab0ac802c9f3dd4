"""Which change sends the claimant a letter, and the letter's title."""

from __future__ import annotations

from typing import TYPE_CHECKING

from claims.domain.stages import LetterKind

if TYPE_CHECKING:
    from claims.models import AuditEvent

TITLES: dict[str, str] = {
    LetterKind.ACKNOWLEDGEMENT: "We have received your claim",
    LetterKind.INFORMATION_REQUEST: "We need more information about your claim",
    LetterKind.SETTLEMENT_OFFER: "Our offer to settle your claim",
    LetterKind.DECISION: "Our decision on your claim",
    LetterKind.REVIEW_OUTCOME: "The outcome of your review",
    LetterKind.PAYMENT_CONFIRMATION: "We have paid your compensation",
}


# The transitions that send the claimant a letter, and which. Every other move is told
# by email alone (claims.delivery.emails).
AUTOMATIC_LETTERS: dict[str, LetterKind] = {
    "submit": LetterKind.ACKNOWLEDGEMENT,
    "information_request": LetterKind.INFORMATION_REQUEST,
    "offer_make": LetterKind.SETTLEMENT_OFFER,
    "offer_approve": LetterKind.SETTLEMENT_OFFER,
    "triage_reject": LetterKind.DECISION,
    "review_revise": LetterKind.REVIEW_OUTCOME,
    "review_uphold": LetterKind.REVIEW_OUTCOME,
    "review_approve": LetterKind.REVIEW_OUTCOME,
    "rejection_review_uphold": LetterKind.REVIEW_OUTCOME,
    # The review of a disputed part (claims.actions.reviews): the claim's stage does not move.
    "part_review_revise": LetterKind.REVIEW_OUTCOME,
    "part_review_approve": LetterKind.REVIEW_OUTCOME,
    "part_review_uphold": LetterKind.REVIEW_OUTCOME,
    "payment_confirm": LetterKind.PAYMENT_CONFIRMATION,
}


def letter_title_for(event: AuditEvent | None) -> str:
    """The title of the letter a change sends, for its status update email to mention;
    "" if it sends none."""
    kind = letter_kind_for(event) if event is not None else None
    return TITLES[kind] if kind is not None else ""


def letter_kind_for(event: AuditEvent) -> LetterKind | None:
    """The letter a change sends (`AUTOMATIC_LETTERS`), if any."""
    return AUTOMATIC_LETTERS.get(event.action)
