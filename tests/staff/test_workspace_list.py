"""The claims list (queues, filters, search, columns), the claim page's cost, the
evidence view and the scheme dashboard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from claims.actions import casework, submission
from claims.core import Actor
from claims.domain import roles
from claims.domain.stages import Stage
from claims.models import AuditEvent, Claim, ClaimFlag, Evidence, HeadOfLoss
from claims.queries import queues
from tests.support.factories import (
    People,
    SchemeFactory,
    claim_in_stage,
    draft_claim,
    pdf_evidence,
    staff,
)

pytestmark = pytest.mark.django_db

CLAIMS_LIST = reverse("admin:claims_claim_changelist")
HOSTILE = '<script>alert(1)</script><img src=x onerror="alert(2)">'
LONG_WORD = "A" * 5000


def listed(response) -> list[Claim]:
    return list(response.context["cl"].result_list)


def page_url(claim: Claim) -> str:
    return reverse("admin:claims_claim_change", args=[claim.pk])


@pytest.fixture
def claims(people):
    """One claim in each queue's situation, all in one scheme."""
    scheme = SchemeFactory()
    made = {
        stage: claim_in_stage(stage, scheme=scheme, people=people)
        for stage in [
            Stage.SUBMITTED,
            Stage.ASSESSMENT,
            Stage.INFORMATION_REQUESTED,
            Stage.OFFER_PENDING_APPROVAL,
            Stage.OFFER_MADE,
            Stage.PAID,
            Stage.REJECTED,
        ]
    }
    return made


def test_every_queue_is_one_click_and_holds_the_right_claims(client, claims, people):
    client.force_login(people.caseworker)
    listing = client.get(CLAIMS_LIST).content.decode()
    expect = {
        "mine": {
            Stage.ASSESSMENT,
            Stage.INFORMATION_REQUESTED,
            Stage.OFFER_PENDING_APPROVAL,
            Stage.OFFER_MADE,
            Stage.PAID,
        },
        "unassigned": {Stage.SUBMITTED},
        "awaiting_claimant": {Stage.INFORMATION_REQUESTED, Stage.OFFER_MADE},
        "to_approve": {Stage.OFFER_PENDING_APPROVAL},
        "overdue": set(),
        # Every claim here shares one email and none is on the register: all flagged.
        "flagged": {
            Stage.SUBMITTED,
            Stage.ASSESSMENT,
            Stage.INFORMATION_REQUESTED,
            Stage.OFFER_PENDING_APPROVAL,
            Stage.OFFER_MADE,
            Stage.PAID,
        },
    }
    for queue, stages in expect.items():
        assert f'href="{CLAIMS_LIST}?queue={queue}"' in listing, queue
        found = {Stage(c.stage) for c in listed(client.get(CLAIMS_LIST, {"queue": queue}))}
        assert found == stages, queue


def test_the_overdue_queue_holds_claims_past_their_due_date(claims, people):

    later = timezone.now() + dt.timedelta(days=60)
    with time_machine.travel(later):
        overdue = queues.queue(Claim.objects.all(), "overdue", people.caseworker)
        found = {Stage(c.stage) for c in overdue}
    assert found == {
        Stage.SUBMITTED,
        Stage.ASSESSMENT,
        Stage.INFORMATION_REQUESTED,
        Stage.OFFER_PENDING_APPROVAL,
        Stage.OFFER_MADE,
        Stage.PAID,
    }


def test_the_flagged_queue_and_the_flag_filter(client, claims, people):
    flagged = claims[Stage.ASSESSMENT]
    ClaimFlag.objects.create(
        claim=flagged, kind=ClaimFlag.Kind.HIGH_AMOUNT, reason="Claims a great deal"
    )
    client.force_login(people.caseworker)

    assert listed(client.get(CLAIMS_LIST, {"flag": "high_amount"})) == [flagged]
    assert listed(client.get(CLAIMS_LIST, {"flag": "same_bank_account"})) == []
    listing = client.get(CLAIMS_LIST).content.decode()
    assert 'title="Claims a great deal"' in listing


