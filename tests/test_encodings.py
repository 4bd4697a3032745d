"""Legacy text encodings through the real pipeline: each code page, mixed sources, the audit.

Every test writes a tiny synthetic source (a folder of CSV files or a SQLite database) in the code
page under test, converts it with ``run_conversion`` and reads the canonical Parquet back.
"""

from __future__ import annotations

import base64
import codecs
import csv
import io
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st

from converters.pipeline import ConversionOptions, run_conversion
from formats.errors import MappingFileError
from formats.text_codecs import (
    AUTO,
    LEGACY_CANDIDATES,
    SUPPORTED_ENCODINGS,
    TextDecoding,
    canonical_name,
    detect_legacy,
    is_known_encoding,
)
from reports.package_report import write_report
from validation import validate_archive

SENTENCE = "Pasienten klager over smerter i høyre skulder; ærlig talt, blåmerker på låret. ÆØÅ."
NAME = "Åse Bjørnstad-Ærø"
CODE_PAGES = ("cp865", "cp850", "iso-8859-1", "cp1252", "utf-8", "iso646-no")

MAPPING = """mapping_version: 1
system: legacy
source:
  patient_table: patients
{source}
tables:
  patients:
    patient: Id
    targets:
      - table: patient
        fields:
          patient_id: Id
          given_name: FIRST
  notes:
    patient: PATIENT
    targets:
      - table: journal_note
        fields:
          patient_id: PATIENT
          note_id: Id
          text: TEXT
"""


def write_mapping(folder: Path, **source: object) -> Path:
    lines = "".join(f"  {k}: {json.dumps(v)}\n" for k, v in source.items())
    path = folder / "legacy.yaml"
    path.write_text(MAPPING.format(source=lines.rstrip("\n")), encoding="utf-8")
    return path


def csv_bytes(rows: list[list[str]], encoding: str | list[str]) -> bytes:
    """Return a CSV file whose rows are each encoded in ``encoding`` (one, or one per row)."""
    out = b""
    for i, row in enumerate(rows):
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerow(row)
        out += text.getvalue().encode(encoding if isinstance(encoding, str) else encoding[i])
    return out


@dataclass
class Package:
    """A converted package and what the tests read from it."""

    archive: Path

    def column(self, table: str, name: str) -> list[object]:
        rows = pq.read_table(self.archive / "data" / "tables" / f"{table}.parquet").to_pylist()
        return [r[name] for r in sorted(rows, key=lambda r: str(r.get("note_id") or r["patient_id"]))]

    def ledger(self, name: str) -> list[dict[str, object]]:
        path = self.archive / "data" / "ledger" / f"{name}.parquet"
        return pq.read_table(path).to_pylist() if path.is_file() else []

    def audit(self, table: str, column: str) -> dict[str, object]:
        return next(r for r in self.ledger("text_audit") if r["source_table"] == table and r["column"] == column)

    def report(self) -> dict[str, object]:
        loaded: dict[str, object] = json.loads(
            (self.archive / "data" / "report" / "report.json").read_text(encoding="utf-8")
        )
        return loaded


def convert(source: Path | str, mapping: Path, archive: Path, **options: object) -> Package:
    system = "sql" if isinstance(source, str) else "csv"
    run_conversion(
        ConversionOptions(system=system, source=source, archive=archive, mapping=mapping, **options),  # type: ignore[arg-type]
        finishers=[write_report],
    )
    report = validate_archive(archive)
    assert report.valid, [f.to_dict() for f in report.findings]
    return Package(archive)


