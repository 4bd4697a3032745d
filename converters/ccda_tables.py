"""The virtual tables of the C-CDA reader, the section templateIds and the code system OIDs.

Every ``<entry>`` of a section becomes records of the table of its section's kind (``ccda_problem``,
``ccda_result``, ...): one record per clinical statement *item* of the entry (the observations in
a concern act or a result organizer; the statement itself otherwise), so that an entry always has
at least one record. Sections whose templateId names no kind below go to ``ccda_entry_other``.
"""

from __future__ import annotations

SECTION_PREFIX = "2.16.840.1.113883.10.20.22.2."

SECTION_KINDS: dict[str, str] = {
    "5": "problem",
    "5.1": "problem",
    "1": "medication",
    "1.1": "medication",
    "6": "allergy",
    "6.1": "allergy",
    "3": "result",
    "3.1": "result",
    "4": "vital",
    "4.1": "vital",
    "2": "immunization",
    "2.1": "immunization",
    "7": "procedure",
    "7.1": "procedure",
    "22": "encounter",
    "22.1": "encounter",
    "17": "social",
    "10": "plan",
}
"""Section templateId (after ``2.16.840.1.113883.10.20.22.2.``, extension ignored) -> entry kind."""

LOINC_SECTION_KINDS: dict[str, str] = {
    "11450-4": "problem",
    "10160-0": "medication",
    "48765-2": "allergy",
    "30954-2": "result",
    "8716-3": "vital",
    "11369-6": "immunization",
    "47519-4": "procedure",
    "46240-8": "encounter",
    "29762-2": "social",
    "18776-5": "plan",
}
"""Fallback when a section has no (known) templateId: its LOINC section code -> entry kind."""

CONCERN_KINDS = frozenset({"problem", "allergy"})
"""Kinds whose entries are concern acts: their items are the observations inside the act."""

CODE_SYSTEMS: dict[str, str] = {
    "2.16.840.1.113883.6.96": "http://snomed.info/sct",
    "2.16.840.1.113883.6.1": "http://loinc.org",
    "2.16.840.1.113883.6.88": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "2.16.840.1.113883.6.90": "http://hl7.org/fhir/sid/icd-10-cm",
    "2.16.840.1.113883.6.3": "http://hl7.org/fhir/sid/icd-10",
    "2.16.840.1.113883.6.103": "http://hl7.org/fhir/sid/icd-9-cm",
    "2.16.840.1.113883.6.104": "http://hl7.org/fhir/sid/icd-9-cm",
    "2.16.840.1.113883.12.292": "http://hl7.org/fhir/sid/cvx",
    "2.16.840.1.113883.6.69": "http://hl7.org/fhir/sid/ndc",
    "2.16.840.1.113883.6.8": "http://unitsofmeasure.org",
    "2.16.840.1.113883.6.12": "http://www.ama-assn.org/go/cpt",
    "2.16.840.1.113883.6.285": "urn:oid:2.16.840.1.113883.6.285",
    "2.16.840.1.113883.4.9": "http://fdasis.nlm.nih.gov",
    "2.16.840.1.113883.6.73": "http://www.whocc.no/atc",
    "2.16.840.1.113883.5.4": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
    "2.16.840.1.113883.5.83": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation",
    "2.16.840.1.113883.5.1": "http://terminology.hl7.org/CodeSystem/v3-AdministrativeGender",
    "2.16.840.1.113883.5.2": "http://terminology.hl7.org/CodeSystem/v3-MaritalStatus",
    "2.16.578.1.12.4.1.1.7170": "urn:oid:2.16.578.1.12.4.1.1.7170",
    "2.16.578.1.12.4.1.1.7110": "urn:oid:2.16.578.1.12.4.1.1.7110",
    "2.16.578.1.12.4.1.1.7280": "urn:oid:2.16.578.1.12.4.1.1.7280",
}
"""Code system OIDs -> the URI used in the canonical model (others become ``urn:oid:<OID>``)."""

NORWEGIAN_PERSON_IDS: dict[str, str] = {
    "2.16.578.1.12.4.1.4.1": "urn:oid:2.16.578.1.12.4.1.4.1",
    "2.16.578.1.12.4.1.4.2": "urn:oid:2.16.578.1.12.4.1.4.2",
    "2.16.578.1.12.4.1.4.3": "urn:oid:2.16.578.1.12.4.1.4.3",
    "2.16.578.1.12.4.1.4.5": "urn:oid:2.16.578.1.12.4.1.4.5",
}
"""Norwegian person identifier namespaces (no-basis: FNR, DNR, FHN, DUF): the patient key is the number."""