def test_filters_by_stage_scheme_caseworker_and_age(client, claims, people):
    other_scheme_claim = claim_in_stage(Stage.SUBMITTED)
    client.force_login(people.caseworker)

    by_stage = listed(client.get(CLAIMS_LIST, {"stage__exact": "assessment"}))
    by_scheme = listed(client.get(CLAIMS_LIST, {"scheme__id__exact": other_scheme_claim.scheme_id}))
    by_person = listed(client.get(CLAIMS_LIST, {"assigned": people.caseworker.pk}))
    unassigned = listed(client.get(CLAIMS_LIST, {"assigned": "none"}))
    new = listed(client.get(CLAIMS_LIST, {"age": "0"}))
    old = listed(client.get(CLAIMS_LIST, {"age": "3"}))

    assert by_stage == [claims[Stage.ASSESSMENT]]
    assert by_scheme == [other_scheme_claim]
    assert claims[Stage.ASSESSMENT] in by_person and other_scheme_claim not in by_person
    assert set(unassigned) == {claims[Stage.SUBMITTED], other_scheme_claim}
    assert len(new) == 8 and old == []


def test_the_list_shows_the_workspace_columns(client, claims, people):
    client.force_login(people.caseworker)

    response = client.get(CLAIMS_LIST)
    page = response.content.decode()

    for heading in [
        "Reference",
        "Claimant",
        "Stage",
        "Working days in stage",
        "Due by",
        "Assigned to",
        "Amount claimed",
        "Flags",
    ]:
        assert heading in page, heading
    assert "£35.00" in page


@pytest.mark.parametrize(
    "typed",
    [str.upper, str.lower, lambda r: r.replace("-", ""), lambda r: r.replace("-", " ")],
)
def test_search_by_reference_with_or_without_hyphens(client, claims, people, typed):
    claim = claims[Stage.ASSESSMENT]
    client.force_login(people.caseworker)

    assert listed(client.get(CLAIMS_LIST, {"q": typed(claim.reference)})) == [claim]


def test_search_by_name_email_and_postcode(client, people):
    claim = draft_claim(full_name="Ada Lovelace", email="ada@example.test", postcode="ec1a1bb")
    draft_claim(full_name="Charles Babbage", email="charles@example.test", postcode="SW1A 1AA")
    client.force_login(people.caseworker)

    for term in ["lovelace", "ADA@example.test", "ec1a 1bb", "EC1A1BB"]:
        assert listed(client.get(CLAIMS_LIST, {"q": term})) == [claim], term


# --- a fixed number of queries --------------------------------------------------------


def _busy_claim(people: People, heads: int, notes: int) -> Claim:
    claim = claim_in_stage(Stage.ASSESSMENT, people=people)
    for number in range(heads):
        head = claim.heads_of_loss.create(
            category=HeadOfLoss.Category.OTHER_COSTS, amount_claimed=Decimal("10.00")
        )
        Evidence.objects.create(
            claim=claim, head_of_loss=head, file=f"evidence/{claim.pk}/{number}",
            original_name=f"receipt-{number}.pdf", content_type="application/pdf", size=10,
            sha256="c" * 64,
        )  # fmt: skip
    for number in range(notes):
        casework.note_add(
            claim_id=claim.pk, actor=Actor.staff(people.caseworker), text=f"n{number}"
        )
    ClaimFlag.objects.create(claim=claim, kind=ClaimFlag.Kind.HIGH_AMOUNT, reason="High")
    return claim


def test_the_claims_list_runs_the_same_queries_for_one_claim_as_for_many(
    client, people, django_assert_num_queries
):
    client.force_login(people.caseworker)
    _busy_claim(people, heads=1, notes=1)
    client.get(CLAIMS_LIST)  # warm caches that are not per request
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(CLAIMS_LIST)
    expected = len(one)  # now: the next request empties Django's query log
    for _ in range(6):
        _busy_claim(People(), heads=3, notes=2)  # other schemes, other caseworkers
    client.get(CLAIMS_LIST)  # new staff and schemes: the cached lists are read again

    with django_assert_num_queries(expected):
        response = client.get(CLAIMS_LIST)
    assert len(listed(response)) == 7


