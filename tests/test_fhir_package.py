"""--system fhir end to end: the shared Synthea sets and our synthetic fixtures.

The shared sets (../shared/data/synthea-fhir-r4, synthea-hiv-fhir-r4) are read in place. Resource
counts per type are taken independently of the reader, by a plain JSON walk, and checked against
the ledger and the canonical tables.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from converters.fhir_tables import RESOURCE_TABLES
from converters.pipeline import ConversionOptions, ConversionResult, run_conversion
from validation import validate_archive

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
SETS = ("synthea-fhir-r4", "synthea-hiv-fhir-r4")
FIXTURES = Path(__file__).parent / "fixtures" / "fhir"


def _rows(archive: Path, table: str) -> list[dict[str, object]]:
    path = archive / "data" / "tables" / f"{table}.parquet"
    return pq.read_table(path).to_pylist() if path.is_file() else []


def _walk_counts(folder: Path) -> Counter[str]:
    """Resources per type, by a plain JSON walk (Bundles' entries, NDJSON lines, single resources)."""
    counts: Counter[str] = Counter()
    for f in sorted(folder.rglob("*")):
        if f.suffix == ".json":
            objs = [json.loads(f.read_text("utf-8"))]
        elif f.suffix == ".ndjson":
            objs = []
            for line in f.read_text("utf-8").splitlines():
                try:
                    objs.append(json.loads(line))
                except json.JSONDecodeError:
                    continue
        else:
            continue
        for obj in objs:
            entries = [e["resource"] for e in obj.get("entry", [])] if obj["resourceType"] == "Bundle" else [obj]
            counts.update(r["resourceType"] for r in entries)
    return counts


def _convert(source: Path, target: Path) -> ConversionResult:
    return run_conversion(ConversionOptions(system="fhir", source=source, archive=target, renditions=False))


@pytest.fixture(scope="module", params=SETS)
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ConversionResult]:
    folder = SHARED / str(request.param)
    if not folder.is_dir():
        pytest.skip(f"../shared/data/{request.param} is not available")
    return folder, _convert(folder, tmp_path_factory.mktemp("fhir") / "pkg")


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory: pytest.TempPathFactory) -> ConversionResult:
    return _convert(FIXTURES, tmp_path_factory.mktemp("fhirfx") / "pkg")


# ------------------------------------------------------------------------- the shared sets


def test_shared_set_converts_and_validates(shared: tuple[Path, ConversionResult]) -> None:
    _folder, result = shared
    report = validate_archive(result.archive)
    assert report.valid, [f.to_dict() for f in report.findings]
    assert result.ledger.gaps() == []
    assert result.ledger.totals()["rejected"] == 0


def test_ledger_counts_every_resource_of_each_type(shared: tuple[Path, ConversionResult]) -> None:
    folder, result = shared
    walked = _walk_counts(folder)
    tallies = result.ledger.tables
    by_table: Counter[str] = Counter()
    for kind, n in walked.items():
        by_table[RESOURCE_TABLES.get(kind, "fhir_resource_other")] += n
    for table, n in by_table.items():
        assert tallies[table].source_rows == n, table
        assert tallies[table].balanced, table
    # the same per type, from the resources' exact JSON kept in raw/ beside every record
    seen: Counter[str] = Counter()
    for table in by_table:
        raw = result.archive / "data" / "raw" / f"{table}.parquet"
        rows = pq.read_table(raw, columns=["resource_json"]).column(0).to_pylist() if raw.is_file() else []
        seen.update(json.loads(str(r))["resourceType"] for r in rows)
    assert seen == walked
    assert result.tables["patient"] == walked["Patient"]
    assert result.tables["encounter"] == walked["Encounter"]
    assert result.tables["diagnosis"] == walked["Condition"]
    assert result.tables["immunization"] == walked["Immunization"]
    assert result.tables["billing"] == walked["Claim"] + walked["ExplanationOfBenefit"]
    assert result.tables.get("lab_result", 0) + result.tables.get("measurement", 0) == walked["Observation"]
    assert result.tables["message"] == len(list(folder.glob("*.json")))  # one bundle per patient


def test_lab_observations_are_lab_results(shared: tuple[Path, ConversionResult]) -> None:
    folder, result = shared
    labs = 0
    for f in folder.glob("*.json"):
        for e in json.loads(f.read_text("utf-8"))["entry"]:
            r = e["resource"]
            codes = [c.get("code") for cat in r.get("category", []) for c in cat.get("coding", [])]
            labs += r["resourceType"] == "Observation" and "laboratory" in codes
    assert result.tables.get("lab_result", 0) == labs


