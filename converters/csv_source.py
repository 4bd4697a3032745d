"""Streaming, forgiving reading of one delimited text file into string batches.

Every field is read as text (types are the mapping's business), each row keeps its record number
(the header is record 1), and rows that cannot be read (wrong field count, bytes that are not
valid in the declared encoding) are handed back as problems instead of stopping the run.

A file that decodes cleanly takes the fast path (pyarrow's streaming CSV reader). A file with
any byte that is not valid in its declared encoding takes the careful path: record by record in
Python, so that each bad record is rejected alone with its exact original bytes.
"""

from __future__ import annotations

import base64
import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from formats.errors import SourceError
from formats.text_codecs import TextDecoding
from formats.text_repair import FallbackValue

ROW_COLUMN = "_row_number"
REF_COLUMN = "_source_ref"
"""Optional batch column: where each record is (``file#path inside``); used instead of ``file#row=N``."""
BLOCK_SIZE = 1 << 18
UTF8_NAMES = {"utf-8", "utf8", "utf_8", "utf-8-sig", "utf_8_sig"}


@dataclass(frozen=True)
class RowProblem:
    """A source row that could not be read as a record."""

    row_number: int | None
    reason: str
    rule: str
    raw_record: str
    raw_base64: str | None = None
    source_column: str | None = None
    source_ref: str | None = None


@dataclass
class SourceBatch:
    """String columns of some rows (plus ``_row_number``), and the rows that failed to parse."""

    table: pa.Table
    problems: list[RowProblem] = field(default_factory=list)
    fallbacks: list[FallbackValue] = field(default_factory=list)


def read_header(path: Path, *, encoding: str, delimiter: str) -> list[str]:
    """Return the column names of a delimited file (empty list for an empty file)."""
    with path.open("rb") as fh:
        first = fh.readline()
    text = first.decode(TextDecoding.of(encoding).encoding, errors="replace").lstrip("\ufeff").rstrip("\r\n")
    if not text:
        return []
    return next(csv.reader([text], delimiter=delimiter))


def decodes_cleanly(path: Path, encoding: str) -> bool:
    """Return whether every byte of the file is valid in ``encoding`` (streamed, chunk by chunk)."""
    decoder = codecs.getincrementaldecoder(TextDecoding.of(encoding).encoding)(errors="strict")
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(BLOCK_SIZE):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _batch(header: list[str], columns: list[list[str]], rows: list[int]) -> pa.Table:
    data = {name: pa.array(values, pa.string()) for name, values in zip(header, columns, strict=True)}
    data[ROW_COLUMN] = pa.array(rows, pa.int64())
    return pa.table(data)


def _raw_problem(number: int, raw: bytes, reason: str, rule: str, column: str | None, encoding: str) -> RowProblem:
    return RowProblem(
        row_number=number,
        reason=reason,
        rule=rule,
        raw_record=raw.decode(encoding, errors="backslashreplace"),
        raw_base64=base64.b64encode(raw).decode("ascii"),
        source_column=column,
    )


def _read_careful(
    path: Path, *, decoding: TextDecoding, delimiter: str, batch_rows: int = 8192
) -> Iterator[SourceBatch]:
    """Read a file that does not decode cleanly, record by record, keeping each bad record's exact bytes.

    The file is read as latin-1 (one character per byte, so nothing is lost), split into records by
    the csv module, and every field is decoded on its own. A field that is not valid in the declared
    encoding is decoded with the fallback where there is one (and its bytes kept); otherwise, and
    for a record whose field count is wrong, the record becomes a problem with its original bytes.
    """
    encoding = decoding.encoding
    consumed: list[str] = []

    def lines(handle: io.TextIOBase) -> Iterator[str]:
        for line in handle:
            consumed.append(line)
            yield line

    with path.open("r", encoding="latin-1", newline="") as handle:
        reader = csv.reader(lines(handle), delimiter=delimiter)
        header: list[str] = []
        columns: list[list[str]] = []
        rows: list[int] = []
        problems: list[RowProblem] = []
        fallbacks: list[FallbackValue] = []
        for number, record in enumerate(reader, start=1):
            raw = _without_line_end("".join(consumed).encode("latin-1"))
            consumed.clear()
            if not record:
                continue
            if number == 1:
                header = [f.encode("latin-1").decode(encoding, errors="replace").lstrip("\ufeff") for f in record]
                columns = [[] for _ in header]
                continue
            if len(record) != len(header):
                rule = f"expected {len(header)} fields, found {len(record)}"
                problems.append(_raw_problem(number, raw, "malformed_row", rule, None, encoding))
                continue
            try:
                values = [f.encode("latin-1").decode(encoding) for f in record]
            except UnicodeDecodeError:
                decoded = _with_fallback(number, header, record, decoding, fallbacks)
                if decoded is not None:
                    for column, value in zip(columns, decoded, strict=True):
                        column.append(value)
                    rows.append(number)
                    continue
                bad = next(h for h, f in zip(header, record, strict=True) if not _decodes(f, encoding))
                rule = (
                    f"column {bad}: bytes are not valid {encoding}; declare the file's encoding "
                    "(mapping source.encoding or --encoding, e.g. cp1252, cp865, latin-1)"
                )
                problems.append(_raw_problem(number, raw, "encoding_error", rule, bad, encoding))
                continue
            for column, value in zip(columns, values, strict=True):
                column.append(value)
            rows.append(number)
            if len(rows) >= batch_rows:
                yield SourceBatch(_batch(header, columns, rows), problems, fallbacks)
                columns, rows, problems, fallbacks = [[] for _ in header], [], [], []
        if rows or problems:
            yield SourceBatch(_batch(header, columns, rows), problems, fallbacks)


