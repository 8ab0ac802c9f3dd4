"""Staff sign in with a password and a second factor; without it no staff page opens;
repeated password failures lock the account for a while."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from claims.domain import roles
from claims.domain.stages import Stage
from tests.support.factories import UserFactory, claim_in_stage, staff
from tests.support.staff_login import enrol, totp_code

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"
LOGIN = reverse("account_login")


def fresh_client() -> Client:
    # Each test from its own address, so allauth's per-address limits never carry over.
    return Client(REMOTE_ADDR=f"10.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}.7")


def staff_with_password(role: str | None = roles.CASEWORKER, **kwargs: Any) -> Any:
    user = staff(role, **kwargs) if role else UserFactory(**kwargs)
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in_with_password(client: Client, user: Any, password: str = PASSWORD) -> Any:
    return client.post(LOGIN, {"login": user.username, "password": password})


def admin_urls() -> list[str]:
    """Every admin URL, with a real object id wherever one is needed."""
    claim = claim_in_stage(Stage.ASSESSMENT)
    ids = {"object_id": str(claim.pk), "claim_id": claim.pk, "evidence_id": 1}
    urls: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and pattern.name:
                try:
                    urls.append(
                        reverse(
                            f"admin:{pattern.name}",
                            kwargs={k: v for k, v in ids.items() if k in pattern.pattern.converters}
                            or None,
                        )
                    )
                except Exception:  # noqa: S112 - patterns with arguments this test cannot fill
                    continue

    walk(admin.site.get_urls(), "")
    return sorted(set(urls))


def test_a_staff_user_without_a_second_factor_reaches_no_admin_page():
    user = UserFactory(is_superuser=True)
    client = fresh_client()
    client.force_login(user)
    urls = admin_urls()

    assert len(urls) > 40
    for url in urls:
        for response in (client.get(url), client.post(url, {"post": "yes"})):
            assert response.status_code == 302, url
            assert response["Location"].startswith(reverse("mfa_activate_totp")), url


def test_a_session_that_skipped_the_totp_stage_is_asked_for_it(client):
    user = staff_with_password()
    enrol(user)
    plain = fresh_client()
    plain.force_login(user)  # as if the TOTP stage were skipped

    response = plain.get(reverse("admin:claims_claim_changelist"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_reauthenticate"))


def test_admin_login_sends_staff_to_the_staff_sign_in():
    response = fresh_client().get(reverse("admin:login"))

    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_password_then_totp_code_opens_the_staff_site():
    user = staff_with_password()
    secret = enrol(user)
    client = fresh_client()

    after_password = sign_in_with_password(client, user)
    blocked = client.get(reverse("admin:index"))
    after_code = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    index = client.get(reverse("admin:index"))

    assert after_password.status_code == 302
    assert after_password["Location"].startswith(reverse("mfa_authenticate"))
    assert blocked.status_code == 302  # not signed in until the code is given
    assert after_code.status_code == 302
    assert index.status_code == 200
    assert b"My claims" in index.content


def test_a_wrong_totp_code_does_not_sign_in():
    user = staff_with_password()
    enrol(user)
    client = fresh_client()
    sign_in_with_password(client, user)

    response = client.post(reverse("mfa_authenticate"), {"code": "000000"})

    assert response.status_code == 200
    assert client.get(reverse("admin:index")).status_code == 302


def test_new_staff_enrol_on_first_sign_in_and_get_recovery_codes():
    user = staff_with_password()
    client = fresh_client()

    sign_in_with_password(client, user)
    sent_to = client.get(reverse("admin:claims_claim_changelist"))
    page = client.get(sent_to["Location"])
    secret = page.context["form"].secret
    enrolled = client.post(reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    codes = client.get(enrolled["Location"])
    claims_list = client.get(reverse("admin:claims_claim_changelist"))

    assert sent_to["Location"].startswith(reverse("mfa_activate_totp"))
    assert page.status_code == 200
    assert enrolled["Location"] == reverse("mfa_view_recovery_codes")
    assert codes.status_code == 200
    assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert claims_list.status_code == 200


def test_a_recovery_code_stands_in_for_a_lost_phone():
    user = staff_with_password()
    secret = enrol(user)
    client = fresh_client()
    sign_in_with_password(client, user)
    page = client.get(reverse("mfa_activate_totp"))  # enrolled: redirects elsewhere
    assert page.status_code == 302
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    code = RecoveryCodes.activate(user).get_unused_codes()[0]
    del secret

    client.post(reverse("mfa_authenticate"), {"code": code})

    assert client.get(reverse("admin:index")).status_code == 200


def test_no_one_can_sign_up():
    response = fresh_client().get(reverse("account_signup"))

    assert b"Sign Up Closed" in response.content or response.status_code in {302, 403, 404}


def test_repeated_password_failures_lock_the_account_for_a_while(settings):
    user = staff_with_password()
    secret = enrol(user)
    client = fresh_client()

    for _ in range(settings.AXES_FAILURE_LIMIT):
        failed = sign_in_with_password(client, user, "wrong password")
        assert failed.status_code in {200, 429}
    locked = sign_in_with_password(client, user)

    assert locked.status_code in {200, 429}
    assert not locked.get("Location", "").startswith(reverse("mfa_authenticate"))
    assert client.get(reverse("admin:index")).status_code == 302
    from axes.models import AccessAttempt

    assert AccessAttempt.objects.filter(username=user.username).exists()

    later = dt.datetime.now(dt.UTC) + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1)
    with time_machine.travel(later):
        retry = sign_in_with_password(fresh_client(), user)
    assert retry.status_code == 302
    assert retry["Location"].startswith(reverse("mfa_authenticate"))
    assert re.fullmatch(r"\d{6}", totp_code(secret))


def test_a_lockout_is_per_account_not_per_office():
    locked_out = staff_with_password()
    colleague = staff_with_password()
    enrol(colleague)
    client = fresh_client()
    for _ in range(6):
        sign_in_with_password(client, locked_out, "wrong password")

    response = sign_in_with_password(client, colleague)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_authenticate"))


def test_the_sign_in_page_offers_no_sign_up():
    page = fresh_client().get(LOGIN).content.decode()

    assert "Sign in to Redress" in page
    assert reverse("account_signup") not in page
