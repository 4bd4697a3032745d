"""One patient's whole journal as a PDF/A-2b printout (``journalkonvert show ARCHIVE --patient ID --pdf FILE``).

Order: demographics, CAVE (critical information) first in a red frame, then the contacts
(encounters) in time order, each with its journal notes in full; notes without a contact; then
diagnoses, medications, prescriptions, lab results, measurements, immunizations, procedures,
referrals and the documents, each as a table in time order. Code texts are shown beside the codes
(``text (code)``). Times are shown in Europe/Oslo. Labels are Norwegian bokmål by default,
English with ``lang="en"``.

The data come from the package's Parquet tables through DuckDB, filtered by patient; the page is
built with :class:`formats.message_render_page.Page` and rendered offline by
:func:`formats.pdf_html.render_html`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from formats.message_render_page import Page
from formats.pdf_html import render_html
from reports.journal import PatientNotFoundError
from reports.query import connect

if TYPE_CHECKING:
    import duckdb

    from formats.package import PackageLayout

OSLO = ZoneInfo("Europe/Oslo")

LABELS: dict[str, tuple[str, str]] = {
    "title": ("Journalutskrift", "Journal printout"),
    "meta": (
        "Utskrift fra arkivpakken laget av journalkonvert. Tider i norsk tid (Europe/Oslo).",
        "Printout from the archive package made by journalkonvert. Times in Norwegian time (Europe/Oslo).",
    ),
    "patient": ("Pasient", "Patient"),
    "name": ("Navn", "Name"),
    "identifier": ("Identifikator", "Identifier"),
    "birth": ("Født", "Born"),
    "death": ("Død", "Died"),
    "sex": ("Kjønn", "Sex"),
    "address": ("Adresse", "Address"),
    "phone": ("Telefon", "Phone"),
    "patient_id": ("Pasient-id i pakken", "Patient id in the package"),
    "cave": ("CAVE og kritisk informasjon", "CAVE and critical information"),
    "no_cave": ("Ingen registrert kritisk informasjon.", "No critical information recorded."),
    "contacts": ("Kontakter og journalnotater", "Contacts and journal notes"),
    "no_contacts": ("Ingen kontakter registrert.", "No contacts recorded."),
    "loose_notes": ("Journalnotater uten kontakt", "Journal notes without a contact"),
    "note": ("Notat", "Note"),
    "recorded": ("skrevet", "recorded"),
    "signed": ("signert", "signed"),
}

# table -> (title nb, title en, time column, [(label nb, label en, SQL expression)])
SECTIONS: list[tuple[str, str, str, str, list[tuple[str, str, str]]]] = [
    ("critical_info", "CAVE", "CAVE", "registered_at", [
        ("Type", "Type", "concat_ws(' ', info_type_display, '(' || info_type_code || ')', category)"),
        ("Agens", "Agent", "concat_ws(' ', agent_display, '(' || agent_code || ')')"),
        ("Reaksjon", "Reaction", "concat_ws(' ', reaction_display, '(' || reaction_code || ')')"),
        ("Alvorlighet", "Severity", "concat_ws(', ', severity, certainty)"),
        ("Status", "Status", "concat_ws(' ', status, 'til ' || CAST(ended_at AS VARCHAR))"),
    ]),
    ("diagnosis", "Diagnoser", "Diagnoses", "coalesce(onset_at, recorded_at)", [
        ("Diagnose", "Diagnosis", "concat_ws(' ', diagnosis_display, '(' || diagnosis_code || ')')"),
        ("Rolle", "Role", "role"),
        ("Sikkerhet", "Certainty", "certainty"),
        ("Avsluttet", "Resolved", "CAST(resolved_at AS VARCHAR)"),
    ]),
    ("medication", "Legemiddelliste", "Medication list", "start_at", [
        ("Legemiddel", "Drug", "concat_ws(' ', drug_display, '(' || drug_code || ')', 'ATC ' || atc_code)"),
        ("Dosering", "Dosage", "dosage_text"),
        ("Til", "Until", "CAST(end_at AS VARCHAR)"),
        ("Status", "Status", "status"),
    ]),
    ("prescription", "Resepter", "Prescriptions", "issued_at", [
        ("Legemiddel", "Drug", "concat_ws(' ', drug_display, '(' || drug_code || ')')"),
        ("Dosering", "Dosage", "dosage_text"),
        ("Mengde", "Quantity", "concat_ws(', ', quantity_text, 'reit. ' || reiterations)"),
        ("Status", "Status", "status"),
    ]),
    ("lab_result", "Laboratoriesvar", "Lab results", "observed_at", [
        ("Analyse", "Analysis", "concat_ws(' ', analysis_display, '(' || analysis_code || ')')"),
        ("Verdi", "Value", "concat_ws(' ', value_text, value_unit)"),
        ("Referanse", "Reference", "coalesce(reference_text, concat_ws('–', reference_low, reference_high))"),
        ("Flagg", "Flag", "coalesce(abnormal_flag_display, abnormal_flag_code)"),
        ("Kommentar", "Comment", "comment"),
    ]),
    ("measurement", "Målinger", "Measurements", "observed_at", [
        ("Måling", "Measurement", "concat_ws(' ', measurement_type_display, '(' || measurement_type_code || ')')"),
        ("Verdi", "Value", "concat_ws(' ', value_text, value_unit)"),
        ("Metode", "Method", "method"),
    ]),
    ("immunization", "Vaksinasjoner", "Immunizations", "administered_at", [
        ("Vaksine", "Vaccine", "concat_ws(' ', vaccine_display, '(' || vaccine_code || ')')"),
        ("Dose", "Dose", "CAST(dose_number AS VARCHAR)"),
        ("Batch", "Lot", "lot_number"),
    ]),
    ("procedure", "Prosedyrer", "Procedures", "start_at", [
        ("Prosedyre", "Procedure", "concat_ws(' ', procedure_display, '(' || procedure_code || ')')"),
        ("Årsak", "Reason", "reason_display"),
        ("Status", "Status", "status"),
    ]),
    ("referral", "Henvisninger", "Referrals", "sent_at", [
        ("Mottaker", "Recipient", "concat_ws(' ', recipient_name, 'HER ' || recipient_her_id)"),
        ("Årsak", "Reason", "concat_ws(' ', reason_display, diagnosis_display, '(' || diagnosis_code || ')')"),
        ("Tekst", "Text", "text"),
    ]),
    ("document", "Dokumenter", "Documents", "document_date", [
        ("Tittel", "Title", "coalesce(title, document_id)"),
        ("Kategori", "Category", "coalesce(category_display, category_code)"),
        ("Type", "Type", "mime_type"),
        ("Sider", "Pages", "CAST(page_count AS VARCHAR)"),
        ("PDF/A i pakken", "PDF/A in the package", "coalesce(pdfa_path, status)"),
    ]),
]  # fmt: skip


@dataclass(frozen=True)
class JournalPrintout:
    """A rendered journal: the PDF/A bytes, its page count and how many notes it holds."""

    pdf: bytes
    page_count: int
    notes: int
    text: str


def _label(key: str, lang: str) -> str:
    nb, en = LABELS[key]
    return en if lang == "en" else nb


def shown_time(value: object) -> str:
    """Show a timestamp in Europe/Oslo (``YYYY-MM-DD HH:MM``) and a date as ``YYYY-MM-DD``.

    Example:
        >>> from datetime import datetime, timezone
        >>> shown_time(datetime(2024, 7, 1, 8, 30, tzinfo=timezone.utc))
        '2024-07-01 10:30'
    """
    if isinstance(value, datetime):
        local = value.astimezone(OSLO) if value.tzinfo is not None else value
        return local.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _rows(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    names = [d[0] for d in cur.description or []]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _find_patient(con: duckdb.DuckDBPyConnection, tables: set[str], patient: str) -> dict[str, Any]:
    if "patient" not in tables:
        raise PatientNotFoundError("the package has no patient table", hint="was the conversion complete?")
    rows = _rows(con, "SELECT * FROM patient WHERE patient_id = ? OR identifier_value = ? LIMIT 1", [patient, patient])
    if not rows:
        raise PatientNotFoundError(
            "no patient with that id or identifier in the package",
            hint='list some with: journalkonvert query ARCHIVE "select patient_id, birth_date from patient limit 10"',
        )
    return rows[0]


def _demographics(page: Page, person: dict[str, Any], lang: str) -> None:
    page.heading(_label("patient", lang))
    page.open_box()
    name = " ".join(str(x) for x in (person.get("given_name"), person.get("family_name")) if x)
    page.line(_label("name", lang), name or None)
    ident = " ".join(str(x) for x in (person.get("identifier_value"), f"({person.get('identifier_type')})") if x)
    page.line(_label("identifier", lang), ident if person.get("identifier_value") else None)
    page.line(_label("birth", lang), shown_time(person.get("birth_date")))
    page.line(_label("death", lang), shown_time(person.get("death_date")))
    page.line(_label("sex", lang), person.get("sex_display") or person.get("sex_code"))
    address = ", ".join(
        str(x) for x in (person.get("address_line"), person.get("postal_code"), person.get("city")) if x
    )
    page.line(_label("address", lang), address or None)
    page.line(_label("phone", lang), person.get("phone"))
    page.line(_label("patient_id", lang), str(person["patient_id"]))
    page.close_box()


def _section(con: duckdb.DuckDBPyConnection, tables: set[str], page: Page, spec: tuple[Any, ...], pid: str) -> None:
    table, title_nb, title_en, when, columns = spec
    if table not in tables:
        return
    exprs = ", ".join(f"{expr} AS c{i}" for i, (_nb, _en, expr) in enumerate(columns))
    rows = _rows(
        con,
        f"SELECT {when} AS w, {exprs} FROM {table} WHERE patient_id = ? ORDER BY w NULLS LAST, record_id",
        [pid],
    )
    if not rows:
        return
    lang = page.lang
    page.heading(title_en if lang == "en" else title_nb)
    headers = ["Tid" if lang != "en" else "Time", *[(en if lang == "en" else nb) for nb, en, _ in columns]]
    page.table(headers, [[shown_time(r["w"]), *[_cell(r[f"c{i}"]) for i in range(len(columns))]] for r in rows])


def _cell(value: object) -> str:
    return shown_time(value) if isinstance(value, datetime | date) else ("" if value is None else str(value))


def _note(page: Page, note: dict[str, Any], lang: str) -> None:
    head = note.get("heading") or note.get("note_type_display") or _label("note", lang)
    when = shown_time(note.get("recorded_at"))
    page.heading(f"{when} {head}".strip(), level=4)
    signed = shown_time(note.get("signed_at"))
    if signed:
        page.meta(f"{_label('signed', lang)} {signed}")
    page.paragraph(note.get("text"))


def _contacts(con: duckdb.DuckDBPyConnection, tables: set[str], page: Page, pid: str) -> int:
    lang = page.lang
    notes = (
        _rows(con, "SELECT * FROM journal_note WHERE patient_id = ? ORDER BY recorded_at NULLS LAST, record_id", [pid])
        if "journal_note" in tables
        else []
    )
    encounters = (
        _rows(con, "SELECT * FROM encounter WHERE patient_id = ? ORDER BY start_at NULLS LAST, record_id", [pid])
        if "encounter" in tables
        else []
    )
    by_encounter: dict[str, list[dict[str, Any]]] = {}
    for note in notes:
        by_encounter.setdefault(str(note.get("encounter_id")), []).append(note)
    known = {str(e.get("encounter_id")) for e in encounters if e.get("encounter_id") is not None}
    page.heading(_label("contacts", lang))
    if not encounters:
        page.paragraph(_label("no_contacts", lang))
    for enc in encounters:
        kind = " ".join(
            x
            for x in (
                enc.get("encounter_type_display") or enc.get("encounter_type_code"),
                f"({enc['encounter_class_display'] or enc['encounter_class_code']})"
                if enc.get("encounter_class_display") or enc.get("encounter_class_code")
                else None,
                f"– {enc['reason_display']}" if enc.get("reason_display") else None,
            )
            if x
        )
        page.heading(f"{shown_time(enc.get('start_at'))} {kind}".strip(), level=3)
        for note in by_encounter.get(str(enc.get("encounter_id")), []) if enc.get("encounter_id") else []:
            _note(page, note, lang)
    loose = [n for n in notes if n.get("encounter_id") is None or str(n.get("encounter_id")) not in known]
    if loose:
        page.heading(_label("loose_notes", lang))
        for note in loose:
            _note(page, note, lang)
    return len(notes)


def build_journal_page(layout: PackageLayout, patient: str, *, lang: str = "nb") -> tuple[Page, int]:
    """Build the printout page of one patient; return it and the number of journal notes in it.

    Raises:
        PatientNotFoundError: no patient has that patient_id or identifier.
    """
    con = connect(layout)
    try:
        tables = set(layout.canonical_tables())
        person = _find_patient(con, tables, patient)
        pid = str(person["patient_id"])
        name = " ".join(str(x) for x in (person.get("given_name"), person.get("family_name")) if x)
        page = Page(f"{_label('title', lang)}: {name or pid}", lang=lang, numbered=True)
        page.meta(_label("meta", lang))
        _demographics(page, person, lang)
        page.heading(_label("cave", lang))
        page.open_box("warn")
        before = page.text()
        _section(con, tables, page, SECTIONS[0], pid)
        if page.text() == before:
            page.paragraph(_label("no_cave", lang))
        page.close_box()
        notes = _contacts(con, tables, page, pid)
        for spec in SECTIONS[1:]:
            _section(con, tables, page, spec, pid)
        return page, notes
    finally:
        con.close()


def render_journal_pdf(layout: PackageLayout, patient: str, *, lang: str = "nb") -> JournalPrintout:
    """Render one patient's journal as verified PDF/A-2b bytes.

    Raises:
        PatientNotFoundError: no patient has that patient_id or identifier.
        formats.pdf_html.PdfRenderError: the PDF does not pass the validator.
    """
    page, notes = build_journal_page(layout, patient, lang=lang)
    rendered = render_html(page.html())
    return JournalPrintout(rendered.pdf, rendered.page_count, notes, page.text())


def write_journal_pdf(layout: PackageLayout, patient: str, target: Path, *, lang: str = "nb") -> JournalPrintout:
    """Write the printout to ``target`` (readable by the owner only) and return it."""
    printout = render_journal_pdf(layout, patient, lang=lang)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.touch(mode=0o600, exist_ok=True)
    target.write_bytes(printout.pdf)
    return printout
