"""The check catalogue: one planted fault fails exactly its check; config thresholds; garbage never raises.

Run ``python tests/test_catalogue.py`` to regenerate docs/checks.md from the catalogue.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st
from lxml import etree

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from formats.addml import ADDML_NS  # noqa: E402
from formats.bag import sha256_file, write_manifest, write_tagmanifest  # noqa: E402
from formats.table_sink import write_csv_options  # noqa: E402
from validation import CHECKS, validate_archive  # noqa: E402
from validation.catalogue import (  # noqa: E402
    ChecksConfigError,
    catalogue_markdown,
    failed_checks,
    load_check_settings,
)
from validation.codes import code_system, luhn_ok, verhoeff_ok  # noqa: E402

DOC = REPO / "docs" / "checks.md"
IDS = [c.id for c in CHECKS]


# --- a clean package and tools to plant faults that are valid bag-wise ----------------------


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo practice (6 patients), converted; every check passes on it."""
    from converters.pipeline import ConversionOptions, run_conversion
    from converters.practice_generator import write_practice
    from reports.package_report import write_report

    root = tmp_path_factory.mktemp("catalogue")
    write_practice(root / "source", patients=6, seed=3)
    result = run_conversion(
        ConversionOptions(system="practice", source=root / "source", archive=root / "archive"),
        finishers=[write_report],
    )
    return result.archive


def reseal(root: Path) -> None:
    """Recompute the payload manifest, Payload-Oxum and the tag manifest after planting."""
    octets, files = write_manifest(root)
    info = root / "bag-info.txt"
    text = re.sub(r"Payload-Oxum: .*", f"Payload-Oxum: {octets}.{files}", info.read_text(encoding="utf-8"))
    info.write_text(text, encoding="utf-8")
    write_tagmanifest(root)


def read(root: Path, rel: str) -> pa.Table:
    return pq.read_table(root / "data" / f"{rel}.parquet")


def rewrite(root: Path, rel: str, table: pa.Table, *, csv: bool = True) -> None:
    """Write ``table`` as data/<rel>.parquet (and, with ``csv``, its CSV twin and ADDML entry)."""
    path = root / "data" / f"{rel}.parquet"
    table = table.cast(pq.read_schema(path))
    pq.write_table(table, path, compression="zstd")
    if not csv:
        return
    csv_path = path.with_suffix(".csv")
    pcsv.write_csv(table, csv_path, write_options=write_csv_options())
    addml = root / "data" / "schema" / "addml.xml"
    tree = etree.parse(str(addml))
    ns = {"a": ADDML_NS}
    for ff in tree.iterfind(".//a:flatFile", ns):
        props = {p.get("name"): p for p in ff.iterfind(".//a:property", ns)}
        if props["fileName"].findtext("a:value", namespaces=ns) == f"{rel}.csv":
            props["numberOfRecords"].find("a:value", ns).text = str(table.num_rows)
            props["value"].find("a:value", ns).text = sha256_file(csv_path)
    tree.write(str(addml), xml_declaration=True, encoding="UTF-8", pretty_print=True)


def set_value(table: pa.Table, column: str, row: int, value: object) -> pa.Table:
    values = table.column(column).to_pylist()
    values[row] = value
    i = table.schema.get_field_index(column)
    return table.set_column(i, table.schema.field(i), pa.array(values, table.schema.field(i).type))


def _fixity(root: Path) -> None:
    with (root / "data" / "README.txt").open("a", encoding="utf-8") as fh:
        fh.write("one more line\r\n")


def _schema(root: Path) -> None:
    t = read(root, "tables/encounter")
    meta = dict(t.schema.metadata or {})
    meta[b"model_version"] = b"0.9.0"
    path = root / "data" / "tables" / "encounter.parquet"
    pq.write_table(t.replace_schema_metadata(meta), path, compression="zstd")
    reseal(root)


def _twins(root: Path) -> None:
    t = read(root, "raw/PASIENT")
    col = t.column_names[-1]
    rewrite(root, "raw/PASIENT", set_value(t, col, 0, "changed in Parquet only"), csv=False)
    reseal(root)


def _ledger(root: Path) -> None:
    path = root / "data" / "ledger" / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8"))
    summary["tables"][0]["converted"] += 1
    path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    reseal(root)


