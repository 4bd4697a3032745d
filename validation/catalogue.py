"""The check catalogue: what each check proves, how bad a failure is, and how many records it may tolerate.

Every check has an id, a title, the rule or requirement it serves, a severity (the severity of its
findings when it fails) and, where it counts records, a threshold: the number of offending records
(or days, see ``unit``) tolerated before the check fails. Within the threshold, its findings are
still listed, as ``info``, so nothing is hidden. A config file (``--checks-config FILE``, TOML or
YAML) changes thresholds, severities and how many findings are listed per check::

    # checks.toml
    max_listed = 20

    [checks.identifiers]
    threshold = 5          # up to 5 invalid patient identifiers are tolerated
    severity = "error"     # above that, the package is invalid

The runner here runs every check to the end, counts all its findings, lists at most
``max_listed`` of them, and turns an exception inside a check into one ``fatal`` finding naming the
check, so that validation never raises for bad data.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from formats.errors import ConversionError
from formats.package import PackageLayout
from formats.progress import NullProgress, ProgressReporter
from validation.findings import Finding, Severity, ValidationReport

MAX_LISTED = 20
"""Findings listed per check by default; the rest are counted in one summary finding."""

_ORDER = list(Severity)


@dataclass(frozen=True)
class Check:
    """A check of the catalogue.

    Attributes:
        id: short stable name, used in findings, config files and the report.
        title: what the check proves, in one line.
        rule: the rule or requirement it serves (standard, law, invariant).
        run: the function that yields its findings; it may raise (the runner catches it).
        severity: the severity of its findings when it fails.
        threshold: offending records (or ``unit``) tolerated before it fails; None when it does not count.
            Only findings with a ``count`` are tolerated; one without (a missing file, a missing log) never is.
        unit: what the threshold counts ("records", "days").
        why: why the default threshold is what it is.
    """

    id: str
    title: str
    rule: str
    run: Callable[[PackageLayout], Iterator[Finding]]
    severity: Severity = Severity.ERROR
    threshold: int | None = None
    unit: str = "records"
    why: str = ""


class ChecksConfigError(ConversionError):
    """The checks config file cannot be used."""


@dataclass(frozen=True)
class CheckSettings:
    """Thresholds and severities in force for one validation run (defaults from the catalogue)."""

    thresholds: dict[str, int] = field(default_factory=dict)
    severities: dict[str, Severity] = field(default_factory=dict)
    max_listed: int = MAX_LISTED
    source: str = "defaults"

    def apply(self, check: Check) -> Check:
        """Return ``check`` with this config's threshold and severity."""
        return replace(
            check,
            threshold=self.thresholds.get(check.id, check.threshold),
            severity=self.severities.get(check.id, check.severity),
        )


def load_check_settings(path: Path, known: Sequence[str]) -> CheckSettings:
    """Read a checks config file (``.toml``, ``.yaml`` or ``.yml``).

    Args:
        path: the file.
        known: the check ids of the catalogue; any other id is an error.

    Raises:
        ChecksConfigError: the file cannot be read, or names unknown checks, severities or bad numbers.

    Example:
        >>> load_check_settings(Path("checks.toml"), ["identifiers"]).thresholds  # doctest: +SKIP
        {'identifiers': 5}
    """
    hint = "see docs/checks.md for the format; check ids: " + ", ".join(known)
    try:
        text = path.read_text(encoding="utf-8")
        raw: Any = yaml.safe_load(text) if path.suffix.lower() in (".yaml", ".yml") else tomllib.loads(text)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        msg = f"checks config {path} cannot be read: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        raise ChecksConfigError(msg, hint=hint) from exc
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ChecksConfigError(f"checks config {path}: the top level must be a table/mapping", hint=hint)
    problems: list[str] = []
    unknown_keys = sorted(set(raw) - {"max_listed", "checks"})
    if unknown_keys:
        problems.append(f"unknown key(s) {unknown_keys}")
    max_listed = raw.get("max_listed", MAX_LISTED)
    if not isinstance(max_listed, int) or isinstance(max_listed, bool) or max_listed < 0:
        problems.append("max_listed must be a whole number >= 0")
        max_listed = MAX_LISTED
    thresholds: dict[str, int] = {}
    severities: dict[str, Severity] = {}
    checks = raw.get("checks", {}) or {}
    if not isinstance(checks, dict):
        problems.append("checks must be a table of check id -> settings")
        checks = {}
    for check_id, settings in checks.items():
        if check_id not in known:
            problems.append(f"unknown check {check_id!r}")
            continue
        if not isinstance(settings, dict) or set(settings) - {"threshold", "severity"}:
            problems.append(f"checks.{check_id}: only threshold and severity can be set")
            continue
        if "threshold" in settings:
            value = settings["threshold"]
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                problems.append(f"checks.{check_id}.threshold must be a whole number >= 0")
            else:
                thresholds[check_id] = value
        if "severity" in settings:
            try:
                severities[check_id] = Severity(str(settings["severity"]))
            except ValueError:
                problems.append(f"checks.{check_id}.severity must be one of {[s.value for s in Severity]}")
    if problems:
        raise ChecksConfigError(f"checks config {path}: " + "; ".join(problems), hint=hint)
    return CheckSettings(thresholds, severities, max_listed, source=str(path))


def _count(findings: Sequence[Finding]) -> int:
    """Offending records: the counts of the error and warning findings that carry a count."""
    return sum(f.count for f in findings if f.severity in _COUNTED and f.count is not None)


_COUNTED = (Severity.ERROR, Severity.WARNING)


