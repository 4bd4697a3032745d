"""The conversion report as PDF/A-2b, and the three report files written into the package.

``render_report_pdf`` prints the same HTML page as ``report_html`` through WeasyPrint and pikepdf
(``formats.pdf_html.html_to_pdfa``): the result has passed ``pikepdf.pdfa`` level 2b, and the same
HTML always gives the same bytes. ``write_package_report`` writes ``data/report/report.json``,
``report.html`` and ``report.pdf`` at conversion time (Norwegian bokmål, the clinic's language).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from formats.package import REPORT_DIR, PackageLayout, open_package
from formats.pdf_html import html_to_pdfa
from reports.report_html import mapping_page, render_report_html
from reports.report_model import RunFacts, build_report, validate_draft

__all__ = ["REPORT_FILES", "ReportFiles", "archive_report", "render_report_pdf", "report_json", "write_package_report"]

REPORT_FILES = ("report.json", "report.html", "report.pdf")
"""The report's files under data/report/."""


@dataclass(frozen=True)
class ReportFiles:
    """The report model and its renderings, ready to be written."""

    model: dict[str, Any]
    json_text: str
    html: str
    pdf: bytes


def report_json(model: dict[str, Any]) -> str:
    """Return the model as stable JSON (sorted keys, UTF-8 text, final newline)."""
    return json.dumps(model, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def render_report_pdf(html: str) -> bytes:
    """Return the report page as PDF/A-2b bytes that passed ``pikepdf.pdfa`` validation.

    Raises:
        PdfRenderError: the result does not pass the validator.
        MissingDependencyError: WeasyPrint or pikepdf cannot be loaded.
    """
    return html_to_pdfa(html)


def write_package_report(layout: PackageLayout, facts: RunFacts, *, tool_version: str, lang: str = "nb") -> ReportFiles:
    """Build the report of a package draft and write its three files into ``data/report/``.

    The checks run are those that need no sealed bag (fixity is verified later by ``verify``), so the
    report, like the rest of the payload, depends only on the input and the settings.
    """
    validation, skipped = validate_draft(layout)
    model = build_report(layout, facts, validation, tool_version=tool_version, skipped_checks=skipped, sealed=False)
    html = render_report_html(model, lang=lang, mapping_html=mapping_page(layout, facts.mapping_file, lang=lang))
    files = ReportFiles(model, report_json(model), html, render_report_pdf(html))
    folder = layout.dir(REPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(files.json_text, encoding="utf-8")
    (folder / "report.html").write_text(files.html, encoding="utf-8")
    (folder / "report.pdf").write_bytes(files.pdf)
    return files


def archive_report(archive: Path, *, output_format: str = "html", lang: str = "nb") -> bytes:
    """Return the report of a finished package as ``json``, ``html`` or ``pdf`` bytes (``journalkonvert report``).

    Every check runs, fixity included, so this report can differ from the one written at
    conversion time (which could not check the seal). Nothing in the package is changed.

    Raises:
        ArchiveError: ``archive`` is not a package.
        PdfRenderError: the PDF does not pass PDF/A-2b validation.
    """
    from converters.audit_record import TOOL_VERSION  # noqa: PLC0415
    from reports.report_model import stored_facts  # noqa: PLC0415
    from validation import validate_archive  # noqa: PLC0415

    layout = open_package(archive)
    facts = stored_facts(layout)
    model = build_report(layout, facts, validate_archive(archive), tool_version=TOOL_VERSION)
    if output_format == "json":
        return report_json(model).encode("utf-8")
    html = render_report_html(model, lang=lang, mapping_html=mapping_page(layout, facts.mapping_file, lang=lang))
    return render_report_pdf(html) if output_format == "pdf" else html.encode("utf-8")
