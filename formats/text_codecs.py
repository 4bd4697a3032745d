"""Text encodings of legacy clinic systems: the supported list, 7-bit ISO 646-NO, per-value detection.

Importing this module registers the codec ``iso646-no`` (NS 4551-1, ISO-IR-60: ASCII with
``[ \\ ] { | }`` replaced by ``Æ Ø Å æ ø å`` and ``~`` by ``‾``), so every place that resolves an
encoding name must import it first (the mapping loader and the readers do).

A source declares one encoding (``source.encoding``) and, for mixed sources, a fallback
(``source.fallback_encoding``): per value, text that is valid in the declared encoding stays as it
is, anything else is decoded with the fallback. The fallback ``auto`` chooses, per value, the
best of :data:`LEGACY_CANDIDATES` by a Norwegian score (æøåÆØÅ minus box-drawing, Greek,
mathematical and control characters), which on short journal values is more reliable than a
general-purpose detector (docs/encodings.md has the measurement). ``encoding: auto`` is short for
``encoding: utf-8`` with ``fallback_encoding: auto``.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

AUTO = "auto"
"""The encoding name that asks for per-value detection."""

ISO646_NO = "iso646-no"

SUPPORTED_ENCODINGS: dict[str, str] = {
    "utf-8": "Unicode, UTF-8 (modern systems; the default)",
    "cp865": "IBM PC code page 865, Nordic DOS (older DOS/terminal-era clinic systems)",
    "cp850": "IBM PC code page 850, Western European DOS",
    "iso-8859-1": "ISO 8859-1 (Latin-1), Unix and early Windows systems",
    "cp1252": "Windows-1252, Western European Windows (most Windows-era exports)",
    ISO646_NO: "ISO 646-NO / NS 4551-1, 7-bit Norwegian: [ \\ ] { | } are Æ Ø Å æ ø å",
    AUTO: "UTF-8 where valid, otherwise per value the best of cp865, cp850, cp1252, iso-8859-1",
}
"""The encodings journalkonvert is tested with (any other Python codec name is accepted too)."""

LEGACY_CANDIDATES: tuple[str, ...] = ("cp865", "cp850", "cp1252", "iso-8859-1")
"""Single-byte encodings ``auto`` chooses from, in order of preference on a tie."""

_ISO646_NO_CHANGES = {0x5B: "Æ", 0x5C: "Ø", 0x5D: "Å", 0x7B: "æ", 0x7C: "ø", 0x7D: "å", 0x7E: "\u203e"}
_DECODING_TABLE = "".join(_ISO646_NO_CHANGES.get(b, chr(b)) for b in range(128)) + "\ufffe" * 128
_ENCODING_TABLE = codecs.charmap_build(_DECODING_TABLE)
_ISO646_NAMES = {"iso646_no", "iso_646_no", "iso646no", "ns_4551_1", "iso_ir_60"}


class _Iso646NoCodec(codecs.Codec):
    def encode(self, text: str, errors: str = "strict") -> tuple[bytes, int]:
        return codecs.charmap_encode(text, errors, _ENCODING_TABLE)

    def decode(self, data: bytes, errors: str = "strict") -> tuple[str, int]:
        return codecs.charmap_decode(data, errors, _DECODING_TABLE)


class _Iso646NoIncrementalEncoder(codecs.IncrementalEncoder):
    def encode(self, text: str, final: bool = False) -> bytes:  # noqa: FBT001, FBT002 - codecs API
        return codecs.charmap_encode(text, self.errors, _ENCODING_TABLE)[0]


class _Iso646NoIncrementalDecoder(codecs.IncrementalDecoder):
    def decode(self, data: bytes, final: bool = False) -> str:  # type: ignore[override]  # noqa: FBT001, FBT002
        return codecs.charmap_decode(data, self.errors, _DECODING_TABLE)[0]


class _Iso646NoStreamWriter(_Iso646NoCodec, codecs.StreamWriter):
    pass


class _Iso646NoStreamReader(_Iso646NoCodec, codecs.StreamReader):
    pass


def _search(name: str) -> codecs.CodecInfo | None:
    if name.replace("-", "_") not in _ISO646_NAMES:
        return None
    codec = _Iso646NoCodec()
    return codecs.CodecInfo(
        name=ISO646_NO,
        encode=codec.encode,
        decode=codec.decode,  # type: ignore[arg-type]  # charmap_decode takes any buffer
        incrementalencoder=_Iso646NoIncrementalEncoder,
        incrementaldecoder=_Iso646NoIncrementalDecoder,
        streamreader=_Iso646NoStreamReader,
        streamwriter=_Iso646NoStreamWriter,
    )


codecs.register(_search)

# --- names ----------------------------------------------------------------------------------------


def is_known_encoding(name: str) -> bool:
    """Return whether ``name`` is ``auto`` or a codec Python (with ``iso646-no``) knows.

    Example:
        >>> is_known_encoding("iso646-no"), is_known_encoding("cp865"), is_known_encoding("klingon")
        (True, True, False)
    """
    if name.lower() == AUTO:
        return True
    try:
        codecs.lookup(name)
    except LookupError:
        return False
    return True


def canonical_name(name: str) -> str:
    """Return the codec's own name (``latin-1`` -> ``iso8859-1``); ``auto`` stays ``auto``."""
    return AUTO if name.lower() == AUTO else codecs.lookup(name).name


