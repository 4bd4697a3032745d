"""OpenMRS on a real MariaDB: the shipped mapping (mappings/openmrs.yaml) through the sql reader.

A throw-away MariaDB (tests/mariadb_server.py) is loaded with openmrs-core's schema dump and its
DBUnit test data set (../shared/data/openmrs-core-testdata, read in place), then converted with
``--system sql`` and the shipped mapping. Every count is checked against the database itself.

Voided rows are excluded by the mapping, so "every patient" means every patient with voided = 0.
The data set holds exactly one record that is rejected, for a documented reason: obs 77 belongs to
person 1 (the admin user), who is not a patient (dangling_reference).

Skips, with the reason, where MariaDB cannot be had or pymysql is missing; ``JK_REQUIRE_DB=1``
turns that into a failure.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from mariadb_server import MariaDbServer, db_required, load_openmrs, mariadb_server_fixture, quote_ident

from converters.pipeline import ConversionResult

REPO = Path(__file__).resolve().parent.parent
OPENMRS_DIR = REPO.parent / "shared" / "data" / "openmrs-core-testdata"
MAPPING = REPO / "mappings" / "openmrs.yaml"

if importlib.util.find_spec("pymysql") is None:
    if db_required():
        raise RuntimeError("JK_REQUIRE_DB is set, but pymysql is not installed: pip install pymysql")
    pytest.skip("pymysql is not installed (pip install pymysql)", allow_module_level=True)
if not (OPENMRS_DIR / "standardTestDataset.xml").is_file():
    pytest.skip("../shared/data/openmrs-core-testdata is not available", allow_module_level=True)

openmrs_db = mariadb_server_fixture(name="openmrs_db", openmrs=OPENMRS_DIR)

# tables whose rows belong to a patient, and the column naming the patient (as in the mapping)
PATIENT_COLUMNS = {
    "patient": "patient_id",
    "encounter": "patient_id",
    "obs": "person_id",
    "orders": "patient_id",
    "note": "patient_id",
    "encounter_diagnosis": "patient_id",
    "conditions": "patient_id",
    "allergy": "patient_id",
}
# the global properties the mapping excludes because they hold passwords
CREDENTIAL_PROPERTIES = ("mail.password", "scheduler.password")


@dataclass
class Converted:
    server: MariaDbServer
    result: ConversionResult
    archive: Path
    seconds: float


@pytest.fixture(scope="module")
def converted(openmrs_db: MariaDbServer, tmp_path_factory: pytest.TempPathFactory) -> Converted:
    from converters.pipeline import ConversionOptions, run_conversion

    archive = tmp_path_factory.mktemp("openmrs") / "a"
    started = time.monotonic()
    result = run_conversion(
        ConversionOptions(system="openmrs", source=openmrs_db.url, archive=archive, password=None)  # shipped mapping
    )
    seconds = time.monotonic() - started
    print(
        f"\nMariaDB start {openmrs_db.startup_seconds:.2f} s, OpenMRS load {openmrs_db.load_seconds:.2f} s, "
        f"conversion {seconds:.2f} s"
    )
    return Converted(openmrs_db, result, archive, seconds)


def _int(server: MariaDbServer, sql: str, database: str | None = None) -> int:
    return int(server.sql(sql, database=database))


def _columns(server: MariaDbServer, table: str, database: str | None = None) -> set[str]:
    db = database or server.database
    return set(
        server.sql(
            f"select column_name from information_schema.columns where table_schema = '{db}' and table_name = '{table}'"
        ).splitlines()
    )


def _predicted_rejects(server: MariaDbServer, database: str | None = None) -> dict[str, int]:
    """Not-voided rows of patient tables whose patient is not a not-voided patient: dangling_reference."""
    out = {}
    for table, column in PATIENT_COLUMNS.items():
        if table == "patient":
            continue
        voided = "t.voided = 0 and " if "voided" in _columns(server, table, database) else ""
        n = _int(
            server,
            f"select count(*) from {quote_ident(table)} t where {voided}t.{column} not in "
            "(select patient_id from patient where voided = 0)",
            database,
        )
        if n:
            out[table] = n
    return out


# --- counts ---------------------------------------------------------------------------------------------


def test_every_not_voided_patient_is_converted(converted: Converted) -> None:
    from formats.package import open_package
    from reports.query import run_query

    server, result = converted.server, converted.result
    in_db = _int(server, "select count(*) from patient where voided = 0")
    assert in_db == 4  # of 6: patients 999 and 432 are voided
    assert result.tables["patient"] == in_db
    rows = run_query(open_package(converted.archive), "select count(*) as n from patient").to_pylist()
    assert rows == [{"n": in_db}]
    tally = result.ledger.tables["patient"]
    assert tally.excluded == _int(server, "select count(*) from patient where voided = 1") == 2
    assert tally.rejected == 0


def test_the_ledger_accounts_for_every_row_of_every_table(converted: Converted) -> None:
    server, ledger = converted.server, converted.result.ledger
    counts = server.table_counts()
    assert set(ledger.tables) == set(counts)
    for table, n in counts.items():
        tally = ledger.tables[table]
        assert tally.source_rows == n, table
        assert tally.balanced, tally.to_dict()
    assert ledger.gaps() == []


def test_every_table_is_named_and_every_column_the_mapping_reads_exists(converted: Converted) -> None:
    flags = {flag for tally in converted.result.ledger.tables.values() for flag in tally.flags}
    notes = {note["flag"] for note in converted.result.notes}
    problems = {"unmapped_table", "missing_table", "mapping_mismatch", "missing_lookup"}
    assert not (flags | notes) & problems, [n for n in converted.result.notes if n["flag"] in problems]


def test_exactly_the_voided_rows_and_the_stored_passwords_are_excluded(converted: Converted) -> None:
    server, ledger = converted.server, converted.result.ledger
    with_voided = server.sql(
        "select table_name from information_schema.columns"
        f" where table_schema = '{server.database}' and column_name = 'voided'"
    ).splitlines()
    assert len(with_voided) > 30
    voided = server.sql(
        " union all ".join(f"select '{t}', count(*) from {quote_ident(t)} where voided = 1" for t in with_voided)
    )
    expected = {t: int(n) for t, n in (line.split("\t") for line in voided.splitlines())}
    expected["global_property"] = len(CREDENTIAL_PROPERTIES)
    assert sum(expected.values()) == 12
    for table, tally in ledger.tables.items():
        assert tally.excluded == expected.get(table, 0), table
        assert set(tally.reasons) <= {"excluded_by_mapping", "dangling_reference"}, table


def test_the_only_rejects_are_records_of_persons_who_are_not_patients(converted: Converted) -> None:
    server, ledger, archive = converted.server, converted.result.ledger, converted.archive
    predicted = _predicted_rejects(server)
    assert predicted == {"obs": 1}  # obs 77 of person 1, the admin user
    rejected = {t: tally.rejected for t, tally in ledger.tables.items() if tally.rejected}
    assert rejected == predicted
    for tally in ledger.tables.values():
        assert set(tally.reasons) - {"excluded_by_mapping"} <= {"dangling_reference"}
    import pyarrow.parquet as pq

    rejects = pq.read_table(next((archive / "data" / "rejects").glob("*.parquet"))).to_pylist()
    assert [(r["source_table"], r["reason_code"], json.loads(r["raw_record"])["obs_id"]) for r in rejects] == [
        ("obs", "dangling_reference", "77")
    ]


def test_the_package_is_valid(converted: Converted) -> None:
    from validation import validate_archive

    report = validate_archive(converted.archive)
    assert report.valid, [f"{f.check}: {f.message}" for f in report.findings]


def test_the_database_password_and_the_credentials_are_in_no_file(converted: Converted) -> None:
    server, archive = converted.server, converted.archive
    secrets = [server.password]
    secrets += server.sql("select password from users where password is not null and password <> ''").splitlines()
    secrets += server.sql("select salt from users where salt is not null and salt <> ''").splitlines()
    assert len(secrets) >= 5
    files = [p for p in archive.rglob("*") if p.is_file()]
    assert len(files) > 100
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret[:6]}... in {path.relative_to(archive)}"
    with (archive / "data" / "raw" / "users.csv").open(encoding="utf-8", newline="") as fh:
        users = next(csv.reader(fh))
    assert "username" in users and not {"password", "salt", "secret_answer", "activation_key"} & set(users)


def test_the_run_is_quick(converted: Converted) -> None:
    total = converted.server.startup_seconds + converted.server.load_seconds + converted.seconds
    assert total < 60, f"start + load + conversion took {total:.1f} s"


# --- content --------------------------------------------------------------------------------------------


def _rows(archive: Path, sql: str) -> list[dict[str, object]]:
    from formats.package import open_package
    from reports.query import run_query

    return run_query(open_package(archive), sql).to_pylist()


def test_patient_demographics_are_joined_from_the_person_tables(converted: Converted) -> None:
    rows = _rows(
        converted.archive,
        "select patient_id, identifier_value, given_name, family_name, name_prefix, birth_date, sex_code, city"
        " from patient order by patient_id",
    )
    import datetime

    assert rows[0] == {
        "patient_id": "2",
        "identifier_value": "101",  # the first identifier by id (not the preferred "101-6")
        "given_name": "Horatio",
        "family_name": "Hornblower",
        "name_prefix": "Mr.",
        "birth_date": datetime.date(1975, 4, 8),
        "sex_code": "M",
        "city": "Indianapolis",
    }
    assert [r["patient_id"] for r in rows] == ["2", "6", "7", "8"]
    assert rows[3]["birth_date"] is None  # person 8 has no birth date


def test_encounters_observations_and_prescriptions(converted: Converted) -> None:
    server, archive = converted.server, converted.archive
    assert converted.result.tables["encounter"] == _int(server, "select count(*) from encounter where voided = 0")
    enc = _rows(
        archive,
        "select encounter_type_display, practitioner_id, organisation_id from encounter where encounter_id = '3'",
    )
    assert enc == [{"encounter_type_display": "Emergency", "practitioner_id": "1", "organisation_id": "1"}]
    weight = _rows(
        archive,
        "select measurement_type_display, value_numeric, value_unit, observed_at from measurement"
        " where measurement_type_code = '5089' order by observed_at limit 1",
    )
    assert weight[0]["measurement_type_display"] == "WEIGHT (KG)"
    assert (weight[0]["value_numeric"], weight[0]["value_unit"]) == (50.0, "kg")
    assert str(weight[0]["observed_at"]).startswith("2008-07-01 00:00:00")  # naive times read as UTC
    coded = _rows(archive, "select value_text from measurement where measurement_type_code = '18'")
    assert coded == [{"value_text": "YES"}]  # obs 13: FOOD ASSISTANCE = concept 7
    drug_orders = _int(server, "select count(*) from orders where voided = 0 and order_type_id = 1")
    assert converted.result.tables["prescription"] == drug_orders == 10
    aspirin = _rows(
        archive, "select drug_display, dosage_text, reiterations, status from prescription where prescription_id = '1'"
    )
    assert aspirin == [{"drug_display": "ASPIRIN", "dosage_text": "2x daily", "reiterations": 10, "status": "NEW"}]
    tally = converted.result.ledger.tables["orders"]
    assert tally.preserved == _int(server, "select count(*) from orders where voided = 0 and order_type_id <> 1")


# --- the tables the data set leaves empty: a few rows of our own, in a second database -----------------

EXTRA_ROWS = """
INSERT INTO allergy (allergy_id, patient_id, severity_concept_id, coded_allergen, non_coded_allergen, allergen_type,
                     creator, date_created, voided, uuid, encounter_id) VALUES
  (1, 7, 22, 88, NULL, 'DRUG', 1, '2008-08-15 10:00:00', 0, 'a1', 4),
  (2, 7, NULL, 5, 'cat hair', 'ENVIRONMENT', 1, '2008-08-16 10:00:00', 0, 'a2', NULL),
  (3, 2, NULL, 88, NULL, 'DRUG', 1, '2008-08-16 10:00:00', 1, 'a3', NULL);
