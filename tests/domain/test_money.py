from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from claims import core
from claims.actions import submission
from claims.core import Actor, ClaimError
from claims.domain.money import (
    MAX_AMOUNT,
    PENNY,
    MoneyError,
    format_money,
    parse_money,
    round_money,
)
from claims.models import HeadOfLoss
from tests.support.factories import SchemeFactory, draft_claim

pennies = st.decimals(min_value=Decimal("0.00"), max_value=MAX_AMOUNT, places=2)


# --- parse_money: what it accepts ---------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("25", Decimal("25.00")),
        ("25.5", Decimal("25.50")),
        ("25.50", Decimal("25.50")),
        ("£1,234.56", Decimal("1234.56")),
        ("  £ 1,234.56  ", Decimal("1234.56")),
        ("1,000,000", Decimal("1000000.00")),
        ("0.01", Decimal("0.01")),
        ("10.000", Decimal("10.00")),
        (25, Decimal("25.00")),
        (Decimal("25.5"), Decimal("25.50")),
        (Decimal("12.340"), Decimal("12.34")),
        (str(MAX_AMOUNT), MAX_AMOUNT),
    ],
)
def test_parse_money_accepts_pounds_and_pence_as_people_type_them(typed, expected):
    amount = parse_money(typed)
    assert amount == expected
    assert amount.as_tuple().exponent == -2


def test_parse_money_accepts_zero_unless_told_not_to():
    assert parse_money("0") == Decimal("0.00")
    with pytest.raises(MoneyError, match=r"greater than £0\.00"):
        parse_money("0", allow_zero=False)
    with pytest.raises(MoneyError, match=r"greater than £0\.00"):
        parse_money("0.00", allow_zero=False)


def test_parse_money_never_returns_negative_zero():
    # "-0" is zero, but kept as Decimal("-0.00") it would be shown as £-0.00.
    amount = parse_money("-0")
    assert amount == 0
    assert not amount.is_signed()
    assert format_money(amount) == "£0.00"


# --- parse_money: what it refuses ---------------------------------------------


def test_parse_money_refuses_float_even_when_it_looks_exact():
    with pytest.raises(MoneyError, match="not float"):
        parse_money(25.5)


@pytest.mark.parametrize("typed", ["-1", "-0.01", "£-5", Decimal("-3.00"), "-1,234.56"])
def test_parse_money_refuses_negative_amounts(typed):
    with pytest.raises(MoneyError, match="negative"):
        parse_money(typed)


@pytest.mark.parametrize("typed", ["10.005", "0.001", "1.2345", Decimal("10.005"), "1,234.567"])
def test_parse_money_refuses_more_than_two_decimal_places_rather_than_rounding(typed):
    with pytest.raises(MoneyError, match="two decimal places"):
        parse_money(typed)


@pytest.mark.parametrize(
    "typed", ["NaN", "nan", "sNaN", "Infinity", "-Infinity", "inf", Decimal("NaN"), Decimal("Inf")]
)
def test_parse_money_refuses_values_that_are_not_numbers(typed):
    with pytest.raises(MoneyError, match="pounds and pence"):
        parse_money(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "£",
        None,
        "twenty",
        "25 pounds",
        "£25p",
        "1.2.3",
        "--5",
        "0x10",
        "25£",
        "1e3",
        "1_000",
        "\u0663",
    ],
)
def test_parse_money_refuses_empty_or_nonsense_input(typed):
    with pytest.raises(MoneyError, match="pounds and pence"):
        parse_money(typed)


@pytest.mark.parametrize("typed", ["12,50", "1,5", "1,23", "12,3456", ",5", "1,,000", "1000,00"])
def test_parse_money_refuses_commas_that_are_not_thousands_separators(typed):
    # "12,50" typed by someone used to a decimal comma means £12.50, never £1,250.
    with pytest.raises(MoneyError, match="pounds and pence"):
        parse_money(typed)


@pytest.mark.parametrize(
    "typed", ["10000000.01", "10,000,001", Decimal("1e9"), Decimal("99999999999"), "9" * 40]
)
def test_parse_money_refuses_amounts_over_the_maximum(typed):
    with pytest.raises(MoneyError, match=r"no more than £10,000,000\.00"):
        parse_money(typed)


@pytest.mark.parametrize(
    "typed", ["9" * 30 + ".001", "1" + "0" * 40 + ".005", "-" + "9" * 30 + ".001"]
)
def test_parse_money_refuses_huge_over_precise_amounts_with_a_money_error_not_a_crash(typed):
    # These once escaped as decimal.InvalidOperation, a server error for the claimant.
    with pytest.raises(MoneyError):
        parse_money(typed)


@given(pennies)
def test_parse_money_reads_back_any_two_place_amount_in_range(amount):
    assert parse_money(str(amount)) == amount


@given(pennies)
def test_parse_money_reads_back_any_formatted_amount(amount):
    assert parse_money(format_money(amount)) == amount


