"""HL7 v2 ER7 files split into messages and segments, and segments into fields and components.

A file may hold one message, several messages in a row, or a batch (``FHS``/``BHS`` ...
``BTS``/``FTS``). Segments end with CR (the standard), LF or CRLF, in any mix; a UTF-8 byte
order mark may stand before ``MSH``. Splitting works on bytes, so each message's exact bytes can
be kept; text is decoded per message (MSH-18 names the character set). Nothing here raises for
bad content: oddities become :class:`Finding` values for the reader to report.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from converters.hl7_escape import Delimiters, unescape

BOM = b"\xef\xbb\xbf"
ENVELOPE_SEGMENTS = frozenset({"FHS", "BHS", "BTS", "FTS"})
"""Batch and file header/trailer segments: they wrap messages and belong to none."""

_LINE_END = re.compile(rb"\r\n|\r|\n")
_SEGMENT_ID = re.compile(rb"^[A-Z][A-Z0-9]{2}")
_ENVELOPE_IDS = (b"MSH", b"FHS", b"BHS", b"BTS", b"FTS")  # recognised whatever the current field separator

CHARSETS: dict[str, str] = {
    "ASCII": "ascii",
    "8859/1": "latin-1",
    "8859/2": "iso8859-2",
    "8859/4": "iso8859-4",
    "8859/5": "iso8859-5",
    "8859/7": "iso8859-7",
    "8859/9": "iso8859-9",
    "8859/15": "iso8859-15",
    "UNICODE UTF-8": "utf-8",
    "UTF-8": "utf-8",
    "UNICODE": "utf-8",
    "WINDOWS-1252": "cp1252",
    "CP1252": "cp1252",
}
"""MSH-18 character set names (HL7 table 0211, plus common non-standard spellings) -> codecs."""

FALLBACK_CODECS = ("cp1252", "latin-1")
"""Tried in turn when a message is not valid in its declared (or the default) character set."""


@dataclass(frozen=True)
class Finding:
    """A deviation from the standard found while splitting or decoding (not a rejection)."""

    element_path: str
    message: str


@dataclass(frozen=True)
class RawSegment:
    """One segment: its bytes' place in the file (without the line end) and its id."""

    start: int
    end: int
    segment_id: str


@dataclass(frozen=True)
class RawMessage:
    """One message: from its ``MSH`` to the start of what follows it (line ends included)."""

    start: int
    end: int
    segments: tuple[RawSegment, ...]
    bom: bool = False


@dataclass(frozen=True)
class FileLayout:
    """What a file holds: its messages and the segments outside any message (envelope, stray)."""

    messages: tuple[RawMessage, ...]
    outside: tuple[RawSegment, ...]
    findings: tuple[Finding, ...] = ()
    bom: bool = False


def _lines(data: bytes) -> list[tuple[int, int, int]]:
    """Return (start, end, next_start) of every line; end excludes the line end."""
    out: list[tuple[int, int, int]] = []
    pos = 0
    for match in _LINE_END.finditer(data):
        out.append((pos, match.start(), match.end()))
        pos = match.end()
    if pos < len(data):
        out.append((pos, len(data), len(data)))
    return out


def split_file(data: bytes) -> FileLayout:
    """Split a file's bytes into messages and segments.

    A line that does not start with a segment id (three characters, a capital letter first) is
    taken as the continuation of the segment before it (a line break inside a field), and
    reported. Blank lines are skipped.

    Example:
        >>> layout = split_file(b"MSH|^~\\\\&|A\\rPID|1\\rMSH|^~\\\\&|B\\r")
        >>> [len(m.segments) for m in layout.messages]
        [2, 1]
    """
    file_bom = data.startswith(BOM)
    findings: list[Finding] = []
    messages: list[RawMessage] = []
    outside: list[RawSegment] = []
    current: list[RawSegment] = []
    msg_start = -1
    msg_bom = False
    last: list[RawSegment] | None = None  # the list the previous segment went to
    separator = b"|"  # the field separator of the message being read

    def close(upto: int) -> None:
        nonlocal current, msg_start
        if msg_start >= 0:
            messages.append(RawMessage(msg_start, upto, tuple(current), msg_bom))
        current, msg_start = [], -1

    for start, end, _next in _lines(data):
        text_start = start + 3 if data.startswith(BOM, start) else start
        if not data[text_start:end].strip():
            continue
        head = data[text_start : min(end, text_start + 4)]
        seg_id = _SEGMENT_ID.match(head)
        if seg_id is not None and len(head) == 4 and head[3:] != separator and head[:3] not in _ENVELOPE_IDS:
            seg_id = None  # a line of text that merely starts with three capitals
        if seg_id is None:
            if last:
                prev = last[-1]
                last[-1] = RawSegment(prev.start, end, prev.segment_id)
                findings.append(Finding(f"{prev.segment_id}", "a line break inside a segment (continued line)"))
            else:
                outside.append(RawSegment(text_start, end, "???"))
                findings.append(Finding("", "text before the first segment is not a segment"))
                last = outside
            continue
        name = seg_id.group(0).decode("ascii")
        if name == "MSH":
            close(start)
            msg_start, msg_bom = text_start, text_start != start
            separator = data[text_start + 3 : text_start + 4] or b"|"
            current.append(RawSegment(text_start, end, name))
            last = current
        elif name in ENVELOPE_SEGMENTS or msg_start < 0:
            close(start)
            if name in ("FHS", "BHS"):
                separator = head[3:] or b"|"
            outside.append(RawSegment(text_start, end, name))
            last = outside
        else:
            current.append(RawSegment(text_start, end, name))
            last = current
    close(len(data))
    return FileLayout(tuple(messages), tuple(outside), tuple(findings), file_bom)


