"""Validation of archive packages: checks that return findings, never raise for bad data."""

from __future__ import annotations

from pathlib import Path

from formats.package import open_package
from formats.progress import NullProgress, ProgressReporter
from validation.checks import CHECKS, MAX_LISTED
from validation.findings import Finding, Severity, ValidationReport


def validate_archive(path: Path, *, progress: ProgressReporter | None = None) -> ValidationReport:
    """Run every check over the package at ``path``; return all findings.

    Each check runs to the end; at most MAX_LISTED findings per check are listed, the rest
    summarised in one finding.

    Raises:
        ArchiveError: only when ``path`` is not an archive package at all.

    Example:
        >>> validate_archive(Path("archive")).valid  # doctest: +SKIP
        True
    """
    layout = open_package(path)
    progress = progress or NullProgress()
    report = ValidationReport(archive=str(path))
    progress.start(len(CHECKS), "validating")
    for check in CHECKS:
        found = list(check.run(layout))
        report.findings.extend(found[:MAX_LISTED])
        if len(found) > MAX_LISTED:
            worst = min((f.severity for f in found), key=list(Severity).index)
            report.findings.append(
                Finding(check.id, worst, f"{len(found) - MAX_LISTED} more finding(s) of this check not listed")
            )
        report.checks_run.append(check.id)
        progress.advance(1, check.title)
    progress.finish()
    report.stats = {f"rows.{name}": _rows(layout.table(name)) for name in layout.canonical_tables()}
    return report


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    try:
        return int(pq.read_metadata(path).num_rows)
    except OSError:
        return -1


__all__ = ["CHECKS", "Finding", "Severity", "ValidationReport", "validate_archive"]
