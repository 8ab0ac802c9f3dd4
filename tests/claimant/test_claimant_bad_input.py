"""Hostile and awkward input typed into the claimant's pages, through Django's test client.

Every field is checked on the server with a message that says how to put it right,
shown in the error summary linked to the field. Nothing half-saved; nothing typed
lost; names in any script kept exactly; HTML shown as text on every page.
"""

from __future__ import annotations

import datetime as dt
import html
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail

from claims.actions import submission
from claims.claimant.forms import NUL_MESSAGE
from claims.domain.references import normalise_postcode
from claims.domain.stages import Stage
from claims.models import BankDetails, Claim, HeadOfLoss, Message
from tests.support.claimant import CONTACT, fill_draft, start_claim
from tests.support.factories import RegisterEntryFactory, SchemeFactory, claim_in_stage
from tests.support.hostile import (
    assert_field_error,
    checked_values,
    error_summary,
    input_value,
    sign_in_as_claimant,
)

pytestmark = pytest.mark.django_db

LOSS = {
    "incurred_on_0": "14",
    "incurred_on_1": "3",
    "incurred_on_2": "2017",
    "amount": "35.00",
    "description": "Overdraft fee",
}
HOURS = {"hours": "3", "description": "Phoning my bank"}
REPRESENTATIVE = {
    "on_behalf": "yes",
    "representative_name": "Aoife Byrne",
    "representative_reason": "I hold power of attorney for my mother.",
}
DISTRESS = {"affected": "yes", "effects": ["worry", "sleep"], "account": "I could not sleep."}
SUPPORT = {
    "support_needs": "Please write rather than phone.",
    "preferred_format": "other_language",
    "preferred_language": "Welsh",
}

# The draft pages: path, a valid answer, and where the answer is kept.
DRAFT_PAGES: dict[str, tuple[str, dict[str, Any]]] = {
    "contact": ("/claim/contact/", CONTACT),
    "representative": ("/claim/someone-else/", REPRESENTATIVE),
    "what-happened": ("/claim/what-happened/", {"what_happened": "Two payments I did not make."}),
    "loss": ("/claim/losses/add/bank_charges/", LOSS),
    "time": ("/claim/losses/add/time_spent/", HOURS),
    "distress": ("/claim/distress/", DISTRESS),
    "support": ("/claim/support/", SUPPORT),
}


