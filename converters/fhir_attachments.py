"""Attachments inside FHIR resources (base64 ``data``) kept as documents with their original bytes.

DocumentReference ``content[].attachment``, DiagnosticReport ``presentedForm[]`` and Binary ``data``
are decoded and kept byte for byte under ``originals/documents/`` (with a PDF/A rendition when
renditions are on). The first attachment's columns go into the resource's own record; every
further one becomes a record of ``fhir_attachment``. An attachment that only points elsewhere
(``url``) keeps its URL; one whose base64 is broken is a deviation and is not kept.
"""

from __future__ import annotations

import base64
import binascii
from typing import Protocol

from converters.fhir_values import Json, parse_time, text_of
from converters.message_source import StoredOriginal

STANDARD = "FHIR R4"

SUFFIXES: dict[str, str] = {
    "application/pdf": ".pdf",
    "text/plain": ".txt",
    "text/rtf": ".rtf",
    "application/rtf": ".rtf",
    "text/html": ".html",
    "application/xhtml+xml": ".html",
    "text/xml": ".xml",
    "application/xml": ".xml",
    "application/hl7-v3+xml": ".xml",
    "application/fhir+json": ".json",
    "application/json": ".json",
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tif",
    "image/gif": ".gif",
    "application/msword": ".doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
}
"""MIME type (without parameters) -> file suffix of the kept original; anything else is ``.bin``."""


class OriginalSink(Protocol):
    """Where bytes and deviations go (``converters.message_source.Emit`` satisfies it)."""

    def original(self, data: bytes, *, kind: str, suffix: str, render: str | None = None) -> StoredOriginal:
        """Keep bytes in the package."""

    def deviation(self, ref: str, *, standard: str, element_path: str, message: str) -> None:
        """Report a deviation from the standard."""


def suffix_for(content_type: str | None) -> str:
    """Return the file suffix for a MIME type (parameters such as ``charset`` ignored)."""
    mime = (content_type or "").split(";")[0].strip().lower()
    return SUFFIXES.get(mime, ".bin")


def attachments(obj: Json) -> list[tuple[str, Json]]:
    """Return the attachments of a resource with their element paths."""
    kind = obj.get("resourceType")
    if kind == "Binary":
        return [("Binary", {"contentType": obj.get("contentType"), "data": obj.get("data")})]
    if kind == "DiagnosticReport":
        forms = obj.get("presentedForm") or []
        return [(f"presentedForm[{i}]", a) for i, a in enumerate(forms) if isinstance(a, dict)]
    if kind == "DocumentReference":
        out = []
        for i, content in enumerate(obj.get("content") or []):
            att = content.get("attachment") if isinstance(content, dict) else None
            if isinstance(att, dict):
                out.append((f"content[{i}].attachment", att))
        return out
    return []


def attachment_values(att: Json, path: str, ref: str, sink: OriginalSink, *, keep: bool) -> dict[str, str | None]:
    """Decode one attachment and keep its bytes (when ``keep``); return the document columns.

    Args:
        att: the Attachment object.
        path: its element path (for deviations).
        ref: the record reference (for deviations).
        sink: where bytes and deviations go.
        keep: whether to keep the bytes (False when the record will not convert, e.g. no known patient,
            so that no original is left without a row referring to it).
    """
    created = parse_time(att.get("creation"))
    values: dict[str, str | None] = {
        "mime_type": text_of(att.get("contentType")),
        "attachment_title": text_of(att.get("title")),
        "attachment_url": text_of(att.get("url")),
        "attachment_ts": created.text if created else None,
    }
    data = att.get("data")
    if not isinstance(data, str) or not keep:
        return values
    try:
        raw = base64.b64decode("".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        sink.deviation(ref, standard=STANDARD, element_path=f"{path}.data", message="data is not valid base64")
        return values
    stored = sink.original(raw, kind="documents", suffix=suffix_for(values["mime_type"]))
    cols = stored.columns()
    cols["rendition_status"] = cols.pop("status")
    values.update(cols)
    return values