PATIENT_COLUMNS: tuple[str, ...] = (
    "patient_key",
    "document_id",
    "id_root",
    "id_extension",
    "identifier_system",
    "other_ids",
    "family_name",
    "given_name",
    "name_prefix",
    "name_suffix",
    "birth_date",
    "death_date",
    "sex_code",
    "sex_display",
    "marital_code",
    "marital_display",
    "address_line",
    "city",
    "county",
    "postal_code",
    "country",
    "phone",
)

DOCUMENT_COLUMNS: tuple[str, ...] = (
    "patient_key",
    "document_id",
    "set_id",
    "version",
    "template_ids",
    "type_code",
    "type_system",
    "type_display",
    "title",
    "effective_ts",
    "author_id",
    "author_name",
    "author_organisation",
    "custodian_id",
    "custodian_name",
    "encounter_id",
    "encounter_start_ts",
    "encounter_end_ts",
    "encounter_code",
    "encounter_display",
    "body_kind",
    "root_element",
    "original_path",
    "original_sha256",
    "original_size",
    "xml",
)

SECTION_COLUMNS: tuple[str, ...] = (
    "patient_key",
    "document_id",
    "document_ts",
    "section_index",
    "section_path",
    "kind",
    "template_ids",
    "code",
    "code_system",
    "code_display",
    "title",
    "narrative_text",
    "entry_count",
    "null_flavor",
)

ATTACHMENT_COLUMNS: tuple[str, ...] = (
    "patient_key",
    "document_id",
    "document_ts",
    "attachment_index",
    "location",
    "title",
    "media_type",
    "representation",
    "reference",
    "original_path",
    "original_sha256",
    "original_size",
    "pdfa_path",
    "pdfa_sha256",
    "page_count",
    "rendition_status",
    "text_extract",
    "problem",
)

ENTRY_COLUMNS: tuple[str, ...] = (
    "patient_key",
    "document_id",
    "section_index",
    "section_code",
    "entry_index",
    "item_index",
    "item_element",
    "template_ids",
    "item_id",
    "mood",
    "status",
    "negation",
    "effective_ts",
    "low_ts",
    "high_ts",
    "code",
    "code_system",
    "code_display",
    "code_original_text",
    "value_type",
    "value_code",
    "value_system",
    "value_display",
    "value_original_text",
    "value_text",
    "value_numeric",
    "value_unit",
    "product_code",
    "product_system",
    "product_display",
    "product_original_text",
    "lot_number",
    "dose_text",
    "reaction_code",
    "reaction_system",
    "reaction_display",
    "severity",
    "problem_status",
    "reference_text",
    "reference_low",
    "reference_high",
    "interpretation_code",
    "interpretation_system",
    "interpretation_display",
    "target_site_code",
    "target_site_system",
    "target_site_display",
    "organizer_id",
    "organizer_display",
    "performer_id",
    "null_flavor",
)

ENTRY_TABLES: dict[str, str] = {
    "problem": "ccda_problem",
    "medication": "ccda_medication",
    "allergy": "ccda_allergy",
    "result": "ccda_result",
    "vital": "ccda_vital",
    "immunization": "ccda_immunization",
    "procedure": "ccda_procedure",
    "encounter": "ccda_encounter",
    "social": "ccda_social",
    "plan": "ccda_plan",
    "other": "ccda_entry_other",
}
"""Entry kind -> virtual table."""


def record_tables() -> dict[str, tuple[str, ...]]:
    """Return every virtual table of the reader with its columns."""
    tables: dict[str, tuple[str, ...]] = {
        "ccda_document": DOCUMENT_COLUMNS,
        "ccda_patient": PATIENT_COLUMNS,
        "ccda_section": SECTION_COLUMNS,
        "ccda_attachment": ATTACHMENT_COLUMNS,
    }
    for table in ENTRY_TABLES.values():
        tables[table] = ENTRY_COLUMNS
    return tables


def section_kind(template_roots: list[str], loinc_code: str | None) -> str:
    """Return the entry kind of a section from its templateIds (extension ignored) or LOINC code."""
    for tid in template_roots:
        root = tid.split(":", 1)[0]
        if root.startswith(SECTION_PREFIX):
            kind = SECTION_KINDS.get(root[len(SECTION_PREFIX) :])
            if kind:
                return kind
    return LOINC_SECTION_KINDS.get(loinc_code or "", "other")


def code_system_uri(oid: str | None) -> str | None:
    """Return the canonical URI of a code system OID (``urn:oid:`` for unknown OIDs, the value for others)."""
    if not oid:
        return None
    if oid in CODE_SYSTEMS:
        return CODE_SYSTEMS[oid]
    if oid[0].isdigit() and all(p.isdigit() for p in oid.split(".")):
        return f"urn:oid:{oid}"
    return oid
