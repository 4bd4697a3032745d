"""The canonical archival model, v1: one declared Arrow schema per record category.

Every table is declared here once, field by field, with a description. The Parquet schemas, the
JSON Schemas, the ADDML structure description and the human data dictionary are all generated
from these declarations (``formats/schema_docs.py``), so they cannot drift apart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyarrow as pa

MODEL_VERSION = "1.0.0"

STRING = pa.string()
TIMESTAMP = pa.timestamp("us", tz="UTC")
DATE = pa.date32()
FLOAT = pa.float64()
INTEGER = pa.int64()
BOOLEAN = pa.bool_()
AMOUNT = pa.decimal128(18, 4)

CODED_PARTS: tuple[tuple[str, str], ...] = (
    ("system", "code system as OID (urn:oid:...) or URI"),
    ("code", "code as recorded"),
    ("display", "code text as recorded in the source"),
    ("system_version", "version or date of the code system, where known"),
    ("original_text", "the source's own text for this value, verbatim"),
)


@dataclass(frozen=True)
class FieldSpec:
    """One column of a canonical table."""

    name: str
    type: pa.DataType
    description: str
    required: bool = False
    pii: bool = False

    def arrow(self) -> pa.Field:
        """Return the Arrow field with its description and PII flag as metadata."""
        meta = {"description": self.description, "pii": "true" if self.pii else "false"}
        return pa.field(self.name, self.type, nullable=not self.required, metadata=meta)


@dataclass(frozen=True)
class TableSpec:
    """One record category of the canonical model."""

    name: str
    title: str
    description: str
    fields: tuple[FieldSpec, ...]
    patient_scoped: bool = True
    sort_keys: tuple[str, ...] = field(default=("patient_id", "record_id"))

    def schema(self) -> pa.Schema:
        """Return the declared Arrow schema, with table metadata."""
        meta = {
            "title": self.title,
            "description": self.description,
            "model_version": MODEL_VERSION,
            "table": self.name,
            "data_dictionary": json.dumps(
                {f.name: f.description for f in self.fields}, ensure_ascii=False, sort_keys=True
            ),
        }
        return pa.schema([f.arrow() for f in self.fields], metadata=meta)

    def field_names(self) -> list[str]:
        """Return the column names in declared order."""
        return [f.name for f in self.fields]

    def get(self, name: str) -> FieldSpec:
        """Return the field called ``name`` (KeyError if there is none)."""
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


def f(name: str, type_: pa.DataType, description: str, *, pii: bool = False) -> FieldSpec:
    """Declare an optional field."""
    return FieldSpec(name, type_, description, pii=pii)


def coded(prefix: str, what: str) -> list[FieldSpec]:
    """Declare a coded value as the five columns of the model."""
    return [FieldSpec(f"{prefix}_{part}", STRING, f"{what}: {text}") for part, text in CODED_PARTS]


LINEAGE: tuple[FieldSpec, ...] = (
    FieldSpec("source_system", STRING, "name of the source system the row came from", required=True),
    FieldSpec(
        "source_ref",
        STRING,
        "where in the source: file or table plus record number or key (file#row=N)",
        required=True,
    ),
    FieldSpec(
        "source_hash",
        STRING,
        "SHA-256 (hex) of the source record (see README.txt for how it is computed)",
        required=True,
    ),
    FieldSpec(
        "run_id", STRING, "identifier of the conversion: derived from inputs, mapping and settings", required=True
    ),
)


def _table(
    name: str,
    title: str,
    description: str,
    body: list[FieldSpec],
    *,
    patient_scoped: bool = True,
) -> TableSpec:
    head = [FieldSpec("record_id", STRING, "stable identifier of this row (UUID derived from lineage)", required=True)]
    if patient_scoped:
        head.append(
            FieldSpec(
                "patient_id", STRING, "the patient this row belongs to (patient.patient_id)", required=True, pii=True
            )
        )
    keys = ("patient_id", "record_id") if patient_scoped else ("record_id",)
    return TableSpec(name, title, description, tuple(head + body + list(LINEAGE)), patient_scoped, keys)


_ENC = f("encounter_id", STRING, "the contact this row was recorded in (encounter.encounter_id)")

TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in [
        _table(
            "patient",
            "Pasient",
            "Patients: identity, demographics and address.",
            [
                f("identifier_value", STRING, "the patient's main identifier (fødselsnummer, D-nummer, ...)", pii=True),
                f("identifier_type", STRING, "kind of identifier: FNR, DNR, HNR, FHN, DUF, SSN or LOCAL"),
                f("identifier_system", STRING, "OID or URI of the identifier's naming system"),
                f("identifier_valid", BOOLEAN, "whether the identifier passed its check-digit test (null: no test)"),
                f("family_name", STRING, "family name(s)", pii=True),
                f("given_name", STRING, "given name(s)", pii=True),
                f("name_prefix", STRING, "name prefix or title", pii=True),
                f("name_suffix", STRING, "name suffix", pii=True),
                f("maiden_name", STRING, "earlier family name", pii=True),
                f("birth_date", DATE, "date of birth", pii=True),
                f("death_date", DATE, "date of death"),
                *coded("sex", "administrative sex"),
                *coded("marital_status", "marital status"),
                f("address_line", STRING, "street address", pii=True),
                f("postal_code", STRING, "postal code", pii=True),
                f("city", STRING, "city or post town"),
                f("municipality", STRING, "municipality (kommune) name or number"),
                f("county", STRING, "county or state"),
                f("country", STRING, "country"),
                f("phone", STRING, "telephone number", pii=True),
                f("general_practitioner_id", STRING, "regular GP (practitioner.practitioner_id)"),
                f("organisation_id", STRING, "practice the patient is listed at (organisation.organisation_id)"),
            ],
        ),
        _table(
            "practitioner",
            "Helsepersonell",
            "Health personnel who recorded or performed care.",
            [
                f("practitioner_id", STRING, "identifier of the practitioner in the source"),
                f("hpr_number", STRING, "HPR number (Helsepersonellregisteret), urn:oid:2.16.578.1.12.4.1.4.4"),
                f("full_name", STRING, "name as recorded", pii=True),
                f("family_name", STRING, "family name", pii=True),
                f("given_name", STRING, "given name", pii=True),
                *coded("sex", "administrative sex"),
                *coded("profession", "profession (Volven 9060)"),
                *coded("speciality", "speciality (Volven 7426)"),
                f("organisation_id", STRING, "employing organisation (organisation.organisation_id)"),
                f("address_line", STRING, "work address"),
                f("postal_code", STRING, "postal code"),
                f("city", STRING, "city"),
                f("phone", STRING, "work telephone"),
            ],
            patient_scoped=False,
        ),
        _table(
            "organisation",
            "Virksomhet",
            "Practices, hospitals, labs, payers and other organisations.",
            [
                f("organisation_id", STRING, "identifier of the organisation in the source"),
                f("name", STRING, "name"),
                f("organisation_number", STRING, "organisasjonsnummer (Enhetsregisteret)"),
                f("her_id", STRING, "HER-id (Adresseregisteret)"),
                f("resh_id", STRING, "RESH-id"),
                *coded("organisation_type", "kind of organisation"),
                f("address_line", STRING, "street address"),
                f("postal_code", STRING, "postal code"),
                f("city", STRING, "city"),
                f("county", STRING, "county or state"),
                f("phone", STRING, "telephone"),
            ],
            patient_scoped=False,
        ),
        _table(
            "encounter",
            "Kontakt",
            "Contacts: consultations, phone and video contacts, home visits, stays.",
            [
                f("encounter_id", STRING, "identifier of the contact in the source"),
                f("start_at", TIMESTAMP, "when the contact started"),
                f("end_at", TIMESTAMP, "when the contact ended"),
                *coded("encounter_class", "contact form (oppmøte, telefon, video, sykebesøk, ...)"),
                *coded("encounter_type", "kind of contact"),
                *coded("reason", "reason for contact"),
                f("practitioner_id", STRING, "responsible practitioner (practitioner.practitioner_id)"),
                f("organisation_id", STRING, "where the contact took place (organisation.organisation_id)"),
                f("status", STRING, "status of the contact"),
            ],
        ),
        _table(
            "journal_note",
            "Journalnotat",
            "Free-text journal notes, verbatim, with authorship and revisions.",
            [
                f("note_id", STRING, "identifier of the note in the source"),
                _ENC,
                *coded("note_type", "note type or heading (S/O/A/P, anamnese, funn, ...)"),
                f("heading", STRING, "heading as recorded"),
                f("text", STRING, "note text, verbatim (UTF-8, original line breaks)", pii=True),
                f("text_format", STRING, "format of text_raw: plain, rtf or html"),
                f("text_raw", STRING, "the note as stored in the source when it is not plain text", pii=True),
                f("author_id", STRING, "who wrote it (practitioner.practitioner_id)"),
                f("recorded_at", TIMESTAMP, "when it was written"),
                f("signed_by_id", STRING, "who signed it"),
                f("signed_at", TIMESTAMP, "when it was signed"),
                f("revision_no", INTEGER, "revision number, 1 for the first version"),
                f("supersedes_record_id", STRING, "record_id of the version this one replaces"),
            ],
        ),
        _table(
            "diagnosis",
            "Diagnose",
            "Diagnoses and problems (ICPC-2, ICD-10, SNOMED CT).",
            [
                _ENC,
                *coded("diagnosis", "the diagnosis or problem"),
                f("role", STRING, "main or secondary"),
                f("onset_at", TIMESTAMP, "onset or first recorded"),
                f("resolved_at", TIMESTAMP, "when resolved, if it was"),
                f("certainty", STRING, "confirmed, provisional, ..."),
                f("recorded_at", TIMESTAMP, "when it was recorded"),
            ],
        ),
        _table(
            "critical_info",
            "Kritisk informasjon (CAVE)",
            "Allergies, intolerances and other critical info.",
            [
                _ENC,
                *coded("info_type", "kind: allergy, intolerance, implant, other critical information"),
                f("category", STRING, "food, medication, environment, ..."),
                *coded("agent", "the substance or cause"),
                *coded("reaction", "the (first) recorded reaction"),
                f("severity", STRING, "severity of the reaction"),
                f("certainty", STRING, "certainty"),
                f("registered_at", TIMESTAMP, "when it was registered or started"),
                f("ended_at", TIMESTAMP, "when it ended or was inactivated"),
                f("status", STRING, "active or inactive"),
            ],
        ),
        _table(
            "medication",
            "Legemiddel",
            "The medication list (legemiddelliste): what the patient uses.",
            [
                _ENC,
                *coded("drug", "the drug (FEST, RxNorm, ...)"),
                *coded("atc", "ATC classification"),
                f("dosage_text", STRING, "dosage as written"),
                f("start_at", TIMESTAMP, "start of use"),
                f("end_at", TIMESTAMP, "end of use"),
                *coded("reason", "indication"),
                f("prescriber_id", STRING, "prescriber (practitioner.practitioner_id)"),
                f("quantity", FLOAT, "quantity or number of dispenses"),
                f("cost", AMOUNT, "cost as recorded"),
                f("status", STRING, "active, stopped, ..."),
            ],
        ),
        _table(
            "prescription",
            "Resept",
            "Prescriptions (e-resept and earlier).",
            [
                _ENC,
                f("prescription_id", STRING, "prescription identifier (ReseptId)"),
                *coded("drug", "the prescribed drug"),
                f("issued_at", TIMESTAMP, "date of issue"),
                f("expires_at", TIMESTAMP, "expiry"),
                f("quantity_text", STRING, "quantity as written"),
                f("reiterations", INTEGER, "number of reiterations (reit)"),
                *coded("reimbursement", "reimbursement basis (refusjonshjemmel)"),
                f("dosage_text", STRING, "dosage as written"),
                f("prescriber_id", STRING, "prescriber (practitioner.practitioner_id)"),
                f("status", STRING, "active, revoked, dispensed, ..."),
            ],
        ),
        _table(
            "lab_result",
            "Laboratoriesvar",
            "Laboratory results (NLK/NPU, LOINC).",
            [
                _ENC,
                f("report_id", STRING, "the report (svarrapport) this result belongs to"),
                *coded("analysis", "the analysis"),
                f("value_text", STRING, "result as recorded, verbatim"),
                f("value_numeric", FLOAT, "numeric result, where the result is a number"),
                f("value_unit", STRING, "unit"),
                f("reference_low", FLOAT, "lower reference limit"),
                f("reference_high", FLOAT, "upper reference limit"),
                f("reference_text", STRING, "reference interval as written"),
                *coded("abnormal_flag", "deviation flag (Volven 8244)"),
                *coded("material", "specimen material (Volven 8351)"),
                f("observed_at", TIMESTAMP, "when the sample was taken or the result observed"),
                f("requester_id", STRING, "who requested it"),
                f("performer_organisation_id", STRING, "the laboratory (organisation.organisation_id)"),
                f("status", STRING, "final, preliminary, corrected, cancelled"),
                f("comment", STRING, "comment", pii=True),
            ],
        ),
        _table(
            "measurement",
            "Måling",
            "Vital signs and other measurements (BP, weight, height, scores).",
            [
                _ENC,
                *coded("measurement_type", "what was measured"),
                f("value_text", STRING, "value as recorded, verbatim"),
                f("value_numeric", FLOAT, "numeric value, where it is a number"),
                f("value_unit", STRING, "unit"),
                f("category", STRING, "category as recorded (vital-signs, survey, ...)"),
                f("observed_at", TIMESTAMP, "when it was measured"),
                f("method", STRING, "method"),
            ],
        ),
        _table(
            "immunization",
            "Vaksinasjon",
            "Vaccinations given.",
            [
                _ENC,
                *coded("vaccine", "the vaccine (ATC, CVX, SYSVAK)"),
                f("administered_at", TIMESTAMP, "when it was given"),
                f("lot_number", STRING, "batch number"),
                f("dose_number", INTEGER, "dose number in the series"),
                f("site", STRING, "injection site"),
                f("performer_id", STRING, "who gave it"),
                f("registry_reported", BOOLEAN, "reported to the national registry (SYSVAK)"),
                f("cost", AMOUNT, "cost as recorded"),
            ],
        ),
        _table(
            "procedure",
            "Prosedyre",
            "Procedures performed.",
            [
                _ENC,
                *coded("procedure", "the procedure"),
                f("start_at", TIMESTAMP, "start"),
                f("end_at", TIMESTAMP, "end"),
                *coded("reason", "reason"),
                *coded("body_site", "body site"),
                f("performer_id", STRING, "who performed it"),
                f("status", STRING, "status"),
                f("cost", AMOUNT, "cost as recorded"),
            ],
        ),
        _table(
            "referral",
            "Henvisning",
            "Referrals sent.",
            [
                _ENC,
                f("referral_id", STRING, "referral identifier"),
                f("sent_at", TIMESTAMP, "when it was sent"),
                f("recipient_name", STRING, "recipient"),
                f("recipient_her_id", STRING, "recipient HER-id"),
                *coded("urgency", "urgency (Volven 7303/8273)"),
                *coded("reason", "reason or problem"),
                *coded("diagnosis", "diagnosis"),
                f("text", STRING, "referral text", pii=True),
                f("status", STRING, "status, including the receipt (AppRec)"),
                f("message_id", STRING, "the message carrying it (message.message_id)"),
            ],
        ),
        _table(
            "message",
            "Melding",
            "Electronic messages sent and received (KITH, HL7, ...), kept byte for byte.",
            [
                f("message_id", STRING, "message identifier (MsgId)"),
                *coded("message_type", "message type"),
                f("mig_version", STRING, "message implementation guide version"),
                f("namespace", STRING, "XML namespace or standard"),
                f("generated_at", TIMESTAMP, "when the message was generated"),
                f("direction", STRING, "in or out"),
                f("sender_her_id", STRING, "sender HER-id"),
                f("sender_name", STRING, "sender"),
                f("receiver_her_id", STRING, "receiver HER-id"),
                f("receiver_name", STRING, "receiver"),
                f("conversation_ref", STRING, "conversation reference"),
                f("delivery_status", STRING, "delivery status from the receipt (AppRec)"),
                f("delivery_status_at", TIMESTAMP, "when the receipt was generated"),
                f("original_path", STRING, "path of the original bytes in the package"),
                f("original_sha256", STRING, "SHA-256 of the original bytes"),
            ],
        ),
        _table(
            "certificate",
            "Attest og erklæring",
            "Sick notes, medical certificates and declarations.",
            [
                _ENC,
                *coded("certificate_type", "kind of certificate"),
                f("issued_at", TIMESTAMP, "issued"),
                f("period_start", DATE, "period from"),
                f("period_end", DATE, "period to"),
                f("grade_percent", INTEGER, "degree of sick leave, percent"),
                *coded("diagnosis", "diagnosis"),
                f("recipient", STRING, "recipient"),
                f("status", STRING, "status"),
                f("text", STRING, "text", pii=True),
                f("message_id", STRING, "the message carrying it"),
            ],
        ),
        _table(
            "appointment",
            "Time",
            "Appointments (timebok).",
            [
                f("start_at", TIMESTAMP, "start"),
                f("end_at", TIMESTAMP, "end"),
                f("practitioner_id", STRING, "with whom"),
                *coded("appointment_type", "kind of appointment"),
                f("status", STRING, "booked, arrived, no-show, cancelled"),
                f("channel", STRING, "how it was booked"),
                _ENC,
            ],
        ),
        _table(
            "billing",
            "Regning",
            "Billing: claims, tariffs (takster), amounts.",
            [
                _ENC,
                f("claim_id", STRING, "claim identifier"),
                f("service_at", TIMESTAMP, "date of service"),
                f("billed_at", TIMESTAMP, "when billed"),
                *coded("tariff", "tariff or procedure code billed"),
                *coded("diagnosis", "diagnosis on the claim"),
                f("amount", AMOUNT, "amount"),
                f("outstanding", AMOUNT, "amount outstanding"),
                f("currency", STRING, "currency (ISO 4217)"),
                f("status", STRING, "claim status"),
                f("payer_id", STRING, "payer (organisation.organisation_id)"),
                f("practitioner_id", STRING, "billing practitioner"),
            ],
        ),
        _table(
            "document",
            "Dokument",
            "Documents: attachments, scans, letters; original and PDF/A.",
            [
                _ENC,
                f("document_id", STRING, "document identifier"),
                f("title", STRING, "title"),
                *coded("category", "document category"),
                f("document_date", TIMESTAMP, "document date"),
                f("mime_type", STRING, "media type of the original"),
                f("original_path", STRING, "path of the original bytes in the package"),
                f("original_sha256", STRING, "SHA-256 of the original"),
                f("original_size", INTEGER, "size of the original in bytes"),
                f("pdfa_path", STRING, "path of the PDF/A rendition"),
                f("pdfa_sha256", STRING, "SHA-256 of the PDF/A rendition"),
                f("page_count", INTEGER, "pages"),
                f("text_extract", STRING, "text extracted from the document", pii=True),
                f("status", STRING, "normalised, not_normalised, ..."),
                f("message_id", STRING, "the message that carried it"),
            ],
        ),
        _table(
            "access_log",
            "Tilgangslogg",
            "Who accessed the journal, when and why (pasientjournalloven § 18).",
            [
                f("event_at", TIMESTAMP, "when"),
                f("user_id", STRING, "user (HPR or local id)"),
                f("user_name", STRING, "user's name", pii=True),
                f("user_role", STRING, "role"),
                f("organisation_id", STRING, "organisation or unit"),
                f("action", STRING, "read, create, update, print, export, delete"),
                f("object_type", STRING, "kind of record touched"),
                f("object_id", STRING, "record touched"),
                f("purpose", STRING, "purpose or decision template"),
                f("reason_text", STRING, "reason given"),
                f("client_system", STRING, "system used"),
            ],
        ),
        _table(
            "disclosure_log",
            "Utleveringslogg",
            "Disclosures of journal data to others (§ 18).",
            [
                f("event_at", TIMESTAMP, "when"),
                f("recipient_name", STRING, "recipient"),
                f("recipient_id", STRING, "recipient identifier (HER, orgnr, HPR)"),
                f("recipient_id_type", STRING, "kind of recipient identifier"),
                f("legal_basis", STRING, "legal basis or consent"),
                f("content_description", STRING, "what was disclosed"),
                f("object_ids", STRING, "records or message disclosed"),
                f("channel", STRING, "EDI, paper, kjernejournal, ..."),
            ],
        ),
        _table(
            "consent",
            "Samtykke og reservasjon",
            "Consents, reservations and restrictions (sperringer).",
            [
                *coded("consent_type", "kind of consent or reservation"),
                f("scope", STRING, "what it covers"),
                f("valid_from", TIMESTAMP, "from"),
                f("valid_to", TIMESTAMP, "to"),
                f("recorded_by_id", STRING, "recorded by"),
                f("recorded_at", TIMESTAMP, "recorded"),
                f("text", STRING, "text", pii=True),
                f("status", STRING, "status"),
            ],
        ),
    ]
}


def table_spec(name: str) -> TableSpec:
    """Return the declaration of canonical table ``name`` (KeyError with the known names)."""
    try:
        return TABLES[name]
    except KeyError:
        msg = f"unknown canonical table {name!r}; known: {', '.join(sorted(TABLES))}"
        raise KeyError(msg) from None
