"""The ``documents`` check of ``validate``: a converted practice passes; planted faults are each named."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pikepdf
import pyarrow.parquet as pq
import pytest

from benchmarks.document_corpus import NOTE, standard_font_pdf
from converters.pipeline import ConversionOptions, run_conversion
from converters.practice_generator import write_practice
from formats.pdfa_check import check_pdfa, structure_problems, text_problems
from formats.pdfa_tools import pdf_text
from validation import validate_archive


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("pdfa-practice")
    write_practice(root / "source", patients=30, seed=11)
    run_conversion(ConversionOptions(system="practice", source=root / "source", archive=root / "archive"))
    return root / "archive"


def _documents(archive: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = pq.read_table(archive / "data" / "tables" / "document.parquet").to_pylist()
    return rows


def test_converted_practice_has_verified_renditions(package: Path) -> None:
    docs = _documents(package)
    with_pdf = [d for d in docs if d["pdfa_path"]]
    assert len(with_pdf) >= 4
    report = validate_archive(package)
    errors = [f for f in report.findings if f.check == "documents" and f.severity in ("error", "fatal")]
    assert errors == []
    for d in docs:  # every document is accounted for: a rendition, or a reported reason
        assert d["pdfa_path"] or str(d["status"]).startswith(("not_normalised", "rejected_encrypted")), d["status"]
        assert d["original_path"]


def test_planted_faults_are_each_named(package: Path, tmp_path: Path) -> None:
    archive = tmp_path / "faulty"
    shutil.copytree(package, archive)
    data = archive / "data"
    renditions = sorted({str(d["pdfa_path"]) for d in _documents(archive) if d["pdfa_path"]})
    font_rel, intent_rel, altered_rel = renditions[:3]
    # 1. a rendition replaced by a PDF whose font is not embedded (nothing recomputed)
    (data / font_rel).write_bytes(standard_font_pdf("Hei"))
    # 2. a rendition without its output intent
    with pikepdf.open(data / intent_rel, allow_overwriting_input=True) as pdf:
        del pdf.Root["/OutputIntents"]
        pdf.save(data / intent_rel)
    # 3. a rendition altered after hashing (still a PDF/A: only its bytes differ)
    with (data / altered_rel).open("ab") as fh:
        fh.write(b"\n% altered\n")
    # 4. an orphan in documents/
    (data / "documents" / "orphan.pdf").write_bytes(standard_font_pdf("orphan"))

    findings = [f for f in validate_archive(archive).findings if f.check == "documents"]
    messages = [f.message for f in findings]

    def named(rel: str, *words: str) -> bool:
        return any(rel in m and all(w in m for w in words) for m in messages)

    assert named(font_rel, "not embedded"), messages
    assert named(intent_rel, "output intent"), messages
    assert named(altered_rel, "SHA-256", "altered"), messages
    assert named("documents/orphan.pdf", "orphan"), messages
    assert all(f.severity == "error" for f in findings if "orphan" in f.message or "not embedded" in f.message)


def test_missing_rendition_is_named(package: Path, tmp_path: Path) -> None:
    archive = tmp_path / "missing"
    shutil.copytree(package, archive)
    rel = next(str(d["pdfa_path"]) for d in _documents(archive) if d["pdfa_path"])
    (archive / "data" / rel).unlink()
    messages = [f.message for f in validate_archive(archive).findings if f.check == "documents"]
    assert any(rel in m and "missing" in m for m in messages), messages


def test_structural_checks_name_each_fault() -> None:
    from formats.pdf_html import html_to_pdfa

    good = html_to_pdfa("<html lang='nb'><body><p>Blodtrykk målt, æøå</p></body></html>")
    assert check_pdfa(good) == []

    def changed(edit) -> bytes:
        with pikepdf.open(io.BytesIO(good)) as pdf:
            edit(pdf)
            out = io.BytesIO()
            pdf.save(out)
            return out.getvalue()

    def codes(data: bytes) -> set[str]:
        return {p.code for p in check_pdfa(data)}

    assert "no_output_intent" in codes(changed(lambda pdf: pdf.Root.__delitem__("/OutputIntents")))
    assert "no_pdfaid" in codes(changed(lambda pdf: pdf.Root.__delitem__("/Metadata")))

    def add_js(pdf: pikepdf.Pdf) -> None:
        pdf.Root.OpenAction = pdf.make_indirect(pikepdf.Dictionary(S=pikepdf.Name.JavaScript, JS="app.alert(1)"))

    assert "javascript" in codes(changed(add_js))

    with pikepdf.open(io.BytesIO(good)) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(owner="a", user="", R=6))
    assert "encrypted" in {p.code for p in structure_problems(out.getvalue())}
    assert "font_not_embedded" in codes(standard_font_pdf("x"))
    assert codes(b"GIF89a") == {"not_pdf"}


def test_content_equivalence_finds_lost_norwegian_letters() -> None:
    from formats.pdf_html import html_to_pdfa

    pdf = html_to_pdfa("<html lang='nb'><body>" + "".join(f"<p>{x}</p>" for x in NOTE.splitlines()) + "</body></html>")
    extracted = pdf_text(pdf)
    assert text_problems(extracted, NOTE) == []
    damaged = NOTE.replace("å", "a")
    assert text_problems(extracted.replace("å", "a"), NOTE)[0].code == "text_differs"
    assert text_problems(extracted, damaged)[0].code == "text_differs"


def test_shared_kith_attachments_all_pass_or_are_reported(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / "shared" / "data" / "kith" / "messages"
    if not source.is_dir():
        pytest.skip("shared KITH messages are not available")
    run_conversion(ConversionOptions(system="kith", source=source, archive=tmp_path / "kith"))
    docs = _documents(tmp_path / "kith")
    kept = [d for d in docs if d["original_path"]]
    assert kept, "the shared messages have decoded attachments"
    assert all(d["pdfa_path"] or str(d["status"]).startswith("not_normalised") for d in kept)
    assert sum(1 for d in kept if d["pdfa_path"]) >= 4
    findings = validate_archive(tmp_path / "kith").findings
    assert [f for f in findings if f.check == "documents" and f.severity in ("error", "fatal")] == []
