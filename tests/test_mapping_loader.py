"""Loading mapping files: the shipped ones load, broken ones fail with every problem and its key path."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from converters.mapping import ISO_DATE, ISO_TIMESTAMP, Mapping, load_mapping
from formats.errors import MappingFileError
from formats.model import TABLES
from mappings import mapping_path, shipped_mappings

HEAD = """\
mapping_version: 1
system: test
code_systems:
  kjonn: urn:oid:2.16.578.1.12.4.1.1.3101
"""

# A valid mapping whose table ``t`` has one target; cases below add one line to its fields.
BASE = (
    HEAD
    + """\
source:
  patient_table: t
tables:
  t:
    patient: PID
    targets:
      - table: patient
        fields:
          given_name: FIRST
"""
)


def _write(tmp_path: Path, text: str, name: str = "m.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _errors(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(MappingFileError) as info:
        load_mapping(_write(tmp_path, text))
    err = info.value
    assert err.errors, "a MappingFileError lists its problems"
    assert str(err.path).endswith("m.yaml")
    for problem in err.errors:
        assert problem in str(err)
    return err.errors


def _field(line: str) -> str:
    return BASE + f"          {line}\n"


# ------------------------------------------------------------------------------ valid mappings


@pytest.mark.parametrize("name", shipped_mappings())
def test_shipped_mappings_load(name: str) -> None:
    mapping = load_mapping(mapping_path(name))
    assert isinstance(mapping, Mapping)
    assert mapping.system == name
    assert len(mapping.sha256) == 64


def test_synthea_mapping_content() -> None:
    mapping = load_mapping(mapping_path("synthea-csv"))
    assert mapping.source.patient_table == "patients"
    patients = mapping.table("patients")
    assert patients is not None
    assert patients.file == "patients.csv"
    (target,) = patients.targets
    assert target.table == "patient"
    rules = {fr.target: fr.rule for fr in target.fields}
    assert rules["birth_date"].target_type == pa.date32()
    assert rules["birth_date"].formats == ("%Y-%m-%d",)
    assert rules["birth_date"].required
    assert rules["sex_system"].constant == "http://hl7.org/fhir/administrative-gender"
    assert dict(rules["sex_code"].mapping or ()) == {"F": "female", "M": "male"}
    assert rules["identifier_type"].when is not None
    assert rules["identifier_type"].when.column == "SSN"
    preserved = [t.name for t in mapping.tables if not t.targets]
    assert "claims_transactions" in preserved
    assert all(t.preserve_reason for t in mapping.tables if not t.targets)
    for table in mapping.tables:
        for tr in table.targets:
            spec = TABLES[tr.table]
            for fr in tr.fields:
                assert fr.rule.target_type == spec.get(fr.target).type


def test_minimal_mapping_defaults(tmp_path: Path) -> None:
    mapping = load_mapping(
        _write(tmp_path, _field("birth_date: BORN") + "  v:\n    patient: PID\n    targets:\n      - table: encounter\n"
               "        fields:\n          start_at: START\n")
    )
    assert mapping.title == "test"
    assert mapping.source.encoding == "utf-8"
    assert mapping.source.timezone == "Europe/Oslo"  # DESIGN: naive source times are Norwegian time
    t = mapping.table("t")
    assert t is not None
    assert t.file == "t.csv"
    assert t.unmatched == "preserve"
    rules = {fr.target: fr.rule for fr in t.targets[0].fields}
    assert rules["birth_date"].formats == ISO_DATE
    # patient_id is filled from the table's patient column, and is required
    assert rules["patient_id"].column == "PID"
    assert rules["patient_id"].required
    v = mapping.table("v")
    assert v is not None
    start = next(fr.rule for fr in v.targets[0].fields if fr.target == "start_at")
    assert start.formats == ISO_TIMESTAMP
    assert mapping.table("nope") is None


def test_consumed_columns_include_where_when_patient_exclude_and_dropped(tmp_path: Path) -> None:
    text = (
        HEAD
        + """\
source: {patient_table: obs}
tables:
  obs:
    patient: PASIENT
    exclude:
      - where: {column: SLETTET, equals: "1"}
        reason: deleted in the source system
    drop_columns:
      INTERN_ID: internal key of no archival value
    targets:
      - table: lab_result
        where: {column: KATEGORI, equals: lab}
        fields:
          analysis: {code: KODE, display: {concat: [TEKST1, TEKST2], separator: " - "}}
          value_numeric: {column: VERDI, when: {column: TYPE, equals: numeric}}
          observed_at: {column: TID, format: "%d.%m.%Y %H:%M"}
