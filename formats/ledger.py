"""The ledger: every source record gets exactly one fate, and the arithmetic must balance.

For every source table: ``source = converted + preserved + rejected + excluded``. The per-record
ledger (one row per source record) and the per-table summary are written into the package.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import pyarrow as pa


class Fate(StrEnum):
    """What happened to one source record."""

    CONVERTED = "converted"
    PRESERVED = "preserved"
    REJECTED = "rejected"
    EXCLUDED = "excluded"


REJECT_REASONS: dict[str, str] = {
    "malformed_row": "the record could not be parsed (wrong number of fields, broken quoting)",
    "unparseable_record": "a message or file could not be parsed at all (not well-formed XML, no MSH segment, ...)",
    "encoding_error": "the record's bytes are not valid in the declared text encoding",
    "invalid_date": "a date or time value does not match any declared format",
    "invalid_number": "a numeric value cannot be read as a number",
    "invalid_boolean": "a yes/no value is not one of the accepted words (true/false, 1/0, ja/nei, ...)",
    "missing_required": "a value the mapping declares required is empty",
    "dangling_reference": "the record refers to a patient (or other key) that does not exist in the source",
    "duplicate_key": "the record's key was already used by an earlier record of the same table",
    "unknown_code": "a value is not in the mapping's translation table and the mapping says reject",
}
"""Reasons a record is rejected. Fixed vocabulary; see docs/ledger.md."""

EXCLUDE_REASONS: dict[str, str] = {
    "excluded_by_mapping": "the mapping excludes records like this on purpose (rule and reason recorded)",
}
"""Reasons a record is excluded. Fixed vocabulary; the mapping adds its own explanation."""

FLAG_REASONS: dict[str, str] = {
    "unknown_code": "a value was not in the mapping's translation table; kept as it was "
    "(dropped only where the mapping says on_unknown: null)",
    "empty_table": "the source table has a header but no records",
    "missing_table": "the mapping expects this table but the source has no such file",
    "unmapped_table": "no mapping consumes this table; all of it is preserved raw",
    "mapping_mismatch": "the table lacks columns the mapping needs; all of it is preserved raw",
    "missing_lookup": "a lookup (join) table or its columns are missing; looked-up values count as unknown",
    "text_decoded_fallback": "a text value was not valid in the declared encoding and was read with the "
    "fallback encoding (original bytes in ledger/text_repairs)",
    "text_repaired": "a text value was double-encoded UTF-8 (mojibake such as GrÃ¸nn) and was repaired "
    "(original bytes in ledger/text_repairs)",
    "suspicious_text": "a text value still holds sequences that look like a wrong encoding; kept as it was",
    "standard_deviations": "messages deviate from their standard (schema findings, listed in ledger/deviations); "
    "they were converted all the same",
    "originals_kept": "messages and attachments were kept byte for byte under originals/",
    "document_status": "how many documents got a PDF/A rendition, by normalisation status",
    "not_normalised": "documents kept as original only, without a PDF/A rendition (the status says why)",
    "renditions_dropped": "PDF/A renditions made for records that became no document row were not kept",
}
"""Flags: conditions worth reporting that do not change a record's fate."""

SOURCE_RECORD_FIELDS: list[pa.Field] = [
    pa.field("source_table", pa.string(), nullable=False, metadata={"description": "source table or file"}),
    pa.field("row_number", pa.int64(), metadata={"description": "record number in the source (header = 1)"}),
    pa.field("source_ref", pa.string(), nullable=False, metadata={"description": "where in the source"}),
    pa.field("source_hash", pa.string(), metadata={"description": "SHA-256 of the source record"}),
]
"""The columns that say which source record a ledger or reject row is about."""

LEDGER_RECORD_SCHEMA = pa.schema(
    [
        *SOURCE_RECORD_FIELDS,
        pa.field(
            "fate", pa.string(), nullable=False, metadata={"description": "converted, preserved, rejected or excluded"}
        ),
        pa.field("targets", pa.string(), metadata={"description": "canonical tables the record went to (;-separated)"}),
        pa.field("reason_code", pa.string(), metadata={"description": "reason for rejected/excluded (vocabulary)"}),
        pa.field(
            "rule",
            pa.string(),
            metadata={"description": "the rule broken (rejected) or applied (excluded), with its mapping key path"},
        ),
        pa.field("flags", pa.string(), metadata={"description": "flags raised on the record (;-separated)"}),
    ],
    metadata={"title": "Ledger: the fate of every source record"},
)

