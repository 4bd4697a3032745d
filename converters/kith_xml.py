"""Safe, namespace-tolerant XML helpers for KITH messages.

KITH messages come in many namespace versions (Dialogmelding 2006 and 2013, Svarrapport 2005,
2008 and 2012, ...), and real senders mix them up. The helpers here therefore look elements up by
*local name* and leave the namespace to the caller, which reads it once to decide the message kind.

Parsing is offline and safe: no entity expansion, no network, no DTD loading, no huge-tree mode,
so an XML file cannot make the converter fetch anything or blow up memory (XXE, billion laughs).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from lxml import etree

from formats.errors import SourceError

XHTML_NS = "http://www.w3.org/1999/xhtml"

Element = Any
"""An lxml element (lxml ships no type information)."""

Parser = Any
"""An lxml parser."""


class XmlParseError(SourceError):
    """The bytes are not well-formed XML (the file becomes a rejected record, the run goes on)."""


def make_parser() -> Parser:
    """Return an lxml parser with every network and entity feature switched off."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_blank_text=False,
        remove_comments=False,
    )


def parse_xml(data: bytes) -> Element:
    """Parse ``data`` (any declared encoding) and return the root element.

    Raises:
        XmlParseError: when the bytes are not well-formed XML, with the parser's first complaint.

    Example:
        >>> parse_xml(b"<a><b/></a>").tag
        'a'
    """
    try:
        root = etree.fromstring(data, parser=make_parser())
    except etree.XMLSyntaxError as exc:
        raise XmlParseError(
            f"not well-formed XML: {exc.msg}", hint="the file is kept as a rejected record with its bytes"
        ) from exc
    except ValueError as exc:  # e.g. an encoding declaration lxml cannot honour
        raise XmlParseError(f"not readable as XML: {exc}", hint="check the file's encoding declaration") from exc
    if root is None:
        raise XmlParseError("empty XML document", hint="the file is kept as a rejected record with its bytes")
    return root


def local(el: Element) -> str:
    """Return the element's local name (no namespace); '' for comments and processing instructions."""
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def namespace(el: Element) -> str:
    """Return the element's namespace URI ('' when it has none)."""
    tag = el.tag
    if not isinstance(tag, str) or not tag.startswith("{"):
        return ""
    return tag[1:].split("}", 1)[0]


def elements(el: Element) -> Iterator[Element]:
    """Yield the child elements of ``el`` (skipping comments and processing instructions)."""
    for c in el:
        if isinstance(c.tag, str):
            yield c


def kids(el: Element | None, name: str) -> list[Element]:
    """Return the children of ``el`` with local name ``name``."""
    if el is None:
        return []
    return [c for c in elements(el) if local(c) == name]


def first(el: Element | None, *path: str) -> Element | None:
    """Follow ``path`` (local names, first match at each step); None if any step is missing."""
    cur = el
    for name in path:
        if cur is None:
            return None
        cur = next((c for c in elements(cur) if local(c) == name), None)
    return cur


def descendants(el: Element | None, name: str) -> list[Element]:
    """Return every descendant of ``el`` with local name ``name``, in document order."""
    if el is None:
        return []
    return [d for d in el.iter() if isinstance(d.tag, str) and local(d) == name and d is not el]


def text(el: Element | None, *path: str) -> str | None:
    """Return the text directly inside the element at ``path`` verbatim, or None if it is missing or empty."""
    target = first(el, *path) if path else el
    if target is None or target.text is None or target.text == "":
        return None
    return str(target.text)


def attr(el: Element | None, name: str, *path: str) -> str | None:
    """Return attribute ``name`` of the element at ``path`` (None when missing or empty)."""
    target = first(el, *path) if path else el
    if target is None:
        return None
    value = target.get(name)
    return None if value is None or value == "" else str(value)


def value(el: Element | None, *path: str) -> str | None:
    """Return the element's ``V`` attribute or, failing that, its text (KITH TS/CS values use both forms)."""
    target = first(el, *path) if path else el
    if target is None:
        return None
    return attr(target, "V") or text(target)


def all_text(el: Element | None) -> str | None:
    """Return all text inside ``el`` (mixed content, XHTML), joined as it stands; None if blank.

    Block elements of XHTML (``p``, ``div``, ``br``, ``tr``, ``li``) end with a line break so that a
    plain rendering keeps the paragraphs.
    """
    if el is None:
        return None
    parts: list[str] = []
    blocks = {"p", "div", "br", "tr", "li", "h1", "h2", "h3"}

    def walk(node: Element) -> None:
        if node.text and isinstance(node.tag, str):
            parts.append(node.text)
        for c in node:
            if isinstance(c.tag, str):
                walk(c)
                if local(c) in blocks and namespace(c) == XHTML_NS and parts and not parts[-1].endswith("\n"):
                    parts.append("\n")
            if c.tail:
                parts.append(c.tail)

    walk(el)
    joined = "".join(parts)
    return joined if joined.strip() else None


def has_markup(el: Element | None) -> bool:
    """Return whether ``el`` holds child elements (XHTML or other markup) rather than plain text."""
    return el is not None and any(True for _ in elements(el))


def serialize(el: Element) -> str:
    """Return the element as XML text (UTF-8, namespaces it uses declared), for raw preservation."""
    return str(etree.tostring(el, encoding="unicode", with_tail=False))


def inner_markup(el: Element) -> str:
    """Return the markup inside ``el`` (its children serialized, with text), e.g. an XHTML ``div``."""
    out = [el.text or ""]
    for c in el:
        out.append(str(etree.tostring(c, encoding="unicode", with_tail=True)))
    return "".join(out)


def element_path(el: Element, root: Element | None = None) -> str:
    """Return ``/A/B[2]/C``: local names from the document root (or ``root``) down to ``el``.

    A position is added only where the parent has more than one child of that name, so paths stay
    readable and stable. Example: ``/EI_fellesformat/MsgHead/Document[2]/RefDoc``.
    """
    steps: list[str] = []
    cur = el
    while cur is not None:
        parent = cur.getparent()
        name = local(cur)
        if parent is not None:
            same = [c for c in elements(parent) if local(c) == name]
            if len(same) > 1:
                name = f"{name}[{same.index(cur) + 1}]"
        steps.append(name)
        if cur is root:
            break
        cur = parent
    return "/" + "/".join(reversed(steps))


def coded(el: Element | None, *path: str) -> tuple[str | None, str | None, str | None, str | None]:
    """Return (V, S, DN, OT) of a KITH coded element (CS/CV) at ``path``; Nones when it is missing."""
    target = first(el, *path) if path else el
    if target is None:
        return None, None, None, None
    return attr(target, "V"), attr(target, "S"), attr(target, "DN"), attr(target, "OT")
