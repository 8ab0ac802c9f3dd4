"""Load the Debenhams Flowers / Ecomnova demo: scheme, register, claims and staff.

Safe to run again: each part is topped up to what was asked for and nothing that
exists is changed, so a second run adds nothing and takes a moment.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Count

from claims.actions import demo
from claims.domain import roles
from claims.domain.stages import Stage
from claims.models import Scheme

# (username, role); None is the superuser.
DEMO_STAFF: list[tuple[str, str | None]] = [
    ("caseworker", roles.CASEWORKER),
    ("senior", roles.SENIOR_CASEWORKER),
    # A second senior caseworker, so an offer one of them assessed can be approved.
    ("senior2", roles.SENIOR_CASEWORKER),
    ("finance", roles.FINANCE_OFFICER),
    ("schemeadmin", roles.SCHEME_ADMINISTRATOR),
    ("admin", None),
]
CREDENTIALS_FILE = "demo-credentials.txt"
CREDENTIALS_HEADER = (
    "# Redress demo staff accounts, made by `manage.py load_demo`. For local use only.\n"
)


def _count(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return number


class Command(BaseCommand):
    help = (
        "Load the Debenhams Flowers / Ecomnova demo: the scheme with the real breach dates "
        "(24 February to 11 April 2017) and a notice date 30 days before today, so its "
        "claim window is open now; a synthetic register of affected people (fake names, "
        "example.com addresses); claims in every stage, made through the real services; "
        "and one staff user per role plus a superuser 'admin', with random passwords kept "
        "in VAR_DIR/demo-credentials.txt. Running it again adds only what is missing. For "
        "local use: it refuses to run unless DEBUG is on."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--register-size",
            type=_count,
            default=26000,
            help="People on the register (default 26000, the breach's size).",
        )
        parser.add_argument(
            "--claims-per-stage",
            type=_count,
            default=3,
            help="Claims in each stage (default 3).",
        )
        parser.add_argument(
            "--allow-without-debug",
            action="store_true",
            help="Run even though DEBUG is off. Demo accounts get printed passwords: never "
            "use this on a production deployment.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG and not options["allow_without_debug"]:
            raise CommandError(
                "DEBUG is off, so this may be a production deployment: load_demo would create "
                "demo staff accounts and print their passwords. Run it with DEBUG=true on a "
                "local copy, or pass --allow-without-debug if this really is a throwaway "
                "demo server."
            )
        started = time.perf_counter()
        credentials_path = Path(settings.VAR_DIR) / CREDENTIALS_FILE
        passwords = _read_credentials(credentials_path)
        known_passwords = dict(passwords)

        with transaction.atomic():
            scheme = Scheme.objects.filter(slug=demo.DEMO_SLUG).first()
            scheme_created = scheme is None
            if scheme is None:
                scheme = demo.create_demo_scheme(notice_date=demo.demo_notice_date())
            register_added = demo.fill_register(scheme, size=options["register_size"])
            users, users_created = _ensure_staff(passwords)
            claims_added = _top_up_claims(scheme, users, per_stage=options["claims_per_stage"])
            # Written before the accounts are committed: a password is never lost, and
            # one kept for an account that was rolled back is simply used next time.
            if passwords != known_passwords:
                _write_credentials(credentials_path, passwords)

        claims_total = scheme.claims.count()
        stages_with_claims = scheme.claims.order_by().values("stage").distinct().count()
        lines = [
            f"Scheme: {scheme.name} ({'created' if scheme_created else 'already there'}); "
            f"claims open {scheme.claims_open:%-d %B %Y} to {scheme.claims_close:%-d %B %Y}.",
            f"Register: {scheme.register.count():,} people ({register_added:,} added).",
            f"Claims: {claims_total:,} in {stages_with_claims} stages ({claims_added} added).",
            f"Staff: {len(users)} accounts ({users_created} added).",
            f"Done in {time.perf_counter() - started:.1f} s.",
            "",
            f"Demo staff accounts, for local use only (also in {credentials_path}):",
        ]
        for username, role in DEMO_STAFF:
            password = passwords.get(username, "(not set by load_demo: unchanged)")
            lines.append(f"  {username:<12} {password:<24} {role or 'superuser'}")
        self.stdout.write("\n".join(lines))


def _ensure_staff(passwords: dict[str, str]) -> tuple[dict[str, Any], int]:
    """The demo staff by username, and how many were created. A new account gets the
    password already in the credentials file or a new random one, added to
    `passwords`; an existing account's password is never changed."""
    user_model = get_user_model()
    groups = {group.name: group for group in Group.objects.filter(name__in=roles.ROLES)}
    missing_groups = set(roles.ROLES) - set(groups)
    if missing_groups:
        raise CommandError(f"Role groups missing: {sorted(missing_groups)}. Run migrate first.")
    users: dict[str, Any] = {}
    created = 0
    for username, role in DEMO_STAFF:
        user = user_model.objects.filter(username=username).first()
        if user is None:
            password = passwords.setdefault(username, secrets.token_urlsafe(18))
            user = user_model.objects.create_user(
                username=username, email=f"{username}@redress.test", password=password
            )
            created += 1
        flags = {"is_staff": True, "is_active": True, "is_superuser": role is None}
        if any(getattr(user, name) != value for name, value in flags.items()):
            for name, value in flags.items():
                setattr(user, name, value)
            user.save(update_fields=list(flags))
        if role is not None:
            user.groups.add(groups[role])
        users[username] = user
    return users, created


