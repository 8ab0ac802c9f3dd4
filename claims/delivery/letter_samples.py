"""A sample settlement for letters: a claim with every kind of head of loss, some
allowed in part with a reason, and a distress award, taken to an approved offer
through the real services. The letter tests, bench/letters.py and the sample letter
in docs/ all use it, so what they show is what a caseworker's decisions produce.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from claims.actions import casework, offers, submission
from claims.actions.demo import ClaimStaff
from claims.core import Actor
from claims.models import Claim, HeadOfLoss, Scheme

C = HeadOfLoss.Category

SAMPLE_CLAIMANT: dict[str, str] = {
    "full_name": "Zoë O'Brien",
    "email": "zoe.obrien+claims@example.com",
    "address": "Flat 2\n14 St Mary's Road\nCardiff",
    "postcode": "CF24 3AB",
}

# (category, amount claimed or hours, what the claimant said, when, allowed, reason)
SAMPLE_HEADS: list[tuple[str, str, str, dt.date | None, str, str]] = [
    (
        C.UNAUTHORISED_TRANSACTIONS,
        "1234.56",
        "Three card payments to a florist in Leeds that I did not make",
        dt.date(2017, 3, 14),
        "1200.00",
        "Your bank refunded £34.56 of one payment on 2 April 2017, so we have taken that off.",
    ),
    (
        C.BANK_CHARGES,
        "35.00",
        "Overdraft fees after the payments",
        dt.date(2017, 3, 20),
        "35.00",
        "",
    ),
    (
        C.CARD_REPLACEMENT,
        "12.50",
        "Courier fee for a replacement card",
        dt.date(2017, 3, 21),
        "12.50",
        "",
    ),
    (
        C.CREDIT_MONITORING,
        "89.99",
        "Twelve months of credit monitoring",
        dt.date(2017, 4, 1),
        "60.00",
        "The scheme pays for up to six months of credit monitoring, at £10.00 a month.",
    ),
    (
        C.TIME_SPENT,
        "6.5",
        "Calls to my bank and to Action Fraud",
        dt.date(2017, 3, 22),
        "162.50",
        "",
    ),
    (
        C.OTHER_COSTS,
        "19.99",
        "Postage",
        dt.date(2017, 4, 5),
        "0.00",
        "The receipt you sent is for a parcel, not for letters about the breach.",
    ),
]
SAMPLE_DISTRESS_BAND = "Moderate"
SAMPLE_DISTRESS_AWARD = Decimal("500.00")
SAMPLE_DISTRESS_REASON = (
    "Weeks of worry about your account and two weeks without a working card put this "
    "in the moderate band."
)
# 1,200.00 + 35.00 + 12.50 + 60.00 + 162.50 + 0.00 + 500.00
SAMPLE_TOTAL = Decimal("1970.00")


def sample_claim_assessed(
    *, scheme: Scheme, staff: ClaimStaff, claimant: dict[str, Any] | None = None
) -> Claim:
    """The sample claim, submitted, triaged and every head assessed: ready for an offer."""
    claim = submission.claim_start(scheme=scheme, **(claimant or SAMPLE_CLAIMANT))
    me = Actor.claimant(claim.pk)
    for category, amount, description, day, _, _ in SAMPLE_HEADS:
        hours = amount if category == C.TIME_SPENT else None
        submission.head_of_loss_add(
            claim_id=claim.pk,
            actor=me,
            category=category,
            amount_claimed=None if hours else amount,
            hours=hours,
            description=description,
            incurred_on=day,
        )
    submission.distress_set(
        claim_id=claim.pk,
        actor=me,
        affected=True,
        effects=[],
        account="I was frightened someone would empty my account, and I could not pay for "
        "things for two weeks while I waited for a new card.",
    )
    submission.claim_submit(claim_id=claim.pk, actor=me, statement_of_truth=True)
    caseworker = Actor.staff(staff.caseworker)
    casework.claim_transition(claim_id=claim.pk, transition="triage_start", actor=caseworker)
    casework.claim_transition(claim_id=claim.pk, transition="triage_accept", actor=caseworker)
    decisions = {category: (allowed, reason) for category, *_, allowed, reason in SAMPLE_HEADS}
    band = scheme.distress_bands.get(name=SAMPLE_DISTRESS_BAND)
    for head in claim.heads_of_loss.order_by("id"):
        if head.category == C.DISTRESS:
            casework.head_of_loss_assess(
                head_id=head.pk,
                actor=caseworker,
                amount_allowed=SAMPLE_DISTRESS_AWARD,
                reason=SAMPLE_DISTRESS_REASON,
                distress_band_id=band.pk,
            )
        else:
            allowed, reason = decisions[head.category]
            casework.head_of_loss_assess(
                head_id=head.pk, actor=caseworker, amount_allowed=allowed, reason=reason
            )
    claim.refresh_from_db()
    return claim


def sample_claim_with_offer(
    *, scheme: Scheme, staff: ClaimStaff, claimant: dict[str, Any] | None = None
) -> Claim:
    """The sample claim with its offer made: proposed by the caseworker and, being above
    the demo's four-eyes threshold, approved by the senior caseworker."""
    claim = sample_claim_assessed(scheme=scheme, staff=staff, claimant=claimant)
    offer = offers.offer_propose(claim_id=claim.pk, actor=Actor.staff(staff.caseworker))
    if offer.made_at is None:
        offers.offer_approve(claim_id=claim.pk, actor=Actor.staff(staff.senior))
    claim.refresh_from_db()
    return claim


def sample_logo_png() -> bytes:
    """A plain black-and-white mark for the demo scheme's letterhead, drawn here so the
    repository carries no logo of a real company."""
    from PIL import Image, ImageDraw, ImageFont

    from claims.delivery.letter_pdf import ASSETS_DIR

    scale = 4
    bold = ImageFont.truetype(str(ASSETS_DIR / "fonts" / "OpenSans-Bold.ttf"), 22 * scale)
    regular = ImageFont.truetype(str(ASSETS_DIR / "fonts" / "OpenSans-Regular.ttf"), 19 * scale)
    mark = bold.font_variant(size=40 * scale)
    words = [("Debenhams Flowers", bold, 24), ("Compensation scheme", regular, 60)]
    width = 104 * scale + max(int(font.getlength(text)) for text, font, _ in words) + 4 * scale
    image = Image.new("RGB", (width, 90 * scale), "white")
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, 88 * scale, 88 * scale), radius=10 * scale, fill="black")
    draw.text((44 * scale, 44 * scale), "DF", font=mark, fill="white", anchor="mm")
    for text, font, middle in words:
        draw.text((104 * scale, middle * scale), text, font=font, fill="black", anchor="lm")
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
