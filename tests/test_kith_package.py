"""End to end: KITH messages (the shared examples and synthetic ones) into a valid package.

The counts the ledger must account for are made independently here, with lxml XPath over the
source files, not with the reader's own code.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from lxml import etree

from converters.pipeline import ConversionOptions, run_conversion
from validation import validate_archive

SHARED_KITH = Path(__file__).resolve().parents[2] / "shared" / "data" / "kith" / "messages"
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "kith"
BAD = Path(__file__).resolve().parent / "fixtures" / "kith_bad"
LOCAL = "local-name()"
SAFE = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)


def _convert(source: Path, target: Path) -> Path:
    run_conversion(ConversionOptions(system="kith", source=source, archive=target))
    return target


def _ledger(pkg: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = pq.read_table(pkg / "data" / "ledger" / "records.parquet").to_pylist()
    return rows


def _table(pkg: Path, name: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = pq.read_table(pkg / "data" / "tables" / f"{name}.parquet").to_pylist()
    return rows


def _count(files: list[Path], xpath: str) -> int:
    return sum(int(etree.parse(str(f), SAFE).xpath(f"count({xpath})")) for f in files)


@pytest.fixture(scope="module")
def shared_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not SHARED_KITH.is_dir():
        pytest.skip("../shared/data/kith is not available")
    return _convert(SHARED_KITH, tmp_path_factory.mktemp("kith") / "pkg")


@pytest.fixture(scope="module")
def synthetic_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _convert(FIXTURES, tmp_path_factory.mktemp("kith-synth") / "pkg")


def test_shared_examples_give_a_valid_package(shared_package: Path) -> None:
    report = validate_archive(shared_package)
    assert report.valid, report.findings


def test_ledger_accounts_for_every_message_and_attachment(shared_package: Path) -> None:
    files = sorted(SHARED_KITH.rglob("*.xml"))
    assert len(files) == 15
    msghead = f"//*[{LOCAL}='MsgHead']"
    bare = f"/*[{LOCAL}='HelseOpplysningerArbeidsuforhet']"
    apprecs = _count(files, f"//*[{LOCAL}='AppRec']")
    messages = _count(files, msghead) + _count(files, bare)
    attachments = _count(
        files,
        f"{msghead}/*[{LOCAL}='Document']/*[{LOCAL}='RefDoc'][not(*[{LOCAL}='Content']/*[{LOCAL}!='Base64Container'])]",
    )
    patients = _count(files, f"{msghead}/*[{LOCAL}='MsgInfo']/*[{LOCAL}='Patient']") + _count(
        files, f"{bare}/*[{LOCAL}='Pasient']"
    )
    per_table = Counter(str(r["source_table"]) for r in _ledger(shared_package))
    assert (apprecs, messages, attachments) == (3, 12, 7)
    assert per_table["kith_apprec"] == apprecs
    assert per_table["kith_message"] == messages
    assert per_table["kith_attachment"] == attachments
    assert per_table["kith_patient"] == patients
    fates = Counter((str(r["source_table"]), str(r["fate"])) for r in _ledger(shared_package))
    assert fates[("kith_message", "converted")] == messages  # every message is a message row
    assert len(_table(shared_package, "message")) == messages
    # every message file is kept byte for byte under the SHA-256 the message row records
    for row in _table(shared_package, "message"):
        kept = shared_package / "data" / str(row["original_path"])
        assert kept.is_file()
    kept_bytes = {p.read_bytes() for p in (shared_package / "data" / "originals" / "messages").iterdir()}
    assert {f.read_bytes() for f in files if b"apprec" not in f.read_bytes()[:400]} <= kept_bytes


def test_schema_deviations_are_findings_with_element_paths(shared_package: Path) -> None:
    deviations = pq.read_table(shared_package / "data" / "ledger" / "deviations.parquet").to_pylist()
    paths = {(str(d["source_ref"]).split("#")[0], str(d["element_path"])) for d in deviations}
    # padm2: RefToConversation/Ack in the wrong order (MsgHead schema)
    assert (
        "dialogmelding/padm2__dialogmelding_dialog_notat.xml",
        "/EI_fellesformat/MsgHead/MsgInfo/Ack",
    ) in paths
    # pale-2: the stray attribute xmlxd on MsgHead
    assert any(
        p == "/EI_fellesformat/MsgHead" and "xmlxd" in str(d["message"])
        for d in deviations
        for p in [d["element_path"]]
    )
    # invalid base64 in the sykmelding's attachment: a finding, and the attachment still counted
    assert any("Base64Container" in str(d["element_path"]) and "sykmelding" in str(d["source_ref"]) for d in deviations)
    # no deviation turned into a rejection
    assert not [r for r in _ledger(shared_package) if r["fate"] == "rejected"]


def test_invalid_base64_attachment_is_a_document_with_its_status(shared_package: Path) -> None:
    docs = _table(shared_package, "document")
    statuses = Counter(str(d["status"]) for d in docs)
    assert statuses["invalid_base64"] >= 1
    # decoded attachments carry the PDF/A normaliser's status (normalised, not_normalised: ...)
    # (every message also has a document row now: its readable rendition, status "rendered")
    renditions = [d for d in docs if d["category_code"] == "message_rendition"]
    assert renditions and all(d["status"] == "rendered" and d["pdfa_path"] for d in renditions)
    decoded = [d for d in docs if d["original_path"] is not None and d["category_code"] != "message_rendition"]
    assert decoded
    assert all(str(d["status"]).split(":")[0] in ("normalised", "already_pdfa", "sanitised", "not_normalised",
                                                  "rejected_encrypted", "rewritten") for d in decoded)
    for d in decoded:
        path = shared_package / "data" / str(d["original_path"])
        assert path.stat().st_size == d["original_size"]


def test_unknown_payloads_are_preserved_and_counted(shared_package: Path) -> None:
    fates = Counter(str(r["fate"]) for r in _ledger(shared_package) if r["source_table"] == "kith_payload_unknown")
    assert fates == {"preserved": 2}  # the two e-resept M1 Resept payloads of the reseptfornyelse
    raw = pq.read_table(shared_package / "data" / "raw" / "kith_payload_unknown.parquet").to_pylist()
    assert {r["element"] for r in raw} == {"Resept"}
    assert all("eresept/m1" in str(r["namespace"]) for r in raw)


def test_patients_repeated_across_messages_are_excluded_not_rejected(shared_package: Path) -> None:
    fates = Counter(
        (str(r["fate"]), r["reason_code"]) for r in _ledger(shared_package) if r["source_table"] == "kith_patient"
    )
    patients = _table(shared_package, "patient")
    assert fates[("converted", None)] == len(patients) == len({p["patient_id"] for p in patients})
    assert fates[("excluded", "excluded_by_mapping")] >= 1
    kinds = {p["identifier_type"] for p in patients}
    assert "FNR" in kinds  # typed by the mapping's identify rule, not taken from the message
    assert all(p["identifier_system"] for p in patients if p["identifier_type"] == "FNR")


def test_synthetic_svarrapport_lab_results(synthetic_package: Path) -> None:
    assert validate_archive(synthetic_package).valid
    labs = {r["analysis_code"]: r for r in _table(synthetic_package, "lab_result")}
    assert set(labs) == {"NPU02593", "NPU19767", "NOR05172"}
    leuko = labs["NPU02593"]
    assert leuko["analysis_system"] == "urn:oid:2.16.578.1.12.4.1.1.7280"
    assert leuko["value_numeric"] == pytest.approx(11.8)
    assert leuko["value_unit"] == "10E9/L"
    assert (leuko["reference_low"], leuko["reference_high"]) == (pytest.approx(3.5), pytest.approx(11.0))
    assert leuko["reference_text"] == "3,5 - 11,0"
    assert leuko["abnormal_flag_code"] == "H"
    assert leuko["abnormal_flag_system"] == "urn:oid:2.16.578.1.12.4.1.1.8244"
    assert leuko["material_code"] == "B"
    assert str(leuko["observed_at"]) == "2024-03-04 07:30:00+00:00"
    ddimer = labs["NPU19767"]
    assert ddimer["value_text"] == "0,4"
    assert ddimer["value_numeric"] == pytest.approx(0.4)
    assert ddimer["reference_low"] is None and ddimer["reference_high"] == pytest.approx(0.5)
    assert ddimer["abnormal_flag_code"] is None
    assert labs["NOR05172"]["reference_low"] == pytest.approx(11.7)


def test_synthetic_epikrise_and_henvisning(synthetic_package: Path) -> None:
    notes = _table(synthetic_package, "journal_note")
    by_heading = {n["heading"]: n for n in notes}
    course = by_heading["Forløp og behandling"]
    assert course["text_format"] == "html"
    assert course["text"] == "Innlagt med feber.\nBehandlet med antibiotika.\n"
    assert "<p" in str(course["text_raw"])
    assert by_heading["Vurdering"]["text"] == "Utskrives i god form."
    diagnoses = {d["diagnosis_code"]: d for d in _table(synthetic_package, "diagnosis")}
    assert diagnoses["J189"]["role"] == "main" and diagnoses["E119"]["role"] == "secondary"
    assert diagnoses["J189"]["diagnosis_system"] == "urn:oid:2.16.578.1.12.4.1.1.7110"
    (referral,) = _table(synthetic_package, "referral")
    assert referral["referral_id"] == "henv-doc-1"
    assert referral["diagnosis_code"] == "L15"
    assert referral["urgency_code"] == "N"
    assert referral["recipient_her_id"] == "900003"
    assert referral["message_id"] == "henv-0001"
    assert str(referral["text"]).startswith("Aktuell problemstilling: Smerter i kne")
    assert str(referral["sent_at"]) == "2024-01-10 07:55:00+00:00"


def test_apprec_becomes_a_message_row_of_the_answered_messages_patient(synthetic_package: Path) -> None:
    messages = {m["message_id"]: m for m in _table(synthetic_package, "message")}
    receipt = messages["apprec-0001"]
    answered = messages["svar-0001"]
    assert receipt["message_type_code"] == "APPREC"
    assert receipt["conversation_ref"] == "svar-0001"
    assert receipt["delivery_status"] == "1 OK"
    assert receipt["patient_id"] == answered["patient_id"]
    # the double-wrapped message: outer and inner MsgHead are both messages of the same file
    assert messages["dw-0001"]["original_path"] == messages["dw-0001-inner"]["original_path"]
    notes = [n for n in _table(synthetic_package, "journal_note") if n["text"] == "Innerste notat."]
    assert len(notes) == 1


def test_synthetic_attachment_is_kept_as_a_document(synthetic_package: Path) -> None:
    docs = _table(synthetic_package, "document")
    # every message with a patient also has a document row: its readable rendition (message_rendition)
    renditions = [d for d in docs if d["category_code"] == "message_rendition"]
    assert renditions and all(d["status"] == "rendered" and d["pdfa_path"] for d in renditions)
    assert {d["message_id"] for d in renditions} >= {"apprec-0001", "svar-0001"}
    (doc,) = [d for d in docs if d["category_code"] != "message_rendition"]
    assert doc["mime_type"] == "application/pdf"
    # the fixture's "PDF" is a stub: kept as original, reported as not normalised (no rendition)
    assert doc["status"] == "not_normalised: the PDF cannot be parsed"
    assert doc["pdfa_path"] is None
    data = (synthetic_package / "data" / str(doc["original_path"])).read_bytes()
    assert data.startswith(b"%PDF-1.4")
    assert str(doc["original_path"]).endswith(".pdf")


def test_malformed_xml_is_a_reject_not_a_crash(tmp_path: Path) -> None:
    source = tmp_path / "src"
    shutil.copytree(FIXTURES, source)
    shutil.copy(BAD / "broken.xml", source / "broken.xml")
    pkg = _convert(source, tmp_path / "pkg")
    rejected = [r for r in _ledger(pkg) if r["fate"] == "rejected"]
    assert [(r["source_table"], r["reason_code"], r["source_ref"]) for r in rejected] == [
        ("kith_message", "unparseable_record", "broken.xml#/")
    ]
    rejects = pq.read_table(pkg / "data" / "rejects" / "rejects.parquet").to_pylist()
    import base64

    assert base64.b64decode(str(rejects[0]["raw_base64"])) == (BAD / "broken.xml").read_bytes()
    assert validate_archive(pkg).valid


def test_external_entities_are_never_resolved(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    source = tmp_path / "src"
    source.mkdir()
    (source / "xxe.xml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<MsgHead xmlns="http://www.kith.no/xmlstds/msghead/2006-05-24"><MsgInfo><MsgId>&x;</MsgId>'
        '<Patient><Ident><Id>15037712377</Id><TypeId V="FNR"/></Ident></Patient></MsgInfo></MsgHead>'
    )
    pkg = _convert(source, tmp_path / "pkg")
    for path in (pkg / "data").rglob("*"):
        if path.is_file() and "originals" not in path.parts:
            assert b"TOPSECRET" not in path.read_bytes(), path
