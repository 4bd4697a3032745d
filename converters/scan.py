"""``journalkonvert scan``: profile a source per table and column before a mapping is written.

A scan reads every row of every table once, through the source system's registered reader (the
same code that converts: a folder of delimited files or a database URL), and keeps per column only
bounded aggregates (``converters.scan_columns`` describes them and their memory bounds): rows,
NULLs, empty strings, distinct values (exact up to 10,000, then a HyperLogLog estimate flagged
approximate), the inferred type with the date/time format that matched most, minimum and maximum
of numbers and dates, top values, value shapes, lengths, and values that look decoded with the
wrong encoding (mojibake).

**Personal data is never shown.** Columns that hold identifiers, names or free text (by their
name or their values) get counts, lengths and shapes only: no values, no minimum or maximum.

**Encodings.** For a folder of delimited files without an explicit encoding, each file's encoding
is detected first: UTF-8 when every byte is valid UTF-8, else the best of cp1252, cp865 and
iso8859-1 by a small Norwegian score (letters æøåÆØÅ in the decoded text, minus box-drawing,
control and undecodable characters; ties go to the earlier candidate). The chosen encoding and
the reason are kept in the table's profile. Without an explicit delimiter, each file's header
line decides between ``,`` ``;`` tab and ``|`` (the most frequent wins; ``,`` when none occurs).

The result is deterministic (no times, no host names): the same source gives the same report.
``draft_mapping`` turns a scan into a mapping skeleton that ``load_mapping`` accepts.
"""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from converters import get_reader
from converters.base import DelimitedFolderReader, SourceReader, SourceTable
from converters.csv_source import BLOCK_SIZE, ROW_COLUMN, decodes_cleanly, read_header
from converters.mapping import Mapping, SourceOptions
from converters.scan_columns import DISTINCT_CAP, KEY_CHARS, ColumnProfile, ColumnStats
from converters.scan_counting import Hasher

__all__ = [
    "ENCODING_CANDIDATES",
    "ColumnProfile",
    "ScanResult",
    "TableProfile",
    "detect_delimiter",
    "detect_encoding",
    "draft_mapping",
    "scan_source",
]

ENCODING_CANDIDATES = ("cp1252", "cp865", "iso8859-1")
"""Encodings tried, in this order, for a file that is not valid UTF-8."""
DELIMITER_CANDIDATES = (",", ";", "\t", "|")
_NORWEGIAN = "æøåÆØÅ"
_BAD_CHARACTERS = re.compile("[\u2500-\u259f\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")


@dataclass(frozen=True)
class TableProfile:
    """What a scan found in one table.

    Attributes:
        name: the table name (a file's name without extension, or the database table).
        rows: rows read (rows that could not be read are counted in ``problems``).
        columns: one profile per column, in source order.
        encoding: the encoding the file was read with (None for a database).
        problems: rows that could not be read, by reason (``malformed_row``, ``encoding_error``).
        file: the file name in the folder (None for a database table).
        delimiter: the field separator the file was read with (None for a database).
        encoding_reason: why this encoding was used.
    """

    name: str
    rows: int
    columns: tuple[ColumnProfile, ...]
    encoding: str | None
    problems: dict[str, int]
    file: str | None = None
    delimiter: str | None = None
    encoding_reason: str | None = None

    def column(self, name: str) -> ColumnProfile:
        """Return the profile of column ``name``.

        Raises:
            KeyError: when the table has no such column.
        """
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Return the profile as plain JSON-ready data."""
        return {
            "name": self.name,
            "file": self.file,
            "rows": self.rows,
            "encoding": self.encoding,
            "encoding_reason": self.encoding_reason,
            "delimiter": self.delimiter,
            "problems": dict(sorted(self.problems.items())),
            "columns": [c.to_dict() for c in self.columns],
        }


@dataclass(frozen=True)
class ScanResult:
    """A scan of one source.

    Attributes:
        source: the folder, or the database URL without its password.
        system: the reader's name (``csv``, ``synthea-csv``, ``sql``).
        tables: one profile per table.
        top: how many top values and shapes were kept per column.
        distinct_cap: distinct values counted exactly per column.
    """

    source: str
    system: str
    tables: tuple[TableProfile, ...]
    top: int = 10
    distinct_cap: int = field(default=DISTINCT_CAP)

    def table(self, name: str) -> TableProfile:
        """Return the profile of table ``name``.

        Raises:
            KeyError: when the scan has no such table.
        """
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """Return the scan as plain JSON-ready data (``scan_version`` 1)."""
        return {
            "scan_version": 1,
            "source": self.source,
            "system": self.system,
            "settings": {"top": self.top, "distinct_cap": self.distinct_cap, "value_chars": KEY_CHARS},
            "total_rows": sum(t.rows for t in self.tables),
            "tables": [t.to_dict() for t in self.tables],
        }


# --- encodings and delimiters ------------------------------------------------------------------


def _norwegian_score(path: Path, encoding: str) -> tuple[int, int]:
    """Return (Norwegian letters, bad characters) of the file decoded with ``encoding``, streamed."""
    decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
    letters = bad = 0
    with path.open("rb") as fh:
        while True:
            chunk = fh.read(BLOCK_SIZE)
            text = decoder.decode(chunk, final=not chunk)
            letters += sum(text.count(c) for c in _NORWEGIAN)
            bad += len(_BAD_CHARACTERS.findall(text))
            if not chunk:
                return letters, bad


def detect_encoding(path: Path) -> tuple[str, str]:
    """Return the encoding of a delimited file and why it was chosen.

    UTF-8 when every byte is valid UTF-8; otherwise the best of :data:`ENCODING_CANDIDATES` by the
    count of æøåÆØÅ minus box-drawing, control and undecodable characters.
    """
    if decodes_cleanly(path, "utf-8"):
        return "utf-8", "every byte is valid UTF-8"
    scores = {enc: _norwegian_score(path, enc) for enc in ENCODING_CANDIDATES}
    best = max(ENCODING_CANDIDATES, key=lambda e: scores[e][0] - scores[e][1])
    detail = ", ".join(f"{e} {s[0] - s[1]} ({s[0]} æøå, {s[1]} odd)" for e, s in scores.items())
    return best, f"not valid UTF-8; Norwegian score (æøåÆØÅ minus box-drawing/control characters): {detail}"


def detect_delimiter(path: Path, encoding: str) -> str:
    """Return the most frequent of ``, ; tab |`` in the file's header line (``,`` when none is there)."""
    with path.open("rb") as fh:
        header = fh.readline().decode(encoding, errors="replace")
    counts = {d: header.count(d) for d in DELIMITER_CANDIDATES}
    best = max(DELIMITER_CANDIDATES, key=lambda d: counts[d])
    return best if counts[best] else ","


