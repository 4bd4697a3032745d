"""Lookups (joins): a value is translated through two columns of another source table."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from converters.mapping import load_mapping
from converters.pipeline import ConversionOptions, run_conversion
from formats.errors import MappingFileError
from formats.package import open_package
from reports.query import run_query

MAPPING = """\
mapping_version: 1
system: tiny-gp
source: {delimiter: ";", patient_table: pasient, timezone: Europe/Oslo}
code_systems:
  icpc2: urn:oid:2.16.578.1.12.4.1.1.7170
tables:
  pasient:
    patient: id
    targets:
      - table: patient
        fields:
          patient_id: id
          birth_date: {column: fodt, format: "%d.%m.%Y"}
  diagnose:
    patient: pid
    targets:
      - table: diagnosis
        fields:
          diagnosis:
            system: icpc2
            code: kode
            display: {column: kode, lookup: {table: kodeverk, key: kode, value: tekst}, on_unknown: null}
          onset_at: {column: dato, format: "%d.%m.%Y %H:%M"}
  kodeverk:
    preserve: the ICPC-2 code texts the practice system used; looked up for diagnosis_display
"""


def _source(tmp_path: Path, *, with_codes: bool = True) -> tuple[Path, Path]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "pasient.csv").write_text("id;fodt\np1;01.02.1950\np2;03.04.1960\n", encoding="utf-8")
    (src / "diagnose.csv").write_text(
        "pid;kode;dato\np1;K86;01.03.2020 10:15\np2;R74;02.03.2020 11:00\np2;X99;03.03.2020 09:00\n",
        encoding="utf-8",
    )
    if with_codes:
        (src / "kodeverk.csv").write_text(
            "kode;tekst\nK86;Hypertensjon ukomplisert\nR74;Akutt øvre luftveisinfeksjon\n", encoding="utf-8"
        )
    mapping = tmp_path / "tiny.yaml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return src, mapping


def _convert(tmp_path: Path, src: Path, mapping: Path) -> Path:
    result = run_conversion(
        ConversionOptions(system="csv", source=src, archive=tmp_path / "archive", mapping=mapping)
    )
    return result.archive


def test_lookup_fills_code_texts_from_another_table(tmp_path: Path) -> None:
    src, mapping = _source(tmp_path)
    archive = _convert(tmp_path, src, mapping)
    rows = run_query(
        open_package(archive),
        "select diagnosis_code, diagnosis_display, source_system from diagnosis order by diagnosis_code",
    ).to_pylist()
    assert rows == [
        {"diagnosis_code": "K86", "diagnosis_display": "Hypertensjon ukomplisert", "source_system": "tiny-gp"},
        {"diagnosis_code": "R74", "diagnosis_display": "Akutt øvre luftveisinfeksjon", "source_system": "tiny-gp"},
        {"diagnosis_code": "X99", "diagnosis_display": None, "source_system": "tiny-gp"},
    ]
    summary = json.loads((archive / "data" / "ledger" / "summary.json").read_text(encoding="utf-8"))
    by_table = {t["source_table"]: t for t in summary["tables"]}
    assert by_table["diagnose"]["flags"] == {"unknown_code": 1}  # X99 has no text
    assert by_table["kodeverk"]["preserved"] == 2  # the code table itself is kept
    assert summary["balanced"]


def test_a_missing_lookup_table_is_a_note_not_a_failure(tmp_path: Path) -> None:
    src, mapping = _source(tmp_path, with_codes=False)
    result = run_conversion(
        ConversionOptions(system="csv", source=src, archive=tmp_path / "archive", mapping=mapping)
    )
    assert any(n["flag"] == "missing_lookup" for n in result.notes)
    assert result.tables["diagnosis"] == 3
    assert result.ledger.to_dict()["balanced"]


def test_lookup_mistakes_are_reported_with_their_key_path(tmp_path: Path) -> None:
    text = MAPPING.replace("lookup: {table: kodeverk,", "map: {K86: x}, lookup: {table: nosuch,")
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(MappingFileError) as info:
        load_mapping(path)
    errors = info.value.errors
    prefix = "tables.diagnose.targets[0].fields.diagnosis.display"
    assert any(e.startswith(f"{prefix}.lookup.table:") and "nosuch" in e for e in errors), errors
    assert any(e.startswith(f"{prefix}:") and "map or lookup" in e for e in errors), errors
