"""Plain-English words the claimant sees about stages and status updates."""

from __future__ import annotations

from claims.domain.stages import Stage

STAGE_NEXT: dict[str, str] = {
    Stage.SUBMITTED: "We have your claim. A caseworker will check it within 10 working days.",
    Stage.TRIAGE: "A caseworker is checking that your claim is part of this scheme.",
    Stage.ASSESSMENT: "A caseworker is looking at what you have claimed for and your evidence.",
    Stage.INFORMATION_REQUESTED: "We need more information from you. Answer our question below "
    "before the date shown, or your claim may be closed.",
    Stage.OFFER_PENDING_APPROVAL: "A senior caseworker is checking the offer we will make you.",
    Stage.OFFER_MADE: "We have made you an offer. Read it and accept or decline it before the "
    "date shown.",
    Stage.ACCEPTED: "You accepted our offer. Tell us where to pay it, if you have not already.",
    Stage.PAYMENT_PENDING: "We are paying your compensation. It should reach your account within "
    "5 working days.",
    Stage.PAID: "We have paid your compensation.",
    Stage.DECLINED: "You declined our offer. A senior caseworker who did not assess your claim "
    "will review it.",
    Stage.REVIEW: "A senior caseworker is reviewing your claim.",
    Stage.REJECTED: "Your claim is not part of this scheme. Our message below says why and how "
    "to ask for a review.",
    Stage.REJECTION_REVIEW: "You asked us to look again at our decision. A senior caseworker who "
    "was not involved in it is reviewing your claim.",
    Stage.CLOSED_INCOMPLETE: "We closed your claim because we did not get the information we "
    "needed in time. Contact us if you still want to claim.",
    Stage.OFFER_EXPIRED: "The time to accept our offer has passed. Contact us if you still want "
    "to accept it.",
    Stage.WITHDRAWN: "You withdrew your claim.",
    Stage.CLOSED: "Your claim is closed.",
}

UPDATE_TITLES: dict[str, str] = {
    "acknowledgement": "We received your claim",
    "in_triage": "A caseworker is checking your claim",
    "in_assessment": "We are assessing your claim",
    "rejected": "Your claim is not part of this scheme",
    "information_requested": "We need more information",
    "information_received": "We received your information",
    "closed_incomplete": "Your claim was closed",
    "offer_being_checked": "Your offer is being checked",
    "offer_made": "We have made you an offer",
    "accepted": "You accepted our offer",
    "accepted_in_part": "You accepted part of our offer",
    "declined": "You declined our offer",
    "offer_expired": "Your offer has expired",
    "in_review": "Your claim is being reviewed",
    "rejection_review_requested": "We will look at our decision again",
    "rejection_reopened": "We are looking at your claim again",
    "review_outcome": "The outcome of your review",
    "payment_pending": "We are paying you",
    "payment_failed": "We could not pay you",
    "paid": "We have paid you",
    "bank_details_changed": "Your bank details were changed",
    "closed": "Your claim is closed",
    "withdrawn": "You withdrew your claim",
    "reminder": "Reminder: we need more information",
    "offer_expiring": "Your offer expires soon",
}


def update_title(kind: str) -> str:
    return UPDATE_TITLES.get(kind, "An update on your claim")
