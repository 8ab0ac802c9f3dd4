"""Permissions, caseworkers and schemes kept in the cache between staff requests
(claims.queries.caching): read from the database once, and afresh the moment anything
they were read from changes, so a role taken away stops working on the next page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import cache, caches
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.domain import roles
from claims.queries import claim_page
from tests.support.factories import SchemeFactory, claim_in_stage, staff

pytestmark = pytest.mark.django_db
CLAIMS_LIST = reverse("admin:claims_claim_changelist")


def fresh(user: User) -> User:
    """The user as the next request loads it: no per-request permission cache."""
    return User.objects.get(pk=user.pk)


def test_permissions_are_read_once_then_from_the_cache(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the new user, committed
        caseworker = staff(roles.CASEWORKER)
    assert fresh(caseworker).has_perm("claims.assess_claim")

    with CaptureQueriesContext(connection) as queries:
        assert fresh(caseworker).has_perm("claims.assess_claim")

    assert not [q for q in queries if "auth_permission" in q["sql"]]


@pytest.mark.parametrize(
    "take_away",
    [
        lambda user: user.groups.clear(),
        lambda user: user.groups.remove(Group.objects.get(name=roles.CASEWORKER)),
        lambda user: Group.objects.get(name=roles.CASEWORKER).user_set.remove(user),
        lambda user: Group.objects.get(name=roles.CASEWORKER).permissions.remove(
            Permission.objects.get(codename="assess_claim")
        ),
        lambda user: Permission.objects.get(codename="assess_claim").delete(),
    ],
    ids=["groups cleared", "group removed", "removed from group", "role changed", "deleted"],
)
def test_a_permission_taken_away_stops_working_at_once(take_away):
    caseworker = staff(roles.CASEWORKER)
    assert fresh(caseworker).has_perm("claims.assess_claim")  # now in the cache

    take_away(caseworker)

    assert not fresh(caseworker).has_perm("claims.assess_claim")


def test_a_permission_given_works_at_once():
    user = staff(roles.FINANCE_OFFICER)
    assert not fresh(user).has_perm("claims.assess_claim")

    user.user_permissions.add(Permission.objects.get(codename="assess_claim"))

    assert fresh(user).has_perm("claims.assess_claim")


def test_a_superuser_demoted_loses_everything_at_once():
    user = staff(roles.FINANCE_OFFICER, is_superuser=True)
    assert fresh(user).has_perm("claims.assess_claim")

    user.is_superuser = False
    user.save()

    assert not fresh(user).has_perm("claims.assess_claim")


def test_a_change_is_renewed_once_a_transaction_and_only_when_it_commits(
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        caseworker = staff(roles.CASEWORKER)
    version = cache.get("redress:roles-version")

    with django_capture_on_commit_callbacks() as renewals:
        for codename in ("add_note", "triage_claim", "view_claim"):
            caseworker.user_permissions.remove(Permission.objects.get(codename=codename))
        assert cache.get("redress:roles-version") == version  # not before the commit

    assert len(renewals) == 1  # however many changes


def test_a_sign_in_does_not_empty_the_cache():
    caseworker = staff(roles.CASEWORKER)
    fresh(caseworker).has_perm("claims.assess_claim")
    version = cache.get("redress:roles-version")

    caseworker.save(update_fields=["last_login"])

    assert cache.get("redress:roles-version") == version


def test_a_new_caseworker_and_a_new_scheme_are_listed_on_the_next_page(client):
    caseworker = staff(roles.CASEWORKER, username="first-caseworker")
    client.force_login(caseworker)
    claim_in_stage("submitted")
    first = client.get(CLAIMS_LIST).content.decode()

    staff(roles.CASEWORKER, username="new-caseworker")
    SchemeFactory(name="A scheme made just now")
    second = client.get(CLAIMS_LIST).content.decode()

    assert "new-caseworker" not in first and "A scheme made just now" not in first
    assert "new-caseworker" in second and "A scheme made just now" in second


def test_with_the_cache_unreachable_the_database_answers(monkeypatch):
    caseworker = staff(roles.CASEWORKER)

    def broken(*args, **kwargs):
        raise ConnectionError("cache down")

    backend = caches["default"]
    monkeypatch.setattr(backend, "get_many", broken)
    monkeypatch.setattr(backend, "set", broken)

    assert fresh(caseworker).has_perm("claims.assess_claim")
    assert not fresh(caseworker).has_perm("claims.approve_offer")


def test_a_changed_distress_band_is_read_afresh(django_capture_on_commit_callbacks):

    with django_capture_on_commit_callbacks(execute=True):
        scheme = SchemeFactory()
    before = [b.name for b in claim_page.distress_bands(scheme)]
    band = scheme.distress_bands.order_by("position").first()

    with django_capture_on_commit_callbacks(execute=True):
        band.name = "Renamed just now"
        band.save()
        assert claim_page.distress_bands(scheme)[0].name == band.name  # before the commit
    with CaptureQueriesContext(connection) as queries:
        first = [b.name for b in claim_page.distress_bands(scheme)]
        again = [b.name for b in claim_page.distress_bands(scheme)]

    assert before and before[0] != "Renamed just now"
    assert first == again == ["Renamed just now", *before[1:]]
    assert len(queries) == 1  # read afresh once, then from the cache


def test_a_remembered_figure_is_never_older_than_its_seconds():
    """Kept in Redis and in the process, a figure is read again once it is as old as
    it may be, wherever it was kept."""
    import time_machine

    from claims.queries import caching

    computed = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    with time_machine.travel("2026-11-25 10:00:00", tick=False) as clock:
        assert caching.remembered("redress:test-figure", 60, compute) == 1
        clock.shift(59)
        assert caching.remembered("redress:test-figure", 60, compute) == 1
        caching._remembered_here.clear()  # another process: Redis's copy, as old
        assert caching.remembered("redress:test-figure", 60, compute) == 1
        clock.shift(2)
        assert caching.remembered("redress:test-figure", 60, compute) == 2
        caching._remembered_here.clear()
        assert caching.remembered("redress:test-figure", 60, compute) == 2
    assert len(computed) == 2


def test_a_value_kept_in_the_process_lasts_no_longer_than_in_redis(monkeypatch):
    """Were a renewal lost (Redis briefly unwritable), a process's copy still ends when
    Redis's would: ENTRY_SECONDS after it was read."""
    from claims.queries import caching

    computed = []

    def compute() -> int:
        computed.append(1)
        return len(computed)

    assert caching.cached("redress:test-kept", caching.ROLES, compute) == 1
    assert caching.cached("redress:test-kept", caching.ROLES, compute) == 1
    cache.delete("redress:test-kept")  # Redis's copy expired; the version still stands
    assert caching.cached("redress:test-kept", caching.ROLES, compute) == 1  # the process's
    later = caching._clock() + caching.ENTRY_SECONDS + 1
    monkeypatch.setattr(caching, "_clock", lambda: later)

    assert caching.cached("redress:test-kept", caching.ROLES, compute) == 2
