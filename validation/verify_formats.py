"""What a file is, told by its content (magic bytes and structure), never by the run's word for it.

Used by ``journalkonvert verify``: every payload file is identified here, and the access and
archival copies must be on Arkivverket's list of archival formats (Riksarkivarens forskrift
kap. 5, RAF-220301: CSV, XML, JSON, plain text, HTML, PDF/A, TIFF, JPEG, PNG). Parquet is the
access copy and is accepted only beside its CSV twin. Files under ``originals/`` may be anything.
"""

from __future__ import annotations

import codecs
import csv
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pcsv
from lxml import etree

HEAD_BYTES = 16
TEXT_CHUNK = 1 << 20
NUL = b"\x00"
ARCHIVAL_FORMATS: dict[str, str] = {
    "csv": "CSV (RFC 4180), UTF-8",
    "xml": "XML 1.0, well-formed",
    "json": "JSON (RFC 8259)",
    "text": "plain text, UTF-8",
    "html": "HTML",
    "pdf": "PDF/A-1 or PDF/A-2 (verified by the pdfa check)",
    "tiff": "TIFF 6",
    "jpeg": "JPEG (JFIF)",
    "png": "PNG",
}
"""Formats on Arkivverket's list (RAF-220301) that a package's access and archival copies may use."""

ACCESS_FORMATS: dict[str, str] = {"parquet": "Apache Parquet: access copy, allowed only beside its CSV twin"}
"""Formats allowed in the package only as an access copy beside an archival twin."""


_CLAIMED: dict[str, str] = {
    ".parquet": "parquet",
    ".pdf": "pdf",
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".csv": "csv",
    ".json": "json",
    ".xml": "xml",
    ".xsd": "xml",
    ".txt": "text",
    ".md": "text",
    ".yaml": "text",
    ".html": "html",
}
"""The format a file's name claims."""


@dataclass(frozen=True)
class Identified:
    """What a file is.

    Attributes:
        format: a key of ARCHIVAL_FORMATS or ACCESS_FORMATS, or ``binary`` / ``unknown``.
        problem: why the file is not a valid instance of what its name says, or None.
        records: for CSV files, the number of data records (header excluded).
    """

    format: str
    problem: str | None = None
    records: int | None = None


def _head(path: Path) -> tuple[bytes, bytes]:
    with path.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        size = path.stat().st_size
        fh.seek(max(0, size - 4))
        tail = fh.read(4)
    return head, tail


def _binary_format(head: bytes, tail: bytes) -> str | None:
    if head.startswith(b"PAR1") and tail == b"PAR1":
        return "parquet"
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "tiff"
    return None


def utf8_problem(path: Path) -> str | None:
    """Return why ``path`` is not UTF-8 text (invalid bytes, or NUL bytes), or None; streamed."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with path.open("rb") as fh:
        while chunk := fh.read(TEXT_CHUNK):
            nul = chunk.find(NUL)
            if nul >= 0:
                return f"holds a NUL byte at offset {offset + nul} (binary, not text)"
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return f"is not valid UTF-8 near byte {offset + exc.start}"
            offset += len(chunk)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return "ends inside a UTF-8 character"
    return None


def csv_records(path: Path) -> tuple[int | None, str | None]:
    """Parse ``path`` as RFC 4180 CSV in UTF-8 with a header, every column as text; streamed.

    Returns:
        (number of data records, None), or (None, the problem).
    """
    try:
        with path.open("rb") as fh:
            first = fh.readline().decode("utf-8").rstrip("\r\n")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"the header cannot be read as UTF-8: {exc}"
    if not first:
        return None, "the file is empty or has no header line"
    names = next(csv.reader([first]))
    read = pcsv.ReadOptions(encoding="utf8", block_size=1 << 20, use_threads=False, column_names=names, skip_rows=1)
    parse = pcsv.ParseOptions(newlines_in_values=True)
    convert = pcsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()), check_utf8=True)
    records = 0
    try:
        for batch in pcsv.open_csv(path, read_options=read, parse_options=parse, convert_options=convert):
            records += batch.num_rows
    except pa.ArrowInvalid as exc:
        return None, f"not RFC 4180 CSV with {len(names)} columns: {str(exc).splitlines()[0][:200]}"
    return records, None


def xml_problem(path: Path) -> str | None:
    """Return why ``path`` is not well-formed XML, or None (streamed; no entities, no network)."""
    try:
        for _event, element in etree.iterparse(
            str(path), events=("end",), resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
        ):
            element.clear(keep_tail=False)
    except etree.XMLSyntaxError as exc:
        return f"not well-formed XML: {str(exc)[:200]}"
    return None


def _text_format(path: Path) -> Identified:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        records, problem = csv_records(path)
        return Identified("csv", problem, records)
    if suffix == ".json":
        try:
            with path.open("rb") as fh:
                json.load(fh)
        except ValueError as exc:
            return Identified("json", f"not valid JSON: {str(exc)[:200]}")
        return Identified("json")
    if suffix in (".xml", ".xsd"):
        return Identified("xml", xml_problem(path))
    with path.open("rb") as fh:
        start = fh.read(512).lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if suffix in (".html", ".htm") or start.startswith((b"<!doctype html", b"<html")):
        return Identified("html")
    if start.startswith(b"<?xml"):
        return Identified("xml", xml_problem(path))
    return Identified("text")


def identify(path: Path) -> Identified:
    """Identify a file by its content; say what is wrong when it is not what its name says.

    Example:
        >>> identify(Path("data/tables/patient.parquet")).format  # doctest: +SKIP
        'parquet'
    """
    head, tail = _head(path)
    suffix = path.suffix.lower()
    found = _binary_format(head, tail)
    if found is not None:
        claimed = _CLAIMED.get(suffix)
        if claimed is not None and claimed != found:
            return Identified(found, f"is named {suffix} but its content is {found}")
        return Identified(found)
    if suffix == ".parquet":
        return Identified("unknown", "is named .parquet but lacks the PAR1 magic bytes at start and end")
    if suffix == ".pdf":
        return Identified("unknown", "is named .pdf but does not start with %PDF-")
    problem = utf8_problem(path)
    if problem is not None:
        if suffix in _CLAIMED:
            return Identified("binary", f"is named {suffix} but {problem}")
        return Identified("binary")
    return _text_format(path)
