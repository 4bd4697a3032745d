"""What changed between two conversions of the same source: ``journalkonvert diff OLD NEW``.

For a re-run after a mapping fix: rows per canonical table, the ledger per source table
(converted / preserved / rejected / excluded), rejects and exclusions per reason, the mapping
files (SHA-256 and a unified diff of the YAML), flags and notes, findings of the report, and the
payload files (manifest: added, removed, changed, grouped by folder). Reads only files in the
packages; a part an older package lacks counts as empty. Never shows record contents.
"""

from __future__ import annotations

import difflib
import json
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from formats.bag import sha256_file
from formats.package import LEDGER_DIR, MAPPINGS_DIR, REPORT_DIR, TABLES_DIR, PackageLayout, open_package
from validation.verify_state import read_manifest_file

FATES = ("source_rows", "converted", "preserved", "rejected", "excluded")
MAX_DIFF_LINES = 400


@dataclass(frozen=True)
class CountChange:
    """A count that moved: what was counted, its old and new value."""

    name: str
    old: int
    new: int

    @property
    def delta(self) -> int:
        """New minus old."""
        return self.new - self.old


@dataclass(frozen=True)
class LedgerChange:
    """One source table whose ledger line changed: old and new counts per fate."""

    source_table: str
    old: dict[str, int]
    new: dict[str, int]


@dataclass(frozen=True)
class MappingChange:
    """A mapping file added, removed or changed, with its SHA-256 on each side and a unified diff."""

    name: str
    old_sha256: str | None
    new_sha256: str | None
    diff: str


@dataclass
class PackageDiff:
    """Everything that differs between two packages; empty lists mean no change."""

    old: str
    new: str
    tables: list[CountChange] = field(default_factory=list)
    ledger: list[LedgerChange] = field(default_factory=list)
    reasons: list[CountChange] = field(default_factory=list)
    flags: list[CountChange] = field(default_factory=list)
    mappings: list[MappingChange] = field(default_factory=list)
    notes_added: list[str] = field(default_factory=list)
    notes_removed: list[str] = field(default_factory=list)
    findings_added: list[str] = field(default_factory=list)
    findings_removed: list[str] = field(default_factory=list)
    files: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    model_versions: tuple[str, str] = ("", "")

    @property
    def changed(self) -> bool:
        """Whether anything at all differs."""
        parts = (self.tables, self.ledger, self.reasons, self.flags, self.mappings, self.files)
        notes = (self.notes_added, self.notes_removed, self.findings_added, self.findings_removed)
        return any(parts) or any(notes) or self.model_versions[0] != self.model_versions[1]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (``changed`` first)."""
        body = asdict(self)
        body["model_versions"] = list(self.model_versions)
        for key in ("tables", "reasons", "flags"):
            for item, change in zip(body[key], getattr(self, key), strict=True):
                item["delta"] = change.delta
        return {"changed": self.changed, **body}


def _json(path: Path) -> dict[str, Any]:
    """Return a JSON object from ``path``, or an empty dict when it is missing or not an object."""
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _table_rows(layout: PackageLayout) -> dict[str, int]:
    rows: dict[str, int] = {}
    for path in sorted((layout.data / TABLES_DIR).glob("*.parquet")):
        try:
            rows[path.stem] = int(pq.read_metadata(path).num_rows)
        except OSError:
            rows[path.stem] = -1
    return rows


def _ledger(layout: PackageLayout) -> dict[str, dict[str, Any]]:
    summary = _json(layout.dir(LEDGER_DIR) / "summary.json")
    tables = summary.get("tables") or []
    return {str(t.get("source_table")): t for t in tables if isinstance(t, dict)}


def _counted(ledger: dict[str, dict[str, Any]], key: str) -> dict[str, int]:
    """Return ``source_table: name`` -> count for the ledger's ``reasons`` or ``flags``."""
    out: dict[str, int] = {}
    for table, line in ledger.items():
        for name, n in (line.get(key) or {}).items():
            out[f"{table}: {name}"] = int(n)
    return out


