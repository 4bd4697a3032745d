"""The table sink sorts out of core: key ranges each sorted in memory give the same bytes as one sort."""

from __future__ import annotations

import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import formats.table_sink as table_sink
from formats.model import TABLES
from formats.table_sink import TableSink


def _rows(n: int) -> pa.Table:
    rng = random.Random(7)
    spec = TABLES["diagnosis"]
    data = {name: [None] * n for name in spec.field_names()}
    data["record_id"] = [f"{rng.getrandbits(128):032x}" for _ in range(n)]
    data["patient_id"] = [f"p{rng.randrange(300):04d}-æ" for _ in range(n)]
    data["diagnosis_code"] = [str(rng.randrange(10**6)) for _ in range(n)]
    for name in ("source_system", "source_ref", "source_hash", "run_id"):
        data[name] = ["x"] * n
    return pa.table(data, schema=spec.schema())


def _write(tmp: Path, table: pa.Table, batch: int) -> Path:
    spec = TABLES["diagnosis"]
    sink = TableSink("diagnosis", spec.schema(), spec.sort_keys, tmp / "staging", tmp / "out")
    for start in range(0, table.num_rows, batch):
        sink.write(table.slice(start, batch))
    written = sink.close()
    assert written is not None
    assert written.rows == table.num_rows
    return written.parquet


@pytest.mark.parametrize("bucket_rows", [50, 333, 100_000])
def test_bucketed_sort_gives_the_same_file_as_one_sort(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bucket_rows: int
) -> None:
    table = _rows(2_000)
    reference = _write(tmp_path / "ref", table, 500)  # default: one in-memory sort
    monkeypatch.setattr(table_sink, "BUCKET_ROWS", bucket_rows)
    monkeypatch.setattr(table_sink, "SAMPLE_KEYS", 97)
    got = _write(tmp_path / "got", table, 137)
    assert got.read_bytes() == reference.read_bytes()
    result = pq.read_table(got)
    keys = list(zip(result.column("patient_id").to_pylist(), result.column("record_id").to_pylist(), strict=True))
    assert keys == sorted(keys)
    assert sorted(result.column("record_id").to_pylist()) == sorted(table.column("record_id").to_pylist())
    assert not list((tmp_path / "got" / "staging").glob("*"))  # spill and bucket files removed