def _top_up_claims(scheme: Scheme, users: dict[str, Any], *, per_stage: int) -> int:
    """Claims until every stage holds `per_stage`, each with contact details from the
    register (the first entries are the awkward names). Every third claimant says they
    had no notice, so is not matched to their entry; every other claim is assessed by
    a senior caseworker, so its offer needs the other senior's approval."""
    in_stage = {
        row["stage"]: row["n"]
        for row in scheme.claims.order_by().values("stage").annotate(n=Count("id"))
    }
    wanted = [stage for stage in Stage for _ in range(max(0, per_stage - in_stage.get(stage, 0)))]
    if not wanted:
        return 0
    offset = scheme.claims.count()
    entries = list(scheme.register.order_by("pk")[offset : offset + len(wanted)])
    if len(entries) < len(wanted):
        # A register too small for one claimant each: people claim again from the start.
        entries += list(scheme.register.order_by("pk")[: len(wanted) - len(entries)])
    if not entries:
        raise CommandError("Claims take their claimants from the register: give it people.")
    by_caseworker = demo.ClaimStaff(
        caseworker=users["caseworker"], senior=users["senior"], finance=users["finance"]
    )
    by_senior = demo.ClaimStaff(
        caseworker=users["senior"], senior=users["senior2"], finance=users["finance"]
    )
    for number, stage in enumerate(wanted, start=offset):
        entry = entries[(number - offset) % len(entries)]
        no_notice = number % 3 == 2
        claimant = {
            "full_name": entry.full_name,
            "email": entry.email,
            "address": entry.address,
            "postcode": entry.postcode,
            # Ofcom's range for drama: numbers that ring no one.
            "phone": f"07700 900{number % 1000:03d}",
            "register_entry_id": None if no_notice else entry.pk,
            "no_notice": no_notice,
        }
        staff = by_senior if number % 2 else by_caseworker
        demo.advance_claim_to(stage, scheme=scheme, staff=staff, claimant=claimant)
    return len(wanted)


def _read_credentials(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    passwords = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            username, _, password = line.partition(" ")
            passwords[username] = password.strip()
    return passwords


def _write_credentials(path: Path, passwords: dict[str, str]) -> None:
    # Created private (not chmod-ed after writing), so the passwords are never readable
    # by others, even for a moment; replaced whole, so a crash leaves the old file.
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(CREDENTIALS_HEADER)
        file.writelines(f"{username} {password}\n" for username, password in passwords.items())
    os.replace(partial, path)
