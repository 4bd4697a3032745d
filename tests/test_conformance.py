"""Every registered reader honours the SourceReader contract.

A new reader must register a tiny synthetic source in ``SOURCES`` below; the same checks then
run for it: class attributes, side-effect-free detection, its shipped mapping, batches with
record numbers, determinism, and a conversion whose tables have the declared schemas.
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from converters import READERS
from converters.base import SourceInfo, SourceReader
from converters.csv_source import REF_COLUMN, ROW_COLUMN, SourceBatch
from converters.mapping import load_mapping
from converters.pipeline import ConversionOptions, run_conversion
from formats.errors import SourceError
from formats.model import TABLES
from formats.package import open_package
from mappings import mapping_path
from reports.package_report import write_report

READER_NAMES = sorted(READERS)

SYNTHEA_PATIENTS = [
    "Id", "BIRTHDATE", "DEATHDATE", "SSN", "DRIVERS", "PASSPORT", "PREFIX", "FIRST", "LAST", "SUFFIX", "MAIDEN",
    "MARITAL", "RACE", "ETHNICITY", "GENDER", "BIRTHPLACE", "ADDRESS", "CITY", "STATE", "COUNTY", "ZIP", "LAT",
    "LON", "HEALTHCARE_EXPENSES", "HEALTHCARE_COVERAGE",
]  # fmt: skip
SYNTHEA_ENCOUNTERS = [
    "Id", "START", "STOP", "PATIENT", "ORGANIZATION", "PROVIDER", "PAYER", "ENCOUNTERCLASS", "CODE", "DESCRIPTION",
    "BASE_ENCOUNTER_COST", "TOTAL_CLAIM_COST", "PAYER_COVERAGE", "REASONCODE", "REASONDESCRIPTION",
]  # fmt: skip

TINY_MAPPING = """\
mapping_version: 1
system: tiny-clinic
title: A tiny invented clinic export
source:
  encoding: utf-8
  delimiter: ";"
  timezone: Europe/Oslo
  patient_table: personer
code_systems:
  kjonn: urn:oid:2.16.578.1.12.4.1.1.3101
tables:
  personer:
    file: personer.csv
    key: pid
    patient: pid
    targets:
      - table: patient
        fields:
          given_name: fornavn
          family_name: etternavn
          birth_date: {column: fodt, format: "%d.%m.%Y", required: true}
          sex: {system: kjonn, code: {column: kjonn, map: {K: "2", M: "1"}}, original_text: kjonn}
  kontakter:
    file: kontakter.csv
    key: kid
    patient: pid
    targets:
      - table: encounter
        fields:
          encounter_id: {column: kid, required: true}
          start_at: {column: tid, format: "%d.%m.%Y %H:%M"}
  notater:
    file: notater.csv
    preserve: free-text notes are kept verbatim in this test
