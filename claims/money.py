"""Money is Decimal pounds and pence. Never float; never silently rounded input."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

PENNY = Decimal("0.01")
# Far above any plausible award; stops typos like 1000000 for 100.00 and overflow.
MAX_AMOUNT = Decimal("10000000.00")


class MoneyError(ValueError):
    """An amount that cannot be money: says what is wrong in words a person can act on."""


def parse_money(value: object, *, allow_zero: bool = True) -> Decimal:
    """Turn user or API input into pounds and pence, refusing anything ambiguous.

    Input with more than two decimal places is refused rather than rounded: an
    amount someone typed is either exact or a mistake they should see.
    """
    if isinstance(value, float):
        raise MoneyError("Amounts must be given as text or Decimal, not float.")
    if isinstance(value, Decimal):
        amount = value
    else:
        text = str(value).strip().replace(",", "").removeprefix("£").strip()
        if not text:
            raise MoneyError("Enter an amount in pounds and pence, like 25.00.")
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise MoneyError("Enter an amount in pounds and pence, like 25.00.") from None
    if not amount.is_finite():
        raise MoneyError("Enter an amount in pounds and pence, like 25.00.")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(PENNY):
        raise MoneyError("Amounts can have at most two decimal places (pence).")
    if amount < 0:
        raise MoneyError("Amounts cannot be negative.")
    if amount == 0 and not allow_zero:
        raise MoneyError("Enter an amount greater than £0.00.")
    if amount > MAX_AMOUNT:
        raise MoneyError(f"Amounts must be no more than £{MAX_AMOUNT:,.2f}.")
    return amount.quantize(PENNY)


def round_money(amount: Decimal) -> Decimal:
    """Round a computed amount (e.g. hours × rate) to the penny, halves up, as people expect."""
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    return f"£{amount:,.2f}"
