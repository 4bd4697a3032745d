"""The mapping document: every source table and column with its fate, in Markdown and HTML.

Real inputs only: the shipped Synthea mapping, the headers of the Synthea sample (read in place),
a real conversion of that sample, and a small hand-written mapping with a source of its own.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest

from converters.mapping import Mapping, load_mapping
from converters.pipeline import ConversionOptions, ConversionResult, run_conversion
from mappings import mapping_path
from reports.mapping_doc import (
    LABELS,
    MappingDocument,
    mapping_document,
    render_html,
    render_markdown,
    write_mapping_doc,
)
from validation import validate_archive

FATES = {"converted", "filter", "condition", "patient", "dropped", "preserved"}


@pytest.fixture(scope="module")
def synthea() -> Mapping:
    return load_mapping(mapping_path("synthea-csv"))


@pytest.fixture(scope="module")
def headers(synthea_dir: Path) -> dict[str, list[str]]:
    """The header row of every CSV file of the sample, by file stem, read with the csv module."""
    out = {}
    for path in sorted(synthea_dir.glob("*.csv")):
        with path.open(newline="", encoding="utf-8-sig") as fh:
            out[path.stem] = next(csv.reader(fh))
    return out


@pytest.fixture(scope="module")
def full_doc(synthea: Mapping, headers: dict[str, list[str]]) -> MappingDocument:
    return mapping_document(synthea, source_columns=headers)


@pytest.fixture(scope="module")
def converted(synthea_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ConversionResult]:
    """One real conversion of the sample, with the mapping document as a finisher."""
    target = tmp_path_factory.mktemp("mapdoc") / "archive"
    result = run_conversion(
        ConversionOptions(system="synthea-csv", source=synthea_dir, archive=target), finishers=[write_mapping_doc]
    )
    return result.archive, result


def _section(markdown: str, table: str) -> str:
    """The Markdown section of one source table (from its heading to the next table heading)."""
    parts = re.split(r"^## ", markdown, flags=re.MULTILINE)
    found = [p for p in parts if p.startswith(f"`{table}`")]
    assert len(found) == 1, table
    return found[0]


def _item(section: str, column: str) -> str:
    """The list item of one column, with its sub-items."""
    match = re.search(rf"^- `{re.escape(column)}`:.*(\n  - .*)*", section, flags=re.MULTILINE)
    assert match, column
    return match.group(0)


# --- tables -------------------------------------------------------------------------------------


def test_lists_all_18_tables_in_mapping_order(synthea: Mapping) -> None:
    doc = mapping_document(synthea)
    assert [t.name for t in doc.tables] == [t.name for t in synthea.tables]
    assert len(doc.tables) == 18
    assert doc.coverage.tables_mapped == 12 and doc.coverage.tables_preserved == 6
    markdown = render_markdown(doc)
    for t in synthea.tables:
        _section(markdown, t.name)


def test_without_source_only_the_mapping_columns_are_listed(synthea: Mapping) -> None:
    doc = mapping_document(synthea)
    assert not doc.columns_from_source
    for tm in synthea.tables:
        listed = [c.name for c in doc.table(tm.name).columns]
        assert sorted(listed) == sorted(tm.consumed_columns())
    assert doc.table("careplans").columns == ()
    assert "only the columns the mapping names are listed" in render_markdown(doc)


def test_claims_transactions_preserved_raw_with_its_reason(full_doc: MappingDocument, synthea: Mapping) -> None:
    table = full_doc.table("claims_transactions")
    assert table.targets == ()
    assert table.preserve_reason == synthea.table("claims_transactions").preserve_reason
    assert {c.fate for c in table.columns} == {"preserved"}
    section = _section(render_markdown(full_doc), "claims_transactions")
    assert "Fate: preserved raw: Charge, payment and transfer lines of each claim." in section
    assert "linked by CLAIMID = billing.claim_id." in section


# --- columns ------------------------------------------------------------------------------------


def test_every_source_column_listed_exactly_once(full_doc: MappingDocument, headers: dict[str, list[str]]) -> None:
    assert len(headers) == 18
    markdown = render_markdown(full_doc)
    for stem, columns in headers.items():
        table = full_doc.table(stem)
        assert table is not None and table.in_mapping, stem
        assert [c.name for c in table.columns] == columns, stem
        assert all(c.fate in FATES and not c.missing for c in table.columns), stem
        section = _section(markdown, stem)
        for col in columns:
            assert len(re.findall(rf"^- `{re.escape(col)}`:", section, flags=re.MULTILINE)) == 1, (stem, col)


def test_coverage_counts_every_header_column(
    full_doc: MappingDocument, headers: dict[str, list[str]], synthea: Mapping
) -> None:
    cov = full_doc.coverage
    assert cov.columns_consumed + cov.columns_preserved + cov.columns_dropped == sum(map(len, headers.values()))
    consumed = sum(len(synthea.table(n).consumed_columns() & set(cols)) for n, cols in headers.items())
    assert cov.columns_consumed == consumed
    assert cov.columns_dropped == 0  # the Synthea mapping drops nothing
    names = [n for n, rows in full_doc.canonical]
    assert names[:2] == ["patient", "encounter"] and "billing" in names and len(names) == 12
    assert all(rows is None for _, rows in full_doc.canonical)  # no ledger given


def test_first_name_fills_patient_given_name(full_doc: MappingDocument) -> None:
    col = full_doc.table("patients").column("FIRST")
    assert col.fate == "converted"
    assert [(f.table, f.field) for f in col.fills] == [("patient", "given_name")]
    assert col.fills[0].description == "given name(s)"
    item = _item(_section(render_markdown(full_doc), "patients"), "FIRST")
    assert item == "- `FIRST`: fills `patient.given_name` (given name(s))"


def test_race_is_preserved_raw(full_doc: MappingDocument) -> None:
    assert full_doc.table("patients").column("RACE").fate == "preserved"
    item = _item(_section(render_markdown(full_doc), "patients"), "RACE")
    assert item == "- `RACE`: preserved raw (not consumed)"


def test_observation_category_is_filter_and_measurement_category(full_doc: MappingDocument) -> None:
    col = full_doc.table("observations").column("CATEGORY")
    assert [(f.table, f.field) for f in col.fills] == [("measurement", "category")]
    assert [(u.kind, u.what, u.condition.op) for u in col.filters] == [
        ("where", "lab_result", "equals"),
        ("where", "measurement", "not_in"),
    ]
    item = _item(_section(render_markdown(full_doc), "observations"), "CATEGORY")
    assert "fills `measurement.category`" in item
    assert "filter (where) of `lab_result`: `CATEGORY` = `laboratory`" in item
    assert "filter (where) of `measurement`: `CATEGORY` is not one of [`laboratory`]" in item


def test_transforms_are_described(full_doc: MappingDocument) -> None:
    md = render_markdown(full_doc)
    patients = _section(md, "patients")
    assert "format `%Y-%m-%d`; required" in _item(patients, "BIRTHDATE")
    gender = _item(patients, "GENDER")
    assert "map with 2 entries (`F → female`, `M → male`); unknown values: `flag`" in gender
    assert "fills `patient.sex_original_text`" in gender
    ssn = _item(patients, "SSN")
    assert "condition (when) for `patient.identifier_type`" in ssn
    # constants are listed on their own, with the condition that gates them
    assert "- `patient.country` (country) — constant `US`" in patients
    assert "constant `SSN`; when `SSN` is not empty" in patients
    encounters = _section(md, "encounters")
    assert "format `%Y-%m-%dT%H:%M:%SZ`; time zone `UTC`; required" in _item(encounters, "START")
    # the patient column fills patient_id of every patient-scoped target
    patient = _item(_section(md, "observations"), "PATIENT")
    assert "fills `lab_result.patient_id`" in patient and "fills `measurement.patient_id`" in patient
    assert "patient key of the table" in patient
    # the value gated by another column
    value = _item(_section(md, "observations"), "VALUE")
    assert "fills `lab_result.value_numeric`" in value and "when `TYPE` = `numeric`" in value
    assert "condition only (when)" in _item(_section(md, "observations"), "TYPE")


def test_unknown_and_missing_tables(synthea: Mapping, headers: dict[str, list[str]]) -> None:
    columns = {k: v for k, v in headers.items() if k != "devices"}
    columns["patients"] = [c for c in headers["patients"] if c != "FIRST"]
    columns["extra_register.csv"] = ["A", "B"]
    doc = mapping_document(synthea, source_columns=columns)
    assert doc.tables[-1].name == "extra_register.csv" and not doc.tables[-1].in_mapping
    assert [c.fate for c in doc.tables[-1].columns] == ["preserved", "preserved"]
    assert doc.table("devices").missing
    first = doc.table("patients").column("FIRST")
    assert first.missing and doc.table("patients").columns[-1] is first
    md = render_markdown(doc)
    assert "Fate: not in the mapping: preserved raw" in _section(md, "extra_register.csv")
    assert "Fate: preserved raw: Implanted devices" in _section(md, "devices")
    assert "(the source has no such table)" in _section(md, "devices")
    assert "(missing from the source)" in _item(_section(md, "patients"), "FIRST")


# --- languages and HTML -------------------------------------------------------------------------


def test_norwegian_labels(full_doc: MappingDocument) -> None:
    md = render_markdown(full_doc, "nb")
    assert md.startswith("# Tilordning: Synthea CSV export (v3)\n")
    assert "## Dekning" in md
    assert _item(_section(md, "patients"), "RACE") == "- `RACE`: bevart rått (ikke brukt)"
    assert "når `SSN` ikke er tom" in md
    assert 'lang="nb"' in render_html(full_doc, "nb")
    assert set(LABELS["nb"]) == set(LABELS["en"])
    with pytest.raises(ValueError, match="unknown language 'de'"):
        render_markdown(full_doc, "de")


def test_html_is_self_contained(full_doc: MappingDocument) -> None:
    page = render_html(full_doc)
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>\n")
    assert "<script" not in page and "src=" not in page and "href=" not in page and "@import" not in page
    assert "<code>patient.given_name</code>" in page
    assert render_html(full_doc) == page and render_markdown(full_doc) == render_markdown(full_doc)


TINY = """\
mapping_version: 1
system: tiny-gp
title: Tiny <GP> & co
description: exported by "JournalPro" <v2>
source: {delimiter: ";", patient_table: pasient, timezone: Europe/Oslo}
code_systems:
  icpc2: urn:oid:2.16.578.1.12.4.1.1.7170
