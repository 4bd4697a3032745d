"""The OMOP CDM mapping (mappings/omop.yaml) on OHDSI Eunomia "Synthea27Nj" (CDM 5.4 CSV, read in place).

The folder is converted once with ``--system csv --mapping mappings/omop.yaml``. Expected numbers
are computed independently of the tool, with Python's csv module, from the source files.
A second conversion runs on a CDM 5.3-shaped copy (made in a temporary folder) to hold the
mapping to its promise of reading only columns that both CDM versions have.
"""

from __future__ import annotations

import csv
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from converters.pipeline import ConversionOptions, ConversionResult, run_conversion
from formats.package import open_package
from mappings import mapping_path
from reports.query import run_query
from validation import validate_archive

EUNOMIA_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "eunomia-synthea27nj-omop"
OMOP_SYSTEM = "https://fhir-terminology.ohdsi.org"
FATES = ("converted", "preserved", "rejected", "excluded")

# source table -> canonical table it becomes, one row per source row (no rejects expected)
CONVERTED = {
    "person": "patient",
    "visit_occurrence": "encounter",
    "condition_occurrence": "diagnosis",
    "drug_exposure": "medication",
    "measurement": "lab_result",
    "observation": "measurement",
    "procedure_occurrence": "procedure",
    "provider": "practitioner",
    "care_site": "organisation",
    "note": "journal_note",
}

# CDM 5.4 columns that CDM 5.3 does not have, or has under another name (the visit admission/discharge
# columns); https://ohdsi.github.io/CommonDataModel/cdm54Changes.html. The 5.3-shaped copy drops them.
ONLY_IN_54 = {
    "VISIT_OCCURRENCE.csv": [
        "admitted_from_concept_id",
        "admitted_from_source_value",
        "discharged_to_concept_id",
        "discharged_to_source_value",
    ],
    "PROCEDURE_OCCURRENCE.csv": ["procedure_end_date", "procedure_end_datetime"],
    "DEVICE_EXPOSURE.csv": ["production_id", "unit_concept_id", "unit_source_value", "unit_source_concept_id"],
    "MEASUREMENT.csv": ["unit_source_concept_id", "measurement_event_id", "meas_event_field_concept_id"],
    "OBSERVATION.csv": ["value_source_value", "observation_event_id", "obs_event_field_concept_id"],
    "NOTE.csv": ["note_event_id", "note_event_field_concept_id"],
    "LOCATION.csv": ["country_concept_id", "country_source_value", "latitude", "longitude"],
    "CDM_SOURCE.csv": ["cdm_version_concept_id"],
}
TABLES_ONLY_IN_54 = ("EPISODE.csv", "EPISODE_EVENT.csv")


def _records(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _scalar(package: Path, sql: str) -> object:
    result = run_query(open_package(package), sql)
    assert result.num_rows == 1, sql
    return result.column(0)[0].as_py()


def _rows(package: Path, sql: str) -> list[dict[str, object]]:
    return run_query(open_package(package), sql).to_pylist()


def _summary(package: Path) -> dict:
    return json.loads((package / "data" / "ledger" / "summary.json").read_text(encoding="utf-8"))


def _convert(source: Path, archive: Path) -> ConversionResult:
    return run_conversion(ConversionOptions(system="csv", source=source, archive=archive, mapping=mapping_path("omop")))


@pytest.fixture(scope="module")
def eunomia_dir() -> Path:
    if not (EUNOMIA_DIR / "PERSON.csv").is_file():
        pytest.skip("../shared/data/eunomia-synthea27nj-omop is not available")
    return EUNOMIA_DIR


@pytest.fixture(scope="module")
def converted(eunomia_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, ConversionResult]]:
    archive = tmp_path_factory.mktemp("omop") / "archive"
    yield archive, _convert(eunomia_dir, archive)


@pytest.fixture(scope="module")
def package(converted: tuple[Path, ConversionResult]) -> Path:
    return converted[0]


@pytest.fixture(scope="module")
def table_of_file() -> dict[str, str]:
    doc = yaml.safe_load(mapping_path("omop").read_text(encoding="utf-8"))
    return {spec["file"]: name for name, spec in doc["tables"].items()}


@pytest.fixture(scope="module")
def concept_names(eunomia_dir: Path) -> dict[str, str]:
    names: dict[str, str] = {}
    for row in _records(eunomia_dir / "CONCEPT.csv"):
        names.setdefault(row["concept_id"], row["concept_name"])
    return names


