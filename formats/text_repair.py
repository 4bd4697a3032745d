"""Mojibake repair and the character-fidelity audit, vectorised over Arrow string arrays.

A value is *suspicious* when it holds a sequence that clean Norwegian text does not: UTF-8 read
as Windows-1252 or Latin-1 (``Ã¸``, ``Â°``, ``â€™``), C1 control characters, U+FFFD, cp865 bytes
read as Windows-1252 (``Bj›rn``), Windows-1252 bytes read as cp865 (``Gr°nn``, box drawing), or
ISO 646-NO text read as ASCII (``Bj|rn``). An Arrow regular expression finds the suspicious values;
only those go through Python.

A suspicious value is *repaired* only when the round trip is exact: its characters are the
Windows-1252 (or, for C1 controls, Latin-1) readings of bytes that are valid UTF-8, and the
decoded text holds fewer double-encoded sequences (:data:`DOUBLE_ENCODED`; decoded up to three
times for text encoded more than twice). Anything else is left as it was and, if suspicious,
counted as still suspicious.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from formats.ledger import SOURCE_RECORD_FIELDS

_CP1252_HIGH = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
_CONT = "\u0080-\u00bf" + _CP1252_HIGH
_LETTER = "A-Za-zÀ-ÖØ-öø-ÿ"
DOUBLE_ENCODED = "|".join(
    (
        f"[ÃÂ][{_CONT}]",  # UTF-8 of U+0080..U+00FF (æøåÆØÅ, °, §, NBSP) read as cp1252/latin-1
        f"â[{_CONT}]",  # UTF-8 of punctuation and € (’ – “ • €) read as cp1252/latin-1
        "[\u0080-\u009f\ufffd]",  # C1 controls (legacy bytes read as latin-1), undecodable bytes
    )
)
"""Sequences of UTF-8 read as Windows-1252 or Latin-1, the kind of damage repair can undo."""

_ISO646 = "[A-Za-z][\\[\\]{}|\\\\][a-z]"
"""ISO 646-NO ÆØÅæøå read as ASCII (not mm[Hg])."""
_BRACKET_PAIR = "\\{[^{}]*\\}|\\[[^\\[\\]]*\\]"
"""A balanced {...} or [...]: UCUM annotations (ng/g{creat}, K[iU]/mL) and the like, not ISO 646 damage."""
SUSPICIOUS = "|".join(
    (
        DOUBLE_ENCODED,
        f"[{_LETTER}][‘›†][{_LETTER}]|(?:^|\\s)†[a-zæøå]",  # cp865 æøå read as cp1252
        f"[\u2500-\u259f]|[{_LETTER}][µσ°][a-zæøå]",  # cp1252 æøåÆØÅ read as cp865
    )
)
"""Sequences that clean Norwegian text does not hold (an RE2 and Python regular expression).

ISO 646-NO damage (``_ISO646``) is counted besides, in values without a balanced bracket pair."""

_SLOPPY = {ord(ch): b for b in range(0x80, 0x100) for ch in (chr(b), bytes([b]).decode("cp1252", "ignore")) if ch}
"""Characters -> the byte they read as in Windows-1252, or in Latin-1 for C1 controls and cp1252's holes."""

FALLBACK_DECODED = "text_decoded_fallback"
REPAIRED = "text_repaired"
STILL_SUSPICIOUS = "suspicious_text"


def suspicious_counts(values: pa.Array) -> pa.Array:
    """Return, per value, how many suspicious sequences it holds (null stays null)."""
    base = pc.count_substring_regex(values, SUSPICIOUS)
    iso646 = pc.count_substring_regex(values, _ISO646)
    paired = pc.match_substring_regex(values, _BRACKET_PAIR)
    return pc.add(base, pc.if_else(paired, pa.scalar(0, iso646.type), iso646))


_DOUBLE_ENCODED_RX = re.compile(DOUBLE_ENCODED)


def _double_encoded(text: str) -> int:
    return len(_DOUBLE_ENCODED_RX.findall(text))


