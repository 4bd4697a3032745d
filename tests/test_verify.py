"""``journalkonvert verify``: a clean package passes; each planted fault is named by the check that must see it."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pikepdf
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from convert import cli
from formats.bag import write_bag_info, write_manifest, write_tagmanifest
from formats.errors import ArchiveError, ExitCode
from validation.findings import Severity, ValidationReport
from validation.verify import VERIFY_CHECKS, verify_package
from validation.verify_formats import csv_records, identify
from validation.verify_state import read_manifest_file

REPO = Path(__file__).resolve().parent.parent
KITH_FIXTURES = REPO / "tests" / "fixtures" / "kith"


def _copy(package: Path, tmp_path: Path) -> Path:
    target = tmp_path / "copy"
    shutil.copytree(package, target)
    return target


def _reseal(bag: Path, **changes: str) -> None:
    """Re-seal a bag after a deliberate change, as a forger would: manifests and Payload-Oxum made anew."""
    info: dict[str, str] = {}
    for line in (bag / "bag-info.txt").read_text(encoding="utf-8").splitlines():
        label, _, value = line.partition(":")
        info[label.strip()] = value.strip()
    info.pop("Payload-Oxum", None)
    info.update(changes)
    oxum = write_manifest(bag)
    write_bag_info(bag, info, oxum)
    write_tagmanifest(bag)


def _errors(report: ValidationReport) -> list[tuple[str, str]]:
    return [(f.check, f.message) for f in report.findings if f.severity in (Severity.FATAL, Severity.ERROR)]


def _failed_checks(report: ValidationReport) -> set[str]:
    return {check for check, _ in _errors(report)}


@pytest.fixture(scope="module")
def kith_package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A package with PDF/A renditions in data/documents and originals (the KITH fixtures)."""
    from converters.pipeline import ConversionOptions, run_conversion
    from reports.package_report import write_report

    target = tmp_path_factory.mktemp("kith") / "archive"
    run_conversion(ConversionOptions(system="kith", source=KITH_FIXTURES, archive=target), finishers=[write_report])
    return target


def test_clean_synthea_package_passes(synthea_package: Path) -> None:
    report = verify_package(synthea_package)
    assert report.valid, _errors(report)
    assert report.checks_run == [c.id for c in VERIFY_CHECKS]
    assert report.stats["files.parquet"] > 0
    assert report.stats["files.parquet"] <= report.stats["files.csv"]


def test_clean_package_with_documents_passes(kith_package: Path) -> None:
    report = verify_package(kith_package)
    assert report.valid, _errors(report)
    verified = next(f for f in report.findings if f.check == "pdfa" and f.severity is Severity.INFO)
    assert verified.count is not None and verified.count >= 1
    assert any(k.startswith("files.originals.") for k in report.stats)


def test_one_altered_byte_is_caught_by_fixity(synthea_package: Path, tmp_path: Path) -> None:
    bag = _copy(synthea_package, tmp_path)
    target = bag / "data" / "README.txt"
    content = bytearray(target.read_bytes())
    content[3] ^= 0x20  # one letter's case: still text, still a README
    target.write_bytes(bytes(content))
    report = verify_package(bag)
    assert not report.valid
    assert (
        "fixity",
        "data/README.txt has been altered: its SHA-256 checksum differs from manifest-sha256.txt",
    ) in _errors(report)
    assert _failed_checks(report) == {"fixity", "bag"}


def test_missing_file_is_named(synthea_package: Path, tmp_path: Path) -> None:
    bag = _copy(synthea_package, tmp_path)
    (bag / "data" / "tables" / "encounter.csv").unlink()
    report = verify_package(bag)
    assert ("completeness", "data/tables/encounter.csv is listed in manifest-sha256.txt but missing") in _errors(report)
    assert "twins" in _failed_checks(report)  # the Parquet file has lost its archival twin


def test_extra_file_is_named(synthea_package: Path, tmp_path: Path) -> None:
    bag = _copy(synthea_package, tmp_path)
    (bag / "data" / "tables" / "notes.txt").write_text("added later\n", encoding="utf-8")
    report = verify_package(bag)
    assert any(
        c == "completeness" and m.startswith("data/tables/notes.txt is in data/ but not listed")
        for c, m in _errors(report)
    )
    assert _failed_checks(report) == {"completeness", "bag"}


def test_parquet_that_disagrees_with_its_csv_twin(synthea_package: Path, tmp_path: Path) -> None:
    bag = _copy(synthea_package, tmp_path)
    path = bag / "data" / "tables" / "encounter.parquet"
    table = pq.read_table(path)
    column = table.schema.get_field_index("source_ref")
    values = table.column(column).to_pylist()
    values[3] = "tampered"
    table = table.set_column(column, table.schema.field(column), pa.array(values, table.schema.field(column).type))
    pq.write_table(table, path)
    _reseal(bag)
    report = verify_package(bag)
    assert _failed_checks(report) == {"twins"}, _errors(report)
    [(check, message)] = _errors(report)
    assert message == (
        "data/tables/encounter.csv and its Parquet twin disagree: data row 4 differs in column source_ref"
    )


def _plain_pdf() -> bytes:
    pdf = pikepdf.new()
    pdf.add_blank_page()
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


