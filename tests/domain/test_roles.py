"""Each role holds exactly the rights of DESIGN.md: no more, no less."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from claims.actions import casework
from claims.core import Actor, ClaimError
from claims.domain import roles
from tests.support.factories import claim_in_stage, staff

ACTIONS = {
    "triage_claim",
    "assess_claim",
    "propose_offer",
    "add_note",
    "approve_offer",
    "decide_review",
    "view_payment_details",
    "manage_payments",
    "configure_scheme",
    "import_register",
    "send_notices",
    "view_reports",
}
CASEWORKER = {"triage_claim", "assess_claim", "propose_offer", "add_note"}
EXPECTED = {
    roles.CASEWORKER: CASEWORKER,
    roles.SENIOR_CASEWORKER: CASEWORKER | {"approve_offer", "decide_review"},
    roles.FINANCE_OFFICER: {"view_payment_details", "manage_payments"},
    roles.SCHEME_ADMINISTRATOR: {
        "configure_scheme",
        "import_register",
        "send_notices",
        "view_reports",
    },
}


@pytest.mark.django_db
@pytest.mark.parametrize("role", roles.ROLES)
def test_role_holds_exactly_its_actions(role):
    codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
    assert codenames & ACTIONS == EXPECTED[role]


@pytest.mark.django_db
@pytest.mark.parametrize("role", roles.ROLES)
def test_no_role_may_edit_or_delete_claims_or_their_history_directly(role):
    codenames = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
    for model in ("claim", "auditevent", "statusupdate", "offer", "headofloss", "internalnote"):
        assert not codenames & {f"add_{model}", f"change_{model}", f"delete_{model}"}, model


@pytest.mark.django_db
def test_only_the_scheme_administrator_configures_schemes(scheme_admin, caseworker, senior):
    assert scheme_admin.has_perm("claims.change_scheme")
    assert not caseworker.has_perm("claims.change_scheme")
    assert not senior.has_perm("claims.change_scheme")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (roles.CASEWORKER, True),
        (roles.SENIOR_CASEWORKER, True),
        (roles.FINANCE_OFFICER, False),
        (roles.SCHEME_ADMINISTRATOR, False),
    ],
)
def test_internal_notes_are_for_caseworkers(role, allowed, people):
    claim = claim_in_stage("submitted", people=people)
    actor = Actor.staff(staff(role))

    if allowed:
        note = casework.note_add(claim_id=claim.pk, actor=actor, text="Called the claimant")
        assert note.text == "Called the claimant"
        assert claim.events.filter(action="note").count() == 1
    else:
        with pytest.raises(ClaimError) as refused:
            casework.note_add(claim_id=claim.pk, actor=actor, text="Called the claimant")
        assert refused.value.code == "forbidden"
        assert not claim.notes.exists()
