"""--system ccda end to end on the shared C-CDA sets (read in place, never copied).

Sections and entries are counted independently of the reader, with XPath over the raw files
(local names, so that vendor namespace quirks do not matter), and checked against the ledger and
the tables. ``show`` (reports.journal.load_journal) must list each document's problems,
medications and results.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from lxml import etree

from converters.pipeline import ConversionOptions, ConversionResult, run_conversion
from formats.package import open_package
from reports.journal import load_journal
from validation import validate_archive

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
VENDOR = DATA / "ccda-vendor-samples"
HL7 = DATA / "ccda-hl7-examples"
SECTION = "2.16.840.1.113883.10.20.22.2."
KIND_TABLES = {
    "5": "ccda_problem", "5.1": "ccda_problem", "1": "ccda_medication", "1.1": "ccda_medication",
    "6": "ccda_allergy", "6.1": "ccda_allergy", "3": "ccda_result", "3.1": "ccda_result",
    "4": "ccda_vital", "4.1": "ccda_vital", "2": "ccda_immunization", "2.1": "ccda_immunization",
    "7": "ccda_procedure", "7.1": "ccda_procedure", "22": "ccda_encounter", "22.1": "ccda_encounter",
    "17": "ccda_social", "10": "ccda_plan",
}  # fmt: skip
LOINC_TABLES = {
    "11450-4": "ccda_problem", "10160-0": "ccda_medication", "48765-2": "ccda_allergy", "30954-2": "ccda_result",
    "8716-3": "ccda_vital", "11369-6": "ccda_immunization", "47519-4": "ccda_procedure",
    "46240-8": "ccda_encounter", "29762-2": "ccda_social", "18776-5": "ccda_plan",
}  # fmt: skip
ENTRY_TABLES = sorted({*KIND_TABLES.values(), "ccda_entry_other"})
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, recover=True)


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() == ".xml")


def _section_table(section: etree._Element) -> str:
    roots = section.xpath("./*[local-name()='templateId']/@root")
    for root in roots:
        if root.startswith(SECTION) and root[len(SECTION) :] in KIND_TABLES:
            return KIND_TABLES[root[len(SECTION) :]]
    codes = section.xpath("./*[local-name()='code']/@code")
    return LOINC_TABLES.get(codes[0] if codes else "", "ccda_entry_other")


def _count(path: Path) -> tuple[int, Counter[str]]:
    """(sections, entries per entry table) of one file, by XPath."""
    root = etree.fromstring(path.read_bytes(), _PARSER)
    sections = root.xpath("descendant-or-self::*[local-name()='section']")
    entries: Counter[str] = Counter()
    for s in sections:
        entries[_section_table(s)] += len(s.xpath("./*[local-name()='entry']"))
    return len(sections), entries


def _records(result: ConversionResult) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = pq.read_table(result.archive / "data" / "ledger" / "records.parquet").to_pylist()
    return rows


def _convert(folder: Path, tmp: pytest.TempPathFactory, name: str) -> ConversionResult:
    if not folder.is_dir():
        pytest.skip(f"{folder} is not available")
    return run_conversion(
        ConversionOptions(system="ccda", source=folder, archive=tmp.mktemp(name) / "pkg", renditions=False)
    )


@pytest.fixture(scope="module")
def vendor(tmp_path_factory: pytest.TempPathFactory) -> ConversionResult:
    return _convert(VENDOR, tmp_path_factory, "ccda_vendor")


@pytest.fixture(scope="module")
def hl7(tmp_path_factory: pytest.TempPathFactory) -> ConversionResult:
    return _convert(HL7, tmp_path_factory, "ccda_hl7")


@pytest.mark.parametrize("which", ["vendor", "hl7"])
def test_converts_validates_and_accounts_for_every_entry(which: str, request: pytest.FixtureRequest) -> None:
    result: ConversionResult = request.getfixturevalue(which)
    folder = VENDOR if which == "vendor" else HL7
    report = validate_archive(result.archive)
    assert report.valid, [f.to_dict() for f in report.findings]
    assert result.ledger.gaps() == []
    files = _files(folder)
    if which == "vendor":
        assert len(files) == 64
    sections = 0
    expected: Counter[tuple[str, str]] = Counter()
    for f in files:
        n, entries = _count(f)
        sections += n
        for table, k in entries.items():
            expected[(f.name, table)] += k
    tallies = result.ledger.tables
    assert tallies["ccda_document"].source_rows == len(files)
    assert tallies["ccda_section"].source_rows == sections
    seen: dict[tuple[str, str], set[str]] = {}
    for r in _records(result):
        ref = str(r["source_ref"])
        if r["source_table"] in ENTRY_TABLES:
            file, rest = ref.split("#", 1)
            entry = re.match(r"section=\d+/entry=\d+", rest)
            assert entry is not None, ref
            seen.setdefault((file, str(r["source_table"])), set()).add(entry.group(0))
    got = Counter({k: len(v) for k, v in seen.items()})
    assert got == +expected
    for table in ENTRY_TABLES:
        assert tallies[table].balanced, table


def test_tables_carry_the_entries(vendor: ConversionResult) -> None:
    tallies = vendor.ledger.tables
    assert tallies["ccda_problem"].converted == vendor.tables["diagnosis"]
    assert tallies["ccda_medication"].converted == vendor.tables["medication"]
    assert tallies["ccda_result"].converted == vendor.tables["lab_result"]
    assert vendor.tables["message"] == 64
    assert vendor.tables["journal_note"] > 1000  # section narratives


def test_every_document_kept_byte_for_byte(vendor: ConversionResult) -> None:
    messages = pq.read_table(vendor.archive / "data" / "tables" / "message.parquet").to_pylist()
    by_file = {str(m["source_ref"]).split("#")[0]: m for m in messages}
    for f in _files(VENDOR):
        kept = (vendor.archive / "data" / str(by_file[f.name]["original_path"])).read_bytes()
        assert kept == f.read_bytes(), f.name
        assert hashlib.sha256(kept).hexdigest() == by_file[f.name]["original_sha256"]


def test_recovering_parse_is_a_finding(vendor: ConversionResult) -> None:
    deviations = pq.read_table(vendor.archive / "data" / "ledger" / "deviations.parquet").to_pylist()
    mdlogic = [d for d in deviations if str(d["source_ref"]).startswith("MDLogic__")]
    assert any("recovering parser" in str(d["message"]) for d in mdlogic)


@pytest.mark.parametrize("which", ["vendor", "hl7"])
def test_show_lists_problems_medications_results(which: str, request: pytest.FixtureRequest) -> None:
    result: ConversionResult = request.getfixturevalue(which)
    folder = VENDOR if which == "vendor" else HL7
    layout = open_package(result.archive)
    messages = pq.read_table(result.archive / "data" / "tables" / "message.parquet").to_pylist()
    patient_of = {str(m["source_ref"]).split("#")[0]: str(m["patient_id"]) for m in messages}
    checked = 0
    for f in _files(folder):
        _n, entries = _count(f)
        wanted = {
            c for t, c in (("ccda_problem", "diagnosis"), ("ccda_medication", "medication"),
                           ("ccda_result", "lab_result")) if entries[t]
        }  # fmt: skip
        if f.name not in patient_of:  # a bare <section> fragment: no patient
            assert etree.fromstring(f.read_bytes(), _PARSER).tag == "section", f.name
            continue
        journal = load_journal(layout, patient_of[f.name])
        shown = {e.category for e in journal.entries if e.source_ref.startswith(f"{f.name}#")}
        assert wanted <= shown, (f.name, wanted - shown)
        checked += 1
    assert checked >= (64 if which == "vendor" else 10)


def test_unstructured_documents_keep_their_pdf(hl7: ConversionResult) -> None:
    docs = pq.read_table(hl7.archive / "data" / "tables" / "document.parquet").to_pylist()
    pdfs = {str(d["source_ref"]).split("#")[0]: d for d in docs if d["mime_type"] == "application/pdf"}
    embedded = pdfs["Unstructured__CDA_with_Embedded_PDF_1__Unstructured_Document_embed.xml"]
    data = (hl7.archive / "data" / str(embedded["original_path"])).read_bytes()
    assert data.startswith(b"%PDF-")
    assert hashlib.sha256(data).hexdigest() == embedded["original_sha256"]
    referenced = pdfs["Unstructured__CDA_reference_PDF__Unstructured_Document_reference.xml"]
    sample = (HL7 / "Unstructured__CDA_reference_PDF__UD_sample.pdf").read_bytes()
    assert referenced["original_sha256"] == hashlib.sha256(sample).hexdigest()
    assert (hl7.archive / "data" / str(referenced["original_path"])).read_bytes() == sample