def test_every_bundle_kept_byte_for_byte(shared: tuple[Path, ConversionResult]) -> None:
    folder, result = shared
    data = result.archive / "data"
    by_file = {str(m["source_ref"]).split("#")[0]: m for m in _rows(result.archive, "message")}
    for f in sorted(folder.glob("*.json")):
        kept = (data / str(by_file[f.name]["original_path"])).read_bytes()
        assert kept == f.read_bytes(), f.name


def test_hiv_document_references_keep_their_notes(tmp_path: Path) -> None:
    folder = SHARED / "synthea-hiv-fhir-r4"
    if not folder.is_dir():
        pytest.skip("../shared/data/synthea-hiv-fhir-r4 is not available")
    one = tmp_path / "one"
    one.mkdir()
    source = sorted(folder.glob("*.json"))[0]
    (one / source.name).symlink_to(source)
    result = _convert(one, tmp_path / "pkg")
    expected = set()
    for e in json.loads(source.read_text("utf-8"))["entry"]:
        r = e["resource"]
        if r["resourceType"] == "DocumentReference":
            raw = base64.b64decode(r["content"][0]["attachment"]["data"])
            expected.add(hashlib.sha256(raw).hexdigest())
    docs = [d for d in _rows(result.archive, "document") if "DocumentReference" in str(d["source_ref"])]
    assert {d["original_sha256"] for d in docs} == expected
    for d in docs:
        assert (
            hashlib.sha256((result.archive / "data" / str(d["original_path"])).read_bytes()).hexdigest()
            == d["original_sha256"]
        )


# ------------------------------------------------------------------------- synthetic fixtures


def test_fixtures_validate_and_account(fixtures: ConversionResult) -> None:
    assert validate_archive(fixtures.archive).valid
    assert fixtures.ledger.gaps() == []
    other = fixtures.ledger.tables["fhir_resource_other"]
    # the broken NDJSON line, the line that is no resource, the rest of the truncated Bundle
    assert other.reasons == {"unparseable_record": 3}
    assert other.preserved == 3  # Medication, Provenance, OperationOutcome


def test_bad_files_keep_what_is_readable(fixtures: ConversionResult) -> None:
    heights = [r for r in _rows(fixtures.archive, "measurement") if r["measurement_type_code"] == "8302-2"]
    assert [r["patient_id"] for r in heights] == ["p3"]  # the good line before the broken one
    pulse = [r for r in _rows(fixtures.archive, "measurement") if r["measurement_type_original_text"] == "Puls"]
    assert [r["patient_id"] for r in pulse] == ["p4"]  # the entry before the truncation
    patients = {p["patient_id"]: p for p in _rows(fixtures.archive, "patient")}
    assert patients["p5"]["family_name"] == "Ærlig"  # latin-1 with a BOM: read, with deviations
    deviations = pq.read_table(fixtures.archive / "data" / "ledger" / "deviations.parquet").to_pylist()
    messages = {str(d["message"]) for d in deviations}
    assert any("byte order mark" in m for m in messages)
    assert any("not valid UTF-8" in m for m in messages)


def test_norwegian_patient_and_references(fixtures: ConversionResult) -> None:
    patients = {p["patient_id"]: p for p in _rows(fixtures.archive, "patient")}
    kari = patients["0a000000-0000-4000-8000-000000000001"]  # no id: the key comes from the urn:uuid fullUrl
    assert kari["identifier_system"] == "urn:oid:2.16.578.1.12.4.1.4.1"
    assert kari["identifier_type"] == "TNR"  # synthetic Tenor number in the fødselsnummer namespace
    assert kari["identifier_valid"] is True
    assert (kari["given_name"], kari["family_name"]) == ("Kari Syntetisk", "Testesen")
    assert kari["general_practitioner_id"] == "prac-1"  # urn:uuid fullUrl -> the Practitioner's own id
    assert set(patients) == {"0a000000-0000-4000-8000-000000000001", "p2", "p3", "p4", "p5"}
    labs = {r["analysis_code"]: r for r in _rows(fixtures.archive, "lab_result")}
    assert labs["718-7"]["reference_low"] == 11.7
    assert str(labs["718-7"]["observed_at"]) == "2023-03-01 08:10:00+00:00"
    assert labs["718-7"]["encounter_id"] == "enc-1"
    glucose = [r for r in _rows(fixtures.archive, "lab_result") if r["analysis_code"] == "2345-7"]
    assert {r["patient_id"] for r in glucose} == {"p3", "p4"}  # relative and conditional references, across files
    assert any(r["status"] == "entered-in-error" for r in glucose)
    weight = next(r for r in _rows(fixtures.archive, "measurement") if r["measurement_type_code"] == "29463-7")
    assert weight["patient_id"] == "p2"
    bp = next(r for r in _rows(fixtures.archive, "measurement") if r["measurement_type_code"] == "85354-9")
    assert bp["value_text"] == "Systolic: 128 mm[Hg]\nDiastolic: 82 mm[Hg]"