def _with_fallback(
    number: int, header: list[str], record: list[str], decoding: TextDecoding, fallbacks: list[FallbackValue]
) -> list[str] | None:
    """Decode a record's fields one by one, noting each field the fallback encoding read.

    Returns None when there is no fallback or it cannot read a field either (the record is then rejected).
    """
    if decoding.fallback is None:
        return None
    values, used_fallback = [], []
    for name, field_text in zip(header, record, strict=True):
        raw = field_text.encode("latin-1")
        try:
            text, used = decoding.decode(raw)
        except UnicodeDecodeError:
            return None
        if used is not None:
            used_fallback.append(FallbackValue(number, name, raw, used))
        values.append(text)
    fallbacks.extend(used_fallback)
    return values


def _without_line_end(raw: bytes) -> bytes:
    """Return a record's bytes without the line end that separates it from the next record."""
    for end in (b"\r\n", b"\n", b"\r"):
        if raw.endswith(end):
            return raw[: -len(end)]
    return raw


def _decodes(field_text: str, encoding: str) -> bool:
    try:
        field_text.encode("latin-1").decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def read_delimited(
    path: Path, *, encoding: str, delimiter: str, block_size: int = BLOCK_SIZE, fallback: str | None = None
) -> Iterator[SourceBatch]:
    """Yield the rows of a delimited file as string batches, with problems for unreadable rows.

    Args:
        path: the file.
        encoding: Python codec of the file (utf-8, cp1252, cp865, latin-1, iso646-no, ...) or ``auto``.
        delimiter: the field separator.
        block_size: bytes per read block (memory per batch).
        fallback: codec (or ``auto``) for values that are not valid in ``encoding`` (mixed files).

    Raises:
        SourceError: the file cannot be opened at all.
    """
    header = read_header(path, encoding=encoding, delimiter=delimiter)
    if not header:
        return
    decoding = TextDecoding.of(encoding, fallback)
    encoding = decoding.encoding
    if not decodes_cleanly(path, encoding):
        yield from _read_careful(path, decoding=decoding, delimiter=delimiter)
        return
    utf8_source = encoding.lower().replace("_", "-") in UTF8_NAMES
    invalid: list[RowProblem] = []

    def on_invalid(row: pcsv.InvalidRow) -> str:
        invalid.append(
            RowProblem(
                row_number=row.number,
                reason="malformed_row",
                rule=f"expected {row.expected_columns} fields, found {row.actual_columns}",
                raw_record=row.text,
            )
        )
        return "skip"

    read_options = pcsv.ReadOptions(
        use_threads=False, block_size=block_size, encoding="utf8" if utf8_source else encoding
    )
    parse_options = pcsv.ParseOptions(delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid)
    convert_options = pcsv.ConvertOptions(
        column_types={name: pa.binary() for name in header},
        strings_can_be_null=False,
        quoted_strings_can_be_null=False,
    )
    try:
        reader = pcsv.open_csv(
            path, read_options=read_options, parse_options=parse_options, convert_options=convert_options
        )
    except (pa.ArrowInvalid, OSError) as exc:
        msg = f"{path}: cannot read as delimited text: {exc}"
        raise SourceError(msg, hint="check the file, its delimiter and its encoding") from exc
    next_row = 2
    reported = 0
    invalid_numbers: list[int] = []
    for batch in reader:
        fresh = invalid[reported:]
        reported = len(invalid)
        invalid_numbers.extend(p.row_number for p in fresh if p.row_number is not None)
        numbers = _row_numbers(next_row, batch.num_rows, invalid_numbers)
        next_row = int(numbers[-1]) + 1 if len(numbers) else next_row
        table = pa.Table.from_batches([batch]).append_column(ROW_COLUMN, pa.array(numbers, pa.int64()))
        names = [n for n in table.column_names if n != ROW_COLUMN]
        decoded = pa.table(
            [table.column(n).cast(pa.string()) for n in names] + [table.column(ROW_COLUMN)],
            names=[*names, ROW_COLUMN],
        )
        yield SourceBatch(decoded, fresh)
    rest = invalid[reported:]
    if rest:
        empty = pa.table({**{n: pa.array([], pa.string()) for n in header}, ROW_COLUMN: pa.array([], pa.int64())})
        yield SourceBatch(empty, rest)


def _row_numbers(start: int, count: int, invalid_sorted: list[int]) -> np.ndarray:
    """Return ``count`` record numbers from ``start``, skipping the numbers of invalid rows."""
    skip = np.array(sorted(n for n in invalid_sorted if n >= start), dtype=np.int64)
    candidates = np.arange(start, start + count + len(skip), dtype=np.int64)
    kept = candidates[~np.isin(candidates, skip)]
    return kept[:count]


def column_strings(table: pa.Table) -> dict[str, pa.Array]:
    """Return the source columns of a batch as flat string arrays."""
    return {n: table.column(n).combine_chunks() for n in table.column_names if n != ROW_COLUMN}


def row_refs(file_name: str, rows: pa.Array) -> pa.Array:
    """Return ``file#row=N`` references for record numbers."""
    return pc.binary_join_element_wise(pa.scalar(f"{file_name}#row="), pc.cast(rows, pa.string()), "")
