"""The demo scheme: the 2017 Debenhams Flowers breach at its supplier Ecomnova.

Figures are the sensible defaults of DESIGN.md; every one is editable per
scheme in the admin. Used by `manage.py load_demo` and by the test factories.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

DEMO_SLUG = "debenhams-flowers"

INCIDENT_SUMMARY = (
    "Between 24 February and 11 April 2017, criminals attacked Ecomnova, the company that "
    "ran the Debenhams Flowers website. They stole the names, addresses, passwords and "
    "payment card details of about 26,000 Debenhams Flowers customers.\n"
    "If the breach cost you money or caused you distress, you can claim compensation."
)

# (name, description, lower, upper); None upper means no limit.
DISTRESS_BANDS: list[tuple[str, str, Decimal, Decimal | None]] = [
    ("Minimal", "Brief worry, quickly resolved", Decimal("0.00"), Decimal("250.00")),
    ("Moderate", "Worry and inconvenience over weeks", Decimal("250.00"), Decimal("750.00")),
    ("Significant", "Lasting anxiety or disruption", Decimal("750.00"), Decimal("1500.00")),
    ("Serious", "Harm to health, fraud losses, long disruption",
     Decimal("1500.00"), Decimal("5000.00")),
    ("Exceptional", "Severe and lasting harm", Decimal("5000.00"), None),
]


def demo_scheme_fields(notice_date: dt.date) -> dict[str, Any]:
    """The scheme's fields, with the claim window 12 months from `notice_date`."""
    return {
        "name": "Debenhams Flowers data breach compensation scheme",
        "slug": DEMO_SLUG,
        "organisation": "Debenhams Flowers (supplier: Ecomnova)",
        "incident_summary": INCIDENT_SUMMARY,
        "breach_start": dt.date(2017, 2, 24),
        "breach_end": dt.date(2017, 4, 11),
        "notice_date": notice_date,
        "claims_open": notice_date,
        "claims_close": _add_months(notice_date, 12),
        "lost_time_hourly_rate": Decimal("25.00"),
        "lost_time_hours_cap": Decimal("10"),
        "lost_time_hours_cap_with_evidence": Decimal("20"),
        "offer_approval_threshold": Decimal("1000.00"),
        "cure_window_working_days": 20,
        "first_reminder_working_days": 10,
        "second_reminder_working_days": 17,
        "accept_by_working_days": 20,
        "fund_amount": Decimal("5000000.00"),
        "contact_phone": "0333 003 7068",
    }


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    # 29 February plus a year is 28 February; the window never runs past a month's end.
    for candidate in range(day.day, 27, -1):
        try:
            return dt.date(year, month, candidate)
        except ValueError:
            continue
    return dt.date(year, month, min(day.day, 28))
