"""The report model: schema-valid for every file-based reader, balanced, masked, deterministic, PDF/A-2b."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import jsonschema
import pikepdf.pdfa
import pytest
from click.testing import CliRunner

from converters.pipeline import ConversionOptions, run_conversion
from formats.package import open_package
from reports.package_report import write_report
from reports.query import run_query
from reports.report_model import build_report, stored_facts

REPO = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((REPO / "reports" / "report_schema.json").read_text(encoding="utf-8"))
KITH = REPO / "tests" / "fixtures" / "kith"
SYNTHEA = REPO.parent / "shared" / "data" / "synthea-csv"

PATIENTS_HEADER = (
    "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,ETHNICITY,"
    "GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,ZIP,LAT,LON,HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE"
)
CONDITIONS_HEADER = "START,STOP,PATIENT,ENCOUNTER,CODE,DESCRIPTION"
# Synthetic people (no real persons): an 11-digit number shaped like a fødselsnummer, and names.
SECRET_FNR = "24057412345"
SECRET_NAMES = ("Sigvaldine", "Tollefsrud")


def _patient(pid: str, ssn: str, first: str, last: str) -> str:
    return ",".join([pid, "1974-05-24", "", ssn, "", "", "", first, last, "", "", "M", "white", "nonhispanic", "F",
                     "Place", "1 Road", "Town", "State", "County", "01234", "0", "0", "0", "0"])  # fmt: skip


def _report(archive: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((archive / "data" / "report" / "report.json").read_text(encoding="utf-8"))
    return loaded


def _convert(system: str, source: Path, archive: Path) -> Path:
    run_conversion(ConversionOptions(system=system, source=source, archive=archive), finishers=[write_report])
    return archive


@pytest.fixture(scope="module")
def kith_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The KITH fixtures converted once, with the report finisher."""
    return _convert("kith", KITH, tmp_path_factory.mktemp("kith") / "archive")


