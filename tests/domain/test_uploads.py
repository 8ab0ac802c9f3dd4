"""Evidence uploads through the claimant's pages: judged by content, size and count,
stored under generated names, served only to their claimant, never half-saved."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from claims import core
from claims.actions import submission
from claims.domain.stages import Stage
from claims.domain.uploads import MAX_FILE_BYTES, MAX_FILES_PER_CLAIM
from claims.models import Claim, Evidence, HeadOfLoss, Message
from tests.support.claimant import fill_draft, start_claim
from tests.support.factories import SchemeFactory, claim_in_stage
from tests.support.hostile import (
    assert_field_error,
    gif,
    input_value,
    jpeg,
    pdf,
    png,
    post_files,
    sign_in_as_claimant,
    stream,
)

pytestmark = pytest.mark.django_db

LOSS = {
    "incurred_on_0": "14",
    "incurred_on_1": "3",
    "incurred_on_2": "2017",
    "amount": "35.00",
    "description": "Overdraft fee after the fraud",
}
ADD = "/claim/losses/add/bank_charges/"
GENERATED = re.compile(r"^evidence/\d+/[0-9a-f]{32}$")

NOT_ALLOWED = (
    "{} is not a PDF, JPEG or PNG file. "
    "Upload a PDF, or a photo or screenshot saved as JPEG or PNG."
)
ACTIVE_PDF = (
    "This PDF contains active content (such as JavaScript or attachments) that we cannot "
    "accept. Print it to a new PDF, or upload a photo of the pages instead."
)
UNREADABLE_IMAGE = "This image could not be read. Save it again as JPEG or PNG and retry."
JS = b"<< /S /JavaScript /JS (app.alert\\(document.cookie\\)) >>"


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def draft(client, media) -> Claim:
    return start_claim(client, SchemeFactory())


def files_on_disk(media: Path) -> list[Path]:
    return [path for path in media.rglob("*") if path.is_file()] if media.exists() else []


def assert_nothing_saved(claim: Claim, media: Path) -> None:
    assert not HeadOfLoss.objects.filter(claim=claim).exists()
    assert not Evidence.objects.filter(claim=claim).exists()
    assert files_on_disk(media) == []


def upload(client, files, fields=LOSS, path=ADD):
    return post_files(client, path, fields, files)


def link_annotation(action: bytes) -> bytes:
    return b"<< /Type /Annot /Subtype /Link /Rect [72 72 200 90] /Border [0 0 0]%s >>" % action


# --- Good files are kept ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("statement.pdf", pdf(), "application/pdf"),
        ("statement-compressed.pdf", pdf(compress={1, 2, 3, 5}), "application/pdf"),
        ("receipt.jpg", jpeg(), "image/jpeg"),
        ("screenshot.png", png(), "image/png"),
    ],
)
def test_a_small_pdf_jpeg_or_png_is_accepted_and_stored_under_a_generated_name(
    client, draft, media, name, data, content_type
):
    response = upload(client, [(name, data)])

    assert response.status_code == 302, response.content.decode()[:3000]
    evidence = Evidence.objects.get(claim=draft)
    assert evidence.head_of_loss == HeadOfLoss.objects.get(claim=draft)
    assert (evidence.original_name, evidence.content_type) == (name, content_type)
    assert GENERATED.match(evidence.file.name)
    assert files_on_disk(media) == [media / evidence.file.name]
    assert (media / evidence.file.name).read_bytes() == data
    assert evidence.size == len(data)


def test_a_file_is_judged_by_its_content_not_its_name(client, draft):
    upload(client, [("photo.png", jpeg())])

    assert Evidence.objects.get(claim=draft).content_type == "image/jpeg"


def test_a_pdf_with_web_links_page_links_and_bookmarks_is_accepted(client, draft):
    data = pdf(
        b" /Outlines 7 0 R",
        b" /Annots [6 0 R 9 0 R]",
        [
            link_annotation(b" /A << /S /URI /URI (https://www.example.com/statement) >>"),
            b"<< /Type /Outlines /First 8 0 R /Last 8 0 R /Count 1 >>",
            b"<< /Title (Page 1) /Parent 7 0 R /A << /S /GoTo /D [3 0 R /Fit] >> >>",
            link_annotation(b" /Dest [3 0 R /XYZ 0 792 0]"),
        ],
        compress={1, 3, 6, 7, 8, 9},
    )

    response = upload(client, [("statement.pdf", data)])

    assert response.status_code == 302, response.content.decode()[:3000]


def test_several_files_can_be_uploaded_for_one_item(client, draft, media):
    upload(client, [("a.pdf", pdf()), ("b.jpg", jpeg()), ("c.png", png())])

    head = HeadOfLoss.objects.get(claim=draft)
    assert sorted(head.evidence.values_list("original_name", flat=True)) == [
        "a.pdf",
        "b.jpg",
        "c.png",
    ]
    assert len(files_on_disk(media)) == 3


def test_a_file_of_exactly_10_mb_is_accepted(client, draft):
    padding = MAX_FILE_BYTES
    while len(data := pdf(extra_objects=[stream(b" " * padding)])) != MAX_FILE_BYTES:
        padding += MAX_FILE_BYTES - len(data)  # the lengths written in the PDF grow too

    response = upload(client, [("big-statement.pdf", data)])

    assert response.status_code == 302, response.content.decode()[:2000]


# --- Files that lie, and files too big, empty or too many ----------------------------


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        (
            "statement.pdf",
            b"<!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>",
            NOT_ALLOWED.format("statement.pdf"),
        ),
        (
            "photo.png",
            b"\x89PNG\r\n\x1a\n<html><script>alert(document.cookie)</script></html>",
            NOT_ALLOWED.format("photo.png"),
        ),
        (
            "photo.png",
            png()[:33] + b"<html><script>alert(document.cookie)</script></html>",
            UNREADABLE_IMAGE,
        ),
        (
            "logo.png",
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg">'
            b"<script>alert(document.cookie)</script></svg>",
            NOT_ALLOWED.format("logo.png"),
        ),
        ("animation.jpg", gif(), NOT_ALLOWED.format("animation.jpg")),
        ("report.pdf", b"PK\x03\x04" + b"\x00" * 200, NOT_ALLOWED.format("report.pdf")),
        ("cut-off.png", png((64, 64))[:-30], UNREADABLE_IMAGE),
    ],
    ids=[
        "html-named-pdf",
        "png-magic-then-html",
        "png-header-then-html",
        "svg-named-png",
        "gif-named-jpg",
        "zip-named-pdf",
        "truncated-png",
    ],
)
def test_a_file_that_lies_about_its_type_is_refused_and_nothing_is_saved(
    client, draft, media, name, data, message
):
    response = upload(client, [(name, data)])

    assert_field_error(response, "id_files", message)
    assert_nothing_saved(draft, media)


@pytest.mark.parametrize(
    "trailer",
    [b"<script>alert(1)</script>", b"<html><body><script>alert(document.cookie)</script>" * 4],
    ids=["short-html", "long-html"],
)
def test_a_jpeg_with_html_after_its_end_is_refused(client, draft, media, trailer):
    response = upload(client, [("receipt.jpg", jpeg() + trailer)])

    assert_field_error(response, "id_files", UNREADABLE_IMAGE)
    assert_nothing_saved(draft, media)


@pytest.mark.parametrize(
    "trailer",
    [b"<script>alert(1)</script>", b"<script>alert(1)</script><!--IEND\xaeB`\x82"],
    ids=["html", "html-ending-like-a-png"],
)
def test_a_png_with_html_after_its_end_is_refused(client, draft, media, trailer):
    response = upload(client, [("receipt.png", png() + trailer)])

    assert_field_error(response, "id_files", UNREADABLE_IMAGE)
    assert_nothing_saved(draft, media)


def test_a_jpeg_with_html_after_its_end_that_itself_ends_like_a_jpeg_is_refused(
    client, draft, media
):
    response = upload(client, [("receipt.jpg", jpeg() + b"<script>alert(1)</script>\xff\xd9")])

    assert_field_error(response, "id_files", UNREADABLE_IMAGE)
    assert_nothing_saved(draft, media)


def _camera_jpeg(**options: object) -> bytes:
    from io import BytesIO

    from PIL import Image

    image = Image.effect_noise((64, 48), 60).convert("RGB")
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"  # Make
    out = BytesIO()
    image.save(out, "JPEG", exif=exif, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    "data",
    [
        _camera_jpeg(progressive=True),
        _camera_jpeg(restart_marker_blocks=1),
        _camera_jpeg() + b"\x00" * 16,
        # An EXIF segment holding its own complete JPEG (a thumbnail, with its own end).
        jpeg()[:2] + b"\xff\xe1" + (len(jpeg()) + 2).to_bytes(2, "big") + jpeg() + jpeg()[2:],
    ],
    ids=["progressive", "restart-markers", "zero-padding", "thumbnail-inside"],
)
def test_ordinary_camera_jpegs_are_accepted(client, draft, data):
    response = upload(client, [("photo.jpg", data)])

    assert response.status_code == 302, response.content.decode()[:2000]


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
def test_an_image_too_large_to_decode_safely_is_refused(client, draft, media):
    # 64 million pixels in a small file: decoding it would take far more memory.
    response = upload(client, [("scan.png", png((8000, 8000), mode="1"))])

    assert_field_error(
        response,
        "id_files",
        "This image has too many pixels for us to open. Save it at a smaller size, such as a "
        "phone photo or a scan at 300 dpi, and retry.",
    )
    assert_nothing_saved(draft, media)


ANNOTATED = {"page_extra": b" /Annots [6 0 R]"}
HOSTILE_PDFS = {
    "javascript-open-action": dict(catalog_extra=b" /OpenAction 6 0 R", extra_objects=[JS]),
    "javascript-in-names": dict(
        catalog_extra=b" /Names << /JavaScript << /Names [(a) 6 0 R] >> >>", extra_objects=[JS]
    ),
    "javascript-link-annotation": dict(**ANNOTATED, extra_objects=[link_annotation(b" /A " + JS)]),
    "launch-link-annotation": dict(
        **ANNOTATED,
        extra_objects=[link_annotation(b" /A << /S /Launch /F (cmd.exe) >>")],
    ),
    "annotation-additional-action": dict(
        **ANNOTATED, extra_objects=[link_annotation(b" /AA << /E " + JS + b" >>")]
    ),
    "web-link-then-javascript": dict(
        **ANNOTATED,
        extra_objects=[
            link_annotation(b" /A << /S /URI /URI (https://example.com/) /Next " + JS + b" >>")
        ],
    ),
    "javascript-bookmark": dict(
        catalog_extra=b" /Outlines 6 0 R",
        extra_objects=[
            b"<< /Type /Outlines /First 7 0 R /Last 7 0 R /Count 1 >>",
            b"<< /Title (Statement) /Parent 6 0 R /A " + JS + b" >>",
        ],
    ),
    "embedded-file": dict(
        catalog_extra=b" /Names << /EmbeddedFiles << /Names [(invoice.exe) 6 0 R] >> >>",
        extra_objects=[
            b"<< /Type /Filespec /F (invoice.exe) /EF << /F 7 0 R >> >>",
            stream(b"MZ\x90\x00 not really a program", b" /Type /EmbeddedFile"),
        ],
    ),
    "file-attachment-annotation": dict(
        **ANNOTATED,
        extra_objects=[
            b"<< /Type /Annot /Subtype /FileAttachment /Rect [0 0 9 9] /FS 7 0 R >>",
            b"<< /Type /Filespec /F (invoice.exe) /EF << /F 8 0 R >> >>",
            stream(b"MZ\x90\x00 not really a program", b" /Type /EmbeddedFile"),
        ],
    ),
    "javascript-web-link": dict(
        **ANNOTATED,
        extra_objects=[link_annotation(b" /A << /S /URI /URI (javascript:alert\\(1\\)) >>")],
    ),
    "form-with-submit": dict(
        catalog_extra=b" /AcroForm << /Fields [] >>",
    ),
    "page-open-action": dict(page_extra=b" /AA << /O " + JS + b" >>"),
}


@pytest.mark.parametrize("compressed", [False, True], ids=["plain", "in-object-stream"])
@pytest.mark.parametrize("kind", HOSTILE_PDFS)
def test_a_pdf_with_javascript_actions_or_attachments_is_refused(
    client, draft, media, kind, compressed
):
    parts = HOSTILE_PDFS[kind]
    # In an object stream the dictionaries are deflated: only parsing the PDF finds them.
    extra = list(parts.get("extra_objects", []))
    hidden = {1, 2, 3, 5} | {6 + i for i, body in enumerate(extra) if b"stream" not in body}
    data = pdf(
        parts.get("catalog_extra", b""),
        parts.get("page_extra", b""),
        extra,
        compress=hidden if compressed else (),
    )
    if compressed:
        assert b"JavaScript" not in data and b"/AA" not in data and b"Launch" not in data

    response = upload(client, [("statement.pdf", data)])

    assert_field_error(response, "id_files", ACTIVE_PDF)
    assert_nothing_saved(draft, media)


def test_a_pdf_with_javascript_behind_escaped_names_is_refused(client, draft, media):
    # "#41" is "A" and "#53" is "S": the byte scan sees neither /OpenAction nor /JS.
    data = pdf(b" /Open#41ction 6 0 R", extra_objects=[b"<< /S /Java#53cript /J#53 (alert) >>"])

    response = upload(client, [("statement.pdf", data)])

    assert_field_error(response, "id_files", ACTIVE_PDF)
    assert_nothing_saved(draft, media)


def test_a_password_protected_pdf_is_refused(client, draft, media):
    from io import BytesIO

    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter(clone_from=PdfReader(BytesIO(pdf())))
    writer.encrypt("secret", algorithm="RC4-128")
    out = BytesIO()
    writer.write(out)

    response = upload(client, [("locked.pdf", out.getvalue())])

    assert_field_error(
        response, "id_files", "This PDF is password-protected. Upload a copy without a password."
    )
    assert_nothing_saved(draft, media)


def test_a_file_over_10_mb_is_refused_and_nothing_is_saved(client, draft, media):
    data = pdf(extra_objects=[stream(b" " * MAX_FILE_BYTES)])

    response = upload(client, [("scan.pdf", data)])

    assert_field_error(
        response,
        "id_files",
        "scan.pdf is larger than 10 MB. Choose a smaller file, or take a photo of the page "
        "instead of scanning it.",
    )
    assert_nothing_saved(draft, media)


def test_an_empty_file_is_refused_and_nothing_is_saved(client, draft, media):
    response = upload(client, [("receipt.pdf", b"")])

    assert_field_error(response, "id_files", "receipt.pdf is empty. Choose another file.")
    assert_nothing_saved(draft, media)


def test_one_bad_file_among_good_ones_saves_none_of_them(client, draft, media):
    response = upload(
        client,
        [("a.pdf", pdf()), ("b.jpg", jpeg()), ("c.pdf", b"<html><script>x</script></html>")],
    )

    assert response.status_code == 200
    assert_nothing_saved(draft, media)


def _fill_with_files(claim: Claim, count: int) -> HeadOfLoss:
    actor = core.Actor.claimant(claim.pk)
    head = submission.head_of_loss_add(
        claim_id=claim.pk,
        actor=actor,
        category="other_costs",
        amount_claimed="5",
        incurred_on=None,
    )
    for number in range(count):
        submission.evidence_add(
            claim_id=claim.pk,
            actor=actor,
            upload=ContentFile(png(), name=f"{number}.png"),
            head_of_loss_id=head.pk,
        )
    return head


TOO_MANY = (
    f"A claim can have at most {MAX_FILES_PER_CLAIM} files. Remove one to add another, "
    "or combine pages into one PDF."
)


def test_the_21st_file_on_a_claim_is_refused_and_nothing_is_saved(client, draft, media):
    _fill_with_files(draft, MAX_FILES_PER_CLAIM)
    before = sorted(files_on_disk(media))

    response = upload(client, [("one-more.pdf", pdf())])

    assert_field_error(response, "id_files", TOO_MANY)
    assert draft.evidence.count() == MAX_FILES_PER_CLAIM
    assert draft.heads_of_loss.count() == 1  # only the one made before
    assert sorted(files_on_disk(media)) == before


def test_two_files_that_would_make_21_are_refused_together_leaving_no_file_on_disk(
    client, draft, media
):
    _fill_with_files(draft, MAX_FILES_PER_CLAIM - 1)
    before = sorted(files_on_disk(media))

    response = upload(client, [("20th.pdf", pdf()), ("21st.pdf", pdf())])

    assert_field_error(response, "id_files", TOO_MANY)
    assert draft.evidence.count() == MAX_FILES_PER_CLAIM - 1
    assert draft.heads_of_loss.count() == 1
    assert sorted(files_on_disk(media)) == before


def test_a_refused_file_leaves_a_changed_item_as_it_was(client, draft, media):
    upload(client, [("a.pdf", pdf())])
    head = HeadOfLoss.objects.get(claim=draft)
    before = sorted(files_on_disk(media))

    response = upload(
        client,
        [("b.pdf", pdf()), ("evil.pdf", b"<html></html>")],
        fields={**LOSS, "amount": "99.00", "description": "Changed"},
        path=f"/claim/losses/{head.pk}/change/",
    )

    assert response.status_code == 200
    head.refresh_from_db()
    assert (str(head.amount_claimed), head.description) == ("35.00", LOSS["description"])
    assert head.evidence.count() == 1
    assert sorted(files_on_disk(media)) == before


def test_a_refused_file_keeps_everything_typed_on_the_form(client, draft):
    response = upload(client, [("statement.pdf", b"<html>not a pdf</html>")])

    for name in ("incurred_on_0", "incurred_on_1", "incurred_on_2", "amount", "description"):
        assert input_value(response, name) == LOSS[name], name
    assert "choose them again" in response.content.decode()


# --- Hostile filenames ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "label"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\windows\\system32\\statement.pdf", "statement.pdf"),
        ("statement\u202efdp.exe", "statementfdp.exe"),
        ("a" * 296 + ".pdf", "a" * 116 + ".pdf"),
        ("bank\x01\x07\x1b[31mstatement\x7f.pdf", "bank[31mstatement.pdf"),
        ("statement\ttab.pdf", "statementtab.pdf"),
        ("state\x00ment.pdf", "statement.pdf"),
        ("\u200b\u202a\u2066.pdf", "pdf"),
        ("...", "file"),
        ("Zoë's statement 李明 😀.pdf", "Zoë's statement 李明 😀.pdf"),
    ],
    ids=[
        "dot-dot-slash",
        "dot-dot-backslash",
        "right-to-left-override",
        "300-characters",
        "control-characters",
        "tab",
        "nul",
        "only-invisible",
        "only-dots",
        "unicode-kept",
    ],
)
def test_a_hostile_filename_is_stored_under_a_generated_name_with_a_clean_label(
    client, draft, media, filename, label
):
    response = upload(client, [(filename, pdf())])

    assert response.status_code == 302, response.content.decode()[:2000]
    evidence = Evidence.objects.get(claim=draft)
    assert GENERATED.match(evidence.file.name)
    assert files_on_disk(media) == [media / evidence.file.name]
    assert evidence.original_name == label
    assert len(evidence.original_name) <= 120
    assert not re.search(r"[\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069/\\]", evidence.original_name)


def test_a_filename_written_as_html_is_shown_escaped(client, draft):
    upload(client, [('"><img src=x onerror=alert(1)>.pdf', pdf())])

    evidence = Evidence.objects.get(claim=draft)
    head = evidence.head_of_loss
    pages = [
        client.get(path)
        for path in ("/claim/losses/", "/claim/check/", f"/claim/losses/{head.pk}/change/")
    ]
    # Removing it says which file went, in a message on the next page.
    pages.append(client.post(f"/claim/files/{evidence.pk}/remove/", follow=True))

    for response in pages:
        page = response.content.decode()
        assert "<img src=x" not in page
        assert "&lt;img src=x onerror=alert(1)&gt;.pdf" in page


# --- Who may download a file --------------------------------------------------------


def test_a_claimant_downloads_their_own_file_as_an_attachment_with_nosniff(client, draft):
    data = png()
    upload(client, [("statement\u202egnp.html", data)])
    evidence = Evidence.objects.get(claim=draft)

    response = client.get(f"/my-claim/files/{evidence.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == data
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "\u202e" not in response["Content-Disposition"]
    assert "statementgnp.html" in response["Content-Disposition"]
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]


def test_another_claimant_gets_404_for_a_file_they_do_not_own(client, draft):
    upload(client, [("statement.pdf", pdf())])
    evidence = Evidence.objects.get(claim=draft)
    other = type(client)()
    start_claim(other, SchemeFactory())

    response = other.get(f"/my-claim/files/{evidence.pk}/")

    assert response.status_code == 404
    assert b"Bank statement" not in response.content


def test_a_submitted_claimant_gets_404_for_another_claims_file(client, draft, media):
    upload(client, [("statement.pdf", pdf())])
    evidence = Evidence.objects.get(claim=draft)
    other = type(client)()
    submitted = start_claim(other, SchemeFactory())
    fill_draft(other)
    other.post("/claim/check/", {"statement_of_truth": "on"})
    submitted.refresh_from_db()
    assert submitted.stage == Stage.SUBMITTED

    assert other.get("/my-claim/").status_code == 200
    assert other.get(f"/my-claim/files/{evidence.pk}/").status_code == 404


def test_without_a_claimant_session_a_file_is_not_served(client, draft):
    upload(client, [("statement.pdf", pdf())])
    evidence = Evidence.objects.get(claim=draft)
    stranger = type(client)()

    response = stranger.get(f"/my-claim/files/{evidence.pk}/")

    assert response.status_code == 302 and response.url == "/follow/"


def test_a_removed_file_is_gone_from_disk_and_can_no_longer_be_downloaded(
    client, draft, media, django_capture_on_commit_callbacks
):
    upload(client, [("statement.pdf", pdf())])
    evidence = Evidence.objects.get(claim=draft)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/claim/files/{evidence.pk}/remove/")

    assert response.status_code == 302
    assert not Evidence.objects.filter(pk=evidence.pk).exists()
    assert files_on_disk(media) == []
    assert client.get(f"/my-claim/files/{evidence.pk}/").status_code == 404


def test_removing_an_item_deletes_its_files_only_once_the_removal_commits(
    client, draft, media, django_capture_on_commit_callbacks
):
    upload(client, [("a.pdf", pdf()), ("b.png", png())])
    head = HeadOfLoss.objects.get(claim=draft)

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/claim/losses/{head.pk}/remove/")
    on_disk_until_commit = len(files_on_disk(media))
    for callback in callbacks:
        callback()

    assert response.status_code == 302
    assert on_disk_until_commit == 2
    assert_nothing_saved(draft, media)


def test_another_claimant_cannot_remove_a_file_they_do_not_own(client, draft, media):
    upload(client, [("statement.pdf", pdf())])
    evidence = Evidence.objects.get(claim=draft)
    other = type(client)()
    start_claim(other, SchemeFactory())

    response = other.post(f"/claim/files/{evidence.pk}/remove/")

    assert response.status_code == 404
    assert Evidence.objects.filter(pk=evidence.pk).exists()
    assert len(files_on_disk(media)) == 1


# --- Files sent with an answer to an information request ------------------------------


@pytest.fixture
def asked(client, media) -> Claim:
    claim = claim_in_stage(Stage.INFORMATION_REQUESTED)
    sign_in_as_claimant(client, claim)
    return claim


def test_an_answer_with_a_good_file_keeps_the_file_with_the_answer(client, asked, media):
    response = post_files(
        client,
        "/my-claim/respond/",
        {"response": "Here is my statement."},
        [("statement.pdf", pdf())],
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    answer = asked.messages.get(direction=Message.Direction.FROM_CLAIMANT)
    evidence = answer.evidence.get()
    assert GENERATED.match(evidence.file.name) and len(files_on_disk(media)) == 1
    assert client.get(f"/my-claim/files/{evidence.pk}/").status_code == 200


def test_an_answer_with_a_bad_file_is_not_sent_and_nothing_is_saved(client, asked, media):
    evidence_before = asked.evidence.count()

    response = post_files(
        client,
        "/my-claim/respond/",
        {"response": "Here is my statement."},
        [("statement.pdf", pdf()), ("evil.pdf", pdf(b" /OpenAction 6 0 R", extra_objects=[JS]))],
    )

    assert_field_error(response, "id_files", ACTIVE_PDF)
    asked.refresh_from_db()
    assert asked.stage == Stage.INFORMATION_REQUESTED
    assert not asked.messages.filter(direction=Message.Direction.FROM_CLAIMANT).exists()
    assert asked.evidence.count() == evidence_before
    assert files_on_disk(media) == []
    assert input_value(response, "response") == "Here is my statement."


@pytest.mark.parametrize("compress", [(), (1, 2, 3, 5)], ids=["plain", "in-object-stream"])
def test_the_test_pdfs_are_real_pdfs_so_a_refusal_comes_from_the_hostile_part(compress):
    from io import BytesIO

    from pypdf import PdfReader

    reader = PdfReader(BytesIO(pdf(compress=set(compress))), strict=True)

    assert reader.pages[0].extract_text() == "Bank statement, March 2017"