def _references(root: Path) -> None:
    rewrite(root, "tables/diagnosis", set_value(read(root, "tables/diagnosis"), "patient_id", 0, "no-such-patient"))
    reseal(root)


def _originals(root: Path) -> None:
    next((root / "data" / "originals" / "messages").iterdir()).unlink()
    reseal(root)


def _documents(root: Path) -> None:
    next((root / "data" / "documents").glob("*.pdf")).unlink()
    reseal(root)


def _description(root: Path) -> None:
    (root / "data" / "README.txt").unlink()
    reseal(root)


def _coverage(root: Path) -> None:
    path = root / "data" / "schema" / "encounter.schema.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    schema["properties"]["start_at"]["description"] = ""
    path.write_text(json.dumps(schema, indent=2), encoding="utf-8")
    reseal(root)


def _identifiers(root: Path) -> None:
    t = read(root, "tables/patient")
    number = t.column("identifier_value")[0].as_py()
    wrong = number[:-1] + str((int(number[-1]) + 1) % 10)
    rewrite(root, "tables/patient", set_value(t, "identifier_value", 0, wrong))
    reseal(root)


def _codes(root: Path) -> None:
    rewrite(root, "tables/diagnosis", set_value(read(root, "tables/diagnosis"), "diagnosis_code", 0, "XYZ1"))
    reseal(root)


def _dates(root: Path) -> None:
    import datetime as dt

    old = dt.datetime(1850, 1, 1, tzinfo=dt.UTC)
    rewrite(root, "tables/measurement", set_value(read(root, "tables/measurement"), "observed_at", 0, old))
    reseal(root)


def _duplicates(root: Path) -> None:
    t = read(root, "tables/measurement")
    patients = t.column("patient_id").to_pylist()
    row = next(i for i in range(1, len(patients)) if patients[i] == patients[i - 1])
    keep = {"record_id", "source_system", "source_ref", "source_hash", "run_id"}
    for col in t.column_names:
        if col not in keep:
            t = set_value(t, col, row, t.column(col)[row - 1].as_py())
    rewrite(root, "tables/measurement", t)
    reseal(root)


def _text(root: Path) -> None:
    rewrite(
        root, "tables/journal_note", set_value(read(root, "tables/journal_note"), "text", 0, "Vondt i kneet, GrÃ¸nn")
    )
    reseal(root)


def _access_log(root: Path) -> None:
    import datetime as dt

    t = read(root, "tables/access_log")
    last = max(t.column("event_at").to_pylist())
    cutoff = last - dt.timedelta(days=200)
    moved = [max(v, cutoff + dt.timedelta(seconds=i)) for i, v in enumerate(t.column("event_at").to_pylist())]
    i = t.schema.get_field_index("event_at")
    rewrite(root, "tables/access_log", t.set_column(i, t.schema.field(i), pa.array(moved, t.schema.field(i).type)))
    reseal(root)


PLANTS: dict[str, Callable[[Path], None]] = {
    "fixity": _fixity,
    "schema": _schema,
    "twins": _twins,
    "ledger": _ledger,
    "references": _references,
    "originals": _originals,
    "documents": _documents,
    "description": _description,
    "coverage": _coverage,
    "identifiers": _identifiers,
    "codes": _codes,
    "dates": _dates,
    "duplicates": _duplicates,
    "text": _text,
    "access_log": _access_log,
}


def test_every_check_of_the_catalogue_has_a_planted_fault() -> None:
    assert sorted(PLANTS) == sorted(IDS), "add a plant for each new check to PLANTS"


def test_the_clean_package_passes_every_check(clean: Path) -> None:
    report = validate_archive(clean)
    assert failed_checks(report) == set(), [f.to_dict() for f in report.findings]
    assert [o["id"] for o in report.outcomes] == IDS
    assert all(o["status"] == "passed" for o in report.outcomes)


@pytest.mark.parametrize("check_id", list(PLANTS))
def test_one_planted_fault_fails_exactly_its_check(clean: Path, tmp_path: Path, check_id: str) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(clean, copy)
    PLANTS[check_id](copy)
    report = validate_archive(copy)
    assert failed_checks(report) == {check_id}, [f.to_dict() for f in report.findings if f.severity.value != "info"]
    outcome = next(o for o in report.outcomes if o["id"] == check_id)
    assert outcome["status"] == "failed"
    assert not any("internal error" in f.message for f in report.findings)