"""
    )
    table = load_mapping(_write(tmp_path, text)).table("obs")
    assert table is not None
    assert table.consumed_columns() == {
        "PASIENT",
        "SLETTET",
        "INTERN_ID",
        "KATEGORI",
        "KODE",
        "TEKST1",
        "TEKST2",
        "VERDI",
        "TYPE",
        "TID",
    }


# ----------------------------------------------------------------------- one problem at a time

SINGLE_PROBLEMS = [
    pytest.param(
        BASE.replace("table: patient", "table: pasient"),
        "tables.t.targets[0].table",
        "unknown canonical table 'pasient'",
        id="unknown-table",
    ),
    pytest.param(_field("nope: X"), "tables.t.targets[0].fields.nope", "no field 'nope'", id="unknown-field"),
    pytest.param(
        _field("birth_date: {column: B, timezone: Europe/Olso}"),
        "tables.t.targets[0].fields.birth_date.timezone",
        "unknown time zone 'Europe/Olso'",
        id="field-time-zone",
    ),
    pytest.param(
        BASE.replace("  patient_table: t", "  patient_table: t\n  timezone: Mars/Olympus"),
        "source.timezone",
        "unknown time zone 'Mars/Olympus'",
        id="source-time-zone",
    ),
    pytest.param(
        BASE.replace("  patient_table: t", "  patient_table: t\n  encoding: cp-nowhere"),
        "source.encoding",
        "unknown encoding 'cp-nowhere'",
        id="unknown-encoding",
    ),
    pytest.param(
        _field("sex: {system: kjønn, code: S}"),
        "tables.t.targets[0].fields.sex.system",
        "unknown code system 'kjønn'",
        id="unknown-code-system",
    ),
    pytest.param(_field("sex: S"), "tables.t.targets[0].fields.sex", "is a coded value", id="coded-as-string"),
    pytest.param(
        BASE + "  u:\n    description: forgotten\n",
        "tables.u",
        "no targets",
        id="no-targets-no-preserve",
    ),
    pytest.param(
        _field("family_name: {column: LAST, format: '%Y'}"),
        "tables.t.targets[0].fields.family_name.format",
        "only date and time fields take a format",
        id="format-on-string",
    ),
    pytest.param(
        _field("family_name: {column: LAST, value: x}"),
        "tables.t.targets[0].fields.family_name",
        "exactly one of column, concat, value",
        id="two-sources",
    ),
    pytest.param(
        _field("birth_date: {column: B, format: '%Y', formats: ['%d']}"),
        "tables.t.targets[0].fields.birth_date",
        "format or formats, not both",
        id="format-and-formats",
    ),
    pytest.param(
        _field("record_id: X"),
        "tables.t.targets[0].fields.record_id",
        "filled by journalkonvert itself",
        id="reserved-field",
    ),
    pytest.param(
        BASE.replace("    patient: PID\n", "").replace("source:\n  patient_table: t\n", ""),
        "tables.t.targets[0].fields",
        "need patient_id",
        id="no-patient-id",
    ),
    pytest.param(
        BASE.replace("patient_table: t", "patient_table: pasienter"),
        "source.patient_table",
        "'pasienter' is not one of the tables",
        id="unknown-patient-table",
    ),
    pytest.param(
        BASE.replace("    targets:", "    exclude:\n      - where: {column: X}\n        reason: r\n    targets:"),
        "tables.t.exclude[0].where",
        "exactly one of equals, in, not_in, empty",
        id="condition-without-operator",
    ),
    pytest.param(
        BASE.replace("mapping_version: 1", "mapping_version: 2"),
        "mapping_version",
        "1 was expected",
        id="version-2-schema",
    ),
    pytest.param(BASE.replace("system: test\n", ""), "(top level)", "'system' is a required property", id="no-system"),
    pytest.param(
        BASE + "bogus: 1\n", "(top level)", "Additional properties are not allowed ('bogus'", id="unknown-top-key"
    ),
    pytest.param(
        BASE.replace("  patient_table: t", "  patient_table: t\n  delimiter: ';;'"),
        "source.delimiter",
        "is too long",
        id="long-delimiter",
    ),
]


@pytest.mark.parametrize(("text", "key_path", "fragment"), SINGLE_PROBLEMS)
def test_each_problem_is_reported_at_its_key_path(tmp_path: Path, text: str, key_path: str, fragment: str) -> None:
    errors = _errors(tmp_path, text)
    assert len(errors) == 1, errors
    (problem,) = errors
    assert problem.startswith(key_path + ":"), problem
    assert fragment in problem, problem


# -------------------------------------------------------------------- all problems gathered


BROKEN = (
    HEAD
    + """\
source:
  encoding: no-such-codec
  timezone: Europe/Olso
  patient_table: t
tables:
  t:
    patient: PID
    targets:
      - table: patient
        fields:
          nope: X
          sex: S
          given_name: {column: FIRST, format: "%Y"}
          birth_date: {column: B, timezone: Nowhere/Town}
          marital_status: {system: sivilstand, code: M}
  u:
    targets:
      - table: no_such_table
        fields:
          x: y
  w:
    description: neither targets nor preserve
