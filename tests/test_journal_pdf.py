"""The journal printout (show --pdf): PDF/A-2b that passes, with every journal note of the patient."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pikepdf.pdfa
import pytest
from click.testing import CliRunner

import convert
from converters.pipeline import ConversionOptions, run_conversion
from converters.practice_generator import write_practice
from formats.package import PackageLayout, open_package
from reports.journal import PatientNotFoundError
from reports.journal_pdf import build_journal_page, render_journal_pdf, shown_time
from reports.query import connect


def pdf_text(pdf: Path | bytes) -> str:
    """Text of a PDF (pdftotext -raw), white space collapsed and line-end hyphens joined."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    out = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=data, capture_output=True, check=True)
    without_page_numbers = re.sub(r"\n\d+\n\f", "\n", out.stdout.decode("utf-8"))
    return normalise(without_page_numbers)


def normalise(text: str) -> str:
    """Text without white space: line breaks the layout adds (after '-', '/', or in long words) don't count."""
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def practice(tmp_path_factory: pytest.TempPathFactory) -> PackageLayout:
    root = tmp_path_factory.mktemp("practice-pdf")
    write_practice(root / "source", patients=6, seed=5)
    run_conversion(ConversionOptions(system="practice", source=root / "source", archive=root / "archive"))
    return open_package(root / "archive")


def _patients(layout: PackageLayout) -> list[tuple[str, str]]:
    con = connect(layout)
    try:
        return [(str(a), str(b)) for a, b in con.execute("SELECT patient_id, identifier_value FROM patient").fetchall()]
    finally:
        con.close()


def _notes(layout: PackageLayout, pid: str) -> list[str]:
    con = connect(layout)
    try:
        return [t for (t,) in con.execute("SELECT text FROM journal_note WHERE patient_id = ?", [pid]).fetchall() if t]
    finally:
        con.close()


def test_show_pdf_passes_and_holds_every_note(practice: PackageLayout, tmp_path: Path) -> None:
    patients = _patients(practice)
    with_notes = [(pid, ident) for pid, ident in patients if _notes(practice, pid)]
    assert with_notes, "the demo practice has journal notes"
    pid, ident = max(with_notes, key=lambda p: len(_notes(practice, p[0])))
    target = tmp_path / "journal.pdf"
    result = CliRunner().invoke(
        convert.cli, ["show", str(practice.root), "--patient", ident, "--pdf", str(target)], obj={}
    )
    assert result.exit_code == 0, result.output
    assert ident not in result.output  # the console line names the file, not the patient
    report = pikepdf.pdfa.validate_written(target, "2b")
    assert report.verdict == "pass", [f.message for f in report.findings][:5]
    text = pdf_text(target)
    notes = _notes(practice, pid)
    assert len(notes) >= 2
    for note in notes:
        assert normalise(note) in text
    assert any(ch in text for ch in "æøå")
    assert text.index("CAVE") < text.index(normalise("Kontakter og journalnotater"))
    assert target.stat().st_mode & 0o077 == 0


def test_every_patient_renders_with_all_notes(practice: PackageLayout) -> None:
    for pid, _ident in _patients(practice):
        printout = render_journal_pdf(practice, pid)
        text = pdf_text(printout.pdf)
        notes = _notes(practice, pid)
        assert printout.notes == len(notes)
        for note in notes:
            assert normalise(note) in text


def test_english_labels(practice: PackageLayout) -> None:
    pid = _patients(practice)[0][0]
    page, _ = build_journal_page(practice, pid, lang="en")
    assert "Journal printout" in page.text() and "CAVE and critical information" in page.text()
    nb, _ = build_journal_page(practice, pid)
    assert "Journalutskrift" in nb.text() and "Kontakter og journalnotater" in nb.text()


def test_unknown_patient(practice: PackageLayout) -> None:
    with pytest.raises(PatientNotFoundError):
        build_journal_page(practice, "no-such-patient")


def test_times_are_shown_in_oslo() -> None:
    from datetime import UTC, date, datetime

    assert shown_time(datetime(2024, 1, 15, 23, 30, tzinfo=UTC)) == "2024-01-16 00:30"
    assert shown_time(datetime(2024, 7, 15, 10, 0, tzinfo=UTC)) == "2024-07-15 12:00"
    assert shown_time(date(1990, 5, 17)) == "1990-05-17"
    assert shown_time(None) == ""