def is_utf8(name: str) -> bool:
    """Return whether ``name`` is UTF-8 (with or without a byte-order mark)."""
    return name.lower() != AUTO and codecs.lookup(name).name in {"utf-8", "utf-8-sig"}


# --- per-value detection ----------------------------------------------------------------------

_NORWEGIAN = re.compile("[æøåÆØÅ]")
_ODD = re.compile(
    "[\u0080-\u009f\ufffd\u2500-\u25ff\u0370-\u03ff\u2200-\u22ff\u2310-\u2321\u207f\u00a4\u00a6\u0192]"
    "|(?<=[A-Za-z])[‘›†’‡¥](?=[a-z])"
)


def norwegian_score(text: str) -> int:
    """Return æøåÆØÅ minus odd characters (box drawing, Greek, maths, C1 controls, ‘›† inside words).

    Example:
        >>> norwegian_score("Bjørn"), norwegian_score("Bj›rn")
        (1, -1)
    """
    return len(_NORWEGIAN.findall(text)) - len(_ODD.findall(text))


def detect_legacy(raw: bytes, candidates: tuple[str, ...] = LEGACY_CANDIDATES) -> str:
    """Return the single-byte encoding of ``raw`` that gives the most Norwegian-looking text.

    Candidates that cannot decode the bytes are skipped; a tie goes to the earlier candidate.

    Example:
        >>> detect_legacy("Grønn såpe".encode("cp865")), detect_legacy("Grønn såpe".encode("cp1252"))
        ('cp865', 'cp1252')
    """
    best, best_score = candidates[-1], None
    for name in candidates:
        try:
            text = raw.decode(name)
        except UnicodeDecodeError:
            continue
        score = norwegian_score(text)
        if best_score is None or score > best_score:
            best, best_score = name, score
    return best


@dataclass(frozen=True)
class TextDecoding:
    """How a source's bytes become text: the declared encoding and, for mixed sources, a fallback.

    Attributes:
        encoding: the declared codec; a value valid in it is decoded with it.
        fallback: None (invalid values are errors), a codec name, or ``auto`` (detect per value).
    """

    encoding: str = "utf-8"
    fallback: str | None = None

    @classmethod
    def of(cls, encoding: str, fallback: str | None = None) -> TextDecoding:
        """Return the decoding for a source's settings (``encoding: auto`` means UTF-8 with ``auto``)."""
        if encoding.lower() == AUTO:
            return cls("utf-8", fallback or AUTO)
        return cls(encoding, fallback)

    def decode(self, raw: bytes) -> tuple[str, str | None]:
        """Return the text of ``raw`` and the fallback encoding used (None when the declared one read it).

        Raises:
            UnicodeDecodeError: the bytes are not valid in the declared encoding and there is no
                fallback (or the fallback cannot read them either).
        """
        try:
            return raw.decode(self.encoding), None
        except UnicodeDecodeError:
            if self.fallback is None:
                raise
        used = detect_legacy(raw) if self.fallback == AUTO else self.fallback
        return raw.decode(used), used