tables:
  pasient:
    description: patients; the <script>alert(1)</script> column is dropped
    patient: id
    drop_columns: {passord: "a password hash, never archived"}
    targets:
      - table: patient
        fields:
          patient_id: id
          given_name: {concat: [fornavn, mellomnavn], separator: " "}
          birth_date: {column: fodt, format: "%d.%m.%Y"}
  diagnose:
    patient: pid
    exclude:
      - where: {column: status, equals: slettet}
        reason: deleted in the old system
    targets:
      - table: diagnosis
        fields:
          diagnosis:
            system: icpc2
            code: kode
            display: {column: kode, lookup: {table: kodeverk, key: kode, value: tekst}, on_unknown: "null"}
          onset_at: {column: dato, formats: ["%d.%m.%Y %H:%M", "%d.%m.%Y"], timezone: Europe/Oslo}
  kodeverk:
    preserve: the ICPC-2 code texts; looked up for diagnosis_display
"""


def _tiny_source(tmp_path: Path) -> tuple[Path, Path]:
    src = tmp_path / "src"
    src.mkdir()
    (src / "pasient.csv").write_text(
        "id;fornavn;mellomnavn;fodt;passord\np1;Kari;Anne;01.02.1950;x\np2;Ola;;03.04.1960;y\n", encoding="utf-8"
    )
    (src / "diagnose.csv").write_text(
        "pid;kode;dato;status\np1;K86;01.03.2020 10:15;aktiv\np2;R74;02.03.2020;slettet\np2;X99;03.03.2020;aktiv\n",
        encoding="utf-8",
    )
    (src / "kodeverk.csv").write_text("kode;tekst\nK86;Hypertensjon\nR74;Luftveisinfeksjon\n", encoding="utf-8")
    (src / "notater.csv").write_text("pid;tekst\np1;hei\n", encoding="utf-8")
    mapping = tmp_path / "tiny.yaml"
    mapping.write_text(TINY, encoding="utf-8")
    return src, mapping


def test_html_escapes_the_mapping_text(tmp_path: Path) -> None:
    _, path = _tiny_source(tmp_path)
    doc = mapping_document(load_mapping(path))
    page = render_html(doc)
    assert "<script>" not in page and "<GP>" not in page
    assert "the &lt;script&gt;alert(1)&lt;/script&gt; column is dropped" in page
    assert "<title>Mapping: Tiny &lt;GP&gt; &amp; co</title>" in page
    assert "exported by &quot;JournalPro&quot; &lt;v2&gt;" in page
    md = render_markdown(doc)
    assert "the \\<script>alert(1)\\</script> column is dropped" in md


def test_drop_exclude_concat_and_lookup(tmp_path: Path) -> None:
    _, path = _tiny_source(tmp_path)
    columns = {
        "pasient": ["id", "fornavn", "mellomnavn", "fodt", "passord"],
        "diagnose": ["pid", "kode", "dato", "status"],
        "kodeverk": ["kode", "tekst"],
    }
    doc = mapping_document(load_mapping(path), source_columns=columns)
    pasient, diagnose, kodeverk = (doc.table(n) for n in ("pasient", "diagnose", "kodeverk"))
    assert pasient.column("passord").fate == "dropped"
    assert pasient.column("passord").drop_reason == "a password hash, never archived"
    assert [f.field for f in pasient.column("mellomnavn").fills] == ["given_name"]
    assert diagnose.column("status").fate == "filter"
    assert [(u.kind, u.what) for u in diagnose.column("status").filters] == [("exclude", "deleted in the old system")]
    assert kodeverk.column("kode").fate == "preserved"  # a lookup reads it, but does not consume it
    assert kodeverk.column("kode").lookups == (("key", "diagnose → diagnosis.diagnosis_display"),)
    assert doc.coverage.columns_dropped == 1 and doc.coverage.columns_preserved == 2
    md = render_markdown(doc)
    assert "- `passord`: dropped: a password hash, never archived" in md
    assert 'concatenation of `fornavn` + `mellomnavn`, separator `" "`' in md
    assert "- Excluded: rows where `status` = `slettet`: deleted in the old system" in md
    assert "filter only (where/exclude)" in _item(_section(md, "diagnose"), "status")
    kode = _item(_section(md, "diagnose"), "kode")
    assert "lookup `kodeverk: kode → tekst`; unknown values: `null`" in kode
    assert "formats `%d.%m.%Y %H:%M`, `%d.%m.%Y`; time zone `Europe/Oslo`" in md
    assert "lookup key for `diagnose → diagnosis.diagnosis_display`" in _item(_section(md, "kodeverk"), "kode")


# --- ledger counts and the finisher --------------------------------------------------------------


def test_ledger_counts_from_a_real_conversion(converted: tuple[Path, ConversionResult], synthea: Mapping) -> None:
    archive, result = converted
    doc = mapping_document(synthea, ledger=result.ledger.to_dict())
    patients = doc.table("patients").counts
    assert (patients.source_rows, patients.converted, patients.rejected) == (27, 27, 0)
    assert patients.written == (("patient", 27),)
    assert doc.table("claims_transactions").counts.preserved == doc.table("claims_transactions").counts.source_rows
    assert dict(doc.canonical)["patient"] == 27
    assert dict(doc.canonical) == {k: v for k, v in result.ledger.category_totals().items() if k in dict(doc.canonical)}
    section = _section(render_markdown(doc), "patients")
    assert (
        "- Ledger: source rows 27, converted 27, preserved 0, rejected 0, excluded 0; rows written: `patient` 27"
        in section
    )
    assert "`patient` (27)" in render_markdown(doc).split("## `patients`")[0]
    # the package's own summary.json gives the same document
    summary = json.loads((archive / "data" / "ledger" / "summary.json").read_text(encoding="utf-8"))
    assert mapping_document(synthea, ledger=summary) == doc


def test_finisher_writes_both_files_and_the_package_validates(
    converted: tuple[Path, ConversionResult], synthea: Mapping
) -> None:
    archive, result = converted
    folder = archive / "data" / "mappings"
    assert sorted(p.name for p in folder.iterdir()) == ["synthea-csv.html", "synthea-csv.md", "synthea-csv.yaml"]
    doc = mapping_document(load_mapping(folder / "synthea-csv.yaml"), ledger=result.ledger.to_dict())
    md = (folder / "synthea-csv.md").read_text(encoding="utf-8")
    assert md == render_markdown(doc)
    assert (folder / "synthea-csv.html").read_text(encoding="utf-8") == render_html(doc)
    assert "source rows 27, converted 27" in md
    manifest = (archive / "manifest-sha256.txt").read_text(encoding="utf-8")
    assert "data/mappings/synthea-csv.md" in manifest and "data/mappings/synthea-csv.html" in manifest
    report = validate_archive(archive)
    assert report.valid, [f.message for f in report.findings]


def test_finisher_with_a_custom_mapping(tmp_path: Path) -> None:
    src, path = _tiny_source(tmp_path)
    result = run_conversion(
        ConversionOptions(system="csv", source=src, archive=tmp_path / "out", mapping=path),
        finishers=[write_mapping_doc],
    )
    md = (result.archive / "data" / "mappings" / "tiny.md").read_text(encoding="utf-8")
    diagnose = _section(md, "diagnose")
    assert "source rows 3, converted 2, preserved 0, rejected 0, excluded 1" in diagnose
    # a table the mapping does not name is listed from the ledger, with no columns known
    notater = _section(md, "notater")
    assert "Fate: not in the mapping: preserved raw" in notater and "`unmapped_table` 1" in notater
    assert validate_archive(result.archive).valid
    # deterministic: a second conversion writes the same bytes
    again = run_conversion(
        ConversionOptions(system="csv", source=src, archive=tmp_path / "again", mapping=path),
        finishers=[write_mapping_doc],
    )
    for name in ("tiny.md", "tiny.html"):
        first = (result.archive / "data" / "mappings" / name).read_bytes()
        assert (again.archive / "data" / "mappings" / name).read_bytes() == first
