"""Message sources (KITH XML, HL7 v2, FHIR, ...) as virtual source tables.

A message reader parses each source file once and *emits* records into virtual tables of text
columns that it declares up front (``record_tables``). The records are spilled to Arrow IPC files
in a scratch folder while the source is walked, so memory stays flat however many messages there
are; the pipeline then streams each virtual table through the mapping like any other table, so
every message, segment and attachment gets exactly one fate in the ledger.

Besides records, a reader keeps **originals** (the message bytes, decoded attachments) in the
package, content-addressed as ``originals/<kind>/<sha256><suffix>``, and reports **deviations**
from the message standard (schema findings, not rejections).
"""

from __future__ import annotations

import abc
import base64
import hashlib
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import ClassVar

import pyarrow as pa
import pyarrow.ipc as ipc

from converters.base import SourceInfo, SourceReader, SourceTable, missing_tables
from converters.csv_source import REF_COLUMN, ROW_COLUMN, RowProblem, SourceBatch
from converters.mapping import Mapping as MappingFile
from formats.errors import SourceError
from formats.ledger import DEVIATION_SCHEMA, REJECT_REASONS
from formats.pdfa_normalise import default_normaliser
from formats.rendition import Normaliser

ORIGINALS_DIR = "originals"
DOCUMENTS_DIR = "documents"
"""PDF/A renditions, named by their own SHA-256."""
FLUSH_ROWS = 4096


@dataclass(frozen=True)
class StoredOriginal:
    """Bytes kept in the package: their path inside ``data/``, SHA-256 and size, and their PDF/A rendition."""

    path: str
    sha256: str
    size: int
    pdfa_path: str | None = None
    pdfa_sha256: str | None = None
    page_count: int | None = None
    status: str | None = None
    text: str | None = None

    def columns(self, prefix: str = "") -> dict[str, str | None]:
        """Return the record columns a mapping copies into ``document`` (names prefixed by ``prefix``)."""
        values = {
            "original_path": self.path,
            "original_sha256": self.sha256,
            "original_size": str(self.size),
            "pdfa_path": self.pdfa_path,
            "pdfa_sha256": self.pdfa_sha256,
            "page_count": None if self.page_count is None else str(self.page_count),
            "status": self.status,
            "text_extract": self.text,
        }
        return {f"{prefix}{k}": v for k, v in values.items()}


