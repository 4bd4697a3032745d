"""Verification of PDF/A files, separate from producing them: pure functions returning problems.

Three layers, each catching what the others miss:

1. :func:`structure_problems`: our own checks with pikepdf (the file opens, no encryption, no
   JavaScript, XMP ``pdfaid`` part 2, an output intent ``GTS_PDFA1`` with an ICC profile, every
   font embedded (walking Type0 descendants, Form XObjects and annotation appearances), a
   trailer ``/ID``).
2. :func:`validator_problems`: ``pikepdf.pdfa.validate_written(..., "2b")``, an allowlist
   validator whose rules come from the veraPDF profiles; only the verdict ``pass`` is accepted
   (``not_checked`` is a problem too).
3. :func:`text_problems`: content equivalence: the text extracted from the PDF contains the
   source text, compared with white space normalised (so æøå that a converter lost are found).

:func:`check_pdfa` runs 1 and 2. A problem never holds document content, only what is wrong.
"""

from __future__ import annotations

import io
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import pikepdf
import pikepdf.pdfa

FLAVOUR = "2b"
_FONT_FILES = ("/FontFile", "/FontFile2", "/FontFile3")
_WS = re.compile(r"\s+")


@dataclass(frozen=True)
class Problem:
    """One reason a file is not (verifiably) PDF/A: a short code and a sentence."""

    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def check_pdfa(data: bytes) -> list[Problem]:
    """Return every structural and validator problem of a PDF that should be PDF/A-2b (empty: it passes).

    Example:
        >>> check_pdfa(b"not a pdf")[0].code
        'not_pdf'
    """
    problems = structure_problems(data)
    if any(p.code in ("not_pdf", "encrypted") for p in problems):
        return problems
    return problems + validator_problems(data)


def structure_problems(data: bytes) -> list[Problem]:
    """Return the problems our own pikepdf checks find (see the module docstring)."""
    if not data.startswith(b"%PDF-"):
        return [Problem("not_pdf", "the file does not start with a PDF header")]
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError:
        return [Problem("encrypted", "the PDF is encrypted (a password is needed to open it)")]
    except pikepdf.PdfError as exc:
        return [Problem("not_pdf", f"the PDF cannot be parsed: {str(exc).splitlines()[0][:160]}")]
    with pdf:
        problems: list[Problem] = []
        if pdf.is_encrypted:
            problems.append(Problem("encrypted", "the PDF is encrypted"))
        problems.extend(_metadata_problems(pdf))
        problems.extend(_intent_problems(pdf))
        unembedded = sorted(set(_unembedded_fonts(pdf)))
        if unembedded:
            problems.append(Problem("font_not_embedded", f"font(s) not embedded: {', '.join(unembedded[:5])}"))
        if has_javascript(pdf):
            problems.append(Problem("javascript", "the PDF contains JavaScript"))
        if "/ID" not in pdf.trailer:
            problems.append(Problem("no_id", "the trailer has no /ID"))
        return problems


def _metadata_problems(pdf: pikepdf.Pdf) -> list[Problem]:
    try:
        meta = pdf.open_metadata()
        part = str(meta.get("pdfaid:part", "") or "")
        conformance = str(meta.get("pdfaid:conformance", "") or "")
    except (pikepdf.PdfError, ValueError, KeyError) as exc:
        return [Problem("no_pdfaid", f"the XMP metadata cannot be read: {str(exc)[:120]}")]
    if not part:
        return [Problem("no_pdfaid", "the XMP metadata does not declare PDF/A (pdfaid:part missing)")]
    if part != "2" or conformance.upper() not in ("B", "U", "A"):
        return [Problem("pdfaid", f"declares PDF/A-{part}{conformance.lower()}, expected PDF/A-2b, 2u or 2a")]
    return []


def _intent_problems(pdf: pikepdf.Pdf) -> list[Problem]:
    intents = pdf.Root.get("/OutputIntents")
    if not isinstance(intents, pikepdf.Array) or len(intents) == 0:
        return [Problem("no_output_intent", "no output intent (/OutputIntents missing or empty)")]
    for intent in intents:
        if not isinstance(intent, pikepdf.Dictionary) or intent.get("/S") != pikepdf.Name("/GTS_PDFA1"):
            continue
        profile = intent.get("/DestOutputProfile")
        if not isinstance(profile, pikepdf.Stream):
            return [Problem("no_output_intent", "the PDF/A output intent has no ICC profile")]
        try:
            head = profile.read_bytes()[:40]
        except pikepdf.PdfError:
            return [Problem("no_output_intent", "the output intent's ICC profile cannot be read")]
        if head[36:40] != b"acsp":
            return [Problem("no_output_intent", "the output intent's profile is not an ICC profile")]
        return []
    return [Problem("no_output_intent", "no output intent of subtype /GTS_PDFA1")]


