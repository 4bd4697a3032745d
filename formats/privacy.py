"""Masking of personal identifiers for anything a person or a log may see."""

from __future__ import annotations

import re

_ELEVEN_DIGITS = re.compile(r"(?<!\d)(\d{6})(\d{5})(?!\d)")


def mask_identifier(value: str | None) -> str:
    """Mask an identifier: keep the first six characters of an 11-digit number (``010190*****``).

    Other identifiers keep at most their first three characters.

    Example:
        >>> mask_identifier("01019012345")
        '010190*****'
    """
    if not value:
        return ""
    digits = value.replace(" ", "")
    if len(digits) == 11 and digits.isdigit():
        return digits[:6] + "*****"
    keep = min(3, max(0, len(value) - 4))
    return value[:keep] + "*" * (len(value) - keep)


_URL_PASSWORD = re.compile(r"(?P<head>[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)(?P<secret>[^@\s]+)(?P<tail>@)")
_KEY_PASSWORD = re.compile(r"(?i)(?P<head>\b(?:password|passwd|pwd)\s*[=:]\s*)(?P<secret>[^\s&;]+)")


def redact_secrets(text: str, secrets: tuple[str | None, ...] = ()) -> str:
    """Replace passwords in database URLs, ``password=...`` settings and any of ``secrets`` with ``***``.

    Example:
        >>> redact_secrets("postgresql://jk:hemmelig@localhost/epj")
        'postgresql://jk:***@localhost/epj'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _URL_PASSWORD.sub(lambda m: m.group("head") + "***" + m.group("tail"), text)
    return _KEY_PASSWORD.sub(lambda m: m.group("head") + "***", text)


def mask_text(text: str) -> str:
    """Mask every 11-digit number (a possible fødselsnummer) inside free text."""
    return _ELEVEN_DIGITS.sub(lambda m: m.group(1) + "*****", text)
