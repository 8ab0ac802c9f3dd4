"""Letter PDFs: WeasyPrint with our own stylesheet, fonts and nothing else.

Safety: the URL fetcher answers only `redress-asset:<file>` for the files packaged in
claims/delivery/letter_assets and `redress-letterhead:<digest>` for the letter's own scheme logo.
It refuses file:, http(s):, data: and everything else, and a refusal stops the render
(`fail_on_errors`), so a letter is never made with something missing. Each render runs
under a time limit (`LETTER_RENDER_SECONDS`).

Archival and accessible: each PDF is PDF/A-3a (tagged, Unicode text, fonts embedded,
sRGB output intent) and declares PDF/UA-1; `_finish_pdf` adds what WeasyPrint leaves
out for that. Fonts and the stylesheet load once per process (`renderer()`), so a
Celery worker pays for them on its first letter, not on every letter.

What a letter says, and when one is made, is claims.delivery.letters.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import io
import logging
import signal
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings

if TYPE_CHECKING:
    from claims.models import Scheme

log = logging.getLogger(__name__)

# Bump when the wording changes in a way worth telling apart at a glance; the digest in
# `template_version` changes with every edit to a template, the stylesheet or a font.
LETTERS_VERSION = "1"
ASSETS_DIR = Path(__file__).resolve().parent / "letter_assets"
TEMPLATES_DIR = Path(settings.BASE_DIR) / "templates" / "letters"
ASSET_PREFIX = "redress-asset:"
# The scheme's logo, named by a digest of its content, so WeasyPrint's image cache (kept
# for the process) can never give one scheme's letters another scheme's logo.
LOGO_PREFIX = "redress-letterhead:"
# PDF/A-3 level A: archival, tagged and with Unicode text; we add the PDF/UA-1 claim.
PDF_VARIANT = "pdf/a-3a"


class LetterError(Exception):
    """A letter that cannot be made as asked; the message says why."""


class LetterTimeout(LetterError):
    pass


class LetterAssetRefused(ValueError):
    """A URL the letter fetcher will not fetch."""


# The XMP that says the PDF follows PDF/UA-1, with the extension schema PDF/A asks
# for whenever a property outside its own schemas is used.
_PDFUA_XMP = b"""<rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" \
xmlns:pdfuaid="http://www.aiim.org/pdfua/ns/id/" rdf:about="" pdfuaid:part="1"/>
<rdf:Description xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" \
xmlns:pdfaExtension="http://www.aiim.org/pdfa/ns/extension/" \
xmlns:pdfaSchema="http://www.aiim.org/pdfa/ns/schema#" \
xmlns:pdfaProperty="http://www.aiim.org/pdfa/ns/property#" rdf:about="">
<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType="Resource">
<pdfaSchema:schema>PDF/UA Universal Accessibility Schema</pdfaSchema:schema>
<pdfaSchema:namespaceURI>http://www.aiim.org/pdfua/ns/id/</pdfaSchema:namespaceURI>
<pdfaSchema:prefix>pdfuaid</pdfaSchema:prefix>
<pdfaSchema:property><rdf:Seq><rdf:li rdf:parseType="Resource">
<pdfaProperty:name>part</pdfaProperty:name>
<pdfaProperty:valueType>Integer</pdfaProperty:valueType>
<pdfaProperty:category>internal</pdfaProperty:category>
<pdfaProperty:description>Part of ISO 14289 the file follows</pdfaProperty:description>
</rdf:li></rdf:Seq></pdfaSchema:property>
</rdf:li></rdf:Bag></pdfaExtension:schemas>
</rdf:Description>
"""


def _finish_pdf(document: Any, pdf: Any) -> None:
    """WeasyPrint's finisher, run before the PDF is written out."""
    _declare_pdfua(pdf)
    _unambiguous_stream_ends(pdf)
    # WeasyPrint adds a CIDSet for PDF 1.4 files (for PDF/A-1); it can miss glyphs the
    # subsetter kept, which PDF/UA forbids, and PDF/A-2 and 3 do not ask for one.
    for pdf_object in pdf.objects:
        if isinstance(pdf_object, dict) and pdf_object.get("Type") == "/FontDescriptor":
            pdf_object.pop("CIDSet", None)


