"""HL7 v2 (ER7) messages as a readable page.

A header from MSH, PID and PV1; then each order (OBR) with its results (OBX) as a table of
observation, value, unit, reference range and flag, with the NTE comments below; TXA documents
with their text; every other segment as a list of its fields by number (``PV1-3``). Coded values
(CE/CWE: ``code^text^system``) are shown as ``text (code, system)``; escapes are decoded.
Attachments in ED fields are listed, not dumped.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from formats.message_render_page import Page

CHARSETS = {
    "": "utf-8",
    "ASCII": "ascii",
    "UNICODE UTF-8": "utf-8",
    "UNICODE": "utf-8",
    "UTF-8": "utf-8",
    "8859/1": "latin-1",
    "8859/15": "iso8859-15",
    "ISO IR100": "latin-1",
    "8859/2": "iso8859-2",
}
_FALLBACK = ("utf-8", "cp1252", "latin-1")
_DTM = re.compile(r"^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d+)?([+-]\d{4})?$")
_HEADER_SEGMENTS = {"MSH"}


@dataclass(frozen=True)
class Delims:
    """The separators of one message (MSH-1 and MSH-2)."""

    field: str = "|"
    component: str = "^"
    repetition: str = "~"
    escape: str = "\\"
    subcomponent: str = "&"


def decode(data: bytes) -> str:
    """Decode a message by its MSH-18, else UTF-8, else cp1252 (latin-1 never fails)."""
    head = data[:2048].decode("latin-1").split("\r")[0].split("\n")[0]
    charset = ""
    if head.startswith("MSH") and len(head) > 3:
        fields = head.split(head[3])
        charset = fields[17].split("~")[0].strip().upper() if len(fields) > 17 else ""
    codec = CHARSETS.get(charset)
    if codec is None:
        try:
            codec = codecs.lookup(charset).name
        except LookupError:
            codec = "utf-8"
    for candidate in (codec, *_FALLBACK):
        try:
            return data.decode(candidate).lstrip("\ufeff")
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")  # pragma: no cover - latin-1 decodes every byte


def unescape(text: str, d: Delims) -> str:
    r"""Decode HL7 escapes (``\F\ \S\ \T\ \R\ \E\ \.br\ \Xhh\``); formatting escapes become spaces."""
    if d.escape not in text:
        return text
    out: list[str] = []
    i = 0
    e = d.escape
    while i < len(text):
        if text[i] == e:
            end = text.find(e, i + 1)
            if end > i:
                code = text[i + 1 : end]
                out.append(_escape_value(code, d))
                i = end + 1
                continue
        out.append(text[i])
        i += 1
    return "".join(out)


def _escape_value(code: str, d: Delims) -> str:
    simple = {"F": d.field, "S": d.component, "T": d.subcomponent, "R": d.repetition, "E": d.escape}
    if code in simple:
        return simple[code]
    if code == ".br":
        return "\n"
    if code.startswith("X") and len(code) > 1:
        try:
            return bytes.fromhex(code[1:]).decode("latin-1")
        except ValueError:
            return ""
    return " " if code.startswith((".", "H", "N")) else ""


def dtm_text(value: str) -> str:
    """Show an HL7 DTM ``YYYYMMDDHHMM[SS][+ZZZZ]`` as ``YYYY-MM-DD HH:MM[:SS] +ZZZZ`` (else as is)."""
    m = _DTM.match(value.strip())
    if not m:
        return value
    y, mo, day, h, mi, s, _frac, zone = m.groups()
    date = "-".join(x for x in (y, mo, day) if x)
    time = ":".join(x for x in (h, mi, s) if x)
    return " ".join(x for x in (date, time, zone) if x)


class Segment:
    """One segment's fields by HL7 number (``seg.field(3)``), escapes decoded on access."""

    def __init__(self, line: str, d: Delims) -> None:
        self.d = d
        parts = line.split(d.field)
        self.name = parts[0][:3]
        # MSH-1 is the field separator itself, so MSH-n is parts[n - 1]
        self.fields = [d.field, *parts[1:]] if self.name == "MSH" else parts[1:]

    def raw(self, number: int) -> str:
        """Return the raw text of field ``number`` (1-based), '' if absent."""
        return self.fields[number - 1] if 0 < number <= len(self.fields) else ""

    def components(self, number: int, repetition: int = 0) -> list[str]:
        """Return the unescaped components of one repetition of a field."""
        reps = self.raw(number).split(self.d.repetition)
        rep = reps[repetition] if repetition < len(reps) else ""
        return [unescape(c.replace(self.d.subcomponent, " "), self.d) for c in rep.split(self.d.component)]

    def text(self, number: int) -> str:
        """Show a field as text: repetitions joined by '; ', non-empty components by ' ^ '."""
        if self.name == "MSH" and number in (1, 2):
            return self.raw(number)
        shown = []
        for i in range(len(self.raw(number).split(self.d.repetition))):
            parts = [c.strip() for c in self.components(number, i)]
            shown.append(" ^ ".join(p for p in parts if p))
        return "; ".join(s for s in shown if s)

    def coded(self, number: int) -> str:
        """Show a CE/CWE field as ``text (code, system)``; other fields as :meth:`text`."""
        c = [x.strip() for x in self.components(number)] + ["", "", ""]
        code, label, system = c[0], c[1], c[2]
        if label:
            inner = ", ".join(x for x in (code, system) if x)
            return f"{label} ({inner})" if inner else label
        return self.text(number)

    def name_text(self, number: int) -> str:
        """Show an XPN/XCN name as ``Given Middle Family`` (ids before, if any)."""
        c = [x.strip() for x in self.components(number)] + [""] * 4
        return " ".join(x for x in (c[1], c[2], c[0]) if x)


