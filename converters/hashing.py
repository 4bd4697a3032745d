"""Row hashes and derived ids, computed by DuckDB's vectorised SHA-256 over whole batches.

``source_hash`` of a tabular record is the SHA-256 (hex) of its field values as decoded text,
in source column order, joined by U+001F (unit separator). ``record_id`` is a UUID-shaped value
made from the SHA-256 of ``system|source_ref|ordinal``, so the same input gives the same ids.
"""

from __future__ import annotations

import itertools

import duckdb
import pyarrow as pa

from formats.table_sink import sql_string

_names = itertools.count()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class RowHasher:
    """Computes row hashes and ids with one DuckDB connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con

    def _run(self, table: pa.Table, expression: str) -> pa.Array:
        view = f"_jk_hash_{next(_names)}"
        self.con.register(view, table)
        try:
            result = self.con.sql(f"SELECT {expression} AS h FROM {view}").to_arrow_table()
        finally:
            self.con.unregister(view)
        return result.column("h").combine_chunks().cast(pa.string())

    def record_hashes(self, table: pa.Table, columns: list[str]) -> pa.Array:
        """Return the SHA-256 of each row's ``columns`` (text, U+001F-joined)."""
        if table.num_rows == 0:
            return pa.array([], pa.string())
        if not columns:
            return pa.array(["e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"] * table.num_rows)
        # a database NULL is hashed as \N (a file has no NULL: its empty fields are empty strings)
        joined = ", ".join(f"coalesce({_quote(c)}, '\\N')" for c in columns)
        return self._run(table.select(columns), f"sha256(concat_ws(chr(31), {joined}))")

    def record_ids(self, system: str, refs: pa.Array, ordinal: int) -> pa.Array:
        """Return UUID-shaped ids from ``sha256(system|ref|ordinal)``."""
        if len(refs) == 0:
            return pa.array([], pa.string())
        expr = f"sha256({sql_string(system + '|')} || ref || '|{ordinal}')"
        h = f"({expr})"
        uuid = (
            f"substr({h},1,8) || '-' || substr({h},9,4) || '-' || substr({h},13,4) || '-' || "
            f"substr({h},17,4) || '-' || substr({h},21,12)"
        )
        return self._run(pa.table({"ref": refs}), uuid)
