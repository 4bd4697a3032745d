"""Attachments of a CDA document -> ``ccda_attachment`` records with their original bytes kept.

Two places hold attachments: a ``nonXMLBody/text`` (the whole body is a PDF, RTF, text or image,
embedded as base64 or referenced by a relative file name) and ``observationMedia/value`` inside
sections. Embedded bytes are base64-decoded and kept as they are (a ``compression`` attribute is
recorded, not undone); a reference is read from the folder of the CDA file when it names a file
inside the source folder, and recorded as missing otherwise. A record without a patient carries no
original (it would be an orphan in the package); its bytes stay in the CDA original.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from converters.ccda_xml import Element, attr, element_path, first, text
from converters.message_source import StoredOriginal

Values = dict[str, str | None]
SUFFIXES: dict[str, str] = {
    "application/pdf": ".pdf",
    "text/rtf": ".rtf",
    "application/rtf": ".rtf",
    "text/plain": ".txt",
    "text/html": ".html",
    "text/xml": ".xml",
    "application/xml": ".xml",
    "image/jpeg": ".jpg",
    "image/jpg": ".jpg",
    "image/png": ".png",
    "image/gif": ".gif",
    "image/tiff": ".tif",
    "application/msword": ".doc",
}


class Keeper(Protocol):
    """Keeps bytes in the package (``Emit.original``)."""

    def original(self, data: bytes, *, kind: str, suffix: str, render: str | None = None) -> StoredOriginal:
        """Keep bytes."""


def attachment_elements(root: Element) -> Iterator[tuple[str, Element]]:
    """Yield (location, element holding the ED value) of the nonXMLBody and of every observationMedia."""
    body = first(root, "component", "nonXMLBody")
    if body is not None:
        value = first(body, "text")
        if value is not None:
            yield "nonXMLBody", value
    for media in root.iter("observationMedia"):
        value = first(media, "value")
        if value is not None:
            yield "observationMedia", value


def attachment_values(
    value: Element, location: str, *, source_file: Path, source_root: Path, keep: Keeper | None
) -> tuple[Values, str | None]:
    """Return the record values of one attachment (with its kept original) and a deviation message, if any."""
    media_type = attr(value, "mediaType") or "text/plain"
    representation = attr(value, "representation") or "TXT"
    reference = attr(value, "value", "reference")
    values: Values = {
        "location": location,
        "media_type": media_type,
        "representation": representation,
        "reference": reference,
        "title": None,
    }
    data: bytes | None = None
    problem: str | None = None
    if reference and not "".join(value.itertext()).strip():
        data, problem = _referenced(reference, source_file, source_root)
        if data is not None and media_type == "text/plain" and reference.lower().endswith(".pdf"):
            values["media_type"] = media_type = "application/pdf"
    elif representation.upper() == "B64":
        raw = "".join("".join(value.itertext()).split())
        try:
            data = base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            problem = f"{element_path(value)}: the base64 content does not decode"
        if attr(value, "compression"):
            problem = f"{element_path(value)}: compressed ({attr(value, 'compression')}); kept as embedded"
    else:
        content = text(value)
        data = content.encode("utf-8") if content else None
    if problem and data is None:
        values["problem"] = problem
    if data is not None and keep is not None:
        stored = keep.original(data, kind="documents", suffix=SUFFIXES.get(media_type.lower(), ".bin"))
        columns = stored.columns()
        columns["rendition_status"] = columns.pop("status")
        values.update(columns)
    return values, problem


def _referenced(reference: str, source_file: Path, source_root: Path) -> tuple[bytes | None, str | None]:
    """Read a referenced attachment next to the CDA file, refusing paths that leave the source folder."""
    if "://" in reference:
        return None, f"the attachment {reference!r} is on the network; not fetched"
    target = (source_file.parent / reference).resolve()
    root = source_root.resolve()
    if root != target and root not in target.parents:
        return None, f"the attachment {reference!r} is outside the source folder; not read"
    if not target.is_file():
        flattened = sorted(source_file.parent.glob(f"*__{Path(reference).name}"))  # collections that fold folders
        if "/" in reference or len(flattened) != 1:
            return None, f"the referenced attachment {reference!r} is not in the source folder"
        target = flattened[0]
    return target.read_bytes(), None
