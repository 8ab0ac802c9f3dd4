"""Reads about letters: the latest change that called for one, a batch's progress,
and a claimant's own letters."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, OuterRef

from claims.domain.letters import AUTOMATIC_LETTERS
from claims.models import (
    AuditEvent,
    Claim,
    Letter,
    LetterBatch,
    LetterRequest,
)


def latest_letter_event_subquery() -> Any:
    """For each claim (OuterRef "pk"), the last change in its history that called for a
    letter."""
    return AuditEvent.objects.filter(
        claim=OuterRef("pk"), action__in=list(AUTOMATIC_LETTERS)
    ).order_by("-created_at", "-id")


def latest_letter_event(claim: Claim) -> AuditEvent | None:
    """The last change in a claim's history that called for a letter."""
    return (
        claim.events.filter(action__in=list(AUTOMATIC_LETTERS))
        .order_by("-created_at", "-id")
        .first()
    )


def letter_batch_progress(batch: LetterBatch) -> dict[str, int]:
    counts = {state: 0 for state in LetterRequest.State.values}
    for row in batch.requests.values("state").annotate(n=Count("pk")):
        counts[row["state"]] = row["n"]
    return {"total": batch.total, "skipped": batch.skipped, **counts}


def claimant_letters(claim: Claim) -> list[Letter]:
    """The letters a claimant sees on their page, newest first."""
    return list(claim.letters.exclude(file="").order_by("-created_at", "-id"))
