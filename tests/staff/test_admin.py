from __future__ import annotations

from typing import cast

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.actions import casework, submission
from claims.core import Actor
from claims.domain import roles
from claims.domain.stages import Stage
from claims.models import AuditEvent, Claim, Evidence, HeadOfLoss, StatusUpdate
from tests.support.factories import (
    People,
    RegisterEntryFactory,
    UserFactory,
    claim_in_stage,
    draft_claim,
    staff,
)

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
CLAIMS_LIST = reverse("admin:claims_claim_changelist")


def superuser() -> User:
    return cast(User, UserFactory(is_superuser=True))


def change_url(claim: Claim) -> str:
    return reverse("admin:claims_claim_change", args=[claim.pk])


def listed(response) -> list[Claim]:
    return list(response.context["cl"].result_list)


@pytest.mark.parametrize("role", roles.ROLES)
def test_every_role_can_open_the_claims_list_and_a_claim(client, role):
    claim = claim_in_stage(Stage.ASSESSMENT)
    client.force_login(staff(role))

    changelist = client.get(CLAIMS_LIST)
    change = client.get(change_url(claim))

    assert changelist.status_code == 200
    assert claim in listed(changelist)
    assert change.status_code == 200
    assert claim.reference in change.content.decode()


def test_staff_without_a_role_cannot_open_the_claims_list(client):
    client.force_login(UserFactory())

    assert client.get(CLAIMS_LIST).status_code == 403


def test_finance_officer_cannot_open_the_register(client, finance):
    client.force_login(finance)

    assert client.get(reverse("admin:claims_registerentry_changelist")).status_code == 403


def test_scheme_administrator_can_open_the_register(client, scheme_admin):
    client.force_login(scheme_admin)

    assert client.get(reverse("admin:claims_registerentry_changelist")).status_code == 200


def test_finance_officer_sees_no_notes_or_register_entry_on_a_claim(client, caseworker, finance):
    entry = RegisterEntryFactory(notice_code="7K3M-9Q2P-4XYZ")
    claim = draft_claim(entry.scheme, register_entry_id=entry.pk)
    casework.note_add(claim_id=claim.pk, actor=Actor.staff(caseworker), text="Called the bank")

    client.force_login(caseworker)
    caseworker_page = client.get(change_url(claim)).content.decode()
    client.force_login(finance)
    finance_page = client.get(change_url(claim)).content.decode()

    assert "Called the bank" in caseworker_page
    assert entry.notice_code in caseworker_page
    assert "Called the bank" not in finance_page
    assert entry.notice_code not in finance_page


def test_claim_page_cannot_change_the_stage_even_for_a_superuser(client):
    claim = claim_in_stage(Stage.TRIAGE)
    client.force_login(superuser())

    page = client.get(change_url(claim))
    response = client.post(
        change_url(claim), {"stage": Stage.PAID, "version": claim.version + 5, "_save": "Save"}
    )

    assert page.status_code == 200
    assert 'name="stage"' not in page.content.decode()
    assert response.status_code == 403
    claim_after = Claim.objects.get(pk=claim.pk)
    assert claim_after.stage == Stage.TRIAGE
    assert claim_after.version == claim.version


def test_claims_cannot_be_added_or_deleted_in_the_admin(client):
    claim = claim_in_stage(Stage.SUBMITTED)
    client.force_login(superuser())

    add = client.get(reverse("admin:claims_claim_add"))
    delete = client.post(reverse("admin:claims_claim_delete", args=[claim.pk]), {"post": "yes"})

    assert add.status_code == 403
    assert delete.status_code == 403
    assert Claim.objects.filter(pk=claim.pk).exists()