WORKSPACE_PAGES = {
    "claims list": {},
    "unassigned": {"queue": "unassigned"},
    "my claims": {"queue": "mine"},
    "overdue": {"queue": "overdue"},
}


def _workspace_claims(count: int, me: People, others: list[People]) -> list[Claim]:
    """`count` claims across two schemes, for every queue: unassigned, mine, a
    colleague's, and overdue ones; each flagged as sharing an email with the others, and
    some flagged as high too."""
    schemes = [SchemeFactory(), SchemeFactory()]
    made = []
    for number in range(count):
        scheme = schemes[number % 2]
        if number % 3 == 0:
            claim = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=me)
        elif number % 3 == 1:
            claim = claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=me)
        else:
            colleague = others[number % len(others)]
            claim = claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=colleague)
        if number % 4 == 2:  # left waiting well past its service standard
            waited = timezone.now() - dt.timedelta(days=60)
            Claim.objects.filter(pk=claim.pk).update(stage_changed_at=waited)
        if number % 3 == 0:
            ClaimFlag.objects.create(claim=claim, kind=ClaimFlag.Kind.HIGH_AMOUNT, reason="High")
        made.append(claim)
    return made


def test_every_workspace_page_runs_the_same_queries_for_a_few_claims_as_for_many(client, people):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    others = [People(), People()]
    first = _workspace_claims(3, people, others)[0]
    pages = {**WORKSPACE_PAGES, "reference search": {"q": first.reference}}
    client.force_login(people.caseworker)

    def queries_and_rows() -> dict[str, tuple[int, int]]:
        found = {}
        for name, query in pages.items():
            client.get(CLAIMS_LIST, query)  # new staff and schemes: cached lists read again
            with CaptureQueriesContext(connection) as queries:
                response = client.get(CLAIMS_LIST, query)
            assert response.status_code == 200, name
            found[name] = (len(queries), len(listed(response)))
        return found

    few = queries_and_rows()
    _workspace_claims(37, people, others)
    many = queries_and_rows()

    for name in pages:
        assert many[name][0] == few[name][0], (name, few[name], many[name])
    for name in WORKSPACE_PAGES:
        assert many[name][1] > few[name][1] > 0, (name, few[name], many[name])
    assert many["reference search"][1] == few["reference search"][1] == 1


def test_the_claim_page_runs_the_same_queries_whatever_it_holds(
    client, people, django_assert_num_queries
):
    client.force_login(people.caseworker)
    small = _busy_claim(people, heads=1, notes=1)
    large = _busy_claim(people, heads=12, notes=20)
    client.get(page_url(small))  # warm the fund figures' cache for the scheme
    client.get(page_url(large))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as one:
        client.get(page_url(small))

    assert AuditEvent.objects.filter(claim=large).count() > 20
    with django_assert_num_queries(len(one)):
        response = client.get(page_url(large))
    assert len(response.context["page"].heads) == 13


# --- hostile text ---------------------------------------------------------------------


def test_hostile_claimant_text_renders_inert_everywhere(client, people):
    claim = draft_claim(full_name=HOSTILE, address=HOSTILE + LONG_WORD)
    submission.head_of_loss_add(
        claim_id=claim.pk,
        actor=Actor.claimant(claim.pk),
        category=HeadOfLoss.Category.OTHER_COSTS,
        amount_claimed="12.00",
        description=HOSTILE + " " + LONG_WORD,
    )
    submission.claim_submit(
        claim_id=claim.pk, actor=Actor.claimant(claim.pk), statement_of_truth=True
    )
    casework.note_add(claim_id=claim.pk, actor=Actor.staff(people.caseworker), text=HOSTILE)
    client.force_login(people.caseworker)

    listing = client.get(CLAIMS_LIST).content.decode()
    page = client.get(page_url(claim)).content.decode()

    for html in (listing, page):
        assert "<script>alert(1)" not in html
        assert "onerror=" not in html.replace("onerror=&quot;", "")
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert LONG_WORD in page
    css = client.get("/static/redress-admin/workspace.css")
    assert css.status_code in {200, 404}  # served by whitenoise only after collectstatic
    assert "redress-admin/workspace.css" in page