def _run_one(check: Check, layout: PackageLayout) -> list[Finding]:
    """Run one check to the end; an exception becomes a fatal finding naming the check."""
    found: list[Finding] = []
    try:
        found.extend(check.run(layout))
    except Exception as exc:  # noqa: BLE001 - a check's bug must not stop the others (never raise for bad data)
        # Only the exception's type: its text may quote patient data.
        found.append(
            Finding(
                check.id,
                Severity.FATAL,
                f"the {check.id} check stopped with an internal error ({type(exc).__name__}); "
                "its findings are incomplete: run it again with --verbose and report the error",
            )
        )
    return found


def _settle(check: Check, default: Check, found: list[Finding]) -> tuple[list[Finding], dict[str, Any]]:
    """Apply the severity and threshold in force; return the findings and the check's outcome."""
    if check.severity is not default.severity:
        found = [replace(f, severity=check.severity) if f.severity is default.severity else f for f in found]
    counted = _count(found)
    if check.threshold is not None and 0 < counted <= check.threshold:
        note = f" (tolerated: {counted} within the threshold of {check.threshold} {check.unit})"
        found = [
            replace(f, severity=Severity.INFO, message=f.message + note) if f.severity in _COUNTED else f for f in found
        ]
    worst = min((f.severity for f in found), key=_ORDER.index, default=Severity.INFO)
    failed = worst in (Severity.FATAL, Severity.ERROR, Severity.WARNING)
    outcome: dict[str, Any] = {
        "id": check.id,
        "title": check.title,
        "rule": check.rule,
        "status": "failed" if failed else "passed",
        "severity": worst.value if failed else None,
        "counted": counted,
        "threshold": check.threshold,
        "unit": check.unit if check.threshold is not None else None,
        "findings": len(found),
    }
    return found, outcome


def run_checks(
    layout: PackageLayout,
    checks: Sequence[Check],
    settings: CheckSettings | None = None,
    *,
    progress: ProgressReporter | None = None,
) -> ValidationReport:
    """Run ``checks`` over the package in ``layout``; every check to the end.

    Returns:
        The report: at most ``settings.max_listed`` findings per check, a summary finding for the
        rest, and one outcome per check (``report.outcomes``).
    """
    settings = settings or CheckSettings()
    progress = progress or NullProgress()
    report = ValidationReport(archive=str(layout.root))
    progress.start(len(checks), "validating")
    for default in checks:
        check = settings.apply(default)
        found, outcome = _settle(check, default, _run_one(check, layout))
        listed = found[: settings.max_listed]
        if len(found) > len(listed):
            hidden = found[len(listed) :]
            worst = min((f.severity for f in hidden), key=_ORDER.index)
            listed.append(Finding(check.id, worst, f"{len(hidden)} more finding(s) of this check not listed"))
        report.findings.extend(listed)
        report.checks_run.append(check.id)
        report.outcomes.append(outcome)
        progress.advance(1, check.title)
    progress.finish()
    return report


def failed_checks(report: ValidationReport) -> set[str]:
    """Return the ids of the checks that failed (a finding above info)."""
    return {f.check for f in report.findings if f.severity is not Severity.INFO}


def catalogue_markdown(checks: Sequence[Check]) -> str:
    """Return docs/checks.md: the catalogue as a table, with the config file format."""
    lines = [
        "# The check catalogue",
        "",
        "<!-- Generated from validation/checks.py by `python tests/test_catalogue.py`; do not edit. -->",
        "",
        "`journalkonvert validate ARCHIVE` runs every check below, in this order, to the end. A check",
        "*fails* when it has a finding of its severity; where it counts records, it fails only when more",
        "records offend than its threshold allows (findings within the threshold are listed as `info`).",
        "`fatal` and `error` make the package invalid (exit code 4); `warning` and `info` do not.",
        f"At most {MAX_LISTED} findings are listed per check (`max_listed`); all are counted.",
        "A check that stops with an internal error gives one `fatal` finding naming it; the others still run.",
        "",
        "| id | title | severity | default threshold | rule served |",
        "| --- | --- | --- | --- | --- |",
    ]
    for c in checks:
        threshold = "—" if c.threshold is None else f"{c.threshold} {c.unit}"
        lines.append(f"| `{c.id}` | {c.title} | {c.severity.value} | {threshold} | {c.rule} |")
    lines += ["", "## What each check looks at", ""]
    lines += [f"- `{c.id}`: {(c.run.__doc__ or c.title).strip().splitlines()[0]}" for c in checks]
    lines += ["", "## Why the default thresholds", ""]
    lines += [f"- `{c.id}`: {c.why}" for c in checks if c.threshold is not None and c.why]
    lines += [
        "",
        "## Changing thresholds: `--checks-config FILE`",
        "",
        "TOML (`.toml`) or YAML (`.yaml`, `.yml`). Only `max_listed` and, per check id, `threshold`",
        "(a whole number >= 0, in the check's unit) and `severity` (`fatal`, `error`, `warning`, `info`)",
        "can be set; an unknown key, check id or value is an error (exit code 2) naming all problems.",
        "",
        "```toml",
        "max_listed = 50",
        "",
        "[checks.identifiers]",
        "threshold = 5",
        'severity = "error"',
        "",
        "[checks.access_log]",
        'severity = "error"',
        "```",
        "",
        "```yaml",
        "max_listed: 50",
        "checks:",
        "  identifiers: {threshold: 5, severity: error}",
        "```",
        "",
        "`journalkonvert validate archive/ --checks-config checks.toml`",
        "",
    ]
    return "\n".join(lines)
