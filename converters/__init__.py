"""Readers of source systems, the mapping engine and the conversion pipeline."""

from __future__ import annotations

from pathlib import Path

from converters.base import DelimitedFolderReader, SourceReader, SyntheaCsvReader
from converters.ccda_source import CcdaReader
from converters.fhir_source import FhirReader
from converters.hl7_source import Hl7v2Reader
from converters.kith_source import KithReader
from converters.practice_source import PracticeReader
from converters.sql_source import OmopReader, OpenmrsReader, SqlReader
from formats.errors import UnknownSystemError

READERS: dict[str, type[SourceReader]] = {
    r.name: r
    for r in (
        SyntheaCsvReader,
        DelimitedFolderReader,
        SqlReader,
        OmopReader,
        OpenmrsReader,
        Hl7v2Reader,
        KithReader,
        CcdaReader,
        PracticeReader,
        FhirReader,
    )
}
"""Every registered reader, by the name given to --system."""


def get_reader(name: str) -> type[SourceReader]:
    """Return the reader registered as ``name``.

    Raises:
        UnknownSystemError: naming the known systems.
    """
    try:
        return READERS[name]
    except KeyError:
        raise UnknownSystemError(
            f"unknown source system {name!r}", hint=f"known systems: {', '.join(sorted(READERS))}"
        ) from None


def detect_reader(path: Path | str) -> type[SourceReader]:
    """Return the first registered reader that accepts ``path``.

    Raises:
        UnknownSystemError: when none does.
    """
    for reader in READERS.values():
        if reader().accepts(path):
            return reader
    raise UnknownSystemError(
        f"no reader recognises {path}", hint=f"give --system, one of: {', '.join(sorted(READERS))}"
    )


__all__ = ["READERS", "SourceReader", "detect_reader", "get_reader"]
