"""The FHIR R4 reader (``--system fhir``): Bundles and bulk-export NDJSON as virtual tables of resources.

Two passes over the files: the first builds the :class:`~converters.fhir_index.ReferenceIndex`
(which patient each reference names, across files), the second emits one record per resource
(fhir_tables.py), keeps every file byte for byte as an original (referred to by a ``message`` row
per patient whose resources it holds), and keeps base64 attachments as documents. See docs/fhir.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

from converters.base import SourceInfo
from converters.fhir_attachments import STANDARD, attachment_values, attachments
from converters.fhir_index import ReferenceIndex, patient_key
from converters.fhir_json import BOM, BadPart, ParsedFile, Resource, parse_json, parse_ndjson_line
from converters.fhir_records import FLATTENERS, patient_reference
from converters.fhir_tables import (
    ATTACHMENT_TABLE,
    COMMON_COLUMNS,
    FILE_TABLE,
    OTHER_TABLE,
    RESOURCE_TABLES,
    record_tables,
)
from converters.fhir_values import parse_time, text_of
from converters.message_source import Emit, MessageReader

SNIFF_BYTES = 4096
NDJSON_SUFFIXES = (".ndjson", ".jsonl")
INDEXED_TYPES = (b'"Patient"', b'"Medication"', b'"DocumentReference"')


class FhirReader(MessageReader):
    """FHIR R4 JSON: Bundles of any type, single resources, and bulk ``$export`` NDJSON."""

    name: ClassVar[str] = "fhir"
    title: ClassVar[str] = "FHIR R4 (Bundles, resources, bulk-export NDJSON)"
    reads: ClassVar[str] = "a .json/.ndjson file or a folder of them: Bundles, single resources, NDJSON per type"
    default_mapping: ClassVar[str | None] = "fhir"
    record_tables: ClassVar[dict[str, tuple[str, ...]]] = record_tables()
    file_suffixes: ClassVar[tuple[str, ...]] = (".json", *NDJSON_SUFFIXES)

    def __init__(self) -> None:
        super().__init__()
        self.index = ReferenceIndex()

    def accepts(self, path: Path | str) -> bool:
        """Accept a FHIR JSON file, or a folder with at least one file that looks like FHIR JSON."""
        p = Path(path)
        if p.is_file():
            return p.suffix.lower() in self.file_suffixes and _looks_like_fhir(p)
        if not p.is_dir():
            return False
        return any(
            c.is_file() and c.suffix.lower() in self.file_suffixes and _looks_like_fhir(c) for c in sorted(p.rglob("*"))
        )

    def _extract_all(self, source: SourceInfo) -> Emit:
        """Build the reference index (first pass), then emit the records (second pass)."""
        if self._emit is None and source.path is not None:
            self.index = ReferenceIndex()
            for path, rel in self.files(source.path):
                for obj, full_url, position in _index_entries(rel, _decode(path.read_bytes())[0]):
                    self.index.add(obj, full_url, f"{rel}#{position}")
            self._skipped.clear()
        return super()._extract_all(source)

    def extract(self, path: Path, rel: str, data: bytes, emit: Emit) -> None:
        """Emit every resource of one file, its unreadable parts, and the file's own record(s)."""
        extract_file(rel, data, emit, self.index)


