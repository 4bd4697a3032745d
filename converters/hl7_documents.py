"""Values of HL7 v2 results and documents: numbers, reference ranges, note bodies, attachments.

Pure helpers for the computed columns of the OBX and TXA records. An encapsulated document
(OBX value type ED, Base64 or hex encoded) is decoded and kept as an original of kind
``documents``; the OBX record then carries its path, SHA-256, size and media type.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
import re
from typing import TYPE_CHECKING

from converters.hl7_message import Segment

if TYPE_CHECKING:
    from converters.hl7_records import Sink

_NUMBER = re.compile(r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)\s*$")
_RANGE = re.compile(r"^\s*([+-]?\d+(?:\.\d+)?)\s*-\s*([+-]?\d+(?:\.\d+)?)\s*$")
_BOUND = re.compile(r"^\s*([<>]=?)\s*([+-]?\d+(?:\.\d+)?)\s*$")
TEXT_TYPES = frozenset({"TX", "FT", "ST", "CF", "CE", "CWE"})
"""OBX value types whose values, after a TXA, make up the document's text."""

DATA_TYPES = {"AP": "application", "IM": "image", "AU": "audio", "TEXT": "text", "TX": "text", "FT": "text"}
"""HL7 table 0191 (type of referenced data) -> top-level media type."""


def following(
    segments: list[Segment], index: int, ids: frozenset[str], stop_at: frozenset[str] | None = None
) -> list[Segment]:
    """Return the segments after ``segments[index]`` with ids in ``ids``.

    Without ``stop_at`` only the run right after the segment counts; with it, segments of other
    ids are skipped until one in ``stop_at`` (or the next segment of the same id) appears.
    """
    out: list[Segment] = []
    own = segments[index].segment_id
    for seg in segments[index + 1 :]:
        if seg.segment_id in ids:
            out.append(seg)
        elif stop_at is None or seg.segment_id in stop_at or seg.segment_id == own:
            break
    return out


def body_text(segments: list[Segment], index: int) -> str | None:
    """Return the text of the document a TXA heads: its text OBX values, one per line."""
    lines: list[str] = []
    for seg in segments[index + 1 :]:
        if seg.segment_id == "TXA":
            break
        if seg.segment_id == "OBX" and seg.raw(2).strip().upper() in TEXT_TYPES:
            lines.append(seg.text_of(5))
    return "\n".join(lines) or None


def numeric_value(value_type: str, seg: Segment) -> str | None:
    """Return OBX-5 as a plain number when it is one (NM, or an SN with no comparator), else None."""
    if value_type == "NM":
        text = seg.raw(5)
    elif value_type == "SN" and seg.part(5, 1) in ("", "=") and not seg.part(5, 3):
        text = seg.part(5, 2)
    else:
        return None
    return text.strip() if _NUMBER.match(text) else None


def reference_range(text: str) -> tuple[str | None, str | None]:
    """Return (low, high) of an OBX-7 reference range such as ``70-80``, ``<5`` or ``>=10``.

    Example:
        >>> reference_range("3.5 - 5.1")
        ('3.5', '5.1')
    """
    match = _RANGE.match(text)
    if match:
        return match.group(1), match.group(2)
    bound = _BOUND.match(text)
    if bound:
        return (None, bound.group(2)) if bound.group(1).startswith("<") else (bound.group(2), None)
    return None, None


def media_type(kind: str, subtype: str) -> str | None:
    """Return the media type of an ED value from its type of data and subtype (``AP^PDF`` -> application/pdf)."""
    top = DATA_TYPES.get(kind.upper(), kind.lower() if "/" not in kind and kind else "")
    if not top or not subtype:
        return None
    return f"{top}/{subtype.lower()}"


def _decode(encoding: str, data: str) -> bytes | None:
    cleaned = re.sub(r"\s+", "", data)
    try:
        if encoding == "BASE64":
            return base64.b64decode(cleaned, validate=True)
        if encoding == "HEX":
            return bytes.fromhex(cleaned)
    except (binascii.Error, ValueError):
        return None
    if encoding == "A":
        return data.encode("utf-8")
    return None


def attachment(seg: Segment, ref: str, sink: Sink) -> dict[str, str | None]:
    """Decode an ED value (OBX-5) and keep its bytes; return the document columns (empty if no data).

    OBX-5 of type ED is ``source^type of data^subtype^encoding^data``; the data is unescaped first.
    """
    encoding = seg.part(5, 4).strip().upper()
    data = seg.part(5, 5)
    mime = media_type(seg.part(5, 2).strip(), seg.part(5, 3).strip())
    out: dict[str, str | None] = {"document_mime": mime}
    if not data:
        return out
    raw = _decode(encoding, data)
    if raw is None:
        sink.deviation(
            ref,
            standard="HL7 v2",
            element_path="OBX-5.5",
            message=f"encapsulated data cannot be decoded as {encoding or 'an unnamed encoding'}",
        )
        return out
    suffix = (mimetypes.guess_extension(mime) if mime else None) or ".bin"
    kept = sink.original(raw, kind="documents", suffix=suffix)
    out.update(document_path=kept.path, document_sha256=kept.sha256, document_size=str(kept.size))
    rendition = kept.columns("document_")  # the PDF/A rendition, where the normaliser made one
    out.update({k: rendition[k] for k in ("document_pdfa_path", "document_pdfa_sha256", "document_page_count")})
    out.update(document_text_extract=kept.text, document_status=kept.status or "not_normalised")
    return out
