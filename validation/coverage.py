"""The package describes itself (``description``) and documents every table and field (``coverage``).

Split so that one fault fails one check:

* ``description``: the describing files are there and agree with what they describe: README.txt,
  a well-formed ADDML whose checksum and record count of each CSV file are right.
* ``coverage``: the documentation is complete: every canonical table in the package has its JSON
  Schema, with a description of every field, as model v1 declares it; every CSV file is described
  in the ADDML, with a description of every field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pyarrow.parquet as pq
from lxml import etree

from formats.addml import ADDML_NS
from formats.bag import sha256_file
from formats.model import MODEL_VERSION, TABLES
from formats.package import PackageLayout
from formats.schema_docs import table_json_schema
from validation.findings import Finding, Severity

ADDML = "data/schema/addml.xml"
_NS = {"a": ADDML_NS}


def _addml(layout: PackageLayout) -> etree._Element | None:
    """Return the parsed ADDML, or None when it is missing or not well-formed."""
    path = layout.root / ADDML
    if not path.is_file():
        return None
    try:
        tree = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None
    return tree.getroot()


def _flat_files(root: etree._Element) -> dict[str, dict[str, str]]:
    """Return fileName -> {name, numberOfRecords, value (checksum)} for every flatFile."""
    out: dict[str, dict[str, str]] = {}
    for ff in root.iterfind(".//a:flatFile", _NS):
        props = {
            p.get("name") or "": p.findtext("a:value", namespaces=_NS) or "" for p in ff.iterfind(".//a:property", _NS)
        }
        props["name"] = ff.get("definitionReference") or ff.get("name") or ""
        out[props.get("fileName", "")] = props
    return out


def check_description(layout: PackageLayout) -> Iterator[Finding]:
    """Check that the describing files exist and agree with the files they describe."""
    data = layout.data
    if not (data / "README.txt").is_file():
        yield Finding("description", Severity.ERROR, "data/README.txt is missing", path="data/README.txt")
    path = layout.root / ADDML
    if not path.is_file():
        yield Finding("description", Severity.ERROR, f"{ADDML} is missing", path=ADDML)
        return
    root = _addml(layout)
    if root is None:
        yield Finding("description", Severity.ERROR, f"{ADDML} is not well-formed XML", path=ADDML)
        return
    for rel, props in sorted(_flat_files(root).items()):
        csv_path = data / rel
        if not rel or not csv_path.is_file():
            yield Finding("description", Severity.ERROR, f"{ADDML} describes data/{rel}, which is missing", path=ADDML)
            continue
        digest = props.get("value", "")
        if digest and digest != sha256_file(csv_path):
            yield Finding(
                "description", Severity.ERROR, f"data/{rel}: its SHA-256 differs from addml.xml", path=f"data/{rel}"
            )
        parquet = csv_path.with_suffix(".parquet")
        records = props.get("numberOfRecords", "")
        if parquet.is_file() and records.isdigit():
            try:
                rows = pq.read_metadata(parquet).num_rows
            except OSError:
                continue  # the schema and twins checks report an unreadable Parquet file
            if rows != int(records):
                yield Finding(
                    "description",
                    Severity.ERROR,
                    f"data/{rel}: addml.xml says {records} records, the table has {rows}",
                    path=f"data/{rel}",
                    count=abs(rows - int(records)),
                )


def _undescribed(schema: dict[str, Any]) -> list[str]:
    props = schema.get("properties")
    if not isinstance(props, dict):
        return ["(no properties)"]
    return sorted(k for k, v in props.items() if not (isinstance(v, dict) and str(v.get("description", "")).strip()))


def _json_schemas(layout: PackageLayout) -> Iterator[Finding]:
    for name in layout.canonical_tables():
        if name not in TABLES:
            continue  # the schema check reports tables outside the model
        rel = f"data/schema/{name}.schema.json"
        path = layout.root / rel
        if not path.is_file():
            yield Finding("coverage", Severity.ERROR, f"table {name} has no JSON Schema ({rel})", path=rel, table=name)
            continue
        try:
            schema = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            yield Finding("coverage", Severity.ERROR, f"{rel} is not readable JSON", path=rel, table=name)
            continue
        if not isinstance(schema, dict):
            yield Finding("coverage", Severity.ERROR, f"{rel} is not a JSON Schema object", path=rel, table=name)
            continue
        declared = TABLES[name].field_names()
        missing = [c for c in declared if c not in (schema.get("properties") or {})]
        blank = [c for c in _undescribed(schema) if c not in missing]
        if missing or blank:
            yield Finding(
                "coverage",
                Severity.ERROR,
                f"{rel}: field(s) not described: {', '.join((missing + blank)[:8])}"
                + (" ..." if len(missing + blank) > 8 else ""),
                path=rel,
                table=name,
                count=len(missing) + len(blank),
            )
        elif schema != table_json_schema(TABLES[name]):
            yield Finding(
                "coverage", Severity.WARNING, f"{rel} differs from model {MODEL_VERSION}'s schema", path=rel, table=name
            )


def check_coverage(layout: PackageLayout) -> Iterator[Finding]:
    """Every table and field is documented: JSON Schemas for canonical tables, ADDML for every CSV."""
    yield from _json_schemas(layout)
    root = _addml(layout)
    if root is None:
        return  # the description check reports a missing or broken ADDML
    files = _flat_files(root)
    field_docs: dict[str, list[str]] = {}
    for rd in root.iterfind(".//a:flatFileDefinition", _NS):
        field_docs[rd.get("name") or ""] = [
            fd.get("name") or ""
            for fd in rd.iterfind(".//a:fieldDefinition", _NS)
            if not (fd.findtext("a:description", namespaces=_NS) or "").strip()
        ]
    for csv_path in sorted(layout.data.rglob("*.csv")):
        rel = csv_path.relative_to(layout.data).as_posix()
        if rel not in files:
            yield Finding("coverage", Severity.ERROR, f"data/{rel} is not described in addml.xml", path=f"data/{rel}")
            continue
        blank = field_docs.get(files[rel]["name"], [])
        if blank:
            yield Finding(
                "coverage",
                Severity.ERROR,
                f"data/{rel}: addml.xml gives no description of field(s) {', '.join(blank[:8])}"
                + (" ..." if len(blank) > 8 else ""),
                path=f"data/{rel}",
                count=len(blank),
            )
