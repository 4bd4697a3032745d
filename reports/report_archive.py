"""Report sections about the package as an archive: formats, fixity, layout, documents and access logs.

Each function reads the package only (never the run) and returns JSON-ready data with counts and
dates, never patient data. Files under ``data/report/`` are left out of the inventory: the report
cannot count itself, and the package must stay deterministic.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from formats.model import MODEL_VERSION, TABLES
from formats.package import MAPPINGS_DIR, REPORT_DIR, SCHEMA_DIR, PackageLayout
from formats.table_sink import sql_string

__all__ = ["FORMATS", "LAYOUT", "access_logs", "archivist_section", "document_statuses"]

FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("RFC 4180 CSV, UTF-8, described in ADDML (archival twin)", "archival"),
    "parquet": ("Apache Parquet, zstd (access copy; its CSV twin is the archival copy)", "access copy"),
    "pdf": ("PDF/A-2b (ISO 19005-2)", "archival"),
    "xml": ("XML 1.0, UTF-8 (ADDML structure description)", "archival"),
    "txt": ("plain text, UTF-8", "archival"),
    "md": ("plain text, UTF-8 (Markdown)", "archival"),
    "json": ("JSON, UTF-8 text (JSON Schemas, ledger summary)", "archival"),
    "yaml": ("YAML, UTF-8 text (mapping files)", "archival"),
    "html": ("HTML, UTF-8 text (mapping documentation)", "archival"),
    "original": ("original bytes as received, kept beside their conversion", "original"),
}
"""File kind -> (format, archival status). 'archival' formats are plain text, XML or PDF/A."""

LAYOUT: tuple[tuple[str, str], ...] = (
    ("data/tables", "canonical tables: Parquet (access copy) + CSV twin (archival copy)"),
    ("data/raw", "source data no mapping consumes, verbatim (Parquet + CSV)"),
    ("data/rejects", "rejected source records, verbatim, with reason codes"),
    ("data/ledger", "the fate of every source record; the arithmetic per source table; text audit"),
    ("data/documents", "PDF/A-2b renditions of documents and messages, named by SHA-256"),
    ("data/originals", "messages and attachments byte for byte"),
    ("data/schema", "JSON Schemas, data dictionary, ADDML structure description"),
    ("data/mappings", "the mapping files used, and their documentation"),
    ("data/report", "this report (JSON, HTML, PDF/A)"),
    ("audit", "the run's own record (tag file: who, when, inputs, settings)"),
)
"""Folders of a package and what they hold."""


def _connection() -> Any:  # noqa: ANN401 - duckdb connection, imported lazily
    from validation.checks import bounded_connection  # noqa: PLC0415

    con = bounded_connection()
    con.execute("SET TimeZone='Europe/Oslo'")  # dates of the journal as Norwegians read them, on any machine
    return con


def _kind(rel: str) -> str:
    if rel.startswith("originals/"):
        return "original"
    name = rel.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[-1].lower() if "." in name else "original"


def _inventory(layout: PackageLayout) -> dict[str, dict[str, int]]:
    """Return file kind -> {files, bytes} over data/, the report's own folder left out."""
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: {"files": 0, "bytes": 0})
    for path in layout.data.rglob("*"):
        rel = path.relative_to(layout.data).as_posix()
        if not path.is_file() or rel.startswith(f"{REPORT_DIR}/"):
            continue
        entry = kinds[_kind(rel)]
        entry["files"] += 1
        entry["bytes"] += path.stat().st_size
    return dict(kinds)


def _bag_info(layout: PackageLayout) -> dict[str, str]:
    path = layout.root / "bag-info.txt"
    if not path.is_file():
        return {}
    pairs = (line.partition(":") for line in path.read_text(encoding="utf-8", errors="replace").splitlines())
    return {k.strip(): v.strip() for k, sep, v in pairs if sep}


