"""Validation of archive packages: checks that return findings, never raise for bad data."""

from __future__ import annotations

from pathlib import Path

from formats.package import open_package
from formats.progress import ProgressReporter
from validation.catalogue import CheckSettings, load_check_settings, run_checks
from validation.checks import CHECKS
from validation.findings import Finding, Severity, ValidationReport


def validate_archive(
    path: Path, *, progress: ProgressReporter | None = None, settings: CheckSettings | None = None
) -> ValidationReport:
    """Run every check of the catalogue over the package at ``path``; return all findings.

    Each check runs to the end; at most ``settings.max_listed`` findings per check are listed, the
    rest summarised in one finding; thresholds and severities come from ``settings`` (a checks
    config file, see :func:`validation.catalogue.load_check_settings`) or the catalogue's defaults.

    Raises:
        ArchiveError: only when ``path`` is not an archive package at all.

    Example:
        >>> validate_archive(Path("archive")).valid  # doctest: +SKIP
        True
    """
    layout = open_package(path)
    report = run_checks(layout, CHECKS, settings, progress=progress)
    report.archive = str(path)
    report.stats = {f"rows.{name}": _rows(layout.table(name)) for name in layout.canonical_tables()}
    return report


def _rows(path: Path) -> int:
    import pyarrow.parquet as pq

    try:
        return int(pq.read_metadata(path).num_rows)
    except (OSError, ValueError):  # pyarrow.ArrowInvalid is a ValueError: the schema check reports it
        return -1


__all__ = [
    "CHECKS",
    "CheckSettings",
    "Finding",
    "Severity",
    "ValidationReport",
    "load_check_settings",
    "validate_archive",
]