REJECT_SCHEMA = pa.schema(
    [
        *SOURCE_RECORD_FIELDS,
        pa.field("reason_code", pa.string(), nullable=False, metadata={"description": "reason (fixed vocabulary)"}),
        pa.field("rule", pa.string(), metadata={"description": "the rule that was broken, with mapping key path"}),
        pa.field("field", pa.string(), metadata={"description": "source column concerned"}),
        pa.field(
            "raw_record",
            pa.string(),
            metadata={"description": "the whole source record: JSON object of column -> value, or raw text"},
        ),
        pa.field(
            "raw_base64", pa.string(), metadata={"description": "original bytes (base64) where they are not valid text"}
        ),
    ],
    metadata={"title": "Rejected source records, verbatim, with the reason"},
)


@dataclass
class TableTally:
    """Counts of fates for one source table."""

    source_table: str
    source_rows: int = 0
    converted: int = 0
    preserved: int = 0
    rejected: int = 0
    excluded: int = 0
    targets: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)

    @property
    def accounted(self) -> int:
        """Records with a fate."""
        return self.converted + self.preserved + self.rejected + self.excluded

    @property
    def balanced(self) -> bool:
        """Whether source = converted + preserved + rejected + excluded."""
        return self.source_rows == self.accounted

    def add_fates(self, counts: dict[str, int]) -> None:
        """Add fate counts (keys are Fate values)."""
        for fate, n in counts.items():
            setattr(self, Fate(fate).value, getattr(self, Fate(fate).value) + n)

    def bump(self, bucket: dict[str, int], key: str, n: int = 1) -> None:
        """Add n to bucket[key]."""
        if n:
            bucket[key] = bucket.get(key, 0) + n

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict, keys sorted for determinism."""
        return {
            "source_table": self.source_table,
            "source_rows": self.source_rows,
            "converted": self.converted,
            "preserved": self.preserved,
            "rejected": self.rejected,
            "excluded": self.excluded,
            "balanced": self.balanced,
            "targets": dict(sorted(self.targets.items())),
            "reasons": dict(sorted(self.reasons.items())),
            "flags": dict(sorted(self.flags.items())),
        }


@dataclass
class Ledger:
    """The run's ledger: one tally per source table."""

    tables: dict[str, TableTally] = field(default_factory=dict)

    def tally(self, source_table: str) -> TableTally:
        """Return (creating it if needed) the tally of a source table."""
        if source_table not in self.tables:
            self.tables[source_table] = TableTally(source_table)
        return self.tables[source_table]

    def gaps(self) -> list[TableTally]:
        """Return the tallies that do not balance."""
        return [t for t in self.tables.values() if not t.balanced]

    def totals(self) -> dict[str, int]:
        """Return the fate totals over all source tables."""
        keys = ("source_rows", "converted", "preserved", "rejected", "excluded")
        return {k: sum(int(getattr(t, k)) for t in self.tables.values()) for k in keys}

    def category_totals(self) -> dict[str, int]:
        """Return canonical rows written per category, over all source tables."""
        out: dict[str, int] = {}
        for t in self.tables.values():
            for name, n in t.targets.items():
                out[name] = out.get(name, 0) + n
        return dict(sorted(out.items()))

    def to_dict(self) -> dict[str, object]:
        """Return the ledger summary as a JSON-ready dict."""
        return {
            "invariant": "source_rows = converted + preserved + rejected + excluded",
            "balanced": not self.gaps(),
            "totals": self.totals(),
            "categories": self.category_totals(),
            "tables": [self.tables[k].to_dict() for k in sorted(self.tables)],
            "reason_vocabulary": {
                "rejected": REJECT_REASONS,
                "excluded": EXCLUDE_REASONS,
                "flags": FLAG_REASONS,
            },
        }


DEVIATION_SCHEMA = pa.schema(
    [
        pa.field("source_ref", pa.string(), nullable=False, metadata={"description": "where: file#path inside it"}),
        pa.field("standard", pa.string(), nullable=False, metadata={"description": "standard or schema"}),
        pa.field("element_path", pa.string(), nullable=False, metadata={"description": "element or field path"}),
        pa.field("message", pa.string(), nullable=False, metadata={"description": "what deviates"}),
    ]
)
"""Deviations of message sources from their standard (findings, not rejections): ledger/deviations."""