def repair_value(text: str) -> str | None:
    """Return the repaired text of a double-encoded value, or None when it cannot be repaired exactly.

    The value is decoded up to three times (text encoded more than twice); the first result with the
    fewest double-encoded sequences (:data:`DOUBLE_ENCODED`) wins, if it has fewer than the value itself.

    Example:
        >>> repair_value("GrÃ¸nn sÃ¥pe"), repair_value("Grønn såpe")
        ('Grønn såpe', None)
    """
    before = _double_encoded(text)
    if not before:
        return None
    best, best_count, current = None, before, text
    for _ in range(3):
        try:
            fixed = current.translate(_SLOPPY).encode("latin-1").decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            break
        if fixed == current:
            break
        count = _double_encoded(fixed)
        if count < best_count:
            best, best_count = fixed, count
        current = fixed
    return best


def double_encode(text: str, reading: str = "cp1252") -> str:
    """Return ``text`` as it looks when its UTF-8 bytes are read as ``reading`` (the inverse of repair).

    Bytes ``reading`` leaves undefined are read as Latin-1 (C1 controls), as most tools do.
    """
    return "".join(
        bytes([b]).decode(reading, "ignore") or chr(b) if b >= 0x80 else chr(b) for b in text.encode("utf-8")
    )


# --- one batch ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextSettings:
    """How a source table's text is treated: the codec its bytes were read with, and whether to repair."""

    encoding: str = "utf-8"
    repair: bool = True


@dataclass(frozen=True)
class FallbackValue:
    """A value a reader could not decode with the declared encoding and read with a fallback."""

    row_number: int
    column: str
    raw: bytes
    encoding: str


@dataclass(frozen=True)
class ColumnAudit:
    """Character-fidelity counts of one source column (over one batch or a whole table)."""

    values: int = 0
    fallback_decoded: int = 0
    repaired: int = 0
    suspicious_before: int = 0
    suspicious: int = 0
    fallback_encodings: tuple[tuple[str, int], ...] = ()

    def __add__(self, other: ColumnAudit) -> ColumnAudit:
        """Return the sum of two counts."""
        encodings = dict(self.fallback_encodings)
        for name, n in other.fallback_encodings:
            encodings[name] = encodings.get(name, 0) + n
        return ColumnAudit(
            self.values + other.values,
            self.fallback_decoded + other.fallback_decoded,
            self.repaired + other.repaired,
            self.suspicious_before + other.suspicious_before,
            self.suspicious + other.suspicious,
            tuple(sorted(encodings.items())),
        )


TEXT_REPAIR_SCHEMA = pa.schema(
    [
        *SOURCE_RECORD_FIELDS,
        pa.field("column", pa.string(), nullable=False, metadata={"description": "source column"}),
        pa.field(
            "action",
            pa.string(),
            nullable=False,
            metadata={"description": f"{FALLBACK_DECODED} and/or {REPAIRED} (;-separated)"},
        ),
        pa.field(
            "encoding", pa.string(), nullable=False, metadata={"description": "codec the original bytes were read with"}
        ),
        pa.field(
            "original_base64", pa.string(), nullable=False, metadata={"description": "the value's original bytes"}
        ),
        pa.field("text", pa.string(), metadata={"description": "the value as converted (repaired text)"}),
    ],
    metadata={"title": "Text values decoded with a fallback encoding or repaired, with their original bytes"},
)


@dataclass
class TextRepair:
    """A batch after repair, the repair records and the per-column counts."""

    table: pa.Table
    repairs: pa.Table | None = None
    row_flags: pa.Array | None = None
    flag_counts: dict[str, int] = field(default_factory=dict)
    audit: dict[str, ColumnAudit] = field(default_factory=dict)


def _positions(row_numbers: pa.Array, fallbacks: Sequence[FallbackValue]) -> dict[tuple[int, str], FallbackValue]:
    """Return the fallback-decoded values by (position in the batch, column)."""
    if not fallbacks:
        return {}
    index = {int(n): i for i, n in enumerate(row_numbers.to_numpy(zero_copy_only=False))}
    return {(index[f.row_number], f.column): f for f in fallbacks if f.row_number in index}


