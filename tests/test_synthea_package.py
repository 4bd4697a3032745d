"""Acceptance tests for the Synthea CSV sample (../shared/data/synthea-csv, read in place).

Read-only checks share the session package ``synthea_package``; only the determinism test
converts again (twice, into two fresh folders). Expected numbers are computed independently of
the tool, with Python's csv module, from the source files themselves.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
from datetime import date
from pathlib import Path

import bagit
import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

from converters.pipeline import ConversionOptions, run_conversion
from formats.model import TABLES
from formats.package import open_package
from mappings import mapping_path
from reports.package_report import write_report
from reports.query import run_query
from validation import validate_archive

EXPECTED_PATIENTS = 27
EXPECTED_SOURCE_ROWS = 10_950
EXPECTED_FILES = 18
FATES = ("converted", "preserved", "rejected", "excluded")


def _records(path: Path) -> list[list[str]]:
    """All records of a CSV file (header included), parsed by the standard library."""
    with path.open(newline="", encoding="utf-8") as fh:
        return [row for row in csv.reader(fh) if row]


def _scalar(package: Path, sql: str) -> object:
    result = run_query(open_package(package), sql)
    assert result.num_rows == 1, sql
    return result.column(0)[0].as_py()


def _summary(package: Path) -> dict:
    return json.loads((package / "data" / "ledger" / "summary.json").read_text(encoding="utf-8"))


def _cli(*args: str):
    import convert

    return CliRunner().invoke(convert.cli, list(args), obj={})


# --- counts -------------------------------------------------------------------------------


def test_patient_count_via_library_query(synthea_package: Path) -> None:
    assert _scalar(synthea_package, "select count(*) from patient") == EXPECTED_PATIENTS
    assert _scalar(synthea_package, "select count(distinct patient_id) from patient") == EXPECTED_PATIENTS


def test_patient_count_matches_source_file(synthea_dir: Path) -> None:
    # the expectation itself, from the source: records minus the header
    assert len(_records(synthea_dir / "patients.csv")) - 1 == EXPECTED_PATIENTS


def test_patient_count_via_cli_query_csv(synthea_package: Path) -> None:
    result = _cli("query", str(synthea_package), "select count(*) as n from patient", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [["n"], [str(EXPECTED_PATIENTS)]]


# --- the ledger accounts for every source record ---------------------------------------------


@pytest.fixture(scope="module")
def source_row_counts(synthea_dir: Path) -> dict[str, int]:
    """Source table name (as the mapping names it) -> data records, counted with the csv module."""
    doc = yaml.safe_load(mapping_path("synthea-csv").read_text(encoding="utf-8"))
    table_of_file = {spec.get("file", f"{name}.csv"): name for name, spec in doc["tables"].items()}
    counts = {}
    for path in sorted(synthea_dir.glob("*.csv")):
        counts[table_of_file.get(path.name, path.stem)] = len(_records(path)) - 1
    return counts


def test_source_has_eighteen_tables_and_10950_rows(source_row_counts: dict[str, int]) -> None:
    assert len(source_row_counts) == EXPECTED_FILES
    assert sum(source_row_counts.values()) == EXPECTED_SOURCE_ROWS


def test_ledger_summary_matches_independent_row_counts(
    synthea_package: Path, source_row_counts: dict[str, int]
) -> None:
    summary = _summary(synthea_package)
    by_table = {t["source_table"]: t for t in summary["tables"]}
    assert set(by_table) == set(source_row_counts)
    for name, expected in source_row_counts.items():
        t = by_table[name]
        assert t["source_rows"] == expected, name
        assert sum(t[k] for k in FATES) == expected, name
        assert t["balanced"] is True, name
    assert summary["balanced"] is True
    assert summary["totals"]["source_rows"] == EXPECTED_SOURCE_ROWS
    assert sum(summary["totals"][k] for k in FATES) == EXPECTED_SOURCE_ROWS


def test_per_record_ledger_has_one_fate_per_source_record(
    synthea_package: Path, source_row_counts: dict[str, int]
) -> None:
    rows = run_query(
        open_package(synthea_package),
        "select source_table, count(*) as n, count(distinct row_number) as d, min(row_number) as lo, "
        "max(row_number) as hi from ledger group by source_table",
    ).to_pylist()
    got = {r["source_table"]: r for r in rows}
    assert {k for k, v in source_row_counts.items() if v} == set(got)
    for name, r in got.items():
        n = source_row_counts[name]
        # records 2..n+1 (the header is record 1), each exactly once
        assert (r["n"], r["d"], r["lo"], r["hi"]) == (n, n, 2, n + 1), name


# --- validity ------------------------------------------------------------------------------


def test_validate_archive_says_valid(synthea_package: Path) -> None:
    report = validate_archive(synthea_package)
    assert report.valid, [f.to_dict() for f in report.findings]
    assert {"fixity", "schema", "twins", "ledger", "references"} <= set(report.checks_run)
    assert report.stats["rows.patient"] == EXPECTED_PATIENTS


def test_bagit_python_validates_the_bag(synthea_package: Path) -> None:
    bag = bagit.Bag(str(synthea_package))
    bag.validate()  # raises BagValidationError on any problem
    assert bag.is_valid()
    assert "sha256" in bag.algorithms


# --- determinism ---------------------------------------------------------------------------


def test_two_conversions_give_identical_bytes(synthea_dir: Path, tmp_path: Path) -> None:
    first = tmp_path / "one" / "archive"
    second = tmp_path / "two" / "elsewhere"
    for target in (first, second):
        target.parent.mkdir()
        run_conversion(
            ConversionOptions(system="synthea-csv", source=synthea_dir, archive=target), finishers=[write_report]
        )
    manifest = (first / "manifest-sha256.txt").read_bytes()
    assert manifest == (second / "manifest-sha256.txt").read_bytes()
    tables = sorted(p.name for p in (first / "data" / "tables").glob("*.parquet"))
    assert tables
    assert tables == sorted(p.name for p in (second / "data" / "tables").glob("*.parquet"))
    for name in tables:
        a = (first / "data" / "tables" / name).read_bytes()
        b = (second / "data" / "tables" / name).read_bytes()
        assert a == b, name
    # and the manifest really covers them
    assert f"data/tables/{tables[0]}".encode() in manifest


# --- tampering is detected -----------------------------------------------------------------


def _delete(root: Path) -> str:
    rel = "data/tables/diagnosis.parquet"
    (root / rel).unlink()
    return rel


def _alter_csv_byte(root: Path) -> str:
    rel = "data/tables/patient.csv"
    path = root / rel
    data = bytearray(path.read_bytes())
    i = len(data) // 2
    data[i] = ord("Z") if data[i] != ord("Z") else ord("Y")
    path.write_bytes(bytes(data))
    return rel


def _append_readme(root: Path) -> str:
    rel = "data/README.txt"
    with (root / rel).open("a", encoding="utf-8") as fh:
        fh.write("one more line\n")
    return rel


@pytest.mark.parametrize("tamper", [_delete, _alter_csv_byte, _append_readme], ids=["delete", "byte", "append"])
def test_tampering_is_detected(synthea_package: Path, tmp_path: Path, tamper) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(synthea_package, copy)
    assert validate_archive(copy).valid  # the copy itself is fine
    rel = tamper(copy)
    report = validate_archive(copy)
    assert not report.valid
    named = [f for f in report.findings if rel == f.path or rel in f.message]
    assert named, [f.to_dict() for f in report.findings]
    assert any(f.severity.value in ("error", "fatal") for f in named)
    result = _cli("validate", str(copy), "--json")
    assert result.exit_code == 4, result.output
    assert json.loads(result.stdout)["valid"] is False


# --- lineage, keys, order ------------------------------------------------------------------


def test_every_canonical_table_has_full_lineage_and_unique_ids(synthea_package: Path) -> None:
    layout = open_package(synthea_package)
    tables = layout.canonical_tables()
    assert "patient" in tables and "diagnosis" in tables and len(tables) >= 10
    for name in tables:
        row = run_query(
            layout,
            f"select count(*) as n, count(source_system) as sys, count(source_ref) as ref, "
            f"count(source_hash) as h, count(run_id) as run, count(distinct record_id) as ids, "
            f"count(distinct run_id) as runs from {name}",
        ).to_pylist()[0]
        n = row["n"]
        assert n > 0, name
        assert (row["sys"], row["ref"], row["h"], row["run"], row["ids"]) == (n, n, n, n, n), name
        assert row["runs"] == 1, name
    systems = run_query(layout, "select distinct source_system from patient").column(0).to_pylist()
    assert systems == ["synthea-csv"]


def test_parquet_rows_are_sorted(synthea_package: Path) -> None:
    layout = open_package(synthea_package)
    for name in layout.canonical_tables():
        spec = TABLES[name]
        table = pq.read_table(layout.table(name), columns=list(spec.sort_keys))
        keys = list(zip(*(table.column(k).to_pylist() for k in spec.sort_keys), strict=True))
        assert keys == sorted(keys), name
        if spec.patient_scoped:
            assert spec.sort_keys[0] == "patient_id"
            ids = table.column("patient_id").to_pylist()
            assert None not in ids and ids == sorted(ids), name


def test_patient_csv_twin_has_27_rows_and_crlf(synthea_package: Path) -> None:
    data = (synthea_package / "data" / "tables" / "patient.csv").read_bytes()
    assert data.endswith(b"\r\n")
    assert data.count(b"\n") == data.count(b"\r\n")  # no bare LF
    assert data.count(b"\r") == data.count(b"\r\n")  # no bare CR
    records = list(csv.reader(io.StringIO(data.decode("utf-8"), newline="")))
    assert records[0][:2] == ["record_id", "patient_id"]
    assert len(records) - 1 == EXPECTED_PATIENTS


# --- code systems --------------------------------------------------------------------------

SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"


@pytest.mark.parametrize(
    ("table", "column", "expected"),
    [
        ("diagnosis", "diagnosis_system", {SNOMED}),
        ("lab_result", "analysis_system", {LOINC}),
        ("measurement", "measurement_type_system", {LOINC}),
        ("medication", "drug_system", {RXNORM}),
        ("immunization", "vaccine_system", {CVX}),
        ("patient", "sex_system", {"http://hl7.org/fhir/administrative-gender"}),
        ("patient", "identifier_system", {"http://hl7.org/fhir/sid/us-ssn"}),
    ],
)
def test_code_system_uris(synthea_package: Path, table: str, column: str, expected: set[str]) -> None:
    layout = open_package(synthea_package)
    found = run_query(layout, f"select distinct {column} from {table}").column(0).to_pylist()
    assert set(found) == expected
    assert _scalar(synthea_package, f"select count(*) from {table} where {column} is null") == 0


def test_lab_and_measurement_split_observations(synthea_dir: Path, synthea_package: Path) -> None:
    records = _records(synthea_dir / "observations.csv")
    category = records[0].index("CATEGORY")
    labs = sum(1 for r in records[1:] if r[category] == "laboratory")
    assert _scalar(synthea_package, "select count(*) from lab_result") == labs
    assert _scalar(synthea_package, "select count(*) from measurement") == len(records) - 1 - labs


# --- round trip ----------------------------------------------------------------------------


def test_round_trip_of_conditions_row_2(synthea_dir: Path, synthea_package: Path) -> None:
    records = _records(synthea_dir / "conditions.csv")
    header, first = records[0], records[1]  # record 1 is the header; record 2 the first data row
    src = dict(zip(header, first, strict=True))
    rows = run_query(
        open_package(synthea_package),
        "select patient_id, encounter_id, diagnosis_code, diagnosis_display, diagnosis_system, "
        "cast(onset_at as date) as onset, source_hash from diagnosis where source_ref = 'conditions.csv#row=2'",
    ).to_pylist()
    assert len(rows) == 1
    row = rows[0]
    assert row["diagnosis_code"] == src["CODE"]
    assert row["diagnosis_display"] == src["DESCRIPTION"]
    assert row["onset"] == date.fromisoformat(src["START"])
    assert row["patient_id"] == src["PATIENT"]
    assert row["encounter_id"] == src["ENCOUNTER"]
    assert row["diagnosis_system"] == SNOMED
    # source_hash as documented: SHA-256 of the field values in source order, joined by U+001F
    assert row["source_hash"] == hashlib.sha256("\x1f".join(first).encode("utf-8")).hexdigest()