"""


def _write(path: Path, header: list[str], rows: list[dict[str, str]], *, delimiter: str = ",") -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=header, delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)


def _synthea_source(tmp: Path) -> tuple[Path, Path | None]:
    src = tmp / "synthea-export"
    src.mkdir()
    _write(
        src / "patients.csv",
        SYNTHEA_PATIENTS,
        [
            {"Id": "p-1", "BIRTHDATE": "1961-05-17", "FIRST": "Åse", "LAST": "Ødegård", "GENDER": "F"},
            {"Id": "p-2", "BIRTHDATE": "1990-12-31", "FIRST": "Per", "LAST": "Hansen", "GENDER": "M", "SSN": "1"},
            {"Id": "p-3", "BIRTHDATE": "2001-01-01", "FIRST": "Ola, jr.", "LAST": 'K"nut', "GENDER": "M"},
        ],
    )
    _write(
        src / "encounters.csv",
        SYNTHEA_ENCOUNTERS,
        [
            {
                "Id": "e-1",
                "START": "2020-01-02T08:00:00Z",
                "PATIENT": "p-1",
                "ENCOUNTERCLASS": "ambulatory",
                "CODE": "185349003",
                "DESCRIPTION": "Encounter for check up",
            },
            {
                "Id": "e-2",
                "START": "2021-06-30T13:15:00Z",
                "PATIENT": "p-2",
                "ENCOUNTERCLASS": "wellness",
                "CODE": "410620009",
                "DESCRIPTION": "Well child visit",
            },
        ],
    )
    return src, None


def _csv_source(tmp: Path) -> tuple[Path, Path | None]:
    src = tmp / "clinic-export"
    src.mkdir()
    _write(
        src / "personer.csv",
        ["pid", "fornavn", "etternavn", "fodt", "kjonn", "merknad"],
        [
            {"pid": "1", "fornavn": "Åse", "etternavn": "Ødegård", "fodt": "17.05.1961", "kjonn": "K"},
            {
                "pid": "2",
                "fornavn": "Per",
                "etternavn": "Hansen",
                "fodt": "31.12.1990",
                "kjonn": "M",
                "merknad": "flyttet; ny adresse",
            },
        ],
        delimiter=";",
    )
    _write(
        src / "kontakter.csv",
        ["kid", "pid", "tid"],
        [{"kid": "k1", "pid": "1", "tid": "02.01.2020 08:00"}, {"kid": "k2", "pid": "2", "tid": "30.06.2021 13:15"}],
        delimiter=";",
    )
    _write(src / "notater.csv", ["pid", "tekst"], [{"pid": "1", "tekst": "linje 1\nlinje 2"}], delimiter=";")
    mapping = tmp / "tiny-clinic.yaml"
    mapping.write_text(TINY_MAPPING, encoding="utf-8")
    return src, mapping


def _sql_source(tmp: Path) -> tuple[Path | str, Path | None]:
    """The csv reader's tiny clinic, loaded into a SQLite database (a real one, through SQLAlchemy)."""
    import csv
    import sqlite3

    folder, mapping = _csv_source(tmp)
    db = tmp / "clinic.db"
    con = sqlite3.connect(db)
    for f in sorted(folder.glob("*.csv")):
        with f.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh, delimiter=";"))
        cols = ", ".join(f'"{h}" text' for h in rows[0])
        con.execute(f'create table "{f.stem}" ({cols})')
        con.executemany(f'insert into "{f.stem}" values ({",".join("?" * len(rows[0]))})', rows[1:])
    con.commit()
    con.close()
    return f"sqlite:///{db}", mapping


def _omop_source(tmp: Path) -> tuple[Path | str, Path | None]:
    """A small OMOP CDM database: the Eunomia CSV tables (read in place) loaded into SQLite."""
    import csv
    import sqlite3

    folder = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "eunomia-synthea27nj-omop"
    if not (folder / "PERSON.csv").is_file():
        pytest.skip("../shared/data/eunomia-synthea27nj-omop is not available")
    db = tmp / "omop.db"
    con = sqlite3.connect(db)
    for f in sorted(folder.glob("*.csv")):
        with f.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        cols = ", ".join(f'"{h}" text' for h in rows[0])
        con.execute(f'create table "{f.stem.lower()}" ({cols})')
        con.executemany(f'insert into "{f.stem.lower()}" values ({",".join("?" * len(rows[0]))})', rows[1:])
    con.commit()
    con.close()
    return f"sqlite:///{db}", None


def _openmrs_source(tmp: Path) -> tuple[Path | str, Path | None]:
    """A few OpenMRS tables (the columns the mapping reads for patients and encounters) in SQLite."""
    import sqlite3

    db = tmp / "openmrs.db"
    con = sqlite3.connect(db)
    con.executescript(
        """
        create table patient (patient_id integer primary key, voided integer);
        create table person (person_id integer primary key, birthdate text, death_date text, gender text,
                             voided integer);
        create table person_name (person_name_id integer primary key, person_id integer, given_name text,
                                  family_name text, prefix text, family_name_suffix text, voided integer);
        insert into patient values (2, 0), (7, 0), (9, 1);
        insert into person values (2, '1975-04-08 00:00:00', null, 'M', 0), (7, '1976-08-25', null, 'F', 0),
                                  (9, '1980-01-01', null, 'F', 0);
        insert into person_name values (1, 2, 'Åse', 'Ødegård', null, null, 0), (2, 7, 'Per', 'Hansen', null, null, 0);
        """
    )
    con.commit()
    con.close()
    return f"sqlite:///{db}", None


def _practice_source(tmp: Path) -> tuple[Path | str, Path | None]:
    """A small clean demo GP practice: database, KITH messages and attachments (no deliberate flaws)."""
    from converters.practice_generator import write_practice

    write_practice(tmp / "practice", patients=12, seed=5, flaws=False)
    return tmp / "practice", None


