from __future__ import annotations

from django.db import models


class BareSubmission(models.Model):
    """One row per bare POST: the baseline's whole write. Its table is made by
    `migrate --run-syncdb` (the app has no migrations) in the bench's own database."""

    full_name = models.CharField(max_length=200)
    email = models.EmailField()
    phone = models.CharField(max_length=40, blank=True)
    address = models.TextField()
    postcode = models.CharField(max_length=10)
    what_happened = models.TextField()
    category = models.CharField(max_length=40)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    incurred_on = models.DateField()
    hours = models.DecimalField(max_digits=6, decimal_places=2)
    preferred_format = models.CharField(max_length=20)
    statement_of_truth = models.BooleanField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.full_name} ({self.created_at:%Y-%m-%d %H:%M:%S})"
