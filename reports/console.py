"""Terminal rendering with rich: conversion results, validation reports, journals, query results.

The only module of the library that imports rich.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.csv as pcsv
from rich.console import Console
from rich.table import Table

from formats.privacy import mask_identifier
from reports.journal import PatientJournal
from validation.findings import Severity, ValidationReport

LABELS: dict[str, dict[str, str]] = {
    "nb": {
        "patient": "Pasient",
        "born": "Født",
        "died": "Død",
        "sex": "Kjønn",
        "id": "Identifikator",
        "cave": "CAVE / kritisk informasjon",
        "none": "ingen registrert",
        "timeline": "Journal (kronologisk)",
        "when": "Tid",
        "what": "Kategori",
        "entry": "Innhold",
        "source": "Kilde",
        "valid": "Pakken er gyldig",
        "invalid": "Pakken er IKKE gyldig",
        "findings": "Funn",
        "table": "Kildetabell",
        "read": "lest",
        "converted": "konvertert",
        "preserved": "bevart rå",
        "rejected": "avvist",
        "excluded": "utelatt",
        "balanced": "balanserer",
    },
    "en": {
        "patient": "Patient",
        "born": "Born",
        "died": "Died",
        "sex": "Sex",
        "id": "Identifier",
        "cave": "CAVE / critical information",
        "none": "none recorded",
        "timeline": "Journal (chronological)",
        "when": "When",
        "what": "Category",
        "entry": "Entry",
        "source": "Source",
        "valid": "The package is valid",
        "invalid": "The package is NOT valid",
        "findings": "Findings",
        "table": "Source table",
        "read": "read",
        "converted": "converted",
        "preserved": "preserved raw",
        "rejected": "rejected",
        "excluded": "excluded",
        "balanced": "balances",
    },
}
SEVERITY_STYLE = {Severity.FATAL: "bold red", Severity.ERROR: "red", Severity.WARNING: "yellow", Severity.INFO: "cyan"}


def _fmt(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and value.tzinfo is not None and value.tzinfo is not UTC:
        return value.strftime("%Y-%m-%d %H:%M")  # local time (reports.journal shows Europe/Oslo)
    if hasattr(value, "isoformat"):
        text: str = value.isoformat()
        return text.replace("T", " ").replace("+00:00", "Z")
    return str(value)


def render_journal(console: Console, journal: PatientJournal, lang: str = "nb") -> None:
    """Print a patient's journal: identity, CAVE first, then every entry in time order."""
    t = LABELS[lang]
    p = journal.patient
    name = " ".join(x for x in (p.get("given_name"), p.get("family_name")) if x)
    console.rule(f"[bold]{t['patient']}: {name}")
    console.print(
        f"{t['id']}: {mask_identifier(p.get('identifier_value'))} ({p.get('identifier_type') or '-'})  "
        f"patient_id: {p.get('patient_id')}"
    )
    console.print(
        f"{t['born']}: {_fmt(p.get('birth_date'))}  {t['sex']}: {p.get('sex_code') or '-'}"
        + (f"  {t['died']}: {_fmt(p.get('death_date'))}" if p.get("death_date") else "")
    )
    console.rule(f"[bold red]{t['cave']}")
    if not journal.cave:
        console.print(t["none"])
    for e in journal.cave:
        console.print(f"[red]•[/red] {_fmt(e.when)[:10]}  {e.text}")
    table = Table(title=t["timeline"], show_lines=False, expand=True)
    table.add_column(t["when"], no_wrap=True)
    table.add_column(t["what"], no_wrap=True)
    table.add_column(t["entry"])
    for e in journal.entries:
        table.add_row(_fmt(e.when)[:16], e.category, e.text)
    console.print(table)


def render_validation(console: Console, report: ValidationReport, lang: str = "nb") -> None:
    """Print a validation report: verdict, then findings by severity."""
    t = LABELS[lang]
    verdict = f"[bold green]{t['valid']}" if report.valid else f"[bold red]{t['invalid']}"
    console.print(f"{verdict}  ({report.archive})")
    counts = report.counts()
    console.print(", ".join(f"{k}: {v}" for k, v in counts.items()) + f"   checks: {', '.join(report.checks_run)}")
    for o in report.outcomes:  # the catalogue's verdict per check, with the threshold in force (docs/checks.md)
        if o["status"] == "failed":
            over = o["threshold"] is not None and o["counted"] > o["threshold"]
            limit = f", {o['counted']} > {o['threshold']} {o['unit']}" if over else ""
            console.print(f"  {'feilet' if lang == 'nb' else 'failed'}: [bold]{o['id']}[/] ({o['severity']}{limit})")
    order = list(Severity)
    for f in sorted(report.findings, key=lambda f: order.index(f.severity)):
        console.print(f"[{SEVERITY_STYLE[f.severity]}]{f.severity.value:<7}[/] [{f.check}] {f.message}")


def render_ledger(console: Console, ledger: dict[str, Any], lang: str = "nb") -> None:
    """Print the reconciliation: per source table, read = converted + preserved + rejected + excluded."""
    t = LABELS[lang]
    table = Table(title="source = converted + preserved + rejected + excluded")
    for key in ("table", "read", "converted", "preserved", "rejected", "excluded", "balanced"):
        table.add_column(t[key], justify="left" if key == "table" else "right")
    for row in ledger["tables"]:
        table.add_row(
            row["source_table"],
            *(str(row[k]) for k in ("source_rows", "converted", "preserved", "rejected", "excluded")),
            "✓" if row["balanced"] else "✗",
        )
    tot = ledger["totals"]
    table.add_row(
        "[bold]Σ",
        *(f"[bold]{tot[k]}" for k in ("source_rows", "converted", "preserved", "rejected", "excluded")),
        "✓" if ledger["balanced"] else "✗",
    )
    console.print(table)


def format_result(result: pa.Table, output_format: str) -> str:
    """Return a query result as csv or json text."""
    if output_format == "json":
        return json.dumps(result.to_pylist(), ensure_ascii=False, default=_fmt, indent=1)
    sink = pa.BufferOutputStream()
    pcsv.write_csv(result, sink, write_options=pcsv.WriteOptions(quoting_style="needed"))
    return str(sink.getvalue().to_pybytes().decode("utf-8"))


def render_query(console: Console, result: pa.Table) -> None:
    """Print a query result as a table."""
    table = Table(show_lines=False)
    for name in result.column_names:
        table.add_column(name)
    for row in result.to_pylist():
        table.add_row(*(_fmt(v) for v in row.values()))
    console.print(table)
    console.print(f"({result.num_rows} row{'s' if result.num_rows != 1 else ''})", style="dim")
