"""The virtual tables of the FHIR reader: which resource type goes where, with which columns.

Every resource is one record: of the table its type maps to (``fhir_patient``, ``fhir_observation``,
...) or of ``fhir_resource_other``. Every record carries :data:`COMMON_COLUMNS`, among them
``resource_json``, the resource's exact text as written in the source, which no mapping consumes
and which is therefore kept verbatim under ``raw/`` (every element, mapped or not). Times are
``YYYY-MM-DDTHH:MM:SSZ`` (UTC) or ``YYYY-MM-DD`` (``*_ts``); coded values are flattened into
``<x>_system``, ``<x>_code``, ``<x>_display``, ``<x>_text`` (the first coding and the concept's text).
"""

from __future__ import annotations

COMMON_COLUMNS: tuple[str, ...] = (
    "file_ref",  # the file, relative to the source folder
    "resource_type",
    "resource_id",
    "full_url",
    "patient_key",  # the Patient's id, resolved through the reference index (see fhir_index.py)
    "encounter_id",
    "status",
    "resource_json",  # the resource's exact source text
)


def _coded(*names: str) -> tuple[str, ...]:
    return tuple(f"{n}_{part}" for n in names for part in ("system", "code", "display", "text"))


FILE_TABLE = "fhir_file"
OTHER_TABLE = "fhir_resource_other"
ATTACHMENT_TABLE = "fhir_attachment"

DOCUMENT_COLUMNS: tuple[str, ...] = (
    "original_path", "original_sha256", "original_size", "pdfa_path", "pdfa_sha256", "page_count",
    "text_extract", "rendition_status", "mime_type", "attachment_title", "attachment_url", "attachment_ts",
)  # fmt: skip

TABLES: dict[str, tuple[str, ...]] = {
    FILE_TABLE: (
        "file_ref", "file_kind", "bundle_type", "bundle_id", "bundle_ts", "resource_count", "patient_key",
        "message_id", "original_path", "original_sha256", "original_size",
    ),
    "fhir_patient": (
        "identifier_value", "identifier_system", "identifier_type", "birth_date", "death_date", "gender",
        "family_name", "given_name", "name_prefix", "name_suffix", "address_line", "city", "district", "state",
        "postal_code", "country", "phone", "gp_id", "organisation_id", *_coded("marital"),
    ),
    "fhir_practitioner": (
        "practitioner_id", "hpr_number", "identifier_value", "full_name", "family_name", "given_name", "gender",
        "organisation_id", "address_line", "postal_code", "city", "phone", *_coded("profession", "speciality"),
    ),
    "fhir_organization": (
        "organisation_id", "name", "organisation_number", "her_id", "resh_id", "address_line", "postal_code",
        "city", "district", "phone", *_coded("org_type"),
    ),
    "fhir_encounter": (
        "start_ts", "end_ts", "practitioner_id", "organisation_id", "class_system", "class_code", "class_display",
        *_coded("type", "reason"),
    ),
    "fhir_condition": (
        "onset_ts", "abatement_ts", "recorded_ts", "clinical_status", "verification_status", "category",
        *_coded("code"),
    ),
    "fhir_observation": (
        "category", "value_text", "value_numeric", "value_unit", "reference_low", "reference_high",
        "reference_text", "effective_ts", "issued_ts", "performer_id", "note", "method", "report_id",
        *_coded("code", "interpretation"),
    ),
    "fhir_medication": (
        "dosage_text", "start_ts", "end_ts", "authored_ts", "prescriber_id", "quantity", "refills", "intent",
        "prescription_id", "negated", *_coded("drug", "reason"),
    ),
    "fhir_allergy": (
        "category", "criticality", "allergy_type", "clinical_status", "verification_status", "severity",
        "onset_ts", "recorded_ts", "end_ts", *_coded("code", "reaction"),
    ),
    "fhir_immunization": (
        "occurrence_ts", "lot_number", "dose_number", "site", "performer_id", "not_given", *_coded("vaccine"),
    ),
    "fhir_procedure": ("start_ts", "end_ts", "performer_id", *_coded("code", "reason", "body_site")),
    "fhir_report": (
        "category", "effective_ts", "issued_ts", "conclusion", "performer_id", "report_id", "result_count",
        *_coded("code"), *DOCUMENT_COLUMNS,
    ),
    "fhir_document": (
        "title", "document_ts", "description", "document_id", "kept_binary", *_coded("type", "category"),
        *DOCUMENT_COLUMNS,
    ),
    ATTACHMENT_TABLE: ("parent_type", "parent_id", "attachment_index", "document_id", *DOCUMENT_COLUMNS),
    "fhir_careplan": ("title", "start_ts", "end_ts", "author_id", "text", *_coded("category")),
    "fhir_billing": (
        "claim_id", "service_ts", "billed_ts", "amount", "currency", "payer_id", "provider_id", "outcome",
        *_coded("tariff", "diagnosis"),
    ),
    "fhir_audit": (
        "event_ts", "user_id", "user_name", "organisation_id", "action", "object_type", "object_id", "outcome",
        "client", *_coded("user_role", "purpose", "event_type"),
    ),
    "fhir_consent": (
        "valid_from", "valid_to", "recorded_ts", "recorded_by_id", "text", "provision",
        *_coded("consent_type", "scope"),
    ),
    OTHER_TABLE: (),
}  # fmt: skip
"""Virtual table -> its own columns (besides :data:`COMMON_COLUMNS`; ``fhir_file`` has only its own)."""

RESOURCE_TABLES: dict[str, str] = {
    "Patient": "fhir_patient",
    "Practitioner": "fhir_practitioner",
    "PractitionerRole": "fhir_practitioner",
    "Organization": "fhir_organization",
    "Encounter": "fhir_encounter",
    "Condition": "fhir_condition",
    "Observation": "fhir_observation",
    "MedicationRequest": "fhir_medication",
    "MedicationStatement": "fhir_medication",
    "MedicationAdministration": "fhir_medication",
    "AllergyIntolerance": "fhir_allergy",
    "Immunization": "fhir_immunization",
    "Procedure": "fhir_procedure",
    "DiagnosticReport": "fhir_report",
    "DocumentReference": "fhir_document",
    "Binary": "fhir_document",
    "CarePlan": "fhir_careplan",
    "Claim": "fhir_billing",
    "ExplanationOfBenefit": "fhir_billing",
    "AuditEvent": "fhir_audit",
    "Consent": "fhir_consent",
}
"""Resource type -> virtual table; every other type goes to ``fhir_resource_other``."""


def record_tables() -> dict[str, tuple[str, ...]]:
    """Return every virtual table with all its columns, in a fixed order."""
    return {name: own if name == FILE_TABLE else (*COMMON_COLUMNS, *own) for name, own in TABLES.items()}
