"""Letters come only from our templates and packaged assets: claimant text is printed,
never obeyed, and nothing outside the allowlist is ever fetched."""

from __future__ import annotations

import pytest
from django.conf import settings

from claims.actions.demo import ClaimStaff
from claims.delivery import letter_pdf, letters
from claims.delivery.letter_samples import SAMPLE_CLAIMANT, sample_claim_with_offer
from claims.domain.stages import LetterKind
from claims.models import HeadOfLoss
from tests.support.letters import pdf_reader, pdf_text, render

pytestmark = pytest.mark.django_db

HOSTILE = [
    '<img src="file:///etc/passwd">',
    "<link rel=attachment href=file:///etc/passwd>",
    "@import url(http://169.254.169.254/)",
    "{{ settings.SECRET_KEY }}",
]
# What a fetcher must never be asked for, by any letter.
FORBIDDEN = ("file:", "http:", "https:", "data:", "169.254.169.254", "/etc/passwd")


@pytest.fixture
def hostile_claim(scheme, people: ClaimStaff):
    """A claim whose name, address and descriptions are all hostile, taken to an offer."""
    claimant = {
        **SAMPLE_CLAIMANT,
        "full_name": f"Eve {HOSTILE[0]}",
        "address": "\n".join(HOSTILE[1:]),
    }
    claim = sample_claim_with_offer(scheme=scheme, staff=people, claimant=claimant)
    heads = list(claim.heads_of_loss.exclude(category=HeadOfLoss.Category.DISTRESS))
    for head, text in zip(heads, HOSTILE * 2, strict=False):
        type(head).objects.filter(pk=head.pk).update(description=text)
    return claim


def _pdf_is_inert(pdf: bytes) -> None:
    reader = pdf_reader(pdf)
    root = reader.trailer["/Root"]
    assert "/EmbeddedFiles" not in root.get("/Names", {})
    assert "/AF" not in root
    assert "/OpenAction" not in root and "/AA" not in root
    for page in reader.pages:
        for annotation in page.get("/Annots", []) or []:
            assert annotation.get_object()["/Subtype"] != "/FileAttachment"
    for marker in (b"/EmbeddedFile", b"/FileAttachment", b"/JavaScript", b"/Launch", b"/URI"):
        assert marker not in pdf, marker


@pytest.mark.parametrize(
    "kind",
    [LetterKind.SETTLEMENT_OFFER, LetterKind.ACKNOWLEDGEMENT],
)
def test_hostile_claimant_text_is_printed_as_text_and_fetches_nothing(hostile_claim, kind):
    engine = letter_pdf.renderer()
    asked_before = len(engine.requested)

    rendered = render(hostile_claim, kind)
    text = pdf_text(rendered.pdf)

    compact = text.replace(" ", "")
    for hostile in HOSTILE:
        assert hostile.replace(" ", "") in compact, hostile
    assert settings.SECRET_KEY not in text
    # Escaped in the HTML we rendered: no element or rule came from the claimant.
    assert "&lt;img src=&quot;file:///etc/passwd&quot;&gt;" in rendered.html
    assert '<img src="file:' not in rendered.html and "<link rel=attachment" not in rendered.html
    # The fetcher was asked for nothing of the claimant's, in this letter or by the
    # process since (fonts load once, before, and are our own files).
    assert rendered.fetched == ()
    for url in engine.requested[asked_before:]:
        assert url in engine.allowed or url.startswith(letter_pdf.LOGO_PREFIX)
        assert not url.startswith(FORBIDDEN)
    _pdf_is_inert(rendered.pdf)


def test_the_renderer_only_ever_fetched_packaged_assets(hostile_claim):
    render(hostile_claim, LetterKind.SETTLEMENT_OFFER)
    engine = letter_pdf.renderer()

    assert engine.requested, "fonts are loaded through the fetcher"
    for url in engine.requested:
        assert url.startswith((letter_pdf.ASSET_PREFIX, letter_pdf.LOGO_PREFIX)), url
        assert not any(bad in url for bad in FORBIDDEN), url


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://169.254.169.254/latest/meta-data/",
        "https://example.com/logo.png",
        "data:text/css,body{}",
        "ftp://example.com/x",
        "redress-asset:../../config/settings.py",
        "redress-asset:/etc/passwd",
        "redress-asset:letter.css/../../settings.py",
        "redress-letterhead:logo",  # only when the letter has a logo to give
    ],
)
def test_the_letter_fetcher_refuses_anything_off_the_allowlist(db, url):
    fetcher = letter_pdf.renderer().fetcher()

    with pytest.raises(letter_pdf.LetterAssetRefused):
        fetcher(url)
    assert fetcher.requested == [url]


def test_the_letter_fetcher_serves_packaged_fonts():
    fetcher = letter_pdf.renderer().fetcher()

    response = fetcher("redress-asset:fonts/OpenSans-Regular.ttf")

    assert response.read()[:4] == b"\x00\x01\x00\x00"


def test_a_letter_naming_a_url_we_do_not_allow_is_not_made(db, scheme, people):
    # Our own template going wrong must stop the letter, not print it with a hole.
    html = '<html lang="en-GB"><title>x</title><body><img src="file:///etc/passwd" alt="x">'

    with pytest.raises(letters.LetterError, match=r"Error fetching.*file:///etc/passwd"):
        letter_pdf.renderer().pdf(html)


def test_a_render_that_runs_too_long_is_stopped(settings, hostile_claim):
    settings.LETTER_RENDER_SECONDS = 0.001

    with pytest.raises(letter_pdf.LetterTimeout):
        render(hostile_claim, LetterKind.SETTLEMENT_OFFER)


def test_a_very_long_description_is_cut_not_printed_for_pages(scheme, people):
    claim = sample_claim_with_offer(scheme=scheme, staff=people)
    head = claim.heads_of_loss.exclude(category=HeadOfLoss.Category.DISTRESS).first()
    type(head).objects.filter(pk=head.pk).update(description="lost " * 200_000)

    rendered = render(claim, LetterKind.SETTLEMENT_OFFER)

    assert len(pdf_reader(rendered.pdf).pages) <= 3
    assert "lost lost lost" in pdf_text(rendered.pdf)


def test_an_unbroken_name_wraps_inside_the_page(scheme, people):
    claim = sample_claim_with_offer(scheme=scheme, staff=people)
    type(claim).objects.filter(pk=claim.pk).update(full_name="A" * 150)
    claim.refresh_from_db()

    rendered = render(claim, LetterKind.SETTLEMENT_OFFER)

    # About 70 capital As fit across the text column: a longer run has left the page.
    lines = pdf_reader(rendered.pdf).pages[0].extract_text().splitlines()
    assert max(len(max(line.split(), key=len, default="")) for line in lines) < 80
    assert "A" * 150 in pdf_text(rendered.pdf).replace(" ", "")
