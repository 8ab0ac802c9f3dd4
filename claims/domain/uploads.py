"""Evidence uploads, judged by what the bytes are, never by the name or the browser's word.

Only PDF, JPEG and PNG are accepted. An image must decode completely; a PDF
must parse and carry no JavaScript, automatic actions, launch actions or
embedded files. The claimant's filename is kept only as a label, cleaned of
paths, control and direction-changing characters.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

import magic
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_CLAIM = 20
ALLOWED = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
}
_PIL_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
# Names that make a PDF do something when opened, or carry other files.
# A whole PDF name, so "/AAPL:Keywords" (macOS) is not mistaken for "/AA".
_PDF_ACTIVE = re.compile(
    rb"/(JavaScript|JS|Launch|EmbeddedFiles?|OpenAction|AA|RichMedia|XFA|SubmitForm|ImportData)"
    rb"(?![A-Za-z0-9#:_.\-])"
)
# Keys that only ever hold script, automatic actions or attached files.
_PDF_ACTIVE_KEYS = frozenset(
    {
        "/JS",
        "/JavaScript",
        "/AA",
        "/OpenAction",
        "/EmbeddedFiles",
        "/EF",
        "/XFA",
        "/RichMediaContent",
    }
)
_PDF_ACTIVE_ANNOTATIONS = frozenset({"/FileAttachment", "/RichMedia", "/Screen", "/Movie"})
# Actions that only move within the document or open a web or mail link.
_PDF_SAFE_ACTIONS = frozenset({"/URI", "/GoTo"})
_SAFE_URI = re.compile(r"(https?|mailto):", re.IGNORECASE)
Image.MAX_IMAGE_PIXELS = 60_000_000  # decompression bombs fail instead of eating memory


class UploadError(ValueError):
    """Why a file was refused, in words a claimant can act on."""


@dataclass(frozen=True)
class CheckedUpload:
    data: bytes
    content_type: str
    original_name: str


@contextmanager
def files_discarded_on_error() -> Iterator[list[Any]]:
    """Yields a list for the Evidence saved inside the block. If the block fails, their
    files are deleted: the rows roll back with the transaction, but files on disk would
    stay behind, unreferenced. Put it outside the `transaction.atomic()` it guards."""
    saved: list[Any] = []
    try:
        yield saved
    except BaseException:
        for evidence in saved:
            evidence.file.storage.delete(evidence.file.name)
        raise


def clean_filename(name: str) -> str:
    """A label safe to show: no path, no control or bidirectional characters, ≤ 120 chars."""
    name = re.split(r"[\\/]", name or "")[-1]
    name = "".join(
        ch
        for ch in unicodedata.normalize("NFC", name)
        if unicodedata.category(ch) not in {"Cc", "Cf", "Cs", "Co", "Cn"}
    ).strip(" .")
    if not name:
        return "file"
    if len(name) > 120:
        stem, dot, extension = name.rpartition(".")
        if dot and len(extension) <= 5:
            return f"{stem[: 119 - len(extension)]}.{extension}"
        return name[:120]
    return name


def check_upload(upload: UploadedFile) -> CheckedUpload:
    size = upload.size or 0
    if size == 0:
        raise UploadError(f"{clean_filename(upload.name or '')} is empty. Choose another file.")
    if size > MAX_FILE_BYTES:
        raise UploadError(
            f"{clean_filename(upload.name or '')} is larger than 10 MB. "
            "Choose a smaller file, or take a photo of the page instead of scanning it."
        )
    data = b"".join(upload.chunks())
    if len(data) > MAX_FILE_BYTES or not data:
        raise UploadError("The file must be between 1 byte and 10 MB.")
    content_type = magic.from_buffer(data[:8192], mime=True)
    if content_type not in ALLOWED:
        raise UploadError(
            f"{clean_filename(upload.name or '')} is not a PDF, JPEG or PNG file. "
            "Upload a PDF, or a photo or screenshot saved as JPEG or PNG."
        )
    if content_type == "application/pdf":
        _check_pdf(data)
    else:
        _check_image(data, _PIL_FORMATS[content_type])
    return CheckedUpload(
        data=data, content_type=content_type, original_name=clean_filename(upload.name or "")
    )


def _check_image(data: bytes, expected_format: str) -> None:
    refused = UploadError("This image could not be read. Save it again as JPEG or PNG and retry.")
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.format != expected_format:
                raise refused
            # Pillow only warns between 1x and 2x MAX_IMAGE_PIXELS, and would decode it all.
            if image.width * image.height > (Image.MAX_IMAGE_PIXELS or 0):
                raise UploadError(
                    "This image has too many pixels for us to open. Save it at a smaller "
                    "size, such as a phone photo or a scan at 300 dpi, and retry."
                )
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # verify() checks structure; load() decodes every pixel
    except UploadError:  # a ValueError too: keep its own words
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise refused from None
    # Bytes after the image's end can carry HTML or script for a browser that sniffs.
    # The end is found by walking the format's own structure: a trailer could itself
    # end with the bytes that end an image.
    end = _png_end(data) if expected_format == "PNG" else _jpeg_end(data)
    if end is None or data[end:].strip(b"\x00\t\r\n "):
        raise refused


def _png_end(data: bytes) -> int | None:
    """The offset just after the IEND chunk, walking chunk by chunk from the signature."""
    at = 8
    while at + 12 <= len(data):
        length = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        at += 12 + length  # length, type, data, CRC
        if kind == b"IEND":
            return at if at <= len(data) else None
    return None


def _jpeg_end(data: bytes) -> int | None:
    """The offset just after the EOI marker, walking segments (skipping their contents,
    such as an EXIF thumbnail's own EOI) and the scans' entropy-coded data."""
    at = 2  # after SOI
    size = len(data)
    while at + 1 < size:
        if data[at] != 0xFF:
            return None
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:  # EOI
            return at + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            at += 2
            continue
        if at + 4 > size:
            return None
        at += 2 + int.from_bytes(data[at + 2 : at + 4], "big")
        if marker == 0xDA:  # start of scan: coded data runs to the next marker
            while True:
                at = data.find(b"\xff", at)
                if at < 0 or at + 1 >= size:
                    return None
                following = data[at + 1]
                if following == 0x00 or 0xD0 <= following <= 0xD7 or following == 0xFF:
                    at += 1  # a stuffed 0xFF, a restart marker, or fill before a marker
                    continue
                break
    return None


def _pdf_value(obj: DictionaryObject, key: str) -> Any:
    value = obj.get(key)
    return value.get_object() if value is not None else None


def _pdf_objects_inert(root: DictionaryObject) -> bool:
    """False if any object reachable from `root` holds script, an automatic or
    non-navigation action (also one chained by /Next), or an attached file."""
    seen: set[tuple[int, int]] = set()
    stack: list[Any] = [root]
    while stack:
        obj = stack.pop()
        if isinstance(obj, IndirectObject):
            if (obj.idnum, obj.generation) in seen:
                continue
            seen.add((obj.idnum, obj.generation))
            obj = obj.get_object()
        if isinstance(obj, DictionaryObject):  # streams too: their dictionary, not data
            if (
                _PDF_ACTIVE_KEYS.intersection(obj)
                or _pdf_value(obj, "/Subtype") in _PDF_ACTIVE_ANNOTATIONS
            ):
                return False
            for key in ("/A", "/Next", "/PA"):
                actions = _pdf_value(obj, key)
                for action in actions if isinstance(actions, ArrayObject) else [actions]:
                    action = action.get_object() if action is not None else None
                    if not isinstance(action, DictionaryObject) or "/S" not in action:
                        continue
                    kind = _pdf_value(action, "/S")
                    if kind not in _PDF_SAFE_ACTIONS or (
                        kind == "/URI" and not _SAFE_URI.match(str(_pdf_value(action, "/URI")))
                    ):
                        return False
            stack.extend(obj.values())
        elif isinstance(obj, ArrayObject):
            stack.extend(obj)
    return True


def _check_pdf(data: bytes) -> None:
    refused = UploadError(
        "This PDF contains active content (such as JavaScript or attachments) that we "
        "cannot accept. Print it to a new PDF, or upload a photo of the pages instead."
    )
    unreadable = UploadError("This PDF could not be read. Save it again as a PDF and retry.")
    if _PDF_ACTIVE.search(data):
        raise refused
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            raise UploadError("This PDF is password-protected. Upload a copy without a password.")
        root = cast(DictionaryObject, reader.trailer["/Root"].get_object())
        names = root.get("/Names")
        if any(key in root for key in ("/OpenAction", "/AA", "/AcroForm")) or (
            names is not None and any(k in names for k in ("/JavaScript", "/EmbeddedFiles"))
        ):
            raise refused
        # Objects inside compressed streams (and names written with #xx escapes) are
        # invisible to the byte scan: walk every object reachable from the catalog.
        if not _pdf_objects_inert(root):
            raise refused
        if len(reader.pages) == 0:
            raise unreadable
    except UploadError:
        raise
    except (PdfReadError, KeyError, ValueError, TypeError, AttributeError, RecursionError):
        raise unreadable from None
