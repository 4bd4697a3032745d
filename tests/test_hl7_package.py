"""--system hl7v2 end to end: the FHIR-Converter sample messages and our synthetic fixtures.

The sample (../shared/data/hl7v2-fhir-converter, 73 files, LF segment ends, some with a BOM) is
read in place. Segment counts are checked independently of the reader: by splitting the bytes
on line ends.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from converters.hl7_tables import record_tables
from converters.pipeline import ConversionOptions, ConversionResult, run_conversion
from validation import validate_archive

SAMPLE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "hl7v2-fhir-converter"
FIXTURES = Path(__file__).parent / "fixtures" / "hl7v2"
SEGMENT_TABLES = sorted(record_tables())


def _rows(archive: Path, table: str) -> list[dict[str, object]]:
    return pq.read_table(archive / "data" / "tables" / f"{table}.parquet").to_pylist()


def _by_ref(rows: list[dict[str, object]], prefix: str) -> list[dict[str, object]]:
    def natural(row: dict[str, object]) -> list[object]:
        return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", str(row["source_ref"]))]

    return sorted((r for r in rows if str(r["source_ref"]).startswith(prefix)), key=natural)


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> ConversionResult:
    if not (SAMPLE / "ORU-R01-01.hl7").is_file():
        pytest.skip("../shared/data/hl7v2-fhir-converter is not available")
    target = tmp_path_factory.mktemp("hl7") / "pkg"
    return run_conversion(ConversionOptions(system="hl7v2", source=SAMPLE, archive=target))


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> ConversionResult:
    target = tmp_path_factory.mktemp("hl7fx") / "pkg"
    return run_conversion(ConversionOptions(system="hl7v2", source=FIXTURES, archive=target))


# ------------------------------------------------------------------------- the whole sample


def test_sample_converts_and_validates(sample: ConversionResult) -> None:
    report = validate_archive(sample.archive)
    assert report.valid, [f.to_dict() for f in report.findings]
    assert sample.ledger.gaps() == []
    assert sample.ledger.totals()["rejected"] == 0


def test_ledger_accounts_for_every_message_and_segment(sample: ConversionResult) -> None:
    files = sorted(SAMPLE.glob("*.hl7"))
    assert len(files) == 73
    segments = 0
    messages = 0
    for f in files:
        lines = [ln for ln in re.split(rb"\r\n|\r|\n", f.read_bytes().removeprefix(b"\xef\xbb\xbf")) if ln.strip()]
        segments += len(lines)
        messages += sum(1 for ln in lines if ln.startswith(b"MSH"))
    tallies = sample.ledger.tables
    assert sum(tallies[t].source_rows for t in SEGMENT_TABLES) == segments
    assert all(tallies[t].balanced for t in SEGMENT_TABLES)
    assert tallies["hl7_msh"].source_rows == messages == 73
    assert tallies["hl7_msh"].converted == 73
    assert sample.tables["message"] == 73


def test_every_message_kept_byte_for_byte(sample: ConversionResult) -> None:
    data = sample.archive / "data"
    messages = _rows(sample.archive, "message")
    by_file = {str(m["source_ref"]).split("#")[0]: m for m in messages}
    assert len(by_file) == 73
    for f in sorted(SAMPLE.glob("*.hl7")):
        m = by_file[f.name]
        kept = (data / str(m["original_path"])).read_bytes()
        assert kept == f.read_bytes().removeprefix(b"\xef\xbb\xbf"), f.name  # the BOM is not part of the message
        assert hashlib.sha256(kept).hexdigest() == m["original_sha256"]


def test_message_rows_carry_the_msh_header(sample: ConversionResult) -> None:
    (oru,) = _by_ref(_rows(sample.archive, "message"), "ORU-R01-01.hl7#")
    assert oru["message_id"] == "2.16.840.1.114222.4.3.3.5.1.2-20120314235954.325"
    assert oru["message_type_code"] == "ORU^R01"
    assert oru["message_type_original_text"] == "ORU^R01^ORU_R01"
    assert oru["mig_version"] == "2.5.1"
    assert oru["sender_name"] == "IA PHIMS Stage / IA Public Health Lab"
    assert oru["receiver_name"] == "IA.DOH.IDSS / IA DOH"
    assert oru["generated_at"].isoformat() == "2012-03-14T15:14:00+00:00"  # 201203141259-0215
    assert oru["original_path"].startswith("originals/messages/")
    assert oru["original_path"].endswith(".hl7")


def test_oru_lab_results(sample: ConversionResult) -> None:
    labs = _by_ref(_rows(sample.archive, "lab_result"), "ORU-R01-01.hl7#")
    culture = next(r for r in labs if r["analysis_code"] == "625-4")
    assert culture["analysis_display"] == "Bacteria identified in Stool by Culture"
    assert culture["value_text"] == "27268008^Salmonella^SCT^^^^^^Salmonella species"
    assert culture["value_unit"] == "beats/min"
    assert culture["reference_text"] == "70-80"
    assert (culture["reference_low"], culture["reference_high"]) == (70.0, 80.0)
    assert culture["abnormal_flag_code"] == "A"
    assert culture["abnormal_flag_system"] == "http://terminology.hl7.org/CodeSystem/v2-0078"
    assert culture["status"] == "preliminary"
    assert culture["report_id"] == "986"  # OBR-3 filler order number
    assert culture["comment"] == "Submission of serum\nNo Antibodies Detected"  # the NTEs after the OBX
    numeric = next(r for r in labs if r["analysis_code"] == "8867-4" and r["value_text"] == "27\n25")
    assert numeric["value_numeric"] is None  # two repetitions are not one number
    cbc = _by_ref(_rows(sample.archive, "lab_result"), "LRI_2.0-NG_CBC_Typ_Message.hl7#")
    assert any(r["value_numeric"] is not None and r["analysis_system"] == "http://loinc.org" for r in cbc)


def test_adt_patient_encounter_diagnosis_allergy(sample: ConversionResult) -> None:
    patients = {p["patient_id"]: p for p in _rows(sample.archive, "patient")}
    adam = patients["PATID1234"]
    assert (adam["family_name"], adam["given_name"]) == ("EVERYMAN", "ADAM")
    assert adam["birth_date"].isoformat() == "1988-08-18"
    assert adam["identifier_system"] == "2.16.1"
    encounters = _by_ref(_rows(sample.archive, "encounter"), "ADT-A01-01.hl7#")
    assert len(encounters) == 1
    assert encounters[0]["patient_id"] == "PATID1234"
    assert encounters[0]["encounter_class_code"] == "P"
    diagnoses = _by_ref(_rows(sample.archive, "diagnosis"), "ADT-A01-01.hl7#")
    assert diagnoses[0]["diagnosis_code"] == "422504002"
    assert diagnoses[0]["diagnosis_system"] == "http://snomed.info/sct"
    assert diagnoses[0]["diagnosis_original_text"] == "Stroke"
    allergies = _by_ref(_rows(sample.archive, "critical_info"), "ADT-A01-01.hl7#")
    assert allergies[0]["agent_code"] == "P"
    assert allergies[0]["agent_display"] == "PENICILLIN"
    assert allergies[0]["info_type_code"] == "EA"
    assert allergies[0]["severity"] == "mild"


def test_vxu_immunizations(sample: ConversionResult) -> None:
    shots = _by_ref(_rows(sample.archive, "immunization"), "VXU.hl7#")
    assert [(s["vaccine_code"], s["vaccine_system"]) for s in shots] == [
        ("49281-0215-88", "http://hl7.org/fhir/sid/ndc"),
        ("88", "http://hl7.org/fhir/sid/cvx"),
        ("88", "http://hl7.org/fhir/sid/cvx"),
    ]
    assert shots[0]["lot_number"] == "315841"
    assert shots[0]["site"] == "Right Deltoid"
    assert shots[0]["patient_id"] == "90012"


def test_rxe_medication_and_mdm_documents(sample: ConversionResult) -> None:
    meds = _by_ref(_rows(sample.archive, "medication"), "RDE-O11-01.hl7#")
    assert len(meds) == 1
    assert meds[0]["drug_code"]
    # every message also has a document row: its readable PDF/A rendition (category message_rendition)
    renditions = [d for d in _rows(sample.archive, "document") if d["category_code"] == "message_rendition"]
    assert renditions and all(d["status"] == "rendered" and d["pdfa_path"] for d in renditions)
    assert all(str(d["original_path"]).startswith("originals/messages/") for d in renditions)
    docs = [
        d
        for d in _by_ref(_rows(sample.archive, "document"), "MDM-T02-01.hl7#")
        if d["category_code"] != "message_rendition"
    ]
    assert [d["category_code"] for d in docs] == ["DI"]
    assert docs[0]["document_id"] == "1.2.840.317.5947431.51.20080131160038"
    assert docs[0]["status"] == "AU"
    attachments = [
        d for d in _rows(sample.archive, "document") if d["original_path"] and d["category_code"] != "message_rendition"
    ]
    assert attachments, "the OUL/OML samples carry Base64 JPEG thumbnails"
    for d in attachments:
        kept = sample.archive / "data" / str(d["original_path"])
        assert hashlib.sha256(kept.read_bytes()).hexdigest() == d["original_sha256"]
        assert kept.stat().st_size == d["original_size"]
        assert d["mime_type"] == "image/jpeg"


def test_nte_becomes_notes_or_comments(sample: ConversionResult) -> None:
    notes = _by_ref(_rows(sample.archive, "journal_note"), "ORU-R01-01.hl7#")
    texts = [n["text"] for n in notes]
    assert any("E.coli O157:H7 & other STECs" in t for t in texts)  # \T\ unescaped
    assert "Submission of serum" not in texts  # a result comment goes to lab_result.comment


def test_sample_deviations_are_findings(sample: ConversionResult) -> None:
    dev = pq.read_table(sample.archive / "data" / "ledger" / "deviations.parquet").to_pylist()
    ends = [d for d in dev if d["element_path"] == "segment end"]
    assert len(ends) == 73  # every sample message ends its segments with LF
    boms = [d for d in dev if "byte order mark" in d["message"]]
    assert len(boms) == sum(1 for f in SAMPLE.glob("*.hl7") if f.read_bytes().startswith(b"\xef\xbb\xbf"))
    assert all(d["standard"] == "HL7 v2" for d in dev)


# --------------------------------------------------------------------------- our fixtures


def test_fixtures_convert_cleanly(fixtures: ConversionResult) -> None:
    assert validate_archive(fixtures.archive).valid
    assert fixtures.ledger.totals()["rejected"] == 0
    tallies = fixtures.ledger.tables
    assert tallies["hl7_msh"].source_rows == 7
    # the batch envelope (FHS, BHS, BTS, FTS) is accounted for as segments outside any message
    others = pq.read_table(fixtures.archive / "data" / "raw" / "hl7_segment_other.parquet").to_pylist()
    assert sorted(r["segment_id"] for r in others if "#outside=" in r["source_ref"]) == ["BHS", "BTS", "FHS", "FTS"]


def test_custom_delimiters_and_encodings(fixtures: ConversionResult) -> None:
    diagnoses = _by_ref(_rows(fixtures.archive, "diagnosis"), "adt_batch.hl7#msg=2")
    assert diagnoses[0]["diagnosis_display"] == "KOLS med akutt forverring * infeksjon"  # !T! with & = *
    assert diagnoses[0]["encounter_id"] == "V-8001"
    shots = _rows(fixtures.archive, "immunization")
    assert shots[0]["lot_number"] == "LOT-Å12"  # MSH-18 8859/1
    assert shots[0]["administered_at"].isoformat() == "2023-10-15T08:10:00+00:00"
    (note,) = _rows(fixtures.archive, "journal_note")
    assert note["text"] == "Pasienten føler seg bedre – ingen feber.\nFortsetter behandling."  # cp1252 fallback
    patients = {p["patient_id"]: p for p in _rows(fixtures.archive, "patient")}
    assert patients["H100001"]["family_name"] == "Ødegård"


def test_fixture_lab_values_and_attachment(fixtures: ConversionResult) -> None:
    labs = {r["analysis_code"]: r for r in _rows(fixtures.archive, "lab_result")}
    hb = labs["718-7"]
    assert (hb["value_numeric"], hb["value_unit"], hb["reference_low"], hb["reference_high"]) == (
        11.2,
        "g/dL",
        11.7,
        15.3,
    )
    assert hb["abnormal_flag_code"] == "L"
    assert hb["comment"] == "Kontroll om 3 mnd\nRing pasient"
    assert hb["observed_at"].isoformat() == "2024-03-05T06:45:00+00:00"
    assert labs["5778-6"]["value_text"] == "Gul & klar | svak"
    assert labs["2345-7"]["value_numeric"] == 5.4
    assert labs["2345-7"]["reference_high"] == 6.1
    (pdf,) = [
        d
        for d in _rows(fixtures.archive, "document")
        if d["original_path"] and d["category_code"] != "message_rendition"
    ]
    assert pdf["mime_type"] == "application/pdf"
    assert (fixtures.archive / "data" / str(pdf["original_path"])).read_bytes().startswith(b"%PDF-1.4")


def test_fixture_deviations(fixtures: ConversionResult) -> None:
    dev = pq.read_table(fixtures.archive / "data" / "ledger" / "deviations.parquet").to_pylist()
    found = {(d["source_ref"], d["element_path"]) for d in dev}
    assert ("deviations.hl7#msg=1", "MSH-10") in found
    assert ("deviations.hl7#msg=1/seg=2/PID[1]", "PID-7") in found
    assert ("deviations.hl7#msg=1/seg=3/XYZ[1]", "XYZ") in found
    assert ("mdm_cp1252.hl7#msg=1", "MSH-18") in found
    assert not any("19801340" in d["message"] for d in dev)  # a bad birth date is described, not quoted
    assert not any(path == "ZPD" for _, path in found)  # Z-segments are local by design
    assert not any(ref.startswith("vxu_latin1.hl7") and path == "MSH-18" for ref, path in found)


def test_unreadable_file_is_a_reject_and_the_run_goes_on(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.hl7").write_bytes((FIXTURES / "rde.hl7").read_bytes())
    (src / "junk.hl7").write_bytes(b"\x00\x01 not an HL7 message\n")
    result = run_conversion(ConversionOptions(system="hl7v2", source=src, archive=tmp_path / "pkg"))
    rejects = pq.read_table(result.archive / "data" / "rejects" / "rejects.parquet").to_pylist()
    assert [(r["source_ref"], r["reason_code"]) for r in rejects] == [("junk.hl7#", "unparseable_record")]
    assert result.tables["message"] == 1
    assert validate_archive(result.archive).valid


def test_single_file_source(tmp_path: Path) -> None:
    result = run_conversion(ConversionOptions(system="hl7v2", source=FIXTURES / "oru_cr.hl7", archive=tmp_path / "pkg"))
    assert result.tables["lab_result"] == 3
    assert result.tables["message"] == 1


def test_conversion_is_deterministic(fixtures: ConversionResult, tmp_path: Path) -> None:
    again = run_conversion(ConversionOptions(system="hl7v2", source=FIXTURES, archive=tmp_path / "again"))
    assert again.run_id == fixtures.run_id
    manifest = (fixtures.archive / "manifest-sha256.txt").read_text()
    assert (again.archive / "manifest-sha256.txt").read_text() == manifest


def test_detected_without_system(tmp_path: Path) -> None:
    from converters import detect_reader

    assert detect_reader(FIXTURES).name == "hl7v2"
    assert detect_reader(FIXTURES / "rde.hl7").name == "hl7v2"
    (tmp_path / "notes.txt").write_text("MSHx is not a segment\n", encoding="utf-8")
    from converters.hl7_source import Hl7v2Reader

    assert Hl7v2Reader().accepts(tmp_path) is False
