"""Tolerant, safe XML reading for CDA R2 / C-CDA documents.

Real vendor exports are uneven: a byte order mark, an encoding declaration that does not match the
bytes, a namespace declaration that a strict parser refuses (``xmlns:schemaLocation="urn:hl7-org:v3
CDA.xsd"`` is not a URI), a bare ``<section>`` fragment without namespace. :func:`read_cda` reads
them all where it can and says how (``findings``); parsing is offline (no network, no entities,
no DTD), so a file cannot make the converter fetch anything or expand entities.

After parsing, the CDA namespace (``urn:hl7-org:v3``) is stripped from element names so that the
rest of the reader can use plain names (``section``, ``entry``); elements of other namespaces
(``sdtc:``) keep theirs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from converters.hl7_timestamp import DEFAULT_ZONE, parse_dtm

CDA_NS = "urn:hl7-org:v3"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
UTF8_BOM = b"\xef\xbb\xbf"
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"

Element = Any
"""An lxml element (lxml ships no type information)."""

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_DECLARATION = re.compile(rb"^\s*<\?xml[^>]*\?>")
_BLOCK = frozenset({"paragraph", "br", "tr", "item", "caption", "table", "list", "thead", "tbody", "tfoot"})
_CELL = frozenset({"td", "th"})


@dataclass
class ParsedCda:
    """A parsed document (or fragment) and what had to be tolerated to read it."""

    root: Element
    findings: list[tuple[str, str]] = field(default_factory=list)
    """(element path, message) pairs: deviations from the standard met while reading."""


def _parser(*, recover: bool) -> Any:  # noqa: ANN401 - lxml is untyped
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        recover=recover,
    )


def _utf8_declared_as_other(data: bytes, declared: str) -> bool:
    """Whether bytes declared as a legacy code page are in fact UTF-8 with non-ASCII characters."""
    if declared.lower().replace("_", "-") in ("utf-8", "utf8", "us-ascii", "ascii", "utf-16", "utf-16le", "utf-16be"):
        return False
    if data.isascii():
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _as_utf8(data: bytes, codec: str) -> bytes:
    """Re-encode ``data`` (read with ``codec``) as UTF-8 without its XML declaration."""
    text = data.decode(codec, errors="replace")
    body = _DECLARATION.sub(b"", text.encode("utf-8"), count=1)
    return body


def read_cda(data: bytes) -> ParsedCda | None:
    """Parse the bytes of one CDA file; return None when nothing readable is in them.

    Order of attempts: a strict parse; when the declared encoding contradicts the bytes, a parse of
    the bytes as what they are; finally a recovering parse. Every step beyond the first adds a finding.

    Example:
        >>> read_cda(b'<ClinicalDocument xmlns="urn:hl7-org:v3"><title>T</title></ClinicalDocument>').root.tag
        'ClinicalDocument'
    """
    findings: list[tuple[str, str]] = []
    body = data
    if body.startswith(UTF8_BOM):
        findings.append(("/", "the file starts with a UTF-8 byte order mark"))
        body = body[len(UTF8_BOM) :]
    match = _DECLARED.match(body)
    declared = match.group(1).decode("ascii") if match else "UTF-8"
    if _utf8_declared_as_other(body, declared):
        findings.append(("/", f"the file declares encoding {declared} but its bytes are UTF-8; read as UTF-8"))
        body = _as_utf8(body, "utf-8")
    root = None
    try:
        root = etree.fromstring(body, parser=_parser(recover=False))
    except (etree.XMLSyntaxError, ValueError) as exc:
        message = str(exc)
        if declared.lower() in ("utf-8", "utf8") and _not_utf8(body):
            findings.append(("/", f"the file declares encoding {declared} but is not UTF-8; read as windows-1252"))
            body = _as_utf8(body, "cp1252")
            try:
                root = etree.fromstring(body, parser=_parser(recover=False))
            except (etree.XMLSyntaxError, ValueError) as again:
                message = str(again)
        if root is None:
            try:
                root = etree.fromstring(body, parser=_parser(recover=True))
            except (etree.XMLSyntaxError, ValueError):
                root = None
            if root is None:
                return None
            findings.append(
                ("/", f"not well-formed for a strict XML parser ({message}); read with a recovering parser")
            )
    if root is None or not isinstance(root.tag, str):
        return None
    if root.tag.startswith("{") and not root.tag.startswith("{" + CDA_NS + "}"):
        wrong = root.tag[1:].split("}", 1)[0]
        findings.append(("/", f"the root element is in namespace {wrong!r}, not {CDA_NS}; read as CDA"))
        _strip_cda_namespace(root, wrong)
    _strip_cda_namespace(root)
    return ParsedCda(root, findings)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def _strip_cda_namespace(root: Element, namespace: str = CDA_NS) -> None:
    prefix = "{" + namespace + "}"
    for el in root.iter():
        tag = el.tag
        if isinstance(tag, str) and tag.startswith(prefix):
            el.tag = tag[len(prefix) :]
    etree.cleanup_namespaces(root)


def kids(el: Element | None, name: str) -> Iterator[Element]:
    """Yield the child elements of ``el`` named ``name``."""
    if el is None:
        return
    yield from el.iterchildren(name)


def first(el: Element | None, *path: str) -> Element | None:
    """Return the first element down ``path`` (child names), or None."""
    for name in path:
        if el is None:
            return None
        el = next(el.iterchildren(name), None)
    return el


def attr(el: Element | None, name: str, *path: str) -> str | None:
    """Return attribute ``name`` of the element down ``path``, stripped; None when absent or blank."""
    target = first(el, *path) if path else el
    if target is None:
        return None
    value = target.get(name)
    if value is None:
        return None
    value = value.strip()
    return value or None


def text(el: Element | None, *path: str) -> str | None:
    """Return the whitespace-normalised text content of the element down ``path``, or None."""
    target = first(el, *path) if path else el
    if target is None:
        return None
    value = " ".join("".join(target.itertext()).split())
    return value or None


def template_ids(el: Element | None) -> list[str]:
    """Return the element's templateIds as ``root`` or ``root:extension``."""
    out = []
    for t in kids(el, "templateId"):
        root = attr(t, "root")
        if root:
            ext = attr(t, "extension")
            out.append(f"{root}:{ext}" if ext else root)
    return out


