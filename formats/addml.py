"""ADDML (Arkivverket's Archival Data Description Markup Language) for the CSV twins.

Describes every CSV file in the package: charset, separators, quoting, record count, SHA-256,
and each field's name, type, nullability and description. Written in the element structure of
ADDML 8.3 (namespace http://www.arkivverket.no/standarder/addml).
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
from lxml import etree

from formats.model import MODEL_VERSION
from formats.schema_docs import type_label

ADDML_NS = "http://www.arkivverket.no/standarder/addml"
_DATATYPES = {
    "string": "string",
    "int64": "integer",
    "float64": "float",
    "boolean": "boolean",
    "date": "date",
    "timestamp (UTC)": "date",
}
_FORMATS = {"date": "yyyy-mm-dd", "timestamp (UTC)": "yyyy-mm-dd hh:mm:ss.ffffffZ", "boolean": "true/false"}


@dataclass(frozen=True)
class DescribedFile:
    """One CSV file to describe."""

    name: str
    path: str
    schema: pa.Schema
    records: int
    sha256: str
    description: str


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, f"{{{ADDML_NS}}}{tag}", **attrs)
    if text is not None:
        node.text = text
    return node


def _prop(parent: etree._Element, name: str, value: str) -> None:
    p = _el(parent, "property", name=name)
    _el(p, "value", value)


def addml_document(dataset: str, description: str, files: list[DescribedFile]) -> bytes:
    """Return the ADDML XML (UTF-8) describing ``files``.

    Args:
        dataset: name of the data set (the archive package).
        description: what the data set is.
        files: the CSV files with their schemas, record counts and checksums.
    """
    root = etree.Element(f"{{{ADDML_NS}}}addml", nsmap={None: ADDML_NS})
    ds = _el(root, "dataset", name=dataset)
    _el(ds, "description", description)
    ref = _el(ds, "reference")
    ctx = _el(ref, "context")
    extra = _el(ctx, "additionalElements")
    _el(_el(extra, "additionalElement", name="modelVersion"), "value", MODEL_VERSION)
    flat = _el(ds, "flatFiles")
    for fd in files:
        ff = _el(flat, "flatFile", name=fd.name, definitionReference=fd.name)
        props = _el(ff, "properties")
        _prop(props, "fileName", fd.path)
        _prop(props, "numberOfRecords", str(fd.records))
        cs = _el(props, "property", name="checksum")
        inner = _el(cs, "properties")
        _prop(inner, "algorithm", "SHA256")
        _prop(inner, "value", fd.sha256)
    defs = _el(flat, "flatFileDefinitions")
    for fd in files:
        ffd = _el(defs, "flatFileDefinition", name=fd.name, typeReference="csv-utf8")
        _el(ffd, "description", fd.description)
        recs = _el(ffd, "recordDefinitions")
        rd = _el(recs, "recordDefinition", name=fd.name)
        _el(rd, "headerLevel", "1")
        fields = _el(rd, "fieldDefinitions")
        for field in fd.schema:
            meta = {k.decode(): v.decode() for k, v in (field.metadata or {}).items()}
            label = type_label(field.type)
            fdef = _el(fields, "fieldDefinition", name=field.name, typeReference=label)
            _el(fdef, "description", meta.get("description", ""))
            if not field.nullable:
                _el(fdef, "notNull")
    types = _el(flat, "structureTypes")
    fft = _el(_el(types, "flatFileTypes"), "flatFileType", name="csv-utf8")
    _el(fft, "charset", "UTF-8")
    delim = _el(fft, "delimFileFormat")
    _el(delim, "recordSeparator", "CRLF")
    _el(delim, "fieldSeparatingChar", ",")
    _el(delim, "quotingChar", '"')
    _el(_el(types, "recordTypes"), "recordType", name="data")
    ftypes = _el(types, "fieldTypes")
    labels = sorted({type_label(f.type) for fd in files for f in fd.schema})
    for label in labels:
        ft = _el(ftypes, "fieldType", name=label)
        _el(ft, "dataType", _DATATYPES.get(label, "string"))
        if label in _FORMATS:
            _el(ft, "fieldFormat", _FORMATS[label])
        elif label.startswith("decimal"):
            _el(ft, "fieldFormat", "decimal number, '.' as decimal separator, as written: " + label)
        _el(ft, "nullValues").append(etree.Element(f"{{{ADDML_NS}}}nullValue"))
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out
