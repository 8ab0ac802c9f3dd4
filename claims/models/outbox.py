"""The email outbox's tables: status updates, staff digests and notice campaigns."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from claims.domain.references import (
    generate_verification_code,
)
from claims.domain.stages import (
    Stage,
)
from claims.models.claims import Claim
from claims.models.record import AuditEvent
from claims.models.schemes import Scheme


class StatusUpdate(models.Model):
    """The outbox: one row per message to the claimant, written in the same transaction
    as the change it reports and delivered afterwards by Celery. A row is the
    promise; delivery can be retried until it is kept."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="status_updates")
    event = models.ForeignKey(
        AuditEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="status_updates"
    )
    kind = models.CharField(max_length=48)
    stage = models.CharField(max_length=32, choices=Stage.choices)
    verification_code = models.CharField(max_length=6, default=generate_verification_code)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    # When the next delivery attempt is due: now once queued, later after a failure. The
    # sweeper re-queues a pending row whose attempt is a few minutes overdue.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    # Makes a reminder or warning once however often the clock runs, e.g. "reminder:41:2".
    dedupe_key = models.CharField(max_length=80, null=True, blank=True, unique=True)
    # Sent here instead of the claim's address (e.g. a bank details change told to the
    # address the claimant had before); blank: the claim's address.
    recipient = models.EmailField(blank=True)

    class Meta:
        ordering = ["claim", "created_at", "id"]
        indexes = [models.Index(fields=["state", "created_at"], name="status_update_outbox")]
        permissions = [("resend_statusupdate", "Send failed emails again")]

    def __str__(self) -> str:
        return f"{self.kind} for {self.claim_id} ({self.state})"


class StaffDigest(models.Model):
    """A caseworker's daily email listing their overdue claims: one row per person per
    day, so the clock can run twice and the email still goes once. Delivered like a
    status update (same states, attempts and sweeper)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    claim_count = models.PositiveIntegerField(default=0)
    state = models.CharField(
        max_length=10, choices=StatusUpdate.State.choices, default=StatusUpdate.State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-day", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="staff_digest_one_a_day"),
        ]
        indexes = [models.Index(fields=["state", "created_at"], name="staff_digest_outbox")]

    def __str__(self) -> str:
        return f"Digest for {self.user} on {self.day:%-d %B %Y} ({self.state})"


class NoticeCampaign(models.Model):
    """Sending each register entry of a scheme its notice email, in chunks on the worker.

    An entry's `notice_sent_at` is the record that its notice went, checked under a row
    lock before each send: pausing, resuming or running a campaign again never sends
    one person two notices."""

    class State(models.TextChoices):
        RUNNING = "running", "Running"
        PAUSED = "paused", "Paused"
        FINISHED = "finished", "Finished"

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="notice_campaigns")
    state = models.CharField(max_length=10, choices=State.choices, default=State.RUNNING)
    # Bumped by every resume (and by the sweeper reviving a stalled campaign): chunks
    # queued before it see a newer generation and stop.
    generation = models.PositiveIntegerField(default=1)
    total = models.PositiveIntegerField(default=0, help_text="People to send a notice to.")
    sent = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    chunks_total = models.PositiveIntegerField(default=0)
    chunks_done = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A heartbeat: chunks touch it as they send, so the sweeper can tell a stalled
    # campaign (its chunks lost with a broker) from a busy one.
    updated_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["scheme"],
                condition=Q(state__in=["running", "paused"]),
                name="notice_campaign_one_active_per_scheme",
            ),
        ]

    def __str__(self) -> str:
        return f"Notices for {self.scheme} ({self.get_state_display().lower()})"
