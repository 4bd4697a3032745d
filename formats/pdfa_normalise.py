"""Normalisation of documents into PDF/A-2b: one entry point that chooses the tool and never raises.

:func:`default_normaliser` returns the ``Normaliser`` that ``Emit.original`` calls for every kept
original: ``(bytes, suffix, render hint) -> Rendition | None``. The type is taken from the
bytes first (magic numbers) and from the suffix second, so a mislabelled attachment still
goes the right way:

============  ====================================================================
input          path
============  ====================================================================
PDF            already PDF/A-2 and passing: kept as it is (``already_pdfa``);
               otherwise pikepdf sanitize + ``pdfa.save`` (``normalised``, or
               ``sanitised`` when JavaScript/actions had to be removed); fonts not
               embedded: Ghostscript embeds them, kept only when ``pdftotext`` finds
               the same text before and after (``rewritten``);
               encrypted: ``rejected_encrypted``
TIFF/JPEG/PNG  img2pdf (G4 and JPEG streams kept byte for byte) + pikepdf
RTF/DOC/DOCX/  LibreOffice headless (PDF/A-2 export) + pikepdf
ODT
TXT            decoded (UTF-8, ISO 646-NO, or the best legacy code page by the Norwegian
               score of :mod:`formats.text_codecs`), laid out as preformatted HTML
HTML           WeasyPrint via :func:`formats.pdf_html.render_html`: no network or file
               fetches (only ``data:`` URIs)
messages       ``render="kith"``/``"hl7v2"``: :func:`formats.message_render.render_message`
============  ====================================================================

Every rendition is verified before it is returned (:func:`formats.pdfa_check.check_pdfa`);
one that does not pass is not kept. Any failure becomes ``Rendition(pdf=None,
status="not_normalised: <reason>")``: the original is always kept, and the reason never holds
document content. Statuses are listed in :data:`STATUSES` and docs/documents.md.
"""

from __future__ import annotations

import html
import importlib
import io
import logging
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field

from formats.errors import MissingDependencyError
from formats.pdf_html import PdfRenderError, render_html
from formats.pdfa_check import check_pdfa, text_problems
from formats.pdfa_tools import (
    LIBREOFFICE_INSTALL,
    ConverterError,
    ConverterMissingError,
    Finished,
    OfficeConverter,
    finish_pdfa,
    ghostscript_rewrite,
    images_to_pdf,
    pdf_text,
)
from formats.rendition import Normaliser, Rendition
from formats.text_codecs import ISO646_NO, detect_legacy

log = logging.getLogger(__name__)

NORMALISED = "normalised"
ALREADY_PDFA = "already_pdfa"
SANITISED = "sanitised"
REWRITTEN = "rewritten"
REJECTED_ENCRYPTED = "rejected_encrypted"
NOT_NORMALISED = "not_normalised"

STATUSES: dict[str, str] = {
    NORMALISED: "converted to PDF/A-2b; the rendition passed verification",
    ALREADY_PDFA: "the original is already a PDF/A-2 that passed verification; the rendition is the same bytes",
    SANITISED: "converted to PDF/A-2b after removing active content (JavaScript, actions) the original held",
    REWRITTEN: "the PDF's fonts were not embedded: Ghostscript rewrote it with embedded (substitute) fonts, "
    "the text was compared before and after, then converted to PDF/A-2b",
    REJECTED_ENCRYPTED: "the PDF is encrypted (not allowed in PDF/A); only the original is kept",
    NOT_NORMALISED: "no rendition could be made (the reason follows the colon); only the original is kept",
}
"""Status vocabulary of ``document.status`` (prefix before ``:``)."""

_ISO646_HINT = re.compile(rb"[A-Za-z][\[\]{}|\\][a-z]")
_TEXT_STYLE = (
    "@page { size: A4; margin: 20mm 18mm; } "
    "body { font-family: 'DejaVu Sans Mono', monospace; font-size: 9.5pt; } "
    "pre { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; font-family: inherit; }"
)


