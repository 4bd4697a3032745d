"""The ``codes`` check: coded values have the shape of their code system, decided by the system column.

Every canonical coded value is five columns (``<x>_system``, ``<x>_code``, ...). For the systems
below, recognised by OID (with or without ``urn:oid:``) or URI, each distinct (system, code) pair
is tested once (the distinct codes are bounded by the vocabulary, not by the rows):

* ICPC-2 ``[A-Z][0-9]{2}``, or ``-[0-9]{2}`` for a process code without its chapter (``-57``)
  (Volven 7170, HL7 2.16.840.1.113883.6.139);
* ICD-10 ``[A-Z][0-9]{2}(\\.?[0-9A-Z]{1,4})?`` (Volven 7110; the dot is optional, as in the
  Norwegian code files, e.g. ``A000``);
* ATC ``A``, ``A10``, ``A10B``, ``A10BA``, ``A10BA02`` (Volven 7180);
* LOINC ``[0-9]{1,7}-[0-9]`` with its mod-10 check digit;
* SNOMED CT: 6 to 18 digits, no leading zero, Verhoeff check digit;
* NLK (Norsk laboratoriekodeverk, Volven 7280): ``NPU[0-9]{5}`` or ``NOR[0-9]{5}``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from stdnum import luhn, verhoeff

from formats.model import TABLES
from formats.package import PackageLayout
from formats.privacy import mask_text
from formats.table_sink import sql_string
from validation.findings import Finding, Severity
from validation.integrity import bounded_connection, usable_tables

_VOLVEN = "2.16.578.1.12.4.1.1."


def verhoeff_ok(digits: str) -> bool:
    """Return True when the last digit of ``digits`` is its Verhoeff check digit (SNOMED CT)."""
    return bool(verhoeff.is_valid(digits))


def luhn_ok(digits: str) -> bool:
    """Return True when ``digits`` passes the mod-10 (Luhn) test, the LOINC check digit rule."""
    return bool(luhn.is_valid(digits))


_ICPC2 = re.compile(r"[A-Z][0-9]{2}|-[0-9]{2}")
_ICD10 = re.compile(r"[A-Z][0-9]{2}(\.?[0-9A-Z]{1,4})?")
_ATC = re.compile(r"[A-Z]([0-9]{2}([A-Z]([A-Z]([0-9]{2})?)?)?)?")
_LOINC = re.compile(r"([0-9]{1,7})-([0-9])")
_SNOMED = re.compile(r"[1-9][0-9]{5,17}")
_NLK = re.compile(r"(NPU|NOR)[0-9]{5}")


def _loinc(code: str) -> bool:
    m = _LOINC.fullmatch(code)
    return m is not None and luhn_ok(m.group(1) + m.group(2))


def _snomed(code: str) -> bool:
    return _SNOMED.fullmatch(code) is not None and verhoeff_ok(code)


@dataclass(frozen=True)
class CodeSystem:
    """A code system whose code shape is checked."""

    name: str
    shape: str
    systems: frozenset[str]
    valid: Callable[[str], bool]


CODE_SYSTEMS: tuple[CodeSystem, ...] = (
    CodeSystem(
        "ICPC-2",
        "[A-Z][0-9]{2} or -[0-9]{2}",
        frozenset({_VOLVEN + "7170", "2.16.840.1.113883.6.139", "http://hl7.org/fhir/sid/icpc-2"}),
        lambda c: _ICPC2.fullmatch(c) is not None,
    ),
    CodeSystem(
        "ICD-10",
        "[A-Z][0-9]{2}(.[0-9A-Z]{1,4})?",
        frozenset(
            {
                _VOLVEN + "7110",
                "2.16.840.1.113883.6.3",
                "2.16.840.1.113883.6.90",
                "http://hl7.org/fhir/sid/icd-10",
                "http://hl7.org/fhir/sid/icd-10-no",
                "http://hl7.org/fhir/sid/icd-10-cm",
            }
        ),
        lambda c: _ICD10.fullmatch(c) is not None,
    ),
    CodeSystem(
        "ATC",
        "A, A10, A10B, A10BA or A10BA02",
        frozenset({_VOLVEN + "7180", "2.16.840.1.113883.6.73", "http://www.whocc.no/atc"}),
        lambda c: _ATC.fullmatch(c) is not None,
    ),
    CodeSystem(
        "LOINC",
        "[0-9]{1,7}-[0-9], mod-10 check digit",
        frozenset({"http://loinc.org", "2.16.840.1.113883.6.1"}),
        _loinc,
    ),
    CodeSystem(
        "SNOMED CT",
        "6-18 digits, Verhoeff check digit",
        frozenset({"http://snomed.info/sct", "2.16.840.1.113883.6.96"}),
        _snomed,
    ),
    CodeSystem(
        "NLK", "NPU[0-9]{5} or NOR[0-9]{5}", frozenset({_VOLVEN + "7280"}), lambda c: _NLK.fullmatch(c) is not None
    ),
)

_BY_SYSTEM = {s: cs for cs in CODE_SYSTEMS for s in cs.systems}


def code_system(system: str | None) -> CodeSystem | None:
    """Return the checked code system named by an OID (bare or ``urn:oid:``) or URI, or None."""
    if not system:
        return None
    key = system.strip().removeprefix("urn:oid:").rstrip("/")
    return _BY_SYSTEM.get(key) or _BY_SYSTEM.get(key.lower())


def coded_prefixes(columns: list[str]) -> list[str]:
    """Return the prefixes ``x`` with both ``x_system`` and ``x_code`` among ``columns``."""
    return [c.removesuffix("_system") for c in columns if c.endswith("_system") and c[:-7] + "_code" in columns]


def check_codes(layout: PackageLayout) -> Iterator[Finding]:
    """Every code under a known code system has that system's shape (and check digit)."""
    con = bounded_connection()
    for name in usable_tables(layout):
        path = sql_string(layout.table(name))
        for prefix in coded_prefixes(TABLES[name].field_names()):
            rows = con.execute(
                f'SELECT "{prefix}_system", "{prefix}_code", count(*) FROM read_parquet({path}) '
                f'WHERE "{prefix}_system" IS NOT NULL AND "{prefix}_code" IS NOT NULL GROUP BY ALL ORDER BY 1, 2'
            )
            bad: dict[tuple[str, str], list[int | str]] = {}
            while batch := rows.fetchmany(4096):
                for system, code, n in batch:
                    cs = code_system(system)
                    if cs is None or cs.valid(code):
                        continue
                    entry = bad.setdefault((cs.name, system), [0, 0, code])
                    entry[0] = int(entry[0]) + int(n)
                    entry[1] = int(entry[1]) + 1
            for (cs_name, system), (n_rows, n_distinct, example) in sorted(bad.items()):
                shape = next(cs.shape for cs in CODE_SYSTEMS if cs.name == cs_name)
                yield Finding(
                    "codes",
                    Severity.WARNING,
                    f"{name}.{prefix}_code: {n_rows} value(s) ({n_distinct} distinct) under {system} are not "
                    f"{cs_name} codes ({shape}); e.g. {mask_text(str(example))[:16]!r}",
                    table=name,
                    count=int(n_rows),
                )
