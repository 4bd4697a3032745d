"""One HL7 v2 file -> records of the virtual tables, kept originals and deviations.

Every segment of every message becomes exactly one record: of its segment's table
(``hl7_pid``, ``hl7_obx``, ...) or of ``hl7_segment_other``; the MSH record stands for the whole
message and carries the path of its kept bytes. Batch envelope segments (FHS/BHS/BTS/FTS) are
records of ``hl7_segment_other`` too. A file with no MSH at all is one unreadable record.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from converters.hl7_context import SegmentContext, message_context
from converters.hl7_documents import attachment, body_text, following, numeric_value, reference_range
from converters.hl7_escape import Delimiters
from converters.hl7_message import RawMessage, Segment, decode_message, msh_charset, split_file
from converters.hl7_tables import (
    KNOWN_SEGMENTS,
    OTHER_TABLE,
    REQUIRED_FIELDS,
    SEGMENT_TABLES,
    ColumnSource,
    column_source,
)
from converters.hl7_timestamp import DEFAULT_ZONE, parse_dtm
from converters.message_source import StoredOriginal

STANDARD = "HL7 v2"
Values = dict[str, str | None]
LAB_PARENTS = frozenset({"OBR", "SPM", "ORC"})
MEDICATION_PARENTS = frozenset({"RXA", "RXE", "RXO", "RXD", "RXG"})
VACCINE_MESSAGES = frozenset({"VXU", "VXR", "VXX", "RSP"})


class Sink(Protocol):
    """Where records go (``converters.message_source.Emit`` satisfies it)."""

    def record(self, table: str, ref: str, values: dict[str, str | None]) -> None:
        """Add one record."""

    def original(self, data: bytes, *, kind: str, suffix: str, render: str | None = None) -> StoredOriginal:
        """Keep bytes in the package."""

    def problem(self, table: str, ref: str, *, reason: str, rule: str, raw: bytes, field: str | None = None) -> None:
        """Report an unreadable record."""

    def deviation(self, ref: str, *, standard: str, element_path: str, message: str) -> None:
        """Report a deviation from the standard."""


_SOURCES: dict[str, tuple[ColumnSource, ...]] = {
    sid: tuple(column_source(c) for c in cols) for sid, (_t, cols) in SEGMENT_TABLES.items()
}


def extract_file(rel: str, data: bytes, sink: Sink, *, zone: str = DEFAULT_ZONE) -> None:
    """Emit the records of one HL7 v2 file (never raises for bad content).

    Args:
        rel: the file's path relative to the source (used in every reference).
        data: the file's bytes.
        sink: where records, originals and deviations go.
        zone: IANA zone for times written without a UTC offset.
    """
    layout = split_file(data)
    if not layout.messages:
        sink.problem(
            "hl7_msh",
            f"{rel}#",
            reason="unparseable_record",
            rule="HL7 v2: a message starts with an MSH segment; the file holds none",
            raw=data,
        )
        return
    for finding in layout.findings:
        sink.deviation(f"{rel}#", standard=STANDARD, element_path=finding.element_path, message=finding.message)
    for k, seg in enumerate(layout.outside, start=1):
        text = _decode_loose(data[seg.start : seg.end])
        values: Values = {"segment_id": seg.segment_id, "segment_index": str(k), "segment_text": text}
        sink.record(OTHER_TABLE, f"{rel}#outside={k}/{seg.segment_id}", values)
    for m, msg in enumerate(layout.messages, start=1):
        _extract_message(rel, m, data, msg, sink, zone)


def _decode_loose(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _segment_ends(raw: bytes) -> str:
    crlf = raw.count(b"\r\n")
    cr, lf = raw.count(b"\r") - crlf, raw.count(b"\n") - crlf
    kinds = [name for name, n in (("CR", cr), ("LF", lf), ("CRLF", crlf)) if n]
    return "+".join(kinds) or "CR"


def _extract_message(rel: str, m: int, data: bytes, msg: RawMessage, sink: Sink, zone: str) -> None:
    message_ref = f"{rel}#msg={m}"
    raw = data[msg.start : msg.end]
    charset = msh_charset(data[msg.segments[0].start : msg.segments[0].end])
    _text, codec, findings = decode_message(raw, charset)
    for finding in findings:
        sink.deviation(message_ref, standard=STANDARD, element_path=finding.element_path, message=finding.message)
    if msg.bom:
        sink.deviation(
            message_ref, standard=STANDARD, element_path="MSH", message="a byte order mark stands before MSH"
        )
    ends = _segment_ends(raw)
    if ends != "CR":
        sink.deviation(
            message_ref, standard=STANDARD, element_path="segment end", message=f"segments end with {ends}, not CR"
        )
    texts = [data[s.start : s.end].decode(codec) for s in msg.segments]
    delimiters = Delimiters.from_msh(texts[0])
    segments = [Segment(t, delimiters) for t in texts]
    contexts = message_context(segments, message_ref, zone=zone)
    kept = sink.original(raw, kind="messages", suffix=".hl7", render="hl7v2")  # with its readable PDF/A
    msh = segments[0]
    shared: Values = {
        "message_ref": message_ref,
        "message_control_id": msh.part(10) or None,
        "message_code": msh.part(9, 1) or None,
        "message_type": "^".join(p for p in (msh.part(9, 1), msh.part(9, 2)) if p) or None,
        "message_ts": _iso(msh.part(7), zone),
    }
    for i, (seg, ctx) in enumerate(zip(segments, contexts, strict=True)):
        table = SEGMENT_TABLES.get(seg.segment_id, (OTHER_TABLE, ()))[0]
        ref = message_ref if i == 0 else ctx.ref
        values = _context_values(shared, seg, ctx)
        _check(seg, ref, sink)
        if table == OTHER_TABLE:
            values["segment_text"] = seg.text
        else:
            values.update(_segment_values(seg, ref, sink, zone))
            extra = _COMPUTED.get(seg.segment_id)
            if extra is not None:
                values.update(extra(_Neighbours(segments, contexts, i, shared, sink, ref, zone)))
        if i == 0:
            values.update(
                original_path=kept.path,
                original_sha256=kept.sha256,
                original_size=str(kept.size),
                codec=codec,
                bom="true" if msg.bom else None,
                segment_count=str(len(segments)),
                segment_ends=ends,
                **{k: v for k, v in kept.columns().items() if k.startswith(("pdfa_", "page_", "text_"))},
                rendition_status=kept.status,
            )
        sink.record(table, ref, values)


def _iso(value: str, zone: str) -> str | None:
    parsed = parse_dtm(value, zone=zone) if value else None
    return parsed.iso_utc() if parsed else None


def _shape(text: str) -> str:
    """Return the form of a value without its content (digits as 9, letters as A): deviations name no patient data."""
    return "".join("9" if c.isdigit() else "A" if c.isalpha() else c for c in text[:40])


def _context_values(shared: Values, seg: Segment, ctx: SegmentContext) -> Values:
    return {
        **shared,
        "segment_id": seg.segment_id,
        "segment_index": str(ctx.segment_index),
        "patient_key": ctx.patient_key,
        "visit_number": ctx.visit_number,
        "visit_id": ctx.visit_id,
        "order_placer": ctx.order_placer,
        "order_filler": ctx.order_filler,
        "report_id": ctx.report_id,
        "parent_segment": ctx.parent_segment,
        "parent_ref": ctx.parent_ref,
    }


def _check(seg: Segment, ref: str, sink: Sink) -> None:
    sid = seg.segment_id
    if sid not in KNOWN_SEGMENTS and not sid.startswith("Z"):
        sink.deviation(ref, standard=STANDARD, element_path=sid, message=f"unknown segment id {sid!r}")
    for number in REQUIRED_FIELDS.get(sid, ()):
        if not seg.raw(number).strip():
            sink.deviation(ref, standard=STANDARD, element_path=f"{sid}-{number}", message="required field is empty")


def _segment_values(seg: Segment, ref: str, sink: Sink, zone: str) -> Values:
    out: Values = {}
    for src in _SOURCES[seg.segment_id]:
        if src.kind == "text":
            value = seg.text_of(src.field)
        elif src.kind in ("ts", "date"):
            text = seg.part(src.field, src.component or 1)
            parsed = parse_dtm(text, zone=zone) if text else None
            if text and parsed is None:
                position = f"{seg.segment_id}-{src.field}" + (f".{src.component}" if src.component else "")
                problem = f"not an HL7 date/time (shape {_shape(text)})"
                sink.deviation(ref, standard=STANDARD, element_path=position, message=problem)
            if parsed is None:
                value = ""
            elif src.kind == "ts":
                value = parsed.iso_utc()
            else:
                value = parsed.day.isoformat() if parsed.day else ""
        elif src.component:
            value = seg.part(src.field, src.component, src.subcomponent)
        else:
            value = seg.raw(src.field)
        out[src.name] = value or None
    return out


class _Neighbours:
    """A segment with the message around it, for the computed columns."""

    def __init__(
        self,
        segments: list[Segment],
        contexts: list[SegmentContext],
        index: int,
        shared: Values,
        sink: Sink,
        ref: str,
        zone: str,
    ) -> None:
        self.segments = segments
        self.contexts = contexts
        self.index = index
        self.seg = segments[index]
        self.ctx = contexts[index]
        self.shared = shared
        self.sink = sink
        self.ref = ref
        self.zone = zone

    def after(self, ids: frozenset[str], stop_at: frozenset[str] | None = None) -> list[Segment]:
        """Return the segments right after this one whose ids are in ``ids`` (stopping at the first other)."""
        return following(self.segments, self.index, ids, stop_at)

    def ts(self, number: int, component: int = 1) -> str | None:
        """Return a DTM of this segment as a UTC instant, or None."""
        return _iso(self.seg.part(number, component), self.zone)


def _pid(n: _Neighbours) -> Values:
    return {"pid_3_system": n.seg.part(3, 4, 2) or n.seg.part(3, 4, 1) or None}


def _obx(n: _Neighbours) -> Values:
    seg, ctx = n.seg, n.ctx
    value_type = seg.raw(2).strip().upper()
    parent = ctx.parent_segment or ""
    if value_type == "ED":
        category = "attachment"
    elif parent in LAB_PARENTS:
        category = "lab"
    elif parent in MEDICATION_PARENTS:
        category = "medication"
    elif parent == "TXA":
        category = "document_body"
    else:
        category = "measurement"
    low, high = reference_range(seg.part(7, 1))
    comments = [s.text_of(3) for s in n.after(frozenset({"NTE", "PRT"})) if s.segment_id == "NTE"]
    values: Values = {
        "category": category,
        "value_text": None if value_type == "ED" else seg.text_of(5) or None,
        "value_numeric": numeric_value(value_type, seg),
        "reference_low": low,
        "reference_high": high,
        "comment": "\n".join(c for c in comments if c) or None,
        "observed_ts": n.ts(14) or ctx.order_observed_ts,
        "requester_id": ctx.requester_id,
    }
    if value_type == "ED":
        values.update(attachment(seg, n.ref, n.sink))
    return values


def _nte(n: _Neighbours) -> Values:
    parent = n.ctx.parent_segment or ""
    if not n.seg.raw(3).strip():
        category = "empty"
    elif parent == "OBX":
        category = "result_comment"
    else:
        category = "order_comment" if parent in LAB_PARENTS else "note"
    return {"category": category, "recorded_ts": n.ts(6) or n.shared["message_ts"]}


def _rxa(n: _Neighbours) -> Values:
    vaccine = n.seg.part(5, 3).upper() == "CVX" or (n.shared["message_code"] or "") in VACCINE_MESSAGES
    rxr = n.after(frozenset({"RXR"}), stop_at=frozenset({"RXA", "ORC"}))
    route = rxr[0].part(1, 2) or rxr[0].part(1, 1) if rxr else ""
    site = rxr[0].part(2, 2) or rxr[0].part(2, 1) if rxr else ""
    return {"category": "immunization" if vaccine else "administration", "site": site or None, "route": route or None}


def _rxe(n: _Neighbours) -> Values:
    seg, ctx = n.seg, n.ctx
    amount = " ".join(p for p in (seg.part(3), seg.part(5, 2) or seg.part(5, 1)) if p)
    dosage = "; ".join(p for p in (amount, seg.text_of(7), seg.text_of(21)) if p)
    refills = seg.raw(12).strip()
    return {
        "start_ts": n.ts(1, 4) or ctx.order_start_ts or n.shared["message_ts"],
        "prescriber_id": ctx.requester_id or seg.part(13, 1) or None,
        "quantity": seg.raw(10).strip() if re.fullmatch(r"\d+(\.\d+)?", seg.raw(10).strip()) else None,
        "refills": refills if refills.isdigit() else None,
        "dosage_text": dosage or None,
        "prescription_id": seg.part(15) or ctx.order_placer or ctx.order_filler,
    }


def _dg1(n: _Neighbours) -> Values:
    return {"recorded_ts": n.ts(19) or n.shared["message_ts"]}


def _al1(n: _Neighbours) -> Values:
    return {"registered_ts": n.ts(6)}


def _txa(n: _Neighbours) -> Values:
    seg = n.seg
    return {
        "document_id": seg.part(12, 1) or f"{n.shared['message_ref']}/TXA[{n.ctx.occurrence}]",
        "body_text": body_text(n.segments, n.index),
        "document_ts": n.ts(4) or n.ts(6) or n.shared["message_ts"],
    }


_COMPUTED: dict[str, Callable[[_Neighbours], Values]] = {
    "PID": _pid,
    "OBX": _obx,
    "NTE": _nte,
    "RXA": _rxa,
    "RXE": _rxe,
    "DG1": _dg1,
    "AL1": _al1,
    "TXA": _txa,
}
