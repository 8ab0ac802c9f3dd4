"""Time spent sorting things out: paid by the hour at the scheme's rate, up to a cap of
hours that is higher when the claimant sends a log of their time (evidence)."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from claims.domain.money import round_money

if TYPE_CHECKING:
    from claims.models import Scheme


def lost_time_cap(scheme: Scheme, *, with_evidence: bool) -> Decimal:
    """The most hours the scheme pays for."""
    return scheme.lost_time_hours_cap_with_evidence if with_evidence else scheme.lost_time_hours_cap


def lost_time_amount(scheme: Scheme, hours: Decimal, *, with_evidence: bool) -> Decimal:
    """Hours × the scheme's hourly rate, capped at the hours the scheme allows."""
    return round_money(
        min(hours, lost_time_cap(scheme, with_evidence=with_evidence))
        * scheme.lost_time_hourly_rate
    )
