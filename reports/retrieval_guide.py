"""The retrieval guide: for every kind of source data, where it is now and how to find it again.

Built from the mapping file kept in the package (``data/mappings/``) and the package itself: for
each source table the canonical tables and columns it became (or the document types), a ready
DuckDB query for ``journalkonvert query``, a ``show`` command, and what, if anything, did not come
across (rows preserved raw, rejected or excluded; columns dropped or only kept raw). The guide holds
no patient data: commands name a placeholder (``PATIENT_ID``), never a real patient.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from converters.mapping import load_mapping
from formats.errors import ConversionError
from formats.model import TABLES
from formats.package import LEDGER_DIR, MAPPINGS_DIR, PackageLayout
from reports.mapping_doc import MappingDocument, TableDoc, mapping_document
from reports.query import package_views, run_query

__all__ = ["ARCHIVE_PLACEHOLDER", "PATIENT_PLACEHOLDER", "load_package_mapping_doc", "retrieval_guide"]

ARCHIVE_PLACEHOLDER = "ARCHIVE"
PATIENT_PLACEHOLDER = "PATIENT_ID"
QUERY_LIMIT = 20
COLUMNS_IN_QUERY = 6


def _literal(value: str) -> str:
    """Return ``value`` as a SQL string literal."""
    return "'" + value.replace("'", "''") + "'"


def load_package_mapping_doc(layout: PackageLayout, mapping_file: str) -> MappingDocument | None:
    """Return the mapping document of the mapping kept in the package, with the ledger's counts.

    Returns None when the package keeps no such mapping file or it cannot be loaded (an old or
    damaged package): the guide then falls back to the ledger alone.
    """
    path = layout.dir(MAPPINGS_DIR) / mapping_file if mapping_file else None
    if path is None or not path.is_file():
        candidates = sorted(layout.dir(MAPPINGS_DIR).glob("*.yaml"))
        if not candidates:
            return None
        path = candidates[0]
    summary = _summary(layout)
    try:
        return mapping_document(load_mapping(path), ledger=summary or None)
    except (ConversionError, OSError, ValueError):
        return None


def _summary(layout: PackageLayout) -> dict[str, Any]:
    path = layout.dir(LEDGER_DIR) / "summary.json"
    try:
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded


def _target_columns(table: TableDoc, target: str) -> list[dict[str, str]]:
    """Return the canonical columns of ``target`` that the source table fills, with the source column."""
    seen: dict[str, dict[str, str]] = {}
    for column in table.columns:
        for f in column.fills:
            if f.table == target and f.field not in seen:
                seen[f.field] = {"column": f.field, "from": column.name, "description": f.description}
    for f in table.constants:
        if f.table == target and f.field not in seen:
            seen[f.field] = {"column": f.field, "from": "", "description": f.description}
    return list(seen.values())


def _target_query(source_table: str, target: str, columns: list[dict[str, str]]) -> str:
    shown = ["patient_id"] if TABLES.get(target) and TABLES[target].patient_scoped else []
    shown += [c["column"] for c in columns if c["column"] not in shown][: COLUMNS_IN_QUERY - len(shown)]
    select = ", ".join(shown) if shown else "*"
    return (
        f"SELECT {select} FROM {target} WHERE source_ref IN "
        f"(SELECT source_ref FROM ledger WHERE source_table = {_literal(source_table)}) LIMIT {QUERY_LIMIT}"
    )


def _command(sql: str) -> str:
    return f'journalkonvert query {ARCHIVE_PLACEHOLDER} "{sql}"'


def _document_types(layout: PackageLayout, source_table: str) -> list[dict[str, Any]]:
    """Return the document types (category) of the documents converted from ``source_table``."""
    if "document" not in layout.canonical_tables() or "ledger" not in package_views(layout):
        return []
    sql = (
        "SELECT coalesce(category_code, '') AS code, coalesce(category_display, '') AS display, "
        "count(*)::BIGINT AS n FROM document WHERE source_ref IN (SELECT source_ref FROM ledger WHERE "
        f"source_table = {_literal(source_table)}) GROUP BY ALL ORDER BY n DESC, code"
    )
    try:
        return [dict(r) for r in run_query(layout, sql).to_pylist()]
    except ConversionError:
        return []


def _lost(table: TableDoc, raw_view: str | None) -> dict[str, Any]:
    counts = table.counts
    dropped = [{"column": c.name, "reason": c.drop_reason} for c in table.columns if c.fate == "dropped"]
    preserved_columns = [c.name for c in table.columns if c.fate == "preserved" and not c.missing]
    flags = dict(counts.flags) if counts else {}
    return {
        "rows_preserved_raw": counts.preserved if counts else 0,
        "rows_rejected": counts.rejected if counts else 0,
        "rows_excluded": counts.excluded if counts else 0,
        "reasons": dict(counts.reasons) if counts else {},
        "columns_dropped": dropped,
        "columns_kept_raw_only": preserved_columns,
        "unknown_codes_kept": int(flags.get("unknown_code", 0)),
        "raw_copy": raw_view,
    }


def _entry(layout: PackageLayout, table: TableDoc, views: dict[str, Path]) -> dict[str, Any]:
    raw_view = f"raw_{table.name}" if f"raw_{table.name}" in views else None
    targets: list[dict[str, Any]] = []
    tables = set(layout.canonical_tables())
    for target in dict.fromkeys(t.table for t in table.targets):
        columns = _target_columns(table, target)
        sql = _target_query(table.name, target, columns)
        present = target in tables
        item: dict[str, Any] = {
            "table": target,
            "present": present,
            "columns": columns,
            "query": sql if present else "",
            "command": _command(sql) if present else "",
        }
        if target == "document" and present:
            item["document_types"] = _document_types(layout, table.name)
            item["files"] = "data/documents/<sha256>.pdf (PDF/A) and data/originals/ (original bytes)"
        targets.append(item)
    patient_scoped = any(TABLES.get(t["table"]) and TABLES[t["table"]].patient_scoped for t in targets)
    others: dict[str, str] = {}
    if raw_view:
        others["raw"] = _command(f"SELECT * FROM {raw_view} LIMIT {QUERY_LIMIT}")
    lost = _lost(table, raw_view)
    if lost["rows_rejected"]:
        others["rejected"] = _command(
            f"SELECT row_number, reason_code, rule, field FROM rejects WHERE source_table = {_literal(table.name)}"
        )
    if lost["rows_excluded"]:
        others["excluded"] = _command(
            "SELECT row_number, reason_code, rule FROM ledger "
            f"WHERE source_table = {_literal(table.name)} AND fate = 'excluded'"
        )
    counts = table.counts
    return {
        "source_table": table.name,
        "source_file": table.file,
        "description": table.description,
        "in_mapping": table.in_mapping,
        "source_rows": counts.source_rows if counts else None,
        "converted": counts.converted if counts else None,
        "targets": targets,
        "show": f"journalkonvert show {ARCHIVE_PLACEHOLDER} --patient {PATIENT_PLACEHOLDER}" if patient_scoped else "",
        "other_queries": others,
        "lost": lost,
    }


def retrieval_guide(layout: PackageLayout, mapping_file: str) -> dict[str, Any]:
    """Return the retrieval guide of the package: one entry per source table, in mapping order.

    Args:
        layout: the package (sealed or still a draft).
        mapping_file: the mapping's file name under ``data/mappings/`` (the run's ``mapping_file``).

    Returns:
        ``{"mapping_file", "placeholders", "entries": [...]}``; ``entries`` is empty when the
        package keeps no readable mapping.

    Example:
        >>> retrieval_guide(open_package(Path("archive")), "synthea-csv.yaml")["entries"][0]["targets"][0]["table"]
        ... # doctest: +SKIP
        'patient'
    """
    doc = load_package_mapping_doc(layout, mapping_file)
    views = package_views(layout)
    entries = [_entry(layout, t, views) for t in doc.tables] if doc else []
    return {
        "mapping_file": doc.mapping_file if doc else mapping_file,
        "placeholders": {"archive": ARCHIVE_PLACEHOLDER, "patient": PATIENT_PLACEHOLDER},
        "how_to_find_a_patient": _command(
            "SELECT patient_id, identifier_type FROM patient WHERE identifier_value = 'FØDSELSNUMMER'"
        ),
        "entries": entries,
    }
