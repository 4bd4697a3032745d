"""One FHIR resource -> the values of its virtual table's record (the flatteners, per resource type).

Each flattener reads the parsed resource and returns the table's own columns (see fhir_tables.py);
:func:`patient_reference` says where a type names its patient. Attachments are handled in
fhir_attachments.py.
"""

from __future__ import annotations

from collections.abc import Callable

from converters.fhir_admin_records import ADMIN_FLATTENERS, Values
from converters.fhir_index import ReferenceIndex
from converters.fhir_values import (
    Json,
    address,
    coded,
    concept,
    first,
    human_name,
    number_text,
    parse_time,
    period,
    quantity,
    reference_text,
    telecom,
    text_of,
    time_of,
    ts_text,
)

HPR_SYSTEMS = frozenset({"urn:oid:2.16.578.1.12.4.1.4.4", "http://hl7.no/fhir/NamingSystem/HPR"})
ORGNR_SYSTEMS = frozenset({"urn:oid:2.16.578.1.12.4.1.4.101", "http://hl7.no/fhir/NamingSystem/ENH"})
HER_SYSTEMS = frozenset({"urn:oid:2.16.578.1.12.4.1.2", "http://hl7.no/fhir/NamingSystem/HER"})
RESH_SYSTEMS = frozenset({"urn:oid:2.16.578.1.12.4.1.4.102", "http://hl7.no/fhir/NamingSystem/RSH"})
PERSON_SYSTEMS: dict[str, int] = {
    "urn:oid:2.16.578.1.12.4.1.4.1": 0,  # fødselsnummer
    "http://hl7.no/fhir/NamingSystem/FNR": 0,
    "urn:oid:2.16.578.1.12.4.1.4.2": 1,  # D-nummer
    "http://hl7.no/fhir/NamingSystem/DNR": 1,
    "urn:oid:2.16.578.1.12.4.1.4.3": 2,  # felles hjelpenummer
    "urn:oid:2.16.578.1.12.4.1.4.5": 3,  # DUF
}
"""Norwegian person identifier systems (no-basis naming systems), in order of preference."""

PATIENT_ELEMENTS: dict[str, tuple[str, ...]] = {
    "Patient": (),
    "Immunization": ("patient",),
    "AllergyIntolerance": ("patient",),
    "Claim": ("patient",),
    "ExplanationOfBenefit": ("patient",),
    "Consent": ("patient",),
    "Binary": ("securityContext",),
    "Provenance": ("target",),
    "Goal": ("subject",),
    "Account": ("subject",),
    "Coverage": ("beneficiary",),
    "Appointment": ("participant",),
}
"""Where a resource type names its patient (every other type: ``subject``, then ``patient``)."""


def patient_reference(obj: Json) -> str | None:
    """Return the reference string of the element that names the resource's patient."""
    kind = str(obj.get("resourceType"))
    if kind == "AuditEvent":
        for entity in obj.get("entity") or []:
            ref = reference_text(first(entity).get("what"))
            if ref and (ref.startswith("Patient") or "/Patient/" in ref):
                return ref
        for agent in obj.get("agent") or []:
            ref = reference_text(first(agent).get("who"))
            if ref and ref.startswith("Patient"):
                return ref
        return None
    if kind == "Provenance":
        for target in obj.get("target") or []:
            ref = reference_text(target)
            if ref and ("Patient" in ref or ref.startswith("urn:uuid:")):
                return ref
        return None
    if kind == "Appointment":
        for part in obj.get("participant") or []:
            ref = reference_text(first(part).get("actor"))
            if ref and ref.startswith("Patient"):
                return ref
        return None
    for element in PATIENT_ELEMENTS.get(kind, ("subject", "patient")):
        ref = reference_text(obj.get(element))
        if ref:
            return ref
    return None


def _identifier(obj: Json, systems: frozenset[str]) -> str | None:
    for ident in obj.get("identifier") or []:
        if isinstance(ident, dict) and ident.get("system") in systems:
            return text_of(ident.get("value"))
    return None


