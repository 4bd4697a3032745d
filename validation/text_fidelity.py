"""The ``text`` check: no mojibake left in the canonical text columns (formats/text_repair.suspicious_counts)."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from formats.model import LINEAGE, TABLES
from formats.package import PackageLayout
from formats.text_repair import suspicious_counts
from validation.findings import Finding, Severity
from validation.integrity import usable_tables

BATCH_ROWS = 4096
_NOT_TEXT = frozenset({"record_id", "patient_id", *(f.name for f in LINEAGE)})


def text_columns(name: str) -> list[str]:
    """Return the string columns of canonical table ``name`` that hold text (not ids, systems, hashes, paths)."""
    return [
        f.name
        for f in TABLES[name].fields
        if pa.types.is_string(f.type)
        and f.name not in _NOT_TEXT
        and not f.name.endswith(("_system", "_sha256", "_path", "_id"))
    ]


def check_text(layout: PackageLayout) -> Iterator[Finding]:
    """Count values that still hold sequences clean Norwegian text does not (GrÃ¸nn, Gr›nn, ...)."""
    for name in usable_tables(layout):
        pf = pq.ParquetFile(layout.table(name))
        columns = [c for c in text_columns(name) if c in pf.schema_arrow.names]
        if not columns:
            continue
        counts = dict.fromkeys(columns, 0)
        for batch in pf.iter_batches(columns=columns, batch_size=BATCH_ROWS):
            for col in columns:
                hits = pc.greater(suspicious_counts(batch.column(col)), 0)
                counts[col] += int(pc.sum(pc.fill_null(hits, pa.scalar(False)).cast(pa.int64())).as_py() or 0)
        for col, n in counts.items():
            if n:
                yield Finding(
                    "text",
                    Severity.WARNING,
                    f"{name}.{col}: {n} value(s) still look wrongly decoded (mojibake such as 'Ã¸' for 'ø'); "
                    "see data/ledger/text_audit for what the conversion repaired",
                    table=name,
                    count=n,
                )
