"""Which changes send letters; each letter stored once, versioned, never overwritten; and
who may download it."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from claims import outbox
from claims.actions import casework
from claims.actions.access import access_link_issue
from claims.actions.letters import letter_batch_create
from claims.actions.privacy import claim_retention_erase
from claims.delivery import letter_pdf, letter_tasks
from claims.delivery.letter_samples import sample_claim_with_offer
from claims.delivery.letters import (
    Outcome,
    letter_batch_queue,
    letter_generate,
    letter_requests_sweep,
)
from claims.domain import roles
from claims.domain.letters import AUTOMATIC_LETTERS
from claims.domain.stages import LetterKind, Stage
from claims.models import Letter, LetterBatch, LetterRequest, StaffAccess
from claims.queries.letters import claimant_letters, letter_batch_progress
from tests.support.factories import claim_in_stage, staff
from tests.support.letters import make_pending_letters, pdf_text

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.mark.parametrize(
    ("stage", "kinds"),
    [
        (Stage.SUBMITTED, [LetterKind.ACKNOWLEDGEMENT]),
        (Stage.INFORMATION_REQUESTED, [LetterKind.ACKNOWLEDGEMENT, LetterKind.INFORMATION_REQUEST]),
        (Stage.REJECTED, [LetterKind.ACKNOWLEDGEMENT, LetterKind.DECISION]),
        (Stage.OFFER_MADE, [LetterKind.ACKNOWLEDGEMENT, LetterKind.SETTLEMENT_OFFER]),
        (Stage.OFFER_PENDING_APPROVAL, [LetterKind.ACKNOWLEDGEMENT]),
        (
            Stage.PAID,
            [
                LetterKind.ACKNOWLEDGEMENT,
                LetterKind.SETTLEMENT_OFFER,
                LetterKind.PAYMENT_CONFIRMATION,
            ],
        ),
        (Stage.WITHDRAWN, []),
    ],
)
def test_stage_changes_ask_for_their_letters_in_the_same_transaction(stage, kinds, people):
    claim = claim_in_stage(stage, people=people)

    requested = list(claim.letter_requests.order_by("id").values_list("kind", flat=True))

    assert requested == kinds
    for request in claim.letter_requests.all():
        assert request.event is not None
        assert AUTOMATIC_LETTERS[request.event.action] == request.kind


def test_a_letter_request_is_queued_only_once_the_change_commits(
    people, django_capture_on_commit_callbacks, monkeypatch
):
    claim = claim_in_stage(Stage.TRIAGE, people=people)
    published = []
    monkeypatch.setattr("claims.outbox.publish", lambda name, *args: published.append((name, args)))
    from claims.core import Actor

    with django_capture_on_commit_callbacks(execute=True):
        casework.claim_transition(
            claim_id=claim.pk,
            transition="triage_reject",
            actor=Actor.staff(people.caseworker),
            reason="Not a customer",
        )

    request = claim.letter_requests.get(kind=LetterKind.DECISION)
    assert (outbox.LETTER_TASK, (request.pk,)) in published


def test_the_worker_makes_a_requested_letter_once_however_often_it_runs(people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    request = claim.letter_requests.get()

    assert letter_tasks.letter_generate.run(request.pk) == Outcome.MADE
    assert letter_tasks.letter_generate.run(request.pk) == Outcome.ALREADY_DONE

    request.refresh_from_db()
    letter = Letter.objects.get(claim=claim)
    assert request.state == LetterRequest.State.DONE and request.letter == letter
    assert (letter.kind, letter.version, letter.event_id) == (
        LetterKind.ACKNOWLEDGEMENT,
        1,
        request.event_id,
    )
    data = letter.file.read()
    assert data.startswith(b"%PDF-") and len(data) == letter.size
    assert hashlib.sha256(data).hexdigest() == letter.sha256
    assert letter.template_version == letter_pdf.renderer().template_version
    assert letter.template_version.startswith(f"{letter_pdf.LETTERS_VERSION}+")
    assert claim.reference in pdf_text(data)


def test_making_a_letter_again_adds_a_version_and_keeps_the_old_one_untouched(scheme, people):
    claim = sample_claim_with_offer(scheme=scheme, staff=people)
    [_acknowledgement, first] = make_pending_letters(claim)
    first_bytes = first.file.read()

    batch = letter_batch_create(claims=type(claim).objects.filter(pk=claim.pk), user=people.senior)
    [second] = make_pending_letters(claim)

    assert (first.kind, first.version) == (LetterKind.SETTLEMENT_OFFER, 1)
    assert (second.kind, second.version, second.offer_id) == (
        LetterKind.SETTLEMENT_OFFER,
        2,
        first.offer_id,
    )
    assert second.file.name != first.file.name
    first.refresh_from_db()
    assert first.file.read() == first_bytes
    assert hashlib.sha256(first_bytes).hexdigest() == first.sha256
    assert claim.letters.count() == 3
    assert letter_batch_progress(batch) == {
        "total": 1,
        "skipped": 0,
        "pending": 0,
        "done": 1,
        "failed": 0,
    }


def test_a_stored_letter_cannot_be_changed(people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    [letter] = make_pending_letters(claim)

    letter.template_version = "edited"
    with pytest.raises(ValueError, match="never changed"):
        letter.save()


def test_a_bulk_batch_skips_claims_with_no_letter_yet(people):
    draft = claim_in_stage(Stage.DRAFT, people=people)
    submitted = claim_in_stage(Stage.SUBMITTED, people=people)

    batch = letter_batch_create(
        claims=type(draft).objects.filter(pk__in=[draft.pk, submitted.pk]), user=people.senior
    )

    assert (batch.total, batch.skipped) == (1, 1)
    assert batch.requests.get().claim == submitted


def test_a_letter_that_cannot_be_made_is_marked_failed_with_the_reason(people):
    claim = claim_in_stage(Stage.OFFER_MADE, people=people)
    request = claim.letter_requests.get(kind=LetterKind.SETTLEMENT_OFFER)
    claim.offers.update(total=1)  # its items no longer add up

    assert letter_generate(request.pk) == Outcome.FAILED

    request.refresh_from_db()
    assert request.state == LetterRequest.State.FAILED
    assert "add up to" in request.last_error
    assert not claim.letters.exists()


def test_the_sweeper_queues_again_a_request_left_pending(people, monkeypatch):
    import datetime as dt

    from django.utils import timezone

    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    request = claim.letter_requests.get()
    LetterRequest.objects.filter(pk=request.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(hours=1)
    )
    published = []
    monkeypatch.setattr("claims.outbox.publish", lambda name, *args: published.append(args) or True)

    assert letter_requests_sweep() == 1
    assert published == [(request.pk,)]
    assert letter_requests_sweep() == 0  # given a fresh due time


# --- Downloads ------------------------------------------------------------------------


def _sign_in_as_claimant(client, claim):
    token = access_link_issue(claim=claim, purpose="follow")
    assert client.post(f"/link/{token}/").status_code == 302


def test_the_claimant_sees_and_downloads_their_letters(client, people):
    claim = claim_in_stage(Stage.OFFER_MADE, people=people)
    made = make_pending_letters(claim)
    _sign_in_as_claimant(client, claim)

    page = client.get("/my-claim/").content.decode()
    for letter in made:
        assert reverse("claims:letter", args=[letter.pk]) in page
    assert "Settlement offer" in page and "Acknowledgement" in page

    response = client.get(reverse("claims:letter", args=[made[-1].pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert f"{claim.reference}-settlement-offer-v1.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"] or "no-cache" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")


def test_a_claimant_cannot_download_another_claims_letter(client, people):
    mine = claim_in_stage(Stage.SUBMITTED, people=people)
    theirs = claim_in_stage(Stage.SUBMITTED, people=people)
    make_pending_letters(mine)
    [their_letter] = make_pending_letters(theirs)
    _sign_in_as_claimant(client, mine)

    assert client.get(reverse("claims:letter", args=[their_letter.pk])).status_code == 404
    assert client.get(reverse("claims:letter", args=[999_999])).status_code == 404


def test_a_letter_is_not_served_without_a_claimant_session(client, people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    [letter] = make_pending_letters(claim)

    response = client.get(reverse("claims:letter", args=[letter.pk]))

    assert response.status_code in {302, 403, 404}
    assert not response.get("Content-Disposition")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (roles.CASEWORKER, True),
        (roles.SENIOR_CASEWORKER, True),
        (roles.FINANCE_OFFICER, True),
        (roles.SCHEME_ADMINISTRATOR, True),
        (None, False),
    ],
)
def test_staff_with_a_role_download_letters_from_the_admin(client, people, role, allowed):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    [letter] = make_pending_letters(claim)
    client.force_login(staff(role))  # role None: staff, but in no role

    response = client.get(reverse("admin:claims_letter_download", args=[letter.pk]))

    looks = StaffAccess.objects.filter(what=StaffAccess.What.LETTER, object_id=letter.pk)
    if allowed:
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        # Each download is in the staff access log, as a look at the claim (issue 17).
        assert list(looks.values_list("claim_id", "user__username")) == [
            (claim.pk, response.wsgi_request.user.username)
        ]
    else:
        assert response.status_code == 403
        assert not looks.exists()


def test_only_senior_caseworkers_and_scheme_administrators_may_make_letters_again():
    holders = {
        group
        for group in Permission.objects.get(codename="generate_letters").group_set.values_list(
            "name", flat=True
        )
    }

    assert holders == {roles.SENIOR_CASEWORKER, roles.SCHEME_ADMINISTRATOR}


def test_the_batch_page_shows_progress(client, people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    batch = letter_batch_create(claims=type(claim).objects.filter(pk=claim.pk), user=people.senior)
    client.force_login(people.senior)

    before = client.get(reverse("admin:claims_letterbatch_change", args=[batch.pk]))
    make_pending_letters(claim)
    after = client.get(reverse("admin:claims_letterbatch_change", args=[batch.pk]))

    assert before.status_code == after.status_code == 200
    assert "0 of 1 made, 0 failed, 1 waiting" in before.content.decode()
    assert 'http-equiv="refresh"' in before.content.decode()
    assert "1 of 1 made, 0 failed, 0 waiting" in after.content.decode()
    assert 'http-equiv="refresh"' not in after.content.decode()


# --- The staff claim page and the bulk action -----------------------------------------


def test_the_staff_claim_page_lists_every_version_of_the_claims_letters(client, people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    [first] = make_pending_letters(claim)
    letter_batch_create(claims=type(claim).objects.filter(pk=claim.pk), user=people.senior)
    [second] = make_pending_letters(claim)
    client.force_login(people.caseworker)

    page = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()

    for letter in (first, second):
        assert reverse("admin:claims_letter_download", args=[letter.pk]) in page
    assert first.template_version in page


def test_a_senior_caseworker_makes_chosen_claims_letters_again_from_the_claims_list(
    client, people, django_capture_on_commit_callbacks, monkeypatch
):
    claims = [claim_in_stage(Stage.SUBMITTED, people=people) for _ in range(2)]
    draft = claim_in_stage(Stage.DRAFT, people=people)
    published = []
    monkeypatch.setattr(
        "claims.outbox.publish",
        lambda name, *args: published.append((name, args)) or True,
    )
    client.force_login(people.senior)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:claims_claim_changelist"),
            {
                "action": "generate_letters",
                "_selected_action": [c.pk for c in [*claims, draft]],
                "index": 0,
            },
        )

    batch = LetterBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:claims_letterbatch_change", args=[batch.pk])
    assert (batch.total, batch.skipped, batch.created_by) == (2, 1, people.senior)
    assert (outbox.LETTER_BATCH_TASK, (batch.pk,)) in published
    assert letter_batch_queue(batch.pk) == 2


def test_a_caseworker_is_not_offered_the_bulk_letter_action(client, people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    client.force_login(people.caseworker)

    page = client.get(reverse("admin:claims_claim_changelist")).content.decode()
    client.post(
        reverse("admin:claims_claim_changelist"),
        {"action": "generate_letters", "_selected_action": [claim.pk], "index": 0},
    )

    assert "generate_letters" not in page
    assert not claim.letter_requests.filter(batch__isnull=False).exists()


def test_the_letters_admin_pages_open(client, people):
    from django.contrib.auth.models import User

    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    letter_batch_create(claims=type(claim).objects.filter(pk=claim.pk), user=people.senior)
    make_pending_letters(claim)
    client.force_login(User.objects.create_superuser("root", "root@example.com", "x" * 20))

    for name, model in [
        ("letter", Letter),
        ("letterrequest", LetterRequest),
        ("letterbatch", LetterBatch),
    ]:
        assert client.get(reverse(f"admin:claims_{name}_changelist")).status_code == 200, name
        change = reverse(f"admin:claims_{name}_change", args=[model.objects.first().pk])
        assert client.get(change).status_code == 200, name


@pytest.mark.parametrize(
    ("stage", "kind", "title"),
    [
        (Stage.OFFER_MADE, "offer_made", "Our offer to settle your claim"),
        (Stage.SUBMITTED, "acknowledgement", "We have received your claim"),
        (Stage.TRIAGE, "in_triage", ""),
    ],
)
def test_the_status_update_email_points_to_the_letter_its_change_sends(people, stage, kind, title):
    from claims.delivery.emails import render_email, status_update_context

    claim = claim_in_stage(stage, people=people)
    update = claim.status_updates.get(kind=kind)

    _, text, html = render_email(kind, status_update_context(update))

    if title:
        assert f'We have also written you a letter, "{title}"' in text
        assert f"&ldquo;{title}&rdquo;" in html
        assert "under Letters" in text
    else:
        assert "written you a letter" not in text


@pytest.mark.parametrize(("queues", "loads"), [({"letters"}, True), ({"notifications"}, False)])
def test_a_worker_process_taking_letters_loads_fonts_and_styles_as_it_starts(
    monkeypatch, queues, loads
):
    import gc
    import threading
    from types import SimpleNamespace

    monkeypatch.setattr(letter_pdf, "_renderers", {})
    app = SimpleNamespace(amqp=SimpleNamespace(queues=SimpleNamespace(consume_from=queues)))
    monkeypatch.setattr(letter_tasks, "current_app", app)
    try:
        letter_tasks._load_letter_renderer()

        assert (threading.get_ident() in letter_pdf._renderers) is loads
        assert (gc.get_freeze_count() > 0) is loads
    finally:
        gc.unfreeze()


def test_a_letter_erased_with_its_claim_is_gone_not_a_server_error(client, people):
    """Retention erasure removes a closed claim's letter files and keeps their records:
    the download answers 404, and the claim page no longer links to it (issue 17)."""
    claim = claim_in_stage(Stage.CLOSED, people=people)
    letters = make_pending_letters(claim)
    claim_retention_erase(claim_id=claim.pk, now=timezone.now() + dt.timedelta(days=365 * 20))
    assert Letter.objects.filter(claim=claim).count() == len(letters)  # the records stay
    assert not Letter.objects.filter(claim=claim).exclude(file="").exists()  # the files go
    client.force_login(staff(roles.SENIOR_CASEWORKER))

    page = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()

    for letter in letters:
        url = reverse("admin:claims_letter_download", args=[letter.pk])
        assert client.get(url).status_code == 404
        assert url not in page
    assert not claimant_letters(claim)
