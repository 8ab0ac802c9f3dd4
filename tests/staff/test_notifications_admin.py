"""Staff see failed emails and send them again; a scheme administrator runs the notice
campaign from the admin."""

from __future__ import annotations

from typing import Any

import pytest

from claims import outbox
from claims.delivery import emails as notifications
from claims.delivery.emails import Outcome
from claims.models import NoticeCampaign, StatusUpdate
from tests.support.factories import RegisterEntryFactory, claim_in_stage

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/claims/statusupdate/"


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, tuple[Any, ...]]]:
    calls: list[tuple[str, tuple[Any, ...]]] = []
    monkeypatch.setattr(outbox, "publish", lambda name, *args: calls.append((name, args)))
    return calls


@pytest.fixture
def failed(people: Any, scheme: Any) -> StatusUpdate:
    update = claim_in_stage("submitted", scheme=scheme, people=people).status_updates.get()
    StatusUpdate.objects.filter(pk=update.pk).update(
        state="failed", attempts=6, last_error="SMTPRecipientsRefused: 550 5.1.1 No such user"
    )
    return update


def test_a_caseworker_finds_failed_emails_with_their_error(
    client: Any, caseworker: Any, failed: StatusUpdate
) -> None:
    client.force_login(caseworker)
    page = client.get(CHANGELIST, {"state__exact": "failed"}).content.decode()
    assert failed.claim.reference in page
    assert "SMTPRecipientsRefused: 550 5.1.1 No such user" in page
    assert "Send the selected failed emails again" in page


def test_send_again_from_the_admin_queues_the_email_after_the_commit(
    client: Any, caseworker: Any, failed: StatusUpdate, published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    sent = claim_in_stage("submitted").status_updates.get()
    assert notifications.status_update_deliver(sent.pk).outcome is Outcome.SENT
    client.force_login(caseworker)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            CHANGELIST,
            {"action": "send_again", "_selected_action": [failed.pk, sent.pk]},
            follow=True,
        )
    assert "1 failed email will be sent again. 1 not failed, so left as it was." in (
        response.content.decode()
    )
    failed.refresh_from_db()
    sent.refresh_from_db()
    assert (failed.state, failed.attempts) == ("pending", 0)
    assert sent.state == "sent"
    assert published == [("claims.tasks.status_update_send", (failed.pk,))]


def test_staff_without_the_right_cannot_send_again(
    client: Any, finance: Any, failed: StatusUpdate, published: list[Any]
) -> None:
    client.force_login(finance)
    response = client.post(CHANGELIST, {"action": "send_again", "_selected_action": [failed.pk]})
    assert response.status_code == 403
    failed.refresh_from_db()
    assert failed.state == "failed" and published == []


# --- The notice campaign -------------------------------------------------------

CAMPAIGNS = "/admin/claims/noticecampaign/"


def test_a_scheme_administrator_starts_a_campaign_and_sees_its_progress(
    client: Any, scheme_admin: Any, scheme: Any, published: list[Any],
    django_capture_on_commit_callbacks: Any,
) -> None:  # fmt: skip
    RegisterEntryFactory.create_batch(3, scheme=scheme)
    RegisterEntryFactory(scheme=scheme, email="")  # posted a letter instead
    client.force_login(scheme_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"{CAMPAIGNS}add/", {"scheme": scheme.pk}, follow=True)
    assert response.status_code == 200
    campaign = NoticeCampaign.objects.get(scheme=scheme)
    assert (campaign.state, campaign.total, campaign.created_by) == ("running", 3, scheme_admin)
    assert published == [("claims.tasks.notice_campaign_plan", (campaign.pk, 1))]
    NoticeCampaign.objects.filter(pk=campaign.pk).update(sent=2)
    page = client.get(CAMPAIGNS).content.decode()
    assert '<progress value="2" max="3"' in page and "2 of 3" in page


def test_a_second_campaign_for_the_same_scheme_is_refused_while_one_is_active(
    client: Any, scheme_admin: Any, scheme: Any, published: list[Any]
) -> None:
    RegisterEntryFactory(scheme=scheme)
    client.force_login(scheme_admin)
    client.post(f"{CAMPAIGNS}add/", {"scheme": scheme.pk})
    response = client.post(f"{CAMPAIGNS}add/", {"scheme": scheme.pk})
    assert "already has a notice campaign running or paused" in response.content.decode()
    assert NoticeCampaign.objects.filter(scheme=scheme).count() == 1


def test_pause_and_resume_from_the_list(
    client: Any, scheme_admin: Any, scheme: Any, published: list[Any]
) -> None:
    RegisterEntryFactory(scheme=scheme)
    client.force_login(scheme_admin)
    client.post(f"{CAMPAIGNS}add/", {"scheme": scheme.pk})
    campaign = NoticeCampaign.objects.get()
    client.post(CAMPAIGNS, {"action": "pause", "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert campaign.state == "paused"
    client.post(CAMPAIGNS, {"action": "resume", "_selected_action": [campaign.pk]})
    campaign.refresh_from_db()
    assert (campaign.state, campaign.generation) == ("running", 2)


def test_a_caseworker_cannot_open_or_start_notice_campaigns(
    client: Any, caseworker: Any, scheme: Any
) -> None:
    RegisterEntryFactory(scheme=scheme)
    client.force_login(caseworker)
    assert client.get(CAMPAIGNS).status_code == 403
    assert client.post(f"{CAMPAIGNS}add/", {"scheme": scheme.pk}).status_code == 403
    assert not NoticeCampaign.objects.exists()