def csv_source(tmp_path: Path, notes: list[list[str]], encoding: str | list[str]) -> Path:
    """Write patients.csv (UTF-8) and notes.csv in ``encoding`` (one, or one per note row)."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "patients.csv").write_bytes(csv_bytes([["Id", "FIRST"], ["p1", NAME]], "utf-8"))
    per_row = encoding if isinstance(encoding, str) else ["utf-8", *encoding]
    (folder / "notes.csv").write_bytes(csv_bytes([["Id", "PATIENT", "TEXT"], *notes], per_row))
    return folder


def sqlite_source(tmp_path: Path, notes: list[tuple[str, bytes | str]], name: bytes | str = NAME) -> str:
    db = tmp_path / "legacy.db"
    con = sqlite3.connect(db)
    con.execute("create table patients (Id text primary key, FIRST text)")
    con.execute("create table notes (Id text primary key, PATIENT text, TEXT text)")
    con.execute("insert into patients values ('p1', CAST(? AS TEXT))", (name,))
    for note_id, text in notes:
        con.execute("insert into notes values (?, 'p1', CAST(? AS TEXT))", (note_id, text))
    con.commit()
    con.close()
    return f"sqlite:///{db}"


# --- the codecs ------------------------------------------------------------------------------


@pytest.mark.parametrize("encoding", CODE_PAGES)
def test_each_code_page_encodes_the_sentence_and_back(encoding: str) -> None:
    assert is_known_encoding(encoding)
    assert SENTENCE.encode(encoding).decode(encoding) == SENTENCE
    assert canonical_name(encoding) in {codecs.lookup(encoding).name}


def test_iso646_no_replaces_the_six_ascii_brackets() -> None:
    assert "ÆØÅæøå".encode("iso646-no") == b"[\\]{|}"
    assert b"Bj|rn S{ther, GR\\NLAND, [re, ]s".decode("iso646-no") == "Bjørn Sæther, GRØNLAND, Ære, Ås"
    assert b"~".decode("iso646-no") == "\u203e"  # NS 4551-1: overline
    for alias in ("ISO646-NO", "iso646_no", "NS_4551-1", "iso-ir-60"):
        assert codecs.lookup(alias).name == "iso646-no"
    with pytest.raises(UnicodeDecodeError):
        b"\xe6".decode("iso646-no")  # 7-bit: no byte above 0x7f
    with pytest.raises(UnicodeEncodeError):
        "{".encode("iso646-no")  # the bracket's place is taken by æ
    decoder = codecs.getincrementaldecoder("iso646-no")()
    assert decoder.decode(b"bl") + decoder.decode(b"}", final=True) == "blå"


def test_supported_list_names_every_tested_code_page() -> None:
    assert set(CODE_PAGES) | {AUTO} == set(SUPPORTED_ENCODINGS)
    assert not is_known_encoding("cp-nowhere")


@pytest.mark.parametrize("encoding", ["cp865", "cp850", "cp1252", "iso-8859-1"])
def test_detection_reads_each_legacy_value_right(encoding: str) -> None:
    words = ["ø", "å", "Æ", "Bjørn", "blåmerker", "Ærø", "smerter i høyre kne", SENTENCE, NAME]
    for word in words:
        raw = word.encode(encoding)
        assert raw.decode(detect_legacy(raw)) == word, (encoding, word)


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyzæøåABCDEFGHIJKLMNOPQRSTUVWXYZÆØÅ .,;:-0123456789", min_size=1))
def test_detection_never_loses_a_norwegian_letter_of_cp865_or_cp1252(text: str) -> None:
    for encoding in ("cp865", "cp1252"):
        raw = text.encode(encoding)
        decoded = raw.decode(detect_legacy(raw))
        assert decoded == text or not any(c in "æøåÆØÅ" for c in text), (encoding, decoded)


def test_a_fallback_decoding_says_which_codec_read_the_value() -> None:
    mixed = TextDecoding.of(AUTO)
    assert mixed == TextDecoding("utf-8", AUTO)
    assert mixed.decode("Grønn".encode()) == ("Grønn", None)
    assert mixed.decode("Grønn".encode("cp865")) == ("Grønn", "cp865")
    assert mixed.decode("Grønn".encode("cp1252")) == ("Grønn", "cp1252")
    assert TextDecoding("utf-8", "cp865").decode(b"Gr\x9bnn") == ("Grønn", "cp865")
    with pytest.raises(UnicodeDecodeError):
        TextDecoding("utf-8").decode(b"Gr\x9bnn")
    assert LEGACY_CANDIDATES[0] == "cp865"


def test_unknown_fallback_encoding_is_a_mapping_error(tmp_path: Path) -> None:
    from converters.mapping import load_mapping

    with pytest.raises(MappingFileError, match="source.fallback_encoding: unknown encoding 'cp-nowhere'"):
        load_mapping(write_mapping(tmp_path, fallback_encoding="cp-nowhere"))
    assert load_mapping(write_mapping(tmp_path, encoding="iso646-no")).source.encoding == "iso646-no"


# --- the pipeline: one code page per source ---------------------------------------------------


@pytest.mark.parametrize("encoding", CODE_PAGES)
def test_csv_in_each_code_page_reads_back_exactly(tmp_path: Path, encoding: str) -> None:
    source = csv_source(tmp_path, [["n1", "p1", SENTENCE]], encoding)
    (source / "patients.csv").write_bytes(csv_bytes([["Id", "FIRST"], ["p1", NAME]], encoding))
    pkg = convert(source, write_mapping(tmp_path, encoding=encoding), tmp_path / "archive")
    assert pkg.column("journal_note", "text") == [SENTENCE]
    assert pkg.column("patient", "given_name") == [NAME]
    audit = pkg.audit("notes", "TEXT")
    assert (audit["values"], audit["fallback_decoded"], audit["repaired"], audit["suspicious"]) == (1, 0, 0, 0)
    assert pkg.ledger("text_repairs") == []


@pytest.mark.parametrize("encoding", CODE_PAGES)
def test_sqlite_in_each_code_page_reads_back_exactly(tmp_path: Path, encoding: str) -> None:
    url = sqlite_source(tmp_path, [("n1", SENTENCE.encode(encoding))], NAME.encode(encoding))
    pkg = convert(url, write_mapping(tmp_path, encoding=encoding), tmp_path / "archive")
    assert pkg.column("journal_note", "text") == [SENTENCE]
    assert pkg.column("patient", "given_name") == [NAME]
    audit = pkg.audit("notes", "TEXT")
    assert (audit["values"], audit["fallback_decoded"], audit["repaired"], audit["suspicious"]) == (1, 0, 0, 0)


def test_command_line_encoding_overrides_the_mapping_for_sqlite(tmp_path: Path) -> None:
    url = sqlite_source(tmp_path, [("n1", SENTENCE.encode("cp865"))])
    pkg = convert(url, write_mapping(tmp_path), tmp_path / "archive", encoding="cp865")
    assert pkg.column("journal_note", "text") == [SENTENCE]


# --- mixed sources: detected per value ----------------------------------------------------------


MIXED = [("n1", "utf-8"), ("n2", "cp865"), ("n3", "utf-8"), ("n4", "cp1252"), ("n5", "cp865")]


def _check_mixed(pkg: Package, fallback: str) -> None:
    assert pkg.column("journal_note", "text") == [SENTENCE] * len(MIXED)
    audit = pkg.audit("notes", "TEXT")
    legacy = [e for _, e in MIXED if e != "utf-8"]
    assert audit["values"] == len(MIXED)
    assert audit["fallback_decoded"] == len(legacy)
    assert (audit["repaired"], audit["suspicious"]) == (0, 0)
    repairs = sorted(pkg.ledger("text_repairs"), key=lambda r: str(r["source_ref"]))
    assert [r["column"] for r in repairs] == ["TEXT"] * len(legacy)
    assert {r["action"] for r in repairs} == {"text_decoded_fallback"}
    for r, encoding in zip(repairs, legacy, strict=True):
        assert base64.b64decode(str(r["original_base64"])) == SENTENCE.encode(encoding)
        assert r["encoding"] == (encoding if fallback == AUTO else fallback)
        assert r["text"] == SENTENCE
    flagged = [r for r in pkg.ledger("records") if r["flags"]]
    assert len(flagged) == len(legacy)
    assert all(r["flags"] == "text_decoded_fallback" and r["fate"] == "converted" for r in flagged)
    report = pkg.report()["text_audit"]
    assert report["totals"]["fallback_decoded"] == len(legacy)  # type: ignore[index]


def test_mixed_csv_is_decoded_per_value_with_auto(tmp_path: Path) -> None:
    source = csv_source(tmp_path, [[i, "p1", SENTENCE] for i, _ in MIXED], [e for _, e in MIXED])
    pkg = convert(source, write_mapping(tmp_path, encoding=AUTO), tmp_path / "archive")
    _check_mixed(pkg, AUTO)


def test_mixed_sqlite_is_decoded_per_value_with_auto(tmp_path: Path) -> None:
    url = sqlite_source(tmp_path, [(i, SENTENCE.encode(e)) for i, e in MIXED])
    pkg = convert(url, write_mapping(tmp_path, fallback_encoding=AUTO), tmp_path / "archive")
    _check_mixed(pkg, AUTO)


def test_mixed_csv_with_a_fixed_fallback(tmp_path: Path) -> None:
    rows = [("n1", "utf-8"), ("n2", "cp865"), ("n3", "cp865")]
    source = csv_source(tmp_path, [[i, "p1", SENTENCE] for i, _ in rows], [e for _, e in rows])
    pkg = convert(source, write_mapping(tmp_path, fallback_encoding="cp865"), tmp_path / "archive")
    assert pkg.column("journal_note", "text") == [SENTENCE] * 3
    assert pkg.audit("notes", "TEXT")["fallback_decoded"] == 2
    assert pkg.audit("notes", "TEXT")["fallback_encodings"] == "cp865:2"


def test_without_fallback_mixed_rows_are_still_rejected(tmp_path: Path) -> None:
    rows = [("n1", "utf-8"), ("n2", "cp865")]
    source = csv_source(tmp_path, [[i, "p1", SENTENCE] for i, _ in rows], [e for _, e in rows])
    pkg = convert(source, write_mapping(tmp_path), tmp_path / "archive")
    assert pkg.column("journal_note", "text") == [SENTENCE]
    [reject] = pq.read_table(pkg.archive / "data" / "rejects" / "rejects.parquet").to_pylist()
    assert reject["reason_code"] == "encoding_error"


# --- mojibake repair and the audit through the pipeline ----------------------------------------

MOJIBAKE = "GrÃ¸nn sÃ¥pe, Ã¦rlig talt â€“ Ã…se"
REPAIRED = "Grønn såpe, ærlig talt – Åse"
UNREPAIRABLE = "Bj›rn har vondt i Ã¸ret og Åse"  # cp865 read as cp1252 plus mixed mojibake: not exact


def _mojibake_notes() -> list[list[str]]:
    return [["n1", "p1", MOJIBAKE], ["n2", "p1", SENTENCE], ["n3", "p1", UNREPAIRABLE], ["n4", "p1", ""]]


def test_double_encoded_utf8_is_repaired_and_audited(tmp_path: Path) -> None:
    source = csv_source(tmp_path, _mojibake_notes(), "utf-8")
    pkg = convert(source, write_mapping(tmp_path), tmp_path / "archive")
    assert pkg.column("journal_note", "text") == [REPAIRED, SENTENCE, UNREPAIRABLE, None]
    audit = pkg.audit("notes", "TEXT")
    assert audit["values"] == 3
    assert (audit["suspicious_before"], audit["repaired"], audit["suspicious"]) == (2, 1, 1)
    [repair] = pkg.ledger("text_repairs")
    assert (repair["source_ref"], repair["column"], repair["action"]) == ("notes.csv#row=2", "TEXT", "text_repaired")
    assert base64.b64decode(str(repair["original_base64"])) == MOJIBAKE.encode("utf-8")
    assert repair["text"] == REPAIRED
    flags = {r["source_ref"]: r["flags"] for r in pkg.ledger("records") if r["source_table"] == "notes"}
    assert flags == {
        "notes.csv#row=2": "text_repaired",
        "notes.csv#row=3": None,
        "notes.csv#row=4": "suspicious_text",
        "notes.csv#row=5": None,
    }
    summary = json.loads((pkg.archive / "data" / "ledger" / "summary.json").read_text(encoding="utf-8"))
    notes = next(t for t in summary["tables"] if t["source_table"] == "notes")
    assert notes["flags"] == {"suspicious_text": 1, "text_repaired": 1}
    report = pkg.report()["text_audit"]
    assert report["totals"]["repaired"] == 1  # type: ignore[index]
    assert report["columns"] == [  # type: ignore[index]
        {
            "source_table": "notes",
            "column": "TEXT",
            "values": 3,
            "fallback_decoded": 0,
            "fallback_encodings": {},
            "suspicious_before": 2,
            "repaired": 1,
            "suspicious": 1,
        }
    ]


def test_repair_can_be_switched_off(tmp_path: Path) -> None:
    source = csv_source(tmp_path, _mojibake_notes(), "utf-8")
    pkg = convert(source, write_mapping(tmp_path, repair_mojibake=False), tmp_path / "archive")
    assert pkg.column("journal_note", "text")[0] == MOJIBAKE
    audit = pkg.audit("notes", "TEXT")
    assert (audit["suspicious_before"], audit["repaired"], audit["suspicious"]) == (2, 0, 2)
    assert pkg.ledger("text_repairs") == []


def test_mojibake_in_sqlite_is_repaired_with_its_bytes_kept(tmp_path: Path) -> None:
    url = sqlite_source(tmp_path, [("n1", MOJIBAKE), ("n2", SENTENCE)])
    pkg = convert(url, write_mapping(tmp_path), tmp_path / "archive")
    assert pkg.column("journal_note", "text") == [REPAIRED, SENTENCE]
    [repair] = pkg.ledger("text_repairs")
    assert base64.b64decode(str(repair["original_base64"])) == MOJIBAKE.encode("utf-8")


def test_the_same_source_gives_the_same_audit_bytes(tmp_path: Path) -> None:
    source = csv_source(tmp_path, _mojibake_notes(), "utf-8")
    mapping = write_mapping(tmp_path)
    first = convert(source, mapping, tmp_path / "a1")
    second = convert(source, mapping, tmp_path / "a2")
    for name in ("text_audit.parquet", "text_audit.csv", "text_repairs.parquet", "text_repairs.csv"):
        assert (first.archive / "data" / "ledger" / name).read_bytes() == (
            second.archive / "data" / "ledger" / name
        ).read_bytes()
