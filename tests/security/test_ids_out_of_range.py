"""A number too long to be a row's id, in a URL or a query string, names no row: the
page answers as for any id that names nothing, never with a server error (issue 17)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from claims.domain.references import IdConverter, parse_id

pytestmark = pytest.mark.django_db

HUGE = "9" * 20  # past a 64-bit key: SQLite cannot bind it, PostgreSQL refuses it


def test_parse_id_takes_digits_that_fit_and_nothing_else() -> None:
    assert parse_id("42") == 42
    assert parse_id(" 7 ") == 7
    assert parse_id("9" * 18) == int("9" * 18)
    for text in (HUGE, "", None, "-1", "4.2", "١٢", "0x10", "12a"):
        assert parse_id(text) is None, text


def test_the_url_converter_matches_what_parse_id_takes() -> None:
    import re

    assert re.fullmatch(IdConverter.regex, "9" * 18)
    assert not re.fullmatch(IdConverter.regex, "9" * 19)


def test_the_claim_page_of_a_huge_id_says_the_claim_does_not_exist(client, people) -> None:
    client.force_login(people.caseworker)

    response = client.get(f"/admin/claims/claim/{HUGE}/change/", follow=True)

    assert response.status_code == 200
    assert "doesn’t exist" in " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_the_claims_list_filtered_by_a_huge_assignee_id_is_an_empty_list(client, people) -> None:
    client.force_login(people.caseworker)

    response = client.get(f"/admin/claims/claim/?assigned={HUGE}")

    assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/claims/claim/{HUGE}/transition/",
        f"/admin/claims/claim/{HUGE}/evidence/1/",
        f"/admin/claims/letter/{HUGE}/download/",
        f"/admin/claims/paymentbatch/{HUGE}/file/",
        f"/admin/claims/claim/{HUGE}/subject-access/",
    ],
)
def test_a_staff_url_with_a_huge_id_names_nothing(client, people, path) -> None:
    """No route takes the number (a 404), the page is not the role's (a 403), or the
    admin's catch-all sends it on to a change page that says there is no such record."""
    client.force_login(people.senior)

    response = client.get(path, follow=True)

    assert response.status_code in (200, 403, 404)
    if response.status_code == 200:
        assert "doesn’t exist" in " ".join(str(m) for m in get_messages(response.wsgi_request))


@pytest.mark.parametrize(
    "path",
    [f"/my-claim/letters/{HUGE}/", f"/my-claim/files/{HUGE}/", f"/claim/losses/{HUGE}/change/"],
)
def test_a_claimant_url_with_a_huge_id_is_not_found(path) -> None:
    assert Client().get(path).status_code == 404
