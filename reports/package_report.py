"""The conversion report written into the package (JSON, deterministic: no times, no hosts)."""

from __future__ import annotations

import json
from typing import Protocol

from formats.model import MODEL_VERSION
from formats.package import REPORT_DIR, PackageLayout


class ConversionSummary(Protocol):
    """What the report needs of a conversion result."""

    run_id: str
    tables: dict[str, int]
    notes: list[dict[str, str]]
    source_timezone: str
    mapping_file: str

    @property
    def ledger(self) -> object:
        """The ledger (with ``to_dict``)."""


def write_report(layout: PackageLayout, result: ConversionSummary) -> None:
    """Write data/report/report.json: what was converted, what was not and why."""
    ledger = result.ledger.to_dict()  # type: ignore[attr-defined]
    report = {
        "report_version": 1,
        "model_version": MODEL_VERSION,
        "run_id": result.run_id,
        "converted_tables": dict(sorted(result.tables.items())),
        "ledger": ledger,
        "notes": result.notes,
        "mapping_file": result.mapping_file,
        "text_audit": {
            **getattr(result, "text_audit", {}),
            "note": "per source column: text values read, decoded with a fallback encoding, repaired "
            "(double-encoded UTF-8) and still suspicious; details in ledger/text_audit, original bytes of "
            "every decoded or repaired value in ledger/text_repairs",
        },
        "timestamps": {
            "stored_as": "UTC instants",
            "source_timezone": result.source_timezone,
            "note": f"times written without an offset in the source were read as {result.source_timezone} time",
        },
    }
    folder = layout.dir(REPORT_DIR)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "report.json").write_text(
        json.dumps(report, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8"
    )