@pytest.fixture(scope="module")
def rejects_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny synthetic Synthea export with a dangling reference and a bad date: two rejects."""
    source = tmp_path_factory.mktemp("rejects") / "export"
    source.mkdir()
    (source / "patients.csv").write_text(
        f"{PATIENTS_HEADER}\n{_patient('p1', SECRET_FNR, *SECRET_NAMES)}\n{_patient('p2', '', 'Ada', 'Test')}\n",
        encoding="utf-8",
    )
    (source / "conditions.csv").write_text(
        f"{CONDITIONS_HEADER}\n2020-01-01,,p1,e1,25064002,Headache\n2020-01-01,,{SECRET_FNR},e1,25064002,Headache\n"
        "2020-13-45,,p2,e1,25064002,Headache\n",
        encoding="utf-8",
    )
    return _convert("synthea-csv", source, source.parent / "archive")


def test_every_package_report_validates_against_the_schema(
    synthea_package: Path, kith_package: Path, rejects_package: Path
) -> None:
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    for archive in (synthea_package, kith_package, rejects_package):
        report = _report(archive)
        jsonschema.validate(report, SCHEMA)
        assert report["report_version"] == 2
        assert [q["id"] for q in report["questions"]] == [
            "converted", "which", "retrieval", "documentation", "format", "logs",
        ]  # fmt: skip
        later = build_report(open_package(archive), stored_facts(open_package(archive)), None, tool_version="x")
        jsonschema.validate(later, SCHEMA)


def test_reconciliation_balances_and_matches_the_ledger(synthea_package: Path) -> None:
    report = _report(synthea_package)
    rec = report["reconciliation"]
    summary = json.loads((synthea_package / "data" / "ledger" / "summary.json").read_text(encoding="utf-8"))
    assert rec["balanced"] is True
    assert rec["totals"] == {k: summary["totals"][k] for k in rec["totals"]}
    for t in rec["source_tables"]:
        assert t["source_rows"] == t["converted"] + t["preserved"] + t["rejected"] + t["excluded"]
    with (SYNTHEA / "patients.csv").open(encoding="utf-8") as f:
        patients = sum(1 for _ in csv.DictReader(f))
    assert next(t for t in rec["source_tables"] if t["source_table"] == "patients")["source_rows"] == patients
    cats = {c["category"]: c for c in rec["categories"]}
    assert cats["patient"]["rows"] == summary["categories"]["patient"]
    assert cats["organisation"]["from"] == {"organizations": 63, "payers": 10}


def test_rejects_are_grouped_by_reason_with_masked_examples(rejects_package: Path) -> None:
    report = _report(rejects_package)
    reasons = {r["reason"]: r for r in report["rejected"]}
    assert set(reasons) == {"dangling_reference", "invalid_date"}
    dangling = reasons["dangling_reference"]
    assert dangling["count"] == 1
    assert dangling["source_tables"] == ["conditions"]
    [example] = dangling["examples"]
    assert example["field"] == "PATIENT"
    assert example["row_number"] == 3
    assert example["value_masked"] == SECRET_FNR[:6] + "*****"
    assert report["reconciliation"]["totals"]["rejected"] == 2
    assert next(q for q in report["questions"] if q["id"] == "which")["evidence"]["reject_reasons"] == [
        "dangling_reference", "invalid_date",
    ]  # fmt: skip


def test_no_identifier_name_or_note_text_in_the_report_files(
    synthea_package: Path, kith_package: Path, rejects_package: Path
) -> None:
    """The known fødselsnummer, names and note texts of the test data appear in no report file."""
    secrets: set[str] = {SECRET_FNR, *SECRET_NAMES}
    with (SYNTHEA / "patients.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            secrets |= {row["SSN"], row["FIRST"], row["LAST"]}
    kith = open_package(kith_package)
    for table, columns in (("patient", ("identifier_value", "given_name", "family_name")), ("journal_note", ("text",))):
        for row in run_query(kith, f"SELECT {', '.join(columns)} FROM {table}").to_pylist():
            secrets |= {str(v) for v in row.values() if v and len(str(v)) >= 4}
    secrets = {s for s in secrets if s and len(s) >= 4}
    assert len(secrets) > 50
    for archive in (synthea_package, kith_package, rejects_package):
        for name in ("report.json", "report.html"):
            text = (archive / "data" / "report" / name).read_text(encoding="utf-8")
            leaked = sorted(s for s in secrets if s in text)
            assert not leaked, f"{archive.name}/{name} shows {len(leaked)} personal value(s)"


def test_retrieval_guide_queries_run_and_find_the_converted_rows(synthea_package: Path, kith_package: Path) -> None:
    for archive in (synthea_package, kith_package):
        layout = open_package(archive)
        guide = _report(archive)["retrieval_guide"]
        assert guide["entries"]
        for entry in guide["entries"]:
            for target in entry["targets"]:
                if not target["present"]:
                    assert not entry["converted"]
                    continue
                assert target["command"].startswith("journalkonvert query ARCHIVE ")
                rows = run_query(layout, target["query"]).num_rows
                assert (rows > 0) == bool(entry["converted"]), (entry["source_table"], target["table"])
            if entry["lost"]["raw_copy"]:
                assert run_query(layout, f"SELECT count(*) AS n FROM {entry['lost']['raw_copy']}").num_rows == 1
    kith_entries = {e["source_table"]: e for e in _report(kith_package)["retrieval_guide"]["entries"]}
    message = kith_entries["kith_message"]
    assert {t["table"] for t in message["targets"]} == {"message", "document"}
    doc = next(t for t in message["targets"] if t["table"] == "document")
    assert doc["document_types"]
    assert kith_entries["kith_patient"]["lost"]["rows_excluded"] == 3
    assert "excluded" in kith_entries["kith_patient"]["other_queries"]
    assert kith_entries["kith_note"]["show"] == "journalkonvert show ARCHIVE --patient PATIENT_ID"


def test_report_pdf_passes_pdfa_2b(synthea_package: Path, kith_package: Path) -> None:
    for archive in (synthea_package, kith_package):
        path = archive / "data" / "report" / "report.pdf"
        assert pikepdf.pdfa.validate_written(path, "2b").verdict == "pass"


def test_report_is_deterministic_and_the_package_stays_valid(kith_package: Path, tmp_path: Path) -> None:
    from validation import validate_archive

    again = _convert("kith", KITH, tmp_path / "again")
    for name in ("report.json", "report.html", "report.pdf"):
        first = (kith_package / "data" / "report" / name).read_bytes()
        assert first == (again / "data" / "report" / name).read_bytes(), name
    assert (kith_package / "manifest-sha256.txt").read_bytes() == (again / "manifest-sha256.txt").read_bytes()
    report = validate_archive(kith_package)
    assert report.valid, [f.to_dict() for f in report.findings if f.severity in ("fatal", "error")]
    stored = _report(kith_package)["validation"]
    assert stored["skipped"] == ["fixity"]
    assert next(c for c in stored["checks"] if c["id"] == "fixity")["status"] == "skipped"


def test_report_command_json_html_and_pdf(kith_package: Path, tmp_path: Path) -> None:
    from convert import cli

    runner = CliRunner()
    result = runner.invoke(cli, ["report", str(kith_package), "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    jsonschema.validate(report, SCHEMA)
    assert next(c for c in report["validation"]["checks"] if c["id"] == "fixity")["status"] == "passed"
    assert report["archivist"]["fixity"]["sealed"] is True
    html = runner.invoke(cli, ["report", str(kith_package), "--lang", "en"])
    assert html.exit_code == 0
    assert '<html lang="en">' in html.output
    assert 'id="reconciliation"' in html.output
    assert runner.invoke(cli, ["report", str(kith_package), "--format", "pdf"]).exit_code == 2
    target = tmp_path / "report.pdf"
    assert runner.invoke(cli, ["report", str(kith_package), "--format", "pdf", "-o", str(target)]).exit_code == 0
    assert pikepdf.pdfa.validate_written(target, "2b").verdict == "pass"
    missing = runner.invoke(cli, ["report", str(tmp_path / "nothing")])
    assert missing.exit_code != 0
