"""Opportunistic XSD validation of KITH messages: each deviation becomes a finding, never a rejection.

The official schemas are not shipped with journalkonvert (they are the standard owner's files).
The reader looks for a folder ``xsd`` inside the source folder or next to it and composes every
``*.xsd`` found there, by target namespace, into one schema set: MsgHead's ``Content`` element is
validated *strictly*, so a MsgHead is only valid together with the schema of its payload. A payload
whose namespace has no schema in the folder is reported as "not validated" (one finding).

Loading is offline: imports resolve to files in the folder, never to the network.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from converters.kith_xml import Element, element_path, make_parser

Validator = Any
"""An lxml XMLSchema or ElementTree (lxml ships no type information)."""
_NO_DECLARATION = re.compile(r"Element '\{(?P<ns>[^}]*)\}(?P<name>[^']*)': No matching global element declaration")


@dataclass(frozen=True)
class Deviation:
    """One schema deviation: where (element path in the file) and what."""

    element_path: str
    message: str


def find_xsd_folder(source_root: Path) -> Path | None:
    """Return the first of ``<root>/xsd`` and ``<root>/../xsd`` that holds ``*.xsd`` files, or None."""
    for candidate in (source_root / "xsd", source_root.parent / "xsd"):
        if candidate.is_dir() and any(candidate.glob("*.xsd")):
            return candidate
    return None


def _target_namespace(path: Path) -> str | None:
    try:
        root = etree.parse(str(path), parser=make_parser()).getroot()
    except (etree.XMLSyntaxError, OSError):
        return None
    ns = root.get("targetNamespace")
    return str(ns) if ns else None


class SchemaSet:
    """Every schema in one folder, composed by namespace into one validator."""

    def __init__(self, folder: Path) -> None:
        """Load the schemas in ``folder`` (files that are not schemas, or that fail to load, are skipped)."""
        self.folder = folder.resolve()
        self.namespaces: dict[str, Path] = {}
        for path in sorted(folder.glob("*.xsd")):
            ns = _target_namespace(path)
            if ns is not None and ns not in self.namespaces:
                self.namespaces[ns] = path
        self.load_error: str | None = None
        self._schema: Validator = self._compose(self.namespaces)

    def _compose(self, namespaces: dict[str, Path]) -> Validator:
        imports = "".join(
            f'<xs:import namespace="{ns}" schemaLocation="{path.name}"/>' for ns, path in sorted(namespaces.items())
        )
        wrapper = f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">{imports}</xs:schema>'
        try:
            doc = etree.fromstring(
                wrapper.encode(), parser=make_parser(), base_url=(self.folder / "_compose.xsd").as_uri()
            )
            return etree.XMLSchema(etree.ElementTree(doc))
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
            self.load_error = str(exc)
            return None

    @property
    def available(self) -> bool:
        """Whether any schema could be loaded."""
        return self._schema is not None

    def knows(self, element: Element) -> bool:
        """Whether the element's namespace has a schema in the set."""
        tag = element.tag
        return isinstance(tag, str) and tag.startswith("{") and tag[1:].split("}", 1)[0] in self.namespaces

    def validate(self, element: Element) -> list[Deviation]:
        """Validate ``element`` as a document of its own; return its deviations with paths in the file."""
        if self._schema is None or not self.knows(element):
            return []
        clone = copy.deepcopy(element)
        tree = etree.ElementTree(clone)
        if self._schema.validate(tree):
            return []
        prefix = element_path(element.getparent()) if element.getparent() is not None else ""
        out: list[Deviation] = []
        seen: set[tuple[str, str]] = set()
        for err in self._schema.error_log:
            where = _locate(tree, str(err.path or ""))
            path = prefix + (element_path(where) if where is not None else "")
            match = _NO_DECLARATION.match(str(err.message))
            if match and match.group("ns") not in self.namespaces:
                message = f"no schema for namespace {match.group('ns')} here; {match.group('name')} not validated"
            else:
                message = str(err.message)
            key = (path, message)
            if key not in seen:
                seen.add(key)
                out.append(Deviation(path, message))
        return out


def _locate(tree: Validator, xpath: str) -> Element | None:
    if not xpath:
        return None
    try:
        found = tree.xpath(xpath)
    except etree.XPathError:
        return None
    return found[0] if isinstance(found, list) and found else None
