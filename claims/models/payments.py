"""Bank details, payment batches and payments."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from claims.domain.money import format_money
from claims.models.claims import Claim, Offer
from claims.models.schemes import Scheme


class BankDetails(models.Model):
    """Where a claimant wants to be paid. Sort code and account number are encrypted
    at rest (claims.domain.crypto) and only their last digits are kept readable."""

    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, related_name="bank_details")
    account_name = models.CharField(max_length=140)
    sort_code_encrypted = models.BinaryField()
    account_number_encrypted = models.BinaryField()
    account_number_last4 = models.CharField(max_length=4)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    # The address the claimant had when they first gave these details: a change is
    # told there too, in case the claim's address was changed by someone else.
    email_when_given = models.EmailField(blank=True)
    # Changed details are the classic payment-diversion fraud: no payment is made to
    # them until a caseworker has confirmed the change with the claimant.
    on_hold = models.BooleanField(default=False)
    changed_at = models.DateTimeField(null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "bank details"

    def __str__(self) -> str:
        return f"Account ••••{self.account_number_last4}"

    @property
    def masked_account_number(self) -> str:
        return f"••••{self.account_number_last4}"


class PaymentBatch(models.Model):
    """Payments a finance officer sends to the bank in one file (claims.actions.payments). Open
    while any of its payments is pending; closed once each is marked paid or failed."""

    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    scheme = models.ForeignKey(Scheme, on_delete=models.PROTECT, related_name="payment_batches")
    state = models.CharField(max_length=8, choices=State.choices, default=State.OPEN)
    total = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0.00"))
    count = models.PositiveIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    file_downloaded_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "payment batches"

    def __str__(self) -> str:
        return f"Payment batch {self.pk} ({self.get_state_display().lower()})"


class Payment(models.Model):
    """One payment of one claim's accepted offer, in one batch. A failed payment is kept
    and a new one made once the claimant gives new details; the constraints make a
    claim's offer paid at most once and a claim pending in at most one batch."""

    class State(models.TextChoices):
        PENDING = "pending", "Pending"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="payments")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="payments")
    batch = models.ForeignKey(PaymentBatch, on_delete=models.PROTECT, related_name="payments")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    state = models.CharField(max_length=8, choices=State.choices, default=State.PENDING)
    # The account it was sent to, as everywhere only its last four digits.
    account_last4 = models.CharField(max_length=4)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["batch", "id"]
        indexes = [models.Index(fields=["claim", "state"], name="payment_claim_state")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_positive"),
            models.UniqueConstraint(
                fields=["claim"],
                condition=Q(state="pending"),
                name="payment_one_pending_per_claim",
            ),
            models.UniqueConstraint(
                fields=["offer"],
                condition=Q(state__in=["pending", "paid"]),
                name="payment_offer_paid_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim.reference}: {format_money(self.amount)} ({self.state})"
