"""The reader contract: one reader per source system, behind a small typed interface."""

from __future__ import annotations

import abc
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import ClassVar

import pyarrow as pa

from converters.csv_source import SourceBatch, read_delimited, read_header
from converters.mapping import Mapping, load_mapping
from formats.bag import sha256_file
from formats.errors import SourceError
from mappings import mapping_path


@dataclass(frozen=True, kw_only=True)
class SourceInfo:
    """What the user pointed the tool at: a folder (``path``) or a database (``url``)."""

    path: Path | None = None
    url: str | None = None
    mapping: Path | None = None
    encoding: str | None = None
    password: str | None = field(default=None, repr=False)
    renditions: bool = True
    """Whether message readers make PDF/A renditions of the documents and messages they keep."""

    @property
    def location(self) -> str:
        """The folder or URL, for messages (a URL's password is never part of it)."""
        return self.url if self.url is not None else str(self.path)


@dataclass(frozen=True, kw_only=True)
class SourceTable:
    """One source table: a file (or database table) with its columns."""

    name: str
    path: Path | None
    file_name: str
    columns: tuple[str, ...]
    encoding: str
    delimiter: str
    missing: bool = False
    fallback_encoding: str | None = None
    size: int = 0
    size_unit: str = "bytes"


def missing_tables(
    mapping: Mapping, present: set[str], *, encoding: str = "utf-8", database: bool = False
) -> list[SourceTable]:
    """Return a ``missing`` entry for each table the mapping names that is not in ``present``.

    Args:
        mapping: the mapping whose tables are expected.
        present: the names of the tables the source has.
        encoding: the encoding recorded for the missing entries.
        database: database tables: names compare case-insensitively and the table name stands for the file.
    """
    have = {n.lower() for n in present} if database else present
    return [
        SourceTable(
            name=t.name,
            path=None,
            file_name=t.name if database else t.file,
            columns=(),
            encoding=encoding,
            delimiter="",
            missing=True,
            size_unit="rows" if database else "bytes",
        )
        for t in mapping.tables
        if (t.name.lower() if database else t.name) not in have
    ]


class SourceReader(abc.ABC):
    """A source system reader. Subclasses set the class attributes and implement the methods."""

    name: ClassVar[str]
    title: ClassVar[str]
    reads: ClassVar[str]
    default_mapping: ClassVar[str | None] = None

    @abc.abstractmethod
    def accepts(self, path: Path | str) -> bool:
        """Return whether ``path`` (a folder or URL) looks like this system's source (cheap, no side effects)."""

    def source_info(
        self,
        source: Path | str,
        *,
        mapping: Path | None = None,
        encoding: str | None = None,
        password: str | None = None,
    ) -> SourceInfo:
        """Check what the user gave and describe it (file readers: an existing folder).

        Raises:
            SourceError: with what to do, when the source cannot be used at all.
        """
        path = Path(source)
        if not path.exists():
            raise SourceError(f"source {path} does not exist", hint="give the folder of the export")
        if not path.is_dir():
            raise SourceError(f"source {path} is not a folder", hint="give the folder that holds the export files")
        return SourceInfo(path=path, mapping=mapping, encoding=encoding, password=password)

    def load_mapping(self, source: SourceInfo) -> Mapping:
        """Load the given mapping, or the shipped one; apply an encoding override."""
        path = source.mapping or (mapping_path(self.default_mapping) if self.default_mapping else None)
        if path is None:
            raise SourceError(
                f"the {self.name} reader needs a mapping file",
                hint="give --mapping FILE (docs/mapping.md describes the format)",
            )
        mapping = load_mapping(path)
        if source.encoding:
            mapping = mapping.with_source(replace(mapping.source, encoding=source.encoding))
        return mapping

    def fingerprint(self, table: SourceTable) -> str:
        """Return a checksum that identifies the table's content (files: SHA-256 of the bytes)."""
        if table.path is None or table.missing:
            return ""
        return sha256_file(table.path)

    def originals(self) -> Iterator[tuple[str, Path]]:
        """Original bytes to keep in the package: (path inside data/, file holding them). None for tables."""
        return iter(())

    def deviations(self) -> pa.Table | None:
        """Deviations from a message standard found while reading (formats.ledger.DEVIATION_SCHEMA), or None."""
        return None

    def close(self) -> None:  # noqa: B027 - optional hook; file readers hold nothing open
        """Release connections or files held open (nothing for file readers)."""

    @abc.abstractmethod
    def tables(self, source: SourceInfo, mapping: Mapping) -> list[SourceTable]:
        """Return the source tables, including mapped tables that are missing."""

    @abc.abstractmethod
    def read(self, table: SourceTable) -> Iterator[SourceBatch]:
        """Yield the table's rows as string batches with their record numbers and problems."""


