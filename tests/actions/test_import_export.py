"""Register import (all or nothing, bad rows reported by line) and CSV exports that a
spreadsheet cannot run as formulas."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from claims.actions.register import register_import
from claims.core import Actor, ClaimError
from claims.domain import roles
from claims.domain.csv_export import safe_cell
from claims.domain.stages import Stage
from claims.models import ClaimFlag
from tests.support.factories import RegisterEntryFactory, SchemeFactory, claim_in_stage, staff

pytestmark = pytest.mark.django_db

IMPORT = reverse("admin:claims_registerentry_import")
HEADER = "notice_code,full_name,email,address,postcode,external_id\n"
GOOD = (
    HEADER
    + '7K3M-9Q2P-4XYZ,Ada Lovelace,ada@example.test,"1 St James\'s Square\nLondon",sw1y4jh,A1\n'
    + ",Zoë O'Brien,,,CF24 3AB,A2\n"
    + 'abcd efgh jkmn,=HYPERLINK("http://evil.test"),,,LS1 1AA,A3\n'
)


def upload(text: str, name: str = "register.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


def run(scheme, text: str, user=None):
    user = user or staff(roles.SCHEME_ADMINISTRATOR)
    return register_import(
        scheme_id=scheme.pk, upload=io.BytesIO(text.encode()), actor=Actor.staff(user)
    )


def test_a_good_file_is_imported_whole_with_codes_made_where_missing():
    scheme = SchemeFactory()

    result = run(scheme, GOOD)

    assert result.ok and result.imported == 3
    entries = {e.external_id: e for e in scheme.register.all()}
    assert entries["A1"].notice_code == "7K3M-9Q2P-4XYZ"
    assert entries["A1"].address == "1 St James's Square\nLondon"
    assert entries["A1"].postcode == "SW1Y 4JH"
    assert len(entries["A2"].notice_code) == 14
    assert entries["A3"].notice_code == "ABCD-EFGH-JKMN"
    assert entries["A3"].full_name == '=HYPERLINK("http://evil.test")'  # kept as written


@pytest.mark.parametrize(
    "address",
    [
        "Flat 2\\3 Back Lane",  # a backslash
        "Flat 2\r\nBack Lane",  # Windows line ends
        "Flat 2\tBack Lane",  # a tab, which the COPY line also uses between values
        "Flat 2\\tBack\nLane\\",  # a backslash before a letter, and at the end
    ],
)
def test_every_character_copy_escapes_is_imported_as_written(address):
    scheme = SchemeFactory()
    quoted = address.replace('"', '""')

    result = run(scheme, f'{HEADER}7K3M-9Q2P-4XYZ,Ada Lovelace,,"{quoted}",SW1Y 4JH,A1\n')

    assert result.ok and result.imported == 1
    assert scheme.register.get().address == address


def test_a_file_with_bad_rows_reports_each_by_line_and_imports_none():
    scheme = SchemeFactory()
    text = (
        HEADER
        + "7K3M-9Q2P-4XYZ,Ada Lovelace,ada@example.test,,SW1Y 4JH,A1\n"  # line 2: fine
        + "NOT-A-CODE,Bad Code,,,LS1 1AA,A2\n"  # line 3
        + ",,,,LS1 1AA,A3\n"  # line 4: no name
        + '7K3M-9Q2P-4XYZ,"Spans\ntwo lines",not-an-email,,,A4\n'  # lines 5-6
        + "only,three,values\n"  # line 7
        + ",Fine Person,,,M1 4BT,A5\n"  # line 8: fine
    )

    result = run(scheme, text)

    assert not result.ok
    assert result.imported == 0
    assert scheme.register.count() == 0
    by_line = {error.line: error.message for error in result.errors}
    assert set(by_line) == {3, 5, 7, 4}
    assert "notice code must be twelve" in by_line[3]
    assert "full name is missing" in by_line[4]
    assert "earlier line" in by_line[5]
    assert "email address is not valid" in by_line[5]
    assert "postcode is missing" in by_line[5]
    assert "Expected 6 values, found 3" in by_line[7]


def test_a_code_already_on_the_register_is_reported():
    scheme = SchemeFactory()
    RegisterEntryFactory(scheme=scheme, notice_code="7K3M-9Q2P-4XYZ")

    result = run(scheme, HEADER + "7k3m9q2p4xyz,Ada,,,SW1Y 4JH,\n")

    assert [(e.line, "already on this scheme's register" in e.message) for e in result.errors] == [
        (2, True)
    ]
    assert scheme.register.count() == 1


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("name,postcode\nAda,SW1Y 4JH\n", "missing column full_name"),
        ("full_name,postcode,shoe_size\nAda,SW1Y 4JH,9\n", "unknown column shoe_size"),
        (HEADER, "no rows"),
    ],
)
def test_a_bad_header_or_an_empty_file_is_reported(text, problem):
    scheme = SchemeFactory()

    result = run(scheme, text)

    assert problem in result.errors[0].message
    assert scheme.register.count() == 0


def test_only_roles_that_import_the_register_may(client):
    scheme = SchemeFactory()
    caseworker = staff(roles.CASEWORKER)

    with pytest.raises(ClaimError):
        run(scheme, GOOD, user=caseworker)
    client.force_login(caseworker)
    assert client.get(IMPORT).status_code == 403
    assert scheme.register.count() == 0


def test_the_import_page_shows_the_report_and_imports_nothing(client):
    scheme = SchemeFactory()
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))
    bad = HEADER + ",Ada,,,SW1Y 4JH,\n,<script>alert(1)</script>,,,,\n"

    response = client.post(IMPORT, {"scheme": scheme.pk, "file": upload(bad)})
    page = response.content.decode()

    assert response.status_code == 200
    assert "Nothing was imported" in page
    assert "<td>3</td>" in page and "postcode is missing" in page
    assert "<script>alert(1)" not in page
    assert scheme.register.count() == 0


def test_the_import_page_imports_a_good_file(client):
    scheme = SchemeFactory()
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    response = client.post(IMPORT, {"scheme": scheme.pk, "file": upload(GOOD)})

    assert response.status_code == 302
    assert scheme.register.count() == 3


# --- exports ---------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_a_cell_that_a_spreadsheet_would_run_is_neutralised(start):
    assert safe_cell(f"{start}1+1") == f"'{start}1+1"
    assert safe_cell("Ada =1") == "Ada =1"


def read_csv(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8").lstrip("\ufeff")
    return list(csv.reader(io.StringIO(body)))


def test_the_register_export_neutralises_formula_cells(client):
    scheme = SchemeFactory()
    RegisterEntryFactory(scheme=scheme, full_name='=HYPERLINK("http://evil.test")')
    RegisterEntryFactory(scheme=scheme, full_name="@SUM(A1)", address="\tindented")
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    response = client.get(reverse("admin:claims_registerentry_export"))
    rows = read_csv(response)

    assert response["Content-Disposition"].startswith("attachment")
    names = {row[2] for row in rows[1:]}
    assert names == {'\'=HYPERLINK("http://evil.test")', "'@SUM(A1)"}
    assert "'\tindented" in {row[4] for row in rows[1:]}


def test_the_claims_export_neutralises_formula_cells_and_is_for_reports(client, people):
    claim = claim_in_stage(Stage.SUBMITTED, people=people)
    claim.full_name = "-2+3+cmd|' /C calc'!A0"
    claim.save(update_fields=["full_name"])
    client.force_login(staff(roles.SCHEME_ADMINISTRATOR))

    response = client.post(
        reverse("admin:claims_claim_changelist"),
        {"action": "export_csv", "_selected_action": [claim.pk]},
    )
    rows = read_csv(response)

    assert rows[0][:3] == ["reference", "scheme", "stage"]
    assert rows[1][4] == "'-2+3+cmd|' /C calc'!A0"
    assert ClaimFlag.Kind.NOT_ON_REGISTER.label in rows[1][10]

    client.force_login(people.caseworker)
    refused = client.post(
        reverse("admin:claims_claim_changelist"),
        {"action": "export_csv", "_selected_action": [claim.pk]},
    )
    assert refused.status_code in {200, 302}
    assert not hasattr(refused, "streaming_content")
