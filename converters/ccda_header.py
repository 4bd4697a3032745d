"""The CDA header -> ``ccda_patient`` and ``ccda_document`` values.

The patient key is the first ``recordTarget/patientRole/id`` with an extension: the number alone
for a Norwegian person identifier (FNR, D-nummer, FHN, DUF), ``extension@root`` otherwise (the same
MRN of two different clinics is two patients). A document whose patient has no usable id keys
the patient by the document (``document:<document id or file>``): the patient exists, only the
id is missing.
"""

from __future__ import annotations

from converters.ccda_entries import _id_text
from converters.ccda_tables import NORWEGIAN_PERSON_IDS, code_system_uri
from converters.ccda_xml import Element, attr, first, iso_date, iso_time, kids, template_ids, text

Values = dict[str, str | None]


def document_id(root: Element) -> str | None:
    """Return the document's id as ``extension@root`` (None without one)."""
    return _id_text(first(root, "id"))


def patient_values(root: Element, doc_id: str | None, rel: str) -> Values | None:
    """Return the ``ccda_patient`` values, or None when the file has no recordTarget at all."""
    role = first(root, "recordTarget", "patientRole")
    if role is None:
        return None
    ids: list[tuple[str | None, str | None]] = [(attr(i, "root"), attr(i, "extension")) for i in kids(role, "id")]
    chosen: tuple[str | None, str | None] | None = next(
        ((r, e) for r, e in ids if e and r in NORWEGIAN_PERSON_IDS), None
    )
    chosen = chosen or next(((r, e) for r, e in ids if e), None)
    if chosen is not None:
        root_oid, ext = chosen
        system: str | None
        key = ext if root_oid in NORWEGIAN_PERSON_IDS else f"{ext}@{root_oid}" if root_oid else ext
        system = NORWEGIAN_PERSON_IDS.get(root_oid or "") or (f"urn:oid:{root_oid}" if root_oid else None)
    else:
        root_oid = ext = system = None
        key = f"document:{doc_id or rel}"
    person = first(role, "patient")
    name = first(person, "name")
    given = [text(g) for g in kids(name, "given")]
    addr = first(role, "addr")
    phone = next((attr(t, "value") for t in kids(role, "telecom") if (attr(t, "value") or "").startswith("tel")), None)
    sex = first(person, "administrativeGenderCode")
    marital = first(person, "maritalStatusCode")
    others = [f"{e or ''}@{r or ''}" for r, e in ids if (r, e) != chosen]
    return {
        "patient_key": key,
        "document_id": doc_id,
        "id_root": root_oid,
        "id_extension": ext,
        "identifier_system": system,
        "other_ids": " ".join(others) or None,
        "family_name": text(name, "family"),
        "given_name": " ".join(g for g in given if g) or None,
        "name_prefix": text(name, "prefix"),
        "name_suffix": text(name, "suffix"),
        "birth_date": iso_date(attr(person, "value", "birthTime")),
        "death_date": iso_date(attr(person, "value", "{urn:hl7-org:sdtc}deceasedTime")),
        "sex_code": attr(sex, "code"),
        "sex_display": attr(sex, "displayName"),
        "marital_code": attr(marital, "code"),
        "marital_display": attr(marital, "displayName"),
        "address_line": " ".join(s for s in (text(x) for x in kids(addr, "streetAddressLine")) if s) or None,
        "city": text(addr, "city"),
        "county": text(addr, "county") or text(addr, "state"),
        "postal_code": text(addr, "postalCode"),
        "country": text(addr, "country"),
        "phone": phone.removeprefix("tel:") if phone else None,
    }


def document_values(root: Element, doc_id: str | None, patient_key: str | None) -> Values:
    """Return the ``ccda_document`` values of the header (without the original's columns)."""
    code = first(root, "code")
    author = first(root, "author", "assignedAuthor")
    person = first(author, "assignedPerson", "name")
    device = first(author, "assignedAuthoringDevice")
    author_name = _name(person) or (text(device, "softwareName") if device is not None else None)
    custodian = first(root, "custodian", "assignedCustodian", "representedCustodianOrganization")
    encounter = first(root, "componentOf", "encompassingEncounter")
    enc_code = first(encounter, "code")
    body = first(root, "component")
    body_kind = None
    if body is not None:
        body_kind = "structured" if first(body, "structuredBody") is not None else None
        body_kind = body_kind or ("nonXML" if first(body, "nonXMLBody") is not None else "empty")
    return {
        "patient_key": patient_key,
        "document_id": doc_id,
        "set_id": _id_text(first(root, "setId")),
        "version": attr(root, "value", "versionNumber"),
        "template_ids": " ".join(template_ids(root)) or None,
        "type_code": attr(code, "code"),
        "type_system": code_system_uri(attr(code, "codeSystem")),
        "type_display": attr(code, "displayName"),
        "title": text(root, "title"),
        "effective_ts": iso_time(attr(root, "value", "effectiveTime")),
        "author_id": _id_text(first(author, "id")),
        "author_name": author_name,
        "author_organisation": text(author, "representedOrganization", "name"),
        "custodian_id": _id_text(first(custodian, "id")),
        "custodian_name": text(custodian, "name"),
        "encounter_id": _id_text(first(encounter, "id")),
        "encounter_start_ts": iso_time(attr(encounter, "value", "effectiveTime", "low"))
        or iso_time(attr(encounter, "value", "effectiveTime")),
        "encounter_end_ts": iso_time(attr(encounter, "value", "effectiveTime", "high")),
        "encounter_code": attr(enc_code, "code"),
        "encounter_display": attr(enc_code, "displayName"),
        "body_kind": body_kind,
        "root_element": root.tag if isinstance(root.tag, str) else None,
    }


def _name(name: Element | None) -> str | None:
    if name is None:
        return None
    parts = [text(p) for p in name if isinstance(p.tag, str)]
    return " ".join(p for p in parts if p) or text(name)
