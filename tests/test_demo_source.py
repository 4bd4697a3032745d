"""The synthetic Synthea-layout demo source: layout, determinism, integrity and identifiers."""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import pytest

from converters.demo_source import SYNTHEA_HEADERS, write_demo_source

SYNTHEA_SAMPLE = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "synthea-csv"
FILES = {f"{name}.csv" for name in SYNTHEA_HEADERS}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")
LAST_DAY = "2026-01-01"


def read_table(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def read_header(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle))


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    directory = tmp_path_factory.mktemp("demo") / "source"
    return directory, write_demo_source(directory)


@pytest.fixture(scope="module")
def tables(demo: tuple[Path, dict[str, int]]) -> dict[str, list[dict[str, str]]]:
    directory, _ = demo
    return {path.stem: read_table(path) for path in sorted(directory.glob("*.csv"))}


def test_headers_equal_the_real_synthea_headers(demo: tuple[Path, dict[str, int]]) -> None:
    if not (SYNTHEA_SAMPLE / "patients.csv").is_file():
        pytest.skip("../shared/data/synthea-csv is not available")
    directory, _ = demo
    assert {p.name for p in SYNTHEA_SAMPLE.glob("*.csv")} == FILES
    for name in sorted(FILES):
        assert read_header(directory / name) == read_header(SYNTHEA_SAMPLE / name), name


def test_writes_the_18_files_and_reports_their_rows(demo: tuple[Path, dict[str, int]]) -> None:
    directory, counts = demo
    assert len(FILES) == 18
    assert {p.name for p in directory.iterdir()} == FILES == set(counts)
    for name, rows in counts.items():
        assert read_header(directory / name) == list(SYNTHEA_HEADERS[name.removesuffix(".csv")])
        assert len(read_table(directory / name)) == rows, name
    assert counts["patients.csv"] == 200
    assert 20_000 <= sum(counts.values()) <= 40_000


def test_files_are_utf8_lf_and_rfc4180_quoted(demo: tuple[Path, dict[str, int]]) -> None:
    directory, _ = demo
    quoted = 0
    for name in FILES:
        data = (directory / name).read_bytes()
        text = data.decode("utf-8")
        assert not text.startswith("\ufeff") and "\r" not in text and text.endswith("\n"), name
        quoted += text.count('"')
    assert quoted, "some descriptions contain commas and must be quoted"
    conditions = read_table(directory / "conditions.csv")
    assert any("," in row["DESCRIPTION"] for row in conditions)


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    first = write_demo_source(tmp_path / "a", patients=25, seed=7)
    second = write_demo_source(tmp_path / "b", patients=25, seed=7)
    assert first == second
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    write_demo_source(tmp_path / "c", patients=25, seed=8)
    assert (tmp_path / "a" / "patients.csv").read_bytes() != (tmp_path / "c" / "patients.csv").read_bytes()


