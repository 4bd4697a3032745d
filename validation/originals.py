"""Originals (message bytes, attachments) are referenced both ways: no dangling reference, no orphan file."""

from __future__ import annotations

from collections.abc import Iterator

import pyarrow.parquet as pq

from formats.bag import sha256_file
from formats.package import PackageLayout
from validation.findings import Finding, Severity

ORIGINALS_DIR = "originals"
REFERRING_TABLES = ("message", "document")
MAX_LISTED = 20


def check_originals(layout: PackageLayout) -> Iterator[Finding]:
    """Every ``original_path`` names a file whose SHA-256 is ``original_sha256``; every original is referenced."""
    referenced: set[str] = set()
    listed = 0
    for name in REFERRING_TABLES:
        path = layout.table(name)
        if not path.is_file():
            continue
        pf = pq.ParquetFile(path)
        for batch in pf.iter_batches(columns=["original_path", "original_sha256", "source_ref"], batch_size=8192):
            for rel, digest, ref in zip(*(batch.column(i).to_pylist() for i in range(3)), strict=True):
                if rel is None:
                    continue
                referenced.add(rel)
                target = layout.data / rel
                problem = None
                if not target.is_file():
                    problem = f"{name} row {ref}: original {rel} is missing"
                elif digest is not None and sha256_file(target) != digest:
                    problem = f"{name} row {ref}: original {rel} does not have the SHA-256 the row records"
                if problem is not None and listed < MAX_LISTED:
                    listed += 1
                    yield Finding("originals", Severity.ERROR, problem, path=f"data/{rel}", table=name)
    folder = layout.data / ORIGINALS_DIR
    if not folder.is_dir():
        return
    orphans = sorted(
        p.relative_to(layout.data).as_posix()
        for p in folder.rglob("*")
        if p.is_file() and p.relative_to(layout.data).as_posix() not in referenced
    )
    for rel in orphans[:MAX_LISTED]:
        yield Finding(
            "originals", Severity.ERROR, f"data/{rel} is referenced by no message or document row", path=f"data/{rel}"
        )
    if len(orphans) > MAX_LISTED:
        yield Finding("originals", Severity.ERROR, f"{len(orphans) - MAX_LISTED} more unreferenced originals")
