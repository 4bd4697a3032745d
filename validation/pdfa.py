"""The ``documents`` check: every PDF/A rendition verified, and the documents/ folder referenced both ways.

Separate from production (L8: "claims PDF/A" is not "verified PDF/A"). For each distinct
``pdfa_path`` of the ``document`` table:

* the file exists and has the row's ``pdfa_sha256``;
* it passes :func:`formats.pdfa_check.check_pdfa`: our structural checks (no encryption, no
  JavaScript, pdfaid part 2, a GTS_PDFA1 output intent with an ICC profile, every font
  embedded, a trailer /ID) and ``pikepdf.pdfa.validate_written(..., "2b")`` with verdict ``pass``;
* content equivalence: the text ``pdftotext`` extracts contains the row's ``text_extract``
  (white space normalised), so lost æøå are found.

Every file under ``data/documents/`` must be the rendition of some row (no orphans). Rows whose
document could not be normalised are reported as warnings (the original is kept), with a count
per status.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq

from formats.bag import sha256_file
from formats.package import PackageLayout
from formats.pdfa_check import check_pdfa, text_problems
from formats.pdfa_tools import PDFTOTEXT_INSTALL, ConverterError, pdf_text
from validation.findings import Finding, Severity

DOCUMENTS_DIR = "documents"
MAX_LISTED = 50
_COLUMNS = ("pdfa_path", "pdfa_sha256", "status", "text_extract", "source_ref")


def _document_rows(layout: PackageLayout) -> Iterator[tuple[str | None, str | None, str | None, str | None, str]]:
    path = layout.table("document")
    if not path.is_file():
        return
    pf = pq.ParquetFile(path)
    present = [c for c in _COLUMNS if c in pf.schema_arrow.names]
    for batch in pf.iter_batches(columns=present, batch_size=1024):
        cols = {name: batch.column(name).to_pylist() for name in present}
        for i in range(batch.num_rows):
            yield (
                cols.get("pdfa_path", [None] * batch.num_rows)[i],
                cols.get("pdfa_sha256", [None] * batch.num_rows)[i],
                cols.get("status", [None] * batch.num_rows)[i],
                cols.get("text_extract", [None] * batch.num_rows)[i],
                str(cols.get("source_ref", [""] * batch.num_rows)[i] or ""),
            )


class _Listing:
    """Findings up to a limit, then one line saying how many more there were."""

    def __init__(self) -> None:
        self.listed = 0
        self.hidden = 0

    def add(self, finding: Finding) -> Iterator[Finding]:
        if self.listed < MAX_LISTED or finding.severity is Severity.INFO:
            self.listed += finding.severity is not Severity.INFO
            yield finding
        else:
            self.hidden += 1


def _verify_file(rel: str, target: Path, text: str | None) -> Iterator[Finding]:
    data = target.read_bytes()
    for problem in check_pdfa(data):
        yield Finding("documents", Severity.ERROR, f"data/{rel} is not PDF/A-2b: {problem}", path=f"data/{rel}")
    if text is None:
        return
    try:
        extracted = pdf_text(data)
    except ConverterError as exc:
        yield Finding("documents", Severity.ERROR, f"data/{rel}: text cannot be extracted: {exc.message}")
        return
    for problem in text_problems(extracted, text):
        severity = Severity.WARNING if problem.code == "text_not_checked" else Severity.ERROR
        yield Finding("documents", severity, f"data/{rel}: content check: {problem.message}", path=f"data/{rel}")


def check_documents(layout: PackageLayout) -> Iterator[Finding]:
    """Verify every PDF/A rendition and the documents/ folder both ways (see the module docstring)."""
    referenced: dict[str, str | None] = {}
    statuses: Counter[str] = Counter()
    listing = _Listing()
    no_extractor = False
    for rel, digest, status, text, ref in _document_rows(layout):
        statuses[(status or "no status").split(":")[0]] += 1
        if status and not rel and status.split(":")[0] in ("not_normalised", "rejected_encrypted"):
            yield from listing.add(
                Finding(
                    "documents",
                    Severity.WARNING,
                    f"document row {ref}: kept as original only ({status})",
                    table="document",
                )
            )
        if not rel or rel in referenced:
            continue
        referenced[rel] = digest
        target = layout.data / rel
        if not target.is_file():
            yield from listing.add(
                Finding(
                    "documents",
                    Severity.ERROR,
                    f"document row {ref}: rendition data/{rel} is missing",
                    path=f"data/{rel}",
                    table="document",
                )
            )
            continue
        if digest is not None and sha256_file(target) != digest:
            yield from listing.add(
                Finding(
                    "documents",
                    Severity.ERROR,
                    f"document row {ref}: rendition data/{rel} does not have the SHA-256 the row records "
                    "(altered after hashing)",
                    path=f"data/{rel}",
                    table="document",
                )
            )
        for finding in _verify_file(rel, target, text if not no_extractor else None):
            if "no text extractor" in finding.message:
                no_extractor = True
                finding = Finding("documents", Severity.WARNING, f"text not checked: {PDFTOTEXT_INSTALL}")
            yield from listing.add(finding)
    yield from _orphans(layout, referenced, listing)
    if listing.hidden:
        yield Finding("documents", Severity.ERROR, f"{listing.hidden} more document problems not listed")
    if statuses:
        counts = ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items()))
        yield Finding(
            "documents",
            Severity.INFO,
            f"{len(referenced)} PDF/A rendition(s) checked; document rows by status: {counts}",
            table="document",
            count=sum(statuses.values()),
        )


def _orphans(layout: PackageLayout, referenced: dict[str, str | None], listing: _Listing) -> Iterator[Finding]:
    folder = layout.data / DOCUMENTS_DIR
    if not folder.is_dir():
        return
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(layout.data).as_posix()
        if p.is_file() and rel not in referenced:
            yield from listing.add(
                Finding(
                    "documents",
                    Severity.ERROR,
                    f"data/{rel} is an orphan: no document row refers to it",
                    path=f"data/{rel}",
                )
            )
