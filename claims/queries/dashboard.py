"""The scheme dashboard: claims per stage, offers, money against the fund, ageing, overdue."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Count,
)
from django.utils import timezone

from claims.domain.stages import (
    Stage,
)
from claims.models import (
    AuditEvent,
    Claim,
    Scheme,
)
from claims.queries.funds import FundSummary, fund_summary
from claims.queries.queues import OPEN_STAGES, ageing_q, overdue_q

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
