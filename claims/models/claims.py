"""Claims, their heads of loss and evidence, offers and their items, and the review of
a disputed part."""

from __future__ import annotations

import hashlib
import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.urls import reverse
from django.utils import timezone

from claims.domain.money import format_money
from claims.domain.references import (
    generate_reference,
)
from claims.domain.stages import (
    TERMINAL_STAGES,
    ItemResponse,
    ReviewState,
    Stage,
)
from claims.models.schemes import DistressBand, RegisterEntry, Scheme


class Claim(models.Model):
    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="claims")
    reference = models.CharField(max_length=13, unique=True, default=generate_reference)
    stage = models.CharField(
        max_length=32, choices=Stage.choices, default=Stage.DRAFT, db_index=True
    )
    stage_changed_at = models.DateTimeField(default=timezone.now)
    # Bumped by every service write so a stale form can say "someone changed this".
    version = models.PositiveIntegerField(default=1)

    register_entry = models.ForeignKey(
        RegisterEntry, null=True, blank=True, on_delete=models.SET_NULL, related_name="claims"
    )
    no_notice = models.BooleanField(
        default=False, help_text="The claimant said they did not get a notice: check eligibility."
    )

    full_name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    representative_name = models.CharField(max_length=200, blank=True)
    representative_reason = models.TextField(blank=True)
    what_happened = models.TextField(blank=True)
    support_needs = models.TextField(blank=True)

    class Format(models.TextChoices):
        STANDARD = "standard", "Standard email and letters"
        LARGE_PRINT = "large_print", "Large print"
        BRAILLE = "braille", "Braille"
        EASY_READ = "easy_read", "Easy read"
        OTHER_LANGUAGE = "other_language", "Another language"

    preferred_format = models.CharField(
        max_length=16, choices=Format.choices, default=Format.STANDARD
    )
    preferred_language = models.CharField(max_length=60, blank=True)
    # The claim form's pages the claimant has answered, so save-and-return knows
    # where they left off.
    answered_pages = models.JSONField(default=list, blank=True)

    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_claims",
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Where the claim was submitted from: many claims from one address is a fraud flag.
    submitted_ip = models.GenericIPAddressField(null=True, blank=True)
    # Set when claims.actions.privacy erased its personal data (retention, or a draft erased):
    # what stays is figures, stages and dates.
    personal_data_erased_at = models.DateTimeField(null=True, blank=True)
    # When claims.actions.flags last looked at this claim: flags are found just after the
    # submission commits, by a task and a sweep that picks up any claim still unchecked.
    flags_checked_at = models.DateTimeField(null=True, blank=True)
    information_due = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("triage_claim", "Triage claims"),
            ("assess_claim", "Assess claims and request information"),
            ("propose_offer", "Propose offers"),
            ("approve_offer", "Approve offers (four eyes)"),
            ("decide_review", "Decide reviews"),
            ("add_note", "Add internal notes"),
            ("view_payment_details", "See payment details"),
            ("manage_payments", "Build payment batches and mark paid or failed"),
            ("export_personal_data", "Export a claimant's data (subject access)"),
            ("erase_personal_data", "Erase the personal data of claims never submitted"),
        ]
        indexes = [
            models.Index(fields=["scheme", "stage"], name="claim_scheme_stage"),
            models.Index(fields=["assigned_to", "stage"], name="claim_assigned_stage"),
            # The caseworker workspace at scale: overdue queues, address flags, search.
            models.Index(fields=["stage", "stage_changed_at"], name="claim_stage_age"),
            models.Index(fields=["submitted_ip", "submitted_at"], name="claim_submitted_ip"),
            models.Index(fields=["scheme", "submitted_at"], name="claim_scheme_submitted"),
            models.Index(fields=["postcode"], name="claim_postcode"),
            models.Index(Upper("email"), name="claim_email_upper"),
            # The flag sweep's look-up: only claims submitted and not yet checked.
            models.Index(
                fields=["submitted_at"],
                condition=Q(submitted_at__isnull=False, flags_checked_at__isnull=True),
                name="claim_flags_unchecked",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stage__in=Stage.values), name="claim_stage_valid"),
        ]

    def __str__(self) -> str:
        return self.reference

    def get_admin_url(self) -> str:
        return reverse("admin:claims_claim_change", args=[self.pk])

    @property
    def is_terminal(self) -> bool:
        return self.stage in TERMINAL_STAGES

    def total_claimed(self) -> Decimal:
        return sum((h.amount_claimed for h in self.heads_of_loss.all()), Decimal("0.00"))