@pytest.fixture
def scheme(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return SchemeFactory()


@pytest.fixture
def draft(client, scheme) -> Claim:
    return start_claim(client, scheme)


@pytest.fixture
def newcomer(client, scheme):
    """A browser that has said it got no notice and is on the contact page: no claim yet."""
    assert client.post(f"/s/{scheme.slug}/no-notice/").status_code == 302
    return client


def stored_text(claim: Claim) -> list[str]:
    """Every piece of text kept for a claim: its own fields, its items, its messages."""
    values: list[Any] = list(Claim.objects.filter(pk=claim.pk).values().get().values())
    for head in HeadOfLoss.objects.filter(claim=claim).values():
        values += list(head.values())
    for message in Message.objects.filter(claim=claim).values():
        values += list(message.values())
    return [value for value in values if isinstance(value, str)]


# --- Every field says how to put it right ------------------------------------------


@pytest.mark.parametrize(
    ("path", "field_id", "message"),
    [
        ("/claim/contact/", "id_full_name", "Enter your full name."),
        ("/claim/contact/", "id_email", "Enter your email address."),
        ("/claim/contact/", "id_address", "Enter your address."),
        ("/claim/contact/", "id_postcode", "Enter your postcode."),
        (
            "/claim/someone-else/",
            "id_on_behalf_0",
            "Select yes if you are claiming for someone else.",
        ),
        ("/claim/what-happened/", "id_what_happened", "Tell us what happened to you."),
        ("/claim/losses/add/", "id_category_0", "Select what you are claiming for."),
        ("/claim/losses/add/bank_charges/", "id_incurred_on_0", "Enter the date this happened."),
        ("/claim/losses/add/bank_charges/", "id_amount", "Enter how much it cost you."),
        ("/claim/losses/add/time_spent/", "id_hours", "Enter the hours you spent, like 2.5."),
        ("/claim/losses/add/time_spent/", "id_description", "Tell us what you spent the time on."),
        (
            "/claim/distress/",
            "id_affected_0",
            "Select yes if the breach caused you distress or worry.",
        ),
        (
            "/claim/support/",
            "id_preferred_format_0",
            "Select how you would like us to write to you.",
        ),
        (
            "/claim/check/",
            "id_statement_of_truth",
            "Confirm that the information you have given is true.",
        ),
    ],
)
def test_an_empty_answer_is_named_in_the_summary_with_how_to_fix_it(
    client, draft, path, field_id, message
):
    response = client.post(path, {})

    assert_field_error(response, field_id, message)
    assert response.content.decode().count("<title>Error: ") == 1


def test_every_missing_contact_detail_is_listed_at_once_and_no_claim_is_opened(newcomer):
    response = newcomer.post("/claim/contact/", {"full_name": " ", "email": "", "address": ""})

    assert [anchor for anchor, _ in error_summary(response)] == [
        "id_full_name",
        "id_email",
        "id_address",
        "id_postcode",
    ]
    assert not Claim.objects.exists()


@pytest.mark.parametrize(
    ("data", "field_id", "message"),
    [
        (
            {"on_behalf": "yes", "representative_reason": "Power of attorney"},
            "id_representative_name",
            "Enter your name.",
        ),
        (
            {"on_behalf": "yes", "representative_name": "Aoife Byrne"},
            "id_representative_reason",
            "Tell us why you are claiming for them.",
        ),
    ],
)
def test_claiming_for_someone_else_needs_who_and_why(client, draft, data, field_id, message):
    response = client.post("/claim/someone-else/", data)

    assert_field_error(response, field_id, message)
    draft.refresh_from_db()
    assert "representative" not in draft.answered_pages


def test_distress_needs_an_effect_or_an_account(client, draft):
    response = client.post("/claim/distress/", {"affected": "yes", "account": "  "})

    assert_field_error(
        response,
        "id_account",
        "Tell us how the breach affected you, or select at least one effect.",
    )
    assert not draft.heads_of_loss.exists()


def test_another_language_needs_the_language(client, draft):
    response = client.post("/claim/support/", {"preferred_format": "other_language"})

    assert_field_error(
        response, "id_preferred_language", "Enter the language you would like us to use."
    )


@pytest.mark.parametrize(
    ("path", "data", "field_id", "message"),
    [
        (
            "/claim/someone-else/",
            {"on_behalf": "perhaps"},
            "id_on_behalf_0",
            "Select yes if you are claiming for someone else.",
        ),
        (
            "/claim/losses/add/",
            {"category": "distress"},
            "id_category_0",
            "Select what you are claiming for.",
        ),
        (
            "/claim/distress/",
            {"affected": "yes", "effects": ["worry", "<b>x</b>"]},
            "id_effects_0",
            "Choose from the options shown.",
        ),
        (
            "/claim/support/",
            {"preferred_format": "carrier pigeon"},
            "id_preferred_format_0",
            "Select how you would like us to write to you.",
        ),
    ],
)
def test_a_choice_that_was_not_offered_is_refused_without_echoing_it(
    client, draft, path, data, field_id, message
):
    response = client.post(path, data)

    assert_field_error(response, field_id, message)
    assert "carrier pigeon" not in response.content.decode()
    assert "<b>x</b>" not in response.content.decode()


# --- Amounts, hours and dates --------------------------------------------------------

POUNDS = "Enter an amount in pounds and pence, like 25.00."


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "Enter an amount greater than £0.00."),
        ("0.00", "Enter an amount greater than £0.00."),
        ("-0", "Enter an amount greater than £0.00."),
        ("-5", "Amounts cannot be negative: enter the amount without a minus sign."),
        ("£-5.00", "Amounts cannot be negative: enter the amount without a minus sign."),
        ("10000000.01", "Amounts must be no more than £10,000,000.00."),
        ("99999999999999", "Amounts must be no more than £10,000,000.00."),
        ("1e9", POUNDS),
        ("NaN", POUNDS),
        ("Infinity", POUNDS),
        ("1_000", POUNDS),
        ("12.345", "Amounts can have at most two decimal places (pence)."),
        ("0.001", "Amounts can have at most two decimal places (pence)."),
        ("12abc", POUNDS),
        ("twelve pounds", POUNDS),
        ("12.50p", POUNDS),
        ("١٢", POUNDS),
        ("12,50", "Enter an amount in pounds and pence, like 1,234.56."),
        ("1" * 21, "Shorten this answer to 20 characters or fewer."),
        ("   ", "Enter how much it cost you."),
    ],
)
def test_a_bad_amount_is_refused_saying_how_to_fix_it_and_nothing_is_saved(
    client, draft, amount, message
):
    response = client.post("/claim/losses/add/bank_charges/", {**LOSS, "amount": amount})

    assert_field_error(response, "id_amount", message)
    assert not draft.heads_of_loss.exists()
    assert input_value(response, "amount") == amount


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("49.99", "49.99"),
        (" £1,234.56 ", "1234.56"),
        ("£7", "7.00"),
        (".5", "0.50"),
        ("10000000", "10000000.00"),
    ],
)
def test_an_amount_typed_as_people_write_money_is_accepted(client, draft, typed, stored):
    response = client.post("/claim/losses/add/bank_charges/", {**LOSS, "amount": typed})

    assert response.status_code == 302, error_summary(response)
    assert draft.heads_of_loss.get().amount_claimed == Decimal(stored)


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        ("0", "Enter the hours you spent: between 0.01 and 1,000."),
        ("1001", "Enter the hours you spent: between 0.01 and 1,000."),
        ("-2", "Enter the hours you spent as a number, like 2.5."),
        ("two", "Enter the hours you spent as a number, like 2.5."),
        ("1e3", "Enter the hours you spent as a number, like 2.5."),
        ("2.555", "Hours can have at most two decimal places."),
        ("1" * 11, "Shorten this answer to 10 characters or fewer."),
    ],
)
def test_bad_hours_are_refused_saying_how_to_fix_them(client, draft, hours, message):
    response = client.post("/claim/losses/add/time_spent/", {**HOURS, "hours": hours})

    assert_field_error(response, "id_hours", message)
    assert not draft.heads_of_loss.exists()
    assert input_value(response, "description") == HOURS["description"]


