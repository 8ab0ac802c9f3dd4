"""Pro-rata mode: capped categories share a fixed pool, as in large US breach
settlements, where a pool for (say) lost time and distress is divided between all
valid claims once the claim window has closed.

The formula, per scheme with `pro_rata` on:

    P   = scheme.pro_rata_pool
    a_c = for claim c, the sum over its heads of loss in the scheme's
          pro-rata categories of the amount allowed (the amount claimed while
          a head is not yet assessed)
    T   = the sum of a_c over every claim still in the running (submitted and
          not rejected, withdrawn, closed incomplete or expired)
    share_c = a_c                        if T <= P  (everyone in full)
              a_c × P / T, rounded DOWN to the penny   otherwise

Rounding down keeps the shares' sum at or below P. Until the claim window has
closed and every capped head is assessed, the figures are a projection from the
claims so far, shown as an estimate; they change as claims arrive and are assessed.
Offers and payments are not changed by this module: it tells the scheme and each
claimant what the pool would give, so the administrator can set offers from it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from claims.domain.stages import Stage
from claims.models import Claim, HeadOfLoss, Scheme

ZERO = Decimal("0.00")
PENNY = Decimal("0.01")
# Claims whose heads of loss no longer (or never) count towards the pool.
OUT_OF_THE_RUNNING = (
    Stage.DRAFT,
    Stage.REJECTED,
    Stage.WITHDRAWN,
    Stage.CLOSED_INCOMPLETE,
    Stage.OFFER_EXPIRED,
)
PROJECTION_CACHE_SECONDS = 60


@dataclass(frozen=True)
class ProRata:
    """A scheme's pool against what its claims ask of it."""

    pool: Decimal
    capped_total: Decimal  # T
    claims: int
    unassessed: int  # capped heads still to assess
    window_closed: bool
    categories: tuple[str, ...]

    @property
    def reduced(self) -> bool:
        return self.capped_total > self.pool

    @property
    def percent(self) -> Decimal:
        """The share of each allowed amount paid, in per cent, to one place (display)."""
        if not self.reduced:
            return Decimal("100.0")
        return (self.pool * 100 / self.capped_total).quantize(Decimal("0.1"), ROUND_DOWN)

    @property
    def final(self) -> bool:
        return self.window_closed and self.unassessed == 0

    @property
    def category_labels(self) -> list[str]:
        return [HeadOfLoss.Category(c).label for c in self.categories]

    def share(self, amount: Decimal) -> Decimal:
        """One claim's share of the pool for a capped amount of `amount`."""
        if not self.reduced:
            return amount
        return (amount * self.pool / self.capped_total).quantize(PENNY, ROUND_DOWN)


def _categories(scheme: Scheme) -> tuple[str, ...]:
    chosen = scheme.pro_rata_categories or []
    return tuple(c for c in HeadOfLoss.Category.values if c in chosen)


def _capped_heads(scheme: Scheme, categories: tuple[str, ...]):  # type: ignore[no-untyped-def]
    return HeadOfLoss.objects.filter(claim__scheme=scheme, category__in=categories).exclude(
        claim__stage__in=OUT_OF_THE_RUNNING
    )


def pro_rata_projection(scheme: Scheme, *, today: dt.date | None = None) -> ProRata | None:
    """The pool against every claim's capped amounts now; None if the scheme is not in
    pro-rata mode. One grouped query."""
    categories = _categories(scheme)
    if not scheme.pro_rata or not categories:
        return None
    today = today or timezone.localdate()
    figures = _capped_heads(scheme, categories).aggregate(
        total=Sum(Coalesce("amount_allowed", "amount_claimed")),
        claims=Count("claim", distinct=True),
        unassessed=Count("id", filter=Q(amount_allowed__isnull=True)),
    )
    return ProRata(
        pool=scheme.pro_rata_pool,
        capped_total=figures["total"] or ZERO,
        claims=figures["claims"],
        unassessed=figures["unassessed"],
        window_closed=today > scheme.claims_close,
        categories=categories,
    )


def pro_rata_projection_cached(scheme: Scheme) -> ProRata | None:
    """`pro_rata_projection`, at most a minute old, for pages every claimant opens."""
    from claims.queries import caching

    key = f"redress:prorata:{scheme.pk}:{scheme.created_at.timestamp()}"
    return caching.remembered(key, PROJECTION_CACHE_SECONDS, lambda: pro_rata_projection(scheme))


@dataclass(frozen=True)
class ClaimEstimate:
    capped: Decimal  # a_c
    share: Decimal
    projection: ProRata


def pro_rata_estimate(claim: Claim, *, cached: bool = True) -> ClaimEstimate | None:
    """One claim's estimated share of the pool; None if its scheme is not in pro-rata
    mode or it has no capped head of loss."""
    scheme = claim.scheme
    projection = pro_rata_projection_cached(scheme) if cached else pro_rata_projection(scheme)
    if projection is None or claim.stage in OUT_OF_THE_RUNNING:
        return None
    heads = claim.heads_of_loss.filter(category__in=projection.categories)
    if not heads.exists():
        return None
    capped = heads.aggregate(total=Sum(Coalesce("amount_allowed", "amount_claimed")))["total"]
    capped = capped or ZERO
    return ClaimEstimate(capped=capped, share=projection.share(capped), projection=projection)