# --- scanning ----------------------------------------------------------------------------------


def _empty_mapping(system: str, encoding: str | None, delimiter: str | None) -> Mapping:
    return Mapping(
        system=system,
        title="",
        description="",
        source=SourceOptions(encoding=encoding or "utf-8", delimiter=delimiter or ","),
        code_systems=(),
        tables=(),
        path=Path("scan"),
        sha256="",
    )


def _duckdb_hasher(con: duckdb.DuckDBPyConnection) -> Hasher:
    def hashes(values: pa.Array) -> NDArray[np.uint64]:
        con.register("scan_values", pa.table({"v": values}))
        try:
            out: NDArray[np.uint64] = con.execute("SELECT hash(v) AS h FROM scan_values").fetchnumpy()["h"]
        finally:
            con.unregister("scan_values")
        return np.asarray(out, dtype=np.uint64)

    return hashes


def _prepared(
    table: SourceTable, path: Path, encoding: str | None, delimiter: str | None
) -> tuple[SourceTable, str, str]:
    """Return a file's table with its detected (or given) encoding and delimiter, and the encoding's reason."""
    if encoding:
        enc, reason = encoding, "given by the user"
    else:
        enc, reason = detect_encoding(path)
    delim = delimiter or detect_delimiter(path, enc)
    columns = tuple(read_header(path, encoding=enc, delimiter=delim))
    return replace(table, encoding=enc, delimiter=delim, columns=columns), enc, reason


@dataclass
class _TableScan:
    rows: int
    columns: list[ColumnProfile]
    problems: dict[str, int]


def _profile_table(reader: SourceReader, table: SourceTable, hasher: Hasher, top: int) -> _TableScan:
    names = list(dict.fromkeys(table.columns))  # a repeated header name is profiled once
    stats = {n: ColumnStats(n, hasher) for n in names}
    problems: Counter[str] = Counter()
    rows = 0
    for batch in reader.read(table):
        problems.update(p.reason for p in batch.problems)
        data = batch.table
        rows += data.num_rows
        position: dict[str, int] = {}
        for i, n in enumerate(data.column_names):
            position.setdefault(n, i)
        for n in names:
            if n in position and n != ROW_COLUMN:
                stats[n].add(data.column(position[n]).combine_chunks())
            elif data.num_rows:
                stats[n].add(pa.nulls(data.num_rows, pa.string()))
    return _TableScan(rows, [stats[n].profile(top) for n in names], dict(problems))


