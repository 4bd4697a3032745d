"""Integrity checks: fixity (BagIt), schemas, Parquet/CSV twins, the ledger, patient references."""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Iterator
from pathlib import Path

import bagit
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from formats.bag import payload_files, read_manifest, sha256_file
from formats.ledger import LEDGER_RECORD_SCHEMA, REJECT_SCHEMA
from formats.model import MODEL_VERSION, TABLES
from formats.package import LEDGER_DIR, REJECTS_DIR, TABLES_DIR, PackageLayout
from formats.table_sink import sql_string
from validation.findings import Finding, Severity
from validation.twins import compare_twins

logging.getLogger("bagit").setLevel(logging.ERROR)  # its progress lines are not findings
VALIDATION_MEMORY_LIMIT = "32MB"


def _rel(layout: PackageLayout, path: Path) -> str:
    return path.relative_to(layout.root).as_posix()


def check_fixity(layout: PackageLayout) -> Iterator[Finding]:
    """Every payload and tag file is listed in a manifest and has the listed SHA-256."""
    root = layout.root
    for name in ("bagit.txt", "bag-info.txt", "manifest-sha256.txt", "tagmanifest-sha256.txt"):
        if not (root / name).is_file():
            yield Finding(
                "fixity", Severity.FATAL, f"{name} is missing: the package is not a complete BagIt bag", path=name
            )
            return
    for manifest in ("manifest-sha256.txt", "tagmanifest-sha256.txt"):
        listed = read_manifest(root, manifest)
        problems = 0
        for rel, digest in sorted(listed.items()):
            path = root / rel
            if not path.is_file():
                problems += 1
                yield Finding("fixity", Severity.ERROR, f"{rel} is listed in {manifest} but missing", path=rel)
            elif sha256_file(path) != digest:
                problems += 1
                yield Finding(
                    "fixity", Severity.ERROR, f"{rel} has been altered: its SHA-256 differs from {manifest}", path=rel
                )
        if manifest == "manifest-sha256.txt":
            for p in payload_files(root):
                rel = _rel(layout, p)
                if rel not in listed:
                    yield Finding("fixity", Severity.ERROR, f"{rel} is in data/ but not in the manifest", path=rel)
    try:
        bagit.Bag(str(root)).validate(processes=1)
    except bagit.BagValidationError as exc:
        yield Finding("fixity", Severity.ERROR, f"bagit-python (RFC 8493) rejects the bag: {exc.message}")
    except bagit.BagError as exc:
        yield Finding("fixity", Severity.ERROR, f"bagit-python cannot open the bag: {exc}")


def check_schema(layout: PackageLayout) -> Iterator[Finding]:
    """Every canonical table is a known category with exactly the declared schema and model version."""
    for path in sorted(layout.dir(TABLES_DIR).glob("*.parquet")):
        rel = _rel(layout, path)
        spec = TABLES.get(path.stem)
        if spec is None:
            yield Finding(
                "schema", Severity.ERROR, f"{rel}: {path.stem} is not a table of model {MODEL_VERSION}", path=rel
            )
            continue
        try:
            actual = pq.read_schema(path)
        except (pa.ArrowInvalid, OSError) as exc:
            yield Finding("schema", Severity.ERROR, f"{rel} is not a readable Parquet file: {exc}", path=rel)
            continue
        yield from _compare_schema(rel, spec.name, actual, spec.schema())
        version = (actual.metadata or {}).get(b"model_version", b"").decode()
        if version != MODEL_VERSION:
            yield Finding(
                "schema",
                Severity.ERROR,
                f"{rel}: model version {version or 'missing'}, expected {MODEL_VERSION}",
                path=rel,
                table=spec.name,
            )
    for rel, schema in (
        (f"data/{LEDGER_DIR}/records.parquet", LEDGER_RECORD_SCHEMA),
        (f"data/{REJECTS_DIR}/rejects.parquet", REJECT_SCHEMA),
    ):
        path = layout.root / rel
        if not path.is_file():
            continue
        try:
            actual = pq.read_schema(path)
        except (pa.ArrowInvalid, OSError) as exc:
            yield Finding("schema", Severity.ERROR, f"{rel} is not a readable Parquet file: {exc}", path=rel)
            continue
        yield from _compare_schema(rel, path.stem, actual, schema)


