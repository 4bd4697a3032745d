"""KITH XML messages (MsgHead, fellesformat, AppRec, standalone 1.x) as a readable page.

The page starts with a header block (message type, sender and receiver with their HER-ids, dates,
patient), then shows every element of the message that carries text as a labelled line, nested
elements as indented groups. Coded values (attributes ``V``, ``DN``, ``S``, ``OT``) are shown as
``DN (V, S)``. Embedded attachments (base64) are listed with their type and size, not dumped.

Parsing is safe: no DTD, no entities, no network (lxml ``XMLParser(resolve_entities=False,
no_network=True)``).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import TYPE_CHECKING

from lxml import etree

from formats.message_render_page import Page

if TYPE_CHECKING:
    from lxml.etree import _Element as Element

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, remove_comments=True)
_BASE64 = re.compile(r"^[A-Za-z0-9+/=\s]+$")
_BASE64_CONTAINERS = {"Base64Container", "Base64Container2", "Content64"}
_CODED = ("V", "DN", "S", "OT", "U")
_XSI = "{http://www.w3.org/2001/XMLSchema-instance}"
MIN_BASE64 = 200


class KithRenderError(ValueError):
    """The bytes are not well-formed XML."""


def _local(el: Element) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _children(el: Element) -> list[Element]:
    return [c for c in el if isinstance(c.tag, str)]


def _find(el: Element | None, *names: str) -> Element | None:
    """Return the first descendant (depth first) whose local name is one of ``names``."""
    if el is None:
        return None
    for node in el.iter():
        if isinstance(node.tag, str) and _local(node) in names and node is not el:
            return node
    return None


def _text(el: Element | None, *path: str) -> str | None:
    node = el
    for name in path:
        if node is None:
            return None
        node = next((c for c in _children(node) if _local(c) == name), None)
    if node is None or node.text is None:
        return None
    return node.text.strip() or None


def coded_text(attrs: dict[str, str]) -> str | None:
    """Show a KITH coded value: ``DN (V, S)``, ``OT`` after a dash; ``V U`` for a quantity.

    Example:
        >>> coded_text({"V": "J", "DN": "Ja", "S": "2.16.578.1.12.4.1.1.1101"})
        'Ja (J, 2.16.578.1.12.4.1.1.1101)'
    """
    v, dn, s, ot, unit = (attrs.get(k, "").strip() for k in _CODED)
    if dn:
        inner = ", ".join(x for x in (v, s) if x)
        shown = f"{dn} ({inner})" if inner else dn
    elif v:
        shown = f"{v} {unit}".strip() if unit else (f"{v} ({s})" if s else v)
    else:
        shown = ""
    if ot:
        shown = f"{shown} – {ot}" if shown else ot
    return shown or None


def _attrs(el: Element) -> dict[str, str]:
    return {str(k): str(v) for k, v in el.attrib.items() if not str(k).startswith(_XSI)}


def _other_attrs(attrs: dict[str, str]) -> str:
    rest = [f"{k.rsplit('}', 1)[-1]}={v}" for k, v in attrs.items() if k not in _CODED]
    return "; ".join(rest)


def _attachment(el: Element) -> str | None:
    """Describe base64 content (type, decoded size) instead of showing it."""
    raw = (el.text or "").strip()
    if not raw or (_local(el) not in _BASE64_CONTAINERS and (len(raw) < MIN_BASE64 or not _BASE64.match(raw))):
        return None
    try:
        size = len(base64.b64decode("".join(raw.split()), validate=False))
    except (binascii.Error, ValueError):
        return None
    mime = el.get("MediaType")
    node = el.getparent()
    for _ in range(3):
        if mime or node is None:
            break
        mime = node.get("MediaType") or _text(node, "MimeType")
        node = node.getparent()
    return f"[vedlegg {mime or 'ukjent type'}, {size} byte, bevart som original]"


def _walk(el: Element, page: Page) -> None:
    """Every element with text or coded attributes as a line; elements with children as groups."""
    kids = _children(el)
    attrs = _attrs(el)
    label = _local(el)
    value = coded_text(attrs)
    other = _other_attrs(attrs)
    text = (el.text or "").strip()
    attachment = _attachment(el) if text else None
    if attachment is not None:
        text = attachment
    if not kids:
        shown = " – ".join(x for x in (value, text, other) if x)
        page.line(label, shown)
        return
    page.open_group(label + (f": {value}" if value else "") + (f" ({other})" if other else ""))
    if text:
        page.paragraph(text)
    for kid in kids:
        _walk(kid, page)
        tail = (kid.tail or "").strip()
        if tail:
            page.paragraph(tail)
    page.close_group()


def _person(el: Element) -> str:
    return " ".join(x for x in (_text(el, "GivenName"), _text(el, "MiddleName"), _text(el, "FamilyName")) if x)


def _party(el: Element | None) -> tuple[str | None, list[str]]:
    """Name and HER-ids of a Sender/Receiver (organisation, sub-organisations, professional)."""
    if el is None:
        return None, []
    names: list[str] = []
    ids: list[str] = []
    for node in el.iter():
        if not isinstance(node.tag, str):
            continue
        name = _local(node)
        if name in ("OrganisationName", "Name") and node.text and node.text.strip():
            names.append(node.text.strip())
        elif name == "HealthcareProfessional":
            person = " ".join(
                x for x in (_text(node, "GivenName"), _text(node, "MiddleName"), _text(node, "FamilyName")) if x
            )
            if person:
                names.append(person)
        elif name == "Ident" or name == "Id":
            type_el = next((c for c in _children(node) if _local(c) == "TypeId"), None)
            if type_el is not None and type_el.get("V") == "HER":
                her = _text(node, "Id")
                if her:
                    ids.append(her)
    return (" / ".join(dict.fromkeys(names)) or None), list(dict.fromkeys(ids))


def _message_type(root: Element) -> str:
    info = _find(root, "MsgInfo")
    for el in (_find(info, "Type"), _find(root, "MsgType")):
        if el is not None:
            shown = coded_text(_attrs(el))
            if shown:
                return shown
    return _local(root)


def _header(root: Element, page: Page) -> None:
    info = _find(root, "MsgInfo")
    scope = info if info is not None else root
    page.open_box()
    page.line("Meldingstype", _message_type(root))
    page.line("Sendt (GenDate)", _text(scope, "GenDate"))
    page.line("Meldings-id", _text(scope, "MsgId") or _text(scope, "Id"))
    for role, label in (("Sender", "Avsender"), ("Receiver", "Mottaker")):
        name, hers = _party(_find(scope, role))
        page.line(label, name)
        page.line(f"{label}, HER-id", ", ".join(hers) or None)
    patient = _find(root, "Patient")
    if patient is not None:
        name = " ".join(
            x for x in (_text(patient, "GivenName"), _text(patient, "MiddleName"), _text(patient, "FamilyName")) if x
        )
        page.line("Pasient", name or None)
        ident = _find(patient, "Ident")
        page.line("Pasientens id", _text(ident, "Id") if ident is not None else _text(patient, "Id"))
        page.line("Født", _text(patient, "DateOfBirth"))
    page.close_box()


def render_kith(data: bytes) -> Page:
    """Build the readable page of one KITH XML message.

    Raises:
        KithRenderError: the bytes are not well-formed XML.
    """
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise KithRenderError(f"not well-formed XML (line {exc.lineno})") from exc
    if root is None:
        raise KithRenderError("empty XML document")
    page = Page(f"Melding: {_message_type(root)}")
    page.meta("Lesbar gjengivelse av en mottatt eller sendt KITH-melding. Originalen er bevart uendret i pakken.")
    _header(root, page)
    documents = [el for el in root.iter() if isinstance(el.tag, str) and _local(el) == "Document"]
    for i, doc in enumerate(documents, start=1):
        page.heading(f"Innhold {i}" if len(documents) > 1 else "Innhold")
        for kid in _children(doc):
            _walk(kid, page)
    page.heading("Øvrige meldingsdata" if documents else "Innhold")
    _walk_outside(root, page, set(documents))
    return page


def _walk_outside(el: Element, page: Page, skip: set[Element]) -> None:
    """Walk the message without the Document elements already shown."""
    if el in skip:
        return
    if not any(d in skip for d in _descendants(el)):
        _walk(el, page)
        return
    page.open_group(_local(el))
    for kid in _children(el):
        _walk_outside(kid, page, skip)
    page.close_group()


def _descendants(el: Element) -> list[Element]:
    return [n for n in el.iter() if n is not el and isinstance(n.tag, str)]
