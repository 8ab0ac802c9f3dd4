from __future__ import annotations

import datetime as dt
import io
import itertools
import stat
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from claims.actions import demo
from claims.domain import roles
from claims.domain.references import normalise_notice_code
from claims.domain.stages import Stage
from claims.management.commands.load_demo import CREDENTIALS_FILE, DEMO_STAFF
from claims.models import (
    AuditEvent,
    Claim,
    DistressBand,
    Offer,
    RegisterEntry,
    Scheme,
    StatusUpdate,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def local(settings: Any, tmp_path: Path) -> Path:
    """A local run: DEBUG on, VAR_DIR a temporary folder, quick password hashing."""
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    return tmp_path


def load_demo(**options: Any) -> str:
    out = io.StringIO()
    call_command(
        "load_demo",
        register_size=options.pop("register_size", 200),
        claims_per_stage=options.pop("claims_per_stage", 2),
        stdout=out,
        **options,
    )
    return out.getvalue()


def credentials(var_dir: Path) -> dict[str, str]:
    lines = (var_dir / CREDENTIALS_FILE).read_text().splitlines()
    return dict(line.split(" ", 1) for line in lines if not line.startswith("#"))


def row_counts() -> dict[str, int]:
    models = [Scheme, DistressBand, RegisterEntry, Claim, AuditEvent, StatusUpdate, Offer, User]
    return {model.__name__: model._default_manager.count() for model in models}


def test_load_demo_creates_the_debenhams_flowers_scheme_with_the_real_breach_dates(local):
    load_demo()

    scheme = Scheme.objects.get(slug=demo.DEMO_SLUG)
    today = timezone.localdate()
    assert scheme.breach_start == dt.date(2017, 2, 24)
    assert scheme.breach_end == dt.date(2017, 4, 11)
    assert scheme.notice_date == today - dt.timedelta(days=30)
    assert scheme.is_open_on(today)
    assert [band.name for band in scheme.distress_bands.all()] == [
        name for name, *_ in demo.DISTRESS_BANDS
    ]


def test_the_register_has_the_requested_size_and_unique_well_formed_notice_codes(local):
    load_demo(register_size=200)

    codes = list(RegisterEntry.objects.values_list("notice_code", flat=True))
    assert len(codes) == 200
    assert len(set(codes)) == 200
    assert all(normalise_notice_code(code) == code for code in codes)


def test_the_register_is_synthetic_people_at_example_addresses(local):
    load_demo(register_size=200)

    for entry in RegisterEntry.objects.all():
        assert entry.full_name and entry.postcode and entry.address
        assert entry.email.rsplit("@", 1)[1] in demo.EXAMPLE_DOMAINS


def test_the_register_is_the_same_people_on_every_fresh_load(db):
    first = demo.create_demo_scheme(overrides={"slug": "first"})
    second = demo.create_demo_scheme(overrides={"slug": "second"})

    demo.fill_register(first, size=50)
    demo.fill_register(second, size=50)

    def people(scheme: Scheme) -> list[tuple[str, str, str]]:
        return list(scheme.register.order_by("pk").values_list("full_name", "email", "address"))

    assert people(first) == people(second)


def test_every_stage_has_a_claim(local):
    load_demo(claims_per_stage=2)

    for stage in Stage:
        assert Claim.objects.filter(stage=stage).count() == 2, stage


def test_every_claims_audit_trail_leads_to_its_stage_with_a_status_update_per_move(local):
    load_demo()

    for claim in Claim.objects.all():
        moves = [event for event in claim.events.all() if event.to_stage]
        assert moves[0].action == "start"
        assert moves[-1].to_stage == claim.stage
        for before, after in itertools.pairwise(moves):
            assert after.from_stage == before.to_stage
            assert after.status_updates.get().stage == after.to_stage


def test_claimants_come_from_the_register_including_awkward_names(local):
    load_demo()

    matched = Claim.objects.filter(register_entry__isnull=False)
    unmatched = Claim.objects.filter(no_notice=True)
    assert matched.exists()
    assert unmatched.exists()
    assert not unmatched.filter(register_entry__isnull=False).exists()
    for claim in matched:
        assert (claim.full_name, claim.email) == (
            claim.register_entry.full_name,
            claim.register_entry.email,
        )
    names = set(Claim.objects.values_list("full_name", flat=True))
    assert {"Zoë O'Brien", "Nguyễn Văn An"} <= names
    assert names <= set(RegisterEntry.objects.values_list("full_name", flat=True))


def test_some_offers_wait_for_a_senior_who_did_not_assess_them(local):
    load_demo(claims_per_stage=2)

    pending = Offer.objects.filter(claim__stage=Stage.OFFER_PENDING_APPROVAL)
    assert {offer.proposed_by.username for offer in pending} == {"caseworker", "senior"}


def test_there_is_one_staff_user_per_role_in_its_group_and_a_superuser(local):
    load_demo()

    for username, role in DEMO_STAFF:
        user = User.objects.get(username=username)
        assert user.is_staff and user.is_active
        if role is None:
            assert user.is_superuser
        else:
            assert not user.is_superuser
            assert list(user.groups.values_list("name", flat=True)) == [role]
    assert set(roles.ROLES) <= {role for _, role in DEMO_STAFF}
    assert User.objects.filter(username="senior2", groups__name=roles.SENIOR_CASEWORKER).exists()


def test_staff_passwords_are_random_kept_in_a_private_file_and_printed(local):
    output = load_demo()

    passwords = credentials(local)
    assert set(passwords) == {username for username, _ in DEMO_STAFF}
    assert len(set(passwords.values())) == len(passwords)
    for username, password in passwords.items():
        assert User.objects.get(username=username).check_password(password)
        assert password in output
    assert "for local use only" in output
    assert stat.S_IMODE((local / CREDENTIALS_FILE).stat().st_mode) == 0o600


def test_running_it_twice_creates_nothing_new_and_keeps_the_passwords(local):
    load_demo()
    counts, passwords = row_counts(), credentials(local)
    hashes = dict(User.objects.values_list("username", "password"))

    output = load_demo()

    assert row_counts() == counts
    assert credentials(local) == passwords
    assert dict(User.objects.values_list("username", "password")) == hashes
    assert "(0 added)" in output


def test_a_rerun_with_a_bigger_register_and_more_claims_adds_only_the_difference(local):
    load_demo(register_size=100, claims_per_stage=1)

    load_demo(register_size=150, claims_per_stage=2)

    assert RegisterEntry.objects.count() == 150
    assert Claim.objects.count() == 2 * len(Stage)


def test_a_fresh_database_gets_the_passwords_already_in_the_credentials_file(local):
    kept = {username: f"kept-password-of-{username}" for username, _ in DEMO_STAFF}
    (local / CREDENTIALS_FILE).write_text(
        "".join(f"{username} {password}\n" for username, password in kept.items())
    )

    load_demo()

    for username, password in kept.items():
        assert User.objects.get(username=username).check_password(password)
    assert credentials(local) == kept


def test_an_existing_account_keeps_its_own_password(local):
    User.objects.create_user("admin", password="my own password 42")

    output = load_demo()

    assert User.objects.get(username="admin").check_password("my own password 42")
    assert "admin" not in credentials(local)
    assert "unchanged" in output


def test_it_refuses_to_run_without_debug(settings, tmp_path):
    settings.DEBUG = False
    settings.VAR_DIR = tmp_path

    with pytest.raises(CommandError, match="DEBUG is off") as refusal:
        load_demo()

    assert "--allow-without-debug" in str(refusal.value)
    assert not Scheme.objects.exists()
    assert not User.objects.exists()
    assert not (tmp_path / CREDENTIALS_FILE).exists()


def test_it_runs_without_debug_only_when_told_to(settings, tmp_path):
    settings.DEBUG = False
    settings.VAR_DIR = tmp_path
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

    load_demo(register_size=20, claims_per_stage=1, allow_without_debug=True)

    assert Scheme.objects.filter(slug=demo.DEMO_SLUG).exists()
