"""Streaming, forgiving reading of one delimited text file into string batches.

Every field is read as text (types are the mapping's business), each row keeps its record number
(the header is record 1), and rows that cannot be read (wrong field count, bytes that are not
valid in the declared encoding) are handed back as problems instead of stopping the run.
"""

from __future__ import annotations

import base64
import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from formats.errors import SourceError

ROW_COLUMN = "_row_number"
BLOCK_SIZE = 1 << 20
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


@dataclass
class SourceBatch:
    """String columns of some rows (plus ``_row_number``), and the rows that failed to parse."""

    table: pa.Table
    problems: list[RowProblem] = field(default_factory=list)


def read_header(path: Path, *, encoding: str, delimiter: str) -> list[str]:
    """Return the column names of a delimited file (empty list for an empty file)."""
    with path.open("rb") as fh:
        first = fh.readline()
    text = first.decode(encoding, errors="replace").lstrip("\ufeff").rstrip("\r\n")
    if not text:
        return []
    return next(csv.reader([text], delimiter=delimiter))


def _find_bad_utf8(column: pa.Array) -> list[int]:
    """Return the row indexes whose bytes are not valid UTF-8 (slow path, only after a failed cast)."""
    bad = []
    for i, value in enumerate(column.to_pylist()):
        if value is None:
            continue
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(i)
    return bad


def _encoding_problem(table: pa.Table, i: int, row_number: int, column: str) -> RowProblem:
    values = {name: table.column(name)[i].as_py() for name in table.column_names if name != ROW_COLUMN}
    text = {k: (v.decode("utf-8", errors="backslashreplace") if v is not None else None) for k, v in values.items()}
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([(v or b"").decode("latin-1") for v in values.values()])
    return RowProblem(
        row_number=row_number,
        reason="encoding_error",
        rule=f"column {column}: bytes are not valid UTF-8; declare the file's encoding "
        "(mapping source.encoding or --encoding, e.g. cp1252, cp865, latin-1)",
        raw_record=json.dumps(text, ensure_ascii=False),
        raw_base64=base64.b64encode(buf.getvalue().encode("latin-1")).decode("ascii"),
        source_column=column,
    )


def _decode(table: pa.Table, *, utf8_source: bool) -> tuple[pa.Table, list[RowProblem]]:
    """Cast the binary columns to text; rows with invalid UTF-8 become problems."""
    problems: list[RowProblem] = []
    names = [n for n in table.column_names if n != ROW_COLUMN]
    bad_rows: dict[int, str] = {}
    if utf8_source:
        for name in names:
            try:
                table.column(name).cast(pa.string())
            except pa.ArrowInvalid:
                for i in _find_bad_utf8(table.column(name).combine_chunks()):
                    bad_rows.setdefault(i, name)
    if bad_rows:
        rows = table.column(ROW_COLUMN).to_pylist()
        problems = [_encoding_problem(table, i, rows[i], col) for i, col in sorted(bad_rows.items())]
        keep = np.ones(table.num_rows, dtype=bool)
        keep[list(bad_rows)] = False
        table = table.filter(pa.array(keep))
    columns = [table.column(n).cast(pa.string()) for n in names]
    out = pa.table(columns + [table.column(ROW_COLUMN)], names=[*names, ROW_COLUMN])
    return out, problems


def read_delimited(path: Path, *, encoding: str, delimiter: str, block_size: int = BLOCK_SIZE) -> Iterator[SourceBatch]:
    """Yield the rows of a delimited file as string batches, with problems for unreadable rows.

    Args:
        path: the file.
        encoding: Python codec of the file (utf-8, cp1252, cp865, latin-1, ...).
        delimiter: the field separator.
        block_size: bytes per read block (memory per batch).

    Raises:
        SourceError: the file cannot be opened at all.
    """
    header = read_header(path, encoding=encoding, delimiter=delimiter)
    if not header:
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
        decoded, problems = _decode(table, utf8_source=utf8_source)
        yield SourceBatch(decoded, fresh + problems)
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
