"""Proof that each Parquet access copy and its CSV twin hold the same rows, streamed."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

CHUNK_ROWS = 8_192


def _csv_batches(path: Path, schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    convert = pcsv.ConvertOptions(
        column_types={f.name: f.type for f in schema}, strings_can_be_null=True, quoted_strings_can_be_null=False
    )
    read = pcsv.ReadOptions(encoding="utf8", block_size=1 << 18, use_threads=False)
    parse = pcsv.ParseOptions(newlines_in_values=True)
    yield from pcsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert)


def _rechunk(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> Iterator[pa.Table]:
    """Yield tables of exactly CHUNK_ROWS rows (the last one shorter)."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for b in batches:
        pending.append(b)
        rows += b.num_rows
        while rows >= CHUNK_ROWS:
            t = pa.Table.from_batches(pending, schema=schema) if pending else pa.table({}, schema=schema)
            yield t.slice(0, CHUNK_ROWS)
            rest = t.slice(CHUNK_ROWS)
            pending, rows = rest.to_batches(), rest.num_rows
    if rows:
        yield pa.Table.from_batches(pending, schema=schema)


def _first_difference(a: pa.Table, b: pa.Table, offset: int) -> str | None:
    """Name the first differing data row and column (NaN equals NaN), or None if there is none."""
    for name in a.column_names:
        for i, (x, y) in enumerate(zip(a.column(name).to_pylist(), b.column(name).to_pylist(), strict=True)):
            if x != y and not (x != x and y != y):
                return f"data row {offset + i + 1} differs in column {name}"
    return None


def compare_twins(parquet_path: Path, csv_path: Path) -> str | None:
    """Compare a Parquet file with its CSV twin row for row.

    Returns:
        None when they agree, else a description of the first difference.
    """
    pf = pq.ParquetFile(parquet_path, pre_buffer=False)
    schema = pf.schema_arrow
    plain = pa.schema([pa.field(f.name, f.type) for f in schema])
    try:
        header = csv_path.open("rb").readline().decode("utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read {csv_path.name}: {exc}"
    names = next(csv.reader([header]))
    if names != plain.names:
        return f"columns differ: CSV has {len(names)} columns, Parquet {len(plain.names)}"
    left = _rechunk((b.cast(plain) for b in pf.iter_batches(batch_size=CHUNK_ROWS, use_threads=False)), plain)
    try:
        right = _rechunk(_csv_batches(csv_path, plain), plain)
        offset = 0
        for a in left:
            b = next(right, None)
            if b is None:
                return f"CSV ends at row {offset}; Parquet has more rows"
            a, b = a.combine_chunks(), b.combine_chunks()
            if a.num_rows != b.num_rows:
                return f"rows {offset + 1}-{offset + a.num_rows}: the CSV chunk has {b.num_rows} rows"
            if not a.equals(b):
                problem = _first_difference(a, b, offset)
                if problem:
                    return problem
            offset += a.num_rows
        if next(right, None) is not None:
            return f"CSV has more rows than the Parquet file's {offset}"
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        return f"the CSV cannot be read with the declared types: {str(exc).splitlines()[0]}"
    return None