INSERT INTO allergy_reaction (allergy_reaction_id, allergy_id, reaction_concept_id, uuid) VALUES (1, 1, 22, 'r1');
INSERT INTO conditions (condition_id, condition_coded, condition_non_coded, condition_coded_name, clinical_status,
                        verification_status, onset_date, date_created, voided, uuid, creator, patient_id, end_date)
  VALUES (1, 5497, NULL, 1847, 'ACTIVE', 'CONFIRMED', '2008-01-01 00:00:00', '2008-08-15 10:00:00', 0, 'c1', 1, 7,
          NULL),
         (2, NULL, 'Headache, non-coded', NULL, 'INACTIVE', 'PROVISIONAL', '2007-01-01 00:00:00',
          '2008-08-15 10:00:00', 0, 'c2', 1, 2, '2007-02-01 00:00:00');
INSERT INTO encounter_diagnosis (diagnosis_id, diagnosis_coded, diagnosis_non_coded, diagnosis_coded_name,
                                 encounter_id, patient_id, certainty, dx_rank, uuid, creator, date_created, voided)
  VALUES (1, 5089, NULL, 1439, 4, 7, 'CONFIRMED', 1, 'd1', 1, '2008-08-15 10:00:00', 0),
         (2, NULL, 'Tired', NULL, 4, 7, 'PROVISIONAL', 2, 'd2', 1, '2008-08-15 10:00:00', 0),
         (3, 5089, NULL, NULL, 3, 999, 'CONFIRMED', 1, 'd3', 1, '2008-08-15 10:00:00', 1);
