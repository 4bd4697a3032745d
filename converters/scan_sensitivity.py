"""Which scanned columns are sensitive: identifiers, names and free text never show values."""

from __future__ import annotations

import re

# --- names that say what a column holds ---------------------------------------------------------

_IDENTIFIER_WORDS = frozenset(
    [
        "id",
        "nr",
        "fnr",
        "fodselsnummer",
        "fødselsnummer",
        "personnummer",
        "ssn",
        "dnr",
        "hnr",
        "passport",
        "drivers",
        "uuid",
        "guid",
        "uid",
        "udi",
        "identifier",
        "identifikator",
        "ident",
        "mrn",
        "journalnummer",
        "pasientnummer",
        "hprnummer",
        "hpr",
        "her",
    ]
)
_IDENTIFIER_SUFFIXES = ("id", "nr", "nummer", "uuid", "guid", "identifier", "identifikator")
_NAME_WORDS = frozenset(
    [
        "navn",
        "name",
        "first",
        "last",
        "fornavn",
        "etternavn",
        "maiden",
        "prefix",
        "suffix",
        "address",
        "adresse",
        "street",
        "phone",
        "telefon",
        "tlf",
        "mobil",
        "mobile",
        "email",
        "epost",
    ]
)
_NAME_SUFFIXES = ("navn", "name", "adresse", "address", "street", "telefon", "phone", "email", "epost")
_NOT_PERSONAL_TYPES = frozenset({"date", "timestamp", "decimal", "boolean"})


def name_words(column: str) -> list[str]:
    """Return the lower-case words of a column name (``PatientId`` and ``patient_id`` give patient, id)."""
    spaced = re.sub(r"([^\W\d_])(?=[A-ZÆØÅ][a-zæøå])|([a-zæøå0-9])(?=[A-ZÆØÅ])", r"\1\2 ", column)
    return re.findall(r"[^\W\d_]+", spaced.lower())


def _name_match(words: list[str], exact: frozenset[str], suffixes: tuple[str, ...]) -> tuple[str, bool] | None:
    """Return (matched word, whether it matched exactly) for the first word that matches."""
    for w in words:
        if w in exact:
            return w, True
    for w in words:
        for s in suffixes:
            if w.endswith(s) and len(w) > len(s):
                return w, False
    return None


def classify(
    column: str,
    *,
    inferred_type: str,
    non_empty: int,
    distinct: int,
    uuids: int,
    eleven_digits: int,
    with_space: int,
    with_digit: int,
    avg_length: float,
) -> tuple[str | None, str | None]:
    """Return the column's sensitivity class and the reason, or (None, None).

    ``identifier``: the name has an identifier word (id, nr, fnr, fødselsnummer, ssn, passport, uuid,
    ...; a word that only ends in one, like ``patientid``, counts unless the values are dates, times,
    decimals or booleans), or most values are UUIDs or 11-digit numbers, or (20 values or more) the
    values are nearly all different and look like keys (integers, or text with digits and no spaces).
    ``name``: the name has a personal-data word (navn, name, first, last, address, phone, email, ...),
    unless the values are dates, times, decimals or booleans. ``free_text``: text (not numbers,
    dates or times) with an average length over 40 characters, or most values with spaces and more
    than half of them different.
    """
    words = name_words(column)
    personal_type = inferred_type not in _NOT_PERSONAL_TYPES
    ident = _name_match(words, _IDENTIFIER_WORDS, _IDENTIFIER_SUFFIXES)
    if ident is not None and (ident[1] or personal_type):
        return "identifier", f"the column name has {ident[0]!r}"
    if non_empty:
        if uuids * 2 > non_empty:
            return "identifier", f"{uuids} of {non_empty} values are UUIDs"
        if eleven_digits * 2 > non_empty:
            return "identifier", f"{eleven_digits} of {non_empty} values are 11-digit numbers (fødselsnummer?)"
    named = _name_match(words, _NAME_WORDS, _NAME_SUFFIXES)
    if named is not None and personal_type:
        return "name", f"the column name has {named[0]!r}"
    if non_empty >= 20 and distinct >= 0.95 * non_empty:
        key_like = inferred_type == "integer" or (
            inferred_type == "text" and with_space <= 0.05 * non_empty and with_digit * 2 > non_empty
        )
        if key_like:
            return "identifier", f"values are unique ({distinct} distinct of {non_empty}) and look like keys"
    if inferred_type != "text":
        return None, None
    if avg_length > 40:
        return "free_text", f"long text (average {avg_length:.0f} characters)"
    if non_empty and with_space * 2 > non_empty and distinct * 2 > non_empty:
        return "free_text", f"{with_space} of {non_empty} values have spaces and {distinct} are different"
    return None, None