def _unambiguous_stream_ends(pdf: Any) -> None:
    """Keep any stream's data from ending in a carriage return.

    pydyf writes `data LF endstream`; data ending in CR then reads as a CR LF end-of-line
    marker, one byte short of /Length, which PDF/A validators reject. Compressed data ends
    with the low byte of the Adler-32 checksum of the raw data, so one stream in 256 would.
    Such a stream is stored uncompressed instead (its raw data ends otherwise, but for
    one stream in 65,536, which is logged).
    """
    import pydyf

    for pdf_object in pdf.objects:
        if not isinstance(pdf_object, pydyf.Stream):
            continue
        raw = b"\n".join(pydyf._to_bytes(item) for item in pdf_object.stream)
        if pdf_object.compress and zlib.adler32(raw) & 0xFF == 0x0D:
            pdf_object.compress = False
        if not pdf_object.compress and raw.endswith(b"\r"):
            log.warning("A letter's PDF stream ends in CR; PDF/A validators may refuse it.")


def _declare_pdfua(pdf: Any) -> None:
    """Add the PDF/UA-1 identification to the PDF/A metadata WeasyPrint wrote."""
    reference = pdf.catalog["Metadata"]  # b"12 0 R"
    if isinstance(reference, bytes):
        reference = reference.decode()
    stream = pdf.objects[int(reference.split()[0])]
    content = b"".join(stream.stream)
    marker = b"</rdf:RDF>"
    if marker not in content:
        raise LetterError("WeasyPrint wrote no XMP metadata to extend.")
    stream.stream = [content.replace(marker, _PDFUA_XMP + marker, 1)]
    # PDF/A: a metadata stream stays readable without decoding (no Filter).
    stream.compress = False


def _asset_allowlist() -> dict[str, Path]:
    """`redress-asset:<path>` for every file packaged in letter_assets, and nothing else."""
    return {
        f"{ASSET_PREFIX}{path.relative_to(ASSETS_DIR).as_posix()}": path
        for path in sorted(ASSETS_DIR.rglob("*"))
        if path.is_file() and path.suffix in {".ttf", ".css"}
    }


def _template_version() -> str:
    """LETTERS_VERSION plus a digest of every template, the stylesheet and the fonts:
    stored with each letter, it says exactly what made it."""
    digest = hashlib.sha256()
    for path in [*sorted(TEMPLATES_DIR.rglob("*.html")), *_asset_allowlist().values()]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return f"{LETTERS_VERSION}+{digest.hexdigest()[:12]}"


def _png_data(image: Any) -> bytes:
    """The compressed image data of `image` saved as a PNG, as WeasyPrint embeds it."""
    import struct

    out = io.BytesIO()
    image.save(out, "PNG")
    data, position, chunks = out.getvalue(), 8, []
    while position < len(data):
        (length,) = struct.unpack("!I", data[position : position + 4])
        if data[position + 4 : position + 8] == b"IDAT":
            chunks.append(data[position + 8 : position + 8 + length])
        position += 12 + length
    return b"".join(chunks)


@dataclass(frozen=True)
class Logo:
    url: str
    png: bytes


