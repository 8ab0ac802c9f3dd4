"""Make the sample settlement letter shown in docs/letters.md: docs/sample-settlement-letter.pdf
and a PNG of each of its first two pages.

    .venv/bin/python docs/sample_letter.py     (needs pdftoppm, from poppler-utils)

It builds the demo scheme (with a drawn logo and a return address) and the sample claim
of claims.delivery.letter_samples in a throwaway SQLite database, through the real services,
then renders the letter exactly as the letters worker would.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="redress-sample-letter-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DEBUG": "true",
            "REDRESS_VAR_DIR": str(work),
            "DATABASE_URL": "",
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "",
            "SITE_URL": "https://claims.debenhamsflowers-redress.example",
        }
    )
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from claims.actions.demo import ClaimStaff, create_demo_scheme
    from claims.delivery import letters
    from claims.delivery.letter_samples import sample_claim_with_offer, sample_logo_png
    from claims.domain import roles
    from claims.domain.stages import LetterKind
    from claims.queries.letters import latest_letter_event

    call_command("migrate", verbosity=0)
    scheme = create_demo_scheme()
    scheme.contact_email = "help@debenhamsflowers-redress.example"
    scheme.letter_return_address = "Claims team\nPO Box 2017\nLeeds\nLS1 4AP"
    scheme.letter_logo.save("logo.png", ContentFile(sample_logo_png()), save=False)
    scheme.save()

    def person(name: str, role: str) -> User:
        user = User.objects.create(username=name, is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        return user

    staff = ClaimStaff(
        caseworker=person("caseworker", roles.CASEWORKER),
        senior=person("senior", roles.SENIOR_CASEWORKER),
        finance=person("finance", roles.FINANCE_OFFICER),
    )
    claim = sample_claim_with_offer(scheme=scheme, staff=staff)
    event = latest_letter_event(claim)
    rendered = letters.render_letter(claim, LetterKind.SETTLEMENT_OFFER, event=event)
    pdf_path = DOCS / "sample-settlement-letter.pdf"
    pdf_path.write_bytes(rendered.pdf)
    # Drawn at twice the size and scaled down smoothly: a PDF viewer shows the logo
    # without interpolation (PDF/A), which aliases at screen resolution.
    pdftoppm = shutil.which("pdftoppm") or "pdftoppm"
    pages = [pdftoppm, "-png", "-r", "220", "-f", "1", "-l", "2", str(pdf_path), str(work / "page")]
    subprocess.run(pages, check=True)  # noqa: S603  (our own arguments)
    from PIL import Image

    for page in (1, 2):
        with Image.open(work / f"page-{page}.png") as image:
            small = image.resize((image.width // 2, image.height // 2), Image.Resampling.LANCZOS)
            small.save(DOCS / f"sample-settlement-letter-page-{page}.png", optimize=True)
    print(f"Wrote {pdf_path.relative_to(ROOT)} and its pages 1 and 2 as PNGs ({claim.reference})")


if __name__ == "__main__":
    main()