def _patient(obj: Json, index: ReferenceIndex) -> Values:
    idents = [i for i in obj.get("identifier") or [] if isinstance(i, dict) and text_of(i.get("value"))]
    norwegian = sorted(
        (PERSON_SYSTEMS[i["system"]], n) for n, i in enumerate(idents) if i.get("system") in PERSON_SYSTEMS
    )
    mrn = [n for n, i in enumerate(idents) if "MR" in concept_codes_of(i.get("type"))]
    pick = idents[norwegian[0][1]] if norwegian else idents[mrn[0]] if mrn else idents[0] if idents else {}
    name = human_name(obj.get("name"))
    addr = address(obj.get("address"))
    death = parse_time(obj.get("deceasedDateTime"))
    birth = parse_time(obj.get("birthDate"))
    return {
        "identifier_value": text_of(pick.get("value")),
        "identifier_system": text_of(pick.get("system")),
        "identifier_type": concept(pick.get("type"))["code"],
        "birth_date": birth.day if birth else None,
        "death_date": death.day if death else None,
        "gender": text_of(obj.get("gender")),
        "family_name": name["family"],
        "given_name": name["given"],
        "name_prefix": name["prefix"],
        "name_suffix": name["suffix"],
        "address_line": addr["line"],
        "city": addr["city"],
        "district": addr["district"],
        "state": addr["state"],
        "postal_code": addr["postal_code"],
        "country": addr["country"],
        "phone": telecom(obj.get("telecom")),
        "gp_id": index.ref_id(obj.get("generalPractitioner")),
        "organisation_id": index.ref_id(obj.get("managingOrganization")),
        **coded("marital", obj.get("maritalStatus")),
    }


def concept_codes_of(value: object) -> list[str]:
    """Return the codes of a CodeableConcept (an identifier's type: ``MR``, ``SS``, ...)."""
    cc = first(value)
    return [str(c.get("code")) for c in cc.get("coding") or [] if isinstance(c, dict)]


def _practitioner(obj: Json, index: ReferenceIndex) -> Values:
    if obj.get("resourceType") == "PractitionerRole":
        return {
            "practitioner_id": index.ref_id(obj.get("practitioner")),
            "organisation_id": index.ref_id(obj.get("organization")),
            "phone": telecom(obj.get("telecom")),
            **coded("profession", obj.get("code")),
            **coded("speciality", obj.get("specialty")),
        }
    name = human_name(obj.get("name"))
    addr = address(obj.get("address"))
    idents = [i for i in obj.get("identifier") or [] if isinstance(i, dict)]
    return {
        "practitioner_id": text_of(obj.get("id")),
        "hpr_number": _identifier(obj, HPR_SYSTEMS),
        "identifier_value": text_of(idents[0].get("value")) if idents else None,
        "full_name": name["full"],
        "family_name": name["family"],
        "given_name": name["given"],
        "gender": text_of(obj.get("gender")),
        "address_line": addr["line"],
        "postal_code": addr["postal_code"],
        "city": addr["city"],
        "phone": telecom(obj.get("telecom")),
        **coded("profession", first(obj.get("qualification")).get("code")),
    }


def _organization(obj: Json, index: ReferenceIndex) -> Values:
    addr = address(obj.get("address"))
    return {
        "organisation_id": text_of(obj.get("id")),
        "name": text_of(obj.get("name")),
        "organisation_number": _identifier(obj, ORGNR_SYSTEMS),
        "her_id": _identifier(obj, HER_SYSTEMS),
        "resh_id": _identifier(obj, RESH_SYSTEMS),
        "address_line": addr["line"],
        "postal_code": addr["postal_code"],
        "city": addr["city"],
        "district": addr["district"],
        "phone": telecom(obj.get("telecom")),
        **coded("org_type", obj.get("type")),
    }


def _encounter(obj: Json, index: ReferenceIndex) -> Values:
    start, end = period(obj.get("period"))
    klass = concept(obj.get("class"))
    practitioner = None
    for part in obj.get("participant") or []:
        practitioner = practitioner or index.ref_id(first(part).get("individual"))
    return {
        "start_ts": ts_text(start),
        "end_ts": ts_text(end),
        "practitioner_id": practitioner,
        "organisation_id": index.ref_id(obj.get("serviceProvider")),
        "class_system": klass["system"],
        "class_code": klass["code"],
        "class_display": klass["display"],
        **coded("type", obj.get("type")),
        **coded("reason", obj.get("reasonCode")),
    }


