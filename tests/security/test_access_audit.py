"""Access audit: every staff look at a claim's page, an evidence file or full bank
details is recorded (who, what, when), in one INSERT; supervisors list who looked."""

from __future__ import annotations

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.actions import submission
from claims.core import Actor
from claims.domain import roles
from claims.domain.stages import Stage
from claims.models import Evidence, StaffAccess
from tests.support.factories import claim_in_stage, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(people):
    return claim_in_stage(Stage.ACCEPTED, people=people)


def page(claim) -> str:
    return reverse("admin:claims_claim_change", args=[claim.pk])


def test_opening_a_claim_page_records_who_and_when_in_one_insert(client, people, claim):
    client.force_login(people.caseworker)
    client.get(page(claim))  # warm: sessions, permissions
    StaffAccess.objects.all().delete()

    with CaptureQueriesContext(connection) as queries:
        assert client.get(page(claim)).status_code == 200

    look = StaffAccess.objects.get()
    assert (look.user, look.claim_id, look.what) == (people.caseworker, claim.pk, "claim_page")
    assert look.at is not None
    writes = [q["sql"] for q in queries if "staffaccess" in q["sql"].lower()]
    assert len(writes) == 1 and writes[0].lstrip().upper().startswith("INSERT")


def test_opening_an_evidence_file_records_which_file(client, people, claim, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    item = Evidence(
        claim=claim, original_name="statement.pdf", content_type="application/pdf",
        size=8, sha256="d" * 64,
    )  # fmt: skip
    item.file.save("x.pdf", ContentFile(b"%PDF-1.4"), save=True)
    client.force_login(people.caseworker)

    client.get(reverse("admin:claims_claim_evidence", args=[claim.pk, item.pk]))

    look = StaffAccess.objects.get()
    assert (look.user, look.what, look.object_id) == (people.caseworker, "evidence", item.pk)


def test_revealing_bank_details_is_recorded(client, people, claim):
    submission.bank_details_set(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        account_name="Zoe O'Brien",
        sort_code="40-12-76",
        account_number="31925284",
    )
    client.force_login(people.finance)

    client.post(reverse("admin:claims_claim_bank_details", args=[claim.pk]))

    look = StaffAccess.objects.get()
    assert (look.user, look.what, look.claim_id) == (people.finance, "bank_details", claim.pk)


def test_a_refused_look_records_nothing(client, people, claim):
    client.force_login(staff(roles.FINANCE_OFFICER))
    client.get(reverse("admin:claims_claim_evidence", args=[claim.pk, 999]))  # no permission

    assert not StaffAccess.objects.exists()


@pytest.mark.parametrize("role", [roles.SENIOR_CASEWORKER, roles.SCHEME_ADMINISTRATOR])
def test_a_supervisor_lists_who_looked_at_a_claim(client, people, claim, role):
    other = claim_in_stage(Stage.SUBMITTED, people=people)
    client.force_login(people.caseworker)
    client.get(page(claim))
    client.get(page(other))
    supervisor = staff(role)
    client.force_login(supervisor)

    claim_page = client.get(page(claim)).content.decode()
    log = client.get(
        reverse("admin:claims_staffaccess_changelist") + f"?claim__id__exact={claim.pk}"
    )
    text = log.content.decode()

    assert "Who has looked at this claim" in claim_page
    assert log.status_code == 200
    assert people.caseworker.username in text
    assert claim.reference in text and other.reference not in text


def test_caseworkers_cannot_read_the_log_and_nobody_can_change_it(client, people, claim):
    client.force_login(people.caseworker)
    client.get(page(claim))
    look = StaffAccess.objects.get()

    listed = client.get(reverse("admin:claims_staffaccess_changelist"))
    claim_page = client.get(page(claim)).content.decode()
    from tests.support.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    deleted = client.post(
        reverse("admin:claims_staffaccess_delete", args=[look.pk]), {"post": "yes"}
    )

    assert listed.status_code == 403
    assert "Who has looked at this claim" not in claim_page
    assert deleted.status_code == 403
    assert StaffAccess.objects.filter(pk=look.pk).exists()
