"""The command line (convert.cli) through click's CliRunner, as ``convert.main`` runs it (obj={})."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner, Result

import convert
from converters.pipeline import ConversionOptions, run_conversion
from formats.model import TABLES
from validation import validate_archive

REPO = Path(__file__).resolve().parent.parent
MODEL_TABLES = 22
PATIENTS_HEADER = (
    "Id,BIRTHDATE,DEATHDATE,SSN,DRIVERS,PASSPORT,PREFIX,FIRST,LAST,SUFFIX,MAIDEN,MARITAL,RACE,ETHNICITY,"
    "GENDER,BIRTHPLACE,ADDRESS,CITY,STATE,COUNTY,ZIP,LAT,LON,HEALTHCARE_EXPENSES,HEALTHCARE_COVERAGE"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(convert.cli, list(args), obj={})


def flat(text: str) -> str:
    """Text with rich's line wrapping undone (whitespace runs become one space)."""
    return " ".join(text.split())


def first_patient(synthea_dir: Path) -> dict[str, str]:
    with (synthea_dir / "patients.csv").open(newline="", encoding="utf-8") as fh:
        return next(csv.DictReader(fh))


# --- systems, version, help ----------------------------------------------------------------


def test_systems_lists_synthea() -> None:
    result = run("systems")
    assert result.exit_code == 0, result.output
    assert "synthea-csv" in result.stdout


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0
    assert "0.1.0" in result.stdout


def test_every_help_has_an_example() -> None:
    names = sorted(convert.cli.commands)
    assert {"systems", "convert", "validate", "query", "show", "model"} <= set(names)
    for args in ([], *([name] for name in names)):
        result = run(*args, "--help")
        assert result.exit_code == 0, (args, result.output)
        assert "Example" in result.stdout, args
        assert "Usage:" in result.stdout, args


