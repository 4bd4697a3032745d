"""The ``identifiers`` check: patients' Norwegian identifiers have the kind they claim and right check digits."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from formats.identifiers import classify_array
from formats.package import PackageLayout
from validation.findings import Finding, Severity
from validation.integrity import usable_tables

NATIONAL_KINDS = ("FNR", "DNR", "HNR", "FHN", "TNR", "DUF")
"""Identifier types whose shape and check digits are known (formats/identifiers.py)."""
BATCH_ROWS = 8192


def check_identifiers(layout: PackageLayout) -> Iterator[Finding]:
    """Count patient identifiers typed as a national kind that fail their check digits or look like another kind."""
    path = layout.table("patient")
    if "patient" not in usable_tables(layout):
        return  # no patient table, or the schema check reports it
    pf = pq.ParquetFile(path)
    if not {"identifier_value", "identifier_type"} <= set(pf.schema_arrow.names):
        return  # the schema check reports missing columns
    kinds = pa.array(NATIONAL_KINDS, pa.string())
    invalid = mismatched = checked = 0
    first_invalid = first_mismatch = None
    for batch in pf.iter_batches(columns=["identifier_value", "identifier_type", "source_ref"], batch_size=BATCH_ROWS):
        values, types, refs = batch.column(0), batch.column(1), batch.column(2)
        national = pc.fill_null(pc.and_(pc.is_in(types, kinds), pc.is_valid(values)), pa.scalar(False))
        code, _system, valid = classify_array(values)
        bad = pc.and_(national, pc.invert(pc.fill_null(valid, pa.scalar(False))))
        # TNR numbers are test fødselsnumre: a TNR typed FNR (or the reverse) is the same namespace.
        same = pc.or_(
            pc.equal(code, types),
            pc.and_(pc.is_in(code, pa.array(["FNR", "TNR"])), pc.is_in(types, pa.array(["FNR", "TNR"]))),
        )
        other = pc.and_(pc.and_(national, pc.invert(bad)), pc.invert(pc.fill_null(same, pa.scalar(False))))
        checked += pc.sum(national.cast(pa.int64())).as_py() or 0
        n_bad = pc.sum(bad.cast(pa.int64())).as_py() or 0
        n_other = pc.sum(other.cast(pa.int64())).as_py() or 0
        if n_bad and first_invalid is None:
            first_invalid = refs.filter(bad)[0].as_py()
        if n_other and first_mismatch is None:
            first_mismatch = refs.filter(other)[0].as_py()
        invalid += n_bad
        mismatched += n_other
    if invalid:
        yield Finding(
            "identifiers",
            Severity.WARNING,
            f"{invalid} of {checked} patient identifier(s) fail their check digits or date part "
            f"(first: {first_invalid}); find them with: journalkonvert query ARCHIVE "
            '"SELECT source_ref FROM patient WHERE NOT identifier_valid"',
            table="patient",
            count=invalid,
        )
    if mismatched:
        yield Finding(
            "identifiers",
            Severity.WARNING,
            f"{mismatched} patient identifier(s) are typed as one kind but have the shape of another "
            f"(e.g. typed FNR, shaped as a D-nummer; first: {first_mismatch})",
            table="patient",
            count=mismatched,
        )
