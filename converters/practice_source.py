"""A GP practice folder as one source (``--system practice``): its database, its messages, its attachments.

A practice folder holds what a legacy GP system leaves behind (the demo practice of
``converters/practice_generator.py`` has this layout)::

    journal.sqlite   the practice database: its tables are read by the SQL reader (read-only)
    meldinger/       KITH XML messages in and out: read by the KITH reader, one virtual table per kind
    vedlegg/         attachments: every file is one record of the virtual table ``vedlegg``

The composite reader hands each table to the reader that owns it, so one mapping file
(``mappings/practice.yaml``) maps all of them and the ledger accounts for every database row,
message and file. Originals (message bytes, attachment files) and message deviations of the parts
are passed on to the pipeline.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from converters.base import SourceInfo, SourceReader, SourceTable, missing_tables
from converters.csv_source import SourceBatch
from converters.kith_source import KithReader
from converters.mapping import Mapping
from converters.message_source import Emit, MessageReader
from converters.sql_source import SqlReader
from formats.errors import SourceError

DB_NAME = "journal.sqlite"
MESSAGES_DIR = "meldinger"
ATTACHMENTS_DIR = "vedlegg"

_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF", "application/pdf"),
    (b"II*\0", "image/tiff"),
    (b"MM\0*", "image/tiff"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"{\\rtf", "application/rtf"),
    (bytes.fromhex("D0CF11E0A1B11AE1"), "application/x-ole-storage"),
    (b"PK\x03\x04", "application/zip"),
)


def sniff_mime_type(data: bytes) -> str | None:
    """Return the MIME type that the first bytes of ``data`` show, or None (the name's suffix is not trusted)."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    return None


def _files_under(folder: Path, sub: str) -> list[tuple[Path, str]]:
    """Every non-hidden file under ``folder/sub``, with its name relative to ``folder``, sorted."""
    root = folder / sub
    if not root.is_dir():
        return []
    found = [
        (p, p.relative_to(folder).as_posix())
        for p in root.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)
    ]
    return sorted(found, key=lambda item: item[1])


class AttachmentReader(MessageReader):
    """The files in a practice's ``vedlegg/`` folder: one record each, the bytes kept as an original."""

    name: ClassVar[str] = "practice-attachments"
    title: ClassVar[str] = "Attachments of a GP practice folder"
    reads: ClassVar[str] = "the vedlegg/ folder of a practice folder: any file"
    record_tables: ClassVar[dict[str, tuple[str, ...]]] = {
        "vedlegg": (
            "file_name",
            "detected_mime_type",
            "original_path",
            "original_sha256",
            "original_size",
            "pdfa_path",
            "pdfa_sha256",
            "page_count",
            "text_extract",
            "pdfa_status",
        ),
    }
    file_suffixes: ClassVar[tuple[str, ...]] = ()

    def accepts(self, path: Path | str) -> bool:
        """Accept a practice folder that has a vedlegg/ folder."""
        return (Path(path) / ATTACHMENTS_DIR).is_dir()

    def files(self, path: Path) -> list[tuple[Path, str]]:
        """Every file in ``vedlegg/``, whatever its suffix (each one must be accounted for)."""
        return _files_under(path, ATTACHMENTS_DIR)

    def extract(self, path: Path, rel: str, data: bytes, emit: Emit) -> None:
        """Keep the file's bytes and emit its record (``file_name`` is relative to vedlegg/)."""
        stored = emit.original(data, kind="documents", suffix=path.suffix.lower())
        emit.record(
            "vedlegg",
            rel,
            {
                "file_name": rel.removeprefix(f"{ATTACHMENTS_DIR}/"),
                "detected_mime_type": sniff_mime_type(data),
                "original_path": stored.path,
                "original_sha256": stored.sha256,
                "original_size": str(stored.size),
                **{k: v for k, v in stored.columns().items() if k in ("pdfa_path", "pdfa_sha256", "page_count")},
                "text_extract": stored.text,
                "pdfa_status": stored.status,  # the PDF/A normaliser's (formats/pdfa_normalise.py)
            },
        )


