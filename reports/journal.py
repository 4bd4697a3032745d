"""One patient's journal, chronological, assembled from the package's tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from formats.errors import ConversionError
from formats.model import TABLES
from formats.package import PackageLayout
from reports.query import connect

DISPLAY_TIMEZONE = ZoneInfo("Europe/Oslo")
"""Times are shown as the clinic saw them; the package stores UTC instants."""

# table -> (time column, summary SQL expression)
ENTRY_SQL: dict[str, tuple[str, str]] = {
    "encounter": (
        "start_at",
        "concat_ws(' ', encounter_type_display, '(' || encounter_class_code || ')', '— ' || reason_display)",
    ),
    "diagnosis": ("onset_at", "concat_ws(' ', diagnosis_display, '[' || diagnosis_code || ']')"),
    "critical_info": ("registered_at", "concat_ws(' ', agent_display, '→ ' || reaction_display, severity)"),
    "medication": ("start_at", "concat_ws(' ', drug_display, '[' || drug_code || ']', dosage_text)"),
    "prescription": ("issued_at", "concat_ws(' ', drug_display, dosage_text)"),
    "lab_result": ("observed_at", "concat_ws(' ', analysis_display, '=', value_text, value_unit)"),
    "measurement": ("observed_at", "concat_ws(' ', measurement_type_display, '=', value_text, value_unit)"),
    "immunization": ("administered_at", "concat_ws(' ', vaccine_display, '[' || vaccine_code || ']')"),
    "procedure": ("start_at", "concat_ws(' ', procedure_display, '[' || procedure_code || ']')"),
    "journal_note": ("recorded_at", "concat_ws(': ', heading, text)"),
    "referral": ("sent_at", "concat_ws(' ', recipient_name, reason_display)"),
    "certificate": ("issued_at", "concat_ws(' ', certificate_type_display, diagnosis_display)"),
    "appointment": ("start_at", "concat_ws(' ', appointment_type_display, status)"),
    "billing": ("service_at", "concat_ws(' ', 'claim', status, diagnosis_code)"),
    "document": ("document_date", "concat_ws(' ', title, mime_type)"),
}


@dataclass
class JournalEntry:
    """One line of the journal."""

    when: datetime | date | None
    category: str
    text: str
    source_ref: str


@dataclass
class PatientJournal:
    """A patient's identity, critical information and chronological entries."""

    patient: dict[str, Any]
    cave: list[JournalEntry] = field(default_factory=list)
    entries: list[JournalEntry] = field(default_factory=list)


class PatientNotFoundError(ConversionError):
    """No patient matches the given id."""


def load_journal(layout: PackageLayout, patient: str) -> PatientJournal:
    """Return the journal of the patient whose patient_id or identifier is ``patient``.

    Raises:
        PatientNotFoundError: when no patient matches.
    """
    con = connect(layout)
    try:
        tables = set(layout.canonical_tables())
        if "patient" not in tables:
            raise PatientNotFoundError("the package has no patient table", hint="was the conversion complete?")
        cur = con.execute(
            "SELECT * FROM patient WHERE patient_id = ? OR identifier_value = ? LIMIT 2", [patient, patient]
        )
        names = [d[0] for d in cur.description or []]
        rows = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        if not rows:
            raise PatientNotFoundError(
                "no patient with that id or identifier in the package",
                hint="list some with: journalkonvert query ARCHIVE "
                '"select patient_id, birth_date from patient limit 10"',
            )
        person = rows[0]
        journal = PatientJournal(patient=person)
        pid = person["patient_id"]
        for name, (when, summary) in ENTRY_SQL.items():
            if name not in tables or name not in TABLES:
                continue
            result = con.execute(
                f"SELECT {when} AS w, {summary} AS s, source_ref FROM {name} WHERE patient_id = ? "
                f"ORDER BY {when} NULLS LAST, record_id",
                [pid],
            ).fetchall()
            for w, s, ref in result:
                entry = JournalEntry(_local(w), name, s or "", ref)
                (journal.cave if name == "critical_info" else journal.entries).append(entry)
        journal.entries.sort(key=lambda e: (_sort_key(e.when), e.category))
        return journal
    finally:
        con.close()


def _local(value: datetime | date | None) -> datetime | date | None:
    """Show instants in Norwegian time (the package stores UTC); dates stay as they are."""
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(DISPLAY_TIMEZONE)
    return value


def _sort_key(value: datetime | date | None) -> str:
    if value is None:
        return "9999"
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).isoformat()
    return value.isoformat()
