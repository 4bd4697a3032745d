"""HTML → PDF/A-2b, offline: WeasyPrint lays the page out, pikepdf finishes and verifies the file.

The one entry point most callers need is :func:`html_to_pdfa`. It

1. renders the HTML with WeasyPrint (``pdf_variant="pdf/a-2b"``) through a URL fetcher that refuses
   every fetch except inline ``data:`` URLs, so rendering never touches the network or the file
   system (legacy HTML may point anywhere);
2. removes the empty ``/Pattern`` and ``/Shading`` resource dictionaries WeasyPrint leaves behind,
   which pikepdf's allowlist validator cannot classify (they are not PDF/A violations);
3. runs ``pikepdf.pdfa.prepare`` (sRGB output intent, XMP ``pdfaid`` 2/B, DocInfo in sync) and drops
   ``xmp:MetadataDate`` so that the same HTML always gives the same bytes (the package is
   deterministic);
4. saves with ``pikepdf.pdfa.save``, which re-validates the written bytes and raises unless the
   verdict is ``pass``.

Level: PDF/A-2b. WeasyPrint writes ToUnicode maps for every font, so the text can be extracted
(what level U promises), but pikepdf validates only level B, so we declare what we can verify.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from formats.errors import ConversionError, MissingDependencyError

if TYPE_CHECKING:
    import pikepdf

PDFA_FLAVOUR = "2b"
WEASYPRINT_VARIANT = "pdf/a-2b"
INSTALL_HINT = (
    "install WeasyPrint and its C libraries: "
    "sudo apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core; "
    ".venv/bin/pip install weasyprint 'pikepdf[pdfa]' (or: make .venv/.installed)"
)


class PdfRenderError(ConversionError):
    """HTML could not be turned into a PDF/A file that passes the validator."""


@dataclass(frozen=True)
class RenderedPdf:
    """A verified PDF/A-2b file and its number of pages."""

    pdf: bytes
    page_count: int


def _weasyprint() -> Any:  # noqa: ANN401 - WeasyPrint ships no type hints
    try:
        import weasyprint  # noqa: PLC0415 - heavy C-library import, only when rendering
    except (ImportError, OSError) as exc:
        raise MissingDependencyError("WeasyPrint cannot be loaded", hint=INSTALL_HINT) from exc
    return weasyprint


_SHARED: dict[str, Any] = {}


def _offline_fetcher() -> Any:  # noqa: ANN401 - a weasyprint.URLFetcher
    """Return a WeasyPrint URL fetcher that only resolves inline ``data:`` URLs (no network, no files)."""
    if "fetcher" not in _SHARED:
        _SHARED["fetcher"] = _weasyprint().URLFetcher(allowed_protocols=("data",), timeout=1, allow_redirects=False)
    return _SHARED["fetcher"]


def _font_config() -> Any:  # noqa: ANN401 - a weasyprint FontConfiguration
    """One fontconfig set-up per process: building it costs ~0.3 s, and our pages declare no @font-face."""
    if "fonts" not in _SHARED:
        from weasyprint.text.fonts import FontConfiguration  # noqa: PLC0415

        _SHARED["fonts"] = FontConfiguration()
    return _SHARED["fonts"]


def sanitize_for_validator(pdf: pikepdf.Pdf) -> None:
    """Remove structures that are harmless but that pikepdf's allowlist validator cannot classify.

    Empty ``/Pattern`` and ``/Shading`` resource dictionaries (WeasyPrint), an empty ``/Trans``
    (reportlab), a plain-destination ``/OpenAction`` and the trailer's ``/DocChecksum``
    (LibreOffice). Page content is not touched.
    """
    import pikepdf  # noqa: PLC0415

    holders = [page.obj for page in pdf.pages]
    holders += [o.stream_dict for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Form"]
    for obj in holders:  # pages, and form XObjects (WeasyPrint draws inline SVG into them)
        if "/Trans" in obj and len(obj.Trans.keys()) == 0:
            del obj["/Trans"]
        resources = obj.get("/Resources")
        if isinstance(resources, pikepdf.Dictionary):
            for key in ("/Pattern", "/Shading"):
                entry = resources.get(key)
                if isinstance(entry, pikepdf.Dictionary) and len(entry.keys()) == 0:
                    del resources[key]
    if isinstance(pdf.Root.get("/OpenAction"), pikepdf.Array):
        del pdf.Root["/OpenAction"]
    if "/DocChecksum" in pdf.trailer:
        del pdf.trailer["/DocChecksum"]


def finish_pdfa(raw: bytes) -> RenderedPdf:
    """Turn a PDF that is nearly PDF/A-2b into one that passes, deterministically.

    Args:
        raw: the PDF bytes (e.g. WeasyPrint's ``pdf/a-2b`` output).

    Returns:
        The verified bytes and the page count.

    Raises:
        PdfRenderError: the file cannot be opened, or the validator's verdict is not ``pass``.
        MissingDependencyError: pikepdf (with its ``pdfa`` extra) is not installed.
    """
    try:
        import pikepdf  # noqa: PLC0415
        import pikepdf.pdfa  # noqa: PLC0415
    except ImportError as exc:
        raise MissingDependencyError("pikepdf is not installed", hint=INSTALL_HINT) from exc
    try:
        pdf = pikepdf.open(io.BytesIO(raw))
    except pikepdf.PdfError as exc:
        raise PdfRenderError("the rendered PDF cannot be opened", hint="report this as a bug") from exc
    with pdf:
        sanitize_for_validator(pdf)
        pikepdf.pdfa.prepare(pdf, PDFA_FLAVOUR)
        with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
            if "xmp:MetadataDate" in meta:
                del meta["xmp:MetadataDate"]
        out = io.BytesIO()
        try:
            pikepdf.pdfa.save(pdf, out, PDFA_FLAVOUR, repair=False, deterministic_id=True)
        except pikepdf.pdfa.PdfaError as exc:
            rules = sorted({f.rule for f in exc.report.findings})[:5] if exc.report is not None else []
            raise PdfRenderError(
                f"the PDF does not pass PDF/A-{PDFA_FLAVOUR} validation (rules: {', '.join(rules) or 'unknown'})",
                hint="report this as a bug, with the rule ids",
            ) from exc
        return RenderedPdf(out.getvalue(), len(pdf.pages))


def render_html(html: str, *, base_url: str | None = None) -> RenderedPdf:
    """Render HTML to a verified PDF/A-2b file, offline, and say how many pages it has.

    Args:
        html: a complete HTML document (UTF-8 text; declare ``lang`` for hyphenation).
        base_url: base for relative URLs; they are still never fetched (only ``data:`` URLs are).

    Raises:
        PdfRenderError: the result does not pass the validator.
        MissingDependencyError: WeasyPrint or pikepdf cannot be loaded.
    """
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=_offline_fetcher())
    try:
        raw = document.write_pdf(pdf_variant=WEASYPRINT_VARIANT, font_config=_font_config())
    except (ValueError, TypeError, AssertionError, RecursionError) as exc:
        raise PdfRenderError(
            f"WeasyPrint could not lay out the HTML ({type(exc).__name__})", hint="the original is kept"
        ) from exc
    return finish_pdfa(bytes(raw))


def html_to_pdfa(html: str, *, base_url: str | None = None) -> bytes:
    """Render HTML to PDF/A-2b bytes that passed ``pikepdf.pdfa`` validation; nothing is fetched.

    Example:
        >>> pdf = html_to_pdfa("<html lang='nb'><body><p>Blodtrykk målt</p></body></html>")
        >>> pdf[:5]
        b'%PDF-'

    Raises:
        PdfRenderError: the result does not pass the validator.
        MissingDependencyError: WeasyPrint or pikepdf cannot be loaded.
    """
    return render_html(html, base_url=base_url).pdf
