"""The KITH XML reader (``--system kith``): files or folders of Norwegian health-sector messages.

Each file is parsed once, safely (:mod:`converters.kith_xml`). Every message in it (MsgHead, also
inside NAV's fellesformat or inside another MsgHead; standalone Svarrapport/Epikrise/Henvisning;
AppRec; bare sykmelding) becomes one ``kith_message`` (or ``kith_apprec``) record, its patient a
``kith_patient`` record, every attachment a ``kith_attachment`` record and every payload the
records of its kind (:mod:`converters.kith_payload`); payloads of unknown kinds become
``kith_payload_unknown`` records, which the shipped mapping preserves raw. The file's bytes are
kept as an original, decoded attachments too. A file that is not XML is a rejected
``kith_message`` record with its bytes; schema deviations are findings (:mod:`converters.kith_schema`).
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import ClassVar

from converters.kith_envelope import (
    Envelope,
    documents,
    find_envelopes,
    header,
    patient,
    payloads,
)
from converters.kith_originals import KeptFile, UniqueRefs, emit_attachment
from converters.kith_payload import Record, payload_kind, read_payload
from converters.kith_schema import SchemaSet, find_xsd_folder
from converters.kith_values import normalise_date, normalise_timestamp, yes_no
from converters.kith_xml import (
    Element,
    XmlParseError,
    attr,
    element_path,
    first,
    kids,
    local,
    namespace,
    parse_xml,
    serialize,
    text,
    value,
)
from converters.message_source import Emit, MessageReader
from formats.privacy import mask_text

_PARTY = ("her_id", "name", "org_number", "person_name", "person_her_id", "person_hpr")
_HEADER = (
    "msg_id", "msg_type_code", "msg_type_display", "mig_version", "generated_at", "generated_at_utc", "ack",
    "conversation_ref", "parent_ref", *(f"sender_{p}" for p in _PARTY), *(f"receiver_{p}" for p in _PARTY),
)  # fmt: skip
_ORIGINAL = ("original_path", "original_sha256", "original_size")
_RENDITION = ("pdfa_path", "pdfa_sha256", "page_count", "text_extract")
_OWNER = ("msg_id", "patient_key")
_OID = re.compile(r"^[0-2](\.\d+)+$")

TABLES: dict[str, tuple[str, ...]] = {
    "kith_message": (
        "file", "envelope", "namespace", "wrapper", "outer_msg_id", *_HEADER, "patient_key", "patient_id_type",
        "payload_namespaces", "payload_kinds", "payload_known", "attachment_count", *_ORIGINAL, "xml",
        *_RENDITION, "rendition_status",
    ),
    "kith_patient": (
        "msg_id", "patient_key", "id_type_code", "id_type_system", "id_type_display", "family_name", "given_name",
        "middle_name", "full_name", "birth_date", "birth_date_norm", "sex_code", "sex_display", "street",
        "postal_code", "city", "county_code", "county_display", "country",
    ),
    "kith_apprec": (
        "file", "namespace", *_HEADER, "status_code", "status_display", "errors", "original_msg_id",
        "original_msg_type_code", "original_msg_type_display", "original_issue_date", "patient_key", *_ORIGINAL,
        "xml", *_RENDITION, "rendition_status",
    ),
    "kith_note": (
        *_OWNER, "note_kind", "heading_code", "heading_system", "heading_display", "text", "text_format",
        "text_raw", "written_at", "written_at_utc", "doc_id",
    ),
    "kith_diagnosis": (*_OWNER, "source_kind", "code", "system", "display", "original_text", "role", "recorded_at_utc"),
    "kith_lab_result": (
        *_OWNER, "report_id", "result_id", "analysis_code", "analysis_system", "analysis_display",
        "analysis_original_text", "value_text", "value_numeric", "unit", "reference_text", "reference_low",
        "reference_high", "flag_code", "flag_system", "flag_display", "material_code", "material_system",
        "material_display", "observed_at", "observed_at_utc", "status_code", "status_display", "comment",
        "lab_name", "lab_her_id",
    ),
    "kith_referral": (
        *_OWNER, "referral_id", "service_type", "issued_at", "issued_at_utc", "recipient_name", "recipient_her_id",
        "urgency_code", "urgency_system", "urgency_display", "reason_code", "reason_system", "reason_display",
        "diagnosis_code", "diagnosis_system", "diagnosis_display", "text",
    ),
    "kith_certificate": (
        *_OWNER, "certificate_code", "certificate_display", "issued_at", "issued_at_utc", "period_start",
        "period_end", "grade_percent", "diagnosis_code", "diagnosis_system", "diagnosis_display", "recipient", "text",
    ),
    "kith_attachment": (
        *_OWNER, "document_index", "msg_type", "mime_type", "title", "doc_id", "issue_date", "issue_date_utc",
        "status", "file_reference", "base64_text", *_ORIGINAL, *_RENDITION,
    ),
    "kith_payload_unknown": (*_OWNER, "namespace", "element", "xml"),
}  # fmt: skip
"""The virtual tables of the KITH reader and their columns (all text)."""


class KithReader(MessageReader):
    """KITH XML messages (MsgHead 1.2, fellesformat, AppRec, standalone 1.x messages), with the shipped mapping."""

    name: ClassVar[str] = "kith"
    title: ClassVar[str] = "KITH XML messages (MsgHead, Dialogmelding, Epikrise, Henvisning, Svarrapport, AppRec)"
    reads: ClassVar[str] = "a KITH XML message file, or a folder of them (also in NAV's EI_fellesformat)"
    default_mapping: ClassVar[str | None] = "kith"
    record_tables: ClassVar[dict[str, tuple[str, ...]]] = TABLES
    file_suffixes: ClassVar[tuple[str, ...]] = (".xml",)

    def __init__(self) -> None:
        """Start with no schemas loaded (they are found next to the source on first use)."""
        super().__init__()
        self._schemas: dict[Path, SchemaSet | None] = {}
        self._patient_of: dict[str, str] = {}

    def accepts(self, path: Path | str) -> bool:
        """Accept an XML file, or a folder with an XML file, whose first bytes name a KITH namespace."""
        p = Path(path)
        if p.is_file():
            return p.suffix.lower() == ".xml" and _looks_kith(p)
        if not p.is_dir():
            return False
        for i, f in enumerate(sorted(p.rglob("*.xml"))):
            if i >= 20:
                break
            if f.is_file() and _looks_kith(f):
                return True
        return False

    def files(self, path: Path) -> list[tuple[Path, str]]:
        """Return the message files sorted by relative path, application receipts (AppRec) last.

        Receipts come last so that the message each one answers has been read before it: the
        receipt then belongs to that message's patient (see docs/kith.md).
        """
        found = super().files(path)
        receipts = [f for f in found if _looks_apprec(f[0])]
        others = [f for f in found if not _looks_apprec(f[0])]
        return others + receipts

    def _schema_set(self, path: Path, rel: str) -> SchemaSet | None:
        depth = len(PurePosixPath(rel).parts)
        root = path.parents[depth - 1] if depth >= 1 else path.parent
        if root not in self._schemas:
            folder = find_xsd_folder(root)
            self._schemas[root] = SchemaSet(folder) if folder is not None else None
        return self._schemas[root]

    def extract(self, path: Path, rel: str, data: bytes, emit: Emit) -> None:
        """Parse one file and emit its messages, patients, payload records and attachments."""
        try:
            root = parse_xml(data)
        except XmlParseError as exc:
            emit.problem(
                "kith_message",
                f"{rel}#/",
                reason="unparseable_record",
                rule=f"kith: {mask_text(exc.message)}",
                raw=data,
            )
            return
        kept = KeptFile(data, emit)
        schemas = self._schema_set(path, rel)
        unique = UniqueRefs(emit)
        for env in find_envelopes(root):
            self._envelope(env, rel, kept, unique)
            if env.outer is None and schemas is not None:
                for dev in schemas.validate(env.element):
                    emit.deviation(
                        f"{rel}#{dev.element_path}",
                        standard=f"XSD {namespace(env.element)}",
                        element_path=dev.element_path,
                        message=mask_text(dev.message),
                    )

    def _envelope(self, env: Envelope, rel: str, kept: KeptFile, emit: Emit) -> None:
        el = env.element
        ref = f"{rel}#{element_path(el)}"
        head = header(env)
        head["generated_at_utc"] = normalise_timestamp(head.get("generated_at"))
        msg_id = head.get("msg_id")
        if env.kind == "apprec":
            receipt = _apprec(el)
            key = self._patient_of.get(receipt["original_msg_id"] or "")
            emit.record(
                "kith_apprec",
                ref,
                {"file": rel, "namespace": namespace(el), **head, **receipt, "patient_key": key, **kept.columns(key)},
            )
            return
        found = patient(env)
        key = found[1].get("patient_key") if found else None
        if found is not None:
            pat_el, values = found
            birth = values.get("birth_date")
            emit.record(
                "kith_patient",
                f"{rel}#{element_path(pat_el)}",
                {"msg_id": msg_id, **values, "birth_date_norm": normalise_date(birth)},
            )
        if key and msg_id:
            self._patient_of[msg_id] = key
        owner = {"msg_id": msg_id, "patient_key": key}
        kinds: list[str] = []
        spaces: list[str] = []
        known = env.kind != "unknown"
        for payload in payloads(env):
            kind = payload_kind(payload)
            spaces.append(namespace(payload))
            kinds.append(kind or "unknown")
            if kind == "msghead":
                continue  # a nested MsgHead is a message of its own (find_envelopes)
            records = read_payload(payload)
            if records is None:
                known = False
                _unknown(payload, rel, owner, emit)
                continue
            for rec in records:
                if rec.table == "kith_referral" and not rec.values.get("recipient_name"):
                    rec.values["recipient_name"] = head.get("receiver_name")
                    rec.values["recipient_her_id"] = head.get("receiver_her_id")
                _emit_record(rec, rel, owner, emit)
        attachments = 0
        if env.kind == "msghead":
            for index, part in enumerate(documents(el), start=1):
                if not part.payloads:
                    attachments += 1
                    emit_attachment(part, index, rel, owner, emit)
        if env.kind == "unknown":
            _unknown(el, rel, owner, emit)
            spaces.append(namespace(el))
        outer = header(Envelope(env.outer, "msghead")).get("msg_id") if env.outer is not None else None
        emit.record(
            "kith_message",
            ref,
            {
                "file": rel,
                "envelope": env.kind,
                "namespace": namespace(el),
                "wrapper": env.wrapper,
                "outer_msg_id": outer,
                **head,
                "patient_key": key,
                "patient_id_type": found[1].get("id_type_code") if found else None,
                "payload_namespaces": ";".join(spaces) or None,
                "payload_kinds": ";".join(kinds) or None,
                "payload_known": yes_no(known),
                "attachment_count": str(attachments),
                **kept.columns(key),
            },
        )


def _unknown(el: Element, rel: str, owner: dict[str, str | None], emit: Emit) -> None:
    emit.record(
        "kith_payload_unknown",
        f"{rel}#{element_path(el)}",
        {**owner, "namespace": namespace(el), "element": local(el), "xml": serialize(el)},
    )


def _apprec(el: Element) -> dict[str, str | None]:
    errors = [
        " ".join(p for p in (attr(e, "V"), attr(e, "DN"), f"(S={attr(e, 'S')})" if attr(e, "S") else None) if p)
        for e in kids(el, "Error")
    ]
    orig = first(el, "OriginalMsgId")
    return {
        "status_code": attr(el, "V", "Status"),
        "status_display": attr(el, "DN", "Status"),
        "errors": "; ".join(errors) or None,
        "original_msg_id": text(orig, "Id"),
        "original_msg_type_code": attr(orig, "V", "MsgType"),
        "original_msg_type_display": attr(orig, "DN", "MsgType"),
        "original_issue_date": value(orig, "IssueDate"),
    }


def oid_uri(system: str | None) -> str | None:
    """Return an OID as ``urn:oid:<oid>`` (the canonical model's form); anything else unchanged.

    Example:
        >>> oid_uri("2.16.578.1.12.4.1.1.7280")
        'urn:oid:2.16.578.1.12.4.1.1.7280'
    """
    if system and _OID.match(system):
        return f"urn:oid:{system}"
    return system


def _emit_record(rec: Record, rel: str, owner: dict[str, str | None], emit: Emit) -> None:
    values = {**owner, **{k: oid_uri(v) if k.endswith("system") else v for k, v in rec.values.items()}}
    if rec.table == "kith_diagnosis":
        values.setdefault("recorded_at_utc", None)
    emit.record(rec.table, f"{rel}#{element_path(rec.element)}", values)


def _head(path: Path) -> bytes:
    try:
        with path.open("rb") as fh:
            return fh.read(4096)
    except OSError:
        return b""


def _looks_kith(path: Path) -> bool:
    head = _head(path)
    return b"kith.no/xmlstds" in head or b"ehelse.no/xmlstds" in head or b"eiff/" in head


def _looks_apprec(path: Path) -> bool:
    return b"kith.no/xmlstds/apprec" in _head(path)
