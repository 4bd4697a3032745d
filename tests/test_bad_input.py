"""Bad input: each kind of broken record is rejected or flagged with its reason, never lost.

Every test builds a tiny Synthea-layout folder in tmp_path (only the files it needs, with the
exact Synthea headers; the mapping's other files are then reported as missing tables) and
converts it with run_conversion. Each checks the recorded reason, that the ledger balances and
that the package still validates.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from converters.pipeline import ConversionOptions, ConversionResult, run_conversion
from formats.errors import ConversionError, MappingFileError, OutputExistsError, SourceError
from validation import validate_archive

PATIENTS_HEADER = (
    "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,ETHNICITY,"
    "GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,ZIP,LAT,LON,HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE"
)
CONDITIONS_HEADER = "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION"
ENCOUNTERS_HEADER = (
    "Id,START,STOP,PATIENT,ORGANIZATION,PROVIDER,PAYER,ENCOUNTERCLASS,CODE,DESCRIPTION,BASE_ENCOUNTER_COST,"
    "TOTAL_CLAIM_COST,PAYER_COVERAGE,REASONCODE,REASONDESCRIPTION"
)
SYNTHEA_TABLES = 18
FATES = ("converted", "preserved", "rejected", "excluded")


def patient_row(pid: str, *, birth: str = "1990-01-01", gender: str = "F", first: str = "Ada") -> str:
    fields = [pid, birth, "", "999-00-0000", "", "", "", first, "Test", "", "", "M", "white", "nonhispanic",
              gender, "Place", "1 Road", "Town", "State", "County", "01234", "0", "0", "0", "0"]  # fmt: skip
    assert len(fields) == len(PATIENTS_HEADER.split(","))
    return ",".join(fields)


def condition_row(patient: str, *, start: str = "2020-01-01", description: str = "Headache") -> str:
    return f"{start},,{patient},enc-1,25064002,{description}"


def lines(*rows: str) -> str:
    return "".join(r + "\n" for r in rows)


TWO_PATIENTS = lines(PATIENTS_HEADER, patient_row("p1"), patient_row("p2"))


@dataclass
class Converted:
    """A converted synthetic package and what the tests read from it."""

    archive: Path
    result: ConversionResult
    summary: dict

    def table(self, name: str) -> dict:
        return next(t for t in self.summary["tables"] if t["source_table"] == name)

    def rejects(self) -> list[dict]:
        path = self.archive / "data" / "rejects" / "rejects.parquet"
        return pq.read_table(path).to_pylist() if path.is_file() else []

    def ledger_records(self) -> list[dict]:
        return pq.read_table(self.archive / "data" / "ledger" / "records.parquet").to_pylist()

    def canonical(self, name: str, columns: list[str] | None = None) -> list[dict]:
        path = self.archive / "data" / "tables" / f"{name}.parquet"
        return pq.read_table(path, columns=columns).to_pylist() if path.is_file() else []


def make_source(root: Path, files: dict[str, str | bytes]) -> Path:
    source = root / "export"
    source.mkdir()
    for name, content in files.items():
        (source / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return source


def convert(tmp_path: Path, files: dict[str, str | bytes], **options: object) -> Converted:
    source = make_source(tmp_path, files)
    archive = tmp_path / "archive"
    result = run_conversion(ConversionOptions(system="synthea-csv", source=source, archive=archive, **options))
    summary = json.loads((archive / "data" / "ledger" / "summary.json").read_text(encoding="utf-8"))
    return Converted(archive, result, summary)


def assert_sound(c: Converted) -> None:
    """The ledger balances (overall and per table, by arithmetic) and the package validates."""
    assert c.summary["balanced"] is True
    for t in c.summary["tables"]:
        assert t["source_rows"] == sum(t[k] for k in FATES), t
        assert t["balanced"] is True, t
    totals = c.summary["totals"]
    assert totals["source_rows"] == sum(totals[k] for k in FATES)
    assert len(c.rejects()) == totals["rejected"]
    report = validate_archive(c.archive)
    assert report.valid, [f.to_dict() for f in report.findings]
    assert not list(c.archive.parent.glob(".*.partial-*"))


# --- one test per kind of bad record -------------------------------------------------------


def test_malformed_row_is_rejected_with_its_record_number(tmp_path: Path) -> None:
    # record 2 spans two physical lines (quoted newline), so record 3 starts on line 4:
    # the reject must carry the record number, not the line number
    patients = lines(
        PATIENTS_HEADER,
        patient_row("p1", first='"Ada\nLovelace"'),
        "p9,1990-01-01,too-few-fields",
        patient_row("p2"),
    )
    c = convert(tmp_path, {"patients.csv": patients})
    [reject] = c.rejects()
    assert reject["reason_code"] == "malformed_row"
    assert reject["row_number"] == 3
    assert reject["source_ref"] == "patients.csv#row=3"
    assert reject["source_table"] == "patients"
    assert "p9,1990-01-01,too-few-fields" in reject["raw_record"]
    assert reject["rule"] and "fields" in reject["rule"]
    t = c.table("patients")
    assert (t["source_rows"], t["converted"], t["rejected"]) == (3, 2, 1)
    assert t["reasons"] == {"malformed_row": 1}
    refs = {r["patient_id"]: r["source_ref"] for r in c.canonical("patient", ["patient_id", "source_ref"])}
    assert refs == {"p1": "patients.csv#row=2", "p2": "patients.csv#row=4"}
    assert c.canonical("patient", ["given_name"])[0]["given_name"] == "Ada\nLovelace"
    assert_sound(c)


def test_malformed_last_row_is_rejected(tmp_path: Path) -> None:
    c = convert(tmp_path, {"patients.csv": TWO_PATIENTS + "p9,broken\n"})
    [reject] = c.rejects()
    assert (reject["reason_code"], reject["row_number"]) == ("malformed_row", 4)
    assert_sound(c)


@pytest.mark.parametrize(
    ("files", "table", "row", "field", "rule"),
    [
        (
            {"patients.csv": TWO_PATIENTS, "conditions.csv": lines(
                CONDITIONS_HEADER, condition_row("p1", start="2020-13-45"), condition_row("p2"))},
            "conditions", 2, "START", "tables.conditions.targets[0].fields.onset_at",
        ),
        (
            {"patients.csv": lines(PATIENTS_HEADER, patient_row("p1"), patient_row("p2", birth="31.02.1990"))},
            "patients", 3, "BIRTHDATE", "tables.patients.targets[0].fields.birth_date",
        ),
    ],
    ids=["conditions.START", "patients.BIRTHDATE"],
)  # fmt: skip
def test_unparseable_date_is_rejected_naming_the_field(
    tmp_path: Path, files: dict[str, str], table: str, row: int, field: str, rule: str
) -> None:
    c = convert(tmp_path, files)
    [reject] = c.rejects()
    assert reject["reason_code"] == "invalid_date"
    assert reject["source_table"] == table
    assert reject["row_number"] == row
    assert reject["field"] == field
    assert reject["rule"] == rule
    assert json.loads(reject["raw_record"])[field] in ("2020-13-45", "31.02.1990")
    assert c.table(table)["reasons"] == {"invalid_date": 1}
    assert c.table(table)["converted"] == 1
    assert_sound(c)


def test_dangling_patient_reference_is_rejected(tmp_path: Path) -> None:
    conditions = lines(CONDITIONS_HEADER, condition_row("p1"), condition_row("nobody"))
    c = convert(tmp_path, {"patients.csv": TWO_PATIENTS, "conditions.csv": conditions})
    [reject] = c.rejects()
    assert reject["reason_code"] == "dangling_reference"
    assert reject["source_ref"] == "conditions.csv#row=3"
    assert reject["field"] == "PATIENT"
    assert reject["rule"].startswith("tables.conditions.patient")
    assert json.loads(reject["raw_record"])["PATIENT"] == "nobody"
    assert [r["patient_id"] for r in c.canonical("diagnosis", ["patient_id"])] == ["p1"]
    assert c.table("conditions")["reasons"] == {"dangling_reference": 1}
    assert_sound(c)


def test_unknown_code_is_converted_and_flagged(tmp_path: Path) -> None:
    patients = lines(PATIENTS_HEADER, patient_row("p1", gender="X"), patient_row("p2", gender="M"))
    c = convert(tmp_path, {"patients.csv": patients})
    assert c.rejects() == []
    rows = {r["patient_id"]: r for r in c.canonical("patient", ["patient_id", "sex_code", "sex_original_text"])}
    assert rows["p1"]["sex_original_text"] == "X"
    assert rows["p1"]["sex_code"] == "X"  # on_unknown: flag keeps the value as it was
    assert rows["p2"]["sex_code"] == "male"
    t = c.table("patients")
    assert t["converted"] == 2
    assert t["flags"] == {"unknown_code": 1}
    flags = {r["source_ref"]: r["flags"] for r in c.ledger_records() if r["source_table"] == "patients"}
    assert flags == {"patients.csv#row=2": "unknown_code", "patients.csv#row=3": None}
    assert_sound(c)


LATIN1_CONDITIONS = lines(
    CONDITIONS_HEADER, condition_row("p1", description="Bl\u00f8dning"), condition_row("p2")
).encode("latin-1")


def test_wrong_encoding_is_rejected_with_the_original_bytes(tmp_path: Path) -> None:
    c = convert(tmp_path, {"patients.csv": TWO_PATIENTS, "conditions.csv": LATIN1_CONDITIONS})
    [reject] = c.rejects()
    assert reject["reason_code"] == "encoding_error"
    assert reject["source_ref"] == "conditions.csv#row=2"
    assert reject["field"] == "DESCRIPTION"
    original = LATIN1_CONDITIONS.split(b"\n")[1]
    assert b"\xf8" in original
    assert base64.b64decode(reject["raw_base64"]) == original
    assert c.table("conditions")["reasons"] == {"encoding_error": 1}
    assert c.table("conditions")["converted"] == 1
    assert_sound(c)


def test_declared_encoding_reads_the_same_file(tmp_path: Path) -> None:
    c = convert(tmp_path, {"patients.csv": TWO_PATIENTS, "conditions.csv": LATIN1_CONDITIONS}, encoding="latin-1")
    assert c.rejects() == []
    displays = {r["patient_id"]: r["diagnosis_display"] for r in c.canonical("diagnosis")}
    assert displays == {"p1": "Bl\u00f8dning", "p2": "Headache"}
    csv_twin = (c.archive / "data" / "tables" / "diagnosis.csv").read_bytes()
    assert "Bl\u00f8dning".encode() in csv_twin  # UTF-8 in the archival copy
    assert_sound(c)


def test_wrong_encoding_keeps_original_bytes_of_a_quoted_record(tmp_path: Path) -> None:
    row = '"2020-01-01","","p1","enc-1","25064002","Bl\u00f8dning"'
    data = lines(CONDITIONS_HEADER, row).encode("latin-1")
    c = convert(tmp_path, {"patients.csv": TWO_PATIENTS, "conditions.csv": data})
    [reject] = c.rejects()
    assert reject["reason_code"] == "encoding_error"
    assert base64.b64decode(reject["raw_base64"]) == row.encode("latin-1")


def test_malformed_row_with_invalid_utf8_is_rejected_not_fatal(tmp_path: Path) -> None:
    patients = TWO_PATIENTS.encode() + b"p9,Bl\xf8dning\n" + patient_row("p3").encode() + b"\n"
    c = convert(tmp_path, {"patients.csv": patients})
    [reject] = c.rejects()
    assert reject["reason_code"] in ("malformed_row", "encoding_error")
    assert reject["row_number"] == 4
    assert_sound(c)


def test_empty_table_gives_no_rows_and_a_flag(tmp_path: Path) -> None:
    c = convert(tmp_path, {"patients.csv": TWO_PATIENTS, "conditions.csv": CONDITIONS_HEADER + "\n"})
    t = c.table("conditions")
    assert (t["source_rows"], t["converted"], t["preserved"], t["rejected"], t["excluded"]) == (0, 0, 0, 0, 0)
    assert "empty_table" in t["flags"]
    assert "missing_table" not in t["flags"]
    assert "diagnosis" not in c.result.tables
    assert not (c.archive / "data" / "tables" / "diagnosis.parquet").exists()
    assert any(n["table"] == "conditions" and n["flag"] == "empty_table" for n in c.result.notes)
    assert_sound(c)


def test_missing_tables_are_flagged(tmp_path: Path) -> None:
    encounters = lines(
        ENCOUNTERS_HEADER,
        "enc-1,2020-01-01T10:00:00Z,2020-01-01T10:30:00Z,p1,org-1,prov-1,pay-1,ambulatory,185345009,"
        "Encounter for symptom,77.49,100.00,0.00,,",
    )
    c = convert(tmp_path, {"patients.csv": TWO_PATIENTS, "encounters.csv": encounters})
    assert len(c.summary["tables"]) == SYNTHEA_TABLES
    missing = {t["source_table"] for t in c.summary["tables"] if "missing_table" in t["flags"]}
    assert len(missing) == SYNTHEA_TABLES - 2
    assert {"conditions", "observations", "claims"} <= missing
    assert not {"patients", "encounters"} & missing
    t = c.table("conditions")
    assert t["source_rows"] == 0 and t["flags"]["missing_table"] == 1
    assert c.result.tables == {"patient": 2, "encounter": 1}
    assert any(n["table"] == "conditions" and n["flag"] == "missing_table" for n in c.result.notes)
    assert_sound(c)


def test_duplicate_patient_id_is_rejected(tmp_path: Path) -> None:
    patients = TWO_PATIENTS + patient_row("p1", first="Impostor") + "\n"
    c = convert(tmp_path, {"patients.csv": patients})
    [reject] = c.rejects()
    assert reject["reason_code"] == "duplicate_key"
    assert reject["row_number"] == 4
    assert reject["field"] == "Id"
    assert json.loads(reject["raw_record"])["FIRST"] == "Impostor"
    kept = {r["patient_id"]: r["given_name"] for r in c.canonical("patient", ["patient_id", "given_name"])}
    assert kept == {"p1": "Ada", "p2": "Ada"}
    assert c.table("patients")["reasons"] == {"duplicate_key": 1}
    assert_sound(c)


# --- problems that stop a run: clear errors, nothing left behind -----------------------------


def assert_nothing_left(parent: Path, keep: frozenset[str] = frozenset()) -> None:
    """Nothing but ``keep`` in parent: no package, no hidden .NAME.partial-* staging folder."""
    leftovers = {p.name for p in parent.iterdir()} - keep
    assert leftovers == set(), leftovers


def test_missing_source_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SourceError) as info:
        run_conversion(ConversionOptions(system="synthea-csv", source=tmp_path / "nope", archive=out / "a"))
    assert info.value.exit_code == 2
    assert "does not exist" in info.value.message
    assert_nothing_left(out)


def test_source_that_is_a_file(tmp_path: Path) -> None:
    source = tmp_path / "patients.csv"
    source.write_text(TWO_PATIENTS, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(SourceError) as info:
        run_conversion(ConversionOptions(system="synthea-csv", source=source, archive=out / "a"))
    assert info.value.exit_code == 2
    assert "not a folder" in info.value.message
    assert_nothing_left(out)


def test_existing_archive_is_never_touched(tmp_path: Path) -> None:
    source = make_source(tmp_path, {"patients.csv": TWO_PATIENTS})
    out = tmp_path / "out"
    archive = out / "archive"
    archive.mkdir(parents=True)
    (archive / "precious.txt").write_text("keep me\n", encoding="utf-8")
    with pytest.raises(OutputExistsError) as info:
        run_conversion(ConversionOptions(system="synthea-csv", source=source, archive=archive))
    assert info.value.exit_code == 7
    assert "already exists" in info.value.message
    assert [p.name for p in archive.iterdir()] == ["precious.txt"]
    assert (archive / "precious.txt").read_text(encoding="utf-8") == "keep me\n"
    assert_nothing_left(out, frozenset({"archive"}))


BAD_MAPPING = """\
mapping_version: 1
system: synthea-csv
title: a mapping with two mistakes
source: {format: csv, encoding: utf-8, delimiter: ",", timezone: UTC, patient_table: patients}
tables:
  patients:
    file: patients.csv
    patient: Id
    targets:
      - table: patient
        fields:
          patient_id: Id
          shoe_size: FIRST
  x:
    file: x.csv
    patient: PATIENT
    targets:
      - table: spaceship
        fields:
          anything: CODE
