"""The virtual tables of the HL7 v2 reader: which segment goes where, with which columns.

One virtual table per mapped segment type (``hl7_pid``, ``hl7_obx``, ...) and ``hl7_segment_other``
for every other segment, so every segment of every message is one record. Column names say where
a value comes from:

- ``pid_3`` — field PID-3 verbatim (all repetitions, escape sequences kept);
- ``pid_3_1`` — component 1 of the first repetition, unescaped; ``pid_5_1_1`` a subcomponent;
- ``pid_3_text`` — every repetition unescaped, one per line;
- ``pid_7_ts`` — the DTM in the first component as a UTC instant ``YYYY-MM-DDTHH:MM:SSZ``;
- ``pid_7_date`` — its calendar date ``YYYY-MM-DD`` (when it names a day).

Every table also carries the message context (:data:`CONTEXT_COLUMNS`); some carry values the
reader computes from neighbouring segments (:data:`COMPUTED_COLUMNS`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONTEXT_COLUMNS: tuple[str, ...] = (
    "message_ref",  # <file>#msg=<n>
    "message_control_id",  # MSH-10
    "message_code",  # MSH-9.1 (ADT, ORU, ...)
    "message_type",  # MSH-9.1^MSH-9.2 (ORU^R01)
    "message_ts",  # MSH-7 as a UTC instant
    "segment_id",
    "segment_index",  # position in the message, MSH = 1
    "patient_key",  # PID-3.1 (first repetition) of the patient the segment belongs to
    "visit_number",  # PV1-19.1 of the visit the segment belongs to
    "visit_id",  # PV1-19.1, or <message_ref>/PV1[n] when PV1-19 is empty
    "order_placer",  # ORC-2.1 / OBR-2.1 of the current order
    "order_filler",  # ORC-3.1 / OBR-3.1 of the current order
    "report_id",  # filler, else placer order number, else <message_ref>/OBR[n]
    "parent_segment",  # the group segment this one follows (OBR, RXA, PID, TXA, ...)
    "parent_ref",  # its reference
)
"""Columns every segment record has: where the segment is and what it belongs to."""

SEGMENT_TABLES: dict[str, tuple[str, tuple[str, ...]]] = {
    "MSH": (
        "hl7_msh",
        (
            "msh_3", "msh_3_1", "msh_4", "msh_4_1", "msh_5", "msh_5_1", "msh_6", "msh_6_1",
            "msh_7", "msh_7_ts", "msh_9", "msh_9_1", "msh_9_2", "msh_9_3", "msh_10", "msh_11_1",
            "msh_12_1", "msh_15", "msh_16", "msh_17", "msh_18", "msh_19_1",
        ),
    ),
    "PID": (
        "hl7_pid",
        (
            "pid_2_1", "pid_3", "pid_3_1", "pid_3_4", "pid_3_4_1", "pid_3_4_2", "pid_3_5", "pid_4_1",
            "pid_5", "pid_5_1_1", "pid_5_2", "pid_5_3", "pid_5_4", "pid_5_5", "pid_7", "pid_7_date",
            "pid_8", "pid_11", "pid_11_1_1", "pid_11_2", "pid_11_3", "pid_11_4", "pid_11_5", "pid_11_6",
            "pid_11_9", "pid_13", "pid_13_1", "pid_13_12", "pid_16_1", "pid_16_2", "pid_16_3",
            "pid_29", "pid_29_date", "pid_30",
        ),
    ),
    "PV1": (
        "hl7_pv1",
        (
            "pv1_2", "pv1_3", "pv1_3_1", "pv1_3_4_1", "pv1_4", "pv1_7", "pv1_7_1", "pv1_10",
            "pv1_14", "pv1_18", "pv1_19", "pv1_19_1", "pv1_36", "pv1_41", "pv1_44", "pv1_44_ts",
            "pv1_45", "pv1_45_ts",
        ),
    ),
    "OBR": (
        "hl7_obr",
        (
            "obr_2_1", "obr_3_1", "obr_4", "obr_4_1", "obr_4_2", "obr_4_3", "obr_7", "obr_7_ts",
            "obr_16", "obr_16_1", "obr_22", "obr_22_ts", "obr_24", "obr_25",
        ),
    ),
    "OBX": (
        "hl7_obx",
        (
            "obx_1", "obx_2", "obx_3", "obx_3_1", "obx_3_2", "obx_3_3", "obx_3_9", "obx_4", "obx_5",
            "obx_5_text", "obx_6", "obx_6_1", "obx_6_2", "obx_7", "obx_8", "obx_8_1", "obx_11", "obx_14",
            "obx_14_ts", "obx_15_1", "obx_16_1", "obx_17_1", "obx_23_1",
        ),
    ),
    "NTE": ("hl7_nte", ("nte_1", "nte_2", "nte_3", "nte_3_text", "nte_4_1", "nte_4_2", "nte_5_1", "nte_6", "nte_6_ts")),
    "RXA": (
        "hl7_rxa",
        (
            "rxa_1", "rxa_2", "rxa_3", "rxa_3_ts", "rxa_4", "rxa_4_ts", "rxa_5", "rxa_5_1", "rxa_5_2",
            "rxa_5_3", "rxa_6", "rxa_7_1", "rxa_9_1", "rxa_9_2", "rxa_10_1", "rxa_11_4", "rxa_15",
            "rxa_15_1", "rxa_17_1", "rxa_17_2", "rxa_20", "rxa_21",
        ),
    ),
    "RXE": (
        "hl7_rxe",
        (
            "rxe_1", "rxe_1_4_ts", "rxe_2", "rxe_2_1", "rxe_2_2", "rxe_2_3", "rxe_3", "rxe_4",
            "rxe_5_1", "rxe_5_2", "rxe_6_2", "rxe_7_text", "rxe_10", "rxe_11_1", "rxe_12",
            "rxe_13_1", "rxe_15", "rxe_21_text", "rxe_25", "rxe_26_1",
        ),
    ),
    "DG1": (
        "hl7_dg1",
        (
            "dg1_1", "dg1_2", "dg1_3", "dg1_3_1", "dg1_3_2", "dg1_3_3", "dg1_4", "dg1_5", "dg1_5_ts",
            "dg1_6", "dg1_15", "dg1_16_1", "dg1_19", "dg1_19_ts",
        ),
    ),
    "AL1": (
        "hl7_al1",
        ("al1_1", "al1_2", "al1_2_1", "al1_2_2", "al1_3", "al1_3_1", "al1_3_2", "al1_3_3", "al1_4_1", "al1_5",
         "al1_5_text", "al1_6", "al1_6_ts"),
    ),
    "TXA": (
        "hl7_txa",
        (
            "txa_1", "txa_2", "txa_2_1", "txa_2_2", "txa_3", "txa_4", "txa_4_ts", "txa_6", "txa_6_ts",
            "txa_9_1", "txa_12_1", "txa_13_1", "txa_14_1", "txa_16", "txa_17", "txa_18", "txa_19",
            "txa_22_1",
        ),
    ),
}  # fmt: skip
"""Segment id -> (virtual table, its own columns). Other segments go to ``hl7_segment_other``."""

COMPUTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "hl7_msh": (
        "original_path", "original_sha256", "original_size", "codec", "bom", "segment_count", "segment_ends",
        "pdfa_path", "pdfa_sha256", "page_count", "text_extract", "rendition_status",
    ),
    "hl7_pid": ("pid_3_system",),
    "hl7_obx": (
        "category", "value_text", "value_numeric", "reference_low", "reference_high", "comment",
        "observed_ts", "requester_id", "document_path", "document_sha256", "document_size", "document_mime",
        "document_pdfa_path", "document_pdfa_sha256", "document_page_count", "document_text_extract",
        "document_status",
    ),
    "hl7_nte": ("category", "recorded_ts"),
    "hl7_rxa": ("category", "site", "route"),
    "hl7_rxe": ("start_ts", "prescriber_id", "quantity", "refills", "dosage_text", "prescription_id"),
    "hl7_dg1": ("recorded_ts",),
    "hl7_al1": ("registered_ts",),
    "hl7_txa": ("document_id", "body_text", "document_ts"),
    "hl7_segment_other": ("segment_text",),
}  # fmt: skip
"""Values the reader computes from the segment and its neighbours (see docs/hl7v2.md)."""

OTHER_TABLE = "hl7_segment_other"


def record_tables() -> dict[str, tuple[str, ...]]:
    """Return every virtual table with its columns (the reader's ``record_tables``)."""
    out: dict[str, tuple[str, ...]] = {}
    for table, columns in SEGMENT_TABLES.values():
        out[table] = (*CONTEXT_COLUMNS, *columns, *COMPUTED_COLUMNS.get(table, ()))
    out[OTHER_TABLE] = (*CONTEXT_COLUMNS, *COMPUTED_COLUMNS[OTHER_TABLE])
    return out


_COLUMN = re.compile(
    r"^(?P<seg>[a-z][a-z0-9]{2})_(?P<f>\d+)(?:_(?P<c>\d+))?(?:_(?P<s>\d+))?(?:_(?P<kind>ts|date|text))?$"
)


@dataclass(frozen=True)
class ColumnSource:
    """Where a segment column's value comes from (parsed from its name)."""

    name: str
    field: int
    component: int = 0
    subcomponent: int = 0
    kind: str = ""  # "", "ts", "date" or "text"


def column_source(name: str) -> ColumnSource:
    """Parse a segment column name (``pid_5_1_1``, ``obx_14_ts``).

    Example:
        >>> column_source("rxe_1_4_ts")
        ColumnSource(name='rxe_1_4_ts', field=1, component=4, subcomponent=0, kind='ts')
    """
    match = _COLUMN.match(name)
    if match is None:
        raise ValueError(f"not a segment column name: {name!r}")
    return ColumnSource(
        name,
        int(match["f"]),
        int(match["c"] or 0),
        int(match["s"] or 0),
        match["kind"] or "",
    )


REQUIRED_FIELDS: dict[str, tuple[int, ...]] = {
    "MSH": (7, 9, 10, 11, 12),
    "PID": (3,),
    "PV1": (2,),
    "OBR": (4,),
    "OBX": (3, 11),
    "RXA": (3, 5),
    "RXE": (2,),
    "DG1": (3,),
    "AL1": (3,),
    "TXA": (2, 12, 17),
    "NTE": (),
}
"""Fields these segments must carry in every v2.5+ message (a missing one is a deviation)."""

KNOWN_SEGMENTS = frozenset(
    """
    ABS ACC ADD ADJ AFF AIG AIL AIP AIS AL1 APR ARQ ARV AUT BHS BLC BLG BPO BPX BTS BTX BUI CDM CDO CER CM0 CM1
    CM2 CNS CON CSP CSR CSS CTD CTI CTR DB1 DEV DG1 DMI DON DPS DRG DSC DSP ECD ECR EDU EQP EQU ERR EVN FAC FHS
    FT1 FTS GOL GP1 GP2 GT1 IAM IAR IIM ILT IN1 IN2 IN3 INV IPC IPR ISD ITM IVC IVT LAN LCC LCH LDP LOC LRL MCP
    MFA MFE MFI MRG MSA MSH NCK NDS NK1 NPU NSC NST NTE OBR OBX ODS ODT OM1 OM2 OM3 OM4 OM5 OM6 OM7 ORC ORG OVR
    PAC PCE PCR PD1 PDA PDC PEO PES PID PKG PMT PR1 PRA PRB PRC PRD PRT PSG PSH PSL PSS PTH PV1 PV2 PYE QAK QID
    QPD QRD QRF QRI RCP RDF RDT REL RF1 RFI RGS RMI ROL RQ1 RQD RXA RXC RXD RXE RXG RXO RXR RXV SAC SCD SCH SCP
    SDD SFT SGH SGT SHP SID SLT SPM STF STZ TCC TCD TQ1 TQ2 TXA UAC UB1 UB2 URD URS VAR VND
    """.split()  # noqa: SIM905 - a block of ids reads better than a 180-item list
)
"""Segment ids defined by HL7 v2.1-2.9 (Z-segments are local by design and never a deviation)."""

GROUP_SEGMENTS = frozenset(
    """
    MSH EVN PID PD1 PV1 PV2 NK1 ORC OBR SPM RXA RXE RXO RXD RXG TXA SCH AIS AIG AIL AIP DG1 PR1 AL1 IN1 GT1 FT1
    MRG RF1 PRB GOL PTH
    """.split()  # noqa: SIM905
)
"""Segments that head a group: an OBX or NTE that follows belongs to the latest of them."""
