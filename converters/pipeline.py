"""The conversion pipeline: read -> map -> write -> describe -> seal, with the ledger checked.

``run_conversion`` is the library entry point. It raises ``ConversionError`` subclasses for
problems that stop a run (missing source, invalid mapping, existing target, ledger gap); bad
records never stop it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa

from converters import get_reader
from converters.audit_record import TOOL_VERSION, audit_record
from converters.base import SourceInfo, SourceReader, SourceTable
from converters.csv_source import REF_COLUMN, ROW_COLUMN, SourceBatch, row_refs
from converters.engine import BatchOutcome, Lineage, TableConverter, problems_outcome
from converters.hashing import RowHasher
from converters.mapping import Mapping
from converters.run_outputs import (
    TableSinks,
    document_notes,
    keep_originals,
    keep_renditions,
    write_ledger_summary,
    write_text_audit,
)
from converters.transform import Lookups, empty_to_null
from formats.bag import seal_bag
from formats.description import write_description
from formats.errors import LedgerGapError
from formats.ledger import LEDGER_RECORD_SCHEMA, REJECT_SCHEMA, Ledger
from formats.model import MODEL_VERSION, TABLES
from formats.package import (
    AUDIT_FILE,
    LEDGER_DIR,
    RAW_DIR,
    REJECTS_DIR,
    TABLES_DIR,
    PackageDraft,
    PackageLayout,
)
from formats.progress import NullProgress, ProgressReporter
from formats.table_sink import duckdb_connection
from formats.text_codecs import TextDecoding
from formats.text_repair import TEXT_REPAIR_SCHEMA, TextAudit, TextSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class ConversionOptions:
    """Everything a conversion needs, validated once at the boundary."""

    system: str
    source: Path | str
    archive: Path
    mapping: Path | None = None
    encoding: str | None = None
    password: str | None = field(default=None, repr=False)
    renditions: bool = True

    def settings(self) -> dict[str, str | None]:
        """Return the settings that shape the output (recorded, and part of run_id)."""
        return {
            "system": self.system,
            "mapping": self.mapping.name if self.mapping else None,
            "encoding": self.encoding,
            **({} if self.renditions else {"renditions": "off"}),
        }


@dataclass
class ConversionResult:
    """What a conversion did."""

    archive: Path
    run_id: str
    ledger: Ledger
    tables: dict[str, int]
    notes: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    source_timezone: str = "Europe/Oslo"
    mapping_file: str = ""
    text_audit: dict[str, object] = field(default_factory=dict)

    @property
    def source_rows(self) -> int:
        """Source records read."""
        return self.ledger.totals()["source_rows"]


Finisher = Callable[[PackageLayout, ConversionResult], None]
"""Writes extra payload files (e.g. the report) before the bag is sealed."""


def _uuid(hexdigest: str) -> str:
    h = hexdigest
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def run_conversion(
    options: ConversionOptions,
    *,
    progress: ProgressReporter | None = None,
    finishers: Sequence[Finisher] = (),
) -> ConversionResult:
    """Convert a source into a new archive package.

    Args:
        options: what to convert, with which reader, into which new package.
        progress: receives progress (bytes of source read).
        finishers: write extra payload files before the bag is sealed.

    Returns:
        The result: where the package is, its run id, the ledger and table row counts.

    Raises:
        ConversionError: for problems that make the run impossible (see docs/errors.md).

    Example:
        >>> opts = ConversionOptions(system="synthea-csv", source=Path("export"), archive=Path("out"))
        >>> run_conversion(opts).tables["patient"]  # doctest: +SKIP
        27
    """
    started = time.monotonic()
    started_at = datetime.now(UTC)
    progress = progress or NullProgress()
    reader = get_reader(options.system)()
    info = reader.source_info(
        options.source, mapping=options.mapping, encoding=options.encoding, password=options.password
    )
    info = replace(info, renditions=options.renditions)
    try:
        return _run(options, reader, info, progress, finishers, started, started_at)
    finally:
        reader.close()


def _run(
    options: ConversionOptions,
    reader: SourceReader,
    info: SourceInfo,
    progress: ProgressReporter,
    finishers: Sequence[Finisher],
    started: float,
    started_at: datetime,
) -> ConversionResult:
    mapping = reader.load_mapping(info)
    tables = reader.tables(info, mapping)
    inputs = {t.file_name: reader.fingerprint(t) for t in tables if not t.missing}
    run_id = _uuid(
        hashlib.sha256(
            json.dumps(
                {
                    "tool": TOOL_VERSION,
                    "model": MODEL_VERSION,
                    "reader": reader.name,
                    "mapping": mapping.sha256,
                    "settings": options.settings(),
                    "inputs": inputs,
                },
                sort_keys=True,
            ).encode()
        ).hexdigest()
    )
    draft = PackageDraft(options.archive)
    for folder in draft.removed_stale:
        log.info("removed the staging folder of an interrupted earlier run: %s", folder.name)
    try:
        result = _convert(mapping.system, reader, mapping, tables, draft, run_id, progress)
        for finish in finishers:
            finish(draft.layout, result)
        audit = audit_record(
            password=options.password,
            settings=options.settings(),
            source=options.source,
            mapping=mapping,
            tables=tables,
            inputs=inputs,
            run_id=result.run_id,
            started_at=started_at,
        )
        seal_bag(
            draft.layout.root,
            {
                "Bag-Software-Agent": f"journalkonvert {TOOL_VERSION}",
                "External-Description": f"Patient journals converted from {mapping.title}",
                "External-Identifier": run_id,
                "Bag-Group-Identifier": f"journalkonvert canonical model {MODEL_VERSION}",
            },
            {AUDIT_FILE: json.dumps(audit, indent=2, ensure_ascii=False).encode() + b"\n"},
        )
        result.archive = draft.publish()
    except BaseException:
        draft.discard()
        raise
    result.seconds = time.monotonic() - started
    return result


def _ordered(tables: list[SourceTable], mapping: Mapping) -> list[SourceTable]:
    first = mapping.source.patient_table
    return sorted(tables, key=lambda t: (t.name != first, t.name))


def _convert(
    system: str,
    reader: SourceReader,
    mapping: Mapping,
    tables: list[SourceTable],
    draft: PackageDraft,
    run_id: str,
    progress: ProgressReporter,
) -> ConversionResult:
    layout = draft.layout
    read = reader.read
    con = duckdb_connection(draft.scratch / "duckdb")
    hasher = RowHasher(con)
    sinks = TableSinks(layout, draft.scratch)
    ledger = Ledger()
    text_audit = TextAudit()
    notes: list[dict[str, str]] = []
    patient_keys: set[str] = set()
    lookups = _load_lookups(mapping, tables, read, notes)
    progress.start(sum(t.size for t in tables if not t.missing), "converting")
    for table in _ordered(tables, mapping):
        tally = ledger.tally(table.name)
        tm = mapping.table(table.name)
        if table.missing:
            tally.bump(tally.flags, "missing_table")
            notes.append(
                {
                    "table": table.name,
                    "flag": "missing_table",
                    "message": f"the mapping expects {table.file_name}, which the source does not have",
                }
            )
            continue
        if tm is not None:
            needed = tm.consumed_columns() - set(table.columns)
            if needed:
                notes.append(
                    {
                        "table": table.name,
                        "flag": "mapping_mismatch",
                        "message": f"{table.file_name} lacks column(s) {', '.join(sorted(needed))}; "
                        "the whole table is preserved raw",
                    }
                )
                tally.bump(tally.flags, "mapping_mismatch")
                tm = None
        elif table.columns:
            tally.bump(tally.flags, "unmapped_table")
        converter = TableConverter(
            system,
            table.name,
            list(table.columns),
            tm,
            patient_keys,
            hasher,
            is_patient_table=table.name == mapping.source.patient_table,
            lookups=lookups,
            text=_text_settings(table, mapping),
        )
        size = table.size
        done = 0
        for batch in read(table):
            n = batch.table.num_rows
            rows = batch.table.column(ROW_COLUMN).combine_chunks()
            refs = row_refs(table.file_name, rows)
            if REF_COLUMN in batch.table.column_names:
                refs = batch.table.column(REF_COLUMN).combine_chunks()
                batch.table = batch.table.drop_columns([REF_COLUMN])
            lineage = Lineage(
                system,
                table.name,
                rows,
                refs,
                hasher.record_hashes(batch.table, list(table.columns)),
                run_id,
            )
            outcome = converter.convert(batch.table, lineage, batch.fallbacks)
            text_audit.add(table.name, outcome.text_audit)
            unreadable = problems_outcome(batch.problems, system, table.name, table.file_name)
            tally.source_rows += n + len(batch.problems)
            for part in (outcome, unreadable):
                _write(part, sinks, table.name, converter)
                tally.add_fates(part.fates)
                for k, v in part.targets.items():
                    tally.bump(tally.targets, k, v)
                for k, v in part.reasons.items():
                    tally.bump(tally.reasons, k, v)
                for k, v in part.flags.items():
                    tally.bump(tally.flags, k, v)
            read_units = n + len(batch.problems) if table.size_unit == "rows" else int(batch.table.nbytes)
            step = min(size - done, max(1, read_units))
            done += step
            progress.advance(step, table.file_name)
        progress.advance(size - done, table.file_name)
        sinks.close(f"{RAW_DIR}/{table.name}")
        if tally.source_rows == 0:
            tally.bump(tally.flags, "empty_table")
            notes.append({"table": table.name, "flag": "empty_table", "message": f"{table.file_name} has no records"})
    progress.finish()
    notes += keep_originals(reader, layout, sinks)
    write_text_audit(sinks, text_audit)
    written = sinks.close_all()
    con.close()
    notes += keep_renditions(reader, layout)
    notes += document_notes(layout)
    gaps = ledger.gaps()
    if gaps:
        detail = "; ".join(f"{t.source_table}: {t.source_rows} read, {t.accounted} accounted" for t in gaps)
        raise LedgerGapError(
            f"the ledger does not balance ({detail})",
            hint="this is a bug in journalkonvert; please report it with the mapping file",
        )
    canonical = {w.name: w.rows for k, w in written.items() if w is not None and k.startswith(TABLES_DIR)}
    for name, expected in ledger.category_totals().items():
        if canonical.get(name, 0) != expected:
            raise LedgerGapError(
                f"canonical table {name} has {canonical.get(name, 0)} rows; ledger says {expected}",
                hint="this is a bug in journalkonvert; please report it",
            )
    write_ledger_summary(layout, ledger, written)
    write_description(layout, system=system, run_id=run_id, tool_version=TOOL_VERSION, mapping_files=[mapping.path])
    return ConversionResult(
        archive=layout.root,
        run_id=run_id,
        ledger=ledger,
        tables=canonical,
        notes=notes,
        source_timezone=mapping.source.timezone,
        mapping_file=mapping.path.name,
        text_audit=text_audit.to_dict(),
    )


def _load_lookups(
    mapping: Mapping,
    tables: list[SourceTable],
    read: Callable[[SourceTable], Iterator[SourceBatch]],
    notes: list[dict[str, str]],
) -> Lookups:
    """Read the two columns of every lookup (join) the mapping uses, before any table is converted.

    A lookup table is a dimension (codes and their texts, providers and their names): it is held
    in memory. Its records are still converted or preserved on their own when their turn comes.
    """
    out: Lookups = {}
    by_name = {t.name: t for t in tables}
    for lookup in mapping.lookups():
        table = by_name.get(lookup.table)
        keys: list[pa.Array] = []
        values: list[pa.Array] = []
        if table is None or table.missing or not {lookup.key, lookup.value} <= set(table.columns):
            notes.append(
                {
                    "table": lookup.table,
                    "flag": "missing_lookup",
                    "message": f"lookup {lookup.key} -> {lookup.value} in {lookup.table}: table or columns missing; "
                    "every looked-up value is treated as unknown",
                }
            )
        else:
            for batch in read(table):
                keys.append(empty_to_null(batch.table.column(lookup.key).combine_chunks()))
                values.append(empty_to_null(batch.table.column(lookup.value).combine_chunks()))
        out[lookup] = (
            pa.concat_arrays(keys) if keys else pa.array([], pa.string()),
            pa.concat_arrays(values) if values else pa.array([], pa.string()),
        )
    return out


def _write(outcome: BatchOutcome, sinks: TableSinks, source_table: str, converter: TableConverter) -> None:
    for key, rows in outcome.canonical.items():
        name = key.split(":", 1)[1]
        spec = TABLES[name]
        sinks.get(f"{TABLES_DIR}/{name}", spec.schema(), spec.sort_keys, TABLES_DIR).write(rows)
    if outcome.ledger is not None:
        sinks.get(f"{LEDGER_DIR}/records", LEDGER_RECORD_SCHEMA, (), LEDGER_DIR).write(outcome.ledger)
    if outcome.rejects is not None:
        sinks.get(f"{REJECTS_DIR}/rejects", REJECT_SCHEMA, (), REJECTS_DIR).write(outcome.rejects)
    if outcome.text_repairs is not None:
        sinks.get(f"{LEDGER_DIR}/text_repairs", TEXT_REPAIR_SCHEMA, (), LEDGER_DIR).write(outcome.text_repairs)
    if outcome.raw is not None:
        schema = converter.raw_schema()
        assert schema is not None
        sinks.get(f"{RAW_DIR}/{source_table}", schema, (), RAW_DIR).write(outcome.raw)


def _text_settings(table: SourceTable, mapping: Mapping) -> TextSettings:
    """Return how a source table's text is treated: the codec its bytes were read with, repair or not."""
    declared = mapping.source.encoding if table.encoding == "database" else table.encoding
    return TextSettings(encoding=TextDecoding.of(declared).encoding, repair=mapping.source.repair_mojibake)