def test_medication_negation_allergy_consent_audit(fixtures: ConversionResult) -> None:
    meds = {m["drug_code"] or m["drug_original_text"]: m for m in _rows(fixtures.archive, "medication")}
    assert meds["C09AA02"]["drug_display"] == "Enalapril"  # medicationReference resolved to the Medication
    assert meds["Ingen faste medisiner"]["status"] == "not-taken negated=true"  # kept, with its negation
    (rx,) = _rows(fixtures.archive, "prescription")
    assert rx["reiterations"] == 3
    (cave,) = _rows(fixtures.archive, "critical_info")
    assert (cave["agent_code"], cave["category"], cave["certainty"]) == ("J01CE02", "medication", "confirmed")
    (imm,) = _rows(fixtures.archive, "immunization")
    assert imm["vaccine_code"] == "140"
    (consent,) = _rows(fixtures.archive, "consent")
    assert consent["text"] == "deny: Reservasjon mot deling i kjernejournal"
    (log,) = _rows(fixtures.archive, "access_log")
    assert (log["action"], log["user_id"], log["object_id"]) == ("read", "9144889", "doc-1")
    assert log["patient_id"] == "0a000000-0000-4000-8000-000000000001"
    diagnoses = {d["diagnosis_original_text"]: d for d in _rows(fixtures.archive, "diagnosis")}
    assert diagnoses["Feilregistrert diagnose"]["certainty"] == "entered-in-error"
    assert diagnoses["Høyt blodtrykk"]["diagnosis_system"] == "urn:oid:2.16.578.1.12.4.1.1.7170"


def test_attachments_and_binary_kept(fixtures: ConversionResult) -> None:
    docs = _rows(fixtures.archive, "document")
    data = fixtures.archive / "data"
    bundle = json.loads((FIXTURES / "clean" / "transaction.json").read_text("utf-8"))
    doc = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "DocumentReference")
    wanted = {hashlib.sha256(base64.b64decode(c["attachment"]["data"])).hexdigest() for c in doc["content"]}
    binary = json.loads((FIXTURES / "clean" / "bulk" / "Binary.ndjson").read_text("utf-8"))
    wanted.add(hashlib.sha256(base64.b64decode(binary["data"])).hexdigest())
    assert {d["original_sha256"] for d in docs if d["original_sha256"]} == wanted
    for d in docs:
        if d["original_path"]:
            assert hashlib.sha256((data / str(d["original_path"])).read_bytes()).hexdigest() == d["original_sha256"]
    by_id = {d["document_id"]: d for d in docs}
    assert by_id["Binary/b3"]["patient_id"] == "p3"  # owner found through the DocumentReference's url
    assert by_id["d3"]["original_path"] is None  # the DocumentReference only points at the Binary


def test_resource_json_kept_exactly(fixtures: ConversionResult) -> None:
    """Every record's resource_json is an exact slice of its source file, and the resource it names."""
    texts = {}
    for f in FIXTURES.rglob("*"):
        if f.suffix in (".json", ".ndjson"):
            data = f.read_bytes().removeprefix(b"\xef\xbb\xbf")
            try:
                texts[f.relative_to(FIXTURES).as_posix()] = data.decode("utf-8")
            except UnicodeDecodeError:  # the file that is not UTF-8 is read as windows-1252 (a deviation)
                texts[f.relative_to(FIXTURES).as_posix()] = data.decode("cp1252")
    raw_dir = fixtures.archive / "data" / "raw"
    checked = 0
    for table in ("fhir_observation", "fhir_patient", "fhir_resource_other", "fhir_document"):
        for r in pq.read_table(raw_dir / f"{table}.parquet").to_pylist():
            if r["resource_json"] is None:
                continue
            ref = str(r["source_ref"])
            source = next(t for name, t in texts.items() if ref.startswith(f"{name}#"))
            assert str(r["resource_json"]) in source, ref
            resource = json.loads(str(r["resource_json"]))
            tail = f"/{resource['resourceType']}" + (f"/{resource['id']}" if "id" in resource else "")
            assert ref.endswith(tail), ref
            checked += 1
    assert checked >= 15


def test_a_file_with_no_patient_still_counts_its_resources(fixtures: ConversionResult) -> None:
    practitioners = {p["practitioner_id"] for p in _rows(fixtures.archive, "practitioner")}
    assert "prac-9" in practitioners  # from bulk/Practitioner.ndjson, which names no patient
