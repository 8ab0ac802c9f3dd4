"""Helpers for the hostile-input tests: reading a page's errors, building uploads the
way a browser (or an attacker) sends them, and small files made in the test."""

from __future__ import annotations

import html
import io
import re
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from django.http import HttpResponse
from django.test import Client
from PIL import Image

# --- Reading errors ----------------------------------------------------------------

_SUMMARY = re.compile(r'<div class="error-summary".*?</div>', re.S)
_SUMMARY_LINK = re.compile(r'<a href="#([^"]+)">(.*?)</a>', re.S)


def error_summary(response: HttpResponse) -> list[tuple[str, str]]:
    """(the id linked to, the message) for each error in the page's summary."""
    match = _SUMMARY.search(response.content.decode())
    if match is None:
        return []
    return [(anchor, html.unescape(text)) for anchor, text in _SUMMARY_LINK.findall(match[0])]


def assert_field_error(response: HttpResponse, field_id: str, message: str) -> None:
    """The page is shown again with `message` in the summary, linked to the field's id,
    an element with that id exists, and the message also sits beside the field."""
    page = response.content.decode()
    assert response.status_code == 200, page[:2000]
    assert (field_id, message) in error_summary(response), error_summary(response)
    assert f'id="{field_id}"' in page
    assert page.count(html.escape(message)) >= 2  # the summary and beside the field
    assert page.count('aria-invalid="true"') >= 1


def input_value(response: HttpResponse, name: str) -> str | None:
    """The value a text input or textarea named `name` is shown with."""
    page = response.content.decode()
    match = re.search(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    if match:
        value = re.search(r'\bvalue="([^"]*)"', match[0])
        return html.unescape(value[1]) if value else ""
    match = re.search(
        rf'<textarea[^>]*\bname="{re.escape(name)}"[^>]*>(.*?)</textarea>', page, re.S
    )
    if match:
        # Django puts a newline after the opening tag, which browsers drop.
        return html.unescape(match[1].removeprefix("\r\n").removeprefix("\n"))
    return None


def checked_values(response: HttpResponse, name: str) -> list[str]:
    """The values of the radios or checkboxes named `name` that are shown ticked."""
    page = response.content.decode()
    tags = re.findall(rf'<input[^>]*\bname="{re.escape(name)}"[^>]*>', page)
    return [
        html.unescape(re.search(r'\bvalue="([^"]*)"', tag)[1])  # type: ignore[index]
        for tag in tags
        if re.search(r"\bchecked\b", tag)
    ]


def sign_in_as_claimant(client: Client, claim: Any) -> None:
    """Open `claim` in this browser through a single-use link, as its claimant would."""
    from claims.actions.access import access_link_issue
    from claims.models import AccessLink

    token = access_link_issue(claim=claim, purpose=AccessLink.Purpose.FOLLOW)
    response = client.post(f"/link/{token}/")
    assert response.status_code == 302, response.content.decode()[:2000]


# --- Uploads as a browser sends them -----------------------------------------------

BOUNDARY = "----RedressTestBoundary7MA4YWxkTrZu0gW"


def multipart(
    fields: Mapping[str, str | Iterable[str]],
    files: Iterable[tuple[str, bytes]],
    name: str = "files",
) -> bytes:
    """A multipart body with each filename exactly as given: Django's test client would
    take the basename and so hide `../` and friends from the code under test."""
    parts: list[bytes] = []
    for key, value in fields.items():
        for item in [value] if isinstance(value, str) else value:
            parts.append(
                f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
                + item.encode()
                + b"\r\n"
            )
    for filename, data in files:
        quoted = filename.replace("\\", "\\\\").replace('"', "%22")
        parts.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{quoted}"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def post_files(
    client: Client,
    path: str,
    fields: Mapping[str, str | Iterable[str]],
    files: Iterable[tuple[str, bytes]],
) -> Any:
    return client.generic(
        "POST",
        path,
        multipart(fields, files),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
    )


# --- Files made in the test --------------------------------------------------------


def png(size: tuple[int, int] = (8, 8), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, 128 if mode in ("1", "L") else (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def jpeg(size: tuple[int, int] = (16, 16)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 200)).save(out, "JPEG", quality=80)
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("P", (4, 4)).save(out, "GIF")
    return out.getvalue()


# A one-page PDF, objects 1-5; tests add to the catalog (1), the page (3) or new objects.
CATALOG = b"<< /Type /Catalog /Pages 2 0 R%s >>"
PAGES = b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>"
PAGE = (
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
    b" /Resources << /Font << /F1 5 0 R >> >>%s >>"
)
FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d%s >>\nstream\n%s\nendstream" % (len(data), extra, data)


def pdf(
    catalog_extra: bytes = b"",
    page_extra: bytes = b"",
    extra_objects: Iterable[bytes] = (),
    *,
    compress: Iterable[int] = (),
    content: bytes = b"BT /F1 24 Tf 72 700 Td (Bank statement, March 2017) Tj ET",
) -> bytes:
    """A small valid PDF. Objects numbered in `compress` go into a compressed object
    stream (PDF 1.5, with a cross-reference stream), where a byte scan cannot see them."""
    objects = [
        CATALOG % catalog_extra,
        PAGES,
        PAGE % page_extra,
        stream(content),
        FONT,
        *extra_objects,
    ]
    return build_pdf(objects, compress=set(compress))


def build_pdf(objects: list[bytes], *, compress: set[int] = frozenset()) -> bytes:  # type: ignore[assignment]
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    count = len(objects)
    offsets: dict[int, int] = {}
    for number, body in enumerate(objects, start=1):
        if number in compress:
            continue
        offsets[number] = len(out)
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    if not compress:
        xref = len(out)
        out += b"xref\n0 %d\n0000000000 65535 f \n" % (count + 1)
        for number in range(1, count + 1):
            out += b"%010d 00000 n \n" % offsets[number]
        out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count + 1, xref)
        return bytes(out)
    # Object stream: "number offset" pairs, then the objects themselves.
    packed = sorted(compress)
    bodies = b""
    pairs = []
    for number in packed:
        pairs.append(b"%d %d" % (number, len(bodies)))
        bodies += objects[number - 1] + b"\n"
    header = b" ".join(pairs) + b"\n"
    data = zlib.compress(header + bodies)
    objstm = count + 1
    offsets[objstm] = len(out)
    out += b"%d 0 obj\n%s\nendobj\n" % (
        objstm,
        stream(
            data,
            b" /Type /ObjStm /N %d /First %d /Filter /FlateDecode" % (len(packed), len(header)),
        ),
    )
    xref_number = count + 2
    offsets[xref_number] = len(out)
    rows = [b"\x00" + (0).to_bytes(4, "big") + (65535).to_bytes(2, "big")]
    for number in range(1, xref_number + 1):
        if number in compress:
            index = packed.index(number)
            rows.append(b"\x02" + objstm.to_bytes(4, "big") + index.to_bytes(2, "big"))
        else:
            rows.append(b"\x01" + offsets[number].to_bytes(4, "big") + (0).to_bytes(2, "big"))
    xref_data = zlib.compress(b"".join(rows))
    out += b"%d 0 obj\n%s\nendobj\n" % (
        xref_number,
        stream(
            xref_data,
            b" /Type /XRef /Size %d /W [1 4 2] /Root 1 0 R /Filter /FlateDecode"
            % (xref_number + 1),
        ),
    )
    out += b"startxref\n%d\n%%%%EOF\n" % offsets[xref_number]
    return bytes(out)