TOMORROW = dt.date.today() + dt.timedelta(days=1)
REAL_DATE = "Enter a real date, for example 14 3 2017."


@pytest.mark.parametrize(
    ("day", "month", "year", "message"),
    [
        ("23", "2", "2017", "The date must be on or after the breach began (24 February 2017)."),
        ("1", "1", "1970", "The date must be on or after the breach began (24 February 2017)."),
        (
            str(TOMORROW.day),
            str(TOMORROW.month),
            str(TOMORROW.year),
            "The date cannot be in the future: enter today’s date or an earlier one.",
        ),
        (
            "1",
            "1",
            "9999",
            "The date cannot be in the future: enter today’s date or an earlier one.",
        ),
        ("31", "2", "2017", REAL_DATE),
        ("29", "2", "2017", REAL_DATE),
        ("14", "13", "2017", REAL_DATE),
        ("0", "0", "0000", REAL_DATE),
        ("99999999999999999999", "3", "2017", REAL_DATE),
        ("14", "3", "", "The date must include a year."),
        ("14", "", "2017", "The date must include a month."),
        ("", "", "2017", "The date must include a day and month."),
        ("fourteen", "3", "2017", "Enter the date as numbers, for example 14 3 2017."),
        ("14", "3", "-2017", "Enter the date as numbers, for example 14 3 2017."),
        ("14", "3", "17", "Enter the year as 4 numbers, for example 2017."),
        ("", "", "", "Enter the date this happened."),
    ],
)
def test_a_bad_date_is_refused_saying_how_to_fix_it_and_what_was_typed_is_kept(
    client, draft, day, month, year, message
):
    typed = {"incurred_on_0": day, "incurred_on_1": month, "incurred_on_2": year}

    response = client.post("/claim/losses/add/bank_charges/", {**LOSS, **typed})

    assert_field_error(response, "id_incurred_on_0", message)
    assert not draft.heads_of_loss.exists()
    for name, value in typed.items():
        assert input_value(response, name) == value
    assert input_value(response, "amount") == LOSS["amount"]


@pytest.mark.parametrize(
    "date",
    [dt.date(2017, 2, 24), dt.date(2017, 4, 11), dt.date(2018, 6, 1), dt.date.today()],
    ids=["breach-began", "breach-ended", "fraud-a-year-later", "today"],
)
def test_a_date_from_the_breach_to_today_is_accepted(client, draft, date):
    # Fraud with stolen card details comes after the breach, so later dates count.
    typed = {
        "incurred_on_0": str(date.day),
        "incurred_on_1": str(date.month),
        "incurred_on_2": str(date.year),
    }

    response = client.post("/claim/losses/add/bank_charges/", {**LOSS, **typed})

    assert response.status_code == 302, error_summary(response)
    assert draft.heads_of_loss.get().incurred_on == date


# --- NUL bytes, very long text -----------------------------------------------------------

NUL_FIELDS = [
    ("contact", "full_name", "id_full_name"),
    ("contact", "email", "id_email"),
    ("contact", "phone", "id_phone"),
    ("contact", "address", "id_address"),
    ("contact", "postcode", "id_postcode"),
    ("representative", "representative_name", "id_representative_name"),
    ("representative", "representative_reason", "id_representative_reason"),
    ("what-happened", "what_happened", "id_what_happened"),
    ("loss", "incurred_on_0", "id_incurred_on_0"),
    ("loss", "incurred_on_2", "id_incurred_on_0"),
    ("loss", "amount", "id_amount"),
    ("loss", "description", "id_description"),
    ("time", "hours", "id_hours"),
    ("time", "description", "id_description"),
    ("distress", "account", "id_account"),
    ("support", "support_needs", "id_support_needs"),
    ("support", "preferred_language", "id_preferred_language"),
]