def _compare_schema(rel: str, table: str, actual: pa.Schema, declared: pa.Schema) -> Iterator[Finding]:
    if actual.names != declared.names:
        missing = sorted(set(declared.names) - set(actual.names))
        extra = sorted(set(actual.names) - set(declared.names))
        yield Finding(
            "schema",
            Severity.ERROR,
            f"{rel}: columns differ from the declaration (missing: {missing or 'none'}, unexpected: {extra or 'none'})",
            path=rel,
            table=table,
        )
        return
    for a, d in zip(actual, declared, strict=True):
        if not a.type.equals(d.type):
            yield Finding(
                "schema",
                Severity.ERROR,
                f"{rel}: column {a.name} is {a.type}, declared {d.type}",
                path=rel,
                table=table,
            )


def check_twins(layout: PackageLayout) -> Iterator[Finding]:
    """Every Parquet file has a CSV twin with the same rows, and every CSV a Parquet original."""
    data = layout.data
    parquet = {p.with_suffix("") for p in data.rglob("*.parquet")}
    csv = {p.with_suffix("") for p in data.rglob("*.csv") if p.parent.name not in ("ledger",) or p.stem != "summary"}
    for stem in sorted(csv - parquet):
        rel = _rel(layout, stem.with_suffix(".csv"))
        yield Finding("twins", Severity.ERROR, f"{rel} has no Parquet twin", path=rel)
    for stem in sorted(parquet):
        rel = _rel(layout, stem.with_suffix(".csv"))
        if stem not in csv:
            yield Finding("twins", Severity.ERROR, f"{rel} (the archival CSV twin) is missing", path=rel)
            continue
        try:
            problem = compare_twins(stem.with_suffix(".parquet"), stem.with_suffix(".csv"))
        except (pa.ArrowInvalid, OSError) as exc:
            problem = f"cannot be read: {exc}"
        if problem:
            yield Finding("twins", Severity.ERROR, f"{rel} and its Parquet twin disagree: {problem}", path=rel)


def bounded_connection() -> duckdb.DuckDBPyConnection:
    """Return a DuckDB connection whose memory stays bounded however large the package."""
    con = duckdb.connect(":memory:")
    con.execute(f"SET memory_limit='{VALIDATION_MEMORY_LIMIT}'")
    con.execute(f"SET temp_directory={sql_string(Path(tempfile.gettempdir()) / 'journalkonvert-duckdb')}")
    con.execute("SET threads=1")
    con.execute("SET enable_progress_bar=false")
    con.execute("SET preserve_insertion_order=false")
    return con