# --- coverage of the source ---------------------------------------------------------------------


def test_every_file_of_the_folder_is_named_by_the_mapping(eunomia_dir: Path, table_of_file: dict[str, str]) -> None:
    files = {p.name for p in eunomia_dir.glob("*.csv")}
    assert files == set(table_of_file)
    assert all(name == file.removesuffix(".csv").lower() for file, name in table_of_file.items())


def test_patient_count(package: Path, eunomia_dir: Path) -> None:
    assert len(_records(eunomia_dir / "PERSON.csv")) == 28
    assert _scalar(package, "select count(*) from patient") == 28
    assert _scalar(package, "select count(distinct patient_id) from patient") == 28


def test_ledger_balances_for_every_source_table(
    package: Path, eunomia_dir: Path, table_of_file: dict[str, str]
) -> None:
    summary = _summary(package)
    by_table = {t["source_table"]: t for t in summary["tables"]}
    expected = {table_of_file[p.name]: len(_records(p)) for p in eunomia_dir.glob("*.csv")}
    assert set(by_table) == set(expected)
    for name, rows in expected.items():
        t = by_table[name]
        assert t["source_rows"] == rows, name
        assert sum(t[k] for k in FATES) == rows, name
        assert t["balanced"] is True, name
        # nothing is rejected: every clinical row has its required values and a known person
        assert t["rejected"] == 0, (name, t["reasons"])
        assert t["excluded"] == 0, name
        assert t["converted"] == (rows if name in CONVERTED else 0), name
        assert t["preserved"] == (0 if name in CONVERTED else rows), name
    assert summary["balanced"] is True
    assert summary["totals"]["source_rows"] == sum(expected.values())


def test_only_expected_flags(converted: tuple[Path, ConversionResult]) -> None:
    package, result = converted
    flags = {t["source_table"]: t["flags"] for t in _summary(package)["tables"] if t["flags"]}
    # the CONCEPT extract of Eunomia lacks the specialty concepts: the provider speciality has no display
    assert flags.pop("provider") == {"unknown_code": 67}
    assert all(f == {"empty_table": 1} for f in flags.values()), flags
    assert {n["flag"] for n in result.notes} == {"empty_table"}


def test_canonical_row_counts(converted: tuple[Path, ConversionResult], eunomia_dir: Path) -> None:
    _, result = converted
    expected = Counter[str]()
    for source, canonical in CONVERTED.items():
        n = len(_records(eunomia_dir / f"{source.upper()}.csv"))
        if n:
            expected[canonical] += n
    assert result.tables == dict(expected)
    assert result.tables["diagnosis"] == 470


def test_validate_archive_says_valid(package: Path) -> None:
    report = validate_archive(package)
    assert report.valid, [f.to_dict() for f in report.findings]
    assert {"fixity", "schema", "twins", "ledger", "references"} <= set(report.checks_run)


# --- values ------------------------------------------------------------------------------------


def test_diagnoses_carry_concept_id_name_and_source_code(
    package: Path, eunomia_dir: Path, concept_names: dict[str, str]
) -> None:
    source = Counter(
        (r["condition_concept_id"], concept_names[r["condition_concept_id"]], r["condition_source_value"])
        for r in _records(eunomia_dir / "CONDITION_OCCURRENCE.csv")
    )
    got = _rows(
        package,
        "select diagnosis_system as s, diagnosis_code as c, diagnosis_display as d, diagnosis_original_text as o "
        "from diagnosis",
    )
    assert {r["s"] for r in got} == {OMOP_SYSTEM}
    assert all(r["d"] for r in got)
    assert Counter((r["c"], r["d"], r["o"]) for r in got) == source


def test_condition_row_1_round_trip(package: Path) -> None:
    # CONDITION_OCCURRENCE.csv record 2: 1,1,372328,2002-10-15,2002-10-15 00:00:00,2003-03-20,... visit 1
    (row,) = _rows(package, "select * from diagnosis where source_ref = 'CONDITION_OCCURRENCE.csv#row=2'")
    assert row["patient_id"] == "1"
    assert row["encounter_id"] == "1"
    assert (row["diagnosis_code"], row["diagnosis_display"], row["diagnosis_original_text"]) == (
        "372328",
        "Otitis media",
        "65363002",
    )
    assert row["onset_at"] == datetime(2002, 10, 15, tzinfo=UTC)
    assert row["resolved_at"] == datetime(2003, 3, 20, tzinfo=UTC)


