"""The demo practice converted with --system practice: ledger, documents, messages, cp865 notes, the CLI."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import convert
from converters.pipeline import ConversionOptions, ConversionResult, run_conversion
from converters.practice_generator import DB_NAME, write_practice
from formats.package import open_package
from reports.package_report import write_report
from validation import validate_archive

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def converted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ConversionResult]:
    root = tmp_path_factory.mktemp("practice")
    source = root / "source"
    write_practice(source, patients=30, seed=11)
    result = run_conversion(
        ConversionOptions(system="practice", source=source, archive=root / "archive"), finishers=[write_report]
    )
    return source, result


def _table(result: ConversionResult, name: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = pq.read_table(open_package(result.archive).table(name)).to_pylist()
    return rows


def _legacy_notes(source: Path) -> dict[str, str]:
    """NOTAT_ID -> text of every note stored as cp865 bytes, as the DOS system wrote it."""
    con = sqlite3.connect(source / DB_NAME)
    con.text_factory = bytes
    out = {}
    for nid, raw in con.execute("select NOTAT_ID, TEKST from JOURNALNOTAT"):
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            out[str(nid)] = raw.decode("cp865")
    con.close()
    return out


def test_the_package_is_valid_and_the_ledger_balances(converted: tuple[Path, ConversionResult]) -> None:
    _, result = converted
    assert result.ledger.gaps() == []
    report = validate_archive(result.archive)
    assert report.valid, [f.to_dict() for f in report.findings]
    totals = result.ledger.totals()
    assert totals["source_rows"] == totals["converted"] + totals["preserved"] + totals["rejected"] + totals["excluded"]
    tables = result.tables
    for name in ("patient", "encounter", "journal_note", "diagnosis", "lab_result", "measurement", "billing",
                 "appointment", "access_log", "document", "message", "practitioner", "organisation"):  # fmt: skip
        assert tables.get(name, 0) > 0, name
    assert tables["patient"] == 30


def test_every_database_row_and_file_is_in_the_ledger(converted: tuple[Path, ConversionResult]) -> None:
    source, result = converted
    counts = {t.source_table: t.source_rows for t in result.ledger.tables.values()}
    con = sqlite3.connect(source / DB_NAME)
    for (table,) in con.execute("select name from sqlite_master where type = 'table'"):
        assert counts[table] == con.execute(f"select count(*) from {table}").fetchone()[0], table
    con.close()
    assert counts["vedlegg"] == len(list((source / "vedlegg").iterdir()))
    messages = len(list((source / "meldinger").rglob("*.xml")))
    assert counts["kith_message"] + counts["kith_apprec"] == messages


def test_attachments_are_documents_with_their_original_bytes(converted: tuple[Path, ConversionResult]) -> None:
    source, result = converted
    data = open_package(result.archive).data
    docs = {str(d["document_id"]): d for d in _table(result, "document") if d["message_id"] is None}
    con = sqlite3.connect(source / DB_NAME)
    rows = con.execute("select DOK_ID, FILNAVN, PASNR from DOKUMENT").fetchall()
    con.close()
    assert rows
    for dok_id, name, pasnr in rows:
        raw = (source / "vedlegg" / name).read_bytes()
        doc = docs[str(dok_id)]
        assert doc["patient_id"] == str(pasnr)
        assert doc["original_sha256"] == hashlib.sha256(raw).hexdigest()
        assert doc["original_size"] == len(raw)
        assert (data / str(doc["original_path"])).read_bytes() == raw


def test_messages_link_to_database_patients(converted: tuple[Path, ConversionResult]) -> None:
    source, result = converted
    patients = {str(p["patient_id"]): p["identifier_value"] for p in _table(result, "patient")}
    data = open_package(result.archive).data
    messages = _table(result, "message")
    assert messages
    for m in messages:
        assert m["patient_id"] in patients
        kept = (data / str(m["original_path"])).read_bytes()
        assert hashlib.sha256(kept).hexdigest() == m["original_sha256"]
        if m["message_type_code"] != "APPREC":
            assert str(patients[str(m["patient_id"])]).encode() in kept


def test_dos_era_notes_arrive_exactly(converted: tuple[Path, ConversionResult]) -> None:
    source, result = converted
    legacy = _legacy_notes(source)
    assert legacy, "the practice has notes in cp865"
    notes = {str(n["note_id"]): n["text"] for n in _table(result, "journal_note") if n["note_id"] is not None}
    for nid, text in legacy.items():
        assert notes[nid] == text
    assert any(ch in "".join(legacy.values()) for ch in "æøå")


def test_show_prints_the_journal_with_norwegian_letters(converted: tuple[Path, ConversionResult]) -> None:
    source, result = converted
    legacy = _legacy_notes(source)
    nid = next(n for n, text in legacy.items() if any(ch in text for ch in "æøå"))
    con = sqlite3.connect(source / DB_NAME)
    con.text_factory = bytes
    pasnr = con.execute("select PASNR from JOURNALNOTAT where NOTAT_ID = ?", (int(nid),)).fetchone()[0]
    texts = [raw for (raw,) in con.execute("select TEKST from JOURNALNOTAT where PASNR = ?", (pasnr,))]
    con.close()
    utf8_texts = [raw.decode("utf-8") for raw in texts if str(raw.decode("cp865")) not in legacy.values()]
    env = {**os.environ, "COLUMNS": "3000", "PYTHONIOENCODING": "utf-8", "NO_COLOR": "1"}
    out = subprocess.run(
        [sys.executable, "convert.py", "show", str(result.archive), "--patient", str(pasnr)],
        cwd=REPO,
        env=env,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    for line in legacy[nid].splitlines():
        assert line.strip() in out
    for text in utf8_texts:
        for line in text.splitlines():
            assert line.strip() in out
    for mojibake in ("Ã¸", "Ã¥", "Ã¦", "\ufffd"):
        assert mojibake not in out


def test_demo_command_builds_converts_and_validates_the_practice(tmp_path: Path) -> None:
    target = tmp_path / "demo"
    result = CliRunner().invoke(convert.cli, ["-q", "demo", str(target), "--patients", "6"], obj={})
    assert result.exit_code == 0, result.output
    assert (target / "source" / DB_NAME).is_file()
    assert "journalkonvert show" in result.output
    package = open_package(target / "archive")
    assert pq.read_table(package.table("patient")).num_rows == 6