def _count_changes(old: dict[str, int], new: dict[str, int]) -> list[CountChange]:
    return [
        CountChange(name, old.get(name, 0), new.get(name, 0))
        for name in sorted(set(old) | set(new))
        if old.get(name, 0) != new.get(name, 0)
    ]


def _ledger_changes(old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]]) -> list[LedgerChange]:
    changes = []
    for table in sorted(set(old) | set(new)):
        a = {f: int(old.get(table, {}).get(f, 0)) for f in FATES}
        b = {f: int(new.get(table, {}).get(f, 0)) for f in FATES}
        if a != b:
            changes.append(LedgerChange(table, a, b))
    return changes


def _mapping_files(layout: PackageLayout) -> dict[str, Path]:
    folder = layout.dir(MAPPINGS_DIR)
    return {p.name: p for p in sorted(folder.glob("*.y*ml"))} if folder.is_dir() else {}


def _mapping_changes(old: PackageLayout, new: PackageLayout) -> list[MappingChange]:
    a, b = _mapping_files(old), _mapping_files(new)
    pairs: list[tuple[str, Path | None, Path | None]] = [(n, a.get(n), b.get(n)) for n in sorted(set(a) | set(b))]
    if len(a) == 1 and len(b) == 1 and set(a) != set(b):  # one mapping each, renamed
        (na, old_file), (nb, new_file) = next(iter(a.items())), next(iter(b.items()))
        pairs = [(f"{na} -> {nb}", old_file, new_file)]
    changes = []
    for name, pa_, pb in pairs:
        ha = sha256_file(pa_) if pa_ else None
        hb = sha256_file(pb) if pb else None
        if ha == hb:
            continue
        la = pa_.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True) if pa_ else []
        lb = pb.read_text(encoding="utf-8", errors="replace").splitlines(keepends=True) if pb else []
        lines = list(difflib.unified_diff(la, lb, fromfile=f"old/{name}", tofile=f"new/{name}"))
        if len(lines) > MAX_DIFF_LINES:
            lines = [*lines[:MAX_DIFF_LINES], f"... {len(lines) - MAX_DIFF_LINES} more diff lines\n"]
        changes.append(MappingChange(name, ha, hb, "".join(lines)))
    return changes


def _report(layout: PackageLayout) -> dict[str, Any]:
    return _json(layout.dir(REPORT_DIR) / "report.json")


def _notes(report: dict[str, Any]) -> set[str]:
    return {f"{n.get('table', '')}: {n.get('message', '')}" for n in report.get("notes") or [] if isinstance(n, dict)}


def _findings(report: dict[str, Any]) -> set[str]:
    found = report.get("findings") or report.get("validation", {}).get("findings") or []
    return {f"[{f.get('check')}] {f.get('severity')}: {f.get('message')}" for f in found if isinstance(f, dict)}


def _folder(rel: str) -> str:
    parts = rel.split("/")
    return "/".join(parts[:2]) if len(parts) > 2 else (parts[0] if len(parts) > 1 else "(bag root)")  # noqa: PLR2004


def _file_changes(old: PackageLayout, new: PackageLayout) -> dict[str, dict[str, list[str]]]:
    a = read_manifest_file(old.root / "manifest-sha256.txt") if (old.root / "manifest-sha256.txt").is_file() else {}
    b = read_manifest_file(new.root / "manifest-sha256.txt") if (new.root / "manifest-sha256.txt").is_file() else {}
    grouped: dict[str, dict[str, list[str]]] = defaultdict(lambda: {"added": [], "removed": [], "changed": []})
    for rel in sorted(set(a) | set(b)):
        if rel not in a:
            grouped[_folder(rel)]["added"].append(rel)
        elif rel not in b:
            grouped[_folder(rel)]["removed"].append(rel)
        elif a[rel] != b[rel]:
            grouped[_folder(rel)]["changed"].append(rel)
    return dict(sorted(grouped.items()))


