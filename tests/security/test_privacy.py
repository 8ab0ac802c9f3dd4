"""Privacy: the retention schedule (with its dry run), subject access exports and the
erasure of drafts; each recorded in the claim's history."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import zipfile
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from claims import core
from claims.actions import privacy, submission
from claims.core import Actor
from claims.delivery import tasks
from claims.domain import roles
from claims.domain.stages import LetterKind, Stage
from claims.models import (
    AuditEvent,
    BankDetails,
    Claim,
    Evidence,
    HeadOfLoss,
    Letter,
    Message,
    StaffAccess,
    StatusUpdate,
)
from tests.support.claimant import fill_draft, start_claim
from tests.support.factories import RegisterEntryFactory, SchemeFactory, claim_in_stage, staff
from tests.support.hostile import pdf

pytestmark = pytest.mark.django_db


def with_files(claim: Claim) -> Claim:
    head = claim.heads_of_loss.exclude(category=HeadOfLoss.Category.DISTRESS).first()
    evidence = Evidence(
        claim=claim, head_of_loss=head, original_name="statement march.pdf",
        content_type="application/pdf", size=len(pdf()), sha256="e" * 64,
    )  # fmt: skip
    evidence.file.save("x.pdf", ContentFile(pdf()), save=True)
    letter = Letter(
        claim=claim, kind=LetterKind.ACKNOWLEDGEMENT, version=1, size=9, sha256="f" * 64,
        template_version="t",
    )  # fmt: skip
    letter.file.save("x.pdf", ContentFile(b"%PDF-1.4 l"), save=True)
    Message.objects.create(claim=claim, direction="from_claimant", body="My GP letter attached")
    StatusUpdate.objects.create(
        claim=claim, kind="bank_details_changed", stage=claim.stage, recipient="old@example.com"
    )
    return claim


def closed_years_ago(years: float, people, scheme=None, stage=Stage.WITHDRAWN) -> Claim:
    claim = with_files(claim_in_stage(Stage.SUBMITTED, people=people, scheme=scheme))
    entry = RegisterEntryFactory(scheme=claim.scheme)
    Claim.objects.filter(pk=claim.pk).update(
        stage=stage,
        register_entry=entry,
        stage_changed_at=timezone.now() - dt.timedelta(days=365.25 * years),
    )
    claim.refresh_from_db()
    return claim


def stored_files(claim: Claim) -> list[str]:
    root = settings.MEDIA_ROOT
    return [str(p) for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_a_dry_run_reports_what_is_due_and_changes_nothing(people, capsys):
    due = closed_years_ago(7, people)
    not_yet = closed_years_ago(5, people)
    files_before = stored_files(due)

    call_command("retention", "--dry-run")
    out = capsys.readouterr().out
    lines = tasks.retention_report()

    assert due.reference in out and not_yet.reference not in out
    assert "would erase 1 closed claim(s)" in out and "2 file(s)" in out
    assert any(due.reference in line for line in lines)
    due.refresh_from_db()
    assert due.full_name and due.personal_data_erased_at is None
    assert stored_files(due) == files_before
    assert not AuditEvent.objects.filter(action="retention_erased").exists()


def test_the_retention_run_erases_personal_data_and_files_and_keeps_figures(
    people, django_capture_on_commit_callbacks
):
    claim = closed_years_ago(7, people)
    amounts = list(claim.heads_of_loss.order_by("pk").values_list("amount_claimed", flat=True))
    paths = [claim.evidence.get().file.path, claim.letters.get().file.path]
    open_claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    Claim.objects.filter(pk=open_claim.pk).update(
        stage_changed_at=timezone.now() - dt.timedelta(days=3650)
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.retention_run() == 1

    claim.refresh_from_db()
    assert (claim.full_name, claim.email, claim.address, claim.postcode) == ("", "", "", "")
    assert claim.what_happened == "" and claim.submitted_ip is None
    assert claim.personal_data_erased_at is not None
    assert claim.stage == Stage.WITHDRAWN and claim.submitted_at is not None
    assert list(claim.heads_of_loss.order_by("pk").values_list("amount_claimed", flat=True)) == (
        amounts
    )
    assert not claim.heads_of_loss.exclude(description="").exists()
    assert not Evidence.objects.filter(claim=claim).exists()
    assert not any(os.path.exists(p) for p in paths)
    assert Message.objects.get(claim=claim).body == ""
    assert not claim.status_updates.exclude(recipient="").exists()
    assert claim.register_entry.full_name == "" and claim.register_entry.postcode == ""
    assert AuditEvent.objects.filter(claim=claim, action="retention_erased").count() == 1
    open_claim.refresh_from_db()
    assert open_claim.full_name  # still open: never erased, however old
    # A second run the same day erases nothing more.
    assert tasks.retention_run() == 0


def test_each_scheme_keeps_data_for_its_own_period(people):
    short = SchemeFactory(retention_years=2)
    erased = closed_years_ago(3, people, scheme=short)
    kept = closed_years_ago(3, people)  # the default six years

    privacy.retention_run(dry_run=False)

    erased.refresh_from_db()
    kept.refresh_from_db()
    assert erased.personal_data_erased_at is not None
    assert kept.personal_data_erased_at is None


def test_abandoned_drafts_are_erased_after_the_draft_period(settings):
    settings.DRAFT_RETENTION_DAYS = 30
    client = Client()
    old = start_claim(client, SchemeFactory())
    recent = start_claim(Client(), SchemeFactory())
    Claim.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=31))

    report = privacy.retention_run(dry_run=False)

    old.refresh_from_db()
    recent.refresh_from_db()
    assert report.erased == 1
    assert old.personal_data_erased_at is not None and old.email == ""
    assert recent.personal_data_erased_at is None
    assert AuditEvent.objects.get(claim=old, action="draft_erased").actor_kind == "system"
    assert client.get("/claim/what-happened/").status_code == 302  # the session opens nothing


def test_beat_runs_the_retention_job_daily_and_the_dry_run_weekly():
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["retention"]["task"] == "claims.tasks.retention_run"
    assert schedule["retention-report"]["task"] == "claims.tasks.retention_report"


# --- Subject access ---------------------------------------------------------------------


def test_a_scheme_administrator_downloads_everything_held_as_a_zip(client, people):
    claim = with_files(claim_in_stage(Stage.ACCEPTED, people=people))
    submission.bank_details_set(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), account_name="Zoe O'Brien",
        sort_code="40-12-76", account_number="31925284",
    )  # fmt: skip
    admin = staff(roles.SCHEME_ADMINISTRATOR)
    client.force_login(admin)

    page = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    response = client.post(reverse("claims_subject_access", args=[claim.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("data.json"))
    names = archive.namelist()

    assert "subject access" in page
    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/zip"
    assert data["claim"]["full_name"] == claim.full_name
    assert data["claim"]["email"] == claim.email
    assert data["messages"][0]["body"] == "My GP letter attached"
    assert len(data["heads_of_loss"]) == claim.heads_of_loss.count()
    assert Decimal(data["offers"][0]["total"]) == claim.offers.first().total
    assert data["bank_details"]["account_number"].endswith("5284")
    assert "31925284" not in archive.read("data.json").decode()
    upload = next(n for n in names if n.startswith("uploads/"))
    assert archive.read(upload) == pdf()
    assert any(n.startswith("letters/") for n in names)
    assert AuditEvent.objects.filter(claim=claim, action="subject_access_exported").count() == 1
    look = StaffAccess.objects.get(what="subject_access")
    assert (look.user, look.claim_id) == (admin, claim.pk)


@pytest.mark.parametrize("role", [roles.CASEWORKER, roles.FINANCE_OFFICER])
def test_other_roles_cannot_export_a_claimants_data(client, people, role):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    client.force_login(staff(role))

    page = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    response = client.post(reverse("claims_subject_access", args=[claim.pk]))

    assert "subject access" not in page
    assert response.status_code == 403
    assert not AuditEvent.objects.filter(action="subject_access_exported").exists()


def test_an_export_is_a_post_never_a_link(client, people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    assert client.get(reverse("claims_subject_access", args=[claim.pk])).status_code == 405


# --- Erasing drafts -----------------------------------------------------------------


def erase(client, *claims: Claim):
    """The action, then the confirmation page's "Yes" button."""
    return client.post(
        reverse("admin:claims_claim_changelist"),
        {"action": "erase_drafts", "_selected_action": [c.pk for c in claims], "post": "yes"},
        follow=True,
    )