"""


def test_invalid_mapping_lists_every_problem_with_key_paths(tmp_path: Path) -> None:
    source = make_source(tmp_path, {"patients.csv": TWO_PATIENTS})
    mapping = tmp_path / "bad.yaml"
    mapping.write_text(BAD_MAPPING, encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(MappingFileError) as info:
        run_conversion(ConversionOptions(system="synthea-csv", source=source, archive=out / "a", mapping=mapping))
    err = info.value
    assert err.exit_code == 3
    assert len(err.errors) == 2, err.errors
    table_err = next(e for e in err.errors if e.startswith("tables.x.targets[0].table"))
    assert "spaceship" in table_err
    field_err = next(e for e in err.errors if e.startswith("tables.patients.targets[0].fields.shoe_size"))
    assert "shoe_size" in field_err
    assert str(mapping) in err.message
    assert "tables.x.targets[0].table" in str(err) and "fields.shoe_size" in str(err)
    assert_nothing_left(out)


def test_failure_mid_run_leaves_no_partial_package(tmp_path: Path) -> None:
    source = make_source(tmp_path, {"patients.csv": TWO_PATIENTS})
    out = tmp_path / "out"
    out.mkdir()

    def boom(layout: object, result: object) -> None:
        # the staging folder exists while the run is under way ...
        assert list(out.glob(".archive.partial-*"))
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError, match="disk on fire"):
        run_conversion(
            ConversionOptions(system="synthea-csv", source=source, archive=out / "archive"), finishers=[boom]
        )
    # ... and is gone afterwards, with no package in its place
    assert_nothing_left(out)


def test_errors_are_conversion_errors() -> None:
    for cls in (SourceError, MappingFileError, OutputExistsError):
        assert issubclass(cls, ConversionError)


def test_byte_undefined_in_a_single_byte_encoding_rejects_only_its_record(tmp_path: Path) -> None:
    # 0x81 has no character in cp1252; the record holding it is rejected, the rest convert.
    data = lines(CONDITIONS_HEADER, condition_row("p1", description="X"), condition_row("p2")).encode("cp1252")
    data = data.replace(b",X\n", b",B\x81d\n")
    c = convert(tmp_path, {"patients.csv": TWO_PATIENTS, "conditions.csv": data}, encoding="cp1252")
    [reject] = c.rejects()
    assert reject["reason_code"] == "encoding_error"
    assert reject["field"] == "DESCRIPTION"
    assert b"\x81" in base64.b64decode(reject["raw_base64"])
    assert c.table("conditions")["converted"] == 1
    assert_sound(c)


def test_source_hash_of_an_unreadable_record_is_the_hash_of_its_bytes(tmp_path: Path) -> None:
    c = convert(tmp_path, {"patients.csv": TWO_PATIENTS, "conditions.csv": LATIN1_CONDITIONS})
    [reject] = c.rejects()
    original = base64.b64decode(reject["raw_base64"])
    assert reject["source_hash"] == hashlib.sha256(original).hexdigest()


def test_a_stale_staging_folder_of_a_dead_run_is_removed(tmp_path: Path) -> None:
    import json as _json
    import socket
    import subprocess

    proc = subprocess.Popen(["true"])  # a process that has ended: its run is dead
    proc.wait()
    stale = tmp_path / ".archive.partial-old"
    stale.mkdir()
    (stale / "owner.json").write_text(_json.dumps({"pid": proc.pid, "host": socket.gethostname()}))
    foreign = tmp_path / ".archive.partial-foreign"  # no owner record: not ours, left alone
    foreign.mkdir()
    c = convert(tmp_path, {"patients.csv": TWO_PATIENTS})
    assert c.archive.is_dir()
    assert not stale.exists()
    assert foreign.exists()