# --- thresholds from a config file ----------------------------------------------------------


def _bad_identifiers(clean: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy"
    shutil.copytree(clean, copy)
    _identifiers(copy)
    return copy


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_a_config_threshold_tolerates_what_the_default_reports(clean: Path, tmp_path: Path, suffix: str) -> None:
    copy = _bad_identifiers(clean, tmp_path)
    assert "identifiers" in failed_checks(validate_archive(copy))
    config = tmp_path / f"checks{suffix}"
    text = "[checks.identifiers]\nthreshold = 1\n" if suffix == ".toml" else "checks:\n  identifiers: {threshold: 1}\n"
    config.write_text(text, encoding="utf-8")
    report = validate_archive(copy, settings=load_check_settings(config, IDS))
    assert "identifiers" not in failed_checks(report)
    tolerated = [f for f in report.findings if f.check == "identifiers"]
    assert tolerated and all(f.severity.value == "info" and "threshold of 1" in f.message for f in tolerated)


def test_a_config_severity_makes_a_warning_invalidate_the_package(clean: Path, tmp_path: Path) -> None:
    copy = _bad_identifiers(clean, tmp_path)
    assert validate_archive(copy).valid  # a wrong check digit is a warning by default
    config = tmp_path / "checks.toml"
    config.write_text('max_listed = 0\n[checks.identifiers]\nseverity = "error"\n', encoding="utf-8")
    report = validate_archive(copy, settings=load_check_settings(config, IDS))
    assert not report.valid
    assert [f.message for f in report.findings if f.check == "identifiers"] == [
        "1 more finding(s) of this check not listed"
    ]


def test_the_cli_reads_the_config_and_exits_by_it(clean: Path, tmp_path: Path) -> None:
    import convert

    copy = _bad_identifiers(clean, tmp_path)
    config = tmp_path / "checks.yaml"
    config.write_text("checks:\n  identifiers:\n    severity: fatal\n", encoding="utf-8")
    runner = CliRunner()
    ok = runner.invoke(convert.cli, ["validate", str(copy), "--json"])
    assert ok.exit_code == 0, ok.output
    bad = runner.invoke(convert.cli, ["validate", str(copy), "--json", "--checks-config", str(config)])
    assert bad.exit_code == 4, bad.output
    body = json.loads(bad.stdout)
    assert next(c for c in body["checks"] if c["id"] == "identifiers")["severity"] == "fatal"
    wrong = tmp_path / "wrong.toml"
    wrong.write_text("[checks.no_such_check]\nthreshold = 1\n", encoding="utf-8")
    result = runner.invoke(convert.cli, ["validate", str(copy), "--checks-config", str(wrong)])
    assert result.exit_code == 2
    assert "no_such_check" in result.output


@pytest.mark.parametrize(
    "text",
    [
        "max_listed = -1\n",
        '[checks.codes]\nthreshold = "many"\n',
        '[checks.codes]\nseverity = "loud"\n',
        "[checks.codes]\nenabled = false\n",
        "not toml at all [[[",
    ],
)
def test_a_bad_config_is_refused_with_a_hint(tmp_path: Path, text: str) -> None:
    config = tmp_path / "checks.toml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(ChecksConfigError) as info:
        load_check_settings(config, IDS)
    assert "docs/checks.md" in str(info.value)


# --- garbage never raises -------------------------------------------------------------------


def test_no_check_raises_on_a_garbage_package(tmp_path: Path) -> None:
    root = tmp_path / "garbage"
    data = root / "data"
    for rel, content in {
        "tables/patient.parquet": b"PAR1 not really",
        "tables/patient.csv": b"\xff\xfe\x00garbage",
        "tables/encounter.parquet": b"",
        "tables/mystery.parquet": b"PAR1",
        "raw/X.csv": b"a,b\r\n1",
        "ledger/summary.json": b"{not json",
        "ledger/records.parquet": b"junk",
        "rejects/rejects.parquet": b"junk",
        "schema/addml.xml": b"<addml><unclosed>",
        "schema/patient.schema.json": b"[1, 2",
        "documents/x.pdf": b"%PDF-1.4 broken",
        "originals/messages/y.xml": b"<x/>",
        "README.txt": b"",
    }.items():
        (data / rel).parent.mkdir(parents=True, exist_ok=True)
        (data / rel).write_bytes(content)
    (root / "bagit.txt").write_text("BagIt-Version: 1.0\n", encoding="utf-8")
    report = validate_archive(root)
    assert not report.valid
    assert report.checks_run == IDS
    crashed = [f.check for f in report.findings if "internal error" in f.message]
    assert crashed == [], crashed


# --- code shapes and check digits -----------------------------------------------------------


@pytest.mark.parametrize(
    ("system", "code", "ok"),
    [
        ("urn:oid:2.16.578.1.12.4.1.1.7170", "T90", True),
        ("2.16.578.1.12.4.1.1.7170", "T9", False),
        ("2.16.578.1.12.4.1.1.7170", "-57", True),
        ("2.16.578.1.12.4.1.1.7170", "-5", False),
        ("urn:oid:2.16.578.1.12.4.1.1.7110", "E11.9", True),
        ("urn:oid:2.16.578.1.12.4.1.1.7110", "A000", True),
        ("urn:oid:2.16.578.1.12.4.1.1.7110", "E11.", False),
        ("urn:oid:2.16.578.1.12.4.1.1.7180", "A10BA02", True),
        ("urn:oid:2.16.578.1.12.4.1.1.7180", "A10", True),
        ("urn:oid:2.16.578.1.12.4.1.1.7180", "A10BA2", False),
        ("http://loinc.org", "789-8", True),
        ("http://loinc.org", "789-7", False),
        ("http://loinc.org", "QALY", False),
        ("http://snomed.info/sct", "138875005", True),
        ("http://snomed.info/sct", "138875006", False),
        ("http://snomed.info/sct", "01234", False),
        ("urn:oid:2.16.578.1.12.4.1.1.7280", "NPU02593", True),
        ("urn:oid:2.16.578.1.12.4.1.1.7280", "NOR05123", True),
        ("urn:oid:2.16.578.1.12.4.1.1.7280", "NPU2593", False),
    ],
)
def test_code_shapes(system: str, code: str, ok: bool) -> None:  # noqa: FBT001
    cs = code_system(system)
    assert cs is not None
    assert cs.valid(code) is ok


def test_unknown_systems_are_not_judged() -> None:
    assert code_system("urn:journalkonvert:practice:note-type") is None
    assert code_system(None) is None


@given(st.integers(min_value=10**5, max_value=10**17))
def test_a_verhoeff_check_digit_catches_every_single_digit_error(base: int) -> None:
    digits = str(base)
    check = next(d for d in "0123456789" if verhoeff_ok(digits + d))
    for wrong in "0123456789":
        if wrong != check:
            assert not verhoeff_ok(digits + wrong)


@given(st.integers(min_value=1, max_value=9_999_999))
def test_exactly_one_loinc_check_digit_fits(base: int) -> None:
    fitting = [d for d in "0123456789" if luhn_ok(f"{base}{d}")]
    assert len(fitting) == 1
    cs = code_system("http://loinc.org")
    assert cs is not None
    assert cs.valid(f"{base}-{fitting[0]}")


def test_counted_findings_of_identifiers_use_the_vectorised_classifier() -> None:
    from formats.identifiers import classify_array

    _codes, _systems, valid = classify_array(pa.array(["01010112345", None]))
    assert pc.is_null(valid)[1].as_py()


# --- docs/checks.md is generated from the catalogue -----------------------------------------


def test_docs_checks_md_is_up_to_date() -> None:
    assert DOC.read_text(encoding="utf-8") == catalogue_markdown(CHECKS), "run: python tests/test_catalogue.py"


def test_every_check_has_id_title_severity_and_rule() -> None:
    assert len(set(IDS)) == len(IDS)
    for c in CHECKS:
        assert re.fullmatch(r"[a-z_]+", c.id)
        assert c.title and c.rule
        if c.threshold is not None:
            assert c.why, f"{c.id}: say why the default threshold is {c.threshold}"


if __name__ == "__main__":
    DOC.write_text(catalogue_markdown(CHECKS), encoding="utf-8")
    print(f"wrote {DOC.relative_to(REPO)}")  # noqa: T201