SOURCES: dict[str, Callable[[Path], tuple[Path | str, Path | None]]] = {
    "openmrs": _openmrs_source,
    "omop": _omop_source,
    "synthea-csv": _synthea_source,
    "csv": _csv_source,
    "sql": _sql_source,
    "kith": lambda tmp: (Path(__file__).parent / "fixtures" / "kith", None),
    "hl7v2": lambda tmp: (Path(__file__).parent / "fixtures" / "hl7v2", None),
    "ccda": lambda tmp: (Path(__file__).parent / "fixtures" / "ccda" / "clean", None),
    "practice": _practice_source,
    "fhir": lambda tmp: (Path(__file__).parent / "fixtures" / "fhir" / "clean", None),
}
"""A tiny synthetic source (folder, --mapping file or None) for each registered reader."""


def _reader(name: str) -> SourceReader:
    return READERS[name]()


def _source(name: str, tmp: Path) -> tuple[Path | str, Path | None]:
    if name not in SOURCES:
        pytest.fail(f"reader {name!r} has no synthetic source in tests/test_conformance.py SOURCES; add one")
    return SOURCES[name](tmp)


def _snapshot(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under root with its type, size and mtime (ns)."""
    out: dict[str, tuple[int, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            st = p.lstat()
            out[str(p.relative_to(root))] = (st.st_mode, st.st_size, st.st_mtime_ns)
    st = root.lstat()
    out["."] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return out


# --------------------------------------------------------------------------------- attributes


def test_registry_is_not_empty() -> None:
    assert READERS


@pytest.mark.parametrize("name", READER_NAMES)
def test_class_attributes(name: str) -> None:
    cls = READERS[name]
    assert issubclass(cls, SourceReader)
    for attr in ("name", "title", "reads"):
        value = getattr(cls, attr)
        assert isinstance(value, str)
        assert value.strip(), f"{name}.{attr} is empty"
    assert cls.name == name
    assert cls.default_mapping is None or isinstance(cls.default_mapping, str)


# ---------------------------------------------------------------------------------- detection


def _non_matching(tmp: Path) -> list[Path]:
    folder = tmp / "not-an-export"
    (folder / "sub").mkdir(parents=True)
    (folder / "notes.md").write_text("# nothing to convert here\n", encoding="utf-8")
    (folder / "data.json").write_text('{"patients": []}\n', encoding="utf-8")
    (folder / "sub" / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    plain_file = tmp / "single.bin"
    plain_file.write_bytes(b"\x00\x01")
    return [folder, tmp / "empty-folder", plain_file, tmp / "does-not-exist"]


@pytest.mark.parametrize("name", READER_NAMES)
def test_accepts_rejects_other_folders_without_side_effects(name: str, tmp_path: Path) -> None:
    (tmp_path / "empty-folder").mkdir()
    candidates = _non_matching(tmp_path)
    before = _snapshot(tmp_path)
    reader = _reader(name)
    for path in candidates:
        assert reader.accepts(path) is False, path
    assert _snapshot(tmp_path) == before


@pytest.mark.parametrize("name", READER_NAMES)
def test_accepts_its_own_source_without_side_effects(name: str, tmp_path: Path) -> None:
    source, _ = _source(name, tmp_path)
    before = _snapshot(tmp_path)
    assert _reader(name).accepts(source) is True
    assert _snapshot(tmp_path) == before


# -------------------------------------------------------------------------------- the mapping


@pytest.mark.parametrize("name", READER_NAMES)
def test_default_mapping_targets_the_canonical_model(name: str, tmp_path: Path) -> None:
    reader = _reader(name)
    if reader.default_mapping is None:
        with pytest.raises(SourceError):
            reader.load_mapping(SourceInfo(path=tmp_path))
        return
    path = mapping_path(reader.default_mapping)
    assert path.is_file()
    mapping = load_mapping(path)
    assert reader.load_mapping(SourceInfo(path=tmp_path)).sha256 == mapping.sha256
    assert mapping.tables
    for table in mapping.tables:
        for target in table.targets:
            assert target.table in TABLES, f"{target.path}: {target.table}"
            names = set(TABLES[target.table].field_names())
            for field in target.fields:
                assert field.target in names, f"{field.rule.path}: {target.table}.{field.target}"
                assert field.rule.target_type == TABLES[target.table].get(field.target).type


# ------------------------------------------------------------------------------ reading batches


def _read_tables(reader: SourceReader, source: Path | str, mapping_file: Path | None):
    info = reader.source_info(source, mapping=mapping_file)
    mapping = reader.load_mapping(info)
    return reader.tables(info, mapping)


@pytest.mark.parametrize("name", READER_NAMES)
def test_batches_follow_the_contract(name: str, tmp_path: Path) -> None:
    reader = _reader(name)
    source, mapping_file = _source(name, tmp_path)
    tables = _read_tables(reader, source, mapping_file)
    present = [t for t in tables if not t.missing]
    assert present, "the synthetic source has tables"
    for table in tables:
        batches = list(reader.read(table))
        if table.missing:
            assert batches == []
            continue
        assert table.columns, table.name
        if table.size_unit == "rows" and table.size == 0:  # an empty database table yields no batch
            assert batches == []
            continue
        assert batches, table.name
        numbers: list[int] = []
        for batch in batches:
            assert isinstance(batch, SourceBatch)
            assert batch.problems == []
            schema = batch.table.schema
            own_refs = REF_COLUMN in schema.names  # message readers say where each record is
            assert schema.names == [*table.columns, ROW_COLUMN, *([REF_COLUMN] if own_refs else [])]
            assert schema.field(ROW_COLUMN).type == pa.int64()
            for column in table.columns:
                assert schema.field(column).type == pa.string(), column
            numbers += batch.table.column(ROW_COLUMN).to_pylist()
        first = 1 if own_refs else 2  # a delimited file's header is record 1; messages have none
        assert numbers[0] == first
        assert all(b > a for a, b in zip(numbers, numbers[1:], strict=False))
        assert numbers == list(range(first, len(numbers) + first))  # a clean source has no gaps


@pytest.mark.parametrize("name", READER_NAMES)
def test_reading_is_deterministic(name: str, tmp_path: Path) -> None:
    reader = _reader(name)
    source, mapping_file = _source(name, tmp_path)
    first = _read_tables(reader, source, mapping_file)
    other = _reader(name)  # a second reader, opened on the same source, reads the same
    second = _read_tables(other, source, mapping_file)
    assert first == second
    for table in first:
        a = list(reader.read(table))
        b = list(other.read(table))
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert x.table.equals(y.table)
            assert x.problems == y.problems


# --------------------------------------------------------------------------------- conversion


def _check_report(folder: Path) -> None:
    """Every reader's package carries the report: JSON valid against its schema, HTML, a passing PDF/A-2b."""
    import json

    import jsonschema
    import pikepdf.pdfa

    schema = json.loads((Path(__file__).resolve().parent.parent / "reports" / "report_schema.json").read_text())
    jsonschema.validate(json.loads((folder / "report.json").read_text(encoding="utf-8")), schema)
    assert "id=\"reconciliation\"" in (folder / "report.html").read_text(encoding="utf-8")
    assert pikepdf.pdfa.validate_written(folder / "report.pdf", "2b").verdict == "pass"


@pytest.mark.parametrize("name", READER_NAMES)
def test_conversion_writes_declared_schemas_with_lineage(name: str, tmp_path: Path) -> None:
    source, mapping_file = _source(name, tmp_path)
    result = run_conversion(
        ConversionOptions(system=name, source=source, archive=tmp_path / "package", mapping=mapping_file),
        finishers=[write_report],
    )
    layout = open_package(result.archive)
    _check_report(layout.dir("report"))
    reader = READERS[name]()
    system = reader.load_mapping(SourceInfo(mapping=mapping_file)).system
    written = layout.canonical_tables()
    assert written, "the synthetic source converts into at least one canonical table"
    assert set(written) == set(result.tables)
    for table in written:
        declared = TABLES[table].schema()
        got = pq.read_schema(layout.table(table))
        assert got.names == declared.names, table
        assert got.types == declared.types, table
        data = pq.read_table(layout.table(table))
        assert data.num_rows == result.tables[table]
        for row in data.select(["source_system", "source_ref", "source_hash", "run_id"]).to_pylist():
            assert row["source_system"] == system  # the mapping's system, not the reader's name
            assert row["source_ref"]
            assert row["source_hash"]
            assert row["run_id"] == result.run_id
    assert result.ledger.gaps() == []
    assert result.ledger.totals()["rejected"] == 0, "the synthetic source is clean"
    assert result.ledger.totals()["converted"] > 0