@pytest.mark.parametrize(("page", "field", "field_id"), NUL_FIELDS)
def test_a_nul_byte_in_any_answer_is_refused_with_a_clear_message(
    client, draft, page, field, field_id
):
    path, valid = DRAFT_PAGES[page]
    before = stored_text(draft)

    response = client.post(
        path,
        {
            **valid,
            field: "1\x00"
            if field == "incurred_on_0"
            else f"{valid[field][:3]}\x00{valid[field][3:]}",
        },
    )

    assert_field_error(response, field_id, NUL_MESSAGE)
    assert stored_text(draft) == before
    assert not any("\x00" in text for text in stored_text(draft))


@pytest.mark.parametrize(
    ("page", "field", "field_id"),
    [
        ("identify", "notice_code", "id_notice_code"),
        ("identify", "postcode", "id_postcode"),
        ("follow", "reference", "id_reference"),
        ("follow", "email", "id_email"),
    ],
)
def test_a_nul_byte_on_the_public_pages_is_refused_with_a_clear_message(
    client, scheme, page, field, field_id
):
    path, valid = {
        "identify": (
            f"/s/{scheme.slug}/start/",
            {"notice_code": "7K3M-9Q2P-4HXT", "postcode": "SW1A 1AA"},
        ),
        "follow": ("/follow/", {"reference": "RDR-7K3M-9Q2P", "email": "zoe@example.com"}),
    }[page]

    response = client.post(path, {**valid, field: valid[field][:3] + "\x00" + valid[field][3:]})

    assert_field_error(response, field_id, NUL_MESSAGE)
    assert mail.outbox == []


def test_a_nul_byte_in_a_new_claims_name_opens_no_claim(newcomer):
    response = newcomer.post("/claim/contact/", {**CONTACT, "full_name": "Zoë\x00 O'Brien"})

    assert_field_error(response, "id_full_name", NUL_MESSAGE)
    assert not Claim.objects.exists()


@pytest.mark.parametrize(
    "path", ["/link/abc%00def/", "/claim/losses/1%00/change/", "/s/%00/", "/my-claim/files/%00/"]
)
def test_a_nul_byte_in_an_address_is_refused_not_an_error(client, draft, path):
    response = client.get(path)

    assert response.status_code in (404, 410)


LONG = ("Zoë Nguyễn " * 1000)[:10_000]


@pytest.mark.parametrize(
    ("page", "field", "field_id", "message"),
    [
        ("contact", "full_name", "id_full_name", "Your name must be 200 characters or fewer."),
        ("contact", "address", "id_address", "The address must be 500 characters or fewer."),
        ("contact", "phone", "id_phone", "The phone number must be 40 characters or fewer."),
        ("contact", "postcode", "id_postcode", "The postcode must be 10 characters or fewer."),
        (
            "contact",
            "email",
            "id_email",
            "Enter an email address in the right format, like name@example.com.",
        ),
        (
            "representative",
            "representative_name",
            "id_representative_name",
            "Your name must be 200 characters or fewer.",
        ),
        (
            "representative",
            "representative_reason",
            "id_representative_reason",
            "The reason must be 5,000 characters or fewer.",
        ),
        (
            "what-happened",
            "what_happened",
            "id_what_happened",
            "What happened must be 5,000 characters or fewer.",
        ),
        (
            "loss",
            "description",
            "id_description",
            "The description must be 5,000 characters or fewer.",
        ),
        (
            "time",
            "description",
            "id_description",
            "The description must be 5,000 characters or fewer.",
        ),
        ("distress", "account", "id_account", "Your account must be 5,000 characters or fewer."),
        (
            "support",
            "support_needs",
            "id_support_needs",
            "Your answer must be 5,000 characters or fewer.",
        ),
        (
            "support",
            "preferred_language",
            "id_preferred_language",
            "The language must be 60 characters or fewer.",
        ),
    ],
)
def test_10000_characters_are_refused_with_the_limit_and_kept_on_the_page(
    client, draft, page, field, field_id, message
):
    path, valid = DRAFT_PAGES[page]
    before = stored_text(draft)

    response = client.post(path, {**valid, field: LONG})

    assert_field_error(response, field_id, message)
    assert stored_text(draft) == before
    assert input_value(response, field) == LONG


def test_a_10000_character_name_opens_no_claim(newcomer):
    response = newcomer.post("/claim/contact/", {**CONTACT, "full_name": LONG})

    assert_field_error(response, "id_full_name", "Your name must be 200 characters or fewer.")
    assert not Claim.objects.exists()
    assert input_value(response, "address") == CONTACT["address"]


# --- Email addresses: no header injection --------------------------------------------

BAD_EMAIL = "Enter an email address in the right format, like name@example.com."
INJECTIONS = [
    "a@b.com\r\nBcc: x@evil.example",
    "a@b.com\nBcc: x@evil.example",
    "a@b.com\rBcc: x@evil.example",
    "a@b.com%0d%0aBcc:x@evil.example",
    "a@b.com, x@evil.example",
    "Zoë <a@b.com>",
    "a@localhost",
]