def archivist_section(layout: PackageLayout, *, sealed: bool) -> dict[str, Any]:
    """Return formats, fixity, layout, documentation and versions: what an archivist checks."""
    inventory = _inventory(layout)
    formats = []
    for kind, counts in sorted(inventory.items()):
        name, status = FORMATS.get(kind, (f".{kind} file", "not on the archival list"))
        formats.append({"kind": kind, "format": name, "status": status, **counts})
    manifest = layout.root / "manifest-sha256.txt"
    listed = (
        sum(1 for line in manifest.read_text(encoding="utf-8").splitlines() if line.strip())
        if sealed and (manifest.is_file())
        else None
    )
    info = _bag_info(layout) if sealed else {}
    folders = []
    for rel, what in LAYOUT:
        folder = layout.root / rel
        if folder.is_dir():
            files = sum(1 for p in folder.rglob("*") if p.is_file())
            folders.append({"path": rel, "holds": what, "files": files if rel != f"data/{REPORT_DIR}" else None})
    schema = layout.dir(SCHEMA_DIR)
    return {
        "model_version": MODEL_VERSION,
        "bag_software_agent": info.get("Bag-Software-Agent", ""),
        "package_standard": "BagIt (RFC 8493)",
        "formats": formats,
        "formats_on_archival_list": all(f["status"] in ("archival", "access copy", "original") for f in formats),
        "fixity": {
            "algorithm": "SHA-256",
            "manifests": ["manifest-sha256.txt", "tagmanifest-sha256.txt"],
            "sealed": sealed,
            "payload_files_listed": listed,
            "payload_oxum": info.get("Payload-Oxum", ""),
            "files_counted": sum(c["files"] for c in inventory.values()),
            "bytes_counted": sum(c["bytes"] for c in inventory.values()),
            "how_to_verify": "journalkonvert verify ARCHIVE (or any BagIt tool: bagit.py --validate ARCHIVE)",
        },
        "layout": folders,
        "documentation": {
            "mapping_files": sorted(p.name for p in layout.dir(MAPPINGS_DIR).glob("*.yaml")),
            "files": {
                "readme": (layout.data / "README.txt").is_file(),
                "data_dictionary": (schema / "data-dictionary.md").is_file(),
                "addml": (schema / "addml.xml").is_file(),
                "json_schemas": sum(1 for _ in schema.glob("*.schema.json")),
                "mapping_documents": sum(1 for _ in layout.dir(MAPPINGS_DIR).glob("*.html")),
            },
        },
    }


def document_statuses(layout: PackageLayout) -> dict[str, Any]:
    """Return the documents by PDF/A status, type and MIME type, with pages (no titles: they can name people)."""
    path = layout.table("document")
    if not path.is_file():
        return {"total": 0, "with_pdfa": 0, "pages": 0, "by_status": {}, "by_type": {}, "by_mime_type": {}}
    con = _connection()
    src = f"read_parquet({sql_string(path)})"
    total, with_pdfa, pages = con.execute(
        f"SELECT count(*)::BIGINT, count(pdfa_path)::BIGINT, coalesce(sum(page_count), 0)::BIGINT FROM {src}"
    ).fetchone()

    def grouped(expr: str) -> dict[str, int]:
        rows = con.execute(f"SELECT {expr} AS k, count(*)::BIGINT FROM {src} GROUP BY 1 ORDER BY 2 DESC, 1").fetchall()
        return {str(k): int(n) for k, n in rows}

    result = {
        "total": int(total),
        "with_pdfa": int(with_pdfa),
        "pages": int(pages),
        "by_status": grouped("coalesce(split_part(status, ':', 1), 'unknown')"),
        "by_type": grouped("coalesce(category_display, category_code, 'unknown')"),
        "by_mime_type": grouped("coalesce(mime_type, 'unknown')"),
    }
    con.close()
    return result


def _period(con: Any, table_path: str, column: str) -> tuple[str | None, str | None, int]:  # noqa: ANN401
    row = con.execute(
        f"SELECT min({column})::DATE::VARCHAR, max({column})::DATE::VARCHAR, count(*)::BIGINT "
        f"FROM read_parquet({sql_string(table_path)})"
    ).fetchone()
    return (row[0], row[1], int(row[2])) if row else (None, None, 0)


JOURNAL_TIMES: tuple[tuple[str, str], ...] = (
    ("encounter", "start_at"),
    ("journal_note", "recorded_at"),
)


def access_logs(layout: PackageLayout) -> dict[str, Any]:
    """Return whether access and disclosure logs were kept, their periods, and the journal's period.

    The answer is ``yes`` when the access log is present and its period covers the journal's,
    ``partly`` when some log is present, else ``no``. The conversion's own reading of every journal
    is logged in the bag's tag file audit/conversion-run.json.
    """
    con = _connection()
    logs: dict[str, dict[str, Any]] = {}
    for name in ("access_log", "disclosure_log"):
        path = layout.table(name)
        first, last, rows = _period(con, str(path), "event_at") if path.is_file() else (None, None, 0)
        logs[name] = {"rows": rows, "first": first, "last": last}
    starts, ends = [], []
    for name, column in JOURNAL_TIMES:
        path = layout.table(name)
        if path.is_file() and column in [f.name for f in TABLES[name].fields]:
            first, last, _ = _period(con, str(path), column)
            starts += [first] if first else []
            ends += [last] if last else []
    con.close()
    journal = {"first": min(starts) if starts else None, "last": max(ends) if ends else None}
    access = logs["access_log"]
    covers = bool(
        access["rows"]
        and (journal["first"] is None or (access["first"] or "9999") <= journal["first"])
        and (journal["last"] is None or (access["last"] or "") >= journal["last"])
    )
    answer = "yes" if covers else ("partly" if access["rows"] or logs["disclosure_log"]["rows"] else "no")
    return {
        "answer": answer,
        "access_log": access,
        "disclosure_log": logs["disclosure_log"],
        "journal_period": journal,
        "access_log_covers_journal_period": covers,
        "conversion_audit": "audit/conversion-run.json (tag file of the bag)",
        "rule": "pasientjournalloven § 18; Normen: logs kept as long as the journal",
    }
