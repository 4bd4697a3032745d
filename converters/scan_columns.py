"""Profiling of one source column, batch by batch, in bounded memory (used by ``converters.scan``).

A :class:`ColumnStats` sees each batch of a column once, as Arrow strings, and keeps only
aggregates: counts, length sums, the running minimum and maximum of the values that parse as
numbers, dates or timestamps, counts of the date/time formats that matched, and two bounded
counters (values and value shapes).

**Distinct values and top values.** Values are counted exactly, by value, while a column has at
most :data:`DISTINCT_CAP` distinct values (values longer than :data:`KEY_CHARS` characters are
counted by their first :data:`KEY_CHARS` characters, and the count is then flagged approximate).
Beyond the cap the column switches to approximate mode: the distinct count comes from a
HyperLogLog sketch (2^14 one-byte registers, about 0.8 % standard error; the values are hashed by
DuckDB's ``hash()``, so the estimate is the same on every run) that is seeded with the values
counted so far, and the value counter keeps only the :data:`DISTINCT_CAP` most frequent values
(pruned when it holds twice that many), whose counts are then lower bounds. Shapes are counted
the same way, capped at :data:`SHAPE_CAP`. Memory per column is therefore bounded whatever the
number of rows.

**Privacy.** A column is classified ``identifier``, ``name`` or ``free_text`` by its name and its
values (:func:`classify`). For such a column no value is ever kept in the profile: no top values,
no minimum or maximum, only counts, lengths and value shapes (``99999999999``, ``Aaaa``). Values
shown for other columns pass :func:`formats.privacy.mask_text` (an 11-digit number inside them is
masked) and are cut to :data:`SHOW_CHARS` characters. Values seen only once are left out of the
top list when the column has more distinct values than the list holds, and always for dates,
times and decimals: a list of singletons says nothing about the column, and single persons show
up there (a birth date, a death date, an amount).

**Speed.** Each batch is first reduced to its distinct values with their counts (Arrow's
``value_counts``); the pattern tests (RE2, run by Arrow) and the shapes then run once per distinct
value, weighted by its count. Patterns use Latin-1 character classes, which compile in
microseconds; Unicode classes are used only for the rare batches whose shapes need them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from converters.scan_counting import BoundedCounter, Hasher, HyperLogLog
from converters.scan_sensitivity import classify
from formats.privacy import mask_text

DISTINCT_CAP = 10_000
"""Distinct values counted exactly per column; beyond this the counts are approximate."""
SHAPE_CAP = 1_000
"""Distinct shapes counted per column (beyond this, shape counts are lower bounds)."""
KEY_CHARS = 120
"""Values are counted by at most this many leading characters."""
SHAPE_CHARS = 20
"""Shapes are cut to this many characters (a cut shape ends in ``…``)."""
SHOW_CHARS = 80
"""Shown values are cut to this many characters."""
TYPE_SHARE = 0.95
"""Share of the non-empty values that must match a type for the column to get that type."""

"""Turns an array of strings into deterministic 64-bit hashes (one per value)."""

TYPES = ("empty", "boolean", "integer", "decimal", "date", "timestamp", "text")
"""The inferred types, as written in profiles."""
SENSITIVE = ("identifier", "name", "free_text")
"""The sensitivity classes; a column in none of them has ``sensitive=None``."""

# --- value patterns (RE2 syntax, run by Arrow) -------------------------------------------------

_D = r"\d{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_DN = r"(?:0[1-9]|[12]\d|3[01])\.(?:0[1-9]|1[0-2])\.\d{4}"
_HM = r"(?:[01]\d|2[0-3]):[0-5]\d"
_S = r":[0-5]\d"
_F = r"\.\d{1,9}"
_OFF = r"[+-](?:[01]\d|2[0-3]):?[0-5]\d"

DATE_FORMATS: tuple[tuple[str, str], ...] = (
    ("%Y-%m-%d", rf"^{_D}$"),
    ("%d.%m.%Y", rf"^{_DN}$"),
    ("%Y%m%d", r"^(?:1[89]|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])$"),
)
"""Date formats (strptime codes as the mapping's ``format`` takes them) and their patterns."""


def _timestamp_formats() -> tuple[tuple[str, str], ...]:
    out: list[tuple[str, str]] = []
    for sep in ("T", " "):
        for sec_fmt, sec_rx in (("", ""), (":%S", _S), (":%S.%f", _S + _F)):
            for zone_fmt, zone_rx in (("", ""), ("Z", "Z"), ("%z", _OFF)):
                out.append((f"%Y-%m-%d{sep}%H:%M{sec_fmt}{zone_fmt}", rf"^{_D}{sep}{_HM}{sec_rx}{zone_rx}$"))
    out.append(("%d.%m.%Y %H:%M:%S", rf"^{_DN} {_HM}{_S}$"))
    out.append(("%d.%m.%Y %H:%M", rf"^{_DN} {_HM}$"))
    return tuple(out)


TIMESTAMP_FORMATS = _timestamp_formats()
"""Timestamp formats (ISO with ``T`` or space, seconds, fractions, ``Z`` or an offset; ``dd.mm.yyyy hh:mm``)."""

_DATE_CANDIDATE = r"^(?:\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4}|\d{8})$"
_TIMESTAMP_CANDIDATE = r"^(?:\d{4}-\d{2}-\d{2}|\d{2}\.\d{2}\.\d{4})[T ]\d"
_INTEGER = r"^[+-]?\d+$"
_INTEGER_SHORT = r"^[+-]?\d{1,18}$"
_LEADING_ZERO = r"^[+-]?0\d"
_DECIMAL = r"^[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?$"
_BOOLEAN = r"(?i)^(?:true|false|yes|no|ja|nei|sant|usant|y|n|j|t|f)$"
_UUID = r"^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$"
_ELEVEN_DIGITS = r"^\d{6} ?\d{5}$"
_LETTER_RX = "[A-Za-zÀ-ÖØ-öø-ÿ]"
_CONTINUATION = "\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
MOJIBAKE = (
    # UTF-8 read as Latin-1/cp1252 (Ã¦ Ã¸ Ã¥ Ã† Ã˜ Ã… Â°, â€™ ...), cp865 read as cp1252 (Bj›rn, S‘l, †lesund),
    # C1 control characters (cp865/cp1252 bytes read as Latin-1) and characters a decoder could not read (U+FFFD)
    rf"[ÃÂ][{_CONTINUATION}]|â€|{_LETTER_RX}[‘›†¥]{_LETTER_RX}|(?:^|\s)†[a-zæøå]|[\x{{80}}-\x{{9F}}\x{{FFFD}}]"
)
"""Values matching this look like text decoded with the wrong encoding."""

# --- the profile --------------------------------------------------------------------------------

Counts = tuple[tuple[str, int], ...]


@dataclass(frozen=True)
class ColumnProfile:
    """What a scan found in one column.

    Attributes:
        name: the column name.
        rows: rows read.
        nulls: database NULLs (a delimited file has none).
        empties: empty strings.
        distinct: distinct non-empty values (an estimate when ``distinct_exact`` is False).
        distinct_exact: whether ``distinct`` and the counts of ``top_values`` are exact.
        inferred_type: one of :data:`TYPES`.
        type_matches: non-empty values that match ``inferred_type`` (the rest do not).
        formats: date/time formats that matched (strptime codes, as a mapping's ``format``), most first.
        min_value: the smallest number, or the earliest date/time (ISO), for typed, non-sensitive columns.
        max_value: the largest number, or the latest date/time (ISO), likewise.
        top_values: the most frequent values with their counts (never for sensitive columns).
        shapes: the most frequent value shapes (digits 9, letters a/A) with their counts.
        min_length: shortest non-empty value, in characters.
        max_length: longest non-empty value.
        avg_length: mean length of the non-empty values.
        mojibake: values that look decoded with the wrong encoding (:data:`MOJIBAKE`).
        sensitive: ``identifier``, ``name``, ``free_text`` or None.
        sensitive_reason: why the column was classified so.
        notes: remarks for the person writing the mapping.
    """

    name: str
    rows: int
    nulls: int
    empties: int
    distinct: int
    distinct_exact: bool
    inferred_type: str
    type_matches: int
    formats: Counts
    min_value: str | None
    max_value: str | None
    top_values: Counts
    shapes: Counts
    min_length: int | None
    max_length: int | None
    avg_length: float | None
    mojibake: int
    sensitive: str | None
    sensitive_reason: str | None
    notes: tuple[str, ...] = ()

    @property
    def non_empty(self) -> int:
        """Rows with a value (neither NULL nor empty)."""
        return self.rows - self.nulls - self.empties

    @property
    def date_format(self) -> str | None:
        """The date/time format that matched most, for date and timestamp columns."""
        return self.formats[0][0] if self.formats and self.inferred_type in ("date", "timestamp") else None

    @property
    def date_range(self) -> tuple[str, str] | None:
        """The earliest and latest date/time (ISO), for non-sensitive date and timestamp columns."""
        if self.inferred_type in ("date", "timestamp") and self.min_value is not None and self.max_value is not None:
            return self.min_value, self.max_value
        return None

    def to_dict(self) -> dict[str, Any]:
        """Return the profile as plain JSON-ready data."""
        return {
            "name": self.name,
            "rows": self.rows,
            "nulls": self.nulls,
            "empties": self.empties,
            "distinct": self.distinct,
            "distinct_exact": self.distinct_exact,
            "type": self.inferred_type,
            "type_matches": self.type_matches,
            "formats": [{"format": f, "count": n} for f, n in self.formats],
            "min": self.min_value,
            "max": self.max_value,
            "top_values": [{"value": v, "count": n} for v, n in self.top_values],
            "shapes": [{"shape": s, "count": n} for s, n in self.shapes],
            "min_length": self.min_length,
            "max_length": self.max_length,
            "avg_length": self.avg_length,
            "mojibake": self.mojibake,
            "sensitive": self.sensitive,
            "sensitive_reason": self.sensitive_reason,
            "notes": list(self.notes),
        }


# --- the accumulator ----------------------------------------------------------------------------


def _weighted(mask: pa.Array, counts: pa.Array) -> int:
    """Return the sum of ``counts`` where ``mask`` is true."""
    if not mask.true_count:
        return 0
    return int(pc.sum(pc.filter(counts, mask)).as_py())


_SHAPE_TABLE = str.maketrans(
    {
        **dict.fromkeys("0123456789", "9"),
        **dict.fromkeys("ABCDEFGHIJKLMNOPQRSTUVWXYZÀÁÂÃÄÅÆÇÈÉÊËÌÍÎÏÐÑÒÓÔÕÖØÙÚÛÜÝÞ", "A"),
        **dict.fromkeys("abcdefghijklmnopqrstuvwxyzßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ", "a"),
    }
)


UUID_SHAPE = "<uuid>"
"""The shape of every UUID."""
_UUID_TEXT = re.compile(_UUID)


def _shape_char(c: str) -> str:
    if c.isdigit():
        return "9"
    if c.isalpha():
        return "A" if c.isupper() or c.istitle() else "a"
    return c


def value_shape(value: str) -> str:
    """Return a value's shape: digits become 9, upper-case letters A, other letters a, the rest stays.

    Shapes are cut to :data:`SHAPE_CHARS` characters; a cut shape ends in ``…``. A UUID's shape is
    :data:`UUID_SHAPE` (the pattern of its hex digits would only tell one key from another).

    Example:
        >>> value_shape("Bjørn 1964-05-17")
        'Aaaaa 9999-99-99'
    """
    if len(value) in (36, 38) and _UUID_TEXT.fullmatch(value):
        return UUID_SHAPE
    head = value[:SHAPE_CHARS].translate(_SHAPE_TABLE)
    if not head.isascii():  # letters and digits beyond Latin-1 must not show either
        head = "".join(_shape_char(c) for c in head)
    return head + "…" if len(value) > SHAPE_CHARS else head


class _Extremes:
    """A running minimum and maximum."""

    def __init__(self) -> None:
        self.low: Any = None
        self.high: Any = None

    def add(self, values: pa.Array) -> None:
        if len(values) == 0:
            return
        mm = pc.min_max(values)
        low, high = mm["min"].as_py(), mm["max"].as_py()
        if low is None:
            return
        self.low = low if self.low is None else min(self.low, low)
        self.high = high if self.high is None else max(self.high, high)

    def merged(self, other: _Extremes) -> tuple[Any, Any]:
        lows = [x for x in (self.low, other.low) if x is not None]
        highs = [x for x in (self.high, other.high) if x is not None]
        return (min(lows) if lows else None, max(highs) if highs else None)


def _iso_dates(values: pa.Array) -> pa.Array:
    out = pc.replace_substring_regex(values, r"^(\d{2})\.(\d{2})\.(\d{4})$", r"\3-\2-\1")
    return pc.replace_substring_regex(out, r"^(\d{4})(\d{2})(\d{2})$", r"\1-\2-\3")


def _iso_timestamps(values: pa.Array) -> pa.Array:
    out = pc.replace_substring_regex(values, r"^(\d{4}-\d{2}-\d{2}) ", r"\1T")
    return pc.replace_substring_regex(out, r"^(\d{2})\.(\d{2})\.(\d{4}) ", r"\3-\2-\1T")


class ColumnStats:
    """Aggregates of one column over the batches of a scan (memory bounded by the caps).

    Each batch is reduced to its distinct values with their counts first; the pattern tests run
    on the distinct values and are weighted by the counts.
    """

    def __init__(self, name: str, hasher: Hasher) -> None:
        self.name = name
        self._hasher = hasher
        self.rows = self.nulls = self.empties = 0
        self.length_sum = 0
        self.min_length: int | None = None
        self.max_length: int | None = None
        self.values = BoundedCounter(DISTINCT_CAP)
        self.shapes = BoundedCounter(SHAPE_CAP)
        self.sketch: HyperLogLog | None = None
        self.keys_cut = 0
        self.n_integer = self.n_leading_zero = self.n_decimal = self.n_boolean = 0
        self.n_uuid = self.n_eleven = self.n_space = self.n_digit = self.mojibake = 0
        self.formats: dict[str, int] = {}
        self.integers, self.decimals, self.dates, self.timestamps = _Extremes(), _Extremes(), _Extremes(), _Extremes()
        self.number_errors = 0

    def add(self, column: pa.Array) -> None:
        """Add one batch of the column (strings; NULL for a database NULL)."""
        self.rows += len(column)
        self.nulls += column.null_count
        values = pc.drop_null(column) if column.null_count else column
        empty = pc.equal(values, "")
        n_empty = int(empty.true_count)
        self.empties += n_empty
        ne = pc.filter(values, pc.invert(empty)) if n_empty else values
        if len(ne) == 0:
            return
        self._lengths(ne)
        self.mojibake += int(pc.match_substring_regex(ne, MOJIBAKE).true_count)
        vc = pc.value_counts(self._keys(ne))
        keys, counts = vc.field("values"), vc.field("counts")
        key_list, count_list = keys.to_pylist(), counts.to_pylist()
        self._count_values(keys, key_list, count_list)
        self.shapes.add([value_shape(k) for k in key_list], count_list)
        self.shapes.prune()

        def weighted(pattern: str) -> int:
            return _weighted(pc.match_substring_regex(keys, pattern), counts)

        self.n_uuid += weighted(_UUID)
        self.n_eleven += weighted(_ELEVEN_DIGITS)
        self.n_space += weighted(r"\s")
        self.n_digit += weighted(r"\d")
        self.n_boolean += weighted(_BOOLEAN)
        self.n_leading_zero += weighted(_LEADING_ZERO)
        self._numbers(keys, counts)
        self._temporal(keys, counts)

    def _lengths(self, ne: pa.Array) -> None:
        lengths = pc.utf8_length(ne)
        mm = pc.min_max(lengths)
        low, high = int(mm["min"].as_py()), int(mm["max"].as_py())
        self.length_sum += int(pc.sum(lengths).as_py())
        self.min_length = low if self.min_length is None else min(self.min_length, low)
        self.max_length = high if self.max_length is None else max(self.max_length, high)
        if high > KEY_CHARS:
            self.keys_cut += int(pc.greater(lengths, KEY_CHARS).true_count)

    def _keys(self, ne: pa.Array) -> pa.Array:
        """Return the values as counted: cut to :data:`KEY_CHARS` characters."""
        if self.max_length is not None and self.max_length > KEY_CHARS:
            return pc.utf8_slice_codeunits(ne, 0, KEY_CHARS)
        return ne

    def _count_values(self, keys: pa.Array, key_list: list[str], count_list: list[int]) -> None:
        if self.sketch is not None:
            self.sketch.add(self._hasher(keys))
        was_exact = self.values.exact
        self.values.add(key_list, count_list)
        if was_exact and not self.values.exact:
            # first time over the cap: from now on a sketch counts the distinct values, seeded with
            # every value counted so far (this batch included)
            self.sketch = HyperLogLog()
            self.sketch.add(self._hasher(pa.array(list(self.values.counts), pa.string())))
        self.values.prune()

    def _numbers(self, keys: pa.Array, counts: pa.Array) -> None:
        is_int = pc.match_substring_regex(keys, _INTEGER)
        self.n_integer += _weighted(is_int, counts)
        is_dec = pc.match_substring_regex(keys, _DECIMAL)
        self.n_decimal += _weighted(is_dec, counts)
        try:
            if is_int.true_count:
                short = pc.filter(keys, pc.match_substring_regex(keys, _INTEGER_SHORT))
                self.integers.add(pc.cast(pc.replace_substring_regex(short, r"^\+", ""), pa.int64()))
            if is_dec.true_count:
                dec = pc.replace_substring(pc.replace_substring_regex(pc.filter(keys, is_dec), r"^\+", ""), ",", ".")
                self.decimals.add(pc.cast(dec, pa.float64()))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            self.number_errors += 1

    def _temporal(self, keys: pa.Array, counts: pa.Array) -> None:
        for candidate, specs, normalise, extremes in (
            (_DATE_CANDIDATE, DATE_FORMATS, _iso_dates, self.dates),
            (_TIMESTAMP_CANDIDATE, TIMESTAMP_FORMATS, _iso_timestamps, self.timestamps),
        ):
            mask = pc.match_substring_regex(keys, candidate)
            if not mask.true_count:
                continue
            cand, cand_counts = pc.filter(keys, mask), pc.filter(counts, mask)
            matched: list[pa.Array] = []
            for fmt, pattern in specs:
                hit = pc.match_substring_regex(cand, pattern)
                if hit.true_count:
                    self.formats[fmt] = self.formats.get(fmt, 0) + _weighted(hit, cand_counts)
                    matched.append(pc.filter(cand, hit))
            if matched:
                extremes.add(normalise(pa.concat_arrays(matched)))

    # --- the result -----------------------------------------------------------------------------

    def _type(self, non_empty: int) -> tuple[str, int, list[str]]:
        notes: list[str] = []
        need = TYPE_SHARE * non_empty
        n_date = sum(self.formats.get(f, 0) for f, _ in DATE_FORMATS)
        n_time = sum(self.formats.get(f, 0) for f, _ in TIMESTAMP_FORMATS)
        if non_empty == 0:
            return "empty", 0, notes
        if self.n_boolean >= need:
            return "boolean", self.n_boolean, notes
        if n_date >= need:
            return "date", n_date, notes
        if n_time >= need or (n_time and n_date + n_time >= need):
            if n_date:
                notes.append(f"{n_date} values are dates without a time")
            return "timestamp", n_date + n_time, notes
        if self.n_integer >= need:
            if not self.n_leading_zero:
                return "integer", self.n_integer, notes
            notes.append(f"{self.n_leading_zero} values are digits with leading zeros (codes?): read them as text")
        elif self.n_decimal >= need:
            return "decimal", self.n_decimal, notes
        near = max(
            ("boolean", self.n_boolean),
            ("number", self.n_decimal),
            ("date", n_date),
            ("timestamp", n_time),
            key=lambda kv: kv[1],
        )
        if near[1] * 2 >= non_empty and not self.n_leading_zero:
            notes.append(f"{near[1]} of {non_empty} values are {near[0]}s: the others are not")
        return "text", non_empty, notes

    def _classify(self, inferred: str, non_empty: int, distinct: int) -> tuple[str | None, str | None]:
        return classify(
            self.name,
            inferred_type=inferred,
            non_empty=non_empty,
            distinct=distinct,
            uuids=self.n_uuid,
            eleven_digits=self.n_eleven,
            with_space=self.n_space,
            with_digit=self.n_digit,
            avg_length=self.length_sum / non_empty if non_empty else 0.0,
        )

    def profile(self, top: int) -> ColumnProfile:
        """Return the column's profile, with at most ``top`` top values and shapes."""
        non_empty = self.rows - self.nulls - self.empties
        distinct = self.sketch.estimate() if self.sketch is not None else len(self.values.counts)
        if self.sketch is not None:
            distinct = min(max(distinct, DISTINCT_CAP + 1), non_empty)
        inferred, matches, notes = self._type(non_empty)
        sensitive, reason = self._classify(inferred, non_empty, distinct)
        exact = self.values.exact and not self.keys_cut
        if self.keys_cut:
            notes.append(
                f"{self.keys_cut} values are longer than {KEY_CHARS} characters and were counted by their start"
            )
        if not self.values.exact:
            notes.append(f"more than {DISTINCT_CAP:,} distinct values: the distinct count is an estimate")
        if matches < non_empty and inferred != "text":
            notes.append(f"{non_empty - matches} values do not match the type {inferred}")
        if self.mojibake:
            notes.append(f"{self.mojibake} values look decoded with the wrong encoding")
        if self.number_errors and inferred in ("integer", "decimal"):
            notes.append("some numbers could not be read: the minimum and maximum may miss them")
        low, high = self._extremes(inferred) if sensitive is None else (None, None)
        shown: Counts = ()
        if sensitive is None:
            # values seen once are left out where they say nothing about the column and may single out a person
            singles = distinct > top or inferred in ("date", "timestamp", "decimal")
            shown = tuple((_shown(v), n) for v, n in self.values.most_common(top) if n > 1 or not singles)
        formats = tuple(sorted(self.formats.items(), key=lambda kv: (-kv[1], kv[0])))
        return ColumnProfile(
            name=self.name,
            rows=self.rows,
            nulls=self.nulls,
            empties=self.empties,
            distinct=distinct,
            distinct_exact=exact,
            inferred_type=inferred,
            type_matches=matches,
            formats=formats if inferred in ("date", "timestamp") else (),
            min_value=low,
            max_value=high,
            top_values=shown,
            shapes=tuple(self.shapes.most_common(top)),
            min_length=self.min_length,
            max_length=self.max_length,
            avg_length=round(self.length_sum / non_empty, 2) if non_empty else None,
            mojibake=self.mojibake,
            sensitive=sensitive,
            sensitive_reason=reason,
            notes=tuple(notes),
        )

    def _extremes(self, inferred: str) -> tuple[str | None, str | None]:
        if inferred == "integer":
            low, high = self.integers.low, self.integers.high
        elif inferred == "decimal":
            low, high = self.decimals.low, self.decimals.high
        elif inferred == "date":
            low, high = self.dates.low, self.dates.high
        elif inferred == "timestamp":
            low, high = self.timestamps.merged(self.dates)
        else:
            return None, None
        return (None if low is None else str(low)), (None if high is None else str(high))


def _shown(value: str) -> str:
    text = mask_text(value)
    return text if len(text) <= SHOW_CHARS else text[:SHOW_CHARS] + "…"