def test_erasing_drafts_asks_first_and_erases_nothing_until_confirmed(client, people):
    claimant = Client()
    draft = start_claim(claimant, SchemeFactory())
    fill_draft(claimant)
    submitted = claim_in_stage(Stage.SUBMITTED, people=people)
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    asked = client.post(
        reverse("admin:claims_claim_changelist"),
        {"action": "erase_drafts", "_selected_action": [draft.pk, submitted.pk]},
    )

    page = asked.content.decode()
    draft.refresh_from_db()
    assert asked.status_code == 200
    assert "It cannot be undone" in page and "Yes, erase 1 draft" in page
    assert draft.reference in page and submitted.reference in page  # erased / kept
    assert draft.full_name and draft.personal_data_erased_at is None
    assert not AuditEvent.objects.filter(action="draft_erased").exists()


def test_a_scheme_administrator_erases_a_draft_and_its_files(
    client, people, django_capture_on_commit_callbacks
):
    claimant = Client()
    draft = start_claim(claimant, SchemeFactory())
    fill_draft(claimant)
    with_files(draft)
    path = draft.evidence.get().file.path
    submitted = claim_in_stage(Stage.SUBMITTED, people=people)
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    with django_capture_on_commit_callbacks(execute=True):
        page = erase(client, draft, submitted).content.decode()

    draft.refresh_from_db()
    submitted.refresh_from_db()
    assert "Erased 1 draft(s)." in page
    assert "has been submitted, so its data is kept" in page
    assert draft.full_name == "" and draft.personal_data_erased_at is not None
    assert not Evidence.objects.filter(claim=draft).exists()
    assert not os.path.exists(path)
    event = AuditEvent.objects.get(claim=draft, action="draft_erased")
    assert event.actor.groups.filter(name=roles.SCHEME_ADMINISTRATOR).exists()
    assert submitted.full_name and submitted.personal_data_erased_at is None
    assert claimant.get("/claim/check/").status_code == 302  # the claimant's session is gone
    assert not BankDetails.objects.filter(claim=draft).exists()


def test_caseworkers_cannot_erase(client, people):
    draft = start_claim(Client(), SchemeFactory())
    client.force_login(people.caseworker)

    erase(client, draft)

    draft.refresh_from_db()
    assert draft.full_name and draft.personal_data_erased_at is None
    with pytest.raises(core.ClaimError):
        privacy.claim_erase_draft(
            claim_id=draft.pk, actor=Actor.staff(people.caseworker), reason="x"
        )


def test_a_signed_in_claimant_of_an_erased_draft_sees_nothing():
    claimant = Client()
    draft = start_claim(claimant, SchemeFactory())
    privacy.claim_erase_draft(claim_id=draft.pk, actor=Actor.system(), reason="Asked by phone")

    assert claimant.get("/claim/contact/").status_code == 302
    assert claimant.get("/my-claim/").status_code == 302


def test_a_scheme_administrator_sets_the_retention_period(client):
    scheme = SchemeFactory()
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    page = client.get(reverse("admin:claims_scheme_change", args=[scheme.pk])).content.decode()

    assert 'name="retention_years"' in page and 'value="6"' in page
