"""Apply one table mapping to a batch of source rows: canonical rows, fates, rejects, raw.

Everything runs on whole Arrow arrays. Each source row gets exactly one fate:
excluded (an exclude rule matched) > rejected (a check failed) > converted (a target matched) >
preserved or excluded (no target matched: the table's ``unmatched`` setting).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from converters.csv_source import ROW_COLUMN, RowProblem, column_strings, row_refs
from converters.hashing import RowHasher
from converters.mapping import TableMapping
from converters.transform import Lookups, empty_to_null, evaluate, match
from formats.ledger import LEDGER_RECORD_SCHEMA, REJECT_SCHEMA, Fate
from formats.model import TABLES
from formats.text_repair import ColumnAudit, FallbackValue, TextRepair, TextSettings, merge_flags, repair_batch

_NULL = pa.scalar(None, pa.string())


@dataclass(frozen=True)
class Lineage:
    """Per-row lineage of a batch."""

    system: str
    source_table: str
    row_numbers: pa.Array
    refs: pa.Array
    hashes: pa.Array
    run_id: str


@dataclass
class BatchOutcome:
    """What one batch produced."""

    canonical: dict[str, pa.Table] = field(default_factory=dict)
    ledger: pa.Table | None = None
    rejects: pa.Table | None = None
    raw: pa.Table | None = None
    fates: dict[str, int] = field(default_factory=dict)
    targets: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    flags: dict[str, int] = field(default_factory=dict)
    text_repairs: pa.Table | None = None
    text_audit: dict[str, ColumnAudit] = field(default_factory=dict)


def raw_record_json(table: pa.Table, mask: pa.Array) -> pa.Array:
    """Return, for rows in mask, the whole source record as a JSON object (others null)."""
    names = [n for n in table.column_names if n != ROW_COLUMN]
    rows = table.filter(mask).select(names).to_pylist()
    texts = iter([json.dumps(r, ensure_ascii=False) for r in rows])
    return pa.array([next(texts) if m else None for m in mask.to_pylist()], pa.string())


def _counts(values: pa.Array) -> dict[str, int]:
    if len(values) == 0:
        return {}
    vc = pc.value_counts(pc.drop_null(values)) if values.null_count < len(values) else pa.array([])
    return {str(item["values"]): int(item["counts"]) for item in vc.to_pylist()} if len(vc) else {}


def lineage_columns(source_table: str, rows: pa.Array, refs: pa.Array, hashes: pa.Array) -> dict[str, pa.Array]:
    """Return the four columns that say which source record a ledger or reject row is about."""
    return {
        "source_table": pa.array([source_table] * len(rows), pa.string()),
        "row_number": rows,
        "source_ref": refs,
        "source_hash": hashes,
    }


def _raw_bytes(problem: RowProblem) -> bytes:
    """Return the original bytes of an unreadable record (its text as UTF-8 where bytes were not kept)."""
    if problem.raw_base64 is not None:
        return base64.b64decode(problem.raw_base64)
    return problem.raw_record.encode("utf-8")


def problems_outcome(
    problems: list[RowProblem], lineage_system: str, source_table: str, file_name: str
) -> BatchOutcome:
    """Turn rows that could not be parsed into rejects and ledger rows."""
    if not problems:
        return BatchOutcome()
    rows = pa.array([p.row_number for p in problems], pa.int64())
    refs = row_refs(file_name, rows)
    if any(p.source_ref is not None for p in problems):
        own = pa.array([p.source_ref for p in problems], pa.string())
        refs = pc.coalesce(own, refs)
    hashes = pa.array([hashlib.sha256(_raw_bytes(p)).hexdigest() for p in problems], pa.string())
    n = len(problems)
    where = lineage_columns(source_table, rows, refs, hashes)
    reason = pa.array([p.reason for p in problems], pa.string())
    rule = pa.array([p.rule for p in problems], pa.string())
    rejects = pa.table(
        {
            **where,
            "reason_code": reason,
            "rule": rule,
            "field": pa.array([p.source_column for p in problems], pa.string()),
            "raw_record": pa.array([p.raw_record for p in problems], pa.string()),
            "raw_base64": pa.array([p.raw_base64 for p in problems], pa.string()),
        },
        schema=REJECT_SCHEMA,
    )
    ledger = pa.table(
        {
            **where,
            "fate": pa.array([Fate.REJECTED.value] * n, pa.string()),
            "targets": pa.nulls(n, pa.string()),
            "reason_code": reason,
            "rule": rule,
            "flags": pa.nulls(n, pa.string()),
        },
        schema=LEDGER_RECORD_SCHEMA,
    )
    reasons: dict[str, int] = {}
    for p in problems:
        reasons[p.reason] = reasons.get(p.reason, 0) + 1
    return BatchOutcome(ledger=ledger, rejects=rejects, fates={Fate.REJECTED.value: n}, reasons=reasons)


class TableConverter:
    """Converts the batches of one source table with its mapping (None: preserve all raw).

    Args:
        system: source system name (lineage).
        source_table: source table name.
        columns: the table's columns in source order.
        mapping: the table's mapping, or None for a table no mapping consumes.
        patient_keys: the known patient keys; filled while converting the patient table.
        hasher: computes record ids.
        lookups: the loaded lookup tables (joins) the mapping's rules use.
        is_patient_table: whether this table defines the patients.
        text: the table's text encoding and whether mojibake is repaired (formats/text_repair.py).
    """

    def __init__(
        self,
        system: str,
        source_table: str,
        columns: list[str],
        mapping: TableMapping | None,
        patient_keys: set[str],
        hasher: RowHasher,
        *,
        is_patient_table: bool = False,
        lookups: Lookups | None = None,
        text: TextSettings | None = None,
    ) -> None:
        self.hasher = hasher
        self.text = text or TextSettings()
        self.lookups = lookups or {}
        self._key_index: pd.Index | None = None
        self.system = system
        self.source_table = source_table
        self.columns = columns
        self.mapping = mapping
        self.patient_keys = patient_keys
        self.is_patient_table = is_patient_table
        if mapping is None:
            self.raw_columns = list(columns)
            self.preserves_rows = True
        else:
            consumed = mapping.consumed_columns()
            dropped = {c for c, _ in mapping.drop_columns}
            self.preserves_rows = mapping.unmatched == "preserve" and (
                not mapping.targets or any(t.where is not None for t in mapping.targets) or bool(mapping.excludes)
            )
            keep = [c for c in columns if c not in dropped]
            self.raw_columns = keep if self.preserves_rows else [c for c in keep if c not in consumed]
            self._consumed = consumed

    def raw_schema(self) -> pa.Schema | None:
        """Return the schema of this table's raw preservation, or None when nothing is kept raw."""
        if not self.raw_columns:
            return None
        lineage = [
            pa.field("row_number", pa.int64(), nullable=False, metadata={"description": "record number in the source"}),
            pa.field("source_ref", pa.string(), False, metadata={"description": "where in the source"}),
            pa.field("source_hash", pa.string(), False, metadata={"description": "SHA-256 of the source record"}),
            pa.field("fate", pa.string(), False, metadata={"description": "the record's fate (ledger/records)"}),
        ]
        desc = {"description": "source column, verbatim; null where the value went to a canonical table"}
        return pa.schema(
            lineage + [pa.field(c, pa.string(), metadata=desc) for c in self.raw_columns],
            metadata={"title": f"raw preservation of source table {self.source_table}"},
        )

    def convert(self, table: pa.Table, lineage: Lineage, fallbacks: Sequence[FallbackValue] = ()) -> BatchOutcome:
        """Convert one batch (``fallbacks``: values the reader decoded with a fallback encoding)."""
        n = table.num_rows
        out = BatchOutcome()
        if n == 0:
            return out
        text = self._repair_text(table, lineage, fallbacks)
        table, out.text_repairs, out.text_audit = text.table, text.repairs, text.audit
        cols = column_strings(table)
        false = pa.array([False] * n, pa.bool_())
        excluded = false
        reject_reason: pa.Array = pa.nulls(n, pa.string())
        reject_rule: pa.Array = pa.nulls(n, pa.string())
        reject_field: pa.Array = pa.nulls(n, pa.string())
        flagged = false
        exclude_rule: pa.Array = pa.nulls(n, pa.string())
        emits: list[tuple[str, pa.Array, dict[str, pa.Array]]] = []
        m = self.mapping
        if m is not None:
            for rule in m.excludes:
                hit = pc.and_(match(rule.where, cols), pc.invert(excluded))
                exclude_rule = pc.if_else(hit, pa.scalar(f"{rule.where.path}: {rule.reason}"), exclude_rule)
                excluded = pc.or_(excluded, hit)

            def fail(mask: pa.Array, reason: str | pa.Array, rule: str, column: str | None) -> None:
                nonlocal reject_reason, reject_rule, reject_field
                new = pc.and_(mask, pc.is_null(reject_reason))
                reason_arr = reason if isinstance(reason, pa.Array) else pa.scalar(reason)
                reject_reason = pc.if_else(new, reason_arr, reject_reason)
                reject_rule = pc.if_else(new, pa.scalar(rule), reject_rule)
                reject_field = pc.if_else(new, pa.scalar(column, pa.string()), reject_field)

            if m.patient:
                keys = empty_to_null(cols[m.patient])
                if self.is_patient_table:
                    dup = pc.and_(self._duplicates(keys), pc.invert(excluded))
                    if m.duplicates == "exclude":
                        rule_text = (
                            f"tables.{m.name}.duplicates: exclude (the patient was converted from an earlier record)"
                        )
                        exclude_rule = pc.if_else(dup, pa.scalar(rule_text), exclude_rule)
                        excluded = pc.or_(excluded, dup)
                    else:
                        fail(dup, "duplicate_key", f"tables.{m.name}.patient: key must be unique", m.patient)
                else:
                    known = self._known_patients(keys)
                    dangling = pc.invert(pc.fill_null(known, False))
                    fail(
                        pc.and_(dangling, pc.invert(excluded)),
                        "dangling_reference",
                        f"tables.{m.name}.patient: {m.patient} must name a patient of the patient table",
                        m.patient,
                    )
            for target in m.targets:
                selected = match(target.where, cols) if target.where else pa.array([True] * n)
                selected = pc.and_(selected, pc.invert(excluded))
                values: dict[str, pa.Array] = {}
                for fr in target.fields:
                    ev = evaluate(fr.rule, cols, n, self.lookups)
                    values[fr.target] = ev.values
                    if ev.errors is not None:
                        bad = pc.and_(selected, pc.is_valid(ev.errors))
                        fail(bad, ev.errors, fr.rule.path, ",".join(fr.rule.columns()) or None)
                    if ev.flags is not None:
                        flagged = pc.or_(flagged, pc.and_(selected, ev.flags))
                emits.append((target.table, selected, values))
        rejected = pc.is_valid(reject_reason)
        ok = pc.invert(pc.or_(excluded, rejected))
        converted = false
        target_names: pa.Array = pa.nulls(n, pa.string())
        for ordinal, (name, selected, values) in enumerate(emits):
            emit = pc.and_(selected, ok)
            converted = pc.or_(converted, emit)
            target_names = pc.if_else(
                emit,
                pc.binary_join_element_wise(target_names, pa.scalar(name), ";", null_handling="skip"),
                target_names,
            )
            count = int(pc.sum(pc.cast(emit, pa.int64())).as_py() or 0)
            if count:
                out.canonical[f"{ordinal}:{name}"] = self._canonical(name, values, emit, lineage, ordinal)
                out.targets[name] = out.targets.get(name, 0) + count
        unmatched_fate = Fate.PRESERVED if (m is None or m.unmatched == "preserve") else Fate.EXCLUDED
        fate = pc.if_else(
            excluded,
            pa.scalar(Fate.EXCLUDED.value),
            pc.if_else(
                rejected,
                pa.scalar(Fate.REJECTED.value),
                pc.if_else(converted, pa.scalar(Fate.CONVERTED.value), pa.scalar(unmatched_fate.value)),
            ),
        )
        no_target = pc.and_(ok, pc.invert(converted))
        if unmatched_fate is Fate.EXCLUDED and m is not None:
            exclude_rule = pc.if_else(no_target, pa.scalar(f"tables.{m.name}.unmatched: exclude"), exclude_rule)
        reason = pc.coalesce(
            reject_reason,
            pc.if_else(
                pc.or_(excluded, pc.and_(no_target, pa.scalar(unmatched_fate is Fate.EXCLUDED))),
                pa.scalar("excluded_by_mapping"),
                _NULL,
            ),
        )
        flag_text = pc.if_else(pc.and_(flagged, converted), pa.scalar("unknown_code"), _NULL)
        where = lineage_columns(self.source_table, lineage.row_numbers, lineage.refs, lineage.hashes)
        rule = pc.coalesce(reject_rule, exclude_rule)
        out.ledger = pa.table(
            {
                **where,
                "fate": fate,
                "targets": target_names,
                "reason_code": reason,
                "rule": rule,
                "flags": merge_flags(flag_text, text),
            },
            schema=LEDGER_RECORD_SCHEMA,
        )
        out.fates = _counts(fate)
        out.reasons = _counts(reason)
        out.flags = {**_counts(flag_text), **text.flag_counts}
        if self.is_patient_table and m is not None and m.patient:
            keys = empty_to_null(cols[m.patient]).filter(converted)
            self.patient_keys.update(k for k in keys.to_pylist() if k is not None)
        if bool(pc.any(rejected).as_py()):
            out.rejects = pa.table(
                {
                    **where,
                    "reason_code": reject_reason,
                    "rule": rule,
                    "field": reject_field,
                    "raw_record": raw_record_json(table, rejected),
                    "raw_base64": pa.nulls(n, pa.string()),
                },
                schema=REJECT_SCHEMA,
            ).filter(rejected)
        out.raw = self._raw(table, cols, fate, lineage)
        return out

    def _repair_text(self, table: pa.Table, lineage: Lineage, fallbacks: Sequence[FallbackValue]) -> TextRepair:
        """Repair double-encoded text in every source column and count it (the character-fidelity audit)."""
        where = lineage_columns(self.source_table, lineage.row_numbers, lineage.refs, lineage.hashes)
        return repair_batch(
            table,
            [c for c in self.columns if c in table.column_names],
            where=where,
            encoding=self.text.encoding,
            repair=self.text.repair,
            fallbacks=fallbacks,
        )

    def _known_patients(self, keys: pa.Array) -> pa.Array:
        """Return, per key, whether it names a converted patient.

        The hash index over the patient keys is built once per table (pandas keeps it), so each
        batch costs its own length, not the number of patients.
        """
        if self._key_index is None:
            self._key_index = pd.Index(sorted(self.patient_keys), dtype=object)
        values = keys.to_numpy(zero_copy_only=False)
        found = self._key_index.get_indexer(values) >= 0
        return pc.and_(pa.array(found, pa.bool_()), pc.is_valid(keys))

    def _duplicates(self, keys: pa.Array) -> pa.Array:
        seen = self.patient_keys
        batch_seen: set[str] = set()
        dup = []
        for k in keys.to_pylist():
            is_dup = k is not None and (k in seen or k in batch_seen)
            dup.append(is_dup)
            if k is not None:
                batch_seen.add(k)
        return pa.array(dup, pa.bool_())

    def _canonical(
        self, name: str, values: dict[str, pa.Array], emit: pa.Array, lineage: Lineage, ordinal: int
    ) -> pa.Table:
        spec = TABLES[name]
        refs = lineage.refs.filter(emit)
        count = len(refs)
        data: dict[str, pa.Array] = {}
        for fs in spec.fields:
            if fs.name == "record_id":
                data[fs.name] = self.hasher.record_ids(self.system, refs, ordinal)
            elif fs.name == "source_system":
                data[fs.name] = pa.array([self.system] * count, pa.string())
            elif fs.name == "source_ref":
                data[fs.name] = refs
            elif fs.name == "source_hash":
                data[fs.name] = lineage.hashes.filter(emit)
            elif fs.name == "run_id":
                data[fs.name] = pa.array([lineage.run_id] * count, pa.string())
            elif fs.name in values:
                data[fs.name] = values[fs.name].filter(emit)
            else:
                data[fs.name] = pa.nulls(count, fs.type)
        return pa.table(data, schema=spec.schema())

    def _raw(self, table: pa.Table, cols: dict[str, pa.Array], fate: pa.Array, lineage: Lineage) -> pa.Table | None:
        schema = self.raw_schema()
        if schema is None:
            return None
        preserved = pc.equal(fate, Fate.PRESERVED.value)
        if self.mapping is None:
            keep = preserved
        else:
            has_unconsumed = any(c not in self._consumed for c in self.raw_columns)
            converted = pc.equal(fate, Fate.CONVERTED.value)
            keep = pc.or_(preserved, converted) if has_unconsumed else preserved
        if not bool(pc.any(keep).as_py()):
            return None
        data: dict[str, pa.Array] = {
            "row_number": lineage.row_numbers,
            "source_ref": lineage.refs,
            "source_hash": lineage.hashes,
            "fate": fate,
        }
        for c in self.raw_columns:
            if self.mapping is not None and c in self._consumed:
                data[c] = pc.if_else(preserved, cols[c], _NULL)
            else:
                data[c] = cols[c]
        return pa.table(data, schema=schema).filter(keep)
