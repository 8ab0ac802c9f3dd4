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
from dataclasses import dataclass

import magic
from django.core.files.uploadedfile import UploadedFile
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader
from pypdf.errors import PdfReadError

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
Image.MAX_IMAGE_PIXELS = 60_000_000  # decompression bombs fail instead of eating memory


class UploadError(ValueError):
    """Why a file was refused, in words a claimant can act on."""


@dataclass(frozen=True)
class CheckedUpload:
    data: bytes
    content_type: str
    original_name: str


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
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # verify() checks structure; load() decodes every pixel
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise refused from None
    # Bytes after the image's end can carry HTML or script for a browser that sniffs.
    if expected_format == "PNG" and not data.rstrip(b"\x00").endswith(b"IEND\xaeB`\x82"):
        raise refused
    if expected_format == "JPEG" and b"\xff\xd9" not in data[-64:]:
        raise refused


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
        root = reader.trailer["/Root"]
        names = root.get("/Names")
        if any(key in root for key in ("/OpenAction", "/AA", "/AcroForm")) or (
            names is not None and any(k in names for k in ("/JavaScript", "/EmbeddedFiles"))
        ):
            raise refused
        # Objects inside compressed streams are invisible to the byte scan: walk them.
        for page in reader.pages:
            if "/AA" in page:
                raise refused
            for annotation in page.get("/Annots") or []:
                obj = annotation.get_object()
                if obj.get("/Subtype") in ("/FileAttachment", "/RichMedia", "/Screen", "/Movie"):
                    raise refused
                action = obj.get("/A")
                if action is not None and action.get_object().get("/S") != "/URI":
                    raise refused
        if len(reader.pages) == 0:
            raise unreadable
    except UploadError:
        raise
    except (PdfReadError, KeyError, ValueError, TypeError, AttributeError, RecursionError):
        raise unreadable from None
