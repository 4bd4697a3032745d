"""The conversion report written into the package at conversion time (deterministic: no times, no hosts).

``write_report`` is the pipeline finisher: it writes ``data/report/report.json`` (the report model,
see ``reports/report_model.py`` and ``reports/report_schema.json``), ``report.html`` and
``report.pdf`` (PDF/A-2b), in Norwegian bokmål, before the bag is sealed.
"""

from __future__ import annotations

from typing import Protocol

from converters.audit_record import TOOL_VERSION
from formats.package import PackageLayout
from reports.report_model import run_facts
from reports.report_pdf import write_package_report


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
    """Write data/report/report.json, report.html and report.pdf: what was converted, what was not and why."""
    write_package_report(layout, run_facts(result), tool_version=TOOL_VERSION)