@pytest.mark.parametrize("email", INJECTIONS)
def test_an_email_address_carrying_headers_is_refused_and_no_claim_is_opened(newcomer, email):
    response = newcomer.post("/claim/contact/", {**CONTACT, "email": email})

    assert_field_error(response, "id_email", BAD_EMAIL)
    assert error_summary(response).count(("id_email", BAD_EMAIL)) == 1
    assert not Claim.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("email", INJECTIONS)
def test_an_email_address_carrying_headers_cannot_replace_a_good_one(client, draft, email):
    response = client.post("/claim/contact/", {**CONTACT, "email": email})

    assert_field_error(response, "id_email", BAD_EMAIL)
    draft.refresh_from_db()
    assert draft.email == CONTACT["email"]


@pytest.mark.parametrize("email", INJECTIONS[:5])
def test_an_email_address_carrying_headers_sends_no_link(client, scheme, email):
    claim = start_claim(client, scheme)
    fill_draft(client)
    client.post("/claim/check/", {"statement_of_truth": "on"})
    client.post("/sign-out/")
    mail.outbox.clear()

    response = client.post("/follow/", {"reference": claim.reference, "email": email})

    assert_field_error(response, "id_email", BAD_EMAIL)
    assert mail.outbox == []


UNSENDABLE = (
    "The part of the email address before the @ has characters other than plain letters, "
    "digits and punctuation, which our email provider cannot send to."
)
KELVIN = "\u212aate@example.com"  # a Kelvin sign, not a K: Django's check lets it through


def test_an_address_our_email_provider_cannot_send_to_is_refused_beside_the_email(newcomer):
    response = newcomer.post("/claim/contact/", {**CONTACT, "email": KELVIN})

    assert_field_error(response, "id_email", UNSENDABLE)
    assert not Claim.objects.exists()


def test_an_address_our_email_provider_cannot_send_to_cannot_replace_a_good_one(client, draft):
    response = client.post("/claim/contact/", {**CONTACT, "email": KELVIN})

    assert_field_error(response, "id_email", UNSENDABLE)
    draft.refresh_from_db()
    assert draft.email == CONTACT["email"]


def test_a_save_and_return_link_goes_only_to_the_claims_own_address(client, draft):
    mail.outbox.clear()

    client.post(
        "/claim/what-happened/",
        {"what_happened": "x", "save_and_return": "1", "email": "x@evil.example"},
    )

    assert [message.to for message in mail.outbox] == [[CONTACT["email"]]]
    assert all("\n" not in header for m in mail.outbox for header in (m.subject, *m.to))


# --- Names and text in any script ------------------------------------------------------

NAMES = [
    "Zoë O'Brien",
    "Nguyễn Văn An",
    "李明",
    "Siobhán Ní Bhriain 🌻",
    "José-María Ñúñez",
    "Åsa Øster-Ærø",
    "Ольга Смирнова",
    "محمد علي",
    "e\u0301clair Zoe\u0308",
]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_in_any_script_is_stored_exactly_and_shown_on_the_check_page(newcomer, name):
    response = newcomer.post("/claim/contact/", {**CONTACT, "full_name": name})

    assert response.status_code == 302, error_summary(response)
    claim = Claim.objects.get()
    assert claim.full_name == name
    page = newcomer.get("/claim/check/").content.decode()
    assert html.escape(name) in page
    assert input_value(newcomer.get("/claim/contact/"), "full_name") == name


def test_emoji_and_accents_in_every_answer_survive_to_the_check_page(client, draft):
    words = "Nguyễn Văn An paid £35 😀 for O'Brien's card, 李明 helped — “awful”"
    client.post(
        "/claim/someone-else/",
        {**REPRESENTATIVE, "representative_name": "Zoë 李明", "representative_reason": words},
    )
    client.post("/claim/what-happened/", {"what_happened": words})
    client.post("/claim/losses/add/bank_charges/", {**LOSS, "description": words})
    client.post("/claim/losses/add/time_spent/", {**HOURS, "description": words})
    client.post("/claim/distress/", {**DISTRESS, "account": words})
    client.post(
        "/claim/support/", {**SUPPORT, "support_needs": words, "preferred_language": "Tiếng Việt"}
    )

    page = html.unescape(client.get("/claim/check/").content.decode())
    draft.refresh_from_db()

    assert draft.what_happened == words and draft.support_needs == words
    assert draft.representative_name == "Zoë 李明"
    assert draft.preferred_language == "Tiếng Việt"
    assert sorted(draft.heads_of_loss.values_list("description", flat=True)) == [words] * 3
    assert page.count(words) == 6  # reason, what happened, two items, distress, support
    assert "Zoë 李明" in page and "Tiếng Việt" in page