@pytest.mark.parametrize("model", [AuditEvent, StatusUpdate])
def test_no_one_can_add_change_or_delete_the_claim_record(client, model):
    claim = claim_in_stage(Stage.TRIAGE)
    record = model.objects.filter(claim=claim).first()
    user = superuser()
    request = RequestFactory().get("/")
    request.user = user
    model_admin = admin.site._registry[model]
    name = model._meta.model_name
    client.force_login(user)

    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, record)
    assert not model_admin.has_delete_permission(request, record)
    assert client.get(reverse(f"admin:claims_{name}_add")).status_code == 403
    assert client.get(reverse(f"admin:claims_{name}_change", args=[record.pk])).status_code == 200
    assert (
        client.post(
            reverse(f"admin:claims_{name}_delete", args=[record.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert model.objects.filter(pk=record.pk).exists()


@pytest.mark.parametrize(
    "typed",
    [
        lambda ref: ref,
        lambda ref: ref.lower(),
        lambda ref: ref.replace("-", "").lower(),
        lambda ref: ref.replace("-", " "),
    ],
    ids=["as-printed", "lower-case", "no-hyphens", "spaces"],
)
def test_search_finds_a_claim_by_its_reference_however_it_is_typed(client, caseworker, typed):
    people = People()
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    other = claim_in_stage(Stage.SUBMITTED, people=people)
    client.force_login(caseworker)

    response = client.get(CLAIMS_LIST, {"q": typed(claim.reference)})

    assert listed(response) == [claim]
    assert other not in listed(response)


def test_search_finds_a_claim_by_name_email_or_postcode(client, caseworker):
    claim = claim_in_stage(Stage.SUBMITTED)
    client.force_login(caseworker)

    for term in ["O'Brien", "zoe@example", "sw1a1aa", "SW1A 1AA"]:
        assert listed(client.get(CLAIMS_LIST, {"q": term})) == [claim], term


def test_hostile_claimant_text_is_escaped_in_the_list_and_on_the_claim(client, caseworker):
    claim = draft_claim(full_name=HOSTILE)
    submission.head_of_loss_add(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        category=HeadOfLoss.Category.OTHER_COSTS,
        amount_claimed="12.00",
        description=HOSTILE,
    )
    client.force_login(caseworker)

    changelist = client.get(CLAIMS_LIST).content.decode()
    change = client.get(change_url(claim)).content.decode()

    assert HOSTILE not in changelist
    assert ESCAPED in changelist
    assert HOSTILE not in change
    assert change.count(ESCAPED) >= 2


def test_evidence_is_listed_with_a_link_to_the_authorised_view_never_to_storage(client, caseworker):
    claim = claim_in_stage(Stage.SUBMITTED)
    evidence = Evidence.objects.create(
        claim=claim,
        file=f"evidence/{claim.pk}/0123456789abcdef",
        original_name="statement-march.pdf",
        content_type="application/pdf",
        size=48213,
        sha256="a" * 64,
    )
    client.force_login(caseworker)

    for url in [change_url(claim), reverse("admin:claims_evidence_change", args=[evidence.pk])]:
        page = client.get(url).content.decode()
        assert "statement-march.pdf" in page
        assert "a" * 64 in page
        assert "47.1\xa0KB" in page
        assert evidence.file.name not in page
        assert "media-not-public" not in page
    claim_page = client.get(change_url(claim)).content.decode()
    assert reverse("admin:claims_claim_evidence", args=[claim.pk, evidence.pk]) in claim_page


def test_claims_list_makes_the_same_queries_for_one_claim_as_for_many(client, caseworker):
    client.force_login(caseworker)
    claim_in_stage(Stage.TRIAGE)
    with CaptureQueriesContext(connection) as one:
        assert client.get(CLAIMS_LIST).status_code == 200
    for _ in range(3):
        claim_in_stage(Stage.TRIAGE)  # each with its own scheme and assigned caseworker
    with CaptureQueriesContext(connection) as many:
        response = client.get(CLAIMS_LIST)

    assert len(listed(response)) == 4
    assert len(many) == len(one)


def test_every_claims_admin_page_opens_for_a_superuser(client):
    claim = claim_in_stage(Stage.PAID)
    casework.note_add(
        claim_id=claim.pk, actor=Actor.staff(staff(roles.CASEWORKER)), text="Paid by BACS"
    )
    Evidence.objects.create(
        claim=claim, file="evidence/x", original_name="a.pdf", content_type="application/pdf",
        size=10, sha256="b" * 64,
    )  # fmt: skip
    RegisterEntryFactory(scheme=claim.scheme)
    client.force_login(superuser())

    for model in admin.site._registry:
        if model._meta.app_label != "claims":
            continue
        name = model._meta.model_name
        assert client.get(reverse(f"admin:claims_{name}_changelist")).status_code == 200, name
        first = model.objects.first()
        if first is None:  # a model this test knows nothing about, with no rows
            continue
        change = reverse(f"admin:claims_{name}_change", args=[first.pk])
        assert client.get(change).status_code == 200, name


def test_scheme_administrator_adds_a_register_entry_with_a_normalised_code(client, scheme_admin):
    claim = claim_in_stage(Stage.DRAFT)
    client.force_login(scheme_admin)

    form = client.get(reverse("admin:claims_registerentry_add"))
    response = client.post(
        reverse("admin:claims_registerentry_add"),
        {
            "scheme": claim.scheme_id,
            "notice_code": "7k3m 9q2p 4xyz",
            "full_name": "Ada Lovelace",
            "postcode": "ec1a1bb",
        },
    )

    assert form.status_code == 200
    assert response.status_code == 302
    entry = claim.scheme.register.get()
    assert entry.notice_code == "7K3M-9Q2P-4XYZ"
    assert entry.postcode == "EC1A 1BB"


def test_caseworker_cannot_add_a_scheme_or_a_register_entry(client, caseworker):
    client.force_login(caseworker)

    assert client.get(reverse("admin:claims_scheme_add")).status_code == 403
    assert client.get(reverse("admin:claims_registerentry_add")).status_code == 403


def test_register_search_finds_an_entry_by_its_notice_code_typed_loosely(client, scheme_admin):
    entry = RegisterEntryFactory(notice_code="7K3M-9Q2P-4XYZ")
    RegisterEntryFactory(scheme=entry.scheme)
    client.force_login(scheme_admin)

    response = client.get(reverse("admin:claims_registerentry_changelist"), {"q": "7k3m9q2p4xyz"})

    assert list(response.context["cl"].result_list) == [entry]