def _resources_fonts(res: object, seen: set[tuple[int, int]]) -> Iterator[pikepdf.Dictionary]:
    if not isinstance(res, pikepdf.Dictionary):
        return
    fonts = res.get("/Font")
    if isinstance(fonts, pikepdf.Dictionary):
        for _name, font in fonts.items():
            if isinstance(font, pikepdf.Dictionary):
                yield font
    xobjects = res.get("/XObject")
    if isinstance(xobjects, pikepdf.Dictionary):
        for _name, xobj in xobjects.items():
            if not isinstance(xobj, pikepdf.Stream) or xobj.get("/Subtype") != pikepdf.Name.Form:
                continue
            key = xobj.objgen
            if key != (0, 0) and key in seen:
                continue
            seen.add(key)
            yield from _resources_fonts(xobj.get("/Resources"), seen)


def _all_fonts(pdf: pikepdf.Pdf) -> Iterator[pikepdf.Dictionary]:
    seen: set[tuple[int, int]] = set()
    for page in pdf.pages:
        yield from _resources_fonts(page.obj.get("/Resources"), seen)
        annots = page.obj.get("/Annots")
        if not isinstance(annots, pikepdf.Array):
            continue
        for annot in annots:
            ap = annot.get("/AP") if isinstance(annot, pikepdf.Dictionary) else None
            if not isinstance(ap, pikepdf.Dictionary):
                continue
            for _k, appearance in ap.items():
                streams = appearance.values() if isinstance(appearance, pikepdf.Dictionary) else [appearance]
                for stream in streams:
                    if isinstance(stream, pikepdf.Stream):
                        yield from _resources_fonts(stream.get("/Resources"), seen)


def _unembedded_fonts(pdf: pikepdf.Pdf) -> Iterator[str]:
    for font in _all_fonts(pdf):
        subtype = font.get("/Subtype")
        if subtype == pikepdf.Name.Type3:
            continue  # glyphs are content streams inside the font: nothing to embed
        target: object = font
        if subtype == pikepdf.Name.Type0:
            descendants = font.get("/DescendantFonts")
            if isinstance(descendants, pikepdf.Array) and len(descendants) > 0:
                target = descendants[0]
        if not isinstance(target, pikepdf.Dictionary):
            yield str(font.get("/BaseFont", "unnamed")).lstrip("/")
            continue
        descriptor = target.get("/FontDescriptor")
        if not isinstance(descriptor, pikepdf.Dictionary) or not any(k in descriptor for k in _FONT_FILES):
            yield str(font.get("/BaseFont", "unnamed")).lstrip("/")


def has_javascript(pdf: pikepdf.Pdf) -> bool:
    """Return whether the document holds JavaScript (document-level names or any /JS or /S /JavaScript)."""
    names = pdf.Root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        return True
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Dictionary) and (obj.get("/S") == pikepdf.Name.JavaScript or "/JS" in obj):
            return True
    return False


def validator_problems(data: bytes) -> list[Problem]:
    """Return the findings of ``pikepdf.pdfa.validate_written(..., "2b")`` unless its verdict is ``pass``."""
    report = pikepdf.pdfa.validate_written(io.BytesIO(data), FLAVOUR)
    if report.verdict == "pass":
        return []
    listed = "; ".join(f"{f.rule}: {f.message}" for f in report.findings[:3])
    more = f" (+{len(report.findings) - 3} more)" if len(report.findings) > 3 else ""
    return [Problem(f"validator_{report.verdict}", f"pikepdf PDF/A-{FLAVOUR} validator: {listed}{more}")]


def normalise_text(text: str) -> str:
    """Return ``text`` in NFC with every run of white space (and soft hyphens) turned into one space.

    Example:
        >>> normalise_text("  Blodtrykk\\n\\n  målt\\t ")
        'Blodtrykk målt'
    """
    text = unicodedata.normalize("NFC", text).replace("\u00ad", "")
    return _WS.sub(" ", text).strip()


def text_problems(extracted: str | None, expected: str) -> list[Problem]:
    """Return a problem unless the extracted text contains ``expected`` (white space normalised).

    Lines are compared one by one in order, so a page break or reflow between two lines is no
    difference, but a lost or changed character (æ → a, Ø → ?) is.

    Example:
        >>> text_problems("Blodtrykk målt\\n\\fside 2", "Blodtrykk  målt")
        []
        >>> text_problems("Blodtrykk mlt", "målt")[0].code
        'text_differs'

    """
    if extracted is None:
        return [Problem("text_not_checked", "no text extractor (pdftotext) is installed")]
    haystack = normalise_text(extracted).replace(" ", "")
    position = 0
    for n, line in enumerate(expected.splitlines(), start=1):
        needle = normalise_text(line).replace(" ", "")
        if not needle:
            continue
        found = haystack.find(needle, position)
        if found < 0:
            lost = sorted(set(needle) - set(haystack))
            detail = f"; characters not found at all: {''.join(lost[:10])}" if lost else ""
            return [Problem("text_differs", f"source line {n} is not in the text extracted from the PDF{detail}")]
        position = found + len(needle)
    return []
