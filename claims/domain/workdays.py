"""UK working days: Monday to Friday except England and Wales bank holidays.

The `holidays` package computes bank holidays offline (including one-off days
such as coronations), so deadlines never depend on a network call.
"""

from __future__ import annotations

import bisect
import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=64)
def _bank_holidays(year: int) -> frozenset[dt.date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year).keys())


def is_working_day(day: dt.date) -> bool:
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


@lru_cache(maxsize=16_384)  # the claims list asks it for every row, mostly the same rows
def add_working_days(start: dt.date, days: int) -> dt.date:
    """The date `days` working days after `start` (start itself never counts).

    A deadline of 20 working days from a Friday offer is the 20th working day
    after it; bank holidays and weekends are skipped.
    """
    if days < 0:
        raise ValueError("days must not be negative")
    current = start
    remaining = days
    while remaining:
        current += dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_before(day: dt.date, days: int) -> dt.date:
    """The date `days` working days before `day` (add_working_days run backwards)."""
    current, remaining = day, days
    while remaining:
        current -= dt.timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


@lru_cache(maxsize=64)
def _weekday_bank_holidays(year: int) -> tuple[dt.date, ...]:
    return tuple(sorted(day for day in _bank_holidays(year) if day.weekday() < 5))


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after `start` up to and including `end` (0 if end <= start).

    By arithmetic (whole weeks, then the bank holidays that fall on weekdays), not day by
    day: the claims list works it out for every row, and a claim can be a year in a stage.
    """
    days = (end - start).days
    if days <= 0:
        return 0
    weeks, extra = divmod(days, 7)
    count = weeks * 5
    for offset in range(1, extra + 1):
        if (start + dt.timedelta(days=weeks * 7 + offset)).weekday() < 5:
            count += 1
    for year in range(start.year, end.year + 1):
        holidays_in_year = _weekday_bank_holidays(year)
        count -= bisect.bisect_right(holidays_in_year, end) - bisect.bisect_right(
            holidays_in_year, start
        )
    return count