def msh_charset(msh: bytes) -> str:
    """Return MSH-18 (first repetition) of an MSH segment's bytes, or '' (ASCII is safe here)."""
    text = msh.decode("latin-1")
    if len(text) < 4:
        return ""
    delimiters = Delimiters.from_msh(text)
    fields = text.split(delimiters.field)
    # fields[0] = "MSH", fields[1] = MSH-2, so MSH-n = fields[n - 1]
    value = fields[17] if len(fields) > 17 else ""
    return value.split(delimiters.repetition)[0].strip()


def codec_for(charset: str) -> str | None:
    """Return the Python codec for an MSH-18 name, or None if unknown ('' means the default, UTF-8)."""
    if not charset:
        return "utf-8"
    name = CHARSETS.get(charset.upper())
    if name is not None:
        return name
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def decode_message(data: bytes, charset: str) -> tuple[str, str, list[Finding]]:
    """Decode one message's bytes: the declared character set, else UTF-8, else a fallback.

    Returns:
        The text, the codec used and the findings (unknown MSH-18, bytes not valid in it).
    """
    findings: list[Finding] = []
    codec = codec_for(charset)
    if codec is None:
        findings.append(Finding("MSH-18", f"unknown character set {charset!r}; read as UTF-8"))
        codec = "utf-8"
    for candidate in (codec, *FALLBACK_CODECS):
        try:
            text = data.decode(candidate)
        except UnicodeDecodeError:
            continue
        if candidate != codec:
            declared = charset or "empty"
            findings.append(
                Finding("MSH-18", f"the message is not valid {codec} (MSH-18 {declared}); read as {candidate}")
            )
        return text, candidate, findings
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


@dataclass
class Segment:
    """One decoded segment with field access by HL7 position (``PID-3.1``)."""

    text: str
    delimiters: Delimiters
    segment_id: str = field(init=False)
    _fields: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        """Split the fields; MSH-1 is the field separator itself."""
        parts = self.text.split(self.delimiters.field)
        self.segment_id = parts[0]
        if parts[0] == "MSH":
            self._fields = [parts[0], self.delimiters.field, *parts[1:]]
        else:
            self._fields = parts

    @property
    def field_count(self) -> int:
        """Return the number of the last field present."""
        return len(self._fields) - 1

    def raw(self, number: int) -> str:
        """Return field ``number`` verbatim (all repetitions, escapes kept), '' when absent."""
        return self._fields[number] if 0 < number < len(self._fields) else ""

    def repetitions(self, number: int) -> list[str]:
        """Return the raw repetitions of a field (MSH-2 is never split)."""
        value = self.raw(number)
        if self.segment_id == "MSH" and number in (1, 2):
            return [value]
        return value.split(self.delimiters.repetition) if value else []

    def part(self, number: int, component: int = 1, subcomponent: int = 0, repetition: int = 1) -> str:
        """Return one component (or subcomponent) of one repetition, unescaped; '' when absent.

        Example:
            >>> Segment("PID|1||123^^^HOSP^MR", Delimiters()).part(3, 4)
            'HOSP'
        """
        reps = self.repetitions(number)
        if self.segment_id == "MSH" and number in (1, 2):
            return reps[0] if component == 1 and not subcomponent else ""
        if not 0 < repetition <= len(reps):
            return ""
        comps = reps[repetition - 1].split(self.delimiters.component)
        if not 0 < component <= len(comps):
            return ""
        value = comps[component - 1]
        if subcomponent:
            subs = value.split(self.delimiters.subcomponent)
            value = subs[subcomponent - 1] if subcomponent <= len(subs) else ""
        return unescape(value, self.delimiters)

    def text_of(self, number: int) -> str:
        """Return a whole field as plain text: every repetition unescaped, one per line."""
        return "\n".join(unescape(r, self.delimiters) for r in self.repetitions(number))