def narrative_text(el: Element | None) -> str | None:
    """Return a section's narrative block as plain text.

    Paragraphs, list items, table rows and line breaks become line breaks; table cells are separated
    by `` | ``. Runs of blanks inside a line are collapsed; blank lines are dropped.
    """
    if el is None:
        return None
    parts: list[str] = []

    def walk(node: Element) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in _CELL and parts and not parts[-1].endswith("\n"):
            parts.append(" | ")
        if node.text and tag:
            parts.append(node.text)
        for child in node:
            walk(child)
            if child.tail:
                parts.append(child.tail)
        if tag in _BLOCK:
            parts.append("\n")

    walk(el)
    lines = (" ".join(line.split()) for line in "".join(parts).split("\n"))
    out = "\n".join(line.strip(" |") for line in lines if line.strip(" |"))
    return out or None


def narrative_ids(section_text: Element | None) -> dict[str, str]:
    """Return the text of every element of a narrative block that has an ID (for ``reference value="#id"``)."""
    found: dict[str, str] = {}
    if section_text is None:
        return found
    for el in section_text.iter():
        ident = el.get("ID") if isinstance(el.tag, str) else None
        if ident:
            value = narrative_text(el)
            if value:
                found[ident] = value
    return found


def iso_time(value: str | None, *, zone: str = DEFAULT_ZONE) -> str | None:
    """Return a CDA TS value as a UTC instant ``YYYY-MM-DDTHH:MM:SSZ``, or None when it is not one.

    A value of a day or coarser is the start of that day as written (no zone shift), so that a
    date stays the date the document gives; a value with a time and no offset is read in ``zone``.

    Example:
        >>> iso_time("20120916"), iso_time("201209161918-0400")
        ('2012-09-16T00:00:00Z', '2012-09-16T23:18:00Z')
    """
    if not value:
        return None
    parsed = parse_dtm(value, zone=zone)
    if parsed is None:
        return None
    if parsed.precision <= 3:
        day = parsed.day
        year, month, dom = (day.year, day.month, day.day) if day else (int(value[:4]), int(value[4:6] or 1), 1)
        return f"{year:04d}-{month:02d}-{dom:02d}T00:00:00Z"
    return parsed.iso_utc()


def iso_date(value: str | None) -> str | None:
    """Return the calendar date of a CDA TS value as ``YYYY-MM-DD`` (None when it names no day)."""
    if not value:
        return None
    parsed = parse_dtm(value)
    return None if parsed is None or parsed.day is None else parsed.day.isoformat()


def element_path(el: Element) -> str:
    """Return a short path of local names from the root to ``el`` (for findings)."""
    names = []
    node = el
    while node is not None and isinstance(node.tag, str):
        names.append(node.tag.rsplit("}", 1)[-1])
        node = node.getparent()
    return "/" + "/".join(reversed(names))
