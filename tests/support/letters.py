"""Shared by the letter tests: read a PDF back, and make a claim's letters for real."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

from pypdf import PdfReader

from claims.delivery import letters
from claims.domain.letters import AUTOMATIC_LETTERS, letter_kind_for
from claims.domain.stages import LetterKind
from claims.models import Claim, Letter


def pdf_text(pdf: bytes) -> str:
    """All the text of a PDF, with runs of whitespace (line breaks too) made one space."""
    reader = PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def pdf_reader(pdf: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(pdf))


def money(amount: str | Decimal) -> str:
    return f"£{Decimal(amount):,.2f}"


def render(claim: Claim, kind: str, **kwargs: Any) -> letters.RenderedLetter:
    """The letter `kind` for the change in the claim's history that called for it."""
    event = next(
        (
            event
            for event in claim.events.filter(action__in=list(AUTOMATIC_LETTERS)).order_by(
                "-created_at", "-id"
            )
            if letter_kind_for(event) == kind
        ),
        None,
    )
    return letters.render_letter(claim, kind, event=event, **kwargs)


def make_pending_letters(claim: Claim) -> list[Letter]:
    """Generate every letter the claim's history has asked for, as the worker would."""
    made = []
    for request in claim.letter_requests.filter(state="pending").order_by("id"):
        assert letters.letter_generate(request.pk) == letters.Outcome.MADE
        request.refresh_from_db()
        made.append(request.letter)
    return made


ALL_KINDS = list(LetterKind.values)