def _looks_like_fhir(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            head = fh.read(SNIFF_BYTES)
    except OSError:
        return False
    return b'"resourceType"' in head


def _decode(data: bytes) -> tuple[str, list[str]]:
    """Return the text of a file (UTF-8; a BOM dropped) and what deviated from the standard."""
    findings = []
    if data.startswith(BOM):
        data = data[len(BOM) :]
        findings.append("a byte order mark stands before the JSON")
    try:
        return data.decode("utf-8"), findings
    except UnicodeDecodeError:
        findings.append("the file is not valid UTF-8 (FHIR JSON must be); read as windows-1252")
        return data.decode("cp1252", errors="replace"), findings


def _index_entries(rel: str, text: str) -> Iterator[tuple[dict[str, object], str | None, str]]:
    """Yield (resource, fullUrl, place) for the first pass: plain ``json.loads``, no exact slices."""
    if rel.lower().endswith(NDJSON_SUFFIXES):
        for resource in _resources(rel, text, index_only=True):
            if isinstance(resource, Resource):
                yield resource.obj, resource.full_url, resource.position
        return
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:  # the second pass scans what it can, and rejects the rest
        for resource in _resources(rel, text):
            if isinstance(resource, Resource):
                yield resource.obj, resource.full_url, resource.position
        return
    if not isinstance(obj, dict):
        return
    if obj.get("resourceType") != "Bundle":
        yield obj, None, "resource"
        return
    for n, entry in enumerate(obj.get("entry") or [], start=1):
        found = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(found, dict):
            full_url = entry.get("fullUrl")
            yield found, full_url if isinstance(full_url, str) else None, f"entry={n}"


def _resources(rel: str, text: str, *, index_only: bool = False) -> Iterator[Resource | BadPart | ParsedFile]:
    """Yield the resources and bad parts of a file (NDJSON line by line), then its envelope."""
    if rel.lower().endswith(NDJSON_SUFFIXES):
        envelope = ParsedFile("ndjson")
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            if index_only and not any(t.decode() in line for t in INDEXED_TYPES):
                continue
            part = ParsedFile("ndjson")
            parse_ndjson_line(line, number, part)
            yield from part.resources
            yield from part.bad
        yield envelope
        return
    parsed = parse_json(text)
    yield from parsed.resources
    yield from parsed.bad
    yield ParsedFile(
        parsed.kind,
        bundle_type=parsed.bundle_type,
        bundle_id=parsed.bundle_id,
        bundle_timestamp=parsed.bundle_timestamp,
    )


def extract_file(rel: str, data: bytes, emit: Emit, index: ReferenceIndex) -> None:
    """Emit the records of one FHIR file (never raises for bad content)."""
    text, findings = _decode(data)
    for message in findings:
        emit.deviation(f"{rel}#", standard=STANDARD, element_path="file", message=message)
    patients: dict[str, None] = {}
    count = 0
    envelope = ParsedFile("resource")
    for part in _resources(rel, text):
        if isinstance(part, ParsedFile):
            envelope = part
        elif isinstance(part, BadPart):
            emit.problem(
                OTHER_TABLE, f"{rel}#{part.position}", reason="unparseable_record", rule=part.rule, raw=part.raw
            )
        else:
            count += 1
            key = _emit_resource(rel, part, emit, index)
            if index.known(key) and key is not None:
                patients.setdefault(key, None)
    _emit_file(rel, data, envelope, count, list(patients), emit)


def _emit_file(rel: str, data: bytes, envelope: ParsedFile, count: int, patients: list[str], emit: Emit) -> None:
    """Emit the file's record(s): one per patient whose resources it holds (each pointing at the kept file)."""
    base: dict[str, str | None] = {
        "file_ref": rel,
        "file_kind": envelope.kind,
        "bundle_type": envelope.bundle_type,
        "bundle_id": envelope.bundle_id,
        "bundle_ts": _ts_text(envelope.bundle_timestamp),
        "resource_count": str(count),
    }
    if not patients:  # no patient to file it under: no file record; its resources' exact text is in raw/
        return
    suffix = ".ndjson" if rel.lower().endswith(NDJSON_SUFFIXES) else ".json"
    kept = emit.original(data, kind="messages", suffix=suffix)
    for n, key in enumerate(patients, start=1):
        values = {
            **base,
            "patient_key": key,
            "message_id": envelope.bundle_id or f"{kept.sha256[:16]}/{n}",
            "original_path": kept.path,
            "original_sha256": kept.sha256,
            "original_size": str(kept.size),
        }
        emit.record(FILE_TABLE, f"{rel}#file/patient={n}", values)


def _emit_resource(rel: str, res: Resource, emit: Emit, index: ReferenceIndex) -> str | None:
    """Emit one resource's record (and its extra attachments); return its patient key."""
    obj = res.obj
    kind = str(obj["resourceType"])
    rid = text_of(obj.get("id"))
    table = RESOURCE_TABLES.get(kind, OTHER_TABLE)
    ref = f"{rel}#{res.position}/{kind}" + (f"/{rid}" if rid else "")
    if kind == "Patient":
        key: str | None = patient_key(obj, res.full_url, f"{rel}#{res.position}")
    else:
        key = index.patient(patient_reference(obj))
        if key is None and kind == "Binary" and rid:
            key = index.patient(index.binary_owner.get(rid))
    encounter = _encounter_reference(obj)
    values: dict[str, str | None] = {
        "file_ref": rel,
        "resource_type": kind,
        "resource_id": rid,
        "full_url": res.full_url,
        "patient_key": key,
        "encounter_id": rid if kind == "Encounter" else index.ref_id(encounter),
        "status": text_of(obj.get("status")),
        "resource_json": res.text,
    }
    flatten = FLATTENERS.get(table)
    if flatten is not None:
        values.update(flatten(obj, index))
    found = attachments(obj)
    for i, (path, att) in enumerate(found):
        cols = attachment_values(att, path, ref, emit, keep=index.known(key))
        if i == 0:
            values.update(cols)
            continue
        extra = {k: v for k, v in values.items() if k in COMMON_COLUMNS and k != "resource_json"}
        extra.update(parent_type=kind, parent_id=rid, attachment_index=str(i + 1), document_id=f"{rid}/{i + 1}")
        extra.update(cols)
        emit.record(ATTACHMENT_TABLE, f"{ref}/{path}", extra)
    if kind == "Binary":
        values["kept_binary"] = "true" if values.get("original_path") else None
    emit.record(table, ref, values)
    return key


def _ts_text(value: str | None) -> str | None:
    parsed = parse_time(value)
    return parsed.text if parsed else None


def _encounter_reference(obj: dict[str, object]) -> object:
    """Return the element that names the resource's encounter (``encounter``, or ``context``)."""
    if "encounter" in obj:
        return obj["encounter"]
    context = obj.get("context")
    if isinstance(context, dict) and "reference" not in context:
        return context.get("encounter")  # DocumentReference.context.encounter
    return context  # MedicationAdministration.context
