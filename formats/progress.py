"""Progress reporting, injected: the library reports, the command line draws."""

from __future__ import annotations

from typing import Protocol


class ProgressReporter(Protocol):
    """Receives progress of long work. Implementations never write to stdout."""

    def start(self, total: int, description: str) -> None:
        """Begin a task of ``total`` units."""

    def advance(self, units: int, description: str | None = None) -> None:
        """Record ``units`` more done, optionally with a new description."""

    def finish(self) -> None:
        """End the task."""


class NullProgress:
    """A reporter that reports nothing (the library default)."""

    def start(self, total: int, description: str) -> None:
        """Ignore."""

    def advance(self, units: int, description: str | None = None) -> None:
        """Ignore."""

    def finish(self) -> None:
        """Ignore."""
