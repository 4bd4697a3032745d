"""Findings and the validation report: what a check found, never an exception."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    """How bad a finding is. fatal and error make a package invalid."""

    FATAL = "fatal"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Finding:
    """One thing a check found.

    Attributes:
        check: the check's id (see ``validation.checks.CHECKS``).
        severity: fatal, error, warning or info.
        message: what is wrong and where; never patient data.
        path: the file in the package concerned, relative to the bag root.
        table: the table concerned.
        count: how many records are affected.
    """

    check: str
    severity: Severity
    message: str
    path: str | None = None
    table: str | None = None
    count: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        d = asdict(self)
        d["severity"] = self.severity.value
        return {k: v for k, v in d.items() if v is not None}


@dataclass
class ValidationReport:
    """All findings of a validation run, and whether the package is valid."""

    archive: str
    findings: list[Finding] = field(default_factory=list)
    checks_run: list[str] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    outcomes: list[dict[str, Any]] = field(default_factory=list)
    """One entry per check run: id, title, rule, status (passed/failed), severity, counted, threshold, unit."""

    @property
    def valid(self) -> bool:
        """Valid when no finding is fatal or an error."""
        return not any(f.severity in (Severity.FATAL, Severity.ERROR) for f in self.findings)

    def counts(self) -> dict[str, int]:
        """Return the number of findings per severity."""
        return {s.value: sum(1 for f in self.findings if f.severity is s) for s in Severity}

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict."""
        return {
            "archive": self.archive,
            "valid": self.valid,
            "counts": self.counts(),
            "checks_run": self.checks_run,
            "stats": dict(sorted(self.stats.items())),
            "findings": [f.to_dict() for f in self.findings],
            "checks": self.outcomes,
        }