def scan_source(
    system: str,
    source: Path | str,
    *,
    encoding: str | None = None,
    delimiter: str | None = None,
    password: str | None = None,
    top: int = 10,
) -> ScanResult:
    """Profile every table and column of a source.

    Args:
        system: a registered reader (``csv``, ``synthea-csv``, ``sql``; see ``converters.READERS``).
        source: the folder of files, or a database URL.
        encoding: the files' encoding; detected per file when not given.
        delimiter: the files' field separator; detected per file when not given.
        password: the database password, when it is not in the URL.
        top: how many top values and shapes to keep per column.

    Returns:
        The scan, with no value of any identifier, name or free-text column in it.

    Raises:
        UnknownSystemError: when ``system`` is not a registered reader.
        SourceError: when the source cannot be opened.
    """
    reader = get_reader(system)()
    files = isinstance(reader, DelimitedFolderReader)
    con = duckdb.connect()
    try:
        info = replace(reader.source_info(source, encoding=encoding, password=password), renditions=False)
        hasher = _duckdb_hasher(con)
        profiles: list[TableProfile] = []
        for table in reader.tables(info, _empty_mapping(system, encoding, delimiter)):
            if table.missing:
                continue
            enc: str | None = None
            reason: str | None = None
            if files and table.path is not None:
                table, enc, reason = _prepared(table, table.path, encoding, delimiter)
            scanned = _profile_table(reader, table, hasher, top)
            profiles.append(
                TableProfile(
                    name=table.name,
                    rows=scanned.rows,
                    columns=tuple(scanned.columns),
                    encoding=enc,
                    problems=scanned.problems,
                    file=table.file_name if files else None,
                    delimiter=table.delimiter if files else None,
                    encoding_reason=reason,
                )
            )
    finally:
        reader.close()
        con.close()
    return ScanResult(source=info.location, system=system, tables=tuple(profiles), top=top)


# --- a draft mapping ---------------------------------------------------------------------------


def _q(text: str) -> str:
    """Return ``text`` as a YAML double-quoted scalar (JSON strings are YAML; unprintable characters escaped)."""
    return "".join(
        c if c.isprintable() else (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
        for c in json.dumps(text, ensure_ascii=False)
    )


def _comment(text: str) -> str:
    """Return ``text`` safe inside a YAML comment (one line, printable characters only)."""
    return "".join(c if c.isprintable() else " " for c in text)


def _column_line(c: ColumnProfile) -> str:
    kind = c.inferred_type
    if c.date_format:
        kind += f' "{c.date_format}"'
    extra = [f"{c.non_empty} values", f"{c.distinct:,}{'' if c.distinct_exact else '+ (estimate)'} distinct"]
    if c.sensitive:
        extra.append(c.sensitive)
    return f"    #   {_comment(c.name)}: {kind} ({', '.join(extra)})  # unmapped"


def draft_mapping(result: ScanResult) -> str:
    """Return a mapping skeleton (YAML) for the scanned source, for a consultant to fill in.

    Every table is listed with its file and ``preserve: "TODO: ..."`` (so the file loads as it is)
    and its columns in comments with their inferred types, each marked ``# unmapped``.
    """
    encodings = Counter(t.encoding for t in result.tables if t.encoding)
    delimiters = Counter(t.delimiter for t in result.tables if t.delimiter)
    encoding = encodings.most_common(1)[0][0] if encodings else "utf-8"
    delimiter = delimiters.most_common(1)[0][0] if delimiters else ","
    lines = [
        f"# Draft mapping written by journalkonvert scan from {_comment(result.source)}.",
        "# Fill in targets per table (docs/mapping.md); a table kept raw needs 'preserve: <reason>'.",
        "# Example:",
        "#   targets:",
        "#     - table: patient",
        "#       fields:",
        "#         patient_id: {column: ID, required: true}",
        '#         birth_date: {column: BIRTHDATE, format: "%Y-%m-%d"}',
        "mapping_version: 1",
        f"system: {_q(result.system + '-draft')}",
        f"title: {_q('Draft mapping for ' + result.source)}",
        "source:",
        "  format: csv",
        f"  encoding: {_q(encoding)}",
        f"  delimiter: {_q(delimiter)}",
        "  timezone: Europe/Oslo  # TODO: the zone of times written without an offset",
        "  # patient_table: TODO  (the table whose key defines the patients)",
    ]
    for t in result.tables:
        if t.encoding and t.encoding != encoding:
            lines.append(f"  # NOTE: {_comment(t.file or t.name)} looked like {t.encoding}, not {encoding}")
        if t.delimiter and t.delimiter != delimiter:
            lines.append(f"  # NOTE: {_comment(t.file or t.name)} is separated by {t.delimiter!r}, not {delimiter!r}")
    lines.append("tables:")
    for t in result.tables:
        lines.append(f"  {_q(t.name)}:")
        if t.file is not None:
            lines.append(f"    file: {_q(t.file)}")
        unique = [c for c in t.columns if c.distinct_exact and c.distinct == t.rows > 1]
        keys = sorted(unique, key=lambda c: c.sensitive != "identifier")  # identifiers first, else source order
        if keys:
            lines.append(f"    # key: {_comment(keys[0].name)}  (unique in this scan)")
        lines.append('    preserve: "TODO: map this table or say why it is kept raw"')
        lines.append(f"    # columns ({t.rows:,} row{'' if t.rows == 1 else 's'}):")
        lines.extend(_column_line(c) for c in t.columns)
    if not result.tables:
        lines.append("  # the scan found no tables; add one entry per table")
    return "\n".join(lines) + "\n"