def test_every_reference_resolves(tables: dict[str, list[dict[str, str]]]) -> None:
    ids = {
        "patient": {row["Id"] for row in tables["patients"]},
        "encounter": {row["Id"] for row in tables["encounters"]},
        "organization": {row["Id"] for row in tables["organizations"]},
        "provider": {row["Id"] for row in tables["providers"]},
        "payer": {row["Id"] for row in tables["payers"]},
        "claim": {row["Id"] for row in tables["claims"]},
    }
    references = {
        "PATIENT": "patient",
        "PATIENTID": "patient",
        "PATIENTINSURANCEID": "patient",
        "ENCOUNTER": "encounter",
        "APPOINTMENTID": "encounter",
        "ORGANIZATION": "organization",
        "PLACEOFSERVICE": "organization",
        "PROVIDER": "provider",
        "PROVIDERID": "provider",
        "SUPERVISINGPROVIDERID": "provider",
        "REFERRINGPROVIDERID": "provider",
        "PAYER": "payer",
        "SECONDARY_PAYER": "payer",
        "PRIMARYPATIENTINSURANCEID": "payer",
        "CLAIMID": "claim",
    }
    checked = Counter[str]()
    for name, rows in tables.items():
        for column in set(SYNTHEA_HEADERS[name]) & set(references):
            for row in rows:
                if row[column]:
                    assert row[column] in ids[references[column]], (name, column, row[column])
                    checked[column] += 1
    assert {"PATIENT", "ENCOUNTER", "ORGANIZATION", "PROVIDER", "PAYER", "CLAIMID"} <= set(checked)
    for kind in ("patient", "encounter", "organization", "provider", "payer", "claim"):
        assert all(UUID.match(value) for value in ids[kind]), kind
    # A clinical row's encounter belongs to the same patient.
    owner = {row["Id"]: row["PATIENT"] for row in tables["encounters"]}
    for name, rows in tables.items():
        if {"PATIENT", "ENCOUNTER"} <= set(SYNTHEA_HEADERS[name]):
            assert all(owner[row["ENCOUNTER"]] == row["PATIENT"] for row in rows), name


def test_one_claim_per_encounter(tables: dict[str, list[dict[str, str]]]) -> None:
    appointments = Counter(row["APPOINTMENTID"] for row in tables["claims"])
    assert set(appointments) == {row["Id"] for row in tables["encounters"]}
    assert set(appointments.values()) == {1}
    charged = {row["CLAIMID"] for row in tables["claims_transactions"] if row["TYPE"] == "CHARGE"}
    assert charged == {row["Id"] for row in tables["claims"]}


def test_dates_respect_birth_death_and_the_end_of_2025(tables: dict[str, list[dict[str, str]]]) -> None:
    born = {row["Id"]: row["BIRTHDATE"] for row in tables["patients"]}
    last = {row["Id"]: min(row["DEATHDATE"] or LAST_DAY, LAST_DAY) for row in tables["patients"]}
    deceased = [row for row in tables["patients"] if row["DEATHDATE"]]
    assert 1 <= len(deceased) <= 30
    assert all(DATE.match(row["BIRTHDATE"]) and row["BIRTHDATE"] < row["DEATHDATE"] for row in deceased)
    dated = ("START", "STOP", "DATE", "SERVICEDATE", "FROMDATE", "TODATE", "START_YEAR", "END_YEAR")
    for name, rows in tables.items():
        who = "PATIENT" if "PATIENT" in SYNTHEA_HEADERS[name] else "PATIENTID"
        columns = [c for c in dated if c in SYNTHEA_HEADERS[name]]
        if who not in SYNTHEA_HEADERS[name] or not columns:
            continue
        for row in rows:
            for column in columns:
                value = row[column]
                if value:
                    assert DATE.match(value) or TIMESTAMP.match(value), (name, column, value)
                    assert born[row[who]] <= value[:10] <= last[row[who]], (name, column, value)
    for row in tables["encounters"]:
        assert row["START"] < row["STOP"]
    for row in tables["conditions"]:
        assert born[row["PATIENT"]] <= row["START"] and (not row["STOP"] or row["START"] <= row["STOP"])


def check_digits(first_nine: str) -> tuple[int, int] | None:
    digits = [int(c) for c in first_nine]
    k1 = 11 - sum(w * d for w, d in zip((3, 7, 6, 1, 8, 9, 4, 5, 2), digits, strict=True)) % 11
    k1 = 0 if k1 == 11 else k1
    k2 = 11 - sum(w * d for w, d in zip((5, 4, 3, 2, 7, 6, 5, 4, 3, 2), [*digits, k1], strict=True)) % 11
    k2 = 0 if k2 == 11 else k2
    return None if 10 in (k1, k2) else (k1, k2)