# --- HTML and script shown as text -----------------------------------------------------

SCRIPT = '<script>alert("x")</script>'
IMG = '"><img src=x onerror=alert(1)>'
RAW = (SCRIPT, "<img src=x", "<script>alert")


def assert_shown_as_text(page: str, *payloads: str) -> None:
    for raw in RAW:
        assert raw not in page
    for payload in payloads:
        assert html.escape(payload) in page


def test_html_and_script_in_every_answer_are_shown_as_text_on_every_page(client, draft):
    hostile = {
        "contact": {**CONTACT, "full_name": SCRIPT, "phone": SCRIPT, "address": IMG + SCRIPT},
        "representative": {
            "on_behalf": "yes",
            "representative_name": SCRIPT,
            "representative_reason": IMG,
        },
        "what-happened": {"what_happened": SCRIPT + IMG},
        "loss": {**LOSS, "description": SCRIPT},
        "time": {**HOURS, "description": IMG},
        "distress": {"affected": "yes", "account": SCRIPT},
        "support": {
            "support_needs": IMG,
            "preferred_format": "other_language",
            "preferred_language": SCRIPT,
        },
    }
    for page_name, data in hostile.items():
        response = client.post(DRAFT_PAGES[page_name][0], data)
        assert response.status_code == 302, (page_name, error_summary(response))
        if page_name == "time":
            client.post("/claim/losses/")
    heads = {h.category: h.pk for h in draft.heads_of_loss.all()}

    for path in [
        "/claim/contact/",
        "/claim/someone-else/",
        "/claim/what-happened/",
        "/claim/losses/",
        f"/claim/losses/{heads['bank_charges']}/change/",
        f"/claim/losses/{heads['time_spent']}/change/",
        f"/claim/losses/{heads['bank_charges']}/remove/",
        "/claim/distress/",
        "/claim/support/",
        "/claim/check/",
    ]:
        assert_shown_as_text(client.get(path).content.decode())
    check = client.get("/claim/check/").content.decode()
    assert_shown_as_text(check, SCRIPT, IMG)
    assert check.count(html.escape(SCRIPT)) >= 6

    client.post("/claim/check/", {"statement_of_truth": "on"})
    for path in ["/claim/submitted/", "/my-claim/"]:
        response = client.get(path)
        assert response.status_code == 200
        assert_shown_as_text(response.content.decode())
    assert SCRIPT in Claim.objects.get().full_name  # kept as typed, escaped when shown


def test_html_typed_into_a_page_with_an_error_is_shown_back_as_text(client, draft):
    response = client.post("/claim/contact/", {**CONTACT, "full_name": IMG, "email": ""})

    assert response.status_code == 200
    assert_shown_as_text(response.content.decode(), IMG)
    assert input_value(response, "full_name") == IMG


def test_html_in_the_address_bar_is_not_written_into_the_page(client, draft):
    response = client.get("/claim/contact/", {"from": IMG + SCRIPT})

    assert_shown_as_text(response.content.decode(), IMG + SCRIPT)


def test_a_postcode_written_as_html_is_shown_as_text(client, draft):
    client.post("/claim/contact/", {**CONTACT, "postcode": "<b>x</b>"})

    page = client.get("/claim/check/").content.decode()

    stored = Claim.objects.get().postcode
    assert stored == normalise_postcode("<b>x</b>")
    assert stored not in page and html.escape(stored) in page


# --- Nothing typed is lost on an error -------------------------------------------------


def test_a_contact_page_with_an_error_keeps_everything_typed(newcomer):
    typed = {**CONTACT, "phone": "07700 900123", "email": "not an email"}

    response = newcomer.post("/claim/contact/", typed)

    assert response.status_code == 200
    for name, value in typed.items():
        assert input_value(response, name) == value, name


def test_the_someone_else_page_with_an_error_keeps_the_choice_and_the_name(client, draft):
    response = client.post("/claim/someone-else/", {**REPRESENTATIVE, "representative_reason": ""})

    assert response.status_code == 200
    assert checked_values(response, "on_behalf") == ["yes"]
    assert input_value(response, "representative_name") == REPRESENTATIVE["representative_name"]


def test_the_distress_page_with_an_error_keeps_every_choice_and_word(client, draft):
    typed = {**DISTRESS, "account": "x" * 5001}

    response = client.post("/claim/distress/", typed)

    assert response.status_code == 200
    assert checked_values(response, "affected") == ["yes"]
    assert sorted(checked_values(response, "effects")) == ["sleep", "worry"]
    assert input_value(response, "account") == typed["account"]


