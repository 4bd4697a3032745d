"""Value transforms on whole Arrow arrays: the kernels behind mapping rules.

Each function takes string arrays (one value per source row) and returns arrays of the
canonical type, plus masks for rows that must be rejected and rows that are flagged. No loop
runs per row: everything is an Arrow compute kernel.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from datetime import UTC

import pyarrow as pa
import pyarrow.compute as pc

from converters.mapping import Condition, Lookup, ValueRule
from formats.identifiers import classify_array

NUMBER_PATTERN = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$|^\s*[+-]?(?i:nan|inf|infinity)\s*$"
INTEGER_PATTERN = r"^\s*[+-]?\d+\s*$"
DECIMAL_PATTERN = r"^\s*[+-]?\d{1,14}(\.\d{0,4})?\s*$"
BOOLEAN_MAP: dict[str, bool] = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
    "ja": True,
    "nei": False,
    "j": True,
    "n": False,
    "y": True,
    "t": True,
    "f": False,
}


@dataclass(frozen=True)
class Evaluated:
    """The result of one rule over a batch.

    Attributes:
        values: the canonical values.
        errors: per row, the reject reason code, or null where the row is fine (None: no errors).
        flags: True where the row is flagged (unknown code kept as it was).
    """

    values: pa.Array
    errors: pa.Array | None = None
    flags: pa.BooleanArray | None = None


def reasons(mask: pa.Array, reason: str) -> pa.Array | None:
    """Return a reason array (``reason`` where mask is true, else null), or None if no row is set."""
    if not _any(mask):
        return None
    return pc.if_else(mask, pa.scalar(reason, pa.string()), pa.scalar(None, pa.string()))


def empty_to_null(values: pa.Array) -> pa.Array:
    """Return ``values`` with empty strings as nulls (CSV has no other way to say 'no value')."""
    return pc.if_else(pc.equal(values, ""), pa.scalar(None, pa.string()), values)


def _any(mask: pa.Array | None) -> bool:
    return mask is not None and bool(pc.any(mask).as_py())


def _present(values: pa.Array) -> pa.Array:
    return pc.is_valid(values)


def match(condition: Condition, columns: dict[str, pa.Array]) -> pa.Array:
    """Return a boolean mask of the rows that satisfy ``condition``."""
    values = columns[condition.column]
    if condition.op == "equals":
        return pc.fill_null(pc.equal(values, condition.values[0]), False)
    if condition.op == "empty":
        is_empty = pc.fill_null(pc.equal(values, ""), True)
        return is_empty if condition.values[0] in ("true", "True") else pc.invert(is_empty)
    member = pc.fill_null(pc.is_in(values, value_set=pa.array(condition.values, pa.string())), False)
    return member if condition.op == "in" else pc.invert(member)


def source_values(rule: ValueRule, columns: dict[str, pa.Array], length: int) -> pa.Array:
    """Return the raw string value of ``rule`` for every row (null where empty or ``when`` fails)."""
    values = _source_values(rule, columns, length)
    if rule.when is not None:
        values = pc.if_else(match(rule.when, columns), values, pa.scalar(None, pa.string()))
    return values


def _source_values(rule: ValueRule, columns: dict[str, pa.Array], length: int) -> pa.Array:
    if rule.constant is not None:
        return pa.array([rule.constant] * length, pa.string())
    if rule.concat:
        parts = [empty_to_null(pc.utf8_trim_whitespace(columns[c])) for c in rule.concat]
        # Arrow's join with null_handling="skip" drops a row whose parts are all null (pyarrow 26);
        # an empty first part keeps the row, and the result is made null again below
        present = parts[0].is_valid()
        for part in parts[1:]:
            present = pc.or_(present, part.is_valid())
        parts[0] = pc.if_else(present, parts[0], pa.scalar("", pa.string()))
        joined = pc.binary_join_element_wise(*parts, rule.separator, null_handling="skip")
        return empty_to_null(joined)
    assert rule.column is not None
    values = columns[rule.column]
    if rule.trim:
        values = pc.utf8_trim_whitespace(values)
    return empty_to_null(values)


def translate(values: pa.Array, mapping: tuple[tuple[str, str | None], ...], on_unknown: str) -> Evaluated:
    """Translate values through a code table.

    Args:
        values: source values (null = empty).
        mapping: pairs of (source value, canonical value).
        on_unknown: keep (silently), flag (keep and flag), null (drop the value, flag) or reject.

    Returns:
        The translated values, with masks for unknown values.
    """
    keys = pa.array([k for k, _ in mapping], pa.string())
    targets = pa.array([v for _, v in mapping], pa.string())
    return translate_arrays(values, keys, targets, on_unknown)


def translate_arrays(values: pa.Array, keys: pa.Array, targets: pa.Array, on_unknown: str) -> Evaluated:
    """Translate values through parallel key and target arrays (the first matching key wins)."""
    index = pc.index_in(values, value_set=keys)
    translated = pc.take(targets, index)
    unknown = pc.and_(_present(values), pc.is_null(index))
    if on_unknown == "reject":
        return Evaluated(translated, reasons(unknown, "unknown_code"))
    if on_unknown == "null":
        return Evaluated(translated, flags=unknown if _any(unknown) else None)
    kept = pc.if_else(unknown, values, translated)
    return Evaluated(kept, flags=unknown if on_unknown == "flag" and _any(unknown) else None)


def parse_temporal(values: pa.Array, formats: tuple[str, ...], target: pa.DataType, timezone: str) -> Evaluated:
    """Parse dates or timestamps, trying each format in turn.

    Naive times are read in ``timezone`` and stored as UTC instants; dates stay calendar dates.
    """
    parsed = [_strptime_exact(values, fmt) for fmt in formats]
    result = pc.coalesce(*parsed) if len(parsed) > 1 else parsed[0]
    if pa.types.is_date(target):
        out = pc.cast(result, pa.date32())
    else:
        aware = pc.assume_timezone(result, timezone=timezone, ambiguous="earliest", nonexistent="earliest")
        out = _after_2037(result, pc.cast(aware, target), timezone)
    bad = pc.and_(_present(values), pc.is_null(result))
    return Evaluated(out, reasons(bad, "invalid_date"))


_LEADING_ZEROS = r"(^|[^0-9])0+([0-9])"


def _strptime_exact(values: pa.Array, fmt: str) -> pa.Array:
    """Parse with ``fmt``; null where the value does not match or names a day that does not exist.

    Arrow's strptime rolls impossible dates over (2001-02-29 becomes 2001-03-01). Writing the
    parsed value back with the same format and comparing it with the input (leading zeros and
    case aside) catches that, so such a value is reported as invalid instead of silently changed.
    """
    parsed = pc.strptime(values, format=fmt, unit="us", error_is_null=True)
    if "%z" in fmt or "%Z" in fmt:
        return parsed
    seconds = pc.cast(parsed, pa.timestamp("s"), safe=False)
    written = pc.strftime(seconds, format=fmt)

    def canonical(text: pa.Array) -> pa.Array:
        return pc.replace_substring_regex(pc.utf8_lower(pc.utf8_trim_whitespace(text)), _LEADING_ZEROS, r"\1\2")

    same = pc.fill_null(pc.equal(canonical(written), canonical(values)), False)
    return pc.if_else(same, parsed, pa.scalar(None, parsed.type))


def _after_2037(naive: pa.Array, aware: pa.Array, timezone: str) -> pa.Array:
    """Redo times from 2038 on with Python's zoneinfo.

    Arrow's zone data applies only explicit transitions, which end in 2037, so it would read later
    summer times an hour off. Such values are rare in journals (future appointments), so the
    per-value path costs nothing in practice.
    """
    late = pc.fill_null(pc.greater_equal(pc.year(naive), 2038), False)
    if not pc.any(late).as_py():
        return aware
    zone = zoneinfo.ZoneInfo(timezone)
    fixed = [v.replace(tzinfo=zone).astimezone(UTC) for v in naive.filter(late).to_pylist()]
    return pc.replace_with_mask(aware, late, pa.array(fixed, aware.type))


def parse_number(values: pa.Array, target: pa.DataType) -> Evaluated:
    """Parse integers, floats or decimals; values that are not numbers reject the row."""
    if pa.types.is_integer(target):
        pattern = INTEGER_PATTERN
    elif pa.types.is_decimal(target):
        pattern = DECIMAL_PATTERN
    else:
        pattern = NUMBER_PATTERN
    ok = pc.match_substring_regex(values, pattern)
    good = pc.if_else(ok, pc.utf8_trim_whitespace(values), pa.scalar(None, pa.string()))
    bad = pc.and_(_present(values), pc.invert(pc.fill_null(ok, False)))
    try:
        out = pc.cast(good, target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        # rare: a value matches the pattern but does not fit the type (e.g. > int64); find it per value
        fits = [v is None or _fits(v, target) for v in good.to_pylist()]
        fit_mask = pa.array(fits, pa.bool_())
        good = pc.if_else(fit_mask, good, pa.scalar(None, pa.string()))
        bad = pc.or_(bad, pc.invert(fit_mask))
        out = pc.cast(good, target)
    return Evaluated(out, reasons(bad, "invalid_number"))


def _fits(value: str, target: pa.DataType) -> bool:
    try:
        pc.cast(pa.array([value], pa.string()), target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return False
    return True


def parse_boolean(values: pa.Array) -> Evaluated:
    """Parse yes/no values (true/false, 1/0, ja/nei, ...), case-insensitively."""
    lowered = pc.utf8_lower(pc.utf8_trim_whitespace(values))
    keys = pa.array(list(BOOLEAN_MAP), pa.string())
    index = pc.index_in(lowered, value_set=keys)
    out = pc.take(pa.array(list(BOOLEAN_MAP.values()), pa.bool_()), index)
    bad = pc.and_(_present(values), pc.is_null(index))
    return Evaluated(out, reasons(bad, "invalid_boolean"))


Lookups = dict[Lookup, tuple[pa.Array, pa.Array]]
"""Loaded lookup tables: for each lookup, its key column and value column (as strings)."""


def evaluate(rule: ValueRule, columns: dict[str, pa.Array], length: int, lookups: Lookups | None = None) -> Evaluated:
    """Apply one mapping rule to a batch of source columns.

    Args:
        rule: the validated rule.
        columns: source columns by name, as strings.
        length: number of rows.
        lookups: the loaded lookup tables the rule may use.

    Returns:
        Canonical values plus reject and flag masks.

    Example:
        >>> import pyarrow as pa
        >>> r = ValueRule(path="x", target_type=pa.date32(), column="d", formats=("%d.%m.%Y",))
        >>> evaluate(r, {"d": pa.array(["31.12.1999"])}, 1).values.to_pylist()
        [datetime.date(1999, 12, 31)]
    """
    raw = source_values(rule, columns, length)
    if rule.identify is not None:
        kind, system, valid = classify_array(raw)
        if rule.identify == "valid":
            return Evaluated(valid)
        raw = kind if rule.identify == "kind" else system
    flags = None
    if rule.mapping is not None or rule.lookup is not None:
        if rule.lookup is not None:
            keys, targets = (lookups or {})[rule.lookup]
            translated = translate_arrays(raw, keys, targets, rule.on_unknown)
        else:
            assert rule.mapping is not None
            translated = translate(raw, rule.mapping, rule.on_unknown)
        raw, flags, translate_errors = translated.values, translated.flags, translated.errors
    else:
        translate_errors = None
    target = rule.target_type
    if pa.types.is_string(target):
        result = Evaluated(raw)
    elif pa.types.is_date(target) or pa.types.is_timestamp(target):
        result = parse_temporal(raw, rule.formats, target, rule.timezone)
    elif pa.types.is_boolean(target):
        result = parse_boolean(raw)
    else:
        result = parse_number(raw, target)
    errors = result.errors
    if translate_errors is not None:
        errors = pc.coalesce(translate_errors, errors) if errors is not None else translate_errors
    if rule.required:
        missing = reasons(pc.is_null(result.values), "missing_required")
        if missing is not None:
            errors = pc.coalesce(errors, missing) if errors is not None else missing
    return Evaluated(result.values, errors, flags)