class DelimitedFolderReader(SourceReader):
    """A folder of delimited text files, one file per table, converted by a mapping file."""

    name: ClassVar[str] = "csv"
    title: ClassVar[str] = "Delimited text export (any system, with --mapping)"
    reads: ClassVar[str] = "a folder of .csv/.txt files with a header row; needs a mapping file"
    extensions: ClassVar[tuple[str, ...]] = (".csv", ".txt", ".tsv")

    def accepts(self, path: Path | str) -> bool:
        """Accept a folder that holds delimited files."""
        folder = Path(path)
        return folder.is_dir() and any(p.suffix.lower() in self.extensions for p in folder.iterdir())

    def tables(self, source: SourceInfo, mapping: Mapping) -> list[SourceTable]:
        """List every delimited file in the folder, plus mapped tables whose file is missing."""
        folder = source.path
        if folder is None:
            raise SourceError(f"the {self.name} reader reads a folder, not {source.location}", hint="give a folder")
        files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in self.extensions)
        by_file = {t.file: t.name for t in mapping.tables}
        enc, delim = mapping.source.encoding, mapping.source.delimiter
        out: list[SourceTable] = []
        for p in files:
            try:
                columns = tuple(read_header(p, encoding=enc, delimiter=delim))
            except OSError as exc:
                raise SourceError(f"{p}: cannot be read: {exc.strerror}", hint="check the file's permissions") from exc
            out.append(
                SourceTable(
                    name=by_file.get(p.name, p.stem),
                    path=p,
                    file_name=p.name,
                    columns=columns,
                    encoding=enc,
                    delimiter=delim,
                    size=p.stat().st_size,
                    fallback_encoding=mapping.source.fallback_encoding,
                )
            )
        present = {t.file_name for t in out}
        for t in mapping.tables:
            if t.file not in present:
                out.append(
                    SourceTable(
                        name=t.name,
                        path=folder / t.file,
                        file_name=t.file,
                        columns=(),
                        encoding=enc,
                        delimiter=delim,
                        missing=True,
                    )
                )
        return out

    def read(self, table: SourceTable) -> Iterator[SourceBatch]:
        """Stream the file's rows."""
        if table.missing or table.path is None:
            return iter(())
        return read_delimited(
            table.path, encoding=table.encoding, delimiter=table.delimiter, fallback=table.fallback_encoding
        )


class SyntheaCsvReader(DelimitedFolderReader):
    """Synthea's CSV export (18 tables), with the shipped mapping."""

    name: ClassVar[str] = "synthea-csv"
    title: ClassVar[str] = "Synthea CSV export (v3, 18 tables)"
    reads: ClassVar[str] = "a folder with patients.csv, encounters.csv, ... as Synthea writes them"
    default_mapping: ClassVar[str | None] = "synthea-csv"

    def accepts(self, path: Path | str) -> bool:
        """Accept a folder with Synthea's patients.csv header."""
        patients = Path(path) / "patients.csv"
        if not patients.is_file():
            return False
        header = read_header(patients, encoding="utf-8", delimiter=",")
        return {"Id", "BIRTHDATE", "FIRST", "LAST"} <= set(header)