def _condition(obj: Json, index: ReferenceIndex) -> Values:
    return {
        "onset_ts": time_of(obj, "onsetDateTime", "onsetPeriod"),
        "abatement_ts": time_of(obj, "abatementDateTime", "abatementPeriod"),
        "recorded_ts": time_of(obj, "recordedDate"),
        "clinical_status": concept(obj.get("clinicalStatus"))["code"],
        "verification_status": concept(obj.get("verificationStatus"))["code"],
        "category": concept(obj.get("category"))["code"],
        **coded("code", obj.get("code")),
    }


def observation_category(obj: Json) -> str:
    """Return ``laboratory``, ``vital-signs`` or another category code (``other`` when there is none)."""
    codes: list[str] = []
    for cc in obj.get("category") or []:
        codes.extend(concept_codes_of(cc))
    for wanted in ("laboratory", "vital-signs"):
        if wanted in codes:
            return wanted
    return codes[0] if codes else "other"


def observation_value(obj: Json) -> Values:
    """Flatten value[x] (and components, one per line) into value_text / value_numeric / value_unit."""
    out: Values = {"value_text": None, "value_numeric": None, "value_unit": None}
    if "valueQuantity" in obj:
        q = quantity(obj["valueQuantity"])
        out.update(value_numeric=q["value"], value_unit=q["unit"])
        out["value_text"] = f"{q['comparator']}{q['value']}" if q["comparator"] and q["value"] else None
    elif "valueCodeableConcept" in obj:
        c = concept(obj["valueCodeableConcept"])
        out["value_text"] = c["text"] or c["display"] or c["code"]
    elif "valueString" in obj:
        out["value_text"] = text_of(obj["valueString"])
    elif "valueBoolean" in obj or "valueInteger" in obj:
        raw = obj.get("valueInteger", obj.get("valueBoolean"))
        out["value_text"] = text_of(raw)
        out["value_numeric"] = number_text(raw)
    elif "valueDateTime" in obj:
        out["value_text"] = text_of(obj["valueDateTime"])
    elif "valuePeriod" in obj or "valueRange" in obj or "valueRatio" in obj:
        out["value_text"] = text_of(str(obj.get("valuePeriod") or obj.get("valueRange") or obj.get("valueRatio")))
    parts = []
    for comp in obj.get("component") or []:
        if not isinstance(comp, dict):
            continue
        code = concept(comp.get("code"))
        value = observation_value(comp)
        shown = value["value_text"] or " ".join(v for v in (value["value_numeric"], value["value_unit"]) if v)
        parts.append(f"{code['display'] or code['text'] or code['code']}: {shown}")
    if parts and out["value_text"] is None and out["value_numeric"] is None:
        out["value_text"] = "\n".join(parts)
    absent = concept(obj.get("dataAbsentReason"))
    if out["value_text"] is None and out["value_numeric"] is None and (absent["code"] or absent["text"]):
        out["value_text"] = f"data absent: {absent['text'] or absent['display'] or absent['code']}"
    return out


