"""What each segment of an HL7 v2 message belongs to: its patient, visit, order and parent group.

HL7 v2 has no explicit nesting: an OBX belongs to the OBR before it, an NTE to the segment it
follows, and everything to the PID of its patient group. One pass over a message's segments
works that out, so each segment record can carry the keys the mapping joins on.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from converters.hl7_message import Segment
from converters.hl7_tables import GROUP_SEGMENTS
from converters.hl7_timestamp import parse_dtm


@dataclass(frozen=True)
class SegmentContext:
    """The keys one segment belongs to (values for the ``CONTEXT_COLUMNS`` and computed columns)."""

    segment_index: int
    occurrence: int
    ref: str
    patient_key: str | None = None
    visit_number: str | None = None
    visit_id: str | None = None
    order_placer: str | None = None
    order_filler: str | None = None
    report_id: str | None = None
    order_observed_ts: str | None = None
    order_start_ts: str | None = None
    requester_id: str | None = None
    parent_segment: str | None = None
    parent_ref: str | None = None


def _first(*values: str) -> str | None:
    return next((v for v in values if v), None)


def patient_key(pid: Segment) -> str | None:
    """Return the patient key of a PID: PID-3.1 (first repetition), else PID-2.1, else PID-4.1."""
    return _first(pid.part(3, 1), pid.part(2, 1), pid.part(4, 1))


def _ts(segment: Segment, number: int, component: int = 1, zone: str = "Europe/Oslo") -> str | None:
    parsed = parse_dtm(segment.part(number, component), zone=zone) if segment.part(number, component) else None
    return parsed.iso_utc() if parsed else None


def message_context(segments: list[Segment], message_ref: str, *, zone: str) -> list[SegmentContext]:
    """Return the context of every segment of one message, in order.

    Segments before the message's first PID belong to that PID's patient (in SIU and some
    ORM messages the patient group comes after the header segments).
    """
    first_pid = next((s for s in segments if s.segment_id == "PID"), None)
    state = SegmentContext(0, 0, "", patient_key=patient_key(first_pid) if first_pid else None)
    seen: dict[str, int] = {}
    anchor: tuple[str, str] | None = None  # latest group segment (id, ref)
    last_obx: tuple[str, str] | None = None  # latest OBX after that anchor
    out: list[SegmentContext] = []
    for index, seg in enumerate(segments, start=1):
        sid = seg.segment_id
        seen[sid] = seen.get(sid, 0) + 1
        ref = f"{message_ref}/seg={index}/{sid}[{seen[sid]}]"
        if sid == "PID":
            state = SegmentContext(0, 0, "", patient_key=patient_key(seg))
        elif sid == "PV1":
            number = seg.part(19, 1) or None
            state = replace(state, visit_number=number, visit_id=number or f"{message_ref}/PV1[{seen[sid]}]")
        elif sid == "ORC":
            state = replace(
                state,
                order_placer=seg.part(2, 1) or None,
                order_filler=seg.part(3, 1) or None,
                report_id=None,
                order_observed_ts=None,
                order_start_ts=_ts(seg, 9, zone=zone),
                requester_id=seg.part(12, 1) or None,
            )
        elif sid == "OBR":
            placer = seg.part(2, 1) or state.order_placer
            filler = seg.part(3, 1) or state.order_filler
            state = replace(
                state,
                order_placer=placer,
                order_filler=filler,
                report_id=_first(filler or "", placer or "") or f"{message_ref}/OBR[{seen[sid]}]",
                order_observed_ts=_ts(seg, 7, zone=zone),
                requester_id=seg.part(16, 1) or state.requester_id,
            )
        elif sid == "TQ1" and _ts(seg, 7, zone=zone):
            state = replace(state, order_start_ts=_ts(seg, 7, zone=zone))
        if sid in GROUP_SEGMENTS:
            parent = anchor
        elif sid == "NTE" and last_obx is not None:
            parent = last_obx
        else:
            parent = anchor
        out.append(
            replace(
                state,
                segment_index=index,
                occurrence=seen[sid],
                ref=ref,
                parent_segment=parent[0] if parent else None,
                parent_ref=parent[1] if parent else None,
            )
        )
        if sid in GROUP_SEGMENTS:
            anchor, last_obx = (sid, ref), None
        elif sid == "OBX":
            last_obx = (sid, ref)
    return out
