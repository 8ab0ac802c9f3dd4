"""Claim references, notice codes and verification codes: random, from an alphabet a
person can read aloud, and read back however they were typed."""

from __future__ import annotations

import re
import secrets

# Crockford's base-32: digits and capitals without I, L, O, U, so a reference read
# aloud or copied from paper cannot be mistaken for another.
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


REFERENCE_PATTERN = re.compile(r"^RDR-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


_CROCKFORD_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})


# Spaces and every kind of dash: codes are often copied from PDFs with en dashes.
_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]")


_NOTICE_CODE_BODY = re.compile(r"[0-9A-HJKMNP-TV-Z]{12}")


_WHITESPACE = re.compile(r"\s+")


def generate_reference() -> str:
    body = "".join(secrets.choice(CROCKFORD) for _ in range(8))
    return f"RDR-{body[:4]}-{body[4:]}"


def normalise_reference(text: str) -> str | None:
    """The canonical `RDR-XXXX-XXXX` for what a person typed, or None if it cannot be one.

    Accepts lower case, spaces, missing hyphens and the letters O, I and L typed
    for 0 and 1, as Crockford's alphabet intends.
    """
    cleaned = _SEPARATORS.sub("", text or "").upper()
    # Only an 11-character input carries the prefix: a body may itself start "RDR".
    if len(cleaned) == 11 and cleaned.startswith("RDR"):
        cleaned = cleaned[3:]
    cleaned = cleaned.translate(_CROCKFORD_CONFUSABLES)
    if len(cleaned) != 8 or any(char not in CROCKFORD for char in cleaned):
        return None
    return f"RDR-{cleaned[:4]}-{cleaned[4:]}"


def generate_notice_code() -> str:
    body = "".join(secrets.choice(CROCKFORD) for _ in range(12))
    return f"{body[:4]}-{body[4:8]}-{body[8:]}"


def normalise_notice_code(text: str) -> str | None:
    cleaned = _SEPARATORS.sub("", text or "").upper().translate(_CROCKFORD_CONFUSABLES)
    if not _NOTICE_CODE_BODY.fullmatch(cleaned):
        return None
    return f"{cleaned[:4]}-{cleaned[4:8]}-{cleaned[8:]}"


def generate_verification_code() -> str:
    """Short code printed in each email and on the claim page, so a claimant can tell
    a real message from a phishing one."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(6))


def normalise_postcode(text: str) -> str:
    compact = _WHITESPACE.sub("", text or "").upper()
    if len(compact) > 3:
        return f"{compact[:-3]} {compact[-3:]}"
    return compact


# A row's id as a URL or a query string carries it: digits, within the range of the
# tables' 64-bit keys. A longer number names no row, and the database would refuse it
# with an error rather than find nothing.
ID_DIGITS = 18


def parse_id(text: str | None) -> int | None:
    """The id `text` names, or None if it cannot name a row."""
    text = (text or "").strip()
    if not text.isascii() or not text.isdecimal() or len(text) > ID_DIGITS:
        return None
    return int(text)


class IdConverter:
    """`<id:name>` in a URL: a row's id, or no match (a 404) for anything longer."""

    regex = f"[0-9]{{1,{ID_DIGITS}}}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)
