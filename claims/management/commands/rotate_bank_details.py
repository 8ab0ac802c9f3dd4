"""Re-encrypt every stored bank detail under the newest of BANK_DETAILS_KEYS.

To retire a key: put a new key first in BANK_DETAILS_KEYS (keeping the old one after
it), deploy, run this command, then remove the old key. Safe to run again, and safe
while Redress is running: each chunk of rows is locked while it is rewritten.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from claims.domain import crypto
from claims.models import BankDetails

CHUNK = 500


class Command(BaseCommand):
    help = "Re-encrypt every stored bank detail under the newest key in BANK_DETAILS_KEYS."

    def handle(self, *args: Any, **options: Any) -> None:
        done = 0
        last_id = 0
        while True:
            with transaction.atomic():
                rows = list(
                    BankDetails.objects.select_for_update()
                    .filter(pk__gt=last_id)
                    .order_by("pk")
                    .only("pk", "sort_code_encrypted", "account_number_encrypted")[:CHUNK]
                )
                if not rows:
                    break
                for row in rows:
                    row.sort_code_encrypted = crypto.rotate(row.sort_code_encrypted)
                    row.account_number_encrypted = crypto.rotate(row.account_number_encrypted)
                BankDetails.objects.bulk_update(
                    rows, ["sort_code_encrypted", "account_number_encrypted"]
                )
            done += len(rows)
            last_id = rows[-1].pk
        self.stdout.write(f"Re-encrypted {done} bank details under the newest key.")
