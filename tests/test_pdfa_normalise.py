"""Normalisation to PDF/A-2b: a synthetic corpus of every input type, verified independently."""

from __future__ import annotations

import io
from pathlib import Path

import pikepdf
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.document_corpus import NOTE, CorpusDocument, build_corpus, standard_font_pdf
from formats.pdfa_check import check_pdfa, text_problems
from formats.pdfa_normalise import DocumentNormaliser, decode_text, sniff_type
from formats.pdfa_tools import OfficeConverter, find_soffice, finish_pdfa, pdf_text

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_office = pytest.mark.skipif(find_soffice() is None, reason="LibreOffice is not installed")


@pytest.fixture(scope="module")
def corpus() -> list[CorpusDocument]:
    return build_corpus(office=find_soffice() is not None)


@pytest.fixture(scope="module")
def normaliser() -> DocumentNormaliser:
    return DocumentNormaliser()


@pytest.fixture(scope="module")
def results(corpus, normaliser):
    return {d.name: normaliser(d.data, d.suffix, None) for d in corpus}


def test_corpus_has_every_type(corpus):
    kinds = {d.kind for d in corpus}
    assert {"txt", "html", "tiff", "jpeg", "png", "pdf", "corrupt"} <= kinds
    if find_soffice() is not None:
        assert {"rtf", "doc", "docx", "odt"} <= kinds


def test_every_document_gets_the_expected_status(corpus, results):
    for doc in corpus:
        status = results[doc.name].status
        assert status.split(":")[0] == doc.status, (doc.name, status)


def test_every_rendition_passes_the_validator(corpus, results):
    made = [d for d in corpus if results[d.name].pdf is not None]
    assert len(made) >= 14
    for doc in made:
        rendition = results[doc.name]
        assert check_pdfa(rendition.pdf) == [], doc.name
        assert rendition.page_count and rendition.page_count >= 1


def test_text_survives_with_norwegian_letters(corpus, results):
    checked = 0
    for doc in corpus:
        rendition = results[doc.name]
        if rendition.pdf is None or doc.text is None:
            continue
        extracted = pdf_text(rendition.pdf)
        assert text_problems(extracted, doc.text) == [], doc.name
        assert "æ" in extracted and "Ø" in extracted and "å" in extracted, doc.name
        checked += 1
    assert checked >= 9


def test_text_rendition_carries_the_decoded_source_text(corpus, results):
    for doc in corpus:
        if doc.kind == "txt":
            assert results[doc.name].text == doc.text, doc.name


def test_two_page_g4_tiff_keeps_its_ccitt_streams(corpus, results):
    rendition = results["scan-g4.tif"]
    assert rendition.page_count == 2
    with pikepdf.open(io.BytesIO(rendition.pdf)) as pdf:
        filters = {
            str(pdf.pages[i].Resources.XObject[k].get("/Filter"))
            for i in range(len(pdf.pages))
            for k in pdf.pages[i].Resources.XObject.keys()  # noqa: SIM118 - pikepdf.Dictionary
        }
    assert filters == {'pikepdf.Array([ "/CCITTFaxDecode" ])'}


def test_jpeg_bytes_are_kept(corpus, results):
    source = next(d for d in corpus if d.name == "photo.jpg").data
    with pikepdf.open(io.BytesIO(results["photo.jpg"].pdf)) as pdf:
        (name,) = pdf.pages[0].Resources.XObject.keys()
        assert pdf.pages[0].Resources.XObject[name].read_raw_bytes() == source


def test_javascript_is_removed_and_reported(results):
    rendition = results["javascript.pdf"]
    assert rendition.status == "sanitised"
    assert b"/JavaScript" not in rendition.pdf and b"app.alert" not in rendition.pdf


def test_already_pdfa_is_kept_byte_for_byte(corpus, results):
    source = next(d for d in corpus if d.name == "already-pdfa.pdf").data
    assert results["already-pdfa.pdf"].pdf == source


def test_encrypted_and_corrupt_inputs_are_reported_not_lost(corpus, results):
    for doc in corpus:
        if doc.status in ("rejected_encrypted", "not_normalised"):
            rendition = results[doc.name]
            assert rendition.pdf is None
            assert rendition.status.startswith(doc.status)
    if results["helvetica.pdf"].pdf is None:  # no Ghostscript to embed the font
        assert "font" in results["helvetica.pdf"].status.lower()
        assert "apt-get install ghostscript" in results["helvetica.pdf"].status


def test_non_embedded_font_is_embedded_by_ghostscript_with_text_checked(results):
    import shutil

    if shutil.which("gs") is None:
        pytest.skip("Ghostscript is not installed")
    rendition = results["helvetica.pdf"]
    assert rendition.status == "rewritten"
    assert check_pdfa(rendition.pdf) == []
    assert rendition.text == "Helvetica"


