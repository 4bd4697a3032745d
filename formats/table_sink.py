"""Streamed, sorted, deterministic writing of one table as Parquet plus its CSV twin.

Batches are spilled unsorted to a staging Parquet file as they arrive (memory stays flat), then
sorted out of core (split into key ranges that are each sorted in memory) and written once as the access copy
(Parquet, zstd, declared schema) and once as the archival twin (RFC 4180 CSV, UTF-8, CRLF).
Row groups are cut at fixed row counts, so the same rows always give the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 8_192
SORT_BATCH_ROWS = 8_192
BUCKET_ROWS = 20_000
SAMPLE_KEYS = 20_000
DUCKDB_MEMORY_LIMIT = "256MB"
CSV_TIMESTAMP_FORMAT = "YYYY-MM-DD hh:mm:ss.ffffffZ (UTC)"


@dataclass(frozen=True)
class WrittenTable:
    """Where a table was written and how many rows it has."""

    name: str
    rows: int
    parquet: Path
    csv: Path


def sql_string(value: str | Path) -> str:
    """Return ``value`` as a quoted SQL string literal (for paths and names in DuckDB statements)."""
    return "'" + str(value).replace("'", "''") + "'"


def write_csv_options() -> pcsv.WriteOptions:
    """Return the CSV dialect of the archival twin (RFC 4180; empty unquoted field = null)."""
    return pcsv.WriteOptions(include_header=True, delimiter=",", quoting_style="needed", eol="\r\n")


def read_csv_twin(path: Path, schema: pa.Schema) -> pa.Table:
    """Read a CSV twin back with the declared types (quoted empty string = "", empty field = null)."""
    convert = pcsv.ConvertOptions(
        column_types={f.name: f.type for f in schema},
        strings_can_be_null=True,
        quoted_strings_can_be_null=False,
        include_columns=schema.names,
    )
    read = pcsv.ReadOptions(encoding="utf8", block_size=1 << 22)
    parse = pcsv.ParseOptions(newlines_in_values=True)
    return pcsv.read_csv(path, read_options=read, parse_options=parse, convert_options=convert)


class _FinalFiles:
    """The Parquet access copy and CSV twin of one table, written in fixed-size row groups."""

    def __init__(self, name: str, schema: pa.Schema, target_dir: Path) -> None:
        target_dir.mkdir(parents=True, exist_ok=True)
        self.parquet = target_dir / f"{name}.parquet"
        self.csv = target_dir / f"{name}.csv"
        self.schema = schema
        self._pw = pq.ParquetWriter(
            self.parquet, schema, compression="zstd", compression_level=3, store_schema=True, write_statistics=True
        )
        self._cw = pcsv.CSVWriter(self.csv, schema, write_options=write_csv_options())
        self._pending: list[pa.Table] = []
        self._pending_rows = 0

    def _flush(self, table: pa.Table) -> None:
        table = table.combine_chunks()
        self._pw.write_table(table, row_group_size=ROW_GROUP_ROWS)
        self._cw.write_table(table)

    def write(self, table: pa.Table) -> None:
        self._pending.append(table)
        self._pending_rows += table.num_rows
        while self._pending_rows >= ROW_GROUP_ROWS:
            merged = pa.concat_tables(self._pending)
            self._flush(merged.slice(0, ROW_GROUP_ROWS))
            rest = merged.slice(ROW_GROUP_ROWS)
            self._pending, self._pending_rows = [rest], rest.num_rows

    def close(self) -> None:
        if self._pending_rows:
            self._flush(pa.concat_tables(self._pending))
        self._pending = []
        self._pw.close()
        self._cw.close()


class TableSink:
    """Collect batches for one table and write it, sorted when sort keys are given.

    Without sort keys the rows are written in arrival order (which the pipeline keeps
    deterministic) straight to the final files; with sort keys they are spilled and sorted
    out of core at ``close``: key ranges of at most about BUCKET_ROWS rows, each sorted in memory.

    Args:
        name: table name (also the file stem).
        schema: the declared schema the files are written with.
        sort_keys: columns giving a total order, or () for arrival order.
        staging: a scratch folder for the unsorted spill file.
        target_dir: where ``<name>.parquet`` and ``<name>.csv`` go.
    """

    def __init__(
        self,
        name: str,
        schema: pa.Schema,
        sort_keys: tuple[str, ...],
        staging: Path,
        target_dir: Path,
    ) -> None:
        self.name = name
        self.schema = schema
        self.sort_keys = sort_keys
        self.target_dir = target_dir
        self._spill_path = staging / f"{name}.{hashlib.sha256(str(target_dir).encode()).hexdigest()[:8]}.spill"
        self._writer: pq.ParquetWriter | None = None
        self._direct: _FinalFiles | None = None
        self.rows = 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append rows (columns in any order; cast to the declared schema)."""
        if batch.num_rows == 0:
            return
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        table = table.select(self.schema.names).cast(self.schema)
        self.rows += table.num_rows
        if not self.sort_keys:
            if self._direct is None:
                self._direct = _FinalFiles(self.name, self.schema, self.target_dir)
            self._direct.write(table)
            return
        if self._writer is None:
            self._spill_path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._spill_path, self.schema, compression="lz4")
        self._writer.write_table(table)

    def close(self) -> WrittenTable | None:
        """Finish the table (sorting it if needed); return None when it got no rows."""
        if self._direct is not None:
            self._direct.close()
            return WrittenTable(self.name, self.rows, self._direct.parquet, self._direct.csv)
        if self._writer is None:
            return None
        self._writer.close()
        files = _FinalFiles(self.name, self.schema, self.target_dir)
        if self.rows <= BUCKET_ROWS:
            files.write(self._sorted(pq.read_table(self._spill_path, use_threads=False)))
        else:
            for bucket in self._buckets():
                with pa.ipc.open_file(bucket) as part:
                    files.write(self._sorted(part.read_all()))
                bucket.unlink()
        files.close()
        self._spill_path.unlink()
        return WrittenTable(self.name, self.rows, files.parquet, files.csv)

    def _sorted(self, table: pa.Table) -> pa.Table:
        return table.sort_by([(k, "ascending") for k in self.sort_keys]).cast(self.schema)

    def _buckets(self) -> list[Path]:
        """Split the spill file into key ranges of about BUCKET_ROWS rows each; return them in key order.

        The ranges come from a regular sample of the first sort key, so every bucket can be sorted
        in memory and the buckets, in order, give the whole table in order: an external sort whose
        memory is one bucket, however large the table. (DuckDB's ORDER BY ran out of memory on wide
        tables under a bounded memory limit.)
        """
        key = self.sort_keys[0]
        spill = pq.ParquetFile(self._spill_path, pre_buffer=False)
        step = max(1, self.rows // SAMPLE_KEYS)
        sample: list[str] = []
        seen = 0
        for batch in spill.iter_batches(batch_size=SORT_BATCH_ROWS, columns=[key], use_threads=False):
            values = batch.column(0).to_numpy(zero_copy_only=False)
            first = (-seen) % step
            sample.extend(str(v) for v in values[first::step])
            seen += batch.num_rows
        count = -(-self.rows // BUCKET_ROWS)
        ordered = np.sort(np.array(sample, dtype=str))
        edges = np.unique(ordered[[len(ordered) * k // count for k in range(1, count)]])
        paths = [self._spill_path.with_suffix(f".b{n:05d}") for n in range(len(edges) + 1)]
        writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        options = pa.ipc.IpcWriteOptions(compression="lz4")
        try:
            for batch in spill.iter_batches(batch_size=SORT_BATCH_ROWS, use_threads=False):
                table = pa.Table.from_batches([batch])
                keys = table.column(key).to_numpy(zero_copy_only=False).astype(str)
                which = np.searchsorted(edges, keys, side="right")
                for n in np.unique(which):
                    if n not in writers:
                        writers[int(n)] = pa.ipc.new_file(paths[int(n)], self.schema, options=options)
                    writers[int(n)].write_table(table.filter(pa.array(which == n)).cast(self.schema))
        finally:
            for w in writers.values():
                w.close()
        return [paths[n] for n in sorted(writers)]


def duckdb_connection(scratch: Path) -> duckdb.DuckDBPyConnection:
    """Return an in-memory DuckDB connection with bounded memory that spills to ``scratch``."""
    con = duckdb.connect(":memory:")
    scratch.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit='{DUCKDB_MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory={sql_string(scratch)}")
    con.execute("SET preserve_insertion_order=true")
    con.execute("SET TimeZone='UTC'")
    con.execute("SET threads=1")
    con.execute("SET enable_progress_bar=false")
    return con
