from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims.actions import casework
from claims.core import Actor
from claims.domain.stages import Stage
from claims.domain.workdays import (
    add_working_days,
    is_working_day,
    working_days_before,
    working_days_between,
)
from claims.models import StatusUpdate
from tests.support.factories import claim_in_stage

D = dt.date

# England and Wales bank holidays, each a weekday, from gov.uk/bank-holidays.
ENGLAND_AND_WALES_BANK_HOLIDAYS = [
    D(2021, 12, 27),  # Christmas Day (Saturday) observed
    D(2021, 12, 28),  # Boxing Day (Sunday) observed
    D(2022, 1, 3),  # New Year's Day (Saturday) observed
    D(2022, 6, 2),  # spring bank holiday moved for the Platinum Jubilee
    D(2022, 6, 3),  # Platinum Jubilee
    D(2022, 9, 19),  # State funeral of Queen Elizabeth II
    D(2023, 5, 8),  # Coronation of King Charles III
    D(2025, 12, 25),
    D(2025, 12, 26),
    D(2026, 4, 3),  # Good Friday
    D(2026, 4, 6),  # Easter Monday
    D(2026, 5, 4),  # early May bank holiday
    D(2026, 5, 25),  # spring bank holiday
    D(2026, 8, 31),  # summer bank holiday (last Monday of August in England and Wales)
    D(2026, 12, 25),
    D(2026, 12, 28),  # Boxing Day (Saturday) observed
    D(2027, 1, 1),
]

# Holidays elsewhere in the UK, or the usual date of a holiday that moved that year.
ORDINARY_WORKING_DAYS = [
    D(2026, 1, 2),  # 2 January: Scotland only
    D(2026, 3, 17),  # St Patrick's Day: Northern Ireland only
    D(2026, 7, 13),  # Battle of the Boyne (observed): Northern Ireland only
    D(2026, 8, 3),  # first Monday of August: Scotland's summer holiday
    D(2026, 11, 30),  # St Andrew's Day: Scotland only
    D(2020, 5, 4),  # the early May holiday moved to Friday 8 May for VE Day
    D(2022, 5, 30),  # the spring holiday moved to 2 June for the Platinum Jubilee
    D(2021, 12, 24),  # Christmas Eve is a working day
    D(2026, 12, 29),
]


@pytest.mark.parametrize("day", ENGLAND_AND_WALES_BANK_HOLIDAYS)
def test_england_and_wales_bank_holidays_are_not_working_days(day):
    assert day.weekday() < 5
    assert not is_working_day(day)


@pytest.mark.parametrize("day", ORDINARY_WORKING_DAYS)
def test_holidays_of_other_nations_and_moved_holidays_are_working_days(day):
    assert is_working_day(day)


def test_weekends_are_not_working_days():
    assert not is_working_day(D(2026, 6, 13))  # Saturday
    assert not is_working_day(D(2026, 6, 14))  # Sunday
    assert is_working_day(D(2026, 6, 15))


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        # Friday to Monday: the weekend is skipped.
        (D(2026, 6, 12), 1, D(2026, 6, 15)),
        (D(2026, 6, 12), 5, D(2026, 6, 19)),
        # Christmas on a Friday, Boxing Day on Saturday, observed on Monday 28th.
        (D(2026, 12, 24), 1, D(2026, 12, 29)),
        (D(2026, 12, 23), 2, D(2026, 12, 29)),
        # Christmas and Boxing Day on a weekend: both observed (27th and 28th).
        (D(2021, 12, 24), 1, D(2021, 12, 29)),
        # Christmas Day and Boxing Day on Thursday and Friday.
        (D(2025, 12, 24), 1, D(2025, 12, 29)),
        # Good Friday and Easter Monday 2026.
        (D(2026, 4, 2), 1, D(2026, 4, 7)),
        # Early May bank holiday 2026.
        (D(2026, 5, 1), 1, D(2026, 5, 5)),
        # The coronation: both 1 and 8 May 2023 were bank holidays.
        (D(2023, 4, 28), 1, D(2023, 5, 2)),
        (D(2023, 5, 5), 1, D(2023, 5, 9)),
        # VE Day 2020: early May moved from Monday 4th to Friday 8th.
        (D(2020, 5, 1), 1, D(2020, 5, 4)),
        (D(2020, 5, 7), 1, D(2020, 5, 11)),
        # New Year's Day on a Saturday, observed Monday 3 January 2022.
        (D(2021, 12, 31), 1, D(2022, 1, 4)),
    ],
)
def test_add_working_days_skips_weekends_and_bank_holidays(start, days, expected):
    assert add_working_days(start, days) == expected


