"""Every letter is an archival, accessible PDF: PDF/A-3a and PDF/UA-1 by an independent
validator (page-validation, PyPI), with the metadata a screen reader and an archive use.

page-validation re-implements veraPDF's rules (it passes veraPDF's own test corpus and
the Isartor suite): for PDF/A-3a it checks, among its ~150 rules, that every font is
embedded with Unicode mappings, colour is device-independent (sRGB output intent), the
XMP metadata matches the document information and declares the part and level, there
is no encryption, JavaScript or unmarked content, and the structure tree is complete;
for PDF/UA-1 (~100 rules, the Matterhorn Protocol's machine-checkable ones) it checks
tagging, the document title shown, the language, headings, tables, lists and figures'
alternative text."""

from __future__ import annotations

import io
from pathlib import Path

import page
import pytest
from django.core.files.base import ContentFile
from PIL import Image

from claims.actions import offers
from claims.core import Actor
from claims.delivery import letter_pdf
from claims.delivery.letter_samples import sample_claim_with_offer, sample_logo_png
from claims.domain.letters import TITLES
from claims.domain.stages import LetterKind, Stage
from tests.support.factories import claim_in_stage
from tests.support.letters import pdf_reader, pdf_text, render

pytestmark = pytest.mark.django_db
# Debian's fonts-droid-fallback, which `make` installs for letters.
CJK_FALLBACK = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"


def _claim_for(kind: str, scheme, people):
    if kind == LetterKind.ACKNOWLEDGEMENT:
        return claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    if kind == LetterKind.INFORMATION_REQUEST:
        return claim_in_stage(Stage.INFORMATION_REQUESTED, scheme=scheme, people=people)
    if kind == LetterKind.SETTLEMENT_OFFER:
        return sample_claim_with_offer(scheme=scheme, staff=people)
    if kind == LetterKind.DECISION:
        return claim_in_stage(Stage.REJECTED, scheme=scheme, people=people)
    if kind == LetterKind.REVIEW_OUTCOME:
        claim = claim_in_stage(Stage.REVIEW, scheme=scheme, people=people)
        offers.review_uphold(
            claim_id=claim.pk, actor=Actor.staff(people.senior), reason="Refunded in full."
        )
        return claim
    return claim_in_stage(Stage.PAID, scheme=scheme, people=people)


def _failures(pdf: bytes, profile: str) -> list[str]:
    report = page.validate_pdf_bytes(pdf, profile=profile)
    return [f"{f.rule_id}: {f.message}" for f in report.failures]


@pytest.mark.parametrize("kind", list(LetterKind.values))
def test_every_letter_is_valid_pdf_a_3a_and_pdf_ua_1(kind, scheme, people):
    claim = _claim_for(kind, scheme, people)
    pdf = render(claim, kind).pdf

    assert _failures(pdf, "3a") == []
    assert _failures(pdf, "ua1") == []


@pytest.mark.parametrize("kind", list(LetterKind.values))
def test_every_letter_has_title_author_subject_language_and_tags(kind, scheme, people):
    claim = _claim_for(kind, scheme, people)
    reader = pdf_reader(render(claim, kind).pdf)
    info = reader.metadata
    root = reader.trailer["/Root"]

    assert info.title == f"{TITLES[kind]} – {claim.reference}"
    assert info.subject == claim.reference
    assert info.author == scheme.organisation
    assert root["/Lang"] == "en-GB"
    assert bool(root["/MarkInfo"]["/Marked"])
    assert "/StructTreeRoot" in root
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    xmp = root["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp and b'pdfaid:conformance="A"' in xmp
    assert b'pdfuaid:part="1"' in xmp
    assert claim.reference.encode() in xmp
    page_box = reader.pages[0].mediabox
    assert (round(float(page_box.width)), round(float(page_box.height))) == (595, 842)  # A4


def _image(mode: str, kind: str) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (240, 80), "black" if mode != "RGBA" else (0, 0, 0, 128)).save(out, kind)
    return out.getvalue()


@pytest.mark.parametrize(
    ("logo", "name"),
    [
        (sample_logo_png, "logo.png"),
        (lambda: _image("RGBA", "PNG"), "transparent.png"),
        (lambda: _image("CMYK", "JPEG"), "cmyk.jpg"),
    ],
)
def test_the_scheme_logo_is_printed_and_the_letter_stays_valid(settings, tmp_path, scheme,
                                                               people, logo, name):  # fmt: skip
    settings.MEDIA_ROOT = tmp_path
    scheme.letter_logo.save(name, ContentFile(logo()), save=True)
    claim = sample_claim_with_offer(scheme=scheme, staff=people)

    rendered = render(claim, LetterKind.SETTLEMENT_OFFER)

    # Fetched once a process (WeasyPrint's image cache), by its content's digest.
    assert all(url.startswith(letter_pdf.LOGO_PREFIX) for url in rendered.fetched)
    assert f'src="{letter_pdf.renderer().logo(scheme).url}"' in rendered.html
    images = pdf_reader(rendered.pdf).pages[0].images
    assert len(images) == 1
    assert _failures(rendered.pdf, "3a") == []
    assert _failures(rendered.pdf, "ua1") == []


def test_a_logo_must_be_a_png_or_jpeg_by_its_content(scheme):
    from django.core.exceptions import ValidationError

    from claims.models import validate_letter_logo

    gif = io.BytesIO()
    Image.new("RGB", (10, 10)).save(gif, "GIF")
    for data in (gif.getvalue(), b"<svg xmlns='http://www.w3.org/2000/svg'/>", b"%PDF-1.7"):
        with pytest.raises(ValidationError):
            validate_letter_logo(ContentFile(data, name="logo.png"))
    validate_letter_logo(ContentFile(sample_logo_png(), name="logo.png"))


@pytest.mark.parametrize(
    "name",
    ["Nguyễn Văn An", "Łukasz Żółkowski-Brown", "Siobhán Ní Bhriain", "Ωμέγα Жуков", "李明"],
)
def test_names_in_any_script_print_and_keep_the_pdf_valid(name, scheme, people):
    # PDF/A forbids a missing glyph (.notdef): a name beyond Open Sans must find a font.
    if name == "李明" and not Path(CJK_FALLBACK).exists():
        pytest.skip(f"no CJK fallback font ({CJK_FALLBACK}): `make test` installs it as root")
    claim = claim_in_stage(Stage.SUBMITTED, scheme=scheme, people=people)
    claim.full_name = name
    claim.save(update_fields=["full_name"])

    pdf = render(claim, LetterKind.ACKNOWLEDGEMENT).pdf

    assert f"Dear {name}," in pdf_text(pdf)
    assert _failures(pdf, "3a") == []