def test_renditions_are_deterministic(corpus, normaliser, results):
    for name in ("scan-g4.tif", "plain.pdf", "note-cp865.txt", "javascript.pdf"):
        doc = next(d for d in corpus if d.name == name)
        assert normaliser(doc.data, doc.suffix, None).pdf == results[name].pdf, name


def test_html_fetches_nothing(monkeypatch, corpus, normaliser):
    import urllib.request

    def refuse(*_args, **_kwargs):
        raise AssertionError("a network or file fetch was attempted")

    monkeypatch.setattr(urllib.request.OpenerDirector, "open", refuse)
    doc = next(d for d in corpus if d.kind == "html")
    assert normaliser(doc.data, doc.suffix, None).status == "normalised"


def test_missing_libreoffice_gives_install_command(monkeypatch):
    monkeypatch.setattr("formats.pdfa_tools.find_soffice", lambda: None)
    rendition = DocumentNormaliser(office=OfficeConverter())(b"{\\rtf1 hei}", ".rtf", None)
    assert rendition.pdf is None
    assert rendition.status.startswith("not_normalised: LibreOffice is not installed")
    assert "apt-get install libreoffice-writer-nogui" in rendition.status


def test_normaliser_never_raises_on_internal_errors(monkeypatch):
    def boom(_data):
        raise RuntimeError("bug")

    monkeypatch.setattr("formats.pdfa_normalise.images_to_pdf", boom)
    rendition = DocumentNormaliser()(b"\x89PNG\r\n\x1a\n....", ".png", None)
    assert rendition.status == "not_normalised: internal error (RuntimeError)"


def test_messages_without_render_hint_get_no_rendition():
    assert DocumentNormaliser()(b"<MsgHead/>", ".xml", None) is None


def test_non_embedded_font_is_refused_by_the_finishing_step():
    from formats.pdfa_tools import ConverterError

    with pytest.raises(ConverterError, match="not embedded|font"):
        finish_pdfa(standard_font_pdf("Hei"))


@needs_office
def test_office_batch_converts_several_files_in_one_process(corpus):
    office = OfficeConverter()
    try:
        docs = [d for d in corpus if d.kind in ("rtf", "docx", "odt")]
        pdfs = office.convert_many([(d.data, d.suffix) for d in docs])
    finally:
        office.close()
    assert len(pdfs) == len(docs)
    for doc, pdf in zip(docs, pdfs, strict=True):
        assert text_problems(pdf_text(finish_pdfa(pdf).pdf), NOTE) == [], doc.name


def test_shared_pdf_example_is_normalised():
    sample = SHARED_DATA / "ccda-hl7-examples" / "Unstructured__CDA_reference_PDF__UD_sample.pdf"
    if not sample.is_file():
        pytest.skip("shared C-CDA examples are not available")
    rendition = DocumentNormaliser()(sample.read_bytes(), ".pdf", None)
    assert rendition.status in ("normalised", "already_pdfa", "sanitised", "rewritten"), rendition.status
    assert check_pdfa(rendition.pdf) == []
    original_text = pdf_text(sample.read_bytes())
    assert text_problems(pdf_text(rendition.pdf), original_text) == []


# --- pure helpers, property-tested ---------------------------------------------------------


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøåÆØÅ .,-\n0123456789", max_size=200))
@settings(max_examples=200, deadline=None)
def test_decode_text_round_trips_every_legacy_encoding(text):
    import formats.text_codecs  # noqa: F401

    for encoding in ("utf-8", "cp865", "cp1252", "iso646-no"):
        decoded, _used = decode_text(text.encode(encoding))
        if encoding == "iso646-no" and not any(c in text for c in "æøåÆØÅ"):
            continue  # plain ASCII: any ASCII-compatible reading is right
        if encoding in ("cp865", "cp1252") and not any(c in text for c in "æøåÆØÅ"):
            continue
        if encoding == "iso646-no":
            # a lone ÆØÅ next to no letter is ambiguous with ASCII brackets; require one inside a word
            import re

            if not re.search("[A-Za-z][æøåÆØÅ][a-z]", text):
                continue
        assert decoded == text, encoding


@given(st.binary(max_size=300), st.sampled_from([".pdf", ".txt", ".jpg", ".bin", ".docx", ".html", ""]))
@settings(max_examples=300, deadline=None)
def test_sniff_type_is_total(data, suffix):
    assert sniff_type(data, suffix) in {
        "pdf",
        "tiff",
        "jpeg",
        "png",
        "gif",
        "rtf",
        "doc",
        "docx",
        "odt",
        "html",
        "txt",
        "corrupt",
        "unknown",
    }


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_text_problems_accepts_any_reflow_of_the_same_text(text):
    reflowed = "\n\n".join(text.split())
    assert text_problems(reflowed, text) == []