# --- evidence, opened through an authorised view -----------------------------------------


@pytest.fixture
def evidence(people, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return pdf_evidence(claim_in_stage(Stage.ASSESSMENT, people=people))


def evidence_url(item: Evidence, **query: str) -> str:
    url = reverse("admin:claims_claim_evidence", args=[item.claim_id, item.pk])
    return url + ("?download=1" if query else "")


def test_caseworkers_open_evidence_in_the_browser_without_sniffing(client, people, evidence):
    client.force_login(people.caseworker)

    response = client.get(evidence_url(evidence))
    download = client.get(evidence_url(evidence, download="1"))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert download["Content-Disposition"].startswith("attachment")
    assert download["Content-Type"] == "application/octet-stream"


def test_a_file_of_any_other_type_is_only_downloaded(client, people, evidence):
    Evidence.objects.filter(pk=evidence.pk).update(content_type="text/html")
    client.force_login(people.caseworker)

    response = client.get(evidence_url(evidence))

    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "application/octet-stream"
    assert "sandbox" in response["Content-Security-Policy"]


@pytest.mark.parametrize("role", [roles.FINANCE_OFFICER, roles.SCHEME_ADMINISTRATOR])
def test_roles_that_may_not_see_evidence_cannot_open_it(client, role, evidence):
    client.force_login(staff(role))

    assert client.get(evidence_url(evidence)).status_code == 403


def test_evidence_of_another_claim_is_not_found_through_this_one(client, people, evidence):
    other = claim_in_stage(Stage.SUBMITTED, people=people)
    client.force_login(people.caseworker)

    url = reverse("admin:claims_claim_evidence", args=[other.pk, evidence.pk])
    assert client.get(url).status_code == 404


# --- the scheme dashboard ------------------------------------------------------------------


def test_the_scheme_administrator_sees_the_dashboard(client, claims, people):
    scheme = claims[Stage.PAID].scheme
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    response = client.get(reverse("admin:claims_claim_dashboard"), {"scheme": scheme.pk})
    board = response.context["board"]
    page = response.content.decode()

    assert response.status_code == 200
    assert board.received == 7
    assert dict((value, n) for value, _, n in board.by_stage)["paid"] == 1
    assert board.offers_made == 2  # offer made, paid
    assert board.accepted == 1 and board.paid_count == 1
    assert board.fund.paid == Decimal("35.00")
    assert board.fund.offered == Decimal("35.00")
    assert board.fund.awaiting_approval == Decimal("1800.00")
    # Offers awaiting approval do not yet bind the fund.
    assert board.fund.remaining == Decimal("5000000.00") - Decimal("70.00")
    assert board.fund.remaining_after_approvals == Decimal("5000000.00") - Decimal("1870.00")
    assert "<svg" in page and "Claims in each stage" in page
    assert sum(n for _, n in board.ageing) == 6  # open claims: all but the rejected one


@pytest.mark.parametrize("role", [roles.CASEWORKER, roles.FINANCE_OFFICER])
def test_roles_without_reports_cannot_open_the_dashboard(client, role):
    client.force_login(staff(role))

    assert client.get(reverse("admin:claims_claim_dashboard")).status_code == 403


# --- counting a long list ----------------------------------------------------------------


def test_a_list_longer_than_the_count_cap_says_more_than_and_pages_only_that_far(
    client, people, monkeypatch
):
    from claims.staff.claims import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "CAP", 3)
    monkeypatch.setattr("claims.staff.claims.ClaimAdmin.list_per_page", 2)
    scheme = SchemeFactory()
    for _ in range(5):
        draft_claim(scheme=scheme)
    client.force_login(people.caseworker)

    first = client.get(CLAIMS_LIST)
    second = client.get(CLAIMS_LIST, {"p": "2"})
    beyond = client.get(CLAIMS_LIST, {"p": "3"})

    assert first.context["cl"].paginator.count == 4  # counted no further than the cap
    assert "More than 3 claims" in first.content.decode()
    assert first.context["cl"].paginator.num_pages == 2  # the first 3 rows, 2 a page
    assert len(listed(second)) == 2
    assert beyond.status_code == 302  # past the pages counted: back to the list
    assert "Select all the matching claims" in first.content.decode()


