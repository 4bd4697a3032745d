"""The ground floor: the canonical model, the ledger, the package layout and its writers.

Nothing in ``formats`` imports ``converters``, ``validation``, ``reports`` or ``convert``.
"""

from __future__ import annotations

from formats.errors import ConversionError, ExitCode
from formats.model import MODEL_VERSION, TABLES, TableSpec

__all__ = ["MODEL_VERSION", "TABLES", "ConversionError", "ExitCode", "TableSpec"]