@given(
    st.decimals(min_value=Decimal("0"), max_value=MAX_AMOUNT, places=3).filter(
        lambda d: d != d.quantize(PENNY)
    )
)
def test_parse_money_refuses_every_amount_with_a_third_decimal_place(amount):
    with pytest.raises(MoneyError, match="two decimal places"):
        parse_money(str(amount))


# --- round_money --------------------------------------------------------------


@pytest.mark.parametrize(
    ("computed", "expected"),
    [
        ("2.345", "2.35"),
        ("0.125", "0.13"),
        ("0.135", "0.14"),
        ("2.344", "2.34"),
        ("2.3449999", "2.34"),
        ("0.005", "0.01"),
        ("0.004", "0.00"),
        ("62.5", "62.50"),
        ("10", "10.00"),
    ],
)
def test_round_money_rounds_halves_up_to_the_penny(computed, expected):
    rounded = round_money(Decimal(computed))
    assert rounded == Decimal(expected)
    assert rounded.as_tuple().exponent == -2


@given(st.decimals(min_value=Decimal("0"), max_value=MAX_AMOUNT, places=6))
def test_round_money_is_never_more_than_half_a_penny_away(amount):
    rounded = round_money(amount)
    assert rounded.as_tuple().exponent == -2
    assert abs(rounded - amount) <= Decimal("0.005")
    if abs(rounded - amount) == Decimal("0.005"):
        assert rounded > amount


# --- lost time ----------------------------------------------------------------


@pytest.fixture
def demo_scheme(db):
    return SchemeFactory()  # £25 an hour; 10 hours without evidence, 20 with


@pytest.mark.parametrize(
    ("hours", "with_evidence", "expected"),
    [
        ("2.5", False, "62.50"),
        ("2.5", True, "62.50"),
        ("10", False, "250.00"),
        ("15", False, "250.00"),
        ("15", True, "375.00"),
        ("20", True, "500.00"),
        ("25", True, "500.00"),
        ("0.01", False, "0.25"),
    ],
)
def test_lost_time_is_hours_times_rate_capped_by_evidence(
    demo_scheme, hours, with_evidence, expected
):
    amount = core.lost_time_amount(demo_scheme, Decimal(hours), with_evidence=with_evidence)
    assert amount == Decimal(expected)
    assert amount.as_tuple().exponent == -2


def test_lost_time_is_rounded_half_up_to_the_penny(db):
    scheme = SchemeFactory(lost_time_hourly_rate=Decimal("12.45"))
    # £18.675 and £6.225: banker's rounding would give £6.22 for the second.
    assert core.lost_time_amount(scheme, Decimal("1.5"), with_evidence=False) == Decimal("18.68")
    assert core.lost_time_amount(scheme, Decimal("0.5"), with_evidence=False) == Decimal("6.23")


def test_time_spent_head_is_priced_from_hours_not_the_amount_typed(demo_scheme):
    claim = draft_claim(demo_scheme)
    head = submission.head_of_loss_add(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        category=HeadOfLoss.Category.TIME_SPENT,
        hours="15",
        amount_claimed="9999.00",
    )
    head.refresh_from_db()
    assert head.hours == Decimal("15.00")
    # Claimed up to the with-evidence cap (20 h); the assessor applies the 10 h cap
    # when there is no evidence.
    assert head.amount_claimed == Decimal("375.00")


def test_time_spent_claim_stops_at_the_cap_with_evidence(demo_scheme):
    claim = draft_claim(demo_scheme)
    head = submission.head_of_loss_add(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        category=HeadOfLoss.Category.TIME_SPENT,
        hours="25",
    )
    assert head.amount_claimed == Decimal("500.00")


@pytest.mark.parametrize("hours", ["0.333", "2.505", "1.001"])
def test_time_spent_with_more_than_two_decimal_places_of_hours_is_refused(demo_scheme, hours):
    claim = draft_claim(demo_scheme)
    with pytest.raises(ClaimError, match="two decimal places") as error:
        submission.head_of_loss_add(
            claim_id=claim.pk,
            actor=Actor.claimant(claim.pk),
            category=HeadOfLoss.Category.TIME_SPENT,
            hours=hours,
        )
    assert error.value.code == "invalid_hours"
    assert not claim.heads_of_loss.exists()


@pytest.mark.parametrize("hours", [None, "", "0", "-1", "lots", "NaN", "Infinity", "1000.01"])
def test_time_spent_with_missing_or_impossible_hours_is_refused(demo_scheme, hours):
    claim = draft_claim(demo_scheme)
    with pytest.raises(ClaimError, match="hours you spent") as error:
        submission.head_of_loss_add(
            claim_id=claim.pk,
            actor=Actor.claimant(claim.pk),
            category=HeadOfLoss.Category.TIME_SPENT,
            hours=hours,
        )
    assert error.value.code == "invalid_hours"
    assert not claim.heads_of_loss.exists()