class PracticeKithReader(KithReader):
    """The KITH reader, reading only the ``meldinger/`` folder of a practice folder."""

    def files(self, path: Path) -> list[tuple[Path, str]]:
        """Return the KITH reader's files under ``meldinger/``, named relative to the practice folder."""
        folder = path / MESSAGES_DIR
        return [(p, f"{MESSAGES_DIR}/{rel}") for p, rel in super().files(folder)] if folder.is_dir() else []


class PracticeReader(SourceReader):
    """A GP practice folder: journal.sqlite + meldinger/ + vedlegg/, with the shipped mapping."""

    name: ClassVar[str] = "practice"
    title: ClassVar[str] = "GP practice folder (database, KITH messages, attachments), shipped mapping"
    reads: ClassVar[str] = (
        "a folder with journal.sqlite, meldinger/ (KITH XML) and vedlegg/, as `journalkonvert demo` makes"
    )
    default_mapping: ClassVar[str | None] = "practice"

    def __init__(self) -> None:
        self._sql = SqlReader()
        self._parts: list[MessageReader] = [AttachmentReader(), PracticeKithReader()]
        self._owner: dict[str, SourceReader] = {}
        self._url = ""

    def accepts(self, path: Path | str) -> bool:
        """Accept a folder that holds journal.sqlite."""
        if "://" in str(path):
            return False
        folder = Path(path)
        return folder.is_dir() and (folder / DB_NAME).is_file()

    def source_info(
        self,
        source: Path | str,
        *,
        mapping: Path | None = None,
        encoding: str | None = None,
        password: str | None = None,
    ) -> SourceInfo:
        """Check the practice folder and open its database read-only."""
        folder = Path(source)
        if not folder.is_dir():
            raise SourceError(f"source {folder} is not a folder", hint="give the practice folder (with journal.sqlite)")
        db = folder / DB_NAME
        if not db.is_file():
            raise SourceError(
                f"{folder} has no {DB_NAME}",
                hint="give the practice folder that holds journal.sqlite, meldinger/ and vedlegg/",
            )
        self._url = f"sqlite:///{db.absolute()}"
        self._sql.source_info(self._url, encoding=encoding)
        return SourceInfo(path=folder, mapping=mapping, encoding=encoding, password=password)

    def tables(self, source: SourceInfo, mapping: Mapping) -> list[SourceTable]:
        """Return the database tables, then the messages' and attachments' virtual tables, then missing ones."""
        out: list[SourceTable] = []
        self._owner = {}
        parts: list[tuple[SourceReader, SourceInfo]] = [(self._sql, SourceInfo(url=self._url))]
        parts += [(part, source) for part in self._parts]
        for reader, info in parts:
            for table in reader.tables(info, mapping):
                if table.missing:
                    continue
                clash = next((n for n in self._owner if n.lower() == table.name.lower()), None)
                if clash is not None:
                    raise SourceError(
                        f"table {table.name} of the {reader.name} part has the name of another table ({clash})",
                        hint="rename the database table; the message readers' table names are fixed",
                    )
                self._owner[table.name] = reader
                out.append(table)
        return out + missing_tables(mapping, set(self._owner))

    def read(self, table: SourceTable) -> Iterator[SourceBatch]:
        """Read the table through the part that owns it."""
        if table.missing or table.name not in self._owner:
            return iter(())
        return self._owner[table.name].read(table)

    def fingerprint(self, table: SourceTable) -> str:
        """Return the owning part's fingerprint of the table."""
        owner = self._owner.get(table.name)
        return "" if owner is None or table.missing else owner.fingerprint(table)

    def originals(self) -> Iterator[tuple[str, Path]]:
        """Return the originals of all parts by path (one path is one content: kept once)."""
        merged: dict[str, Path] = {}
        for part in self._parts:
            merged.update(dict(part.originals()))
        return iter(sorted(merged.items()))

    def deviations(self) -> pa.Table | None:
        """Return the deviations of all message parts, in part order."""
        found = [d for d in (part.deviations() for part in self._parts) if d is not None]
        return pa.concat_tables(found) if found else None

    def close(self) -> None:
        """Close the database and remove the parts' scratch folders."""
        try:
            self._sql.close()
        finally:
            for part in self._parts:
                part.close()
