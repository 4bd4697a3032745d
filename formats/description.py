"""The package's self-description: README.txt, JSON Schemas, data dictionary, ADDML."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from formats.addml import DescribedFile, addml_document
from formats.bag import sha256_file
from formats.ledger import REJECT_REASONS
from formats.model import MODEL_VERSION, TABLES
from formats.package import SCHEMA_DIR, PackageLayout
from formats.schema_docs import data_dictionary_markdown, table_json_schema

README = """\
ARCHIVE PACKAGE OF PATIENT JOURNALS — READ ME FIRST
===================================================

Made by journalkonvert {tool_version}, canonical model {model_version}.
Source system: {system}. Conversion id (run_id): {run_id}.

This folder is a BagIt bag (RFC 8493). bagit.txt says so; manifest-sha256.txt lists the SHA-256
of every file under data/, and tagmanifest-sha256.txt those of the files outside it. To check
that nothing was changed, recompute the SHA-256 of each file and compare (any BagIt tool, or
`sha256sum -c manifest-sha256.txt` run in this folder).

WHAT IS WHERE
  data/tables/<name>.csv       the journal, one table per kind of record (patient, encounter,
                               diagnosis, medication, lab_result, ...). CSV as in RFC 4180:
                               UTF-8, comma-separated, CRLF line ends, a header row, fields in
                               double quotes where needed. An empty unquoted field means "no
                               value"; "" (two quotes) means an empty text. Times are UTC,
                               written yyyy-mm-dd hh:mm:ss.ffffffZ.
  data/tables/<name>.parquet   the same rows as Apache Parquet, for fast access by software.
                               The CSV files are the archival copy; the two hold the same rows.
  data/schema/addml.xml        structure description of every CSV file (ADDML, Arkivverket):
                               fields, types, record counts and checksums.
  data/schema/<name>.schema.json   JSON Schema of each table, with a description of each field.
  data/schema/data-dictionary.md   the same descriptions, for people.
  data/raw/                    source data that no mapping consumed, verbatim (all text).
  data/rejects/                source records that could not be converted, verbatim, with the
                               reason (codes explained below) and the rule that was broken.
  data/ledger/records.csv      the fate of every source record: converted, preserved (raw/),
                               rejected (rejects/) or excluded (with the reason).
  data/ledger/summary.json     per source table: source = converted + preserved + rejected +
                               excluded. The conversion refused to finish if this did not hold.
  data/ledger/text_audit.csv   per source column: text values read, decoded with a fallback
                               encoding, repaired (double-encoded UTF-8) and still suspicious.
  data/ledger/text_repairs.csv the original bytes (base64) of every text value that was decoded
                               with a fallback encoding or repaired, beside the converted text.
  data/ledger/deviations.csv   message sources only: where a message deviates from its standard
                               (schema findings; the message was still converted).
  data/originals/messages/     message sources only: every message byte for byte, named by the
                               SHA-256 of its bytes; message.original_path points here.
  data/originals/documents/    attachments decoded from messages, named by SHA-256;
                               document.original_path points here.
  data/mappings/               the mapping files that drove the conversion.
  data/report/                 the conversion report.
  audit/conversion-run.json    who ran the conversion, when, on which inputs (with checksums),
                               with which settings and tool versions.

HOW ROWS ARE LINKED
  Every row of a table in data/tables has patient_id (except practitioner and organisation),
  which is patient.patient_id. Every row says where it came from: source_system, source_ref
  (file#row=N: record N of that file, the header being record 1; for messages file#path inside
  the message, e.g. x.xml#/MsgHead/Document[1] or y.hl7#msg=1/seg=3), and source_hash: the SHA-256
  of the source record's field values as text, in source column order, joined by the character
  U+001F. Coded values take five columns: <x>_system (code system URI or OID), <x>_code,
  <x>_display (text as recorded), <x>_system_version and <x>_original_text.

REASONS A RECORD WAS REJECTED
{reasons}
"""


SUMMARY_SCHEMA = pa.schema(
    [pa.field("source_table", pa.string(), nullable=False, metadata={"description": "source table"})]
    + [
        pa.field(name, pa.int64(), nullable=False, metadata={"description": f"records {name.replace('_', ' ')}"})
        for name in ("source_rows", "converted", "preserved", "rejected", "excluded")
    ]
    + [pa.field("balanced", pa.bool_(), nullable=False, metadata={"description": "whether the sum holds"})]
)


def tables_in(summary_csv: Path) -> list[str]:
    """Return the data lines of the ledger summary CSV (one per source table)."""
    return summary_csv.read_text(encoding="utf-8").splitlines()[1:]


def write_description(
    layout: PackageLayout, *, system: str, run_id: str, tool_version: str, mapping_files: list[Path]
) -> None:
    """Write README.txt, schemas, data dictionary, mapping copies and ADDML into the payload."""
    data = layout.data
    reasons = "\n".join(f"  {code:<20} {text}" for code, text in REJECT_REASONS.items())
    (data / "README.txt").write_text(
        README.format(
            tool_version=tool_version, model_version=MODEL_VERSION, system=system, run_id=run_id, reasons=reasons
        ).replace("\n", "\r\n"),
        encoding="utf-8",
    )
    schema_dir = layout.dir(SCHEMA_DIR)
    schema_dir.mkdir(parents=True, exist_ok=True)
    for spec in TABLES.values():
        text = json.dumps(table_json_schema(spec), indent=2, ensure_ascii=False, sort_keys=True)
        (schema_dir / f"{spec.name}.schema.json").write_text(text + "\n", encoding="utf-8")
    (schema_dir / "data-dictionary.md").write_text(data_dictionary_markdown() + "\n", encoding="utf-8")
    mapping_dir = layout.dir("mappings")
    mapping_dir.mkdir(parents=True, exist_ok=True)
    for m in mapping_files:
        (mapping_dir / m.name).write_bytes(m.read_bytes())
    described = []
    for csv_path in sorted(data.rglob("*.csv"), key=lambda p: p.as_posix()):
        parquet_path = csv_path.with_suffix(".parquet")
        if not parquet_path.exists():
            continue
        meta = pq.read_metadata(parquet_path)
        schema = pq.read_schema(parquet_path)
        title = (schema.metadata or {}).get(b"title", b"").decode()
        rel = csv_path.relative_to(data).as_posix()
        described.append(
            DescribedFile(
                rel.removesuffix(".csv").replace("/", "."), rel, schema, meta.num_rows, sha256_file(csv_path), title
            )
        )
    summary = layout.dir("ledger") / "summary.csv"
    if summary.is_file():
        described.append(
            DescribedFile(
                "ledger.summary",
                "ledger/summary.csv",
                SUMMARY_SCHEMA,
                len(tables_in(summary)),
                sha256_file(summary),
                "Ledger summary: source = converted + preserved + rejected + excluded",
            )
        )
    (schema_dir / "addml.xml").write_bytes(
        addml_document(
            f"journalkonvert-{run_id}", f"Patient journals converted from {system} by journalkonvert", described
        )
    )
