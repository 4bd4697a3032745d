"""Plausibility checks: ``dates`` (not before birth, not after death or the run) and ``duplicates``."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pyarrow as pa

from formats.model import LINEAGE, TABLES
from formats.package import AUDIT_FILE, PackageLayout
from formats.table_sink import sql_string
from validation.findings import Finding, Severity
from validation.integrity import bounded_connection, usable_tables

NOT_EVENTS = frozenset({"expires_at", "valid_to", "period_end", "end_at", "resolved_at", "delivery_status_at"})
"""Date columns that may lie in the future or after death by nature (planned ends, expiry)."""
AFTER_DEATH_ALLOWED = frozenset({"access_log", "disclosure_log", "billing", "message", "document"})
"""Tables whose rows may be made after the patient's death (reading, billing, letters received)."""
SLACK_DAYS = 1
"""Times are stored in UTC and birth/death are dates: a day's slack keeps time zones out of the findings."""


def run_time(layout: PackageLayout) -> dt.datetime:
    """Return when the conversion ran: the audit record's finished_at, else bag-info's Bagging-Date, else now."""
    audit = layout.root / AUDIT_FILE
    try:
        value = json.loads(audit.read_text(encoding="utf-8")).get("finished_at")
        when = dt.datetime.fromisoformat(str(value))
        if when.tzinfo is not None:
            return when
    except (OSError, ValueError, AttributeError):
        pass
    try:
        for line in (layout.root / "bag-info.txt").read_text(encoding="utf-8").splitlines():
            if line.startswith("Bagging-Date:"):
                day = dt.date.fromisoformat(line.split(":", 1)[1].strip())
                return dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
    except (OSError, ValueError):
        pass
    return dt.datetime.now(dt.UTC)


def _event_columns(name: str) -> list[str]:
    spec = TABLES[name]
    return [
        f.name
        for f in spec.fields
        if f.name not in NOT_EVENTS and (pa.types.is_timestamp(f.type) or pa.types.is_date(f.type))
    ]


def check_dates(layout: PackageLayout) -> Iterator[Finding]:
    """Count dated rows before the patient's birth, after the patient's death, or after the conversion ran."""
    patient = layout.table("patient")
    con = bounded_connection()
    ran = run_time(layout)
    usable = usable_tables(layout)
    has_patients = "patient" in usable
    for name in usable:
        if name == "patient":
            continue
        columns = _event_columns(name)
        scoped = TABLES[name].patient_scoped and has_patients
        t = sql_string(layout.table(name))
        for col in columns:
            c = f't."{col}"'
            death = "false" if name in AFTER_DEATH_ALLOWED else f"{c}::DATE > p.death_date + {SLACK_DAYS}"
            join = f"LEFT JOIN read_parquet({sql_string(patient)}) p ON t.patient_id = p.patient_id" if scoped else ""
            birth = f"{c}::DATE < p.birth_date - {SLACK_DAYS}" if scoped else "false"
            death = death if scoped else "false"
            row = con.execute(
                f"SELECT count(*) FILTER (WHERE {birth}), min(t.source_ref) FILTER (WHERE {birth}), "
                f"count(*) FILTER (WHERE {death}), min(t.source_ref) FILTER (WHERE {death}), "
                f"count(*) FILTER (WHERE {c} > ?::TIMESTAMPTZ), min(t.source_ref) FILTER (WHERE {c} > ?::TIMESTAMPTZ) "
                f"FROM read_parquet({t}) t {join}",
                [ran.isoformat(), ran.isoformat()],
            ).fetchone()
            if row is None:
                continue
            for (n, first), what in zip(
                ((row[0], row[1]), (row[2], row[3]), (row[4], row[5])),
                (
                    "before the patient's birth",
                    "after the patient's death",
                    f"after the conversion ran ({ran:%Y-%m-%d})",
                ),
                strict=True,
            ):
                if n:
                    yield Finding(
                        "dates",
                        Severity.WARNING,
                        f"{name}.{col}: {n} row(s) dated {what} (first: {first})",
                        table=name,
                        count=int(n),
                    )


_SKIP = frozenset({"record_id", *(f.name for f in LINEAGE)})


def check_duplicates(layout: PackageLayout) -> Iterator[Finding]:
    """Count rows that repeat another row of the same table in every column except the lineage."""
    con = bounded_connection()
    for name in usable_tables(layout):
        columns = [f'"{c}"' for c in TABLES[name].field_names() if c not in _SKIP]
        row = con.execute(
            f"SELECT count(*), sum(n - 1), min(ref) FROM (SELECT count(*) AS n, min(source_ref) AS ref "
            f"FROM read_parquet({sql_string(layout.table(name))}) GROUP BY {', '.join(columns)}) WHERE n > 1"
        ).fetchone()
        if row and row[0]:
            yield Finding(
                "duplicates",
                Severity.WARNING,
                f"{name}: {int(row[1])} row(s) repeat another row in every column but their lineage "
                f"({int(row[0])} group(s); first: {row[2]})",
                table=name,
                count=int(row[1]),
            )
