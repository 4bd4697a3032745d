"""The one report model: a JSON-ready dict built from a package, rendered as JSON, HTML and PDF/A.

``build_report`` reads the package (ledger, rejects, documents, logs, mapping) and a validation
report, and answers the six questions every clinic should ask before changing journal system
(DESIGN.md) with evidence. It holds counts, codes and masked examples only: never a name, a note
text or an unmasked identifier. The model is deterministic for a given package: no times, hosts or
paths of the run. ``docs/report.md`` describes every section; ``reports/report_schema.json`` is its
published JSON Schema.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from formats.ledger import EXCLUDE_REASONS, REJECT_REASONS
from formats.model import MODEL_VERSION
from formats.package import LEDGER_DIR, REJECTS_DIR, REPORT_DIR, PackageLayout
from formats.privacy import mask_identifier, mask_text
from formats.table_sink import sql_string
from reports.report_archive import access_logs, archivist_section, document_statuses
from reports.retrieval_guide import retrieval_guide

if TYPE_CHECKING:
    import duckdb

    from validation.findings import ValidationReport

__all__ = ["REPORT_VERSION", "RunFacts", "build_report", "run_facts", "stored_facts"]

REPORT_VERSION = 2
EXAMPLES_PER_REASON = 3
FATES = ("converted", "preserved", "rejected", "excluded")
TEXT_AUDIT_NOTE = (
    "per source column: text values read, decoded with a fallback encoding, repaired (double-encoded UTF-8) and "
    "still suspicious; details in ledger/text_audit, original bytes of every decoded or repaired value in "
    "ledger/text_repairs"
)


@dataclass(frozen=True)
class RunFacts:
    """What only the run knows (kept in data/report/report.json for later reports)."""

    run_id: str
    mapping_file: str
    source_timezone: str = "Europe/Oslo"
    notes: list[dict[str, str]] = field(default_factory=list)
    text_audit: dict[str, Any] = field(default_factory=dict)


class ConversionSummary(Protocol):
    """What the report needs of a conversion result (``ConversionResult`` has it)."""

    run_id: str
    notes: list[dict[str, str]]
    source_timezone: str
    mapping_file: str


def run_facts(result: ConversionSummary) -> RunFacts:
    """Return the facts of a finished conversion result."""
    return RunFacts(
        run_id=result.run_id,
        mapping_file=result.mapping_file,
        source_timezone=result.source_timezone,
        notes=list(result.notes),
        text_audit=dict(getattr(result, "text_audit", {}) or {}),
    )


def stored_facts(layout: PackageLayout) -> RunFacts:
    """Return the run's facts as kept in the package (the report written at conversion time, or bag-info)."""
    stored: dict[str, Any] = {}
    path = layout.dir(REPORT_DIR) / "report.json"
    if path.is_file():
        try:
            stored = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            stored = {}
    audit = {k: v for k, v in (stored.get("text_audit") or {}).items() if k != "note"}
    run_id = stored.get("run_id") or _bag_info(layout).get("External-Identifier", "")
    return RunFacts(
        run_id=str(run_id),
        mapping_file=str(stored.get("mapping_file") or ""),
        source_timezone=str((stored.get("timestamps") or {}).get("source_timezone") or "Europe/Oslo"),
        notes=list(stored.get("notes") or []),
        text_audit=audit,
    )


def _bag_info(layout: PackageLayout) -> dict[str, str]:
    path = layout.root / "bag-info.txt"
    if not path.is_file():
        return {}
    info: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        key, sep, value = line.partition(":")
        if sep and not line[:1].isspace():
            info[key.strip()] = value.strip()
    return info


def _summary(layout: PackageLayout) -> dict[str, Any]:
    path = layout.dir(LEDGER_DIR) / "summary.json"
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"tables": [], "totals": dict.fromkeys(("source_rows", *FATES), 0), "categories": {}}
    return loaded