@functools.cache
def _fetcher_class() -> type:
    """WeasyPrint's URLFetcher, made to answer only from an allowlist; built on first use
    so that importing this module does not load WeasyPrint."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class LetterURLFetcher(URLFetcher):
        def __init__(self, *, allowed: dict[str, Path], logo: Logo | None, log_to: list[str]):
            # fail_on_errors: a refused URL stops the render rather than leaving a hole in
            # the letter. No protocol is allowed to the parent's own fetching, which this
            # class never uses: it answers every URL itself, below.
            super().__init__(fail_on_errors=True, allowed_protocols=())
            self.allowed, self.logo, self.log_to = allowed, logo, log_to
            self.requested: list[str] = []

        def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
            self.requested.append(url)
            self.log_to.append(url)
            if self.logo is not None and url == self.logo.url:
                return URLFetcherResponse(url, self.logo.png, {"Content-Type": "image/png"})
            path = self.allowed.get(url)
            if path is None:
                log.warning("Letter renderer refused to fetch %r", url[:200])
                raise LetterAssetRefused(f"Letters load only packaged assets, not {url!r}")
            content_type = "text/css" if path.suffix == ".css" else "font/ttf"
            return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})

    return LetterURLFetcher


class Renderer:
    """WeasyPrint with our stylesheet and fonts loaded once. One per process: see
    `renderer()`. Not for sharing between threads."""

    def __init__(self) -> None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        # WeasyPrint logs each step of each letter at INFO: thousands of lines an hour
        # in a worker's log, and measurable time. Its warnings and errors still show.
        logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
        self.allowed = _asset_allowlist()
        self.template_version = _template_version()
        # Every URL any fetcher of this renderer was asked for, refused or not.
        self.requested: list[str] = []
        self.font_config = FontConfiguration()
        self.stylesheet = CSS(
            string=(ASSETS_DIR / "letter.css").read_text(encoding="utf-8"),
            url_fetcher=self.fetcher(),
            font_config=self.font_config,
        )
        self._logos: dict[str, Logo] = {}
        # WeasyPrint's image cache: each logo is decoded and compressed once a process.
        self.image_cache: dict[str, Any] = {}

    def fetcher(self, logo: Logo | None = None) -> Any:
        """A URL fetcher that answers only our packaged assets (and `logo`, if given)."""
        return _fetcher_class()(allowed=self.allowed, logo=logo, log_to=self.requested)

    def logo(self, scheme: Scheme) -> Logo | None:
        """The scheme's logo re-encoded as a plain RGB PNG: what an admin uploaded is
        decoded and drawn again, so no metadata, colour profile, CMYK or transparency
        of theirs reaches the PDF (PDF/A forbids some of each)."""
        if not scheme.letter_logo:
            return None
        name = scheme.letter_logo.name
        if name not in self._logos:
            from PIL import Image

            with scheme.letter_logo.open("rb") as upload, Image.open(upload) as image:
                if image.format not in {"PNG", "JPEG"}:
                    raise LetterError("The scheme's logo is not a PNG or JPEG.")
                # About 350 dpi at the 20 mm the letterhead prints it: sharp, and small.
                image.thumbnail((1000, 280))
                rgba = image.convert("RGBA")
                flat = Image.new("RGB", rgba.size, "white")
                flat.paste(rgba, mask=rgba.getchannel("A"))
            # WeasyPrint embeds the PNG's compressed data as it is; see
            # _unambiguous_stream_ends for why it must not end in CR. Nudging one corner
            # pixel by one level changes the checksum the data ends with.
            while _png_data(flat).endswith(b"\r"):
                red, green, blue = flat.getpixel((0, 0))  # type: ignore[misc]
                flat.putpixel((0, 0), (red ^ 1, green, blue))
            out = io.BytesIO()
            flat.save(out, "PNG")
            png = out.getvalue()
            digest = hashlib.sha256(png).hexdigest()[:16]
            self._logos[name] = Logo(url=f"{LOGO_PREFIX}{digest}", png=png)
        return self._logos[name]

    def pdf(self, html: str, *, logo: Logo | None = None) -> tuple[bytes, list[str]]:
        """The PDF for `html` and the URLs its fetcher was asked for."""
        from weasyprint import HTML
        from weasyprint.urls import FatalURLFetchingError

        fetcher = self.fetcher(logo)
        try:
            with time_limit(render_seconds()):
                pdf = HTML(string=html, url_fetcher=fetcher, base_url=None).write_pdf(
                    stylesheets=[self.stylesheet],
                    font_config=self.font_config,
                    pdf_variant=PDF_VARIANT,
                    pdf_tags=True,
                    cache=self.image_cache,
                    # 1.4: no object or cross-reference streams, whose compressed
                    # data could end in CR (see _unambiguous_stream_ends).
                    pdf_version="1.4",
                    finisher=_finish_pdf,
                )
        except FatalURLFetchingError as error:
            # A BaseException in WeasyPrint, so it stops the render; an ordinary
            # error here, so the request records it.
            raise LetterError(f"{error} (refused: {error.__cause__})") from error
        return pdf, list(fetcher.requested)


_renderers: dict[int, Renderer] = {}
_renderers_lock = threading.Lock()
# Let WeasyPrint clean up its fonts while the interpreter is still whole.
atexit.register(_renderers.clear)


def renderer() -> Renderer:
    """This process's renderer, made on first use. Keyed by thread: WeasyPrint's font
    configuration is not for sharing between threads, and Celery's prefork workers
    have one thread, so each worker process loads fonts and styles once."""
    key = threading.get_ident()
    with _renderers_lock:
        if key not in _renderers:
            _renderers[key] = Renderer()
        return _renderers[key]


def render_seconds() -> float:
    return float(settings.LETTER_RENDER_SECONDS)


@contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Stop a render that runs longer than `seconds` with LetterTimeout. Uses the real-time
    interval timer, which only the main thread can set; elsewhere the Celery task's own
    time limit is the backstop."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(signum: int, frame: Any) -> None:
        raise LetterTimeout(f"The letter took longer than {seconds:g} seconds to render.")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