def _observation(obj: Json, index: ReferenceIndex) -> Values:
    ref = first(obj.get("referenceRange"))
    notes = [text_of(n.get("text")) for n in obj.get("note") or [] if isinstance(n, dict)]
    return {
        "category": observation_category(obj),
        **observation_value(obj),
        "reference_low": quantity(ref.get("low"))["value"],
        "reference_high": quantity(ref.get("high"))["value"],
        "reference_text": text_of(ref.get("text")),
        "effective_ts": time_of(obj, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued"),
        "issued_ts": time_of(obj, "issued"),
        "performer_id": index.ref_id(obj.get("performer")),
        "note": "\n".join(n for n in notes if n) or None,
        "method": concept(obj.get("method"))["display"],
        "report_id": None,
        **coded("code", obj.get("code")),
        **coded("interpretation", obj.get("interpretation")),
    }


def _medication(obj: Json, index: ReferenceIndex) -> Values:
    kind = obj.get("resourceType")
    if "medicationCodeableConcept" in obj:
        drug = concept(obj["medicationCodeableConcept"])
    else:
        drug = index.medication(reference_text(obj.get("medicationReference")))
        drug = {**drug, "text": drug["text"] or first(obj.get("medicationReference")).get("display")}
    dosage = first(obj.get("dosageInstruction") or obj.get("dosage"))
    dosage_text = text_of(dosage.get("text"))
    if kind == "MedicationAdministration" and dosage:
        dose = quantity(dosage.get("dose"))
        dosage_text = dosage_text or " ".join(v for v in (dose["value"], dose["unit"]) if v) or None
    start, end = period(obj.get("effectivePeriod"))
    dispense = first(obj.get("dispenseRequest"))
    validity_start, validity_end = period(dispense.get("validityPeriod"))
    status = text_of(obj.get("status"))
    return {
        "dosage_text": dosage_text,
        "start_ts": ts_text(start)
        or time_of(obj, "effectiveDateTime", "authoredOn", "dateAsserted")
        or ts_text(validity_start),
        "end_ts": ts_text(end) or ts_text(validity_end),
        "authored_ts": time_of(obj, "authoredOn", "dateAsserted"),
        "prescriber_id": index.ref_id(obj.get("requester") or obj.get("informationSource")),
        "quantity": quantity(dispense.get("quantity"))["value"],
        "refills": text_of(dispense.get("numberOfRepeatsAllowed")),
        "intent": text_of(obj.get("intent")),
        "prescription_id": text_of(first(obj.get("identifier")).get("value")) or text_of(obj.get("id")),
        "negated": "true" if status in ("not-taken", "not-done") or obj.get("doNotPerform") is True else None,
        **{f"drug_{k}": v for k, v in drug.items()},
        **coded("reason", obj.get("reasonCode")),
    }


def _allergy(obj: Json, index: ReferenceIndex) -> Values:
    reaction = first(obj.get("reaction"))
    categories = [c for c in obj.get("category") or [] if isinstance(c, str)]
    return {
        "category": categories[0] if categories else None,
        "criticality": text_of(obj.get("criticality")),
        "allergy_type": text_of(obj.get("type")),
        "clinical_status": concept(obj.get("clinicalStatus"))["code"],
        "verification_status": concept(obj.get("verificationStatus"))["code"],
        "severity": text_of(reaction.get("severity")),
        "onset_ts": time_of(obj, "onsetDateTime", "onsetPeriod"),
        "recorded_ts": time_of(obj, "recordedDate"),
        "end_ts": time_of(obj, "lastOccurrence"),
        **coded("code", obj.get("code")),
        **coded("reaction", reaction.get("manifestation")),
    }


def _immunization(obj: Json, index: ReferenceIndex) -> Values:
    protocol = first(obj.get("protocolApplied"))
    return {
        "occurrence_ts": time_of(obj, "occurrenceDateTime", "recorded"),
        "lot_number": text_of(obj.get("lotNumber")),
        "dose_number": text_of(protocol.get("doseNumberPositiveInt")),
        "site": concept(obj.get("site"))["display"] or concept(obj.get("site"))["code"],
        "performer_id": index.ref_id(first(obj.get("performer")).get("actor")),
        "not_given": "true" if obj.get("status") == "not-done" else None,
        **coded("vaccine", obj.get("vaccineCode")),
    }


def _procedure(obj: Json, index: ReferenceIndex) -> Values:
    start, end = period(obj.get("performedPeriod"))
    return {
        "start_ts": ts_text(start) or time_of(obj, "performedDateTime"),
        "end_ts": ts_text(end),
        "performer_id": index.ref_id(first(obj.get("performer")).get("actor")),
        **coded("code", obj.get("code")),
        **coded("reason", obj.get("reasonCode")),
        **coded("body_site", obj.get("bodySite")),
    }


def _report(obj: Json, index: ReferenceIndex) -> Values:
    return {
        "category": concept(obj.get("category"))["code"],
        "effective_ts": time_of(obj, "effectiveDateTime", "effectivePeriod", "issued"),
        "issued_ts": time_of(obj, "issued"),
        "conclusion": text_of(obj.get("conclusion")),
        "performer_id": index.ref_id(obj.get("performer")),
        "report_id": text_of(first(obj.get("identifier")).get("value")) or text_of(obj.get("id")),
        "result_count": str(len(obj.get("result") or [])),
        **coded("code", obj.get("code")),
    }


FLATTENERS: dict[str, Callable[[Json, ReferenceIndex], Values]] = {
    **ADMIN_FLATTENERS,
    "fhir_patient": _patient,
    "fhir_practitioner": _practitioner,
    "fhir_organization": _organization,
    "fhir_encounter": _encounter,
    "fhir_condition": _condition,
    "fhir_observation": _observation,
    "fhir_medication": _medication,
    "fhir_allergy": _allergy,
    "fhir_immunization": _immunization,
    "fhir_procedure": _procedure,
    "fhir_report": _report,
}
"""Virtual table -> the function that fills its own columns."""