def reconciliation(summary: dict[str, Any]) -> dict[str, Any]:
    """Return the reconciliation: per source table and per canonical category, and the totals."""
    tables = []
    by_category: dict[str, dict[str, Any]] = {}
    for t in summary.get("tables", []):
        row = {k: int(t.get(k, 0)) for k in ("source_rows", *FATES)}
        row["balanced"] = row["source_rows"] == sum(row[k] for k in FATES)
        targets = {str(k): int(v) for k, v in sorted((t.get("targets") or {}).items())}
        tables.append(
            {
                "source_table": str(t.get("source_table")),
                **row,
                "targets": targets,
                "reasons": dict(sorted((t.get("reasons") or {}).items())),
                "flags": dict(sorted((t.get("flags") or {}).items())),
            }
        )
        for name, n in targets.items():
            entry = by_category.setdefault(name, {"category": name, "rows": 0, "from": {}})
            entry["from"][str(t.get("source_table"))] = n
    for name, rows in (summary.get("categories") or {}).items():
        by_category.setdefault(name, {"category": name, "rows": 0, "from": {}})["rows"] = int(rows)
    totals = {k: int((summary.get("totals") or {}).get(k, 0)) for k in ("source_rows", *FATES)}
    totals_balanced = totals["source_rows"] == sum(totals[k] for k in FATES)
    return {
        "invariant": "source_rows = converted + preserved + rejected + excluded",
        "balanced": bool(summary.get("balanced", True)) and totals_balanced and all(t["balanced"] for t in tables),
        "totals": totals,
        "source_tables": sorted(tables, key=lambda t: t["source_table"]),
        "categories": sorted(by_category.values(), key=lambda c: c["category"]),
    }


def _connection() -> duckdb.DuckDBPyConnection:
    from validation.checks import bounded_connection  # noqa: PLC0415 - DuckDB set-up shared with validation

    return bounded_connection()


def _masked_value(raw_record: str | None, column: str | None) -> str:
    """Return the rejected value of ``column`` masked (first characters only), or '' when unknown."""
    if not raw_record or not column:
        return ""
    try:
        record = json.loads(raw_record)
    except ValueError:
        return ""
    value = record.get(column) if isinstance(record, dict) else None
    return mask_identifier(str(value)) if value not in (None, "") else ""


def rejected_by_reason(layout: PackageLayout) -> list[dict[str, Any]]:
    """Return the rejected records grouped by reason: count, description, source tables and masked examples."""
    path = layout.dir(REJECTS_DIR) / "rejects.parquet"
    if not path.is_file():
        return []
    con = _connection()
    src = f"read_parquet({sql_string(path)})"
    groups = con.execute(
        f"SELECT reason_code, count(*)::BIGINT, list_sort(list(DISTINCT source_table)) FROM {src} "
        "GROUP BY 1 ORDER BY 2 DESC, 1"
    ).fetchall()
    out = []
    for code, n, tables in groups:
        examples = con.execute(
            f"SELECT source_table, row_number, rule, field, raw_record FROM {src} WHERE reason_code = ? "
            f"ORDER BY source_table, row_number NULLS LAST, source_ref LIMIT {EXAMPLES_PER_REASON}",
            [code],
        ).fetchall()
        out.append(
            {
                "reason": str(code),
                "description": REJECT_REASONS.get(str(code), ""),
                "count": int(n),
                "source_tables": [str(t) for t in tables],
                "examples": [
                    {
                        "source_table": str(t),
                        "row_number": int(r) if r is not None else None,
                        "rule": mask_text(str(rule or "")),
                        "field": str(f or ""),
                        "value_masked": _masked_value(raw, f),
                    }
                    for t, r, rule, f, raw in examples
                ],
            }
        )
    con.close()
    return out


