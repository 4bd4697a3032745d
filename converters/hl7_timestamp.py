"""HL7 v2 date/time values (DTM, TS, DT): parsed into ISO-8601 text the mapping engine reads.

A DTM is ``YYYY[MM[DD[HH[MM[SS[.S[S[S[S]]]]]]]]][+/-ZZZZ]``; a TS is a DTM with an optional
``^precision`` component (only the first component is read here). The engine reads one time zone
per rule, so the reader turns every time into a UTC instant: a value with an offset keeps its
instant; a value without one is read in the source's zone (Europe/Oslo unless the reader is told
otherwise). The verbatim value always stays in the record beside it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Europe/Oslo"
ISO_UTC_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
"""How instants are written (and the format the shipped mapping reads them with, in UTC)."""

_DTM = re.compile(
    r"^(?P<y>\d{4})(?:(?P<mo>\d{2})(?:(?P<d>\d{2})(?:(?P<h>\d{2})(?:(?P<mi>\d{2})"
    r"(?:(?P<s>\d{2})(?:\.(?P<f>\d{1,4}))?)?)?)?)?)?(?P<z>[+-]\d{4})?$"
)


@dataclass(frozen=True)
class HL7Time:
    """A parsed DTM.

    Attributes:
        instant: the UTC instant (the start of the period named, at its precision).
        day: the calendar date, when the value names at least a day (as written, no zone shift).
        precision: how many of the parts were given: 1 year ... 6 seconds (7 with fractions).
        has_offset: whether the value carried its own UTC offset.
    """

    instant: datetime
    day: date | None
    precision: int
    has_offset: bool

    def iso_utc(self) -> str:
        """Return the instant as ``YYYY-MM-DDTHH:MM:SSZ`` (fractions of a second dropped)."""
        return self.instant.strftime(ISO_UTC_FORMAT)


def parse_dtm(value: str, *, zone: str = DEFAULT_ZONE) -> HL7Time | None:
    """Parse an HL7 DTM; return None when it is not one (bad form, impossible date or offset).

    Args:
        value: the text of the first component of a DTM/TS/DT field (surrounding blanks ignored).
        zone: IANA zone in which a value without an offset is read.

    Example:
        >>> parse_dtm("201203141259-0215").iso_utc()
        '2012-03-14T15:14:00Z'
        >>> parse_dtm("19630815").day.isoformat()
        '1963-08-15'
    """
    match = _DTM.match(value.strip())
    if match is None:
        return None
    parts = match.groupdict()
    names = ("y", "mo", "d", "h", "mi", "s", "f")
    precision = sum(1 for n in names if parts[n] is not None)
    fraction = parts["f"] or ""
    try:
        naive = datetime(  # noqa: DTZ001 - a zone is attached just below
            int(parts["y"]),
            int(parts["mo"] or 1),
            int(parts["d"] or 1),
            int(parts["h"] or 0),
            int(parts["mi"] or 0),
            int(parts["s"] or 0),
            int(fraction.ljust(6, "0")) if fraction else 0,
        )
        if parts["z"] is not None:
            sign = -1 if parts["z"][0] == "-" else 1
            hours, minutes = int(parts["z"][1:3]), int(parts["z"][3:5])
            if hours > 14 or minutes > 59:
                return None
            tz: timezone | ZoneInfo = timezone(sign * timedelta(hours=hours, minutes=minutes))
        else:
            tz = ZoneInfo(zone)
        instant = naive.replace(tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):
        return None
    day = naive.date() if precision >= 3 else None
    return HL7Time(instant=instant, day=day, precision=precision, has_offset=parts["z"] is not None)