"""
)


def test_all_problems_are_gathered_in_one_error(tmp_path: Path) -> None:
    errors = _errors(tmp_path, BROKEN)
    expected = {
        "source.encoding": "unknown encoding 'no-such-codec'",
        "source.timezone": "unknown time zone 'Europe/Olso'",
        "tables.t.targets[0].fields.nope": "patient has no field 'nope'",
        "tables.t.targets[0].fields.sex": "is a coded value",
        "tables.t.targets[0].fields.given_name.format": "only date and time fields take a format",
        "tables.t.targets[0].fields.birth_date.timezone": "unknown time zone 'Nowhere/Town'",
        "tables.t.targets[0].fields.marital_status.system": "unknown code system 'sivilstand'",
        "tables.u.targets[0].table": "unknown canonical table 'no_such_table'",
        "tables.w": "no targets",
    }
    by_path = {e.split(": ", 1)[0]: e for e in errors}
    assert set(by_path) == set(expected), errors
    assert len(errors) == len(expected), errors
    for path, fragment in expected.items():
        assert fragment in by_path[path]


def test_all_schema_problems_are_gathered_in_one_error(tmp_path: Path) -> None:
    text = BASE.replace("mapping_version: 1", "mapping_version: 2") + "extra: 1\n"
    text = text.replace("tables:", "source: {format: xml}\ntables:")
    errors = _errors(tmp_path, text)
    assert any(e.startswith("mapping_version:") for e in errors), errors
    assert any(e.startswith("source.format:") for e in errors), errors
    assert any(e.startswith("(top level):") and "'extra'" in e for e in errors), errors


def test_schema_and_semantic_problems_are_reported_together(tmp_path: Path) -> None:
    text = BASE.replace("mapping_version: 1", "mapping_version: 2").replace("table: patient", "table: pasient")
    errors = _errors(tmp_path, text)
    assert any(e.startswith("mapping_version:") for e in errors), errors
    assert any(e.startswith("tables.t.targets[0].table:") for e in errors), errors


@pytest.mark.parametrize(
    ("line", "key_path"),
    [
        ("sex: {system: kjonn, bogus: X}", "tables.t.targets[0].fields.sex"),
        ("family_name: {column: LAST, bogus: X}", "tables.t.targets[0].fields.family_name"),
        ("family_name: {column: LAST, on_unknown: ignore}", "tables.t.targets[0].fields.family_name"),
    ],
)
def test_key_path_of_an_error_at_the_root_of_a_value(tmp_path: Path, line: str, key_path: str) -> None:
    errors = _errors(tmp_path, _field(line))
    assert all("(top level)" not in e for e in errors), errors
    assert any(e.startswith(key_path) for e in errors), errors


def test_invalid_coded_part_is_reported_once(tmp_path: Path) -> None:
    errors = _errors(tmp_path, _field("sex: {system: kjonn, code: {column: S, bogus: 1}}"))
    assert len(errors) == 1, errors


def test_map_keys_are_not_retyped_by_yaml(tmp_path: Path) -> None:
    text = _field("marital_status: {system: kjonn, code: {column: M, map: {01: ugift, 010: gift, yes: ja}}}")
    try:
        mapping = load_mapping(_write(tmp_path, text))
    except MappingFileError as err:  # rejecting the non-string keys is also acceptable
        assert any("map" in e for e in err.errors), err.errors
        return
    table = mapping.table("t")
    assert table is not None
    rule = next(fr.rule for fr in table.targets[0].fields if fr.target == "marital_status_code")
    assert dict(rule.mapping or ()) == {"01": "ugift", "010": "gift", "yes": "ja"}


# ------------------------------------------------------------------------ unreadable files


def test_invalid_yaml_is_a_mapping_file_error(tmp_path: Path) -> None:
    errors = _errors(tmp_path, "mapping_version: 1\ntables: [unclosed\n  - {a: \n")
    assert len(errors) == 1
    assert "YAML" in errors[0]


def test_non_utf8_file_is_a_mapping_file_error(tmp_path: Path) -> None:
    path = tmp_path / "m.yaml"
    path.write_bytes(BASE.replace("FIRST", "FØRST").encode("latin-1"))
    with pytest.raises(MappingFileError) as info:
        load_mapping(path)
    assert "UTF-8" in info.value.errors[0]


@pytest.mark.parametrize("text", ["", "- a\n- b\n", "just a string\n"])
def test_document_that_is_not_a_mapping(tmp_path: Path, text: str) -> None:
    errors = _errors(tmp_path, text)
    assert errors[0].startswith("(top level):")


def test_missing_file_is_a_mapping_file_error(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(MappingFileError) as info:
        load_mapping(path)
    assert info.value.path == str(path)
    assert info.value.errors[0].startswith("cannot read the file")


def test_directory_is_a_mapping_file_error(tmp_path: Path) -> None:
    with pytest.raises(MappingFileError):
        load_mapping(tmp_path)


def test_error_message_lists_every_problem_with_a_hint(tmp_path: Path) -> None:
    path = _write(tmp_path, BROKEN)
    with pytest.raises(MappingFileError) as info:
        load_mapping(path)
    text = str(info.value)
    assert str(path) in text
    assert f"({len(info.value.errors)} problem(s))" in text
    assert info.value.hint