def excluded_by_reason(layout: PackageLayout) -> list[dict[str, Any]]:
    """Return the excluded records grouped by reason code and rule (rules come from the mapping, not the data)."""
    path = layout.dir(LEDGER_DIR) / "records.parquet"
    if not path.is_file():
        return []
    con = _connection()
    rows = con.execute(
        f"SELECT coalesce(reason_code, ''), coalesce(rule, ''), source_table, count(*)::BIGINT "
        f"FROM read_parquet({sql_string(path)}) WHERE fate = 'excluded' GROUP BY ALL ORDER BY 4 DESC, 3, 2"
    ).fetchall()
    con.close()
    return [
        {
            "reason": str(code),
            "description": EXCLUDE_REASONS.get(str(code), ""),
            "rule": mask_text(str(rule)),
            "source_table": str(table),
            "count": int(n),
        }
        for code, rule, table, n in rows
    ]


def findings_section(validation: ValidationReport | None, *, skipped: tuple[str, ...] = ()) -> dict[str, Any]:
    """Return the validation findings (messages masked), per check and per severity."""
    from validation.checks import CHECKS  # noqa: PLC0415 - validation stands beside reports

    findings = [{**f.to_dict(), "message": mask_text(f.message)} for f in (validation.findings if validation else [])]
    run = list(validation.checks_run) if validation else []
    outcomes = {o["id"]: o for o in (getattr(validation, "outcomes", None) or [])}
    checks = []
    for check in CHECKS:
        own = [f for f in findings if f["check"] == check.id]
        bad = [f for f in own if f["severity"] in ("fatal", "error", "warning")]
        outcome = outcomes.get(check.id, {})
        status = "skipped" if check.id not in run else str(outcome.get("status") or ("failed" if bad else "passed"))
        threshold = outcome.get("threshold", getattr(check, "threshold", None))
        checks.append(
            {
                "id": check.id,
                "title": check.title,
                "rule": check.rule,
                "severity": str(getattr(check, "severity", "error")),
                "status": status,
                "findings": len(own),
                "counted": int(outcome.get("counted") or 0),
                "threshold": int(threshold) if threshold is not None else None,
                "unit": str(getattr(check, "unit", "records")),
            }
        )
    counts = {s: sum(1 for f in findings if f["severity"] == s) for s in ("fatal", "error", "warning", "info")}
    return {
        "valid": bool(validation.valid) if validation else False,
        "counts": counts,
        "checks": checks,
        "skipped": list(skipped),
        "findings": findings,
    }