def _model_version(layout: PackageLayout) -> str:
    info = layout.root / "bag-info.txt"
    if info.is_file():
        for line in info.read_text(encoding="utf-8", errors="replace").splitlines():
            if line.startswith("Bag-Group-Identifier:"):
                return line.partition(":")[2].strip()
    return ""


def diff_packages(old_path: Path, new_path: Path) -> PackageDiff:
    """Compare two packages of the same source (see the module docstring).

    Raises:
        ArchiveError: when either path is not an archive package.

    Example:
        >>> diff_packages(Path("before"), Path("after")).changed  # doctest: +SKIP
        True
    """
    old, new = open_package(old_path), open_package(new_path)
    old_ledger, new_ledger = _ledger(old), _ledger(new)
    old_report, new_report = _report(old), _report(new)
    old_notes, new_notes = _notes(old_report), _notes(new_report)
    old_findings, new_findings = _findings(old_report), _findings(new_report)
    return PackageDiff(
        old=str(old_path),
        new=str(new_path),
        tables=_count_changes(_table_rows(old), _table_rows(new)),
        ledger=_ledger_changes(old_ledger, new_ledger),
        reasons=_count_changes(_counted(old_ledger, "reasons"), _counted(new_ledger, "reasons")),
        flags=_count_changes(_counted(old_ledger, "flags"), _counted(new_ledger, "flags")),
        mappings=_mapping_changes(old, new),
        notes_added=sorted(new_notes - old_notes),
        notes_removed=sorted(old_notes - new_notes),
        findings_added=sorted(new_findings - old_findings),
        findings_removed=sorted(old_findings - new_findings),
        files=_file_changes(old, new),
        model_versions=(_model_version(old), _model_version(new)),
    )


def _signed(n: int) -> str:
    return f"{n:+d}" if n else "0"


def _count_table(title: str, changes: list[CountChange]) -> Table:
    table = Table("what", "old", "new", "change", title=title, title_justify="left")
    for c in changes:
        table.add_row(c.name, str(c.old), str(c.new), _signed(c.delta))
    return table


def render_diff(console: Console, diff: PackageDiff) -> None:
    """Print the differences for a person: one section per kind of change, or "no change"."""
    console.print(f"[bold]old[/] {diff.old}\n[bold]new[/] {diff.new}")
    if not diff.changed:
        console.print("[green]no change[/]: the two packages hold the same tables, ledger, mappings and files")
        return
    if diff.model_versions[0] != diff.model_versions[1]:
        console.print(f"model: {diff.model_versions[0] or '?'} -> {diff.model_versions[1] or '?'}")
    if diff.tables:
        console.print(_count_table("Rows per canonical table", diff.tables))
    if diff.ledger:
        table = Table("source table", *FATES[1:], "read", title="Ledger per source table", title_justify="left")
        for c in diff.ledger:
            table.add_row(c.source_table, *(_cell(c.old[f], c.new[f]) for f in (*FATES[1:], FATES[0])))
        console.print(table)
    if diff.reasons:
        console.print(_count_table("Rejected and excluded, per source table and reason", diff.reasons))
    if diff.flags:
        console.print(_count_table("Flags, per source table", diff.flags))
    for m in diff.mappings:
        console.print(f"[bold]mapping {m.name}[/]: {m.old_sha256 or 'absent'} -> {m.new_sha256 or 'absent'}")
        console.print(m.diff, markup=False, highlight=False, end="")
    for label, items in (
        ("note added", diff.notes_added),
        ("note removed", diff.notes_removed),
        ("finding added", diff.findings_added),
        ("finding removed", diff.findings_removed),
    ):
        for item in items:
            console.print(f"{label}: {item}", markup=False, highlight=False)
    if diff.files:
        table = Table("folder", "added", "removed", "changed", title="Payload files", title_justify="left")
        for folder, kinds in diff.files.items():
            table.add_row(folder, *(str(len(kinds[k])) for k in ("added", "removed", "changed")))
        console.print(table)


def _cell(old: int, new: int) -> str:
    return str(new) if old == new else f"{old} -> {new} ({new - old:+d})"
