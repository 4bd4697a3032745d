"""The message-source contract (virtual tables, originals, problems, deviations) through the real pipeline.

A toy reader stands in for KITH/HL7: each ``.msg`` file holds lines ``P|id|name`` (a patient,
repeated across messages) and ``N|id|text`` (a note); anything else is a deviation, and a file
that starts with ``!`` cannot be read at all.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import ClassVar

import pyarrow.parquet as pq
import pytest

from converters import READERS
from converters.message_source import Emit, MessageReader
from converters.pipeline import ConversionOptions, run_conversion
from validation import validate_archive

TOY_MAPPING = """\
mapping_version: 1
system: toy
title: Toy messages
source:
  patient_table: toy_patient
tables:
  toy_patient:
    file: toy_patient
    patient: id
    duplicates: exclude
    targets:
      - table: patient
        fields:
          given_name: name
  toy_note:
    file: toy_note
    patient: id
    targets:
      - table: journal_note
        fields:
          text: text
  toy_message:
    file: toy_message
    patient: pid
    targets:
      - table: message
        fields:
          message_id: msg
          original_path: path
          original_sha256: sha
"""


class ToyReader(MessageReader):
    """Lines of P/N records in .msg files."""

    name: ClassVar[str] = "toy"
    title: ClassVar[str] = "Toy messages"
    reads: ClassVar[str] = "toy .msg files"
    record_tables: ClassVar[dict[str, tuple[str, ...]]] = {
        "toy_message": ("msg", "pid", "path", "sha"),
        "toy_patient": ("id", "name"),
        "toy_note": ("id", "text"),
    }
    file_suffixes: ClassVar[tuple[str, ...]] = (".msg",)

    def accepts(self, path: Path | str) -> bool:
        """Accept a folder with .msg files."""
        p = Path(path)
        return p.is_dir() and any(p.glob("*.msg"))

    def extract(self, path: Path, rel: str, data: bytes, emit: Emit) -> None:
        """Emit the toy records of one file."""
        if data.startswith(b"!"):
            emit.problem("toy_message", f"{rel}#/", reason="unparseable_record", rule="toy: not a message", raw=data)
            return
        kept = emit.original(data, kind="messages", suffix=".msg")
        emit.record("toy_message", f"{rel}#/", {"msg": rel, "pid": "1", "path": kept.path, "sha": kept.sha256})
        for i, line in enumerate(data.decode().splitlines(), start=1):
            kind, _, rest = line.partition("|")
            ref = f"{rel}#line={i}"
            if kind == "P":
                pid, name = rest.split("|")
                emit.record("toy_patient", ref, {"id": pid, "name": name})
            elif kind == "N":
                pid, text = rest.split("|")
                emit.record("toy_note", ref, {"id": pid, "text": text})
            else:
                emit.deviation(ref, standard="toy", element_path=f"line {i}", message=f"unknown record kind {kind!r}")


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    monkeypatch.setitem(READERS, "toy", ToyReader)
    src = tmp_path / "msgs"
    (src / "in").mkdir(parents=True)
    (src / "in" / "a.msg").write_text("P|1|Åse\nN|1|første notat\nX|?\n", encoding="utf-8")
    (src / "in" / "b.msg").write_text("P|1|Åse\nP|2|Per\nN|2|andre\n", encoding="utf-8")
    (src / "c.msg").write_bytes(b"!garbage\x00")
    (src / "readme.txt").write_text("not a message", encoding="utf-8")
    mapping = tmp_path / "toy.yaml"
    mapping.write_text(TOY_MAPPING, encoding="utf-8")
    return src, mapping


def test_message_records_originals_and_deviations(toy: tuple[Path, Path], tmp_path: Path) -> None:
    src, mapping = toy
    result = run_conversion(ConversionOptions(system="toy", source=src, archive=tmp_path / "pkg", mapping=mapping))
    data = result.archive / "data"
    assert result.tables == {"patient": 2, "journal_note": 2, "message": 2}
    by_table = {t.source_table: t for t in result.ledger.tables.values()}
    assert by_table["toy_patient"].source_rows == 3
    assert by_table["toy_patient"].excluded == 1  # the repeat of patient 1
    assert by_table["toy_message"].source_rows == 3
    assert by_table["toy_message"].rejected == 1  # c.msg
    # originals: byte for byte, content-addressed, referenced from the message table
    messages = pq.read_table(data / "tables" / "message.parquet").to_pylist()
    for m in messages:
        kept = data / m["original_path"]
        assert hashlib.sha256(kept.read_bytes()).hexdigest() == m["original_sha256"]
    assert (data / messages[0]["original_path"]).read_bytes() == (src / "in" / "a.msg").read_bytes()
    assert sorted(p.name for p in (data / "originals" / "messages").iterdir()) == sorted(
        f"{m['original_sha256']}.msg" for m in messages
    )
    # lineage: the reader's own references
    notes = pq.read_table(data / "tables" / "journal_note.parquet").to_pylist()
    assert {n["source_ref"] for n in notes} == {"in/a.msg#line=2", "in/b.msg#line=3"}
    # the unreadable file is a reject with its exact bytes and its reference
    rejects = pq.read_table(data / "rejects" / "rejects.parquet").to_pylist()
    assert [(r["source_ref"], r["reason_code"]) for r in rejects] == [("c.msg#/", "unparseable_record")]
    # deviations are findings, in the ledger folder
    dev = pq.read_table(data / "ledger" / "deviations.parquet").to_pylist()
    assert dev == [
        {
            "source_ref": "in/a.msg#line=3",
            "standard": "toy",
            "element_path": "line 3",
            "message": "unknown record kind 'X'",
        }
    ]
    report = validate_archive(result.archive)
    assert report.valid, [f.to_dict() for f in report.findings]


def test_message_source_is_deterministic(toy: tuple[Path, Path], tmp_path: Path) -> None:
    src, mapping = toy
    a = run_conversion(ConversionOptions(system="toy", source=src, archive=tmp_path / "a", mapping=mapping))
    b = run_conversion(ConversionOptions(system="toy", source=src, archive=tmp_path / "b", mapping=mapping))
    assert (a.archive / "manifest-sha256.txt").read_text() == (b.archive / "manifest-sha256.txt").read_text()
    assert a.run_id == b.run_id
    summary = json.loads((a.archive / "data" / "ledger" / "summary.json").read_text())
    assert summary


def test_validate_names_changed_and_orphan_originals(toy: tuple[Path, Path], tmp_path: Path) -> None:
    from formats.package import open_package
    from validation.originals import check_originals

    src, mapping = toy
    result = run_conversion(ConversionOptions(system="toy", source=src, archive=tmp_path / "pkg", mapping=mapping))
    layout = open_package(result.archive)
    assert list(check_originals(layout)) == []
    kept = sorted((layout.data / "originals" / "messages").iterdir())
    kept[0].chmod(0o600)
    kept[0].write_bytes(b"changed")
    orphan = layout.data / "originals" / "messages" / "stray.msg"
    orphan.write_bytes(b"P|9|x\n")
    messages = [f.message for f in check_originals(layout)]
    assert any("does not have the SHA-256" in m for m in messages), messages
    assert any("stray.msg is referenced by no" in m for m in messages), messages


def test_renditions_can_be_switched_off(tmp_path: Path) -> None:
    """--no-pdfa: originals kept, no PDF/A made (trial runs, scale benchmarks); the setting is part of run_id."""
    src = Path(__file__).resolve().parent / "fixtures" / "kith"
    if not src.is_dir():
        pytest.skip("the KITH fixtures are not there")
    on = run_conversion(ConversionOptions(system="kith", source=src, archive=tmp_path / "on"))
    off = run_conversion(ConversionOptions(system="kith", source=src, archive=tmp_path / "off", renditions=False))
    assert on.run_id != off.run_id
    assert on.tables == off.tables
    assert any((on.archive / "data" / "documents").glob("*.pdf"))
    assert not (off.archive / "data" / "documents").exists()
    docs = pq.read_table(off.archive / "data" / "tables" / "document.parquet").to_pylist()
    assert docs and all(d["pdfa_path"] is None and d["original_path"] for d in docs)
    assert validate_archive(off.archive).valid


class ToyDocumentReader(ToyReader):
    """Keeps each file as a *document* (a .txt, so the normaliser renders it) that no mapping makes a row of."""

    name: ClassVar[str] = "toydoc"

    def extract(self, path: Path, rel: str, data: bytes, emit: Emit) -> None:
        """Keep the file as a document (the message row names the original, no row names the rendition)."""
        if data.startswith(b"!"):
            return
        kept = emit.original(data, kind="documents", suffix=".txt")
        assert kept.pdfa_path is not None
        emit.record("toy_message", f"{rel}#/", {"msg": rel, "pid": "1", "path": kept.path, "sha": kept.sha256})
        emit.record("toy_patient", f"{rel}#line=1", {"id": "1", "name": "Åse"})


def test_renditions_no_document_row_names_are_not_kept(
    toy: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(READERS, "toydoc", ToyDocumentReader)
    src, mapping = toy
    result = run_conversion(ConversionOptions(system="toydoc", source=src, archive=tmp_path / "pkg", mapping=mapping))
    assert not (result.archive / "data" / "documents").exists()
    assert any(n["flag"] == "renditions_dropped" for n in result.notes)
    assert validate_archive(result.archive).valid
