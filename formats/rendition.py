"""A PDF/A rendition of an original (a document or a message), and the normaliser that makes one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rendition:
    """A PDF/A rendition made of an original (or why none could be made)."""

    pdf: bytes | None
    status: str
    page_count: int | None = None
    text: str | None = None


Normaliser = Callable[[bytes, str, str | None], Rendition | None]
"""``(original bytes, suffix, render hint) -> Rendition`` (None: this kind of original gets no rendition)."""