def _questions(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Answer the six questions (DESIGN.md, 'Who uses it') with the evidence the report holds."""
    rec = report["reconciliation"]
    totals = rec["totals"]
    converted_categories = [c["category"] for c in rec["categories"] if c["rows"]]
    not_converted = totals["preserved"] + totals["rejected"] + totals["excluded"]
    logs = report["access_logs"]
    archivist = report["archivist"]
    guide = report["retrieval_guide"]
    mapping_files = archivist["documentation"]["mapping_files"]
    answer_1 = "yes" if totals["converted"] and rec["balanced"] else ("partly" if totals["converted"] else "no")
    return [
        {
            "id": "converted",
            "answer": answer_1,
            "evidence": {
                "source_records": totals["source_rows"],
                "converted": totals["converted"],
                "balanced": rec["balanced"],
            },
            "see": "reconciliation",
        },
        {
            "id": "which",
            "answer": "all" if not not_converted else "partly",
            "evidence": {
                "categories": converted_categories,
                "preserved": totals["preserved"],
                "rejected": totals["rejected"],
                "excluded": totals["excluded"],
                "reject_reasons": [r["reason"] for r in report["rejected"]],
            },
            "see": "rejects",
        },
        {
            "id": "retrieval",
            "answer": "yes" if guide["entries"] else "partly",
            "evidence": {"guide_entries": len(guide["entries"]), "query_command": "journalkonvert query"},
            "see": "retrieval",
        },
        {
            "id": "documentation",
            "answer": "yes" if mapping_files else "partly",
            "evidence": {"mapping_files": mapping_files, **archivist["documentation"]["files"]},
            "see": "mapping",
        },
        {
            "id": "format",
            "answer": "yes" if archivist["formats_on_archival_list"] else "partly",
            "evidence": {
                "formats": [f["format"] for f in archivist["formats"]],
                "checks": {
                    c["id"]: c["status"]
                    for c in report["validation"]["checks"]
                    if c["id"] in ("twins", "documents", "fixity", "description")
                },
            },
            "see": "archivist",
        },
        {
            "id": "logs",
            "answer": logs["answer"],
            "evidence": {k: v for k, v in logs.items() if k != "answer"},
            "see": "logs",
        },
    ]


def build_report(
    layout: PackageLayout,
    facts: RunFacts,
    validation: ValidationReport | None,
    *,
    tool_version: str,
    skipped_checks: tuple[str, ...] = (),
    sealed: bool = True,
) -> dict[str, Any]:
    """Build the report model of the package at ``layout``.

    Args:
        layout: the package (a sealed bag, or the draft at conversion time with ``sealed=False``).
        facts: what the run knows (``run_facts(result)`` or ``stored_facts(layout)``).
        validation: the findings of ``validate`` (or of the checks that can run on a draft).
        tool_version: the version of journalkonvert writing the report.
        skipped_checks: ids of checks not run (at conversion time: fixity, since the bag is sealed later).
        sealed: whether the bag's manifests exist yet.

    Returns:
        A JSON-ready dict that validates against ``reports/report_schema.json``.
    """
    summary = _summary(layout)
    rec = reconciliation(summary)
    report: dict[str, Any] = {
        "report_version": REPORT_VERSION,
        "model_version": MODEL_VERSION,
        "tool_version": tool_version,
        "run_id": facts.run_id,
        "system": _system(layout, facts),
        "mapping_file": facts.mapping_file,
        "converted_tables": {c["category"]: c["rows"] for c in rec["categories"] if c["rows"]},
        "reconciliation": rec,
        "ledger": summary,
        "rejected": rejected_by_reason(layout),
        "excluded": excluded_by_reason(layout),
        "notes": [{k: mask_text(str(v)) for k, v in n.items()} for n in facts.notes],
        "text_audit": {**facts.text_audit, "note": TEXT_AUDIT_NOTE},
        "timestamps": {
            "stored_as": "UTC instants",
            "source_timezone": facts.source_timezone,
            "note": f"times written without an offset in the source were read as {facts.source_timezone} time",
        },
        "documents": document_statuses(layout),
        "access_logs": access_logs(layout),
        "validation": findings_section(validation, skipped=skipped_checks),
        "retrieval_guide": retrieval_guide(layout, facts.mapping_file),
        "archivist": archivist_section(layout, sealed=sealed),
    }
    report["questions"] = _questions(report)
    return report


def _system(layout: PackageLayout, facts: RunFacts) -> str:
    stem = facts.mapping_file.rsplit(".", 1)[0] if facts.mapping_file else ""
    return stem or _bag_info(layout).get("External-Description", "")


def validate_draft(layout: PackageLayout) -> tuple[ValidationReport, tuple[str, ...]]:
    """Run every check that can run before the bag is sealed (all but fixity); return findings and skipped ids.

    Used at conversion time: the report inside the package must not depend on where or when it was
    made, and the manifests that fixity checks do not exist yet.
    """
    from validation.catalogue import run_checks  # noqa: PLC0415
    from validation.checks import CHECKS  # noqa: PLC0415

    skipped = tuple(c.id for c in CHECKS if c.id in BAG_CHECKS)
    report = run_checks(layout, [c for c in CHECKS if c.id not in skipped])
    report.archive = ""
    return report, skipped


BAG_CHECKS = frozenset({"fixity"})
"""Checks that need the sealed bag (manifests), so cannot run at conversion time."""