def test_ssn_is_a_valid_synthetic_fodselsnummer(tables: dict[str, list[dict[str, str]]]) -> None:
    numbers = [row["SSN"] for row in tables["patients"]]
    assert len(set(numbers)) == len(numbers)
    for row in tables["patients"]:
        ssn, birth = row["SSN"], row["BIRTHDATE"]
        assert re.fullmatch(r"\d{11}", ssn), ssn
        assert check_digits(ssn[:9]) == (int(ssn[9]), int(ssn[10])), ssn
        # DDMMYY with 80 added to the month (synthetic numbers can never be real ones).
        assert (ssn[0:2], int(ssn[2:4]) - 80, ssn[4:6]) == (birth[8:10], int(birth[5:7]), birth[2:4])
        serial = int(ssn[6:9])
        assert serial >= 500 if birth >= "2000" else serial <= 499
        assert (serial % 2 == 0) == (row["GENDER"] == "F")


def test_check_digits_agree_with_python_stdnum(tables: dict[str, list[dict[str, str]]]) -> None:
    fnr = pytest.importorskip("stdnum.no.fodselsnummer")
    for row in tables["patients"]:
        ssn = row["SSN"]
        assert fnr.calc_check_digit1(ssn) + fnr.calc_check_digit2(ssn) == ssn[9:], ssn


def test_names_are_norwegian(tables: dict[str, list[dict[str, str]]]) -> None:
    names = " ".join(f"{row['FIRST']} {row['LAST']}" for row in tables["patients"])
    assert {"æ", "ø", "å"} <= set(names.lower())
    assert not re.search(r"\d", names)
    assert {row["GENDER"] for row in tables["patients"]} == {"F", "M"}


def test_clinical_content(tables: dict[str, list[dict[str, str]]]) -> None:
    visits = Counter(row["PATIENT"] for row in tables["encounters"])
    assert set(visits) == {row["Id"] for row in tables["patients"]}
    assert min(visits.values()) >= 5 and max(visits.values()) <= 20
    observations = tables["observations"]
    assert {"laboratory", "vital-signs", "survey"} <= {row["CATEGORY"] for row in observations}
    assert {row["TYPE"] for row in observations} == {"numeric", "text"}
    for row in observations:
        if row["TYPE"] == "numeric":
            float(row["VALUE"])
    for name in ("conditions", "medications", "procedures", "immunizations", "allergies", "careplans"):
        assert len(tables[name]) >= 20, name
    for name in ("devices", "supplies", "imaging_studies", "payer_transitions"):
        assert tables[name], name
    assert {row["ENCOUNTERCLASS"] for row in tables["encounters"]} >= {"wellness", "ambulatory", "emergency"}
    ongoing = Counter((row["PATIENT"], row["CODE"]) for row in tables["conditions"] if not row["STOP"])
    assert ongoing and set(ongoing.values()) == {1}, "a chronic condition is diagnosed once per patient"


def test_rows_scale_with_patients(tmp_path: Path) -> None:
    small = write_demo_source(tmp_path / "small", patients=20)
    large = write_demo_source(tmp_path / "large", patients=80)
    assert (small["patients.csv"], large["patients.csv"]) == (20, 80)
    for counts, patients in ((small, 20), (large, 80)):
        assert 5 * patients <= counts["encounters.csv"] == counts["claims.csv"] <= 20 * patients
    for name in ("organizations.csv", "providers.csv", "payers.csv"):
        assert small[name] == large[name]
    for name in ("encounters.csv", "observations.csv", "conditions.csv", "claims_transactions.csv"):
        assert 2 * small[name] < large[name] < 8 * small[name], name


def test_no_patients_and_bad_counts(tmp_path: Path) -> None:
    counts = write_demo_source(tmp_path / "nested" / "empty", patients=0)
    assert counts["patients.csv"] == counts["encounters.csv"] == 0
    assert counts["organizations.csv"] > 0
    with pytest.raises(ValueError, match="patients"):
        write_demo_source(tmp_path / "bad", patients=-1)