INSERT INTO note (note_id, note_type, patient_id, encounter_id, text, creator, date_created, uuid)
  VALUES (1, 'Progress', 7, 4, 'Doing well.\nNo complaints.', 1, '2008-08-15 11:00:00', 'n1');
"""


def test_allergies_conditions_diagnoses_and_notes(openmrs_db: MariaDbServer, tmp_path: Path) -> None:
    from converters.pipeline import ConversionOptions, run_conversion
    from validation import validate_archive

    server = openmrs_db
    server.create_database("openmrs_extra")
    load_openmrs(server, OPENMRS_DIR, database="openmrs_extra")
    server.sql(EXTRA_ROWS, database="openmrs_extra")
    result = run_conversion(
        ConversionOptions(
            system="sql",
            source=server.url_for(database="openmrs_extra"),
            archive=tmp_path / "a",
            mapping=MAPPING,
        )
    )
    assert validate_archive(tmp_path / "a").valid
    assert not result.ledger.gaps()
    assert {t: n.rejected for t, n in result.ledger.tables.items() if n.rejected} == _predicted_rejects(
        server, "openmrs_extra"
    )
    assert result.ledger.tables["allergy"].excluded == 1
    assert result.ledger.tables["encounter_diagnosis"].excluded == 1
    critical = _rows(
        tmp_path / "a",
        "select patient_id, encounter_id, info_type_code, category, agent_code, agent_display, agent_original_text,"
        " severity, registered_at from critical_info order by agent_code desc",
    )
    assert [
        (r["category"], r["agent_code"], r["agent_display"], r["agent_original_text"], r["severity"]) for r in critical
    ] == [
        ("medication", "88", "ASPIRIN", None, "UNKNOWN"),
        ("environment", "5", "SINGLE", "cat hair", None),
    ]
    assert {r["info_type_code"] for r in critical} == {"allergy"}
    diagnoses = _rows(
        tmp_path / "a",
        "select patient_id, diagnosis_code, diagnosis_display, diagnosis_original_text, role, certainty,"
        " onset_at, resolved_at from diagnosis order by patient_id, diagnosis_code nulls last",
    )
    assert [
        (
            d["patient_id"],
            d["diagnosis_code"],
            d["diagnosis_display"],
            d["diagnosis_original_text"],
            d["role"],
            d["certainty"],
        )
        for d in diagnoses
    ] == [
        ("2", None, None, "Headache, non-coded", None, "PROVISIONAL"),
        ("7", "5089", "WEIGHT (KG)", None, "main", "CONFIRMED"),
        ("7", "5497", "CD4 COUNT", None, None, "CONFIRMED"),
        ("7", None, None, "Tired", "secondary", "PROVISIONAL"),
    ]
    notes = _rows(tmp_path / "a", "select note_id, encounter_id, note_type_code, text from journal_note")
    assert notes == [
        {"note_id": "1", "encounter_id": "4", "note_type_code": "Progress", "text": "Doing well.\nNo complaints."}
    ]


def test_scan_of_the_openmrs_database_shows_no_names_or_identifiers(openmrs_db: MariaDbServer, tmp_path: Path) -> None:
    """Issue 3: scan on MariaDB writes JSON + HTML without identifier or name values, and no password."""
    from click.testing import CliRunner
    from sqlalchemy import create_engine, text

    import convert

    engine = create_engine(openmrs_db.url)
    with engine.connect() as conn:
        names = [r[0] for r in conn.execute(text("select given_name from person_name")) if r[0] and len(r[0]) > 3]
        identifiers = [r[0] for r in conn.execute(text("select identifier from patient_identifier")) if r[0]]
    engine.dispose()
    out_json, out_html = tmp_path / "scan.json", tmp_path / "scan.html"
    result = CliRunner().invoke(
        convert.cli, ["scan", openmrs_db.url, "--json", str(out_json), "--html", str(out_html)], obj={}
    )
    assert result.exit_code == 0, result.output
    assert openmrs_db.password not in result.output
    for report in (out_json.read_text(encoding="utf-8"), out_html.read_text(encoding="utf-8")):
        assert openmrs_db.password not in report
        for value in names + identifiers:
            assert f'"{value}"' not in report and f">{value}<" not in report, value
