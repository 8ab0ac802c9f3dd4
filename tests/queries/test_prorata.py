"""Pro-rata mode: capped categories share a pool; each claimant's share, projected live
while the window is open, is a_c × P / T rounded down, and never adds up past the pool."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from claims.actions.access import access_link_issue
from claims.domain import roles
from claims.domain.stages import Stage
from claims.models import HeadOfLoss, Scheme
from claims.queries.prorata import ProRata, pro_rata_estimate, pro_rata_projection
from tests.support.factories import claim_in_stage, staff

CAPPED = [HeadOfLoss.Category.UNAUTHORISED_TRANSACTIONS]


def _pro_rata(scheme: Scheme, pool: str, categories=CAPPED) -> Scheme:
    Scheme.objects.filter(pk=scheme.pk).update(
        pro_rata=True, pro_rata_pool=Decimal(pool), pro_rata_categories=list(categories)
    )
    scheme.refresh_from_db()
    return scheme


@pytest.mark.django_db
def test_a_scheme_not_in_pro_rata_mode_has_no_projection(scheme, people):
    claim = claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=people)

    assert pro_rata_projection(scheme) is None
    assert pro_rata_estimate(claim, cached=False) is None


@pytest.mark.django_db
def test_shares_are_reduced_in_proportion_when_claims_exceed_the_pool(scheme, people):
    # Three claims of £35.00 (unassessed: the amount claimed stands in) ask £105.00 of £70.00.
    claims = [claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=people) for _ in range(3)]
    claim_in_stage(Stage.WITHDRAWN, scheme=scheme, people=people)  # out of the running
    _pro_rata(scheme, "70.00")

    projection = pro_rata_projection(scheme, today=scheme.claims_open)
    estimate = pro_rata_estimate(claims[0], cached=False)

    assert projection.capped_total == Decimal("105.00") and projection.claims == 3
    assert projection.reduced and projection.percent == Decimal("66.6")
    assert projection.unassessed == 3 and not projection.final
    assert estimate.capped == Decimal("35.00")
    assert estimate.share == Decimal("23.33")  # 35 × 70 / 105 = 23.333… rounded down
    assert 3 * estimate.share <= projection.pool


@pytest.mark.django_db
def test_everyone_is_paid_in_full_when_the_pool_covers_the_claims(scheme, people):
    claim = claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=people)
    _pro_rata(scheme, "1000.00")

    estimate = pro_rata_estimate(claim, cached=False)

    assert not estimate.projection.reduced and estimate.share == Decimal("35.00")
    assert estimate.projection.percent == Decimal("100.0")


@pytest.mark.django_db
def test_the_projection_uses_amounts_allowed_and_is_final_once_closed_and_assessed(scheme, people):
    claim_in_stage(Stage.OFFER_MADE, scheme=scheme, people=people)  # assessed: £35.00 allowed
    paid = claim_in_stage(Stage.ACCEPTED, scheme=scheme, people=people)
    head = paid.heads_of_loss.get()
    HeadOfLoss.objects.filter(pk=head.pk).update(amount_allowed=Decimal("5.00"))
    _pro_rata(scheme, "20.00")
    after_close = scheme.claims_close + dt.timedelta(days=1)

    projection = pro_rata_projection(scheme, today=after_close)

    assert projection.capped_total == Decimal("40.00") and projection.final
    assert projection.share(Decimal("35.00")) == Decimal("17.50")
    assert projection.share(Decimal("5.00")) == Decimal("2.50")


@given(
    amounts=st.lists(
        st.decimals(min_value="0.01", max_value="5000", places=2), min_size=1, max_size=40
    ),
    pool=st.decimals(min_value="0", max_value="100000", places=2),
)
def test_shares_never_add_up_to_more_than_the_pool(amounts, pool):
    total = sum(amounts, Decimal("0"))
    projection = ProRata(
        pool=pool, capped_total=total, claims=len(amounts), unassessed=0,
        window_closed=True, categories=("time_spent",),
    )  # fmt: skip

    shares = [projection.share(amount) for amount in amounts]

    assert sum(shares) <= (pool if total > pool else total)
    if total <= pool:
        assert shares == amounts
    assert all(
        Decimal("0") <= share <= amount for share, amount in zip(shares, amounts, strict=True)
    )
    if total > pool:
        # Rounding down loses less than a penny a claim.
        assert pool - sum(shares) < Decimal("0.01") * len(amounts)


@pytest.mark.django_db
def test_the_dashboard_shows_the_projection(client, scheme, people):
    claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=people)
    claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=people)
    _pro_rata(scheme, "35.00")
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    page = client.get(reverse("admin:claims_claim_dashboard"), {"scheme": scheme.pk})

    text = page.content.decode()
    assert "Pro-rata pool: projection" in text
    assert "<strong>50.0%</strong>" in text and "Unauthorised transactions share a pool" in text


@pytest.mark.django_db
def test_the_claimant_sees_their_estimated_share(client, scheme, people):
    claim = claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=people)
    claim_in_stage(Stage.ASSESSMENT, scheme=scheme, people=people)
    _pro_rata(scheme, "35.00")
    client.post(f"/link/{access_link_issue(claim=claim, purpose='follow')}/")

    page = client.get("/my-claim/").content.decode()

    assert "An estimate of your share" in page
    assert "each is paid 50.0% of its amount" in page
    assert "about £17.50" in page and "This is an estimate, not an offer" in page


@pytest.mark.django_db
def test_pro_rata_settings_are_checked_in_the_admin(client, scheme):
    admin_user = staff(roles.SCHEME_ADMINISTRATOR)
    client.force_login(admin_user)
    url = reverse("admin:claims_scheme_change", args=[scheme.pk])
    form = client.get(url).context["adminform"].form
    data = {
        name: value
        for name, value in form.initial.items()
        if value is not None and name not in {"letter_logo", "pro_rata_categories"}
    }
    data.update(
        {
            "pro_rata": "on",
            "pro_rata_pool": "9999999.00",
            "distress_bands-TOTAL_FORMS": "0",
            "distress_bands-INITIAL_FORMS": "0",
        }
    )

    response = client.post(url, data)

    text = response.content.decode()
    assert "Choose the categories that share the pool." in text
    assert "The pool cannot be more than the fund." in text
    scheme.refresh_from_db()
    assert not scheme.pro_rata
