"""Money against a scheme's fund: what its offers, acceptances and payments commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import (
    Exists,
    OuterRef,
    Sum,
)
from django.utils import timezone

from claims.domain.stages import (
    Stage,
)
from claims.models import (
    Offer,
    Payment,
    Scheme,
)
from claims.queries.partial import part_fund_figures


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


def paid_total(scheme: Scheme, *, exclude_claim_id: int | None = None) -> Decimal:
    """What the scheme's payments have paid; without one claim's for the fund check of
    a new offer on it, whose total then counts all the claim costs (claims.actions.reviews)."""
    payments = Payment.objects.filter(claim__scheme=scheme, state=Payment.State.PAID)
    if exclude_claim_id is not None:
        payments = payments.exclude(claim_id=exclude_claim_id)
    return payments.aggregate(total=Sum("amount"))["total"] or Decimal("0.00")
