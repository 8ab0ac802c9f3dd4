"""Money out at the demo scheme's scale: N accepted claims with bank details (default
2,300, the expected claims of the Debenhams Flowers scheme), then, each timed:

1. `manage.py rotate_bank_details` re-encrypting every stored value under a new key;
2. building one payment batch of every claim (`payment_batch_build`);
3. the payment file for that batch (`payment_file`, with its audit events);
4. marking 200 payments paid, one service call each;
5. the fund figures and the pro-rata projection the dashboard shows.

Runs on a fresh SQLite database in a temporary directory (or on BENCH_DATABASE_URL,
whose name must contain "bench"); the claims are written straight to the tables, as
the bench is about the payment services, not the claim journey. Prints figures; not
a pass/fail test.

    .venv/bin/python bench/payments.py [--claims 2300]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import os
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=2300)
    args = parser.parse_args()

    from cryptography.fernet import Fernet

    var_dir = tempfile.mkdtemp(prefix="redress-bench-payments-")
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    os.environ.update(
        REDRESS_VAR_DIR=var_dir,
        DEBUG="true",
        BANK_DETAILS_KEYS=old_key,
        DJANGO_SETTINGS_MODULE="config.settings",
        CELERY_BROKER_URL="filesystem://",
    )
    url = os.environ.get("BENCH_DATABASE_URL", "")
    if url:
        if "bench" not in url.rsplit("/", 1)[-1]:
            sys.exit("BENCH_DATABASE_URL's database name must contain 'bench'.")
        os.environ["DATABASE_URL"] = url
    else:
        os.environ.pop("DATABASE_URL", None)
    os.environ.pop("REDIS_URL", None)

    import django

    django.setup()
    import logging

    logging.disable(logging.WARNING)
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    print(f"Database: {connection.vendor}; {args.claims:,} accepted claims")
    _fill(args.claims)

    from claims.actions import payments
    from claims.core import Actor
    from claims.domain import roles
    from claims.models import Payment
    from claims.queries.funds import fund_summary
    from claims.queries.prorata import pro_rata_projection

    finance = _user("bench-finance", roles.FINANCE_OFFICER)
    actor = Actor.staff(finance)
    from claims.models import Scheme

    scheme = Scheme.objects.get(slug="bench")

    settings.BANK_DETAILS_KEYS = [new_key, old_key]
    started = time.perf_counter()
    call_command("rotate_bank_details", stdout=io.StringIO())
    rotate = time.perf_counter() - started
    settings.BANK_DETAILS_KEYS = [new_key]
    print(f"1. rotate_bank_details        {rotate:7.2f} s  ({args.claims / rotate:,.0f} claims/s)")

    started = time.perf_counter()
    batch = payments.payment_batch_build(scheme_id=scheme.pk, actor=actor)
    build = time.perf_counter() - started
    print(
        f"2. payment_batch_build         {build:7.2f} s  ({batch.count:,} payments, "
        f"{batch.count / build:,.0f}/s, total £{batch.total:,.2f})"
    )

    started = time.perf_counter()
    _, text = payments.payment_file(batch_id=batch.pk, actor=actor)
    file_seconds = time.perf_counter() - started
    print(
        f"3. payment_file                {file_seconds:7.2f} s  ({len(text.splitlines()):,} rows, "
        f"{len(text) / 1024:,.0f} KiB)"
    )

    ids = list(batch.payments.order_by("id").values_list("pk", flat=True)[:200])
    started = time.perf_counter()
    for payment_id in ids:
        payments.payment_mark_paid(payment_id=payment_id, actor=actor)
    mark = time.perf_counter() - started
    print(
        f"4. payment_mark_paid × {len(ids)}     {mark:7.2f} s  "
        f"({mark / len(ids) * 1000:.1f} ms each)"
    )
    assert Payment.objects.filter(state="paid").count() == len(ids)

    started = time.perf_counter()
    fund = fund_summary(scheme)
    fund_seconds = time.perf_counter() - started
    Scheme.objects.filter(pk=scheme.pk).update(
        pro_rata=True, pro_rata_pool=Decimal("50000.00"), pro_rata_categories=["distress"]
    )
    scheme.refresh_from_db()
    started = time.perf_counter()
    projection = pro_rata_projection(scheme)
    projection_seconds = time.perf_counter() - started
    print(
        f"5. fund_summary {fund_seconds * 1000:.0f} ms (paid £{fund.paid:,.2f}, committed "
        f"£{fund.committed:,.2f}); pro_rata_projection {projection_seconds * 1000:.0f} ms "
        f"({projection.percent}% of £{projection.capped_total:,.2f})"
    )


def _user(username: str, role: str):  # type: ignore[no-untyped-def]
    from django.contrib.auth.models import Group, User

    user = User.objects.create(username=username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return User.objects.get(pk=user.pk)


def _fill(count: int) -> None:
    """Accepted claims, each with a distress award of £35.00 accepted in full and bank
    details, written straight to the tables."""
    from django.contrib.auth.models import User
    from django.db import transaction
    from django.utils import timezone

    from claims.actions.demo import create_demo_scheme
    from claims.domain import crypto
    from claims.domain.stages import ItemResponse, Stage
    from claims.models import BankDetails, Claim, HeadOfLoss, Offer, OfferItem

    now = timezone.now()
    with transaction.atomic():
        scheme = create_demo_scheme(overrides={"slug": "bench", "name": "Bench scheme"})
        proposer = User.objects.create(username="bench-caseworker", is_staff=True)
        claims = Claim.objects.bulk_create(
            Claim(
                scheme=scheme,
                stage=Stage.ACCEPTED,
                full_name=f"Claimant {n}",
                email=f"claimant{n}@example.test",
                submitted_at=now - dt.timedelta(days=30),
            )
            for n in range(count)
        )
        claims = list(Claim.objects.filter(scheme=scheme).order_by("pk"))
        heads = HeadOfLoss.objects.bulk_create(
            HeadOfLoss(
                claim=claim,
                category=HeadOfLoss.Category.DISTRESS,
                amount_claimed=Decimal("0.00"),
                amount_allowed=Decimal("35.00"),
            )
            for claim in claims
        )
        heads = list(HeadOfLoss.objects.filter(claim__scheme=scheme).order_by("claim_id"))
        Offer.objects.bulk_create(
            Offer(claim=claim, version=1, total=Decimal("35.00"), proposed_by=proposer, made_at=now)
            for claim in claims
        )
        offers = list(Offer.objects.filter(claim__scheme=scheme).order_by("claim_id"))
        OfferItem.objects.bulk_create(
            OfferItem(
                offer=offer,
                head_of_loss=head,
                category=head.category,
                amount_claimed=head.amount_claimed,
                amount_offered=Decimal("35.00"),
                response=ItemResponse.ACCEPTED,
            )
            for offer, head in zip(offers, heads, strict=True)
        )
        BankDetails.objects.bulk_create(
            BankDetails(
                claim=claim,
                account_name=claim.full_name,
                sort_code_encrypted=crypto.encrypt("309457"),
                account_number_encrypted=crypto.encrypt(f"{10_000_000 + n:08d}"),
                account_number_last4=f"{10_000_000 + n:08d}"[-4:],
                email_when_given=claim.email,
            )
            for n, claim in enumerate(claims)
        )


if __name__ == "__main__":
    main()