def sniff_type(data: bytes, suffix: str) -> str:
    """Return the document type: ``pdf tiff jpeg png gif rtf doc docx odt html txt`` or ``unknown``.

    Magic numbers win over the suffix; text types come from the suffix or a leading ``<html``.

    Example:
        >>> sniff_type(b"%PDF-1.4...", ".bin"), sniff_type(b"{\\\\rtf1 x}", ".txt"), sniff_type(b"Hei", ".txt")
        ('pdf', 'rtf', 'txt')
    """
    head = data[:8]
    if data[:1024].lstrip().startswith(b"%PDF-") or head.startswith(b"%PDF"):
        return "pdf"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if head[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if head == b"\x89PNG\r\n\x1a\n":
        return "png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:5] == b"{\\rtf":
        return "rtf"
    if head == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return "doc"
    if head[:4] == b"PK\x03\x04":
        if not zipfile.is_zipfile(io.BytesIO(data)):
            return "corrupt"
        window = data[:4096]
        if b"application/vnd.oasis.opendocument.text" in window or suffix == ".odt":
            return "odt"
        if b"word/" in data[:65536] or suffix == ".docx":
            return "docx"
        return "unknown"
    by_suffix = {".txt": "txt", ".text": "txt", ".asc": "txt", ".html": "html", ".htm": "html"}
    if suffix in by_suffix:
        return by_suffix[suffix]
    start = data[:512].lstrip().lower()
    if start.startswith((b"<!doctype html", b"<html")):
        return "html"
    if _looks_like_text(data):
        return "txt"  # a mislabelled text file (an attachment declared PDF that is plain text) is still readable
    if suffix in (".rtf", ".doc", ".docx", ".odt", ".pdf", ".tif", ".tiff", ".jpg", ".jpeg", ".png"):
        return "corrupt"
    return "unknown"


def _looks_like_text(data: bytes) -> bool:
    """Return whether ``data`` is text: valid UTF-8, or single-byte with no control characters but CR LF TAB FF."""
    sample = data[:65536]
    if not sample or b"\x00" in sample:
        return False
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls == 0


def decode_text(data: bytes) -> tuple[str, str]:
    """Return the text of a plain-text document and the encoding it was read with.

    UTF-8 (with or without BOM) when valid; 7-bit text with ``[ \\ ] { | }`` between letters is
    ISO 646-NO; anything else is the legacy code page with the most Norwegian-looking result.

    Example:
        >>> decode_text("Bl{ b}r".encode("ascii")), decode_text("Grønn".encode("cp865"))
        (('Blæ bår', 'iso646-no'), ('Grønn', 'cp865'))
    """
    if data.isascii() and _ISO646_HINT.search(data):
        return data.decode(ISO646_NO), ISO646_NO
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError:
        encoding = detect_legacy(data)
        return data.decode(encoding, errors="replace"), encoding


def text_html(text: str) -> str:
    """Return an HTML page that shows ``text`` exactly, line for line, in a monospaced font."""
    return (
        f'<!DOCTYPE html><html lang="no"><head><meta charset="utf-8"><style>{_TEXT_STYLE}</style></head>'
        f"<body><pre>{html.escape(text)}</pre></body></html>"
    )


@dataclass
class DocumentNormaliser:
    """The default normaliser (callable): chooses the path by type, verifies, never raises.

    Attributes:
        office: the LibreOffice wrapper (one profile folder for the run).
        extract_text: whether to fill ``Rendition.text`` with the rendition's text (pdftotext).
    """

    office: OfficeConverter = field(default_factory=OfficeConverter)
    extract_text: bool = True

    def __call__(self, data: bytes, suffix: str, render: str | None) -> Rendition | None:
        """Return the rendition of one original (None: messages without a render hint get none)."""
        try:
            return self._normalise(data, suffix.lower(), render)
        except ConverterMissingError as exc:
            return _rendition(None, f"{NOT_NORMALISED}: {exc.message} ({exc.hint})")
        except ConverterError as exc:
            return _rendition(None, f"{NOT_NORMALISED}: {exc.message}")
        except Exception as exc:  # noqa: BLE001 - the hook must never stop a run; the original is kept
            log.warning("normalising a %s document failed unexpectedly: %s", suffix, type(exc).__name__)
            return _rendition(None, f"{NOT_NORMALISED}: internal error ({type(exc).__name__})")

    def _normalise(self, data: bytes, suffix: str, render: str | None) -> Rendition | None:
        if render is not None:
            return _render_message(data, render)
        if suffix in (".xml", ".hl7", ".er7", ".json"):
            return None
        if not data:
            return _rendition(None, f"{NOT_NORMALISED}: the file is empty")
        kind = sniff_type(data, suffix)
        if kind == "pdf":
            return self._pdf(data)
        if kind in ("tiff", "jpeg", "png", "gif"):
            return self._finish(images_to_pdf(data), NORMALISED, text=False)
        if kind in ("rtf", "doc", "docx", "odt"):
            if not self.office.available:
                return _rendition(None, f"{NOT_NORMALISED}: LibreOffice is not installed ({LIBREOFFICE_INSTALL})")
            return self._finish(self.office.convert(data, "." + kind), NORMALISED)
        if kind == "txt":
            text, _encoding = decode_text(data)
            rendition = self._html(text_html(text), text=False)
            return _rendition(rendition.pdf, rendition.status, rendition.page_count, text)
        if kind == "html":
            page, _encoding = decode_text(data)
            return self._html(page, text=True)
        if kind == "corrupt":
            return _rendition(None, f"{NOT_NORMALISED}: the file is not a readable {suffix.lstrip('.')} file")
        return _rendition(None, f"{NOT_NORMALISED}: unsupported file type ({suffix or 'no suffix'})")

    def _pdf(self, data: bytes) -> Rendition:
        problems = check_pdfa(data)
        codes = {p.code for p in problems}
        if "encrypted" in codes:
            return _rendition(None, REJECTED_ENCRYPTED)
        if "not_pdf" in codes:
            return _rendition(None, f"{NOT_NORMALISED}: the PDF cannot be parsed")
        if not problems:
            return self._result(Finished(data, _page_count(data), ()), ALREADY_PDFA, text=True)
        try:
            return self._finish(data, NORMALISED, converted=False)
        except ConverterError as exc:
            if "font_not_embedded" not in codes and "not embedded" not in exc.message:
                raise
            return self._rewritten(data, exc)

    def _rewritten(self, data: bytes, first: ConverterError) -> Rendition:
        """Fonts not embedded: let Ghostscript embed them, and keep the result only if no text was lost."""
        try:
            rewritten = ghostscript_rewrite(data)
        except ConverterMissingError as exc:
            raise ConverterError(f"{first.message}; Ghostscript could embed the fonts: {exc.hint}") from exc
        before, after = pdf_text(data), pdf_text(rewritten)
        if before is None or after is None:
            raise ConverterError(f"{first.message}; the Ghostscript rewrite is not checked (no pdftotext)")
        if text_problems(after, before):
            raise ConverterError(f"{first.message}; Ghostscript's rewrite loses text, so it is not used")
        rendition = self._finish(rewritten, REWRITTEN)
        return (
            rendition
            if rendition.status != SANITISED
            else _rendition(rendition.pdf, REWRITTEN, rendition.page_count, rendition.text)
        )

    def _html(self, page: str, *, text: bool) -> Rendition:
        try:
            rendered = render_html(page)
        except PdfRenderError as exc:
            raise ConverterError(exc.message) from exc
        except MissingDependencyError as exc:
            raise ConverterMissingError(exc.message, hint=exc.hint) from exc
        return self._verified(Finished(rendered.pdf, rendered.page_count, ()), NORMALISED, text=text)

    def _finish(self, pdf: bytes, status: str, *, text: bool = True, converted: bool = True) -> Rendition:
        finished = finish_pdfa(pdf, drop_dates=converted)
        return self._verified(finished, SANITISED if finished.removed else status, text=text)

    def _verified(self, finished: Finished, status: str, *, text: bool) -> Rendition:
        problems = check_pdfa(finished.pdf)
        if problems:
            raise ConverterError(f"the rendition does not pass verification: {problems[0]}")
        return self._result(finished, status, text=text)

    def _result(self, finished: Finished, status: str, *, text: bool) -> Rendition:
        extracted = pdf_text(finished.pdf) if text and self.extract_text else None
        if extracted is not None:
            extracted = extracted.strip() or None
        return _rendition(finished.pdf, status, finished.pages, extracted)


def _rendition(pdf: bytes | None, status: str, pages: int | None = None, text: str | None = None) -> Rendition:
    return Rendition(pdf, status, pages, text)


def _page_count(data: bytes) -> int:
    import pikepdf

    with pikepdf.open(io.BytesIO(data)) as pdf:
        return len(pdf.pages)


def _render_message(data: bytes, render: str) -> Rendition | None:
    """Render a message readably (KITH, HL7 v2) where formats.message_render is installed."""
    try:
        module = importlib.import_module("formats.message_render")
    except ImportError:
        return None
    render_message: Callable[[bytes, str], Rendition] | None = getattr(module, "render_message", None)
    return None if render_message is None else render_message(data, render)


def default_normaliser() -> Normaliser:
    """Return the normaliser ``Emit`` uses by default (one LibreOffice profile per call of this function)."""
    return DocumentNormaliser()