def check_ledger(layout: PackageLayout) -> Iterator[Finding]:
    """Check that the ledger balances per source table and agrees with the records and tables written."""
    summary_path = layout.dir(LEDGER_DIR) / "summary.json"
    records_path = layout.dir(LEDGER_DIR) / "records.parquet"
    if not summary_path.is_file():
        yield Finding("ledger", Severity.FATAL, "data/ledger/summary.json is missing", path="data/ledger/summary.json")
        return
    try:
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        yield Finding("ledger", Severity.FATAL, f"data/ledger/summary.json cannot be read: {exc}")
        return
    if not isinstance(summary, dict) or not all(isinstance(t, dict) for t in summary.get("tables", [])):
        yield Finding("ledger", Severity.FATAL, "data/ledger/summary.json does not have the ledger's shape")
        return
    fates = ("converted", "preserved", "rejected", "excluded")
    for t in summary.get("tables", []):
        accounted = sum(int(t.get(k, 0)) for k in fates)
        if accounted != int(t.get("source_rows", -1)):
            yield Finding(
                "ledger",
                Severity.ERROR,
                f"source table {t.get('source_table')}: {t.get('source_rows')} "
                f"records read but {accounted} accounted for",
                table=t.get("source_table"),
            )
    if not records_path.is_file():
        if summary.get("totals", {}).get("source_rows", 0):
            yield Finding("ledger", Severity.ERROR, "data/ledger/records.parquet is missing")
        return
    try:
        pq.read_schema(records_path)
    except (pa.ArrowInvalid, OSError):
        return  # the schema check reports the unreadable per-record ledger
    con = bounded_connection()
    rows = con.execute(
        f"SELECT source_table, fate, count(*) FROM read_parquet({sql_string(records_path)}) GROUP BY ALL"
    ).fetchall()
    recount: dict[tuple[str, str], int] = {(r[0], r[1]): int(r[2]) for r in rows}
    for t in summary.get("tables", []):
        for fate in fates:
            n = recount.get((t["source_table"], fate), 0)
            if n != int(t.get(fate, 0)):
                yield Finding(
                    "ledger",
                    Severity.ERROR,
                    f"source table {t['source_table']}: summary says {t.get(fate)} "
                    f"{fate}, the per-record ledger has {n}",
                    table=t["source_table"],
                )
    dup = con.execute(
        f"SELECT count(*) - count(DISTINCT source_ref) FROM read_parquet({sql_string(records_path)})"
    ).fetchone()
    if dup and dup[0]:
        yield Finding("ledger", Severity.ERROR, f"{dup[0]} source record(s) have more than one fate", count=int(dup[0]))
    for name, expected in summary.get("categories", {}).items():
        path = layout.table(name)
        try:
            actual = pq.read_metadata(path).num_rows if path.is_file() else 0
        except (pa.ArrowInvalid, OSError):
            continue  # the schema check reports an unreadable table
        if actual != expected:
            yield Finding(
                "ledger",
                Severity.ERROR,
                f"table {name} has {actual} rows; the ledger says {expected} were converted into it",
                table=name,
                path=_rel(layout, path),
            )
    rejects = layout.dir(REJECTS_DIR) / "rejects.parquet"
    try:
        n_rejects = pq.read_metadata(rejects).num_rows if rejects.is_file() else 0
    except (pa.ArrowInvalid, OSError):
        return  # the schema check reports it
    if n_rejects != summary.get("totals", {}).get("rejected", 0):
        yield Finding(
            "ledger",
            Severity.ERROR,
            f"rejects/ holds {n_rejects} records; the ledger says "
            f"{summary.get('totals', {}).get('rejected', 0)} were rejected",
        )


def check_references(layout: PackageLayout) -> Iterator[Finding]:
    """Every patient_id in every table names a row of the patient table."""
    patient = layout.table("patient")
    usable = usable_tables(layout)
    scoped = [n for n in usable if TABLES[n].patient_scoped and n != "patient"]
    if patient.is_file() and "patient" not in usable:
        return  # the schema check reports the unreadable patient table
    if not patient.is_file():
        if scoped:
            yield Finding(
                "references",
                Severity.ERROR,
                "there is no patient table, yet other tables refer to patients",
                path="data/tables/patient.parquet",
            )
        return
    con = bounded_connection()
    for name in scoped:
        row = con.execute(
            f"SELECT count(*), min(t.source_ref) FROM read_parquet({sql_string(layout.table(name))}) t "
            f"ANTI JOIN read_parquet({sql_string(patient)}) p ON t.patient_id = p.patient_id"
        ).fetchone()
        if row and row[0]:
            yield Finding(
                "references",
                Severity.ERROR,
                f"{row[0]} row(s) of {name} refer to a patient that is not in the patient table (first: {row[1]})",
                table=name,
                count=int(row[0]),
            )
    dup = con.execute(
        f"SELECT count(*) - count(DISTINCT patient_id) FROM read_parquet({sql_string(patient)})"
    ).fetchone()
    if dup and dup[0]:
        yield Finding(
            "references",
            Severity.ERROR,
            f"{dup[0]} patient_id value(s) occur more than once in patient",
            table="patient",
            count=int(dup[0]),
        )


def usable_tables(layout: PackageLayout) -> list[str]:
    """Return the canonical tables whose Parquet file opens and has every declared column.

    The other checks look only at these; the ``schema`` check reports the rest.
    """
    usable = []
    for name in layout.canonical_tables():
        if name not in TABLES:
            continue
        try:
            names = set(pq.read_schema(layout.table(name)).names)
        except (OSError, ValueError):  # pyarrow.ArrowInvalid is a ValueError
            continue
        if set(TABLES[name].field_names()) <= names:
            usable.append(name)
    return usable
