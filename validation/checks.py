"""The catalogue of checks ``validate`` runs over an archive package, in order. None raises for bad data.

Each entry says what it proves, the rule it serves, its severity and, where it counts records, its
default threshold (see validation/catalogue.py and docs/checks.md). A new check is one function
(in a module named after what it checks) and one entry here.
"""

from __future__ import annotations

from formats.model import MODEL_VERSION
from validation.access import check_access_log
from validation.catalogue import MAX_LISTED, Check
from validation.codes import check_codes
from validation.coverage import check_coverage, check_description
from validation.findings import Severity
from validation.identity import check_identifiers
from validation.integrity import (
    bounded_connection,
    check_fixity,
    check_ledger,
    check_references,
    check_schema,
    check_twins,
)
from validation.originals import check_originals
from validation.pdfa import check_documents
from validation.plausibility import check_dates, check_duplicates
from validation.text_fidelity import check_text

_LOOK = "0: every such record deserves a look; the data are kept as recorded, so it is a warning, not an error"

CHECKS: tuple[Check, ...] = (
    Check("fixity", "Bag fixity: every file present and unchanged", "RFC 8493 (BagIt), SHA-256", check_fixity),
    Check("schema", "Tables have the declared schema", "canonical model " + MODEL_VERSION, check_schema),
    Check("twins", "Parquet and CSV twin agree row for row", "archival twin (RFC 4180 + ADDML)", check_twins),
    Check("ledger", "The ledger balances", "source = converted + preserved + rejected + excluded", check_ledger),
    Check("references", "Every patient reference resolves", "referential integrity", check_references),
    Check(
        "originals",
        "Originals are referenced both ways and unchanged",
        "original bytes kept and referenced by SHA-256",
        check_originals,
    ),
    Check(
        "documents",
        "Every document's PDF/A rendition passes PDF/A-2b and keeps its text; documents/ referenced both ways",
        "PDF/A-2b (ISO 19005-2) for every document, verified; no orphan rendition",
        check_documents,
    ),
    Check(
        "description",
        "The package describes itself (README, ADDML with right checksums and record counts)",
        "Arkivverket: structure description (ADDML) with every extract",
        check_description,
    ),
    Check(
        "coverage",
        "Every table and field is documented (JSON Schema per table, ADDML for every CSV)",
        "DESIGN.md description: JSON Schemas with a description of every field; Arkivverket ADDML",
        check_coverage,
    ),
    Check(
        "identifiers",
        "Patient identifiers have the kind they claim and right check digits",
        "fødselsnummer/D-nummer mod-11 control digits (Skatteetaten, incl. the 2032 rule); Volven 8116/8327",
        check_identifiers,
        severity=Severity.WARNING,
        threshold=0,
        why=_LOOK + "; a patient with a wrong number is hard to find again.",
    ),
    Check(
        "codes",
        "Codes have the shape of their code system (ICPC-2, ICD-10, ATC, LOINC, SNOMED CT, NLK)",
        "Volven 7170/7110/7180/7280, LOINC and SNOMED CT check digits; NHA: codes kept with their texts",
        check_codes,
        severity=Severity.WARNING,
        threshold=0,
        why=_LOOK + "; a malformed code is kept with its text.",
    ),
    Check(
        "dates",
        "Dates are plausible: not before birth, not after death or the conversion",
        "plausibility of journal chronology (pasientjournalforskriften § 6: date of every entry)",
        check_dates,
        severity=Severity.WARNING,
        threshold=0,
        why=_LOOK + "; times are compared by date with a day's slack.",
    ),
    Check(
        "duplicates",
        "No record is there twice (identical rows except lineage)",
        "nothing added: one canonical row per source fact",
        check_duplicates,
        severity=Severity.WARNING,
        threshold=0,
        why=_LOOK + "; old systems do hold true duplicates, which are kept, not merged.",
    ),
    Check(
        "text",
        "No mojibake left in text (wrongly decoded æøå)",
        "free text kept verbatim in UTF-8 (DESIGN.md); text fidelity",
        check_text,
        severity=Severity.WARNING,
        threshold=0,
        why=_LOOK + "; the conversion repairs what it can and keeps the rest as it was.",
    ),
    Check(
        "access_log",
        "The access log is kept and covers the journal period",
        "pasientjournalloven § 18; pasientjournalforskriften; Normen (tilgangslogg kept as long as the journal)",
        check_access_log,
        severity=Severity.WARNING,
        threshold=31,
        unit="days",
        why="31 days: a log that starts or ends within a month of the journal is taken to cover it.",
    ),
)
"""The catalogue of checks, in the order they run."""

__all__ = ["CHECKS", "MAX_LISTED", "Check", "bounded_connection"]