def repair_batch(
    table: pa.Table,
    columns: Sequence[str],
    *,
    where: dict[str, pa.Array],
    encoding: str,
    repair: bool = True,
    fallbacks: Sequence[FallbackValue] = (),
) -> TextRepair:
    """Repair mojibake in a batch's text columns and count what was decoded, repaired and left suspicious.

    Args:
        table: the batch (string columns).
        columns: the source columns to audit (and repair).
        where: the lineage columns of the batch (source_table, row_number, source_ref, source_hash).
        encoding: the codec the values' bytes were read with (original bytes of repaired values).
        repair: whether to repair double-encoded UTF-8.
        fallbacks: values the reader decoded with a fallback encoding.
    """
    n = table.num_rows
    out = TextRepair(table)
    fallback_of = _positions(where["row_number"], fallbacks)
    row_any = {flag: np.zeros(n, dtype=bool) for flag in (FALLBACK_DECODED, REPAIRED, STILL_SUSPICIOUS)}
    parts: list[pa.Table] = []
    for name in columns:
        arr = table.column(name).combine_chunks()
        counts = suspicious_counts(arr)
        before = pc.fill_null(pc.greater(counts, 0), False)
        n_before = int(pc.sum(before).as_py() or 0)
        repaired = np.zeros(n, dtype=bool)
        candidates = pc.fill_null(pc.match_substring_regex(arr, DOUBLE_ENCODED), False) if n_before else before
        if repair and bool(pc.any(candidates).as_py()):
            idx = np.flatnonzero(candidates.to_numpy(zero_copy_only=False))
            fixed = [repair_value(v) for v in arr.take(pa.array(idx)).to_pylist()]
            hit = [i for i, f in zip(idx, fixed, strict=True) if f is not None]
            if hit:
                repaired[hit] = True
                new = [f for f in fixed if f is not None]
                arr = pc.replace_with_mask(arr, pa.array(repaired), pa.array(new, pa.string()))
                out.table = out.table.set_column(out.table.column_names.index(name), name, arr)
                counts = suspicious_counts(arr)
        after = pc.fill_null(pc.greater(counts, 0), False)
        fell_back = np.zeros(n, dtype=bool)
        encodings: dict[str, int] = {}
        for (pos, col), f in fallback_of.items():
            if col == name:
                fell_back[pos] = True
                encodings[f.encoding] = encodings.get(f.encoding, 0) + 1
        values = int(pc.sum(pc.fill_null(pc.greater(pc.utf8_length(arr), 0), False)).as_py() or 0)
        out.audit[name] = ColumnAudit(
            values,
            int(fell_back.sum()),
            int(repaired.sum()),
            n_before,
            int(pc.sum(after).as_py() or 0),
            tuple(sorted(encodings.items())),
        )
        row_any[FALLBACK_DECODED] |= fell_back
        row_any[REPAIRED] |= repaired
        row_any[STILL_SUSPICIOUS] |= after.to_numpy(zero_copy_only=False)
        touched = np.flatnonzero(repaired | fell_back)
        if len(touched):
            parts.append(_records(name, touched, repaired, fallback_of, table.column(name), arr, where, encoding))
    if parts:
        out.repairs = pa.concat_tables(parts)
    out.flag_counts = {flag: int(m.sum()) for flag, m in row_any.items() if m.any()}
    out.row_flags = _join_flags(row_any, n)
    return out


def _join_flags(row_any: dict[str, np.ndarray], n: int) -> pa.Array | None:
    """Return per row the raised flags, ;-separated (None when no row has any)."""
    if not any(m.any() for m in row_any.values()):
        return None
    joined: pa.Array = pa.nulls(n, pa.string())
    for flag, mask in row_any.items():
        joined = pc.if_else(pa.array(mask), _join(joined, pa.array([flag] * n, pa.string())), joined)
    return joined


def _join(left: pa.Array, right: pa.Array) -> pa.Array:
    """Join two flag columns with ``;``; a null side is left out (both null: null)."""
    both = pc.binary_join_element_wise(left, right, ";")
    return pc.if_else(pc.is_null(left), right, pc.if_else(pc.is_null(right), left, both))


def merge_flags(flags: pa.Array, text: TextRepair) -> pa.Array:
    """Return the ledger flags of a batch with the text flags of ``text`` added (;-separated)."""
    if text.row_flags is None:
        return flags
    return _join(flags, text.row_flags)


# --- the run's audit --------------------------------------------------------------------------------

