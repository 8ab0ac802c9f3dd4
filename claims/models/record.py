"""A claim's record: its audit events, messages, access links, internal notes, flags,
match keys, and staff looks at it."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from claims.domain.stages import (
    ActorKind,
    Stage,
)
from claims.models.claims import Claim
from claims.models.schemes import Scheme


class AuditEvent(models.Model):
    """Who did what to a claim, when, from which stage to which, and why. Append-only."""

    # PROTECT: a claim's history outlives any attempt to delete the claim; erasure and
    # retention services remove or anonymise it deliberately.
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events")
    action = models.CharField(max_length=48)
    actor_kind = models.CharField(max_length=12, choices=ActorKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    from_stage = models.CharField(max_length=32, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=32, choices=Stage.choices, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["claim", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.action} {self.from_stage}→{self.to_stage}"

    @property
    def actor_label(self) -> str:
        if self.actor_kind == ActorKind.STAFF and self.actor_id:
            return str(self.actor)
        return self.get_actor_kind_display()


class Message(models.Model):
    """A message between the scheme and the claimant: an information request, the
    claimant's answer, or a caseworker's note to them. Both sides see it."""

    class Direction(models.TextChoices):
        TO_CLAIMANT = "to_claimant", "To the claimant"
        FROM_CLAIMANT = "from_claimant", "From the claimant"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=16, choices=Direction.choices)
    body = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    event = models.ForeignKey(
        AuditEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="messages"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["claim", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} on {self.claim_id}"


class AccessLink(models.Model):
    """A single-use link emailed to a claimant, opening their claim for one session.

    Only a hash of the token is stored: a copy of the database opens no claim.
    """

    class Purpose(models.TextChoices):
        FOLLOW = "follow", "Follow a claim"
        RESUME = "resume", "Return to a draft"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="access_links")
    purpose = models.CharField(max_length=8, choices=Purpose.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["claim", "-created_at"]
        indexes = [models.Index(fields=["claim", "purpose"], name="access_link_claim_purpose")]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} link for {self.claim_id}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class InternalNote(models.Model):
    """A note between staff. Never shown to the claimant."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = models.TextField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["claim", "created_at"]

    def __str__(self) -> str:
        return f"Note on {self.claim_id} by {self.author}"


class ClaimFlag(models.Model):
    """Something about a claim a caseworker should look at twice, found when it was
    submitted (claims.actions.flags). A flag says why; it decides nothing by itself."""

    class Kind(models.TextChoices):
        NOT_ON_REGISTER = "not_on_register", "Not on the register"
        SAME_BANK_ACCOUNT = "same_bank_account", "Same bank account"
        SAME_EMAIL = "same_email", "Same email"
        SAME_PHONE = "same_phone", "Same phone"
        SAME_ADDRESS = "same_address", "Same address"
        MANY_FROM_NETWORK = "many_from_network", "Many from one network address"
        HIGH_AMOUNT = "high_amount", "Amount far above typical"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="flags")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    reason = models.CharField(max_length=300)
    related_claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["claim", "kind", "id"]
        indexes = [models.Index(fields=["kind", "claim"], name="claim_flag_kind")]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "kind", "related_claim"], name="claim_flag_unique_pair"
            ),
            models.UniqueConstraint(
                fields=["claim", "kind"],
                condition=Q(related_claim__isnull=True),
                name="claim_flag_unique_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.reason}"


class ClaimMatchKey(models.Model):
    """A submitted claim's contact and payment details, normalised and hashed, so claims
    that share one are found by an index rather than by reading every claim. Bank
    accounts are only ever stored here as a keyed hash."""

    class Kind(models.TextChoices):
        EMAIL = "email", "Email"
        PHONE = "phone", "Phone"
        ADDRESS = "address", "Address"
        BANK_ACCOUNT = "bank_account", "Bank account"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="match_keys")
    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    digest = models.CharField(max_length=64)

    class Meta:
        indexes = [models.Index(fields=["scheme", "kind", "digest"], name="claim_match_key")]
        constraints = [
            models.UniqueConstraint(fields=["claim", "kind"], name="claim_match_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} key of {self.claim_id}"


class StaffAccess(models.Model):
    """A member of staff looked at a claim's page, one of its evidence files or its full
    bank details: who, what, when (docs/security.md, access audit). Append-only, one
    INSERT per look, kept apart from the claim's history so looks never crowd it."""

    class What(models.TextChoices):
        CLAIM_PAGE = "claim_page", "Claim page"
        EVIDENCE = "evidence", "Evidence file"
        BANK_DETAILS = "bank_details", "Full bank details"
        SUBJECT_ACCESS = "subject_access", "Subject access export"
        LETTER = "letter", "Letter"

    # CASCADE: only the erasure of a draft deletes a claim, and it is recorded elsewhere.
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    what = models.CharField(max_length=16, choices=What.choices)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = "staff access"
        verbose_name_plural = "staff access log"
        indexes = [models.Index(fields=["claim", "at"], name="staffaccess_claim_at")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.what} {self.claim_id} {self.at:%Y-%m-%d %H:%M}"
