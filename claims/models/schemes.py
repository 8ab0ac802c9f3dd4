"""Schemes, their distress bands and the register of people affected."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from claims.domain.money import format_money

LETTER_LOGO_MAX_BYTES = 2 * 1024 * 1024


def letter_logo_upload_to(instance: Scheme, filename: str) -> str:
    return f"letterheads/{uuid.uuid4().hex}"


def validate_letter_logo(upload: object) -> None:
    """A letterhead logo is a PNG or JPEG by its content, and decodes completely."""
    from django.core.exceptions import ValidationError
    from PIL import Image, UnidentifiedImageError

    size = getattr(upload, "size", 0) or 0
    if size > LETTER_LOGO_MAX_BYTES:
        raise ValidationError("The logo must be at most 2 MB.")
    try:
        upload.seek(0)  # type: ignore[attr-defined]
        with Image.open(upload) as image:  # type: ignore[arg-type]
            kind = image.format
            image.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise ValidationError("The logo must be a PNG or JPEG image.") from None
    finally:
        upload.seek(0)  # type: ignore[attr-defined]
    if kind not in {"PNG", "JPEG"}:
        raise ValidationError("The logo must be a PNG or JPEG image.")


class Scheme(models.Model):
    """One compensation programme for one incident."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    organisation = models.CharField(max_length=200, help_text="Who lost the data.")
    incident_summary = models.TextField(help_text="What happened, in plain English.")
    breach_start = models.DateField()
    breach_end = models.DateField()
    notice_date = models.DateField(help_text="When affected people were told.")
    claims_open = models.DateField()
    claims_close = models.DateField()
    lost_time_hourly_rate = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )
    lost_time_hours_cap = models.DecimalField(
        max_digits=6, decimal_places=2, help_text="Hours allowed without evidence."
    )
    lost_time_hours_cap_with_evidence = models.DecimalField(max_digits=6, decimal_places=2)
    offer_approval_threshold = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="Offers above this need a senior caseworker who did not assess the claim.",
    )
    cure_window_working_days = models.PositiveSmallIntegerField(default=20)
    first_reminder_working_days = models.PositiveSmallIntegerField(default=10)
    second_reminder_working_days = models.PositiveSmallIntegerField(default=17)
    accept_by_working_days = models.PositiveSmallIntegerField(default=20)
    # Privacy (claims.actions.privacy): personal data and files of a closed claim are erased
    # this many years after it closed; figures, stages and dates are kept.
    retention_years = models.PositiveSmallIntegerField(
        default=6,
        validators=[MinValueValidator(1)],
        help_text="Years after a claim closes before its personal data and files are erased.",
    )
    fund_amount = models.DecimalField(max_digits=14, decimal_places=2)
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_email = models.EmailField(blank=True)
    # Letters (claims.delivery.letters): the letterhead's logo and the address the scheme
    # writes from.
    letter_logo = models.FileField(
        upload_to=letter_logo_upload_to,
        max_length=200,
        blank=True,
        validators=[validate_letter_logo],
        help_text="PNG or JPEG, at most 2 MB, printed at the top of every letter.",
    )
    letter_return_address = models.TextField(
        blank=True, help_text="Printed on letters above the claimant's address, one line each."
    )
    # Pro-rata mode (claims.queries.prorata): capped categories share a fixed pool.
    pro_rata = models.BooleanField(
        default=False,
        help_text="Share a fixed pool between every claim's capped categories when the "
        "amounts allowed in them add up to more than the pool.",
    )
    pro_rata_categories = models.JSONField(
        default=list, blank=True, help_text="The heads of loss whose awards share the pool."
    )
    pro_rata_pool = models.DecimalField(
        max_digits=14,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
        help_text="The part of the fund the capped categories may cost in all.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [
            ("configure_scheme", "Configure schemes"),
            ("import_register", "Import the register"),
            ("send_notices", "Send notices"),
            ("view_reports", "See reports"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(breach_end__gte=models.F("breach_start")),
                name="scheme_breach_dates_in_order",
            ),
            models.CheckConstraint(
                condition=Q(claims_close__gt=models.F("claims_open")),
                name="scheme_claim_window_in_order",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def is_open_on(self, day: dt.date) -> bool:
        return self.claims_open <= day <= self.claims_close


class DistressBand(models.Model):
    """An award band for distress, e.g. moderate £250–£750."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="distress_bands")
    name = models.CharField(max_length=40)
    description = models.CharField(max_length=300, blank=True)
    lower = models.DecimalField(max_digits=10, decimal_places=2)
    upper = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, help_text="Empty: no upper limit."
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["scheme", "position"]
        constraints = [
            models.UniqueConstraint(fields=["scheme", "name"], name="distress_band_unique_name"),
        ]

    def __str__(self) -> str:
        upper = format_money(self.upper) if self.upper is not None else "and above"
        return f"{self.name}: {format_money(self.lower)} – {upper}"


class RegisterEntry(models.Model):
    """A person the organisation knows was affected, with the code sent in their notice."""

    scheme = models.ForeignKey(Scheme, on_delete=models.CASCADE, related_name="register")
    notice_code = models.CharField(max_length=14)
    full_name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    address = models.TextField(blank=True)
    postcode = models.CharField(max_length=10)
    external_id = models.CharField(
        max_length=64, blank=True, help_text="The organisation's own customer id, if any."
    )
    notice_sent_at = models.DateTimeField(null=True, blank=True)
    # The last notice that could not be sent (a malformed or refused address): the
    # campaign that failed does not try again, a later campaign does.
    notice_failed_at = models.DateTimeField(null=True, blank=True)
    notice_error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name_plural = "register entries"
        constraints = [
            models.UniqueConstraint(
                fields=["scheme", "notice_code"], name="register_unique_notice_code"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.notice_code})"
