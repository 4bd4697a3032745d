"""FHIR JSON files split into resources, each with its exact source text.

A file is a Bundle (``transaction``, ``collection``, ``searchset``, ``document``, ``message``, ...),
a single resource, or bulk-export NDJSON (one resource per line). The Bundle scanner walks the top
level object with the standard library's JSON scanner and, for every ``entry[].resource``, keeps the
exact slice of the text it was parsed from, so a resource's bytes are preserved as written (the
parsed object is thrown away after the resource's record is emitted). What cannot be parsed is
returned as a :class:`BadPart` with its bytes, never raised.

Memory: one file's text and its parsed entries are held at once (a huge single Bundle is held whole;
NDJSON is read line by line). See docs/fhir.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

BOM = b"\xef\xbb\xbf"
_WS = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()
_BUNDLE_HEAD = re.compile(r'"resourceType"\s*:\s*"Bundle"')
_SCANSTRING: Callable[[str, int], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Resource:
    """One resource: where it is, its exact text, and its parsed object."""

    position: str  # "entry=3" or "line=12" (or "line=12/entry=3" for a Bundle on an NDJSON line)
    text: str
    obj: dict[str, Any]
    full_url: str | None = None
    request: str | None = None  # "POST Patient" for transaction entries
    search_mode: str | None = None


@dataclass(frozen=True)
class BadPart:
    """A part of a file that is not readable JSON (or not a resource): its place, bytes and the rule broken."""

    position: str
    raw: bytes
    rule: str


@dataclass
class ParsedFile:
    """The resources of one file and its envelope (the Bundle's own fields)."""

    kind: str  # "bundle", "resource", "ndjson"
    resources: list[Resource] = field(default_factory=list)
    bad: list[BadPart] = field(default_factory=list)
    bundle_type: str | None = None
    bundle_id: str | None = None
    bundle_timestamp: str | None = None
    findings: list[tuple[str, str]] = field(default_factory=list)  # (element path, message)


class _ScanError(ValueError):
    """The scanner met text that is not what it expected."""


def _ws(text: str, i: int) -> int:
    m = _WS.match(text, i)
    return m.end() if m else i


def _expect(text: str, i: int, char: str) -> int:
    i = _ws(text, i)
    if text[i : i + 1] != char:
        raise _ScanError(f"expected {char!r} at character {i}")
    return i + 1


def _value(text: str, i: int) -> tuple[Any, int, int]:
    """Parse one JSON value at ``i`` (after white space); return it with its start and end."""
    start = _ws(text, i)
    try:
        obj, end = _DECODER.raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise _ScanError(f"not JSON at character {exc.pos}: {exc.msg}") from exc
    return obj, start, end


class _Cursor:
    """A position in the text, moved by the object walkers."""

    def __init__(self, text: str, pos: int = 0) -> None:
        self.text = text
        self.pos = pos

    def members(self) -> Iterator[str]:
        """Yield the keys of the object starting at ``pos``; after each key ``pos`` is at its value."""
        self.pos = _expect(self.text, self.pos, "{")
        self.pos = _ws(self.text, self.pos)
        if self.text[self.pos : self.pos + 1] == "}":
            self.pos += 1
            return
        while True:
            self.pos = _expect(self.text, self.pos, '"')
            try:
                key, self.pos = _SCANSTRING(self.text, self.pos)
            except json.JSONDecodeError as exc:
                raise _ScanError(f"bad key at character {exc.pos}") from exc
            self.pos = _expect(self.text, self.pos, ":")
            yield key
            self.pos = _ws(self.text, self.pos)
            char = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if char == "}":
                return
            if char != ",":
                raise _ScanError(f"expected ',' or '}}' at character {self.pos - 1}")

    def items(self) -> Iterator[None]:
        """Yield once per element of the array starting at ``pos``; ``pos`` is at the element."""
        self.pos = _expect(self.text, self.pos, "[")
        self.pos = _ws(self.text, self.pos)
        if self.text[self.pos : self.pos + 1] == "]":
            self.pos += 1
            return
        while True:
            self.pos = _ws(self.text, self.pos)
            yield None
            self.pos = _ws(self.text, self.pos)
            char = self.text[self.pos : self.pos + 1]
            self.pos += 1
            if char == "]":
                return
            if char != ",":
                raise _ScanError(f"expected ',' or ']' at character {self.pos - 1}")

    def skip_value(self) -> object:
        """Parse the value at ``pos`` and move past it."""
        obj, _start, self.pos = _value(self.text, self.pos)
        return obj

    def slice_value(self) -> tuple[Any, str]:
        """Parse the value at ``pos``, move past it, and return it with its exact text."""
        obj, start, self.pos = _value(self.text, self.pos)
        return obj, self.text[start : self.pos]


def _entry(cur: _Cursor, position: str) -> Resource | BadPart:
    full_url = request = mode = None
    resource: tuple[Any, str] | None = None
    start = cur.pos
    for key in cur.members():
        if key == "resource":
            resource = cur.slice_value()
        elif key == "fullUrl":
            value = cur.skip_value()
            full_url = value if isinstance(value, str) else None
        elif key == "request":
            value = cur.skip_value()
            if isinstance(value, dict):
                request = " ".join(str(value.get(k, "")) for k in ("method", "url")).strip() or None
        elif key == "search":
            value = cur.skip_value()
            mode = value.get("mode") if isinstance(value, dict) else None
        else:
            cur.skip_value()
    if resource is None or not isinstance(resource[0], dict) or not isinstance(resource[0].get("resourceType"), str):
        raw = cur.text[start : cur.pos].encode("utf-8")
        return BadPart(position, raw, "FHIR Bundle: entry.resource is an object with a resourceType")
    return Resource(position, resource[1], resource[0], full_url, request, mode if isinstance(mode, str) else None)


def scan_bundle(text: str, parsed: ParsedFile, prefix: str = "") -> None:
    """Scan a Bundle's text: its envelope fields and every entry (into ``parsed``); never raises.

    What follows a syntax error is one :class:`BadPart` (the rest of the text).
    """
    cur = _Cursor(text)
    n = 0
    try:
        for key in cur.members():
            if key == "entry":
                for _ in cur.items():
                    n += 1
                    position = f"{prefix}entry={n}"
                    if cur.text[cur.pos : cur.pos + 1] != "{":
                        start = cur.pos
                        cur.skip_value()
                        rule = "FHIR Bundle: every entry is an object"
                        parsed.bad.append(BadPart(position, text[start : cur.pos].encode("utf-8"), rule))
                        continue
                    got = _entry(cur, position)
                    (parsed.resources if isinstance(got, Resource) else parsed.bad).append(got)  # type: ignore[arg-type]
            else:
                value = cur.skip_value()
                if key == "type" and isinstance(value, str):
                    parsed.bundle_type = value
                elif key == "id" and isinstance(value, str):
                    parsed.bundle_id = value
                elif key == "timestamp" and isinstance(value, str):
                    parsed.bundle_timestamp = value
        if text[_ws(text, cur.pos) :].strip():
            raise _ScanError(f"text after the Bundle at character {cur.pos}")
    except _ScanError as exc:
        rest = text[cur.pos :].encode("utf-8")
        parsed.bad.append(BadPart(f"{prefix}entry>{n}", rest, f"JSON: {exc}"))


def parse_json(text: str) -> ParsedFile:
    """Parse a ``.json`` file: a Bundle (entries scanned one by one, parsed once) or a single resource."""
    if _BUNDLE_HEAD.search(text[:4096]) or '"entry"' in text[:4096]:
        bundle = ParsedFile("bundle")
        scan_bundle(text, bundle)  # keeps the entries before an error
        if bundle.bundle_type is not None or bundle.resources:
            return bundle
    parsed = ParsedFile("resource")
    try:
        obj, _start, end = _value(text, 0)
    except _ScanError as exc:
        parsed.bad.append(BadPart("file", text.encode("utf-8"), f"JSON: {exc}"))
        return parsed
    if obj.get("resourceType") == "Bundle" if isinstance(obj, dict) else False:
        bundle = ParsedFile("bundle")
        scan_bundle(text, bundle)
        return bundle
    if isinstance(obj, dict) and isinstance(obj.get("resourceType"), str) and not text[_ws(text, end) :]:
        parsed.resources.append(Resource("resource", text[_ws(text, 0) : end], obj))
    else:
        rule = "FHIR JSON: a file holds one resource (an object with a resourceType)"
        parsed.bad.append(BadPart("file", text.encode("utf-8"), rule))
    return parsed


def parse_ndjson_line(line: str, number: int, parsed: ParsedFile) -> None:
    """Parse one NDJSON line (a resource, or a Bundle whose entries are scanned) into ``parsed``."""
    position = f"line={number}"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        parsed.bad.append(BadPart(position, line.encode("utf-8"), f"NDJSON: line is not JSON ({exc.msg})"))
        return
    if not isinstance(obj, dict) or not isinstance(obj.get("resourceType"), str):
        rule = "NDJSON: every line is a resource (an object with a resourceType)"
        parsed.bad.append(BadPart(position, line.encode("utf-8"), rule))
        return
    if obj["resourceType"] == "Bundle" and "entry" in obj:
        scan_bundle(line, parsed, prefix=f"{position}/")
        return
    parsed.resources.append(Resource(position, line.strip(), obj))