def test_python_convert_py_help_from_repo_root() -> None:
    proc = subprocess.run(
        [sys.executable, "convert.py", "--help"], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert "Usage:" in proc.stdout
    assert "convert" in proc.stdout and "validate" in proc.stdout


# --- convert -------------------------------------------------------------------------------


def test_convert_the_sample(synthea_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    result = run("convert", "--system", "synthea-csv", str(synthea_dir), str(archive))
    assert result.exit_code == 0, result.output
    assert (archive / "bagit.txt").is_file()
    assert (archive / "data" / "tables" / "patient.parquet").is_file()
    assert "Package written" in flat(result.stderr)
    assert result.stdout == ""  # results go to stderr; stdout stays clean for pipes
    assert not list(tmp_path.glob(".*.partial-*"))


def test_convert_to_existing_path_exits_7(synthea_dir: Path, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    (archive / "keep.txt").write_text("mine\n", encoding="utf-8")
    result = run("convert", "--system", "synthea-csv", str(synthea_dir), str(archive))
    assert result.exit_code == 7, result.output
    assert "already exists" in flat(result.stderr)
    assert [p.name for p in archive.iterdir()] == ["keep.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["archive"]


def test_convert_unknown_system_is_a_usage_error(synthea_dir: Path, tmp_path: Path) -> None:
    result = run("convert", "--system", "no-such-system", str(synthea_dir), str(tmp_path / "a"))
    assert result.exit_code == 2
    assert "--system" in result.stderr
    assert not (tmp_path / "a").exists()


def test_convert_missing_source_exits_2(tmp_path: Path) -> None:
    result = run("convert", "--system", "synthea-csv", str(tmp_path / "nowhere"), str(tmp_path / "a"))
    assert result.exit_code == 2, result.output
    assert "does not exist" in flat(result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_convert_invalid_mapping_exits_3(synthea_dir: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "bad.yaml"
    mapping.write_text("mapping_version: 1\nsystem: x\ntables: {}\n", encoding="utf-8")
    result = run("convert", "--system", "synthea-csv", "--mapping", str(mapping), str(synthea_dir), str(tmp_path / "a"))
    assert result.exit_code == 3, result.output
    assert "tables" in flat(result.stderr)
    assert not (tmp_path / "a").exists()


# --- validate ------------------------------------------------------------------------------


def test_validate_json_equals_library_report(synthea_package: Path) -> None:
    result = run("validate", str(synthea_package), "--json")
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert printed == validate_archive(synthea_package).to_dict()
    assert printed["valid"] is True


def test_validate_plain_text(synthea_package: Path) -> None:
    result = run("validate", str(synthea_package), "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "The package is valid" in flat(result.stdout)


def test_validate_not_a_package_exits_2(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path))
    assert result.exit_code == 2, result.output
    assert "not an archive package" in flat(result.stderr)


# --- query ---------------------------------------------------------------------------------


def test_query_json(synthea_package: Path) -> None:
    result = run("query", str(synthea_package), "select count(*) as n from patient", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == [{"n": 27}]


def test_query_csv(synthea_package: Path) -> None:
    sql = "select source_ref, diagnosis_code from diagnosis where source_ref = 'conditions.csv#row=2'"
    result = run("query", str(synthea_package), sql, "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows == [["source_ref", "diagnosis_code"], ["conditions.csv#row=2", "195662009"]]


def test_query_table_format(synthea_package: Path) -> None:
    result = run("query", str(synthea_package), "select count(*) as n from patient")
    assert result.exit_code == 0, result.output
    assert "27" in result.stdout


def test_bad_sql_exits_2(synthea_package: Path) -> None:
    result = run("query", str(synthea_package), "selec nonsense from nowhere")
    assert result.exit_code == 2, result.output
    assert "the query failed" in flat(result.stderr)
    assert result.stdout == ""


# --- show ----------------------------------------------------------------------------------


def test_show_patient_masks_the_identifier(synthea_dir: Path, synthea_package: Path) -> None:
    person = first_patient(synthea_dir)
    ssn = person["SSN"]
    assert ssn
    result = run("show", str(synthea_package), "--patient", person["Id"], "--lang", "en")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert person["BIRTHDATE"] in text
    assert person["Id"] in text
    assert ssn[:3] + "*" * (len(ssn) - 3) in text
    assert ssn not in text
    assert ssn[3:] not in text


def test_show_by_identifier(synthea_dir: Path, synthea_package: Path) -> None:
    person = first_patient(synthea_dir)
    result = run("show", str(synthea_package), "--patient", person["SSN"], "--lang", "en")
    assert result.exit_code == 0, result.output
    assert person["Id"] in result.stdout
    assert person["SSN"] not in result.stdout


def test_show_masks_an_eleven_digit_fnr(tmp_path: Path) -> None:
    source = tmp_path / "export"
    source.mkdir()
    row = "p1,1990-01-01,,01019012345,,,,Kari,Nordmann,,,,white,nonhispanic,F,Oslo,Gata 1,Oslo,Oslo,Oslo,0150,0,0,0,0"
    (source / "patients.csv").write_text(PATIENTS_HEADER + "\n" + row + "\n", encoding="utf-8")
    archive = tmp_path / "archive"
    run_conversion(ConversionOptions(system="synthea-csv", source=source, archive=archive))
    result = run("show", str(archive), "--patient", "p1", "--lang", "en")
    assert result.exit_code == 0, result.output
    assert "010190*****" in result.stdout
    assert "01019012345" not in result.stdout
    assert "1990-01-01" in result.stdout


def test_show_unknown_patient_exits_2(synthea_package: Path) -> None:
    result = run("show", str(synthea_package), "--patient", "no-such-patient")
    assert result.exit_code == 2, result.output
    assert "no patient" in flat(result.stderr)


# --- model ---------------------------------------------------------------------------------


def test_model_json_schema(tmp_path: Path) -> None:
    result = run("model", "--json-schema")
    assert result.exit_code == 0, result.output
    schemas = json.loads(result.stdout)
    assert len(schemas) == MODEL_TABLES
    assert set(schemas) == set(TABLES)
    for name, schema in schemas.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        assert set(schema["properties"]) == set(TABLES[name].field_names()), name


def test_model_dictionary() -> None:
    result = run("model")
    assert result.exit_code == 0, result.output
    assert "patient" in result.stdout and "diagnosis" in result.stdout


@pytest.mark.parametrize("command", ["validate", "query", "show"])
def test_missing_archive_exits_2(tmp_path: Path, command: str) -> None:
    extra = {"validate": [], "query": ["select 1"], "show": ["--patient", "x"]}[command]
    result = run(command, str(tmp_path / "nothing-here"), *extra)
    assert result.exit_code == 2, result.output
    assert "no archive package" in flat(result.stderr)


def test_an_internal_error_exits_1_with_a_masked_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("could not handle 01019012345")

    monkeypatch.setattr(convert, "run_conversion", broken)
    source = tmp_path / "src"
    source.mkdir()
    result = run("convert", "--system", "synthea-csv", str(source), str(tmp_path / "out"))
    assert result.exit_code == 1
    assert "internal error" in result.output
    assert "010190*****" in result.output
    assert "01019012345" not in result.output


def test_validate_names_the_first_row_where_the_twins_differ(synthea_package: Path, tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "pkg"
    shutil.copytree(synthea_package, copy)
    twin = copy / "data" / "tables" / "patient.csv"
    twin.chmod(0o600)
    lines = twin.read_bytes().split(b"\r\n")
    assert b'"US"' in lines[3]  # data row 3 (line 4 of the file), country
    lines[3] = lines[3].replace(b'"US"', b'"UK"', 1)
    twin.write_bytes(b"\r\n".join(lines))
    report = validate_archive(copy)
    messages = [f.message for f in report.findings if f.check == "twins"]
    assert any("data row 3 differs in column" in m for m in messages), messages


def test_scan_writes_json_html_and_a_draft_mapping_without_identifiers(synthea_dir: Path, tmp_path: Path) -> None:
    from converters.mapping import load_mapping

    out_json, out_html, draft = tmp_path / "s.json", tmp_path / "s.html", tmp_path / "draft.yaml"
    result = run(
        "scan", str(synthea_dir), "--json", str(out_json), "--html", str(out_html), "--draft-mapping", str(draft)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(out_json.read_text(encoding="utf-8"))
    assert data["total_rows"] == 10_950
    person = first_patient(synthea_dir)
    for text in (out_json.read_text(encoding="utf-8"), out_html.read_text(encoding="utf-8")):
        assert person["Id"] not in text
        assert person["SSN"] not in text
        assert person["LAST"] not in text
    assert load_mapping(draft).system.endswith("-draft")


def test_scan_of_a_missing_folder_exits_2(tmp_path: Path) -> None:
    result = run("scan", str(tmp_path / "nope"))
    assert result.exit_code == 2


def test_mapping_doc_lists_every_source_column_and_the_package_carries_it(synthea_dir: Path, tmp_path: Path) -> None:
    doc = run("mapping-doc", "mappings/synthea-csv.yaml", "--source", str(synthea_dir), "--lang", "en")
    assert doc.exit_code == 0, doc.output
    with (synthea_dir / "patients.csv").open(encoding="utf-8", newline="") as fh:
        header = next(csv.reader(fh))
    for column in header:
        assert f"`{column}`" in doc.output
    assert "preserved raw" in doc.output
    archive = tmp_path / "a"
    assert run("convert", "--system", "synthea-csv", "-q", str(synthea_dir), str(archive)).exit_code == 0
    assert (archive / "data" / "mappings" / "synthea-csv.md").is_file()
    assert (archive / "data" / "mappings" / "synthea-csv.html").is_file()
    html = run(
        "mapping-doc", "mappings/synthea-csv.yaml", "--archive", str(archive), "--format", "html", "--lang", "en"
    )
    assert html.exit_code == 0
    assert "<html" in html.output.lower()
    assert "source rows 27, converted 27" in html.output
