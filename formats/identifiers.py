"""Recognise and validate Norwegian person identifiers (fødselsnummer and its relatives).

Kinds are told apart by the shape of the first four digits (DDMM of an 11-digit number):

* ``FHN`` felles hjelpenummer: first digit 8 or 9 (no birth date by design).
* ``TNR`` synthetic Skatteetaten Tenor test number: month + 80 (day may also carry the D-number +40).
* ``HNR`` H-nummer: month + 40 (convention unverified in DOMAIN.md; NAV's synthetic numbers use the same +40).
* ``DNR`` D-nummer: day + 40 (first digit 4-7).
* ``FNR`` fødselsnummer: everything else with 11 digits.
* ``DUF`` DUF-nummer: 12 digits; only the shape is checked (no checksum is known to us).

``valid`` means: both mod-11 control digits are right and, except for FH-numbers, the day/month with the offset
removed form a possible date (day 1..31 within the month's length, 29 February always allowed). The
century/individual-number consistency and "born in the future" are not checked.

Numbers issued from 1 January 2032 (Skatteetaten, "Nytt fødselsnummer fra 2032",
folkeregisteret-api-dokumentasjon ``nyttfnr2032.md``) relax the first control digit: the weighted mod-11
remainder over the first ten digits (weights 3 7 6 1 8 9 4 5 2 1) may be 0, 1, 2 or 3 instead of only 0;
the second control digit is unchanged. Both rules are accepted, as Skatteetaten asks systems to do in parallel;
:func:`checksum_rule` says which one a number satisfies. Such numbers no longer say sex or century.

FH-numbers: DOMAIN.md only says they contain "two control digits"; that they use the same weights as the
fødselsnummer is an assumption (python-stdnum's ``calc_check_digit1/2`` are used the same way in LIBRARIES.md).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from formats.privacy import mask_identifier

__all__ = ["KINDS", "IdentifierKind", "checksum_rule", "classify", "classify_array", "is_valid_checksum", "mask"]


@dataclass(frozen=True)
class IdentifierKind:
    """One kind of person identifier.

    Attributes:
        code: Short code as in Volven 8116 (``FNR``, ``DNR``, ``HNR``, ``FHN``, ``DUF``) plus ``TNR`` and ``UNKNOWN``.
        system: Identifier system URI for FHIR ``Identifier.system`` (empty for ``UNKNOWN``).
        description: Human-readable note, including caveats.
    """

    code: str
    system: str
    description: str


_FNR_OID = "urn:oid:2.16.578.1.12.4.1.4.1"

FNR = IdentifierKind("FNR", _FNR_OID, "Fødselsnummer")
DNR = IdentifierKind("DNR", "urn:oid:2.16.578.1.12.4.1.4.2", "D-nummer (day + 40)")
FHN = IdentifierKind("FHN", "urn:oid:2.16.578.1.12.4.1.4.3", "Felles hjelpenummer (first digit 8 or 9)")
HNR = IdentifierKind(
    "HNR",
    "urn:oid:2.16.578.1.12.4.1.1.8327",
    "H-nummer (month + 40); no national namespace: this is the 8327 type code system, an assigner is mandatory",
)
TNR = IdentifierKind("TNR", _FNR_OID, "Synthetic Tenor test number (month + 80); system is the FNR namespace")
DUF = IdentifierKind("DUF", "urn:oid:2.16.578.1.12.4.1.4.5", "DUF-nummer (12 digits, shape checked only)")
UNKNOWN = IdentifierKind("UNKNOWN", "", "Not a recognised Norwegian person identifier")

# Index order is used by the vectorised code; keep it stable.
_ORDER: tuple[IdentifierKind, ...] = (FNR, DNR, HNR, TNR, FHN, DUF, UNKNOWN)
KINDS: dict[str, IdentifierKind] = {kind.code: kind for kind in _ORDER}

# Weights including the control digit itself (weight 1): a number is valid when each weighted sum is 0 mod 11.
# A computed control digit of 10 can never satisfy this, so such numbers are invalid as required.
_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2, 1)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2, 1)
_MONTH_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # index 0 = impossible month
_WHITESPACE = " \t\n\r\f\v\u00a0\u202f"
_STRIP = str.maketrans("", "", _WHITESPACE)
_WHITESPACE_RE2 = "[" + _WHITESPACE + "]"
_ELEVEN = re.compile(r"[0-9]{11}")
_TWELVE = re.compile(r"[0-9]{12}")


def is_valid_checksum(digits: str) -> bool:
    """Check both mod-11 control digits of an 11-digit string (classic, pre-2032 rule).

    Args:
        digits: Exactly 11 ASCII digits.

    Returns:
        True when both control digits are right.
    """
    values = [int(c) for c in digits]
    return (
        sum(w * d for w, d in zip(_W1, values, strict=False)) % 11 == 0
        and sum(w * d for w, d in zip(_W2, values, strict=True)) % 11 == 0
    )


def checksum_rule(digits: str) -> str | None:
    """Return which control-digit rule an 11-digit string satisfies: ``"classic"``, ``"2032"`` or None.

    Example:
        >>> checksum_rule("15108695088"), checksum_rule("30108299939"), checksum_rule("15108695077")
        ('classic', '2032', None)
    """
    values = [int(c) for c in digits]
    rest1 = sum(w * d for w, d in zip(_W1, values, strict=False)) % 11
    if sum(w * d for w, d in zip(_W2, values, strict=True)) % 11 != 0 or rest1 > 3:
        return None
    return "classic" if rest1 == 0 else "2032"


def _kind_and_date_ok(day: int, month: int, first: int) -> tuple[IdentifierKind, bool]:
    """Kind from the DDMM shape and whether the offset-free day/month form a possible date."""
    if first >= 8:
        return FHN, True
    if month > 80:
        kind, month = TNR, month - 80
    elif month > 40:
        kind, month = HNR, month - 40
    elif day > 40:
        kind = DNR
    else:
        kind = FNR
    if day > 40 and kind is not HNR:
        day -= 40
    return kind, 1 <= month <= 12 and 1 <= day <= _MONTH_DAYS[month]


def classify(value: str) -> tuple[IdentifierKind, bool]:
    """Classify one identifier and check it.

    Args:
        value: The identifier; whitespace (including no-break spaces) anywhere is ignored.

    Returns:
        The kind (from the shape, also for invalid numbers) and whether the number is valid. Anything that is not
        11 or 12 ASCII digits is ``UNKNOWN`` and invalid.

    Example:
        >>> kind, valid = classify("81234510053")
        >>> kind.code, valid
        ('FHN', True)
    """
    digits = value.translate(_STRIP)
    if _TWELVE.fullmatch(digits):
        return DUF, True
    if not _ELEVEN.fullmatch(digits):
        return UNKNOWN, False
    kind, date_ok = _kind_and_date_ok(int(digits[0:2]), int(digits[2:4]), int(digits[0]))
    return kind, date_ok and checksum_rule(digits) is not None


def _mod11(total: pa.Array) -> pa.Array:
    """Non-negative integer remainder modulo 11 (pyarrow has no ``mod`` kernel)."""
    return pc.subtract(total, pc.multiply(pc.divide(total, 11), 11))


def _mod10(value: pa.Array) -> pa.Array:
    """Last decimal digit of non-negative integers."""
    return pc.subtract(value, pc.multiply(pc.divide(value, 10), 10))


def classify_array(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array, pa.Array]:
    """Vectorised :func:`classify` over a string array.

    Args:
        values: A pyarrow string (or large string) array; chunked arrays are combined first.

    Returns:
        ``(code, system, valid)``: two string arrays and a boolean array of the same length. A null input gives
        null in all three.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    text = pc.replace_substring_regex(values.cast(pa.string()), _WHITESPACE_RE2, "")
    is12 = pc.match_substring_regex(text, "^[0-9]{12}$")
    is11 = pc.match_substring_regex(text, "^[0-9]{11}$")
    safe = pc.if_else(is11, text, "00000000000")
    number = pc.cast(safe, pa.int64())
    d = [_mod10(pc.divide(number, 10 ** (10 - i))) for i in range(11)]

    def weighted(weights: tuple[int, ...]) -> pa.Array:
        total: pa.Array = pc.multiply(d[0], weights[0])
        for weight, digit in zip(weights[1:], d[1:], strict=False):
            total = pc.add(total, pc.multiply(digit, weight))
        return total

    checksum_ok = pc.and_(pc.less_equal(_mod11(weighted(_W1)), 3), pc.equal(_mod11(weighted(_W2)), 0))
    day = pc.add(pc.multiply(d[0], 10), d[1])
    month = pc.add(pc.multiply(d[2], 10), d[3])
    is_fhn = pc.greater_equal(d[0], 8)
    is_tnr = pc.greater(month, 80)
    is_hnr = pc.and_(pc.greater(month, 40), pc.invert(is_tnr))
    is_dnr = pc.and_(pc.greater(day, 40), pc.invert(pc.greater(month, 40)))
    base_month = pc.if_else(is_tnr, pc.subtract(month, 80), pc.if_else(is_hnr, pc.subtract(month, 40), month))
    base_day = pc.if_else(pc.and_(pc.greater(day, 40), pc.invert(is_hnr)), pc.subtract(day, 40), day)
    month_ok = pc.and_(pc.greater_equal(base_month, 1), pc.less_equal(base_month, 12))
    month_days = pc.take(pa.array(_MONTH_DAYS, pa.int64()), pc.if_else(month_ok, base_month, 0))
    date_ok = pc.or_(
        is_fhn, pc.and_(month_ok, pc.and_(pc.greater_equal(base_day, 1), pc.less_equal(base_day, month_days)))
    )

    index = pc.case_when(
        pc.make_struct(is12, pc.invert(is11), is_fhn, is_tnr, is_hnr, is_dnr),
        _ORDER.index(DUF),
        _ORDER.index(UNKNOWN),
        _ORDER.index(FHN),
        _ORDER.index(TNR),
        _ORDER.index(HNR),
        _ORDER.index(DNR),
        _ORDER.index(FNR),
    )
    index = pc.if_else(pc.is_null(values), pa.scalar(None, pa.int64()), index)
    codes = pc.take(pa.array([k.code for k in _ORDER], pa.string()), index)
    systems = pc.take(pa.array([k.system for k in _ORDER], pa.string()), index)
    valid = pc.or_(is12, pc.and_(is11, pc.and_(checksum_ok, date_ok)))
    valid = pc.if_else(pc.is_null(values), pa.scalar(None, pa.bool_()), valid)
    return codes, systems, valid


def mask(value: str) -> str:
    """Mask an identifier for display or logs: ``010190*****`` for 11 digits (whitespace ignored).

    Args:
        value: The identifier.

    Returns:
        The masked text, see :func:`formats.privacy.mask_identifier`.
    """
    return mask_identifier(value.translate(_STRIP))