def test_pdf_that_is_not_pdfa(kith_package: Path, tmp_path: Path) -> None:
    bag = _copy(kith_package, tmp_path)
    (bag / "data" / "documents" / "plain.pdf").write_bytes(_plain_pdf())
    _reseal(bag)
    report = verify_package(bag)
    assert _failed_checks(report) == {"pdfa"}, _errors(report)
    assert all(m.startswith("data/documents/plain.pdf is not PDF/A-2: ") for _, m in _errors(report))
    assert any("no_pdfaid" in m for _, m in _errors(report))


def test_package_from_an_older_version_without_newer_folders(synthea_package: Path, tmp_path: Path) -> None:
    bag = _copy(synthea_package, tmp_path)
    shutil.rmtree(bag / "data" / "report")
    shutil.rmtree(bag / "data" / "documents", ignore_errors=True)
    (bag / "audit" / "conversion-run.json").unlink()
    _reseal(
        bag,
        **{
            "Bag-Group-Identifier": "journalkonvert canonical model 0.9.0",
            "Bag-Software-Agent": "journalkonvert 0.0.1",
        },
    )
    assert not (bag / "data" / "report").exists()
    report = verify_package(bag)
    assert report.valid, _errors(report)
    made_by = next(f for f in report.findings if f.check == "bag")
    assert "0.0.1" in made_by.message and "0.9.0" in made_by.message


def test_non_archival_file_outside_originals_is_named(synthea_package: Path, tmp_path: Path) -> None:
    bag = _copy(synthea_package, tmp_path)
    (bag / "data" / "tables" / "scan.bin").write_bytes(b"\x00\x01\x02binary")
    (bag / "data" / "originals").mkdir(exist_ok=True)
    (bag / "data" / "originals" / "legacy.dat").write_bytes(b"\x00\x01\x02binary")
    _reseal(bag)
    report = verify_package(bag)
    assert _errors(report) == [
        (
            "formats",
            "data/tables/scan.bin is binary: not a format on the archival list (RAF-220301); "
            "only originals/ may hold other formats",
        )
    ]
    assert report.stats["files.originals.binary"] == 1


def test_csv_not_described_in_addml(synthea_package: Path, tmp_path: Path) -> None:
    bag = _copy(synthea_package, tmp_path)
    (bag / "data" / "tables" / "extra.csv").write_text("a,b\r\n1,2\r\n", encoding="utf-8")
    _reseal(bag)
    report = verify_package(bag)
    assert _errors(report) == [("description", "data/tables/extra.csv is not described in addml.xml")]


def test_not_a_package(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError):
        verify_package(tmp_path)


def test_cli_exit_codes_and_json(synthea_package: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "clean.json"
    result = runner.invoke(cli, ["-q", "verify", str(synthea_package), "--json", str(out), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8"))["valid"] is True
    bag = _copy(synthea_package, tmp_path)
    (bag / "data" / "README.txt").write_text("changed\n", encoding="utf-8")
    result = runner.invoke(cli, ["-q", "verify", str(bag), "--json", str(out)])
    assert result.exit_code == ExitCode.VALIDATION_FAILED
    findings = json.loads(out.read_text(encoding="utf-8"))["findings"]
    assert any(f["check"] == "fixity" and f["path"] == "data/README.txt" for f in findings)


def test_identify_by_content(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"%PDF-1.7\n")
    (tmp_path / "b.parquet").write_bytes(b"not parquet")
    (tmp_path / "c.json").write_text("{broken", encoding="utf-8")
    (tmp_path / "d.xml").write_text("<a><b></a>", encoding="utf-8")
    (tmp_path / "e.csv").write_bytes(b"x,y\r\n1,2,3\r\n")
    (tmp_path / "f.csv").write_bytes(b"x\r\n\xff\r\n")
    (tmp_path / "g.png").write_bytes(b"\x89PNG\r\n\x1a\n....")
    assert identify(tmp_path / "a.csv").problem == "is named .csv but its content is pdf"
    assert identify(tmp_path / "b.parquet").problem is not None
    assert identify(tmp_path / "c.json").problem is not None
    assert identify(tmp_path / "d.xml").problem is not None
    assert identify(tmp_path / "e.csv").problem is not None
    assert identify(tmp_path / "f.csv").format == "binary"
    assert identify(tmp_path / "g.png").format == "png"


_cell = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(_cell, _cell, _cell), max_size=30))
def test_csv_records_counts_every_rfc4180_record(rows: list[tuple[str, str, str]]) -> None:
    """Any CSV the csv module writes (quotes, commas, line breaks inside values) is counted record for record."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["a", "b", "c"])
    writer.writerows(rows)
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.csv"
        path.write_text(buffer.getvalue(), encoding="utf-8", newline="")
        assert csv_records(path) == (len(rows), None)


def test_manifest_names_are_percent_decoded(tmp_path: Path) -> None:
    (tmp_path / "manifest-sha256.txt").write_text("ab  data/a%25b.txt\n\nbad-line\n", encoding="utf-8")
    assert read_manifest_file(tmp_path / "manifest-sha256.txt") == {"data/a%b.txt": "ab"}
