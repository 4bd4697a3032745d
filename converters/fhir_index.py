"""The reference index: which patient a reference names, across every file of the source.

Built in a first pass over the files, before any record is emitted, so that a resource in one file
can name a patient in another (bulk NDJSON: ``Observation.ndjson`` names ``Patient/123`` of
``Patient.ndjson``). It holds only strings, and only for the resources that others need resolved:

- every Patient: its id, ``Patient/<id>``, its ``fullUrl`` and each identifier (``system|value`` and the
  bare value, for conditional references ``Patient?identifier=...``) -> the patient key (its id);
- Binary ids named by a DocumentReference's attachment URL -> that DocumentReference's patient;
- Medication resources -> their code (system, code, display, text), for ``medicationReference``;
- a ``fullUrl`` that does not end in its resource's id (``urn:uuid:`` of a transaction entry whose
  resource has another id) -> that id, so that references give the id the canonical rows use.

Memory: about 200 bytes per patient alias, per Binary, per Medication and per such fullUrl (not per
Observation or Encounter in the usual case): 10,000 patients with 5 identifiers cost about 10 MB. See docs/fhir.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from converters.fhir_values import Json, concept, first, id_of, reference_id, reference_text, text_of


@dataclass
class ReferenceIndex:
    """Aliases of patients, Binary owners and Medication codes (see the module docstring)."""

    patients: dict[str, str] = field(default_factory=dict)
    keys: set[str] = field(default_factory=set)
    binary_owner: dict[str, str] = field(default_factory=dict)
    medications: dict[str, dict[str, str | None]] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)

    def add(self, obj: Json, full_url: str | None, fallback_key: str) -> None:
        """Index one resource of the first pass (types nobody refers to through the index are ignored)."""
        kind = obj.get("resourceType")
        rid = text_of(obj.get("id"))
        if full_url and rid and id_of(full_url) != rid:
            self.ids[full_url] = rid  # a fullUrl that does not end in the id (urn:uuid of a transaction)
        if kind == "Patient":
            key = patient_key(obj, full_url, fallback_key)
            self.keys.add(key)
            aliases = [key, f"Patient/{key}"]
            if full_url:
                aliases.append(full_url)
            for ident in obj.get("identifier") or []:
                if isinstance(ident, dict) and isinstance(ident.get("value"), str):
                    aliases.append(f"{ident.get('system', '')}|{ident['value']}")
            for alias in aliases:
                self.patients.setdefault(alias, key)
        elif kind == "Medication":
            code = concept(obj.get("code"))
            for med_alias in (rid, f"Medication/{rid}" if rid else None, full_url):
                if med_alias:
                    self.medications[med_alias] = code
        elif kind == "DocumentReference":
            owner = reference_text(obj.get("subject"))
            if owner is None:
                return
            for content in obj.get("content") or []:
                url = first(content).get("attachment", {}).get("url") if isinstance(content, dict) else None
                if isinstance(url, str) and ("Binary/" in url or url.startswith("urn:uuid:")):
                    self.binary_owner[id_of(url)] = owner

    def patient(self, ref: str | None) -> str | None:
        """Return the patient key a reference string names, or (unresolved) the id it names, or None."""
        if not ref:
            return None
        if ref in self.patients:
            return self.patients[ref]
        ident = id_of(ref)
        if "?" in ref:
            query = ref.split("?", 1)[1]
            for part in query.split("&"):
                k, _, v = part.partition("=")
                if k == "identifier" and v in self.patients:
                    return self.patients[v]
        for alias in (f"Patient/{ident}", ident):
            if alias in self.patients:
                return self.patients[alias]
        return ident

    def ref_id(self, value: object) -> str | None:
        """Return the id of the resource a Reference names (through a fullUrl alias where there is one)."""
        ref = reference_text(value)
        if ref is not None and ref in self.ids:
            return self.ids[ref]
        return reference_id(value)

    def known(self, key: str | None) -> bool:
        """Whether ``key`` is the key of a Patient in the source."""
        return key is not None and key in self.keys

    def medication(self, ref: str | None) -> dict[str, str | None]:
        """Return the code of the Medication a reference names (empty values when not in the source)."""
        empty: dict[str, str | None] = {"system": None, "code": None, "display": None, "text": None}
        if not ref:
            return empty
        return self.medications.get(ref) or self.medications.get(id_of(ref)) or empty


def patient_key(obj: Json, full_url: str | None, fallback_key: str) -> str:
    """Return a Patient's key: its id, else the id in its fullUrl, else ``fallback_key`` (its place)."""
    rid = text_of(obj.get("id"))
    if rid:
        return rid
    if full_url:
        return id_of(full_url)
    return fallback_key
