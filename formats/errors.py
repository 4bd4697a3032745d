"""One exception tree for the whole toolkit, with the exit code on each class.

Only infrastructure problems and user mistakes that make a run impossible raise. Bad source
records never raise: they are rejected, counted in the ledger and reported.
"""

from __future__ import annotations

from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """Process exit codes of ``journalkonvert`` (documented in docs/errors.md)."""

    OK = 0
    INTERNAL = 1
    INVALID_INPUT = 2
    MAPPING_ERROR = 3
    VALIDATION_FAILED = 4
    LEDGER_GAP = 5
    MISSING_DEPENDENCY = 6
    OUTPUT_EXISTS = 7
    INTERRUPTED = 130


class ConversionError(Exception):
    """Root of every error journalkonvert raises on purpose.

    Args:
        message: what went wrong and where.
        hint: what the user should do next.
    """

    exit_code: ClassVar[ExitCode] = ExitCode.INVALID_INPUT

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  -> {self.hint}" if self.hint else self.message


class SourceError(ConversionError):
    """The source cannot be read at all (missing folder, unreadable file, unknown system)."""


class UnknownSystemError(SourceError, KeyError):
    """No reader is registered under the given name."""

    def __str__(self) -> str:
        return ConversionError.__str__(self)


class MappingFileError(ConversionError):
    """A mapping file is invalid; every problem is listed with file and key path.

    Args:
        path: the mapping file.
        errors: one message per problem, each starting with its key path.
    """

    exit_code = ExitCode.MAPPING_ERROR

    def __init__(self, path: str, errors: list[str]) -> None:
        lines = "\n".join(f"  - {e}" for e in errors)
        super().__init__(
            f"Mapping file {path} is invalid ({len(errors)} problem(s)):\n{lines}",
            hint="fix the listed keys; docs/mapping.md describes every key",
        )
        self.path = path
        self.errors = errors


class OutputExistsError(ConversionError):
    """The target archive path already exists; journalkonvert never overwrites a package."""

    exit_code = ExitCode.OUTPUT_EXISTS


class LedgerGapError(ConversionError):
    """The ledger does not balance: a source record has no fate, or two."""

    exit_code = ExitCode.LEDGER_GAP


class ArchiveError(ConversionError):
    """An archive package cannot be opened (not a package, or no such path)."""


class MissingDependencyError(ConversionError):
    """An optional tool or library is not installed."""

    exit_code = ExitCode.MISSING_DEPENDENCY