class _Spill:
    """The records of one virtual table, buffered and spilled to an Arrow IPC file."""

    def __init__(self, path: Path, columns: tuple[str, ...]) -> None:
        self.path = path
        self.columns = columns
        self.schema = pa.schema(
            [pa.field(c, pa.string()) for c in columns]
            + [pa.field(ROW_COLUMN, pa.int64()), pa.field(REF_COLUMN, pa.string())]
        )
        self.buffer: dict[str, list[str | int | None]] = {c: [] for c in self.schema.names}
        self.writer: ipc.RecordBatchStreamWriter | None = None
        self.count = 0
        self.records = 0
        self.problems: list[RowProblem] = []

    def add(self, ref: str, values: Mapping[str, str | None]) -> None:
        self.count += 1
        self.records += 1
        for c in self.columns:
            self.buffer[c].append(values.get(c))
        self.buffer[ROW_COLUMN].append(self.count)
        self.buffer[REF_COLUMN].append(ref)
        if len(self.buffer[ROW_COLUMN]) >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.buffer[ROW_COLUMN]:
            return
        batch = pa.record_batch(
            [pa.array(self.buffer[n], self.schema.field(n).type) for n in self.schema.names], schema=self.schema
        )
        if self.writer is None:
            self.writer = ipc.new_stream(str(self.path), self.schema, options=ipc.IpcWriteOptions(compression="lz4"))
        self.writer.write_batch(batch)
        self.buffer = {c: [] for c in self.schema.names}

    def close(self) -> None:
        self.flush()
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class Emit:
    """What a reader's ``extract`` hands its findings to (records, originals, problems, deviations)."""

    def __init__(
        self, scratch: Path, tables: Mapping[str, tuple[str, ...]], normaliser: Normaliser | None = None
    ) -> None:
        self._scratch = scratch
        self._normaliser = normaliser
        self._renditions: dict[str, StoredOriginal] = {}
        self._spills = {name: _Spill(scratch / f"{i}.arrows", cols) for i, (name, cols) in enumerate(tables.items())}
        self._originals: dict[str, Path] = {}
        self._deviations: list[tuple[str, str, str, str]] = []

    def _spill(self, table: str) -> _Spill:
        try:
            return self._spills[table]
        except KeyError:
            raise ValueError(f"reader emitted a record of undeclared table {table!r}") from None

    def record(self, table: str, ref: str, values: Mapping[str, str | None]) -> None:
        """Add one record to virtual table ``table``; ``ref`` says where in the source it is."""
        spill = self._spill(table)
        unknown = set(values) - set(spill.columns)
        if unknown:
            raise ValueError(f"columns {sorted(unknown)} are not declared for table {table!r}")
        spill.add(ref, values)

    def original(self, data: bytes, *, kind: str, suffix: str, render: str | None = None) -> StoredOriginal:
        """Keep ``data`` in the package as ``originals/<kind>/<sha256><suffix>``, with its PDF/A rendition.

        Args:
            data: the bytes, kept exactly.
            kind: ``messages`` or ``documents`` (the sub-folder).
            suffix: the file suffix (``.xml``, ``.pdf``, ...), which also tells the normaliser the type.
            render: a hint for the normaliser (e.g. ``kith`` or ``hl7v2`` to render a message readably);
                messages get a rendition only with a hint, documents always.
        """
        if not kind.isidentifier() or "/" in suffix or "\\" in suffix:
            raise ValueError(f"bad original kind {kind!r} or suffix {suffix!r}")
        digest = hashlib.sha256(data).hexdigest()
        rel = f"{ORIGINALS_DIR}/{kind}/{digest}{suffix.lower()}"
        if rel not in self._originals:
            self._originals[rel] = self._keep(f"originals/{kind}/{digest}{suffix.lower()}", data)
        key = f"{rel}|{render}"
        if key in self._renditions:
            return self._renditions[key]
        stored = StoredOriginal(rel, digest, len(data))
        wanted = self._normaliser is not None and (kind != "messages" or render is not None)
        rendition = self._normaliser(data, suffix.lower(), render) if wanted and self._normaliser else None
        if rendition is not None:
            pdfa_path = pdfa_sha = None
            if rendition.pdf is not None:
                pdfa_sha = hashlib.sha256(rendition.pdf).hexdigest()
                pdfa_path = f"{DOCUMENTS_DIR}/{pdfa_sha}.pdf"
                if pdfa_path not in self._originals:
                    self._originals[pdfa_path] = self._keep(f"documents/{pdfa_sha}.pdf", rendition.pdf)
            stored = replace(
                stored,
                pdfa_path=pdfa_path,
                pdfa_sha256=pdfa_sha,
                page_count=rendition.page_count,
                status=rendition.status,
                text=rendition.text,
            )
        self._renditions[key] = stored
        return stored

    def _keep(self, rel: str, data: bytes) -> Path:
        target = self._scratch / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        return target

    def problem(self, table: str, ref: str, *, reason: str, rule: str, raw: bytes, field: str | None = None) -> None:
        """Record that cannot be read at all: a reject of ``table`` with its exact bytes."""
        if reason not in REJECT_REASONS:
            raise ValueError(f"unknown reject reason {reason!r}")
        spill = self._spill(table)
        spill.count += 1
        text = raw.decode("utf-8", errors="replace")
        spill.problems.append(
            RowProblem(
                spill.count,
                reason,
                rule,
                text,
                raw_base64=base64.b64encode(raw).decode("ascii"),
                source_column=field,
                source_ref=ref,
            )
        )

    def deviation(self, ref: str, *, standard: str, element_path: str, message: str) -> None:
        """Record a deviation from the message standard: a finding, not a rejection."""
        self._deviations.append((ref, standard, element_path, message))

    def finish(self) -> None:
        """Close the spill files."""
        for spill in self._spills.values():
            spill.close()

    def deviations_table(self) -> pa.Table:
        """Return the deviations in source order."""
        cols = list(zip(*self._deviations, strict=True)) if self._deviations else [(), (), (), ()]
        return pa.table([pa.array(list(c), pa.string()) for c in cols], schema=DEVIATION_SCHEMA)


