"""The content checks of ``verify``: formats, CSV twins, PDF/A, and the package's self-description.

Each reads the files themselves; none takes the run's word (ledger, document rows) for anything.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from lxml import etree

from formats.addml import ADDML_NS
from formats.bag import sha256_file
from formats.pdfa_check import check_pdfa
from validation.findings import Finding, Severity
from validation.twins import compare_twins
from validation.verify_formats import ACCESS_FORMATS, ARCHIVAL_FORMATS, Identified, identify
from validation.verify_state import Inspection, payload_paths

ORIGINALS_DIR = "originals"


def _is_original(rel: str) -> bool:
    return rel.startswith(f"data/{ORIGINALS_DIR}/")


def _identified(ins: Inspection, path: Path) -> Identified:
    rel = path.relative_to(ins.layout.root).as_posix()
    if rel not in ins.identified:
        ins.identified[rel] = identify(path)
    return ins.identified[rel]


def check_formats(ins: Inspection) -> Iterator[Finding]:
    """Identify every payload file by content; outside originals/ it must be on the archival list."""
    for path in payload_paths(ins.layout):
        rel = path.relative_to(ins.layout.root).as_posix()
        try:
            found = _identified(ins, path)
        except OSError as exc:
            yield Finding("formats", Severity.ERROR, f"{rel} cannot be read: {exc.strerror}", path=rel)
            continue
        if _is_original(rel):
            ins.formats[f"originals.{found.format}"] += 1
            continue  # originals are kept as they came, whatever their format
        ins.formats[found.format] += 1
        if found.problem is not None:
            yield Finding("formats", Severity.ERROR, f"{rel} {found.problem}", path=rel)
        elif found.format in ACCESS_FORMATS:
            if not path.with_suffix(".csv").is_file():
                yield Finding(
                    "formats",
                    Severity.ERROR,
                    f"{rel} is Parquet (not an archival format) and has no CSV twin beside it",
                    path=rel,
                )
        elif found.format not in ARCHIVAL_FORMATS:
            yield Finding(
                "formats",
                Severity.ERROR,
                f"{rel} is {found.format}: not a format on the archival list (RAF-220301); "
                "only originals/ may hold other formats",
                path=rel,
            )
    summary = ", ".join(f"{k}: {v}" for k, v in sorted(ins.formats.items()))
    yield Finding("formats", Severity.INFO, f"payload files by format: {summary or 'none'}")


def check_twin_files(ins: Inspection) -> Iterator[Finding]:
    """Open every Parquet file outside originals/ and compare it row for row with its CSV twin."""
    compared = 0
    for path in payload_paths(ins.layout):
        rel = path.relative_to(ins.layout.root).as_posix()
        if path.suffix != ".parquet" or _is_original(rel):
            continue
        twin = path.with_suffix(".csv")
        twin_rel = twin.relative_to(ins.layout.root).as_posix()
        if not twin.is_file():
            yield Finding("twins", Severity.ERROR, f"{rel} has no CSV twin ({twin_rel} is missing)", path=rel)
            continue
        try:
            problem = compare_twins(path, twin)
        except (pa.ArrowException, OSError, ValueError) as exc:
            problem = f"cannot be read: {str(exc).splitlines()[0][:200]}"
        compared += 1
        if problem:
            yield Finding("twins", Severity.ERROR, f"{twin_rel} and its Parquet twin disagree: {problem}", path=rel)
    yield Finding("twins", Severity.INFO, f"{compared} Parquet file(s) compared with their CSV twins", count=compared)


def check_pdfa_files(ins: Inspection) -> Iterator[Finding]:
    """Verify every PDF outside originals/ (documents/, report/, ...) as PDF/A-2 (formats.pdfa_check)."""
    checked = 0
    for path in payload_paths(ins.layout):
        rel = path.relative_to(ins.layout.root).as_posix()
        if _is_original(rel):
            continue
        if path.suffix.lower() != ".pdf" and _identified(ins, path).format != "pdf":
            continue
        checked += 1
        try:
            problems = check_pdfa(path.read_bytes())
        except Exception as exc:  # noqa: BLE001 - a damaged PDF must become a finding, whatever the parser raises
            yield Finding("pdfa", Severity.ERROR, f"{rel} cannot be checked: {type(exc).__name__}", path=rel)
            continue
        for problem in problems:
            yield Finding("pdfa", Severity.ERROR, f"{rel} is not PDF/A-2: {problem}", path=rel)
    yield Finding("pdfa", Severity.INFO, f"{checked} PDF file(s) verified", count=checked)


def _addml_files(path: Path) -> dict[str, tuple[str, str]]:
    """Return fileName -> (numberOfRecords, SHA-256) of every flatFile an ADDML document describes."""
    root = etree.parse(str(path), etree.XMLParser(resolve_entities=False, no_network=True)).getroot()
    ns = {"a": ADDML_NS}
    described: dict[str, tuple[str, str]] = {}
    for ff in root.iterfind(".//a:flatFile", ns):
        props = {p.get("name"): p.findtext("a:value", namespaces=ns) for p in ff.iterfind(".//a:property", ns)}
        described[props.get("fileName") or ""] = (
            (props.get("numberOfRecords") or "").strip(),
            props.get("value") or "",
        )
    return described


def _check_addml(ins: Inspection) -> Iterator[Finding]:
    data = ins.layout.data
    addml = data / "schema" / "addml.xml"
    if not addml.is_file():
        yield Finding("description", Severity.ERROR, "data/schema/addml.xml is missing", path="data/schema/addml.xml")
        return
    try:
        described = _addml_files(addml)
    except (etree.XMLSyntaxError, OSError) as exc:
        yield Finding("description", Severity.ERROR, f"data/schema/addml.xml cannot be read: {str(exc)[:200]}")
        return
    csvs = [p for p in payload_paths(ins.layout) if p.suffix == ".csv" and not _is_original(_rel(ins, p))]
    for path in csvs:
        rel, name = _rel(ins, path), path.relative_to(data).as_posix()
        if name not in described:
            yield Finding("description", Severity.ERROR, f"{rel} is not described in addml.xml", path=rel)
            continue
        records, digest = described[name]
        actual = ins.sha256.get(rel) or sha256_file(path)
        if digest and digest.lower() != actual:
            yield Finding("description", Severity.ERROR, f"{rel}: its SHA-256 differs from addml.xml", path=rel)
        counted = _identified(ins, path).records
        if records and counted is not None and records != str(counted):
            yield Finding(
                "description",
                Severity.ERROR,
                f"{rel}: addml.xml says {records} records, the file holds {counted}",
                path=rel,
            )
    present = {p.relative_to(data).as_posix() for p in csvs}
    for name in sorted(set(described) - present):
        yield Finding("description", Severity.ERROR, f"addml.xml describes data/{name}, which is not in the package")
    yield Finding("description", Severity.INFO, f"{len(csvs)} CSV file(s) checked against addml.xml", count=len(csvs))


def _rel(ins: Inspection, path: Path) -> str:
    return path.relative_to(ins.layout.root).as_posix()


def _check_schemas(ins: Inspection) -> Iterator[Finding]:
    for path in sorted((ins.layout.data / "tables").glob("*.parquet")):
        rel = f"data/schema/{path.stem}.schema.json"
        target = ins.layout.root / rel
        if not target.is_file():
            yield Finding("description", Severity.ERROR, f"{rel} (the JSON Schema of {path.stem}) is missing", path=rel)
            continue
        try:
            schema = json.loads(target.read_text(encoding="utf-8"))
            columns = pq.read_schema(path).names
        except (ValueError, OSError, pa.ArrowException) as exc:
            yield Finding("description", Severity.ERROR, f"{rel} cannot be read: {str(exc)[:200]}", path=rel)
            continue
        described = schema.get("properties", {}) if isinstance(schema, dict) else {}
        undescribed = [c for c in columns if c not in described]
        if undescribed:
            yield Finding(
                "description",
                Severity.ERROR,
                f"{rel} does not describe column(s) {', '.join(undescribed[:5])} of {path.stem}",
                path=rel,
                table=path.stem,
            )


def check_description(ins: Inspection) -> Iterator[Finding]:
    """README.txt for a reader without the tool; ADDML for every CSV; a JSON Schema for every table."""
    readme = ins.layout.data / "README.txt"
    if not readme.is_file() or readme.stat().st_size == 0:
        yield Finding("description", Severity.ERROR, "data/README.txt is missing or empty", path="data/README.txt")
    yield from _check_addml(ins)
    yield from _check_schemas(ins)
    mappings = ins.layout.data / "mappings"
    if not any(mappings.glob("*.yaml")) if mappings.is_dir() else True:
        yield Finding(
            "description", Severity.WARNING, "data/mappings/ holds no mapping file: the conversion rules are not kept"
        )
