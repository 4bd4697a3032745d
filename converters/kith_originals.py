"""What the KITH reader keeps besides records: original bytes, attachments, unique refs.

A message file's bytes are stored once, content-addressed, when a record that will become a
canonical row references them (:class:`KeptFile`); attachments are decoded strictly and kept as
documents (:func:`emit_attachment`); :class:`UniqueRefs` keeps ``source_ref`` unique within a file.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping

from converters.kith_envelope import DocumentPart
from converters.kith_values import normalise_timestamp
from converters.kith_xml import all_text, element_path
from converters.message_source import Emit, StoredOriginal

SUFFIXES = {
    "application/pdf": ".pdf",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/png": ".png",
    "image/tiff": ".tif",
    "image/gif": ".gif",
    "text/plain": ".txt",
    "text/html": ".html",
    "application/xml": ".xml",
    "text/xml": ".xml",
    "application/rtf": ".rtf",
}
"""File suffix of a kept attachment by its declared MIME type (``.bin`` otherwise)."""


def decode_base64(raw: str | None) -> bytes | None:
    """Decode a Base64Container's text strictly (white space allowed); None when it is not valid base64.

    Example:
        >>> decode_base64("aGVp")
        b'hei'
        >>> decode_base64("base64") is None
        True
    """
    if raw is None:
        return b""
    compact = "".join(raw.split())
    try:
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        return None


class UniqueRefs(Emit):
    """An ``Emit`` front that keeps refs unique within a file (the ledger needs one fate per ref).

    Two records can sit at the same element (a bare sykmelding is both the message and the
    certificate); the later one gets ``@<table>`` (and a number if needed) appended to its ref.
    """

    def __init__(self, emit: Emit) -> None:  # noqa: D107 - a thin front, nothing of its own to set up
        self._emit = emit
        self._seen: set[str] = set()

    def record(self, table: str, ref: str, values: Mapping[str, str | None]) -> None:
        """Pass the record on under a ref no other record of this file has."""
        unique, n = ref, 1
        while unique in self._seen:
            unique = f"{ref}@{table}" if n == 1 else f"{ref}@{table}[{n}]"
            n += 1
        self._seen.add(unique)
        self._emit.record(table, unique, values)

    def original(self, data: bytes, *, kind: str, suffix: str, render: str | None = None) -> StoredOriginal:
        """Keep bytes in the package (see :meth:`Emit.original`)."""
        return self._emit.original(data, kind=kind, suffix=suffix, render=render)

    def deviation(self, ref: str, *, standard: str, element_path: str, message: str) -> None:
        """Record a finding (see :meth:`Emit.deviation`)."""
        self._emit.deviation(ref, standard=standard, element_path=element_path, message=message)


class KeptFile:
    """The bytes of one file: stored as an original once a record that owns it belongs to a patient.

    A record without a patient cannot become a canonical row, so its original would be an orphan in
    the package; such a record carries the file's text in its ``xml`` column instead (kept in
    ``raw/`` or ``rejects/`` with the record).
    """

    def __init__(self, data: bytes, emit: Emit) -> None:
        self.data = data
        self.emit = emit
        self.stored: StoredOriginal | None = None

    def columns(self, patient_key: str | None) -> dict[str, str | None]:
        """Return the columns that point at the kept bytes, or (no patient) the file's text."""
        if not patient_key:
            return {"xml": verbatim_text(self.data)}
        if self.stored is None:  # with its readable PDF/A rendition (formats.message_render)
            self.stored = self.emit.original(self.data, kind="messages", suffix=".xml", render="kith")
        columns = self.stored.columns()
        columns["rendition_status"] = columns.pop("status")
        return columns


def verbatim_text(data: bytes) -> str:
    """Return a file's text in its declared encoding (UTF-8 by default); bytes that do not decode as ``\\xNN``."""
    head = data[:200].decode("ascii", errors="replace")
    encoding = "utf-8"
    marker = head.find("encoding=")
    if head.startswith("<?xml") and marker > 0:
        quoted = head[marker + 9 :]
        if quoted[:1] in "\"'":
            encoding = quoted[1:].split(quoted[0], 1)[0] or "utf-8"
    try:
        return data.decode(encoding, errors="backslashreplace")
    except LookupError:
        return data.decode("utf-8", errors="backslashreplace")


def emit_attachment(part: DocumentPart, index: int, rel: str, owner: dict[str, str | None], emit: Emit) -> None:
    """Emit one ``kith_attachment`` record; keep decoded bytes as a document original when it has a patient."""
    values: dict[str, str | None] = {
        **owner,
        "document_index": str(index),
        "msg_type": part.msg_type,
        "mime_type": part.mime_type,
        "title": part.description,
        "doc_id": part.doc_id,
        "issue_date": part.issue_date,
        "issue_date_utc": normalise_timestamp(part.issue_date),
        "file_reference": part.file_reference,
    }
    where = part.base64 if part.base64 is not None else part.ref_doc
    ref = f"{rel}#{element_path(where)}"
    if part.base64 is None:
        values["status"] = "file_reference" if part.file_reference else "empty"
    else:
        decoded = decode_base64(all_text(part.base64))
        if decoded is None:
            values["status"] = "invalid_base64"
            values["base64_text"] = part.base64.text
            emit.deviation(
                ref,
                standard="KITH base64container",
                element_path=element_path(part.base64),
                message="Base64Container is not valid base64; its text is kept verbatim in raw/kith_attachment",
            )
        elif not decoded:
            values["status"] = "empty"
        elif not owner.get("patient_key"):
            values["status"] = "decoded_no_patient"
            values["base64_text"] = part.base64.text
        else:
            suffix = SUFFIXES.get((part.mime_type or "").strip().lower(), ".bin")
            kept = emit.original(decoded, kind="documents", suffix=suffix)
            values.update(kept.columns())  # original and PDF/A rendition (status: the normaliser's)
            values["status"] = kept.status or "decoded"
    emit.record("kith_attachment", ref, values)