class MessageReader(SourceReader):
    """A file or folder of messages, parsed once into virtual tables (see the module docstring)."""

    record_tables: ClassVar[dict[str, tuple[str, ...]]]
    file_suffixes: ClassVar[tuple[str, ...]]

    def __init__(self) -> None:
        self._scratch: Path | None = None
        self._emit: Emit | None = None
        self._digest = ""
        self._skipped: list[str] = []

    @abc.abstractmethod
    def extract(self, path: Path, rel: str, data: bytes, emit: Emit) -> None:
        """Parse one source file leniently and emit its records (never raise for bad content)."""

    def source_info(
        self,
        source: Path | str,
        *,
        mapping: Path | None = None,
        encoding: str | None = None,
        password: str | None = None,
    ) -> SourceInfo:
        """Accept a folder of messages or a single message file."""
        path = Path(source)
        if not path.exists():
            raise SourceError(f"source {path} does not exist", hint="give a message file or a folder of messages")
        return SourceInfo(path=path, mapping=mapping, encoding=encoding, password=password)

    def files(self, path: Path) -> list[tuple[Path, str]]:
        """Return the message files under ``path`` (or ``path`` itself) with their relative names, sorted."""
        if path.is_file():
            return [(path, path.name)]
        found = []
        for p in path.rglob("*"):
            if p.is_file() and not p.name.startswith("."):
                rel = p.relative_to(path).as_posix()
                if p.suffix.lower() in self.file_suffixes:
                    found.append((p, rel))
                else:
                    self._skipped.append(rel)
        return sorted(found, key=lambda item: item[1])

    @property
    def skipped_files(self) -> list[str]:
        """Files in the source folder that are not of this system's kind (not read)."""
        return sorted(self._skipped)

    def _extract_all(self, source: SourceInfo) -> Emit:
        if self._emit is not None:
            return self._emit
        if source.path is None:
            raise SourceError(f"the {self.name} reader reads files, not {source.location}", hint="give a folder")
        self._scratch = Path(tempfile.mkdtemp(prefix=f"jk-{self.name}-"))
        self._scratch.chmod(0o700)
        emit = Emit(self._scratch, self.record_tables, default_normaliser() if source.renditions else None)
        digest = hashlib.sha256()
        for path, rel in self.files(source.path):
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise SourceError(
                    f"{path}: cannot be read: {exc.strerror}", hint="check the file's permissions"
                ) from exc
            digest.update(f"{rel}\0{hashlib.sha256(data).hexdigest()}\n".encode())
            self.extract(path, rel, data, emit)
        emit.finish()
        self._digest = digest.hexdigest()
        self._emit = emit
        return emit

    def tables(self, source: SourceInfo, mapping: MappingFile) -> list[SourceTable]:
        """Parse the messages (once) and describe the virtual tables, with mapped tables this reader lacks."""
        emit = self._extract_all(source)
        out = [
            SourceTable(
                name=name,
                path=None,
                file_name=name,
                columns=spill.columns,
                encoding="utf-8",
                delimiter="",
                size=spill.count,
                size_unit="rows",
            )
            for name, spill in emit._spills.items()
        ]
        return out + missing_tables(mapping, set(emit._spills))

    def fingerprint(self, table: SourceTable) -> str:
        """Every virtual table comes from the same files: the digest of their names and contents."""
        return "" if table.missing else self._digest

    def read(self, table: SourceTable) -> Iterator[SourceBatch]:
        """Stream one virtual table's records (and its unreadable records as problems)."""
        if self._emit is None or table.missing:
            return
        spill = self._emit._spills[table.name]
        problems = list(spill.problems)
        if spill.path.exists():
            with ipc.open_stream(str(spill.path)) as stream:
                for batch in stream:
                    yield SourceBatch(pa.Table.from_batches([batch]), problems)
                    problems = []
        if problems:
            yield SourceBatch(spill.schema.empty_table(), problems)

    def originals(self) -> Iterator[tuple[str, Path]]:
        """Return the kept originals: (path inside data/, file in scratch), sorted by path."""
        if self._emit is None:
            return iter(())
        return iter(sorted(self._emit._originals.items()))

    def deviations(self) -> pa.Table | None:
        """Return the deviations found while parsing (None before parsing)."""
        return None if self._emit is None else self._emit.deviations_table()

    def close(self) -> None:
        """Remove the scratch folder."""
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
            self._emit = None
