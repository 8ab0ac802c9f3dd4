"""Letters, the requests that make them, and batches of requests."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from claims.domain.stages import (
    LetterKind,
)
from claims.models.claims import Claim, Offer
from claims.models.record import AuditEvent


def letter_upload_to(instance: Letter, filename: str) -> str:
    # A new name for every letter: a stored file is never written over.
    return f"letters/{instance.claim_id}/{uuid.uuid4().hex}.pdf"


class Letter(models.Model):
    """A PDF letter to a claimant (claims.delivery.letters), stored once and never changed.
    Generating a letter of a kind again makes a new version and keeps the old."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="letters")
    kind = models.CharField(max_length=32, choices=LetterKind.choices)
    version = models.PositiveIntegerField(help_text="1 for a claim's first letter of this kind.")
    file = models.FileField(upload_to=letter_upload_to, max_length=200)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    template_version = models.CharField(max_length=40)
    # The change that called for the letter, and the offer a settlement letter sets out.
    event = models.ForeignKey(
        AuditEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="letters"
    )
    offer = models.ForeignKey(
        Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="letters"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["claim", "-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "kind", "version"], name="letter_unique_version"
            ),
        ]
        permissions = [("generate_letters", "Make claims' letters again, as new versions")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} v{self.version} for {self.claim_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if not self._state.adding:
            raise ValueError("A letter is never changed: generate a new version instead.")
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    @property
    def download_name(self) -> str:
        return f"{self.claim.reference}-{self.kind.replace('_', '-')}-v{self.version}.pdf"


class LetterBatch(models.Model):
    """Letters a member of staff asked for, for claims picked in the admin: the batch's
    requests say how far it has got."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    total = models.PositiveIntegerField(default=0, help_text="Letters asked for.")
    skipped = models.PositiveIntegerField(
        default=0, help_text="Claims picked whose stage has no letter."
    )

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "letter batches"

    def __str__(self) -> str:
        return f"Letters for {self.total} claim(s), {self.created_at:%-d %b %Y %H:%M}"


class LetterRequest(models.Model):
    """The letters outbox: a row written in the same transaction as the change that calls
    for a letter (or by a bulk action), then made by the `letters` queue. The sweeper
    queues again a row that a crash or a broker outage left pending; making it twice
    still stores one letter."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="letter_requests")
    kind = models.CharField(max_length=32, choices=LetterKind.choices)
    event = models.ForeignKey(
        AuditEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    batch = models.ForeignKey(
        LetterBatch, null=True, blank=True, on_delete=models.CASCADE, related_name="requests"
    )
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    letter = models.OneToOneField(
        Letter, null=True, blank=True, on_delete=models.PROTECT, related_name="request"
    )
    created_at = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="letter_request_outbox")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.claim_id} ({self.state})"
