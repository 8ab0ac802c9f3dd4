"""A claimant makes a claim: start page to confirmation, saving and returning on the way."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core import mail

from claims.domain.stages import Stage
from claims.models import AccessLink, Claim, HeadOfLoss, StatusUpdate
from tests.support.claimant import CONTACT, fill_draft, last_link_path, post_ok, start_claim
from tests.support.factories import RegisterEntryFactory, SchemeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def scheme(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return SchemeFactory()


def test_start_page_explains_the_scheme_and_has_one_start_button(client, scheme):
    page = client.get("/").content.decode()

    for heading in (
        "What happened",
        "Who can claim",
        "What you can claim for",
        "What you will need",
        "The deadline",
        "How long it takes",
        "How we use your data",
    ):
        assert f"<h2>{heading}</h2>" in page
    assert page.count("Start your claim") == 1
    assert f"/s/{scheme.slug}/start/" in page
    assert scheme.claims_close.strftime("%-d %B %Y") in page


def test_each_scheme_has_its_own_start_page_when_there_are_several(client, scheme):
    other = SchemeFactory(name="Another breach scheme")

    home = client.get("/").content.decode()
    page = client.get(f"/s/{other.slug}/").content.decode()

    assert scheme.name in home and other.name in home
    assert "Another breach scheme" in page and f"/s/{other.slug}/start/" in page


def test_matching_notice_code_and_postcode_links_the_claim_to_the_register(client, scheme):
    entry = RegisterEntryFactory(scheme=scheme, notice_code="7K3M-9Q2P-4HXT", postcode="LS1 4AP")

    response = client.post(
        f"/s/{scheme.slug}/start/", {"notice_code": "7k3m 9q2p 4hxt", "postcode": "ls14ap"}
    )
    post_ok(client, "/claim/contact/", CONTACT)

    assert response.url == "/claim/contact/"
    claim = Claim.objects.get()
    assert claim.register_entry == entry and not claim.no_notice
    assert claim.stage == Stage.DRAFT
    assert (claim.full_name, claim.postcode) == ("Zoë O'Brien", "SW1A 1AA")


def test_claim_without_a_notice_is_allowed_and_flagged(client, scheme):
    claim = start_claim(client, scheme)

    assert claim.no_notice and claim.register_entry is None


def test_whole_journey_makes_one_submitted_claim_with_an_acknowledgement_queued(client, scheme):
    claim = start_claim(client, scheme)
    fill_draft(client)

    check = client.get("/claim/check/").content.decode()
    confirmation_url = post_ok(client, "/claim/check/", {"statement_of_truth": "on"})
    confirmation = client.get(confirmation_url).content.decode()

    assert "Check your answers" in check and "£120.50" in check and "£75.00" in check
    claim.refresh_from_db()
    assert claim.stage == Stage.SUBMITTED and claim.submitted_at is not None
    assert claim.reference in confirmation
    assert "What happens next" in confirmation
    heads = {h.category: h for h in claim.heads_of_loss.all()}
    assert heads["unauthorised_transactions"].amount_claimed == Decimal("120.50")
    assert heads["time_spent"].hours == Decimal("3")
    assert heads["distress"].details == {"effects": ["worry"]}
    update = claim.status_updates.get()
    assert (update.kind, update.state) == ("acknowledgement", StatusUpdate.State.PENDING)
    assert update.event.action == "submit"


def test_a_double_click_or_repeated_post_makes_one_submission(client, scheme):
    claim = start_claim(client, scheme)
    fill_draft(client)

    first = client.post("/claim/check/", {"statement_of_truth": "on"})
    second = client.post("/claim/check/", {"statement_of_truth": "on"})

    assert first.status_code == second.status_code == 302
    assert Claim.objects.count() == 1
    assert claim.events.filter(action="submit").count() == 1
    assert claim.status_updates.filter(kind="acknowledgement").count() == 1


def test_submitting_without_the_statement_of_truth_keeps_the_draft(client, scheme):
    claim = start_claim(client, scheme)
    fill_draft(client)

    response = client.post("/claim/check/", {})

    assert response.status_code == 200
    assert 'href="#id_statement_of_truth"' in response.content.decode()
    claim.refresh_from_db()
    assert claim.stage == Stage.DRAFT


def test_check_page_lists_pages_still_to_answer(client, scheme):
    start_claim(client, scheme)

    page = client.get("/claim/check/").content.decode()

    assert "You still need to answer" in page
    assert "/claim/what-happened/" in page and "Support and how we write to you" in page


def test_change_links_return_to_the_check_page(client, scheme):
    start_claim(client, scheme)
    fill_draft(client)

    url = post_ok(
        client, "/claim/what-happened/?from=check", {"what_happened": "Changed", "from": "check"}
    )

    assert url == "/claim/check/"
    assert Claim.objects.get().what_happened == "Changed"


def test_heads_of_loss_can_be_changed_and_removed(client, scheme):
    claim = start_claim(client, scheme)
    post_ok(
        client,
        "/claim/losses/add/bank_charges/",
        {"incurred_on_0": "1", "incurred_on_1": "4", "incurred_on_2": "2017", "amount": "25"},
    )
    head = claim.heads_of_loss.get()

    post_ok(
        client,
        f"/claim/losses/{head.pk}/change/",
        {"incurred_on_0": "2", "incurred_on_1": "4", "incurred_on_2": "2017", "amount": "30"},
    )
    head.refresh_from_db()
    changed = (head.amount_claimed, head.incurred_on.day)
    post_ok(client, f"/claim/losses/{head.pk}/remove/")

    assert changed == (Decimal("30.00"), 2)
    assert not HeadOfLoss.objects.filter(pk=head.pk).exists()
    assert claim.events.filter(action="remove_head").count() == 1


def test_time_spent_shows_the_sum_after_submit_without_javascript(client, scheme):
    start_claim(client, scheme)

    page = client.post("/claim/losses/add/time_spent/", {"hours": "15", "description": ""})

    text = page.content.decode()
    assert page.status_code == 200  # description is required
    assert "up to £250.00 without evidence, £375.00 with a log of your time" in text


def test_save_and_come_back_later_emails_a_link_that_restores_everything(client, scheme):
    claim = start_claim(client, scheme)
    post_ok(client, "/claim/someone-else/", {"on_behalf": "no"})
    saved = post_ok(
        client, "/claim/what-happened/", {"what_happened": "Scam calls", "save_and_return": "1"}
    )
    client.post("/sign-out/")

    link = last_link_path(to="zoe@example.com")
    client.post(link)
    resumed = client.get("/claim/resume/")
    page = client.get("/claim/what-happened/").content.decode()

    assert saved == "/claim/saved/"
    assert AccessLink.objects.get(claim=claim).purpose == AccessLink.Purpose.RESUME
    assert resumed.url == "/claim/losses/"  # the first page not yet answered
    assert "Scam calls" in page


def test_a_submitted_claim_cannot_be_edited_through_the_form(client, scheme):
    claim = start_claim(client, scheme)
    fill_draft(client)
    post_ok(client, "/claim/check/", {"statement_of_truth": "on"})

    response = client.post("/claim/what-happened/", {"what_happened": "Rewritten"})

    assert response.url == "/my-claim/"
    claim.refresh_from_db()
    assert claim.what_happened == "Two payments I did not make."


def test_a_notice_already_claimed_sends_the_link_to_the_claims_email(client, scheme):
    entry = RegisterEntryFactory(scheme=scheme, notice_code="7K3M-9Q2P-4HXT", postcode="LS1 4AP")
    start_claim(client, scheme, entry)
    other = type(client)()
    mail.outbox.clear()

    response = other.post(
        f"/s/{scheme.slug}/start/", {"notice_code": entry.notice_code, "postcode": "LS1 4AP"}
    )

    assert response.url == f"/s/{scheme.slug}/already-claimed/"
    assert [m.to for m in mail.outbox] == [["zoe@example.com"]]
    assert Claim.objects.count() == 1
