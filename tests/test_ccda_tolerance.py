"""--system ccda on small synthetic documents (tests/fixtures/ccda, no real persons).

``clean/`` is a complete CCD with every section kind plus unstructured documents (embedded and
referenced attachment); ``tolerance/`` holds the awkward cases real exports have: a byte order
mark, wrong declared encodings both ways, an invalid namespace URI, a bare <section> fragment,
a repeated document id, no templateIds, and a file that is not XML.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from converters.ccda_xml import iso_time, narrative_text, read_cda
from converters.pipeline import ConversionOptions, ConversionResult, run_conversion
from validation import validate_archive

FIXTURES = Path(__file__).parent / "fixtures" / "ccda"


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> ConversionResult:
    target = tmp_path_factory.mktemp("ccdafx") / "pkg"
    return run_conversion(ConversionOptions(system="ccda", source=FIXTURES, archive=target, renditions=False))


def _rows(result: ConversionResult, table: str, folder: str = "tables") -> list[dict[str, object]]:
    rows: list[dict[str, object]] = pq.read_table(result.archive / "data" / folder / f"{table}.parquet").to_pylist()
    return rows


def _deviations(result: ConversionResult, file: str) -> list[str]:
    rows = _rows(result, "deviations", "ledger")
    return [str(r["message"]) for r in rows if str(r["source_ref"]).startswith(f"{file}#")]


def test_converts_validates_and_balances(result: ConversionResult) -> None:
    report = validate_archive(result.archive)
    assert report.valid, [f.to_dict() for f in report.findings]
    assert result.ledger.gaps() == []
    assert all(t.balanced for t in result.ledger.tables.values())


def test_awkward_files_become_findings_not_crashes(result: ConversionResult) -> None:
    assert any("byte order mark" in m for m in _deviations(result, "tolerance/bom.xml"))
    assert any(m == "no templateId" for m in _deviations(result, "tolerance/bom.xml"))
    assert any("document id repeats" in m for m in _deviations(result, "tolerance/bom.xml"))
    assert any("read as windows-1252" in m for m in _deviations(result, "tolerance/declared_utf8_is_cp1252.xml"))
    assert any("read as UTF-8" in m for m in _deviations(result, "tolerance/declared_latin1_is_utf8.xml"))
    assert any("recovering parser" in m for m in _deviations(result, "tolerance/invalid_namespace.xml"))
    assert any("bare <section> fragment" in m for m in _deviations(result, "tolerance/fragment_section.xml"))
    assert any("'SNOMED-CT' is not an OID" in m for m in _deviations(result, "clean/full.xml"))
    assert any("no templateId; its kind (social)" in m for m in _deviations(result, "clean/full.xml"))


def test_wrong_encodings_read_as_the_bytes_are(result: ConversionResult) -> None:
    patients = {p["patient_id"]: p for p in _rows(result, "patient")}
    assert patients["55028610024"]["family_name"] == "Ødegård"  # cp1252 bytes declared UTF-8
    assert patients["15108695088"]["family_name"] == "Åsen"  # UTF-8 bytes declared ISO-8859-1
    assert patients["55028610024"]["identifier_type"] == "DNR"
    assert patients["15908610064"]["identifier_system"] == "urn:oid:2.16.578.1.12.4.1.4.1"
    assert patients["15908610064"]["birth_date"] == date(1986, 8, 15)


def test_rejects_have_reasons(result: ConversionResult) -> None:
    records = _rows(result, "records", "ledger")
    rejected = {(r["source_ref"], r["reason_code"]) for r in records if r["fate"] == "rejected"}
    assert ("tolerance/not_xml.xml#", "unparseable_record") in rejected
    assert ("tolerance/fragment_section.xml#", "dangling_reference") in rejected
    assert ("tolerance/fragment_section.xml#section=1/entry=1/item=1", "dangling_reference") in rejected
    rejects = _rows(result, "rejects", "rejects")
    not_xml = next(r for r in rejects if r["source_ref"] == "tolerance/not_xml.xml#")
    raw = (FIXTURES / "tolerance" / "not_xml.xml").read_bytes()
    assert base64.b64decode(str(not_xml["raw_base64"])) == raw


def test_negated_entries_are_kept_with_their_negation(result: ConversionResult) -> None:
    diagnoses = [d for d in _rows(result, "diagnosis") if str(d["source_ref"]).startswith("clean/full.xml#")]
    no_diabetes = next(d for d in diagnoses if d["diagnosis_code"] == "44054006")
    assert no_diabetes["certainty"] == "negated"
    assert no_diabetes["diagnosis_original_text"] == "Ingen diabetes"  # from the narrative reference
    asthma = next(d for d in diagnoses if d["diagnosis_code"] == "R96")
    assert asthma["diagnosis_system"] == "urn:oid:2.16.578.1.12.4.1.1.7170"
    assert asthma["certainty"] is None and asthma["onset_at"] == datetime(2020, 1, 1, tzinfo=UTC)
    meds = [m for m in _rows(result, "medication") if str(m["source_ref"]).startswith("clean/full.xml#")]
    none_known = next(m for m in meds if m["drug_original_text"] == "Ingen kjente legemidler")
    assert none_known["status"] == "active; negated"
    assert none_known["drug_code"] == "410942007"  # from the translation of a nullFlavor code
    salbutamol = next(m for m in meds if m["drug_code"] == "R03AC02")
    assert salbutamol["drug_system"] == "http://www.whocc.no/atc"
    assert salbutamol["dosage_text"] == "1 {tbl} oral every 12 h"
    allergy = next(a for a in _rows(result, "critical_info") if str(a["source_ref"]).startswith("clean/"))
    assert allergy["certainty"] == "negated" and allergy["agent_code"] is None
    vaccines = [i for i in _rows(result, "immunization") if str(i["source_ref"]).startswith("clean/")]
    assert [v["vaccine_code"] for v in vaccines] == ["141"] and vaccines[0]["lot_number"] == "LOT42"
    raw = _rows(result, "ccda_immunization", "raw")
    refused = next(r for r in raw if r["product_code"] == "03")
    assert refused["negation"] == "negated" and refused["fate"] == "preserved"


def test_results_vitals_and_entries_without_dates(result: ConversionResult) -> None:
    labs = {r["analysis_code"]: r for r in _rows(result, "lab_result") if str(r["source_ref"]).startswith("clean/")}
    hb = labs["718-7"]
    assert (hb["value_numeric"], hb["value_unit"], hb["reference_low"], hb["reference_high"]) == (
        13.2,
        "g/dL",
        11.5,
        16.0,
    )
    assert hb["report_id"] == "r-0@1.2.3" and hb["abnormal_flag_code"] == "N"
    assert labs["6690-2"]["value_text"] == "normal" and labs["6690-2"]["observed_at"] is None
    (bp,) = [m for m in _rows(result, "measurement") if m["measurement_type_code"] == "8480-6"][:1]
    assert bp["observed_at"] == datetime(2024, 3, 5, 9, 10, tzinfo=UTC) and bp["category"] == "vital-signs"
    (proc,) = [p for p in _rows(result, "procedure") if str(p["source_ref"]).startswith("clean/")]
    assert proc["procedure_code"] == "127783003" and proc["start_at"] is None


def test_sections_keep_their_narrative(result: ConversionResult) -> None:
    notes = [n for n in _rows(result, "journal_note") if str(n["source_ref"]).startswith("clean/full.xml#")]
    headings = {n["heading"]: n["text"] for n in notes}
    assert headings["Problemer"] == "Astma | aktiv\nIngen diabetes"
    assert headings["Forløp"] == "Forløp uten komplikasjoner.\nSe bilde."
    sections = [s for s in _rows(result, "ccda_section", "raw") if str(s["source_ref"]).startswith("clean/full.xml#")]
    empty = next(s for s in sections if s["title"] == "Kontakter")
    assert empty["null_flavor"] == "NI" and empty["entry_count"] == "0"


def test_attachments_keep_their_bytes(result: ConversionResult) -> None:
    docs = {str(d["source_ref"]).split("#")[0]: d for d in _rows(result, "document")}
    embedded = docs["clean/unstructured_embedded_pdf.xml"]
    data = (result.archive / "data" / str(embedded["original_path"])).read_bytes()
    assert data.startswith(b"%PDF-1.4") and embedded["mime_type"] == "application/pdf"
    assert hashlib.sha256(data).hexdigest() == embedded["original_sha256"]
    referenced = docs["clean/unstructured_reference.xml"]
    kept = (result.archive / "data" / str(referenced["original_path"])).read_bytes()
    assert kept == (FIXTURES / "clean" / "referenced_note.txt").read_bytes()
    image = docs["clean/full.xml"]
    assert image["mime_type"] == "image/png" and image["category_code"] == "observationMedia"
    messages = {str(m["source_ref"]).split("#")[0]: m for m in _rows(result, "message")}
    bom = (result.archive / "data" / str(messages["tolerance/bom.xml"]["original_path"])).read_bytes()
    assert bom == (FIXTURES / "tolerance" / "bom.xml").read_bytes()  # kept whole, BOM and all


def test_parser_refuses_external_entities(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    doc = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&x;</title></ClinicalDocument>'
    ).encode()
    parsed = read_cda(doc)
    assert parsed is None or b"TOPSECRET" not in __import__("lxml.etree").etree.tostring(parsed.root)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_read_cda_never_raises(data: bytes) -> None:
    parsed = read_cda(data)
    assert parsed is None or isinstance(parsed.root.tag, str)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(r"\A[0-9]{0,16}([.][0-9]{1,4})?([+-][0-9]{4})?\Z") | st.text(max_size=20))
def test_iso_time_is_an_instant_or_none(value: str) -> None:
    out = iso_time(value)
    assert out is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", out)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(alphabet="abcæøå ÆØÅ123", min_size=1, max_size=12), min_size=1, max_size=6))
def test_narrative_paragraphs_become_lines(paragraphs: list[str]) -> None:
    xml = "<text>" + "".join(f"<paragraph>{p}</paragraph>" for p in paragraphs) + "</text>"
    parsed = read_cda(xml.encode())
    assert parsed is not None
    expected = [" ".join(p.split()) for p in paragraphs if p.split()]
    assert (narrative_text(parsed.root) or "").split("\n") == (expected or [""])