def test_a_short_list_is_counted_exactly(client, claims, people):
    client.force_login(people.caseworker)

    page = client.get(CLAIMS_LIST, {"queue": "awaiting_claimant"}).content.decode()

    assert "2 claims" in page and "More than" not in page


def test_the_list_offers_no_per_filter_counts(client, claims, people):
    client.force_login(people.caseworker)

    page = client.get(CLAIMS_LIST, {"_facets": "True"}).content.decode()

    assert "Show counts" not in page and "Hide counts" not in page
    assert "My claims</a>" in page


@pytest.mark.postgres
def test_the_estimate_past_the_cap_is_read_once_for_the_same_filters(monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from claims.staff.claims import CappedCountPaginator

    monkeypatch.setattr(CappedCountPaginator, "CAP", 3)
    scheme = SchemeFactory()
    for _ in range(5):
        draft_claim(scheme=scheme)
    claims = Claim.objects.filter(scheme=scheme).order_by("-id")

    with CaptureQueriesContext(connection) as queries:
        first = CappedCountPaginator(claims, 2).estimate
        again = CappedCountPaginator(claims, 2).estimate
        other = CappedCountPaginator(claims.exclude(pk=0), 2).estimate

    explains = [q["sql"] for q in queries if q["sql"].startswith("EXPLAIN")]
    assert first == again  # the planner's figure, whatever it is
    assert other is None or other > 3
    assert len(explains) == 2  # once for each set of filters


def test_the_assign_menu_escapes_names_and_marks_the_chosen_option():
    from claims.staff.claims import AssignForm

    form = AssignForm(auto_id=None, initial={"assignee": "2"})
    form.fields["assignee"].widget.choices = [("", "---"), ('a"b', "<b>Ann & Bo</b>"), ("2", "Cy")]

    html = str(form["assignee"])

    assert html.startswith('<select name="assignee">')
    assert '<option value="a&quot;b">&lt;b&gt;Ann &amp; Bo&lt;/b&gt;</option>' in html
    assert '<option value="2" selected>Cy</option>' in html
    assert "<b>" not in html


def test_a_claim_page_that_does_not_exist_tells_nothing_to_someone_who_may_not_view_claims(
    client,
):
    from django.contrib.auth.models import User

    claim = claim_in_stage(Stage.ASSESSMENT)
    outsider = User.objects.create_user("outsider", "o@example.com", "x" * 20, is_staff=True)
    client.force_login(outsider)

    real = client.get(page_url(claim))
    missing = client.get(reverse("admin:claims_claim_change", args=[claim.pk + 1000]))

    assert real.status_code == missing.status_code == 403


def test_a_claim_page_address_that_is_not_a_number_is_not_found(client, people):
    client.force_login(people.caseworker)

    assert client.get("/admin/claims/claim/abc/change/").status_code == 404


def test_a_filter_that_can_match_nothing_lists_nothing(client, people):
    from claims.staff.claims import CappedCountPaginator

    paginator = CappedCountPaginator(Claim.objects.filter(pk__in=[]), 50)

    assert paginator.count == 0
    assert paginator.summary == "0 claims"
