"""Money is Decimal pounds and pence. Never float; never silently rounded input."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal

PENNY = Decimal("0.01")
# Far above any plausible award; stops typos like 1000000 for 100.00 and overflow.
MAX_AMOUNT = Decimal("10000000.00")
# Commas only as thousands separators: "12,50" is someone's 12.50, not £1,250.
_GROUPED = re.compile(r"-?\d{1,3}(,\d{3})+(\.\d*)?", re.ASCII)
_PLAIN = re.compile(r"-?(\d+(\.\d*)?|\.\d+)", re.ASCII)


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
        text = str(value).strip().removeprefix("£").strip()
        if "," in text:
            if not _GROUPED.fullmatch(text):
                raise MoneyError("Enter an amount in pounds and pence, like 1,234.56.")
            text = text.replace(",", "")
        # Plain digits only: Decimal would also take "1e3", "1_000" and "NaN".
        if not _PLAIN.fullmatch(text):
            raise MoneyError("Enter an amount in pounds and pence, like 25.00.")
        amount = Decimal(text)
    if not amount.is_finite():
        raise MoneyError("Enter an amount in pounds and pence, like 25.00.")
    if amount < 0:
        raise MoneyError("Amounts cannot be negative: enter the amount without a minus sign.")
    # Before the pence check: quantizing a huge amount raises InvalidOperation.
    if amount > MAX_AMOUNT:
        raise MoneyError(f"Amounts must be no more than £{MAX_AMOUNT:,.2f}.")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(PENNY):
        raise MoneyError("Amounts can have at most two decimal places (pence).")
    if amount == 0 and not allow_zero:
        raise MoneyError("Enter an amount greater than £0.00.")
    # abs() only changes "-0", which would otherwise be stored and shown as £-0.00.
    return abs(amount).quantize(PENNY)


def round_money(amount: Decimal) -> Decimal:
    """Round a computed amount (e.g. hours × rate) to the penny, halves up, as people expect."""
    return amount.quantize(PENNY, rounding=ROUND_HALF_UP)


def format_money(amount: Decimal) -> str:
    return f"£{amount:,.2f}"
