"""FHIR R4 data types flattened into the text columns the mapping reads (pure helpers, no I/O).

- dates and times (``date``, ``dateTime``, ``instant``) become ``YYYY-MM-DDTHH:MM:SSZ`` (UTC) when they
  name a time, ``YYYY-MM-DD`` when they name only a day (a year or month alone is padded to its first
  day; the resource JSON kept beside every record keeps the precision written);
- a ``CodeableConcept`` becomes its first coding (system, code, display) and its text;
- a ``Reference`` becomes the id it names (``urn:uuid:X`` -> ``X``, ``Patient/X`` -> ``X``, an absolute
  URL -> its last id, a conditional reference ``Type?identifier=sys|value`` -> ``value``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

DEFAULT_ZONE = "Europe/Oslo"
"""Zone for a dateTime written with a time but no offset (not valid FHIR, but seen): a deviation."""

_DATETIME = re.compile(
    r"^(?P<y>\d{4})(?:-(?P<mo>\d{2})(?:-(?P<d>\d{2})(?:[T ](?P<h>\d{2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2})(?:\.(?P<f>\d+))?)?(?P<z>Z|[+-]\d{2}:?\d{2})?)?)?)?$"
)
_NUMBER = re.compile(r"^-?\d+(\.\d+)?([eE][+-]?\d+)?$")

Json = dict[str, Any]


@dataclass(frozen=True)
class FhirTime:
    """A parsed FHIR date/time: ``text`` for the mapping, ``day`` as written, whether an offset was missing."""

    text: str
    day: str
    naive: bool


def parse_time(value: object, zone: str = DEFAULT_ZONE) -> FhirTime | None:
    """Parse a FHIR ``date``/``dateTime``/``instant``; None when it is not one.

    Example:
        >>> parse_time("2019-05-01T10:00:00+02:00").text
        '2019-05-01T08:00:00Z'
        >>> parse_time("2019-05").text
        '2019-05-01'
    """
    if not isinstance(value, str):
        return None
    m = _DATETIME.match(value.strip())
    if m is None:
        return None
    y, mo, d = int(m["y"]), int(m["mo"] or 1), int(m["d"] or 1)
    try:
        day = datetime(y, mo, d).date().isoformat()  # noqa: DTZ001 - a calendar date only, checked for validity
        if m["h"] is None:
            return FhirTime(day, day, naive=False)
        hour, minute, second = int(m["h"]), int(m["mi"]), int(m["s"] or 0)
        z = m["z"]
        tz: timezone | ZoneInfo
        if z is None:
            tz = ZoneInfo(zone)
        elif z == "Z":
            tz = UTC
        else:
            sign = -1 if z[0] == "-" else 1
            digits = z[1:].replace(":", "")
            tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
        local = datetime(y, mo, d, hour, minute, second, tzinfo=tz)
    except (ValueError, OverflowError):
        return None
    try:
        instant = local.astimezone(UTC)
    except OverflowError:
        return None
    if instant.year < 1 or instant.year > 9999:  # pragma: no cover - guarded by astimezone
        return None
    return FhirTime(instant.strftime("%Y-%m-%dT%H:%M:%SZ"), day, naive=z is None)


def number_text(value: object) -> str | None:
    """Return a JSON number (or a numeric string) as plain decimal text, else None."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        text = repr(value)
    elif isinstance(value, str) and _NUMBER.match(value.strip()):
        text = value.strip()
    else:
        return None
    try:
        dec = Decimal(text)
    except InvalidOperation:  # pragma: no cover - the pattern admits only numbers
        return None
    if not dec.is_finite():
        return None
    out = format(dec, "f")
    return out.rstrip("0").rstrip(".") if "." in out else out


def amount_text(value: object) -> str | None:
    """Return a money amount rounded to 4 decimals, the model's scale.

    Float noise such as ``410.20000000000005`` is common in exports; the exact value stays in the
    resource JSON.
    """
    text = number_text(value)
    if text is None:
        return None
    rounded = format(Decimal(text).quantize(Decimal("0.0001"), rounding=ROUND_HALF_EVEN), "f")
    return rounded.rstrip("0").rstrip(".") if "." in rounded else rounded


def text_of(value: object) -> str | None:
    """Return a primitive as text (numbers plainly, booleans as true/false), else None."""
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return number_text(value)
    text = str(value)
    return text if text.strip() else None