class HeadOfLoss(models.Model):
    class Category(models.TextChoices):
        UNAUTHORISED_TRANSACTIONS = "unauthorised_transactions", "Unauthorised transactions"
        BANK_CHARGES = "bank_charges", "Bank charges"
        CARD_REPLACEMENT = "card_replacement", "Card replacement or cancellation costs"
        CREDIT_MONITORING = "credit_monitoring", "Credit monitoring"
        TIME_SPENT = "time_spent", "Time spent"
        OTHER_COSTS = "other_costs", "Other out-of-pocket costs"
        DISTRESS = "distress", "Distress"

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="heads_of_loss")
    category = models.CharField(max_length=32, choices=Category.choices)
    description = models.TextField(blank=True)
    incurred_on = models.DateField(null=True, blank=True)
    hours = models.DecimalField(
        max_digits=6, decimal_places=2, null=True, blank=True, help_text="Time spent only."
    )
    amount_claimed = models.DecimalField(max_digits=12, decimal_places=2)
    # Category-specific answers, e.g. the plain choices describing distress.
    details = models.JSONField(default=dict, blank=True)
    distress_band = models.ForeignKey(
        DistressBand, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    amount_allowed = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    assessment_reason = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    assessed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "heads of loss"
        ordering = ["claim", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount_claimed__gte=0), name="head_amount_claimed_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(amount_allowed__isnull=True) | Q(amount_allowed__gte=0),
                name="head_amount_allowed_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} {format_money(self.amount_claimed)}"


def evidence_upload_to(instance: Evidence, filename: str) -> str:
    # Never the claimant's filename: a generated name under a per-claim folder.
    return f"evidence/{instance.claim_id}/{uuid.uuid4().hex}"


class Evidence(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="evidence")
    head_of_loss = models.ForeignKey(
        HeadOfLoss, null=True, blank=True, on_delete=models.SET_NULL, related_name="evidence"
    )
    # Files sent with an answer to an information request.
    message = models.ForeignKey(
        "Message", null=True, blank=True, on_delete=models.SET_NULL, related_name="evidence"
    )
    file = models.FileField(upload_to=evidence_upload_to, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "evidence"
        ordering = ["claim", "uploaded_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.size} bytes)"

    @staticmethod
    def checksum(data: bytes) -> str:
        return hashlib.sha256(data).hexdigest()


class Offer(models.Model):
    """What the scheme proposes, itemised, with an accept-by date. Versioned: a review
    that revises an offer makes a new one and keeps the old."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="offers")
    version = models.PositiveSmallIntegerField()
    total = models.DecimalField(max_digits=12, decimal_places=2)
    accept_by = models.DateField(null=True, blank=True)
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    proposed_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    made_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["claim", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "version"], name="offer_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.claim.reference} offer v{self.version}: {format_money(self.total)}"


class OfferItem(models.Model):
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="items")
    head_of_loss = models.ForeignKey(HeadOfLoss, on_delete=models.PROTECT, related_name="+")
    category = models.CharField(max_length=32, choices=HeadOfLoss.Category.choices)
    amount_claimed = models.DecimalField(max_digits=12, decimal_places=2)
    amount_offered = models.DecimalField(max_digits=12, decimal_places=2)
    reason = models.TextField(blank=True)
    # Kept with the item so four eyes still holds after a head is re-assessed.
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The distress band the amount was set in: the head's as assessed, or the one a
    # reviewer chose for a revised offer (claims.actions.reviews), which leaves the head alone.
    distress_band = models.ForeignKey(
        DistressBand, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The claimant's answer, item by item (claims.queries.partial): blank until they answer.
    response = models.CharField(max_length=10, choices=ItemResponse.choices, blank=True)
    dispute_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["offer", "id"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {format_money(self.amount_offered)}"


class Review(models.Model):
    """The review of the items a claimant disputed while accepting the rest of an offer."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="part_reviews")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="part_reviews")
    state = models.CharField(max_length=20, choices=ReviewState.choices, default=ReviewState.OPEN)
    opened_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="The reviewer's reasons, sent to the claimant.")
    revised_offer = models.OneToOneField(
        Offer, null=True, blank=True, on_delete=models.PROTECT, related_name="revises"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            # One review per offer: answering an offer twice cannot open two.
            models.UniqueConstraint(fields=["offer"], name="review_one_per_offer"),
        ]

    def __str__(self) -> str:
        return f"Review of {self.claim.reference} offer v{self.offer.version} ({self.state})"

    def disputed_items(self) -> models.QuerySet[OfferItem]:
        return self.offer.items.filter(response=ItemResponse.DISPUTED)
