"""Pure text normalisers for values found in KITH messages (no I/O, property-tested).

The mapping engine reads numbers with a decimal point and times in fixed formats. KITH messages
write decimal commas in reference intervals ("3,5 - 11,0"), dates without leading zeros
("1991-12-4"), dates with an offset ("2017-11-05+01:00") and times with offsets and up to seven
fractional digits ("2019-01-16T22:51:35.5317672+01:00"). The reader keeps every value verbatim
and adds a normalised twin column made with these functions; the mapping reads the twin.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

OSLO = ZoneInfo("Europe/Oslo")

_NUMBER = re.compile(r"^\s*([+-]?)(\d+)(?:[.,](\d+))?\s*$")
_BOUND = r"([+-]?\d+(?:[.,]\d+)?)"
_RANGE = re.compile(rf"^\s*{_BOUND}\s*(?:-|–|—|til|to)\s*{_BOUND}\s*$", re.IGNORECASE)
_UPPER = re.compile(rf"^\s*(?:<=?|≤|under|mindre enn)\s*{_BOUND}\s*$", re.IGNORECASE)
_LOWER = re.compile(rf"^\s*(?:>=?|≥|over|større enn)\s*{_BOUND}\s*$", re.IGNORECASE)
_DATE = re.compile(r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:Z|[+-]\d{2}:?\d{2})?\s*$")
_STAMP = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?\s*$"
)


def decimal_text(raw: str | None) -> str | None:
    """Return a number written with a decimal comma or point as text with a point; None if it is not one.

    Example:
        >>> decimal_text("3,5")
        '3.5'
        >>> decimal_text("< 3") is None
        True
    """
    if raw is None:
        return None
    m = _NUMBER.match(raw)
    if not m:
        return None
    sign, whole, frac = m.groups()
    return f"{sign}{whole}.{frac}" if frac is not None else f"{sign}{whole}"


def reference_interval(raw: str | None) -> tuple[str | None, str | None]:
    """Return (low, high) of a reference interval written as text, each a decimal-point number or None.

    Understands "3,5 - 11,0", "10 - 22", "< 0,5" (upper limit only), "> 60" (lower limit only).

    Example:
        >>> reference_interval("3,5 - 11,0")
        ('3.5', '11.0')
        >>> reference_interval("< 0,5")
        (None, '0.5')
    """
    if raw is None:
        return None, None
    m = _RANGE.match(raw)
    if m:
        return decimal_text(m.group(1)), decimal_text(m.group(2))
    m = _UPPER.match(raw)
    if m:
        return None, decimal_text(m.group(1))
    m = _LOWER.match(raw)
    if m:
        return decimal_text(m.group(1)), None
    return None, None


def normalise_date(raw: str | None) -> str | None:
    """Return a calendar date as ``YYYY-MM-DD`` (leading zeros added, offset dropped); None if impossible.

    Example:
        >>> normalise_date("1991-12-4")
        '1991-12-04'
        >>> normalise_date("2017-11-05+01:00")
        '2017-11-05'
    """
    if raw is None:
        return None
    m = _DATE.match(raw)
    if not m:
        stamp = _STAMP.match(raw)
        if not stamp:
            return None
        m = stamp
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3))).isoformat()
    except ValueError:
        return None


def normalise_timestamp(raw: str | None) -> str | None:
    """Return a KITH date/time as a UTC instant ``YYYY-MM-DDTHH:MM:SSZ``; None if it is not one.

    A value with an offset (``+01:00``, ``Z``) is converted by it; a value without one is read as
    Europe/Oslo local time (the KITH convention); a date alone means local midnight. Fractions of
    a second are dropped.

    Example:
        >>> normalise_timestamp("2019-01-16T22:51:35.5317672+01:00")
        '2019-01-16T21:51:35Z'
        >>> normalise_timestamp("2012-02-17T09:30:47")
        '2012-02-17T08:30:47Z'
    """
    if raw is None:
        return None
    m = _STAMP.match(raw)
    if not m:
        return None
    year, month, day, hour, minute, second, _frac, offset = m.groups()
    try:
        naive = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))  # noqa: DTZ001 - zone attached below
    except ValueError:
        return None
    if offset is None:
        aware = naive.replace(tzinfo=OSLO)
    elif offset == "Z":
        aware = naive.replace(tzinfo=UTC)
    else:
        sign = 1 if offset[0] == "+" else -1
        digits = offset[1:].replace(":", "")
        minutes = sign * (int(digits[:2]) * 60 + int(digits[2:]))
        try:
            aware = datetime.fromisoformat(naive.isoformat() + _offset_text(minutes))
        except ValueError:
            return None
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _offset_text(minutes: int) -> str:
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def yes_no(flag: bool) -> str:  # noqa: FBT001 - a formatter of one boolean
    """Return ``yes`` or ``no`` (the text form the mapping's boolean rules read)."""
    return "yes" if flag else "no"