def test_twenty_working_days_across_christmas_2026():
    # Mon 21 – Thu 24 Dec (4), Tue 29 – Thu 31 Dec (3), Mon 4 – Fri 8 Jan (5),
    # 11–15 Jan (5), Mon 18 – Wed 20 Jan (3): twenty.
    assert add_working_days(D(2026, 12, 18), 20) == D(2027, 1, 20)


def test_adding_no_working_days_gives_the_start_date_even_on_a_holiday():
    assert add_working_days(D(2026, 12, 25), 0) == D(2026, 12, 25)


def test_adding_negative_working_days_is_refused():
    with pytest.raises(ValueError, match="negative"):
        add_working_days(D(2026, 6, 15), -1)


def test_working_days_between_counts_days_after_start_up_to_and_including_end():
    assert working_days_between(D(2026, 6, 15), D(2026, 6, 15)) == 0
    assert working_days_between(D(2026, 6, 15), D(2026, 6, 16)) == 1
    assert working_days_between(D(2026, 6, 12), D(2026, 6, 15)) == 1  # Friday to Monday
    assert working_days_between(D(2026, 12, 24), D(2026, 12, 29)) == 1
    assert working_days_between(D(2026, 6, 20), D(2026, 6, 13)) == 0  # end before start


dates = st.dates(min_value=D(2016, 1, 1), max_value=D(2032, 12, 31))
day_counts = st.integers(min_value=0, max_value=300)


@given(dates, day_counts)
def test_working_days_between_undoes_add_working_days(start, days):
    assert working_days_between(start, add_working_days(start, days)) == days


@given(dates, st.integers(min_value=1, max_value=300))
def test_a_deadline_always_falls_on_a_working_day_after_the_start(start, days):
    deadline = add_working_days(start, days)
    assert is_working_day(deadline)
    assert (deadline - start).days >= days


@given(dates, day_counts, day_counts)
def test_adding_working_days_in_two_steps_gives_the_same_deadline(start, first, second):
    assert add_working_days(add_working_days(start, first), second) == add_working_days(
        start, first + second
    )


# --- A deadline set by the scheme ---------------------------------------------


@pytest.mark.django_db
def test_information_requested_just_before_christmas_is_due_twenty_working_days_later(
    caseworker,
):
    claim = claim_in_stage(Stage.ASSESSMENT)
    assert claim.scheme.cure_window_working_days == 20

    casework.claim_request_information(
        claim_id=claim.pk,
        actor=Actor.staff(caseworker),
        request="Please send your bank statement for March 2017.",
        today=D(2026, 12, 18),
    )

    claim.refresh_from_db()
    assert claim.stage == Stage.INFORMATION_REQUESTED
    assert claim.information_due == D(2027, 1, 20)
    event = claim.events.get(action="information_request")
    assert event.data == {"due": "2027-01-20"}
    assert event.from_stage == Stage.ASSESSMENT
    assert event.to_stage == Stage.INFORMATION_REQUESTED
    update = StatusUpdate.objects.get(claim=claim, event=event)
    assert update.kind == "information_requested"
    assert update.state == StatusUpdate.State.PENDING


@pytest.mark.django_db
def test_the_cure_window_follows_the_scheme_setting(caseworker):
    claim = claim_in_stage(Stage.ASSESSMENT)
    claim.scheme.cure_window_working_days = 5
    claim.scheme.save()

    casework.claim_request_information(
        claim_id=claim.pk,
        actor=Actor.staff(caseworker),
        request="Please send your bank statement for March 2017.",
        today=D(2026, 12, 23),
    )

    claim.refresh_from_db()
    # Thu 24, Tue 29, Wed 30, Thu 31 Dec, then Mon 4 Jan (1 January is a holiday).
    assert claim.information_due == D(2027, 1, 4)


@given(dates, st.integers(min_value=-10, max_value=800))
def test_working_days_between_counts_what_a_day_by_day_walk_counts(start, span):
    end = start + dt.timedelta(days=span)
    walked = sum(is_working_day(start + dt.timedelta(days=n)) for n in range(1, max(span, 0) + 1))
    assert working_days_between(start, end) == walked


@given(dates, day_counts)
def test_working_days_before_undoes_add_working_days(start, days):
    later = add_working_days(start, days)
    assert working_days_before(later, days) <= start
    assert working_days_between(working_days_before(later, days), later) == days