def test_the_support_page_with_an_error_keeps_everything_typed(client, draft):
    typed = {**SUPPORT, "preferred_language": "x" * 61}

    response = client.post("/claim/support/", typed)

    assert response.status_code == 200
    assert checked_values(response, "preferred_format") == ["other_language"]
    assert input_value(response, "support_needs") == SUPPORT["support_needs"]
    assert input_value(response, "preferred_language") == typed["preferred_language"]


def test_a_change_refused_leaves_the_saved_item_as_it_was_and_shows_what_was_typed(client, draft):
    client.post("/claim/losses/add/bank_charges/", LOSS)
    head = draft.heads_of_loss.get()
    typed = {**LOSS, "amount": "-1", "description": "Changed my mind"}

    response = client.post(f"/claim/losses/{head.pk}/change/", typed)

    assert response.status_code == 200
    assert input_value(response, "amount") == "-1"
    assert input_value(response, "description") == "Changed my mind"
    head.refresh_from_db()
    assert (head.amount_claimed, head.description) == (Decimal("35.00"), LOSS["description"])


# --- Another claim's items are not there ---------------------------------------------------


@pytest.fixture
def other_claims_item(scheme) -> HeadOfLoss:
    from django.test import Client

    other = Client()
    claim = start_claim(other, scheme)
    other.post("/claim/losses/add/bank_charges/", LOSS)
    return claim.heads_of_loss.get()


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("action", ["change", "remove"])
def test_another_claims_item_is_404_and_untouched(client, draft, other_claims_item, method, action):
    response = getattr(client, method)(
        f"/claim/losses/{other_claims_item.pk}/{action}/", {**LOSS, "amount": "999"}
    )

    assert response.status_code == 404
    other_claims_item.refresh_from_db()
    assert other_claims_item.amount_claimed == Decimal("35.00")
    assert not draft.heads_of_loss.exists()


def test_an_item_that_does_not_exist_is_404(client, draft):
    assert client.get("/claim/losses/999999/change/").status_code == 404
    assert client.post("/claim/losses/999999/remove/").status_code == 404
    assert client.post("/claim/files/999999/remove/").status_code == 404


def test_the_distress_item_cannot_be_reached_as_an_ordinary_item(client, draft):
    client.post("/claim/distress/", DISTRESS)
    distress = draft.heads_of_loss.get(category=HeadOfLoss.Category.DISTRESS)

    assert client.get(f"/claim/losses/{distress.pk}/change/").status_code == 404
    assert client.post(f"/claim/losses/{distress.pk}/remove/").status_code == 404
    assert draft.heads_of_loss.filter(pk=distress.pk).exists()


def test_without_a_claimant_session_no_item_can_be_changed(client, other_claims_item):
    stranger = type(client)()

    response = stranger.post(f"/claim/losses/{other_claims_item.pk}/remove/")

    assert response.status_code == 302 and response.url == "/follow/"
    assert HeadOfLoss.objects.filter(pk=other_claims_item.pk).exists()


# --- Submitting twice -------------------------------------------------------------------


def test_a_repeated_post_of_the_check_page_makes_one_claim_and_one_submit_event(client, draft):
    fill_draft(client)

    responses = [client.post("/claim/check/", {"statement_of_truth": "on"}) for _ in range(3)]

    assert [r.status_code for r in responses] == [302, 302, 302]
    assert Claim.objects.count() == 1
    draft.refresh_from_db()
    assert draft.stage == Stage.SUBMITTED
    assert draft.events.filter(action="submit").count() == 1
    assert draft.status_updates.filter(kind="acknowledgement").count() == 1


def test_a_second_browser_posting_the_same_check_page_makes_no_second_submission(
    client, draft, scheme
):
    fill_draft(client)
    second = type(client)()
    sign_in_as_claimant(second, draft)

    first = client.post("/claim/check/", {"statement_of_truth": "on"})
    again = second.post("/claim/check/", {"statement_of_truth": "on"})

    assert first.status_code == again.status_code == 302
    assert draft.events.filter(action="submit").count() == 1
    assert Claim.objects.count() == 1


def test_a_second_claim_cannot_be_opened_with_a_notice_already_used(client, scheme):
    entry = RegisterEntryFactory(scheme=scheme, notice_code="7K3M-9Q2P-4HXT", postcode="LS1 4AP")
    start_claim(client, scheme, entry)
    second = type(client)()

    second.post(
        f"/s/{scheme.slug}/start/", {"notice_code": entry.notice_code, "postcode": "LS1 4AP"}
    )
    response = second.post("/claim/contact/", CONTACT)

    assert response.status_code == 302 and response.url == "/"
    assert Claim.objects.count() == 1


# --- After submitting: answers, declining, bank details, withdrawing ------------------------


@pytest.fixture
def claim_at(client, scheme):
    def at(stage: Stage) -> Claim:
        claim = claim_in_stage(stage, scheme=scheme)
        sign_in_as_claimant(client, claim)
        return claim

    return at


