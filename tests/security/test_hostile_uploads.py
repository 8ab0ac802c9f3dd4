"""Hostile uploads: files that lie about what they are, carry scripts or bombs, and
filenames built to traverse paths, inject headers or mislead; each through the upload
form and then through both downloads (the claimant's and the staff workspace's)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from claims.models import Evidence, HeadOfLoss
from tests.support.claimant import start_claim
from tests.support.factories import SchemeFactory
from tests.support.hostile import gif, jpeg, pdf, png, post_files
from tests.support.staff_login import StaffClient

pytestmark = pytest.mark.django_db

LOSS = {
    "incurred_on_0": "14",
    "incurred_on_1": "3",
    "incurred_on_2": "2017",
    "amount": "35.00",
    "description": "Overdraft fee",
}
ADD = "/claim/losses/add/bank_charges/"
GENERATED = re.compile(r"^evidence/\d+/[0-9a-f]{32}$")


def zip_bomb() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.pdf", b"\0" * 20_000_000)
    return buffer.getvalue()


HOSTILE_FILES = {
    "HTML named .pdf": ("statement.pdf", b"<html><script>alert(document.cookie)</script>"),
    "SVG with script named .png": (
        "photo.png",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    ),
    "PDF that runs JavaScript on opening": (
        "js.pdf",
        pdf(catalog_extra=b" /OpenAction << /S /JavaScript /JS (app.alert\\(1\\)) >>"),
    ),
    "PNG with HTML after its end": ("x.png", png() + b"<html><script>alert(1)</script>"),
    "JPEG with HTML after its end": ("x.jpg", jpeg() + b"<script>alert(1)</script>"),
    "GIF (not allowed)": ("x.gif", gif()),
    "Windows executable named .pdf": ("setup.pdf", b"MZ\x90\x00" + b"\x00" * 200),
    "ZIP bomb named .pdf": ("bomb.pdf", zip_bomb()),
    "empty file": ("empty.pdf", b""),
    "11 MB file": ("big.pdf", b"%PDF-1.4\n" + b"0" * (11 * 1024 * 1024)),
    "image decompression bomb": ("bomb.png", png(size=(10_000, 10_000), mode="1")),
}
HOSTILE_NAMES = [
    "../../../../etc/passwd.pdf",
    "..\\..\\..\\windows\\win.ini.pdf",
    "/absolute/path.pdf",
    "statement\x00.exe.pdf",
    "statement\r\nSet-Cookie: session=evil.pdf",
    'state"ment; filename=evil.html.pdf',
    "invoice\u202efdp.exe",
    "<script>alert(1)</script>.pdf",
    "CON.pdf",
    "a" * 500 + ".pdf",
    "%2e%2e%2fescape.pdf",
    "\ud800.pdf",
]


def files_kept() -> list[object]:
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_hostile_files_are_refused_and_nothing_is_kept(attacker):
    client = Client()
    claim = start_claim(client, SchemeFactory())
    for label, (name, data) in HOSTILE_FILES.items():
        attacker.attempt(
            f"hostile upload: {label}",
            lambda name=name, data=data: post_files(client, ADD, LOSS, [(name, data)]),
            lambda response: (
                response.status_code in {200, 400, 413}
                and not Evidence.objects.filter(claim=claim).exists()
                and not HeadOfLoss.objects.filter(claim=claim).exclude(category="distress").exists()
                and not files_kept()
            ),
        )


def test_hostile_filenames_are_stored_under_generated_names_and_served_safely(attacker, people):
    client = Client()
    claim = start_claim(client, SchemeFactory())
    caseworker = StaffClient()
    caseworker.force_login(people.caseworker)
    stored: list[str] = []

    for name in HOSTILE_NAMES:
        surrogate = "\ud800" in name
        raw_name = name.encode("utf-8", "surrogatepass").decode("latin-1") if surrogate else name

        def upload(raw_name=raw_name):
            Evidence.objects.filter(claim=claim).delete()
            return post_files(client, ADD, LOSS, [(raw_name, pdf())])

        def safe(response) -> bool:
            evidence = Evidence.objects.filter(claim=claim).last()
            if evidence is None:
                return response.status_code in {200, 400}
            original = evidence.original_name
            stored.append(original)
            downloads = [
                client.get(f"/my-claim/files/{evidence.pk}/"),
                caseworker.get(
                    reverse("admin:claims_claim_evidence", args=[claim.pk, evidence.pk])
                    + "?download=1"
                ),
            ]
            headers_safe = all(
                "\r" not in d.get("Content-Disposition", "")
                and "\n" not in d.get("Content-Disposition", "")
                and "session=evil" not in d.cookies
                and d.get("Content-Disposition", "").startswith("attachment")
                for d in downloads
                if d.status_code == 200
            )
            return (
                bool(GENERATED.match(evidence.file.name))
                and not re.search(r"[\\/\x00-\x1f\u202e]", original)
                and len(original) <= 120
                and headers_safe
            )

        attacker.attempt(f"hostile filename: {name[:40]!r}", upload, safe)
    # A good file with a bad name is kept, under a clean label: nothing submitted is lost.
    assert len(stored) == len(HOSTILE_NAMES), stored
