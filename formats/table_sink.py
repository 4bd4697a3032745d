"""Streamed, sorted, deterministic writing of one table as Parquet plus its CSV twin.

Batches are spilled unsorted to a staging Parquet file as they arrive (memory stays flat), then
DuckDB sorts them out of core and the sorted stream is written once as the access copy
(Parquet, zstd, declared schema) and once as the archival twin (RFC 4180 CSV, UTF-8, CRLF).
Row groups are cut at fixed row counts, so the same rows always give the same bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

ROW_GROUP_ROWS = 65_536
DUCKDB_MEMORY_LIMIT = "512MB"
CSV_TIMESTAMP_FORMAT = "YYYY-MM-DD hh:mm:ss.ffffffZ (UTC)"


@dataclass(frozen=True)
class WrittenTable:
    """Where a table was written and how many rows it has."""

    name: str
    rows: int
    parquet: Path
    csv: Path


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


class TableSink:
    """Collect batches for one table; write it sorted at ``close``.

    Args:
        name: table name (also the file stem).
        schema: the declared schema the files are written with.
        sort_keys: columns giving a total order (ties would make output depend on input order).
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
        self.rows = 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Append rows (columns in any order; cast to the declared schema)."""
        if batch.num_rows == 0:
            return
        table = pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch
        table = table.select(self.schema.names).cast(self.schema)
        if self._writer is None:
            self._spill_path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self._spill_path, self.schema, compression="lz4")
        self._writer.write_table(table)
        self.rows += table.num_rows

    def close(self, con: duckdb.DuckDBPyConnection) -> WrittenTable | None:
        """Sort and write the table; return None when it got no rows."""
        if self._writer is None:
            return None
        self._writer.close()
        self.target_dir.mkdir(parents=True, exist_ok=True)
        parquet_path = self.target_dir / f"{self.name}.parquet"
        csv_path = self.target_dir / f"{self.name}.csv"
        order = ", ".join(f'"{k}" NULLS FIRST' for k in self.sort_keys)
        spill = str(self._spill_path).replace("'", "''")
        reader = con.sql(f"SELECT * FROM read_parquet('{spill}') ORDER BY {order}").to_arrow_reader(ROW_GROUP_ROWS)
        pending: list[pa.Table] = []
        pending_rows = 0
        with pq.ParquetWriter(
            parquet_path, self.schema, compression="zstd", compression_level=9, store_schema=True,
            write_statistics=True,
        ) as pw, pcsv.CSVWriter(csv_path, self.schema, write_options=write_csv_options()) as cw:

            def flush(table: pa.Table) -> None:
                table = table.combine_chunks()
                pw.write_table(table, row_group_size=ROW_GROUP_ROWS)
                cw.write_table(table)

            for batch in reader:
                pending.append(pa.Table.from_batches([batch]).cast(self.schema))
                pending_rows += batch.num_rows
                while pending_rows >= ROW_GROUP_ROWS:
                    merged = pa.concat_tables(pending)
                    flush(merged.slice(0, ROW_GROUP_ROWS))
                    rest = merged.slice(ROW_GROUP_ROWS)
                    pending, pending_rows = [rest], rest.num_rows
            if pending_rows:
                flush(pa.concat_tables(pending))
        self._spill_path.unlink()
        return WrittenTable(self.name, self.rows, parquet_path, csv_path)


def duckdb_connection(scratch: Path) -> duckdb.DuckDBPyConnection:
    """Return an in-memory DuckDB connection with bounded memory that spills to ``scratch``."""
    con = duckdb.connect(":memory:")
    scratch.mkdir(parents=True, exist_ok=True)
    con.execute(f"SET memory_limit='{DUCKDB_MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory='{str(scratch).replace(chr(39), chr(39) * 2)}'")
    con.execute("SET preserve_insertion_order=true")
    con.execute("SET TimeZone='UTC'")
    con.execute("SET threads=2")
    return con