AFTER_SUBMITTING = {
    "respond": (
        Stage.INFORMATION_REQUESTED,
        "/my-claim/respond/",
        "response",
        "id_response",
        "Your answer must be 5,000 characters or fewer.",
    ),
    "decline": (
        Stage.OFFER_MADE,
        "/my-claim/offer/decline/",
        "reason",
        "id_reason",
        "Your reason must be 5,000 characters or fewer.",
    ),
    "withdraw": (
        Stage.SUBMITTED,
        "/my-claim/withdraw/",
        "reason",
        "id_reason",
        "Your reason must be 5,000 characters or fewer.",
    ),
    "bank": (
        Stage.ACCEPTED,
        "/my-claim/bank-details/",
        "account_name",
        "id_account_name",
        "The name must be 140 characters or fewer.",
    ),
}
BANK = {"account_name": "Zoë O'Brien", "sort_code": "30-94-57", "account_number": "12345678"}


def _valid(kind: str) -> dict[str, str]:
    return BANK if kind == "bank" else {AFTER_SUBMITTING[kind][2]: "I disagree with item 2."}


@pytest.mark.parametrize("kind", AFTER_SUBMITTING)
def test_after_submitting_a_nul_byte_is_refused_and_the_stage_is_unchanged(client, claim_at, kind):
    stage, path, field, field_id, _ = AFTER_SUBMITTING[kind]
    claim = claim_at(stage)

    response = client.post(path, {**_valid(kind), field: "Zo\x00ë"})

    assert_field_error(response, field_id, NUL_MESSAGE)
    claim.refresh_from_db()
    assert claim.stage == stage
    assert not BankDetails.objects.filter(claim=claim).exists()


@pytest.mark.parametrize("kind", AFTER_SUBMITTING)
def test_after_submitting_10000_characters_are_refused_with_the_limit(client, claim_at, kind):
    stage, path, field, field_id, message = AFTER_SUBMITTING[kind]
    claim = claim_at(stage)

    response = client.post(path, {**_valid(kind), field: LONG})

    assert_field_error(response, field_id, message)
    claim.refresh_from_db()
    assert claim.stage == stage


@pytest.mark.parametrize(
    ("field", "value", "field_id", "message"),
    [
        ("sort_code", "30-94-5", "id_sort_code", "Enter a sort code of 6 digits, like 30-94-57."),
        ("sort_code", "ab-cd-ef", "id_sort_code", "Enter a sort code of 6 digits, like 30-94-57."),
        (
            "sort_code",
            "３０９４５７",
            "id_sort_code",
            "Enter a sort code of 6 digits, like 30-94-57.",
        ),
        ("account_number", "1234567", "id_account_number", "Enter an account number of 8 digits."),
        ("account_number", "1234567\x00", "id_account_number", NUL_MESSAGE),
        ("account_name", "", "id_account_name", "Enter the name on the account."),
    ],
)
def test_bad_bank_details_are_refused_and_the_numbers_are_never_shown_back(
    client, claim_at, field, value, field_id, message
):
    claim = claim_at(Stage.ACCEPTED)

    response = client.post("/my-claim/bank-details/", {**BANK, field: value})

    assert_field_error(response, field_id, message)
    assert not BankDetails.objects.filter(claim=claim).exists()
    assert input_value(response, "account_number") == ""
    assert input_value(response, "sort_code") == ""
    assert "12345678" not in response.content.decode()
    if field != "account_name":
        assert input_value(response, "account_name") == BANK["account_name"]


def test_an_answer_and_a_bank_name_written_as_html_are_shown_as_text(client, scheme, people):
    from claims import core

    claim = claim_in_stage(Stage.INFORMATION_REQUESTED, scheme=scheme, people=people)
    sign_in_as_claimant(client, claim)
    response = client.post("/my-claim/respond/", {"response": SCRIPT + IMG})
    assert response.status_code == 302, error_summary(response)

    assert_shown_as_text(client.get("/my-claim/").content.decode(), SCRIPT, IMG)

    accepted = claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    submission.bank_details_set(
        claim_id=accepted.pk,
        actor=core.Actor.claimant(accepted.pk),
        account_name=SCRIPT,
        sort_code="309457",
        account_number="12345678",
    )
    sign_in_as_claimant(client, accepted)
    for path in ("/my-claim/", "/my-claim/bank-details/"):
        assert_shown_as_text(client.get(path).content.decode(), SCRIPT)


def test_an_answer_in_any_script_is_kept_exactly(client, claim_at):
    claim = claim_at(Stage.INFORMATION_REQUESTED)
    words = "Nguyễn Văn An 李明 Zoë O'Brien 😀"

    client.post("/my-claim/respond/", {"response": words})

    assert claim.messages.get(direction=Message.Direction.FROM_CLAIMANT).body == words
    assert html.escape(words) in client.get("/my-claim/").content.decode()