def parse(data: bytes) -> list[Segment]:
    """Split one message into segments (CR, LF or CRLF)."""
    text = decode(data)
    lines = [ln for ln in re.split(r"\r\n|\r|\n", text) if ln.strip()]
    d = Delims()
    if lines and lines[0].startswith("MSH") and len(lines[0]) >= 8:
        enc = lines[0][4:8]
        d = Delims(lines[0][3], enc[0], enc[1], enc[2] if len(enc) > 2 else "\\", enc[3] if len(enc) > 3 else "&")
    return [Segment(ln, d) for ln in lines]


def _first(segments: list[Segment], name: str) -> Segment | None:
    return next((s for s in segments if s.name == name), None)


def _header(segments: list[Segment], page: Page) -> None:
    msh = _first(segments, "MSH")
    page.open_box()
    if msh is not None:
        page.line("Meldingstype (MSH-9)", msh.text(9))
        page.line("Tidspunkt (MSH-7)", dtm_text(msh.raw(7)))
        page.line("Meldings-id (MSH-10)", msh.text(10))
        page.line("Avsender (MSH-3/4)", " / ".join(x for x in (msh.text(3), msh.text(4)) if x))
        page.line("Mottaker (MSH-5/6)", " / ".join(x for x in (msh.text(5), msh.text(6)) if x))
    pid = _first(segments, "PID")
    if pid is not None:
        page.line("Pasient (PID-5)", pid.name_text(5))
        page.line("Pasientens id (PID-3)", pid.text(3))
        page.line("Født (PID-7)", dtm_text(pid.raw(7)))
        page.line("Kjønn (PID-8)", pid.text(8))
    pv1 = _first(segments, "PV1")
    if pv1 is not None:
        page.line("Kontakttype (PV1-2)", pv1.coded(2))
        page.line("Sted (PV1-3)", pv1.text(3))
        page.line("Ansvarlig (PV1-7)", pv1.name_text(7))
        page.line("Innlagt (PV1-44)", dtm_text(pv1.raw(44)))
    page.close_box()


def _obx_value(seg: Segment) -> str:
    kind = seg.raw(2)
    if kind == "ED":
        c = seg.components(5) + ["", "", "", ""]
        size = len(c[4]) * 3 // 4
        return f"[vedlegg {c[1]}/{c[2]} {c[3]}, ca. {size} byte, bevart som original]".replace("/ ", " ")
    if kind in ("CE", "CWE", "CNE", "CF"):
        return seg.coded(5)
    if kind in ("TS", "DTM", "DT"):
        return dtm_text(seg.raw(5))
    if kind in ("TX", "FT", "ST"):
        return "\n".join(unescape(r, seg.d) for r in seg.raw(5).split(seg.d.repetition))
    return seg.text(5)


def _results(rows: list[Segment], page: Page) -> None:
    page.rows(
        ["Undersøkelse", "Verdi", "Enhet", "Referanse", "Flagg", "Status", "Tid"],
        [[s.coded(3), _obx_value(s), s.coded(6), s.text(7), s.coded(8), s.text(11), dtm_text(s.raw(14))] for s in rows],
        flag_column=4,
    )


def _fields(seg: Segment, page: Page) -> None:
    page.heading(f"Segment {seg.name}", level=3)
    items = []
    for number in range(1, len(seg.fields) + 1):
        shown = _obx_value(seg) if seg.name == "OBX" and number == 5 else seg.text(number)
        items.append((f"{seg.name}-{number}", shown))
    page.fields(items)


def render_hl7(data: bytes) -> Page:
    """Build the readable page of one HL7 v2 message."""
    segments = parse(data)
    msh = _first(segments, "MSH")
    kind = msh.text(9) if msh is not None else "HL7 v2"
    page = Page(f"HL7-melding: {kind}")
    page.meta("Lesbar gjengivelse av en HL7 v2-melding. Originalen er bevart uendret i pakken.")
    _header(segments, page)
    page.heading("Innhold")
    pending: list[Segment] = []
    for seg in segments:
        if seg.name == "OBX" and seg.raw(2) not in ("TX", "FT", "ED"):
            pending.append(seg)
            continue
        if pending:
            _results(pending, page)
            pending = []
        if seg.name == "OBR":
            page.heading(f"Rekvisisjon/svar: {seg.coded(4)}", level=3)
            page.line("Prøvetatt (OBR-7)", dtm_text(seg.raw(7)))
            page.line("Rapport (OBR-22)", dtm_text(seg.raw(22)))
            page.line("Status (OBR-25)", seg.text(25))
            page.line("Rekvirent (OBR-16)", seg.name_text(16))
        elif seg.name == "NTE":
            page.paragraph("\n".join(unescape(r, seg.d) for r in seg.raw(3).split(seg.d.repetition)))
        elif seg.name == "TXA":
            page.heading(f"Dokument: {seg.coded(2)}", level=3)
            page.line("Opprettet (TXA-4)", dtm_text(seg.raw(4)))
            page.line("Forfatter (TXA-9)", seg.text(9))
            page.line("Status (TXA-17)", seg.text(17))
            page.line("Dokument-id (TXA-12)", seg.text(12))
        elif seg.name == "OBX":
            page.line(seg.coded(3) or "OBX", _obx_value(seg))
        elif seg.name not in _HEADER_SEGMENTS:
            _fields(seg, page)
    if pending:
        _results(pending, page)
    if msh is not None:
        _fields(msh, page)
    return page
