"""The tools that make PDF/A-2b: the pikepdf finishing step, img2pdf for scans, LibreOffice for office files.

Every function here takes bytes and returns bytes (or raises :class:`ConverterError` /
:class:`ConverterMissingError`); choosing a tool per input type and turning failures into a
status is :mod:`formats.pdfa_normalise`'s job.

* :func:`finish_pdfa` is the last step of every path: remove constructs an allowlist validator
  refuses (empty resource dictionaries, plain-destination OpenActions, JavaScript), then
  ``pikepdf.pdfa.save(..., "2b")``, which writes the sRGB output intent and the XMP
  ``pdfaid`` declaration and *validates the written bytes*, raising unless the verdict is
  ``pass``. It cannot embed fonts or convert colour: such input is refused, never passed.
* :func:`images_to_pdf` wraps TIFF (G4 streams kept), JPEG (bytes kept) and PNG with img2pdf.
* :class:`OfficeConverter` runs LibreOffice headless, with an isolated profile folder that is
  reused between calls (the second start is much faster than the first) and a timeout.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import pikepdf
import pikepdf.pdfa

from formats.errors import ConversionError, ExitCode
from formats.pdfa_check import has_javascript

log = logging.getLogger(__name__)

FLAVOUR = "2b"
"""The PDF/A part and level every rendition is written and validated as."""
OFFICE_TIMEOUT_S = 120.0
"""Seconds one LibreOffice call may take before it is killed (a hung conversion never stops a run)."""
OFFICE_SUFFIXES = (".rtf", ".doc", ".docx", ".odt")
LIBREOFFICE_INSTALL = "sudo apt-get install libreoffice-writer-nogui fonts-liberation2"
_PDF_EXPORT = 'pdf:writer_pdf_Export:{"SelectPdfVersion":{"type":"long","value":"2"}}'


class ConverterError(ConversionError):
    """A document could not be converted; the message says why (never the document's content)."""


class ConverterMissingError(ConverterError):
    """A converter program is not installed; the hint gives the install command."""

    exit_code: ClassVar[ExitCode] = ExitCode.MISSING_DEPENDENCY


@dataclass(frozen=True)
class Finished:
    """A PDF/A-2b file that passed pikepdf's validator when written, and what was removed to get there."""

    pdf: bytes
    pages: int
    removed: tuple[str, ...]


# --- the pikepdf finishing step ----------------------------------------------------------------


def sanitize(pdf: pikepdf.Pdf) -> list[str]:
    """Remove what stops a conforming-looking PDF from passing, in memory; return what was removed.

    Removes: empty ``/Trans``, ``/Pattern`` and ``/Shading`` dictionaries (false alarms of the
    allowlist validator), ``/DefaultGray`` and ``/DefaultRGB`` colour spaces (not checked by the
    validator; device colour is then read through the sRGB output intent), an ``/OpenAction``
    (a plain destination, or an action: JavaScript is never kept), page and catalogue
    additional actions (``/AA``), document-level JavaScript, ``/Type`` in
    ``/MarkInfo``/``/ViewerPreferences`` and LibreOffice's ``/DocChecksum``.
    Page content is never touched.
    """
    removed: list[str] = []
    if has_javascript(pdf):
        removed.append("JavaScript")
    for page in pdf.pages:
        po = page.obj
        trans = po.get("/Trans")
        if isinstance(trans, pikepdf.Dictionary) and len(trans.keys()) == 0:
            del po["/Trans"]
        if "/AA" in po:
            del po["/AA"]
            removed.append("page actions")
        res = po.get("/Resources")
        if isinstance(res, pikepdf.Dictionary):
            for key in ("/Pattern", "/Shading"):
                sub = res.get(key)
                if isinstance(sub, pikepdf.Dictionary) and len(sub.keys()) == 0:
                    del res[key]
            spaces = res.get("/ColorSpace")
            if isinstance(spaces, pikepdf.Dictionary):
                for key in ("/DefaultGray", "/DefaultRGB"):  # device colour then means the sRGB output intent
                    if key in spaces:
                        del spaces[key]
    root = pdf.Root
    action = root.get("/OpenAction")
    if action is not None:
        del root["/OpenAction"]
        if isinstance(action, pikepdf.Dictionary):
            removed.append("open action")
    if "/AA" in root:
        del root["/AA"]
        removed.append("document actions")
    names = root.get("/Names")
    if isinstance(names, pikepdf.Dictionary) and "/JavaScript" in names:
        del names["/JavaScript"]
    for key in ("/MarkInfo", "/ViewerPreferences"):
        sub = root.get(key)
        if isinstance(sub, pikepdf.Dictionary) and "/Type" in sub:
            del sub["/Type"]
    if "/DocChecksum" in pdf.trailer:
        del pdf.trailer["/DocChecksum"]
    # annotations that run JavaScript: drop their actions (the annotation itself stays visible)
    for page in pdf.pages:
        for annot in page.obj.get("/Annots", pikepdf.Array()):
            if isinstance(annot, pikepdf.Dictionary):
                act = annot.get("/A")
                if isinstance(act, pikepdf.Dictionary) and act.get("/S") == pikepdf.Name.JavaScript:
                    del annot["/A"]
                if "/AA" in annot:
                    del annot["/AA"]
    return sorted(set(removed))


def finish_pdfa(data: bytes, *, drop_dates: bool = False) -> Finished:
    """Turn a PDF into PDF/A-2b with pikepdf: sanitize, add sRGB intent and XMP, save and validate.

    Args:
        data: the PDF.
        drop_dates: remove the creation and modification dates (for PDFs a converter has just
            made, whose dates are the time of conversion: the package must be deterministic).

    Raises:
        ConverterError: the PDF is encrypted, cannot be parsed, or still fails PDF/A-2b after the
            repairs (for example a font that is not embedded).

    Example:
        >>> finish_pdfa(plain_pdf_bytes).pdf[:8]  # doctest: +SKIP
        b'%PDF-1.7'
    """
    try:
        pdf = pikepdf.open(io.BytesIO(data))
    except pikepdf.PasswordError as exc:
        raise ConverterError("the PDF is encrypted (a password is needed to open it)") from exc
    except pikepdf.PdfError as exc:
        raise ConverterError(f"not a readable PDF: {_short(exc)}") from exc
    with pdf:
        if pdf.is_encrypted:
            raise ConverterError("the PDF is encrypted; encryption is not allowed in PDF/A")
        if len(pdf.pages) == 0:
            raise ConverterError("the PDF has no pages")
        removed = sanitize(pdf)
        if drop_dates:
            for key in ("/CreationDate", "/ModDate"):
                if key in pdf.docinfo:
                    del pdf.docinfo[key]
            if "/ID" in pdf.trailer:  # a converter's random /ID: qpdf then derives both halves from the content
                del pdf.trailer["/ID"]
            if "/Metadata" in pdf.Root:  # a converter's XMP: dates and random document ids
                del pdf.Root["/Metadata"]
        out = io.BytesIO()
        try:
            pikepdf.pdfa.prepare(pdf, FLAVOUR)
            with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
                for key in (
                    ("xmp:MetadataDate", "xmp:CreateDate", "xmp:ModifyDate") if drop_dates else ("xmp:MetadataDate",)
                ):
                    if key in meta:  # the time of conversion would make the payload differ per run
                        del meta[key]
            pikepdf.pdfa.save(pdf, out, FLAVOUR, repair=False, deterministic_id=True)
        except pikepdf.pdfa.PdfaError as exc:
            reasons = "; ".join(f.message for f in exc.report.findings[:3])
            raise ConverterError(f"does not pass PDF/A-{FLAVOUR} after repair: {reasons}") from exc
        except (pikepdf.PdfError, ValueError, TypeError) as exc:
            raise ConverterError(f"cannot be written as PDF/A-{FLAVOUR}: {_short(exc)}") from exc
        return Finished(out.getvalue(), len(pdf.pages), tuple(removed))


def _short(exc: BaseException) -> str:
    """First line of an exception's text, without memory addresses (a status must be deterministic)."""
    text = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return re.sub(r" at 0x[0-9a-fA-F]+", "", text)


# --- scans ------------------------------------------------------------------------------------


def images_to_pdf(data: bytes) -> bytes:
    """Wrap an image file (TIFF, multi-page too; JPEG; PNG) in a PDF without recompressing it.

    Raises:
        ConverterError: the image cannot be read (corrupt, unsupported compression, ...).
    """
    import img2pdf
    from PIL import Image, UnidentifiedImageError

    try:
        return bytes(img2pdf.convert(data, rotation=img2pdf.Rotation.ifvalid, nodate=True))
    except (img2pdf.ImageOpenError, img2pdf.AlphaChannelError) as exc:
        if isinstance(exc, img2pdf.AlphaChannelError):
            return _flatten_alpha(data)
        raise ConverterError(f"not a readable image: {_short(exc)}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
        raise ConverterError(f"not a readable image: {_short(exc)}") from exc
    except Exception as exc:  # noqa: BLE001 - img2pdf raises bare Exception for unsupported images
        raise ConverterError(f"img2pdf cannot convert the image: {_short(exc)}") from exc


def _flatten_alpha(data: bytes) -> bytes:
    """Images with transparency: composite onto white (PNG is lossless, so nothing else changes)."""
    import img2pdf
    from PIL import Image

    frames = []
    with Image.open(io.BytesIO(data)) as img:
        for i in range(getattr(img, "n_frames", 1)):
            img.seek(i)
            rgba = img.convert("RGBA")
            white = Image.new("RGB", rgba.size, (255, 255, 255))
            white.paste(rgba, mask=rgba.getchannel("A"))
            buf = io.BytesIO()
            white.save(buf, format="PNG")
            frames.append(buf.getvalue())
    return bytes(img2pdf.convert(frames, nodate=True))


# --- LibreOffice ------------------------------------------------------------------------------


def find_soffice() -> str | None:
    """Return the path of LibreOffice's ``soffice`` (or ``libreoffice``), None where it is not installed."""
    return shutil.which("soffice") or shutil.which("libreoffice")


class OfficeConverter:
    """LibreOffice headless (``soffice --convert-to pdf``, PDF/A-2 export), with its own profile folder.

    One instance keeps one profile folder for its lifetime, so only the first call pays for
    creating the profile. Several files are converted in one process by :meth:`convert_many`.
    """

    def __init__(self, timeout: float = OFFICE_TIMEOUT_S) -> None:
        self.timeout = timeout
        self._profile: Path | None = None

    @property
    def available(self) -> bool:
        """Whether LibreOffice is installed."""
        return find_soffice() is not None

    def _profile_dir(self) -> Path:
        if self._profile is None or not self._profile.is_dir():
            self._profile = Path(tempfile.mkdtemp(prefix="jk-lo-profile-"))
        return self._profile

    def convert(self, data: bytes, suffix: str) -> bytes:
        """Convert one office file (``suffix`` like ``.rtf``) to a PDF (PDF/A-2 export, not yet finished).

        Raises:
            ConverterMissingError: LibreOffice is not installed.
            ConverterError: LibreOffice failed, timed out or wrote no PDF.
        """
        return self.convert_many([(data, suffix)])[0]

    def convert_many(self, items: Iterable[tuple[bytes, str]]) -> list[bytes]:
        """Convert several office files in one LibreOffice process; the PDFs in the same order.

        Raises:
            ConverterMissingError: LibreOffice is not installed.
            ConverterError: LibreOffice failed or timed out, or wrote no PDF for one of the files.
        """
        soffice = find_soffice()
        if soffice is None:
            raise ConverterMissingError("LibreOffice is not installed", hint=LIBREOFFICE_INSTALL)
        with tempfile.TemporaryDirectory(prefix="jk-lo-") as tmp:
            work = Path(tmp)
            names = []
            for i, (data, suffix) in enumerate(items):
                name = f"d{i:06d}{suffix.lower()}"
                (work / name).write_bytes(data)
                names.append(name)
            if not names:
                return []
            out = work / "out"
            cmd = [
                soffice,
                f"-env:UserInstallation={self._profile_dir().as_uri()}",
                "--headless",
                "--norestore",
                "--nologo",
                "--nolockcheck",
                "--convert-to",
                _PDF_EXPORT,
                "--outdir",
                str(out),
                *names,
            ]
            env = {**os.environ, "HOME": str(self._profile_dir()), "SAL_USE_VCLPLUGIN": "svp"}
            try:
                subprocess.run(  # noqa: S603 - fixed argument list, no shell
                    cmd,
                    cwd=work,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.PIPE,
                    timeout=self.timeout * max(1, len(names)) ** 0.5,
                    check=False,
                )
            except subprocess.TimeoutExpired as exc:
                raise ConverterError(f"LibreOffice did not finish within {self.timeout:.0f} s") from exc
            except OSError as exc:
                raise ConverterError(f"LibreOffice could not be started: {exc.strerror}") from exc
            results = []
            for name in names:
                pdf = out / (Path(name).stem + ".pdf")
                if not pdf.is_file() or pdf.stat().st_size == 0:
                    raise ConverterError("LibreOffice could not read the file (no PDF written)")
                results.append(pdf.read_bytes())
            return results

    def close(self) -> None:
        """Remove the profile folder."""
        if self._profile is not None:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None


# --- Ghostscript (fallback for fonts that are not embedded) --------------------------------------


GHOSTSCRIPT_INSTALL = "sudo apt-get install ghostscript"
GS_TIMEOUT_S = 120.0


def ghostscript_rewrite(data: bytes, timeout: float = GS_TIMEOUT_S) -> bytes:
    """Rewrite a PDF with Ghostscript's pdfwrite, embedding every font (substitutes for the standard 14).

    The result is not PDF/A yet (pass it to :func:`finish_pdfa`), and Ghostscript 10.0.0 can
    lose ToUnicode maps: callers must compare the text before and after.

    Raises:
        ConverterMissingError: Ghostscript is not installed.
        ConverterError: Ghostscript failed or timed out.
    """
    gs = shutil.which("gs")
    if gs is None:
        raise ConverterMissingError("Ghostscript is not installed", hint=GHOSTSCRIPT_INSTALL)
    with tempfile.TemporaryDirectory(prefix="jk-gs-") as tmp:
        source, target = Path(tmp) / "in.pdf", Path(tmp) / "out.pdf"
        source.write_bytes(data)
        cmd = [
            gs, "-q", "-dSAFER", "-dBATCH", "-dNOPAUSE", "-sDEVICE=pdfwrite", "-dEmbedAllFonts=true",
            "-dSubsetFonts=true", "-dCompatibilityLevel=1.7", "-dAutoRotatePages=/None",
            "-sColorConversionStrategy=RGB", f"-sOutputFile={target}",
            "-c", "<< /NeverEmbed [ ] >> setdistillerparams", "-f", str(source),
        ]  # fmt: skip
        try:
            done = subprocess.run(  # noqa: S603 - fixed argument list, no shell
                cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise ConverterError(f"Ghostscript did not finish within {timeout:.0f} s") from exc
        if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
            raise ConverterError(f"Ghostscript could not rewrite the PDF (exit code {done.returncode})")
        return target.read_bytes()


# --- text extraction --------------------------------------------------------------------------


PDFTOTEXT_INSTALL = "sudo apt-get install poppler-utils"


def pdf_text(data: bytes, timeout: float = 60.0) -> str | None:
    """Return the text of a PDF as ``pdftotext`` (poppler) extracts it; None where poppler is missing.

    Raises:
        ConverterError: pdftotext failed on the file or timed out.
    """
    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    try:
        done = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            [exe, "-q", "-enc", "UTF-8", "-", "-"],
            input=data,
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise ConverterError("pdftotext did not finish in time") from exc
    if done.returncode != 0:
        raise ConverterError(f"pdftotext cannot read the PDF (exit code {done.returncode})")
    return done.stdout.decode("utf-8", errors="replace").replace("\f", "\n")
