"""What a conversion run writes besides the mapped rows: table sinks, originals and renditions, ledger files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from converters.base import SourceReader
from converters.message_source import DOCUMENTS_DIR
from formats.ledger import DEVIATION_SCHEMA, Ledger
from formats.package import LEDGER_DIR, PackageLayout
from formats.table_sink import TableSink, WrittenTable
from formats.text_repair import TEXT_AUDIT_SCHEMA, TextAudit


class TableSinks:
    """The table sinks of one run, created on first use."""

    def __init__(self, layout: PackageLayout, scratch: Path) -> None:
        self.layout = layout
        self.scratch = scratch
        self.sinks: dict[str, TableSink] = {}
        self.written: dict[str, WrittenTable | None] = {}

    def get(self, key: str, schema: pa.Schema, sort_keys: tuple[str, ...], folder: str) -> TableSink:
        """Return the sink of ``key`` (``<folder>/<name>``), opening it on first use."""
        if key not in self.sinks:
            name = key.split("/", 1)[1]
            self.sinks[key] = TableSink(name, schema, sort_keys, self.scratch, self.layout.dir(folder))
        return self.sinks[key]

    def close(self, key: str) -> None:
        """Finish one table now (frees its buffers)."""
        sink = self.sinks.pop(key, None)
        if sink is not None:
            self.written[key] = sink.close()

    def close_all(self) -> dict[str, WrittenTable | None]:
        """Finish every table still open; return all written tables by key."""
        for key in sorted(self.sinks):
            self.close(key)
        return dict(sorted(self.written.items()))


def keep_originals(reader: SourceReader, layout: PackageLayout, sinks: TableSinks) -> list[dict[str, str]]:
    """Copy the reader's kept originals into the package and write its deviations (message sources).

    Returns:
        Notes for the report: how many originals were kept and how many deviations found.
    """
    kinds: dict[str, int] = {}
    for rel, path in reader.originals():
        if rel.startswith(f"{DOCUMENTS_DIR}/"):
            continue  # renditions: kept after the tables are written, only where a document row names them
        target = layout.data / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        kind = rel.split("/")[1] if rel.count("/") >= 2 else rel
        kinds[kind] = kinds.get(kind, 0) + 1
    notes = []
    if kinds:
        counts = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items()))
        notes.append(
            {"table": "originals", "flag": "originals_kept", "message": f"kept byte for byte: {counts} (originals/)"}
        )
    deviations = reader.deviations()
    if deviations is not None:
        sinks.get(f"{LEDGER_DIR}/deviations", DEVIATION_SCHEMA, (), LEDGER_DIR).write(deviations)
        if deviations.num_rows:
            notes.append(
                {
                    "table": "deviations",
                    "flag": "standard_deviations",
                    "message": f"{deviations.num_rows} deviation(s) from the message standard, converted all "
                    "the same; listed in ledger/deviations.csv",
                }
            )
    return notes


def keep_renditions(reader: SourceReader, layout: PackageLayout) -> list[dict[str, str]]:
    """Copy the PDF/A renditions that a document row names; drop the others (their records became no document).

    A rendition is derived from an original that is kept anyway (or from a record that was rejected or
    preserved raw), so one that no row refers to would only be an orphan file.
    """
    renditions = [(rel, path) for rel, path in reader.originals() if rel.startswith(f"{DOCUMENTS_DIR}/")]
    if not renditions:
        return []
    named: set[str] = set()
    table = layout.table("document")
    if table.is_file():
        named = {p for p in pq.read_table(table, columns=["pdfa_path"]).column(0).to_pylist() if p}
    dropped = 0
    for rel, path in renditions:
        if rel not in named:
            dropped += 1
            continue
        target = layout.data / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    if not dropped:
        return []
    return [
        {
            "table": "document",
            "flag": "renditions_dropped",
            "message": f"{dropped} PDF/A rendition(s) made for records that became no document row were not kept "
            "(the originals are kept; the records are in raw/ or rejects/)",
        }
    ]


def document_notes(layout: PackageLayout) -> list[dict[str, str]]:
    """Count the documents by normalisation status; a document without a PDF/A rendition is a note of its own."""
    path = layout.table("document")
    if not path.is_file():
        return []
    table = pq.read_table(path, columns=["status", "pdfa_path", "original_path"])
    counts: dict[str, int] = {}
    missing = 0
    for status, pdfa, original in zip(*(table.column(i).to_pylist() for i in range(3)), strict=True):
        key = (status or "no status").split(":", 1)[0]
        counts[key] = counts.get(key, 0) + 1
        missing += int(pdfa is None and original is not None)
    text = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
    notes = [{"table": "document", "flag": "document_status", "message": f"documents by PDF/A status: {text}"}]
    if missing:
        notes.append(
            {
                "table": "document",
                "flag": "not_normalised",
                "message": f"{missing} document(s) kept as original only, without a PDF/A rendition "
                "(status says why; see docs/documents.md)",
            }
        )
    return notes


def write_text_audit(sinks: TableSinks, audit: TextAudit) -> None:
    """Write ledger/text_audit (Parquet + CSV twin): per source column, values decoded, repaired, suspicious."""
    sinks.get(f"{LEDGER_DIR}/text_audit", TEXT_AUDIT_SCHEMA, (), LEDGER_DIR).write(audit.to_table())


def write_ledger_summary(layout: PackageLayout, ledger: Ledger, written: dict[str, WrittenTable | None]) -> None:
    """Write ledger/summary.json and summary.csv: the arithmetic per source table, and the files written."""
    folder = layout.dir(LEDGER_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    summary = ledger.to_dict()
    summary["files"] = {k: w.rows for k, w in written.items() if w is not None}
    (folder / "summary.json").write_text(
        json.dumps(summary, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
    header = "source_table,source_rows,converted,preserved,rejected,excluded,balanced\r\n"
    lines = [
        f"{t.source_table},{t.source_rows},{t.converted},{t.preserved},{t.rejected},{t.excluded},"
        f"{'true' if t.balanced else 'false'}\r\n"
        for t in sorted(ledger.tables.values(), key=lambda t: t.source_table)
    ]
    (folder / "summary.csv").write_text(header + "".join(lines), encoding="utf-8", newline="")