def test_every_display_is_filled_from_concept(package: Path) -> None:
    for table, coded in [
        ("encounter", "encounter_class"),
        ("medication", "drug"),
        ("lab_result", "analysis"),
        ("measurement", "measurement_type"),
        ("procedure", "procedure"),
    ]:
        missing = _scalar(package, f"select count(*) from {table} where {coded}_display is null")
        assert missing == 0, table
    classes = _rows(package, "select distinct encounter_class_display as d from encounter order by 1")
    assert [r["d"] for r in classes] == ["Emergency Room Visit", "Inpatient Visit", "Outpatient Visit"]


def test_patients(package: Path, eunomia_dir: Path) -> None:
    rows = {r["patient_id"]: r for r in _rows(package, "select * from patient")}
    for src in _records(eunomia_dir / "PERSON.csv"):
        row = rows[src["person_id"]]
        born = date(int(src["year_of_birth"]), int(src["month_of_birth"]), int(src["day_of_birth"]))
        assert row["birth_date"] == born
        assert row["sex_code"] == {"M": "male", "F": "female"}[src["gender_source_value"]]
        assert row["sex_original_text"] == src["gender_source_value"]
        assert (row["identifier_value"], row["identifier_type"]) == (src["person_source_value"], "LOCAL")


def test_measurements_and_observations(package: Path, eunomia_dir: Path) -> None:
    numbers = sum(1 for r in _records(eunomia_dir / "MEASUREMENT.csv") if r["value_as_number"])
    assert _scalar(package, "select count(value_numeric) from lab_result") == numbers
    # body weight of person 1, MEASUREMENT.csv record 2: 48.1 kg, LOINC 29463-7
    (row,) = _rows(package, "select * from lab_result where source_ref = 'MEASUREMENT.csv#row=2'")
    assert (row["value_numeric"], row["value_text"], row["value_unit"]) == (48.1, "48.1", "kg")
    assert (row["analysis_original_text"], row["analysis_display"]) == ("29463-7", "Body weight")
    categories = _rows(package, "select distinct category from measurement")
    assert categories == [{"category": "observation"}]


def test_death_is_kept_raw(package: Path) -> None:
    death = pq.read_table(package / "data" / "raw" / "death.parquet")
    assert death.num_rows == 3
    assert sorted(death.column("death_date").to_pylist()) == ["2001-07-13", "2009-09-14", "2019-05-28"]


# --- a CDM 5.3-shaped source (e.g. MIMIC-IV demo) -----------------------------------------------


def _write_without(src: Path, dst: Path, drop: list[str], blank: list[str]) -> None:
    with src.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        fields = [f for f in (reader.fieldnames or []) if f not in drop]
        rows = list(reader)
    with dst.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fields, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, **dict.fromkeys(blank, "")})


def test_a_cdm_53_source_with_year_of_birth_only_converts(eunomia_dir: Path, package: Path, tmp_path: Path) -> None:
    src = tmp_path / "cdm53"
    src.mkdir()
    for path in sorted(eunomia_dir.glob("*.csv")):
        if path.name in TABLES_ONLY_IN_54:
            continue
        # privacy-shifted sources (MIMIC) keep the year of birth alone
        blank = ["month_of_birth", "day_of_birth", "birth_datetime"] if path.name == "PERSON.csv" else []
        _write_without(path, src / path.name, ONLY_IN_54.get(path.name, []), blank)
    archive = tmp_path / "a"
    result = _convert(src, archive)
    flags = {n["flag"] for n in result.notes}
    assert "mapping_mismatch" not in flags, result.notes
    assert {n["table"] for n in result.notes if n["flag"] == "missing_table"} == {"episode", "episode_event"}
    assert result.ledger.totals()["rejected"] == 0
    assert result.tables == _summary(package)["categories"]
    assert _scalar(archive, "select count(birth_date) from patient") == 0
    # the year of birth is not lost: year_of_birth is not consumed, so it is kept in raw/person
    raw = pq.read_table(archive / "data" / "raw" / "person.parquet")
    assert raw.num_rows == 28
    assert all(raw.column("year_of_birth").to_pylist())
    assert validate_archive(archive).valid