def first(value: object) -> Json:
    """Return the first element of a list (or the object itself), as a dict; ``{}`` when there is none."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, dict) else {}


def concept(value: object) -> dict[str, str | None]:
    """Flatten a CodeableConcept (or a Coding, or a list of concepts: the first) into system/code/display/text."""
    cc = first(value)
    coding = first(cc.get("coding")) if "coding" in cc else cc
    return {
        "system": text_of(coding.get("system")),
        "code": text_of(coding.get("code")),
        "display": text_of(coding.get("display")),
        "text": text_of(cc.get("text")),
    }


def coded(prefix: str, value: object) -> dict[str, str | None]:
    """Return :func:`concept` with column names ``<prefix>_system`` etc."""
    return {f"{prefix}_{k}": v for k, v in concept(value).items()}


def concept_codes(value: object) -> list[str]:
    """Return every code of every coding of a concept (or list of concepts)."""
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for cc in items:
        if isinstance(cc, dict):
            for coding in cc.get("coding") or [cc]:
                if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                    out.append(coding["code"])
    return out


def reference_text(value: object) -> str | None:
    """Return the ``reference`` string of a Reference (or the first of a list), else None."""
    ref = first(value).get("reference")
    return ref if isinstance(ref, str) and ref else None


def reference_id(value: object) -> str | None:
    """Return the id a Reference names (see the module docstring), its identifier value, or None."""
    ref_obj = first(value)
    ref = reference_text(ref_obj)
    if ref is None:
        ident = ref_obj.get("identifier")
        return text_of(ident.get("value")) if isinstance(ident, dict) else None
    return id_of(ref)


def id_of(ref: str) -> str:
    """Return the id inside a reference string.

    Example:
        >>> id_of("urn:uuid:ab-1"), id_of("Patient/p1/_history/2"), id_of("Patient?identifier=s|v")
        ('ab-1', 'p1', 'v')
    """
    if ref.startswith(("urn:uuid:", "urn:oid:")):
        return ref[9:]
    if "?" in ref:
        query = ref.split("?", 1)[1]
        for part in query.split("&"):
            key, _, val = part.partition("=")
            if key in ("identifier", "_id"):
                return val.rsplit("|", 1)[-1]
        return ref
    parts = [p for p in ref.split("/") if p]
    if "_history" in parts:
        parts = parts[: parts.index("_history")]
    return parts[-1] if parts else ref


def human_name(value: object) -> dict[str, str | None]:
    """Flatten the first (official, else first) HumanName into family/given/prefix/suffix/full."""
    names = [n for n in value if isinstance(n, dict)] if isinstance(value, list) else []
    name = next((n for n in names if n.get("use") == "official"), names[0] if names else {})
    given = " ".join(g for g in name.get("given") or [] if isinstance(g, str)) or None
    prefix = " ".join(p for p in name.get("prefix") or [] if isinstance(p, str)) or None
    suffix = " ".join(s for s in name.get("suffix") or [] if isinstance(s, str)) or None
    family = text_of(name.get("family"))
    full = text_of(name.get("text")) or " ".join(p for p in (prefix, given, family, suffix) if p) or None
    return {"family": family, "given": given, "prefix": prefix, "suffix": suffix, "full": full}


def address(value: object) -> dict[str, str | None]:
    """Flatten the first Address into line/city/district/state/postal_code/country."""
    addr = first(value)
    lines = [ln for ln in addr.get("line") or [] if isinstance(ln, str)]
    return {
        "line": "\n".join(lines) or None,
        "city": text_of(addr.get("city")),
        "district": text_of(addr.get("district")),
        "state": text_of(addr.get("state")),
        "postal_code": text_of(addr.get("postalCode")),
        "country": text_of(addr.get("country")),
    }


def telecom(value: object, system: str = "phone") -> str | None:
    """Return the first contact point value of the given system (phone, email, ...)."""
    for cp in value if isinstance(value, list) else []:
        if isinstance(cp, dict) and cp.get("system") == system:
            return text_of(cp.get("value"))
    return None


def quantity(value: object) -> dict[str, str | None]:
    """Flatten a Quantity into value (plain decimal text), unit and comparator."""
    q = first(value)
    return {
        "value": number_text(q.get("value")),
        "unit": text_of(q.get("unit")) or text_of(q.get("code")),
        "comparator": text_of(q.get("comparator")),
    }


def period(value: object) -> tuple[FhirTime | None, FhirTime | None]:
    """Return the start and end of a Period."""
    p = first(value)
    return parse_time(p.get("start")), parse_time(p.get("end"))


def narrative_text(value: object) -> str | None:
    """Return the text of a Narrative's XHTML ``div`` with the tags removed (whitespace collapsed per line)."""
    div = first(value).get("div")
    if not isinstance(div, str):
        return None
    text = re.sub(r"<br\s*/?>|</p>|</li>|</tr>|</div>", "\n", div, flags=re.IGNORECASE)
    text = re.sub(r"<[^>]+>", "", text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"').replace("&amp;", "&")
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line) or None


def ts_text(value: FhirTime | None) -> str | None:
    """Return a parsed time's text, or None."""
    return value.text if value else None


def time_of(obj: Json, *names: str) -> str | None:
    """Return the first of ``names`` that is a date/time (``effectiveDateTime``, ``effectivePeriod.start``...)."""
    for name in names:
        if name.endswith("Period"):
            start, _end = period(obj.get(name))
            if start:
                return start.text
        else:
            parsed = parse_time(obj.get(name))
            if parsed:
                return parsed.text
    return None
