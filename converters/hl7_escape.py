"""HL7 v2 delimiters and escape sequences (ER7, the pipe-and-hat encoding).

An HL7 v2 message declares its own delimiters in MSH-1 (the field separator) and MSH-2 (the
encoding characters: component, repetition, escape, subcomponent and, from v2.7, truncation).
Text that contains a delimiter is written with an escape sequence (``\\F\\``, ``\\S\\``, ...).
These functions are pure and work on text; they never raise for odd input: an escape sequence
that is unknown or never closed is kept verbatim.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FORMATTING_BREAKS = {".br": "\n", ".sp": "\n"}
"""Formatting commands of FT fields that become a line break in plain text."""

_HEX = re.compile(r"^X((?:[0-9A-Fa-f]{2})+)$")


@dataclass(frozen=True)
class Delimiters:
    """The delimiters one message declares in MSH-1 and MSH-2.

    Attributes:
        field: the field separator (MSH-1), normally ``|``.
        component: normally ``^``.
        repetition: normally ``~``.
        escape: normally ``\\``; empty when MSH-2 declares none (then nothing is unescaped).
        subcomponent: normally ``&``.
        truncation: ``#`` from v2.7 on; empty when MSH-2 does not declare it.
    """

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"
    truncation: str = ""

    @classmethod
    def from_msh(cls, segment: str) -> Delimiters:
        """Read the delimiters from an MSH segment's text (``MSH|^~\\&|...``).

        Missing encoding characters keep their defaults, except the escape and truncation
        characters, which are absent unless declared.

        Example:
            >>> Delimiters.from_msh("MSH#$%!*#APP").component
            '$'
        """
        if len(segment) < 4:
            return cls()
        field = segment[3]
        encoding = segment[4:].split(field, 1)[0]
        chars = list(encoding[:5])
        default = cls()
        component = chars[0] if len(chars) > 0 else default.component
        repetition = chars[1] if len(chars) > 1 else default.repetition
        escape = chars[2] if len(chars) > 2 else ""
        subcomponent = chars[3] if len(chars) > 3 else default.subcomponent
        truncation = chars[4] if len(chars) > 4 else ""
        return cls(field, component, repetition, escape, subcomponent, truncation)

    @property
    def encoding_characters(self) -> str:
        """Return MSH-2 as these delimiters would write it."""
        return self.component + self.repetition + self.escape + self.subcomponent + self.truncation

    def is_standard(self) -> bool:
        """Return whether these are the delimiters the standard recommends (``|^~\\&``)."""
        return (self.field, self.component, self.repetition, self.escape, self.subcomponent) == (
            "|",
            "^",
            "~",
            "\\",
            "&",
        )


def _decode_hex(digits: str) -> str:
    raw = bytes.fromhex(digits)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _sequence(code: str, delimiters: Delimiters) -> str | None:
    """Return the text an escape sequence's code stands for, or None to keep it verbatim."""
    simple = {
        "F": delimiters.field,
        "S": delimiters.component,
        "T": delimiters.subcomponent,
        "R": delimiters.repetition,
        "E": delimiters.escape,
    }
    if code in simple:
        return simple[code]
    if code == "P" and delimiters.truncation:
        return delimiters.truncation
    hex_match = _HEX.match(code)
    if hex_match:
        return _decode_hex(hex_match.group(1))
    command = code.rstrip("0123456789+-")
    if command in FORMATTING_BREAKS:
        count = code[len(command) :].lstrip("+")
        return FORMATTING_BREAKS[command] * (int(count) if count.isdigit() and 0 < int(count) < 100 else 1)
    return None


def unescape(text: str, delimiters: Delimiters) -> str:
    """Replace escape sequences in ``text`` (one component or subcomponent) by what they stand for.

    ``\\F\\ \\S\\ \\T\\ \\R\\ \\E\\`` (and ``\\P\\`` when declared) become the delimiters, ``\\Xhh..\\``
    the bytes it names (read as UTF-8, else Latin-1), ``\\.br\\`` and ``\\.sp\\`` a line break.
    Highlighting (``\\H\\``, ``\\N\\``), other formatting commands, character-set switches and
    local ``\\Z..\\`` sequences are kept verbatim, as is an escape character never closed.

    Example:
        >>> unescape(r"A\\T\\E and 5 \\S\\ 2", Delimiters())
        'A&E and 5 ^ 2'
    """
    esc = delimiters.escape
    if not esc or esc not in text:
        return text
    out: list[str] = []
    pos = 0
    while True:
        start = text.find(esc, pos)
        end = text.find(esc, start + 1) if start >= 0 else -1
        if start < 0 or end < 0:
            out.append(text[pos:])
            return "".join(out)
        out.append(text[pos:start])
        replacement = _sequence(text[start + 1 : end], delimiters)
        out.append(text[start : end + 1] if replacement is None else replacement)
        pos = end + 1


def escape(text: str, delimiters: Delimiters) -> str:
    """Write ``text`` so that it holds no delimiter: the inverse of :func:`unescape`.

    Line feeds become ``\\.br\\``; other control characters become ``\\Xhh\\``.

    Example:
        >>> escape("A&E|x", Delimiters())
        'A\\\\T\\\\E\\\\F\\\\x'
    """
    esc = delimiters.escape or "\\"
    table = {
        esc: f"{esc}E{esc}",
        delimiters.field: f"{esc}F{esc}",
        delimiters.component: f"{esc}S{esc}",
        delimiters.subcomponent: f"{esc}T{esc}",
        delimiters.repetition: f"{esc}R{esc}",
        "\n": f"{esc}.br{esc}",
    }
    if delimiters.truncation:
        table[delimiters.truncation] = f"{esc}P{esc}"
    out: list[str] = []
    for ch in text:
        if ch in table:
            out.append(table[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"{esc}X{ord(ch):02X}{esc}")
        else:
            out.append(ch)
    return "".join(out)