TEXT_AUDIT_SCHEMA = pa.schema(
    [
        pa.field("source_table", pa.string(), nullable=False, metadata={"description": "source table or file"}),
        pa.field("column", pa.string(), nullable=False, metadata={"description": "source column"}),
        pa.field("values", pa.int64(), nullable=False, metadata={"description": "non-empty text values read"}),
        pa.field(
            "fallback_decoded",
            pa.int64(),
            nullable=False,
            metadata={"description": "values not valid in the declared encoding, decoded with the fallback"},
        ),
        pa.field(
            "fallback_encodings",
            pa.string(),
            metadata={"description": "the fallback encodings used, with counts (cp865:3;cp1252:1)"},
        ),
        pa.field(
            "suspicious_before",
            pa.int64(),
            nullable=False,
            metadata={"description": "values holding mojibake-like sequences as read"},
        ),
        pa.field(
            "repaired",
            pa.int64(),
            nullable=False,
            metadata={"description": "double-encoded UTF-8 values repaired (original bytes in ledger/text_repairs)"},
        ),
        pa.field(
            "suspicious",
            pa.int64(),
            nullable=False,
            metadata={"description": "values still holding suspicious sequences after repair (left as they were)"},
        ),
    ],
    metadata={"title": "Character-fidelity audit: per source column, text decoded, repaired and still suspicious"},
)


@dataclass
class TextAudit:
    """The character-fidelity counts of a run, per source table and column."""

    columns: dict[tuple[str, str], ColumnAudit] = field(default_factory=dict)

    def add(self, source_table: str, counts: dict[str, ColumnAudit]) -> None:
        """Add one batch's counts."""
        for column, c in counts.items():
            key = (source_table, column)
            self.columns[key] = self.columns.get(key, ColumnAudit()) + c

    def to_table(self) -> pa.Table:
        """Return the audit as a table (only columns with values), sorted by table and column."""
        rows = [(k, c) for k, c in sorted(self.columns.items()) if c.values or c.fallback_decoded]
        return pa.table(
            {
                "source_table": [k[0] for k, _ in rows],
                "column": [k[1] for k, _ in rows],
                "values": [c.values for _, c in rows],
                "fallback_decoded": [c.fallback_decoded for _, c in rows],
                "fallback_encodings": [";".join(f"{e}:{n}" for e, n in c.fallback_encodings) or None for _, c in rows],
                "suspicious_before": [c.suspicious_before for _, c in rows],
                "repaired": [c.repaired for _, c in rows],
                "suspicious": [c.suspicious for _, c in rows],
            },
            schema=TEXT_AUDIT_SCHEMA,
        )

    def to_dict(self) -> dict[str, object]:
        """Return totals and the columns that were decoded, repaired or are still suspicious (JSON-ready)."""
        total = sum(self.columns.values(), ColumnAudit())
        notable = [
            {"source_table": k[0], "column": k[1], **_counts_dict(c)}
            for k, c in sorted(self.columns.items())
            if c.fallback_decoded or c.repaired or c.suspicious
        ]
        return {"totals": _counts_dict(total), "columns": notable}


def _counts_dict(c: ColumnAudit) -> dict[str, object]:
    return {
        "values": c.values,
        "fallback_decoded": c.fallback_decoded,
        "fallback_encodings": dict(c.fallback_encodings),
        "suspicious_before": c.suspicious_before,
        "repaired": c.repaired,
        "suspicious": c.suspicious,
    }


def _records(
    name: str,
    touched: np.ndarray,
    repaired: np.ndarray,
    fallback_of: dict[tuple[int, str], FallbackValue],
    before: pa.ChunkedArray,
    after: pa.Array,
    where: dict[str, pa.Array],
    encoding: str,
) -> pa.Table:
    """Return the ledger/text_repairs rows of one column's touched values (few: Python is fine)."""
    take = pa.array(touched)
    originals = before.take(take).to_pylist()
    actions, encodings, raw = [], [], []
    for pos, text in zip(touched.tolist(), originals, strict=True):
        f = fallback_of.get((pos, name))
        done = [FALLBACK_DECODED] if f else []
        done += [REPAIRED] if repaired[pos] else []
        actions.append(";".join(done))
        if f is not None:
            encodings.append(f.encoding)
            raw.append(f.raw)
        else:
            used = encoding
            try:
                data = str(text).encode(encoding)
            except (UnicodeEncodeError, LookupError):
                used, data = "utf-8", str(text).encode("utf-8")
            encodings.append(used)
            raw.append(data)
    m = len(touched)
    return pa.table(
        {
            **{k: v.take(take) for k, v in where.items()},
            "column": pa.array([name] * m, pa.string()),
            "action": pa.array(actions, pa.string()),
            "encoding": pa.array(encodings, pa.string()),
            "original_base64": pa.array([base64.b64encode(r).decode("ascii") for r in raw], pa.string()),
            "text": after.take(take),
        },
        schema=TEXT_REPAIR_SCHEMA,
    )
