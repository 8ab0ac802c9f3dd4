"""Email addresses Redress can send to, and why one cannot be."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email


class UndeliverableAddress(ValueError):
    """An address no provider will ever deliver to: a retry cannot help."""


_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def clean_address(address: str) -> str:
    """The address to send to, or `UndeliverableAddress` saying why there is none.

    Refuses line breaks and other control characters (header injection such as
    `a@b.com\\r\\nBcc: x@evil`), display names and lists, and non-ASCII before the @:
    Django's SMTP backend and most providers cannot send to those (SMTPUTF8), and
    pretending otherwise would deliver to a mangled address.
    """
    address = (address or "").strip()
    if not address:
        raise UndeliverableAddress("There is no email address.")
    if _CONTROL_CHARACTERS.search(address):
        raise UndeliverableAddress("The email address contains a line break or control code.")
    if len(address) > 254:
        raise UndeliverableAddress("The email address is longer than 254 characters.")
    local_part = address.rpartition("@")[0]
    if not local_part.isascii():
        raise UndeliverableAddress(
            "The part of the email address before the @ has characters other than plain "
            "letters, digits and punctuation, which our email provider cannot send to."
        )
    try:
        validate_email(address)
    except ValidationError:
        raise UndeliverableAddress("This is not a valid email address.") from None
    return address


def address_problem(address: str) -> str | None:
    """Why `address` cannot be emailed, in words for the person who typed it; None if it can."""
    try:
        clean_address(address)
    except UndeliverableAddress as problem:
        return str(problem)
    return None
